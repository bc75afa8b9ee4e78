"""The action graph of a flow definition, checked without the database.

A definition is accepted when every link names an action of the definition (no dangling
edge), every action is reachable from the entry action, and no path comes back to an action
it has passed (no cycle): so a run always ends, and an executor can walk it by ids.
Paths may join (two branches leading to one action).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Edge:
    source: str  # the action's key
    pointer: str  # the JSON pointer of the link
    target: str | None  # None: the path ends here


@dataclass(frozen=True)
class GraphProblem:
    pointer: str
    message: str


def check(
    keys: Sequence[str],
    edges: Mapping[str, Sequence[Edge]],
    entry: str | None,
    *,
    entry_pointer: str,
    action_pointers: Mapping[str, str],
) -> list[GraphProblem]:
    """Every problem of the graph: dangling links, a missing or unknown entry, cycles,
    actions no path reaches. `keys` are the actions' keys in order (unique)."""
    known = set(keys)
    problems: list[GraphProblem] = []
    for key in keys:
        for edge in edges.get(key, ()):
            if edge.target is not None and edge.target not in known:
                problems.append(
                    GraphProblem(
                        edge.pointer, f"The link names {edge.target!r}, which is no action of this flow."
                    )
                )
    if not keys:
        if entry is not None:
            problems.append(
                GraphProblem(entry_pointer, "entry_action_id names an action, but the flow has none.")
            )
        return problems
    if entry is None:
        problems.append(GraphProblem(entry_pointer, "A flow with actions needs its entry_action_id."))
        return problems
    if entry not in known:
        problems.append(GraphProblem(entry_pointer, f"entry_action_id {entry!r} is no action of this flow."))
        return problems
    # Depth-first from the entry: an edge to an action on the current path closes a cycle.
    state: dict[str, int] = {}  # 1: on the path, 2: done
    stack: list[tuple[str, int]] = [(entry, 0)]
    path: list[str] = []
    state[entry] = 1
    path.append(entry)
    while stack:
        node, index = stack.pop()
        out = [e for e in edges.get(node, ()) if e.target is not None and e.target in known]
        if index < len(out):
            stack.append((node, index + 1))
            edge = out[index]
            target = edge.target
            assert target is not None
            seen = state.get(target)
            if seen == 1:
                loop = " → ".join([*path[path.index(target) :], target])
                problems.append(GraphProblem(edge.pointer, f"This link makes a cycle: {loop}."))
            elif seen is None:
                state[target] = 1
                path.append(target)
                stack.append((target, 0))
        else:
            state[node] = 2
            path.pop()
    for key in keys:
        if key not in state:
            problems.append(
                GraphProblem(action_pointers[key], f"Action {key!r} cannot be reached from the entry action.")
            )
    return problems
