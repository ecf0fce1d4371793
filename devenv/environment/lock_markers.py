"""Markers worked out from a lock's dependency graph (uv.lock, poetry 1.x locks).

A lock made for every platform says under which marker each *edge* applies; what
an installer does for one machine depends on the paths from the project to each
package. ``graph_markers`` turns the graph into one marker per package.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

Node = tuple[str, str | None, str | None]  # name, version, extra (None: the package itself)


def one_of(markers: Iterable[str]) -> str | None:
    """Markers joined with ``or`` (None for none), each in parentheses when needed."""
    unique = list(dict.fromkeys(markers))
    if not unique:
        return None
    if len(unique) == 1:
        return unique[0]
    return " or ".join(f"({m})" for m in unique)


# A package's condition as a set of clauses, each the set of edge markers met on one
# path to it (their "and"); the clauses are or-ed. An empty clause: unconditional.
Clauses = frozenset[frozenset[str]]
_UNCONDITIONAL: Clauses = frozenset({frozenset()})
# Past this many clauses a package counts as unconditional: a possibly missed "missing"
# is better than a marker no one can read (real graphs stay far below it).
_MAX_CLAUSES = 16


def graph_markers(
    roots: Iterable[Node], edges: Mapping[Node, list[tuple[Node, str | None]]]
) -> dict[Node, str | None]:
    """The marker under which each node is reached from ``roots`` (None: always).

    A path's condition is the "and" of the markers on its edges, a node's the "or"
    over the paths to it; a node with an unconditional path has none. This is a
    propositional approximation: markers are never evaluated, so two that can never
    both hold (``sys_platform == 'win32'`` and ``sys_platform != 'win32'``) still make
    a clause. Nodes not reached are absent.
    """
    conditions: dict[Node, Clauses] = {root: _UNCONDITIONAL for root in roots}
    pending = list(conditions)
    while pending:
        node = pending.pop()
        clauses = conditions[node]
        for child, marker in edges.get(node, ()):
            added = clauses if marker is None else frozenset(c | {marker} for c in clauses)
            old = conditions.get(child, frozenset())
            new = _simplify(old | added)
            if new != old:
                conditions[child] = new
                pending.append(child)
    return {node: _marker_of(clauses) for node, clauses in conditions.items()}


def _simplify(clauses: Clauses) -> Clauses:
    if frozenset() in clauses or len(clauses) > _MAX_CLAUSES:
        return _UNCONDITIONAL
    # A clause that contains another is implied by it: drop it.
    return frozenset(c for c in clauses if not any(o < c for o in clauses))


def _marker_of(clauses: Clauses) -> str | None:
    if clauses == _UNCONDITIONAL:
        return None
    parts = []
    for clause in sorted(clauses, key=sorted):
        atoms = sorted(clause)
        parts.append(atoms[0] if len(atoms) == 1 else " and ".join(f"({a})" for a in atoms))
    return one_of(parts)
