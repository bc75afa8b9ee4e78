"""profile-marketing-consent conditions (not computed yet: see docs/COMPATIBILITY.md)."""

from __future__ import annotations

from typing import Any

from tidings.segments import definition as d


def consent_condition(ctx: Any, c: d.ProfileMarketingConsentCondition) -> Any:
    from tidings.segments.compiler import Unsupported

    raise Unsupported("Marketing consent conditions are not computed yet.", "/consent")
