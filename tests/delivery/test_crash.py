"""A small run of bench/crash_delivery.py: SIGKILL the delivery worker while it sends.

Email: every message arrives, duplicates are no more than the messages in flight at the kills
(one per SMTP connection), and each duplicate is the same bytes with the same Message-ID.
SMS: never a duplicate; what was in flight at a kill is listed as delivery unknown.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def crash() -> ModuleType:
    spec = importlib.util.spec_from_file_location("crash_delivery", ROOT / "bench" / "crash_delivery.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["crash_delivery"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_email_survives_kills_with_at_most_one_identical_copy_per_connection(
    crash: ModuleType, db: object, database_url: str
) -> None:
    result = crash.run(database_url, messages=300, kills=2, channel="email")
    assert result.kills == 2
    assert result.statuses == {"sent": 300}
    assert result.missing == 0
    assert result.delivered == 300
    assert result.differing == 0
    assert result.duplicates <= result.bound


def test_sms_is_never_sent_twice_and_the_ambiguous_are_unknown(
    crash: ModuleType, db: object, database_url: str
) -> None:
    result = crash.run(database_url, messages=200, kills=2, channel="sms")
    assert result.kills == 2
    assert result.duplicates == 0
    assert result.missing == 0
    assert result.statuses.get("sent", 0) + result.unknown == 200
    assert result.unknown <= sum(result.in_flight_at_kills)
    assert result.delivered >= result.statuses.get("sent", 0)
