"""docs/COMPATIBILITY.md's operation table is what scripts/compat.py generates from the app."""

from __future__ import annotations

import importlib.util

from tests.conftest import ROOT


def test_operation_table_is_current() -> None:
    spec = importlib.util.spec_from_file_location("compat", ROOT / "scripts" / "compat.py")
    assert spec is not None and spec.loader is not None
    compat = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compat)
    current = compat.DOC.read_text()
    assert compat.render(current) == current, "run: .venv/bin/python scripts/compat.py"
