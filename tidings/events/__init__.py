"""Events and metrics: ingestion, the event store, metric properties and aggregates."""
