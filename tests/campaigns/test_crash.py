"""A small run of bench/crash_campaign.py: SIGKILL the worker while a campaign is planned and
sent; every recipient gets it, duplicates within delivery's bound, and the campaign ends Sent."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def crash() -> ModuleType:
    spec = importlib.util.spec_from_file_location("crash_campaign", ROOT / "bench" / "crash_campaign.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["crash_campaign"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_a_campaign_survives_kills_each_recipient_once(
    crash: ModuleType, db: object, database_url: str
) -> None:
    result = crash.run(database_url, recipients=300, kills=3)
    assert result.kills == 3
    assert result.campaign_status == "Sent"
    assert result.statuses == {"sent": 300}
    assert result.missing == 0
    assert result.delivered == 300
    assert result.differing == 0
    assert result.duplicates <= result.bound
