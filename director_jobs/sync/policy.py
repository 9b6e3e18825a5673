"""Update policies and the property trees they produce."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from director_jobs.sync.mapping import Path
from director_jobs.sync.spec import UpdatePolicy


def build_tree(rendered: Sequence[tuple[Path, Any]]) -> dict[str, Any]:
    """Properties for a new object: every path that has a value."""
    tree: dict[str, Any] = {}
    for path, value in rendered:
        if value is not None:
            set_path(tree, path, value)
    return tree


def updated_properties(
    policy: UpdatePolicy, current: dict[str, Any], rendered: Sequence[tuple[Path, Any]]
) -> dict[str, Any]:
    """The properties an existing object gets under `policy` (equal to `current`: no change)."""
    if policy is UpdatePolicy.IGNORE:
        return current
    if policy is UpdatePolicy.OVERRIDE:
        return build_tree(rendered)
    # Copy only the tables on the mapped paths (far cheaper than a deep copy); `current`
    # itself is never changed, so planning can compare before and after.
    merged = dict(current)
    for path, value in rendered:
        if value is None:
            delete_path(merged, path)  # the source has no value for a mapped property
        else:
            set_path(merged, path, value)
    return merged


def set_path(tree: dict[str, Any], path: Path, value: Any) -> None:
    """tree[a][b] = value; parent tables are copied (or created) on the way, never changed."""
    node = tree
    for part in path[:-1]:
        child = node.get(part)
        node[part] = child = dict(child) if isinstance(child, dict) else {}
        node = child
    node[path[-1]] = value


def delete_path(tree: dict[str, Any], path: Path) -> None:
    """Remove tree[a][b] (copying parent tables) and parents that became empty."""
    trail = [tree]
    for part in path[:-1]:
        child = trail[-1].get(part)
        if not isinstance(child, dict):
            return
        trail[-1][part] = child = dict(child)
        trail.append(child)
    trail[-1].pop(path[-1], None)
    for depth in range(len(path) - 1, 0, -1):
        if trail[depth]:
            break
        trail[depth - 1].pop(path[depth - 1], None)
