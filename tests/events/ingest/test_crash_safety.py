"""A small run of bench/crash_ingest.py: SIGKILL the server while it accepts events;
no acknowledged event may be missing or duplicated afterwards."""

from __future__ import annotations

import importlib.util
import sys

from tests.conftest import ROOT, make_account


def test_no_acknowledged_event_is_lost_or_duplicated(db, database_url) -> None:
    spec = importlib.util.spec_from_file_location("crash_ingest", ROOT / "bench" / "crash_ingest.py")
    assert spec and spec.loader
    crash = importlib.util.module_from_spec(spec)
    sys.modules["crash_ingest"] = crash  # dataclasses look their module up
    spec.loader.exec_module(crash)
    account = make_account(db, name="Crash")
    result = crash.run(database_url, account.private_key, account.id, events=300, kills=2, concurrency=8)
    assert result.kills == 2
    assert result.acknowledged > 100
    assert (result.missing, result.duplicated) == (0, 0)
