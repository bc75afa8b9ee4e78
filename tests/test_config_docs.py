"""Every setting is documented: a new setting without a line in docs/CONFIGURATION.md fails here."""

from __future__ import annotations

from tests.conftest import ROOT
from tidings.config import Settings


def test_every_setting_is_documented() -> None:
    text = (ROOT / "docs" / "CONFIGURATION.md").read_text()
    missing = [
        f"TIDINGS_{name.upper()}" for name in Settings.model_fields if f"TIDINGS_{name.upper()}" not in text
    ]
    assert not missing, f"undocumented settings: {missing}"


def test_settings_read_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("TIDINGS_RATE_LIMIT_SCALE", "2.5")
    monkeypatch.setenv("TIDINGS_WORKERS", "3")
    loaded = Settings()
    assert loaded.rate_limit_scale == 2.5 and loaded.workers == 3
