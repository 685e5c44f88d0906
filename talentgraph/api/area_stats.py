"""The ``areaStats`` query field: ``feed/areas.py``'s per-area statistics over GraphQL.

The same numbers, suppressed the same way, as ``GET /geo/Area?stats=true`` (one cache serves
both); pages of areas in id order with an opaque cursor.
"""

from __future__ import annotations

import base64
import binascii

import strawberry

from talentgraph.access import records
from talentgraph.api.context import ApiContext, run_sync
from talentgraph.api.filters import check_first
from talentgraph.api.objects import PageInfo
from talentgraph.errors import BadQueryError, ForbiddenError
from talentgraph.feed import areas

_COUNT_DOC = "The count; null when hidden: `display` is \"<k\" (fewer than k) or \"≥k\" (k or more, hidden so " \
             "that a total minus the shown counts cannot reveal a small one)."


@strawberry.type(description="One statistic of an area.")
class AreaStatCount:
    count: int | None = strawberry.field(description=_COUNT_DOC)
    display: str


@strawberry.type(description="One value of a statistic with several (a nationality, skill category or language).")
class AreaStatValue:
    value: str = strawberry.field(description="Vocabulary id (ISO code, skill category).")
    count: int | None = strawberry.field(description=_COUNT_DOC)
    display: str
    label: str | None = strawberry.field(description="Chinese label from the vocabulary.")
    label_en: str | None


@strawberry.type(description="Statistics of one residential area or building for the map; a statistic the role "
                             "may not count is null. Small counts are suppressed (README: GeoJSON and area statistics).")
class AreaStats:
    id: strawberry.ID
    name: str
    level: str
    parent: strawberry.ID | None = strawberry.field(description="A building's residential area.")
    residents: AreaStatCount | None
    foreign_residents: AreaStatCount | None
    party_members: AreaStatCount | None
    volunteers: AreaStatCount | None
    nationalities: list[AreaStatValue] | None = strawberry.field(description="Foreign residents by nationality.")
    skill_categories: list[AreaStatValue] | None = strawberry.field(description="Residents by skill category.")
    languages: list[AreaStatValue] | None = strawberry.field(description="Residents by language spoken.")


@strawberry.type(description="A page of area statistics, in area id order.")
class AreaStatsPage:
    nodes: list[AreaStats]
    page_info: PageInfo
    total_count: int


def _cursor(area_id: str) -> str:
    return base64.urlsafe_b64encode(f"area-stats:{area_id}".encode()).decode().rstrip("=")


def _after(cursor: str) -> str:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        text = ""
    if not text.startswith("area-stats:"):
        raise BadQueryError(f"Cursor {cursor[:40]!r} is not an areaStats cursor.",
                            hint="Pass pageInfo.endCursor of the previous areaStats page unchanged.")
    return text.removeprefix("area-stats:")


def _object(s: areas.AreaStats) -> AreaStats:
    def scalar(name: str) -> AreaStatCount | None:
        v = s.scalars.get(name)
        return None if v is None else AreaStatCount(count=v.count, display=v.display)

    def listed(name: str) -> list[AreaStatValue] | None:
        values = s.lists.get(name)
        if values is None:
            return None
        out = []
        for v in values:
            zh, en = areas.labels(name, v.value)
            out.append(AreaStatValue(value=v.value, count=v.count, display=v.display, label=zh, label_en=en))
        return out

    return AreaStats(id=strawberry.ID(s.id), name=s.name, level=s.level,
                     parent=strawberry.ID(s.parent) if s.parent else None,
                     residents=scalar(areas.RESIDENTS), foreign_residents=scalar(areas.FOREIGN),
                     party_members=scalar(areas.PARTY), volunteers=scalar(areas.VOLUNTEERS),
                     nationalities=listed(areas.NATIONALITIES), skill_categories=listed(areas.SKILL_CATEGORIES),
                     languages=listed(areas.LANGS))


async def area_stats(ctx: ApiContext, level: str | None, first: int, after: str | None) -> AreaStatsPage:
    area_type = ctx.ontology.node("Area")
    if area_type not in records.readable_types(ctx.view):
        raise ForbiddenError(f"The {ctx.principal.role} role may not read areas.")
    check_first(first, ctx.max_page_size)
    if level is not None and level not in areas.STAT_LEVELS:
        raise BadQueryError(f"level: {level[:40]!r} has no statistics.", hint=f"Levels: {', '.join(areas.STAT_LEVELS)}.")
    start = _after(after) if after is not None else None
    stats = await run_sync(areas.cache_for(ctx.graph, ctx.ontology).stats, ctx.view)
    chosen = [s for s in stats.values() if level is None or s.level == level]  # in id order
    rest = [s for s in chosen if start is None or s.id > start]
    page = rest[:first]
    ctx.access.aggregates += areas.cells_shown(page)
    end = _cursor(page[-1].id) if page else None
    return AreaStatsPage(nodes=[_object(s) for s in page], page_info=PageInfo(has_next_page=len(rest) > first,
                                                                               end_cursor=end),
                         total_count=len(chosen))
