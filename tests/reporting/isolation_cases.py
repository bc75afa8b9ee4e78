"""Isolation for the reporting routes: a report reads only the caller's ledger and events.

The routes take no resource id in their path; the ids they name (the conversion metric, the
campaigns and flows in the filter) are checked by tests/reporting/test_isolation.py: another
account's metric is refused like an unknown one (400 at its pointer), and another account's
campaign in the filter matches nothing."""

from __future__ import annotations

EXEMPT = {
    ("POST", "/api/campaign-values-reports"): "reports only the caller's sends; another account's "
    "metric is a 400 and its campaign ids match nothing (tests/reporting/test_isolation.py)",
    ("POST", "/api/flow-values-reports"): "as query_campaign_values (tests/reporting/test_isolation.py)",
    ("POST", "/api/flow-series-reports"): "as query_campaign_values (tests/reporting/test_isolation.py)",
}
