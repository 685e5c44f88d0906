"""Clusters from linked pairs, and the record that stands for each cluster."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from talentgraph.resolve.records import Record


def components(links: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Record id → cluster key (the smallest id of its connected component); singletons omitted."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    seen: set[str] = set()
    for a, b in links:
        seen.update((a, b))
        ra, rb = find(a), find(b)
        if ra != rb:
            lo, hi = (ra, rb) if ra < rb else (rb, ra)
            parent[hi] = lo
    return {x: find(x) for x in seen}


def canonical(members: list[str], records: Mapping[str, Record]) -> str:
    """The record a cluster shows as: the one already standing for it if it still belongs, else the
    fullest record (most properties), ties to the smallest id. Stable across re-runs."""
    current = [records[m].canonical for m in members if records[m].canonical in members]
    if current:
        return min(c for c in current if c is not None)
    return min(members, key=lambda m: (-records[m].filled, m))


def clusters(links: Iterable[tuple[str, str]], records: Mapping[str, Record]) -> dict[str, list[str]]:
    """Canonical id → sorted member ids (canonical included), for components of two or more."""
    comp = components(links)
    groups: dict[str, list[str]] = {}
    for rid, root in comp.items():
        groups.setdefault(root, []).append(rid)
    out: dict[str, list[str]] = {}
    for members in groups.values():
        if len(members) >= 2:
            members.sort()
            out[canonical(members, records)] = members
    return out
