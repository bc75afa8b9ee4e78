"""The architecture's rules that the import contract (.importlinter, run by `make lint`) does
not state: nothing registers itself on import, and no module hides an import in a function."""

from __future__ import annotations

import ast
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import tidings

ROOT = Path(tidings.__file__).parent
# The command line may import lazily: `tidings --help` should not load every domain.
LAZY_ALLOWED = {"tidings/cli.py", "tidings/catalogs/cli.py"}


def _modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages([str(ROOT)], prefix="tidings."):
        if ".migrations" not in info.name:
            names.append(info.name)
    return sorted(names)


def test_no_function_level_imports_of_tidings_modules() -> None:
    hidden = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = "tidings/" + path.relative_to(ROOT).as_posix()
        if "migrations" in path.parts or relative in LAZY_ALLOWED:
            continue
        tree = ast.parse(path.read_text())
        top_level = {id(node) for node in tree.body}
        checked = {
            id(n) for node in tree.body if isinstance(node, ast.If) for n in node.body
        }  # TYPE_CHECKING
        for node in ast.walk(tree):
            if id(node) in top_level or id(node) in checked:
                continue
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tidings"):
                hidden.append(f"{relative}:{node.lineno} {node.module}")
            elif isinstance(node, ast.Import) and any(a.name.startswith("tidings") for a in node.names):
                hidden.append(f"{relative}:{node.lineno}")
    assert hidden == [], "imports hidden in functions (fix the arrow instead):\n" + "\n".join(hidden)


PROBE = """
import importlib, json, sys
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
from tidings.accounts import hooks as accounts
from tidings.catalogs import history
from tidings.consent import gateways
from tidings.events import custom_metrics, flow_triggers
from tidings.events import hooks as events
from tidings.jobs import registry
from tidings.lists import hooks as lists
from tidings.profiles import facets, participants
from tidings.profiles import hooks as profiles
from tidings.tags import kinds
print(json.dumps({
    "jobs": sorted(registry.HANDLERS),
    "periodic": sorted(registry.PERIODIC),
    "hooks": [len(list(h)) for h in (events.EVENTS_WRITTEN, profiles.PROFILES_CHANGED,
              lists.MEMBERSHIP_CHANGED, history.CATALOG_CHANGED, accounts.ACCOUNT_CREATED)],
    "participants": [p.name for p in participants.participants()],
    "facets": sorted(facets.filters()),
    "gateways": [type(gateways.lists()).__name__, type(gateways.segments()).__name__],
    "taggables": [kind.type for kind in kinds.kinds()],
    "flow_triggers": type(flow_triggers.reader()).__name__,
    "metric_filters": type(custom_metrics.filters()).__name__,
}))
"""


def _registrations(modules: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(modules)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_importing_every_domain_registers_nothing() -> None:
    """Only the composition root registers: importing every module but it (and the app and the
    CLI, which call it) leaves every registry empty, whatever the order."""
    modules = [m for m in _modules() if m not in ("tidings.domains", "tidings.app", "tidings.cli")]
    for order in (modules, list(reversed(modules))):
        assert _registrations(order) == {
            "jobs": [],
            "periodic": [],
            "hooks": [0, 0, 0, 0, 0],
            "participants": [],
            "facets": [],
            "gateways": ["NoLists", "NoSegments"],
            "taggables": [],
            "flow_triggers": "NoFlows",
            "metric_filters": "NoFilters",
        }


def test_the_composition_root_registers_every_domain() -> None:
    found = _registrations(["tidings.domains"])
    assert found == {
        "jobs": [],
        "periodic": [],
        "hooks": [0, 0, 0, 0, 0],
        "participants": [],
        "facets": [],
        "gateways": ["NoLists", "NoSegments"],
        "taggables": [],
        "flow_triggers": "NoFlows",
        "metric_filters": "NoFilters",
    }, "importing the root registers nothing either"
    probe = PROBE.replace(
        "print(json.dumps(", "import tidings.domains; tidings.domains.install()\nprint(json.dumps("
    )
    out = subprocess.run([sys.executable, "-c", probe, "[]"], capture_output=True, text=True, check=True)
    wired = json.loads(out.stdout)
    assert {"events.process", "segments.update", "profiles.raise_last_event_date", "jobs.prune"} <= set(
        wired["jobs"]
    )
    # last_event_date, segments, webhooks, flows; segments; segments, flows
    assert wired["hooks"][:3] == [4, 1, 2]
    assert wired["hooks"][4] == 1  # the default tag group
    assert wired["taggables"] == ["list", "segment", "campaign", "flow"]
    assert wired["metric_filters"] == "SegmentMetricFilters"
    assert wired["participants"] == [
        "events",
        "push_tokens",
        "consent",
        "list_memberships",
        "segment_memberships",
        "import_jobs",
        "sends",
        "coupon_codes",
        "flow_runs",
    ]
    assert "subscriptions.email.marketing.suppression.reason" in wired["facets"]
    assert wired["gateways"] == ["ListsGateway", "SegmentsGateway"]
    assert wired["flow_triggers"] == "FlowTriggersReader"


def test_every_cli_command_runs_wired(tmp_path) -> None:
    """A command (an import, an unmerge, a feed sync) writes as the server does: the root is
    installed before it runs, not only by the app factory."""
    probe = PROBE.replace(
        "import importlib, json, sys",
        "import importlib, json, sys\n"
        "from typer.testing import CliRunner\n"
        "from tidings.cli import app\n"
        "assert CliRunner().invoke(app, ['db', 'upgrade']).exit_code == 0",
    )
    env = {**os.environ, "TIDINGS_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    out = subprocess.run(
        [sys.executable, "-c", probe, "[]"], capture_output=True, text=True, check=True, env=env
    )
    wired = json.loads(out.stdout.strip().splitlines()[-1])
    assert "events.process" in wired["jobs"] and len(wired["participants"]) == 9
