"""docs/COMPATIBILITY.md lists exactly the operations the app serves."""

from __future__ import annotations

import importlib.util

from tests.conftest import ROOT


def test_operation_table_is_current() -> None:
    spec = importlib.util.spec_from_file_location("compat", ROOT / "scripts" / "compat.py")
    assert spec and spec.loader
    compat = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compat)
    current = (ROOT / "docs" / "COMPATIBILITY.md").read_text()
    assert compat.render(current) == current, (
        "run `python scripts/compat.py` and commit docs/COMPATIBILITY.md"
    )
