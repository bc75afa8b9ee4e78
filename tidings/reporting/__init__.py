"""Campaign and flow reports (`query_campaign_values`, `query_flow_values`, `query_flow_series`)."""
