"""The small gazetteer the text-to-graph unit tests read documents against (places, a party branch, persons)."""

from __future__ import annotations

from talentgraph.text.gazetteer import How

# (surface, node id, type[, how]): a venue with an English alias, namesake persons, one surface of two types.
PLACES_AND_PEOPLE: list[tuple[str, str, str] | tuple[str, str, str, How]] = [
    ("花木街道", "area:huamu", "Area"),
    ("联洋社区", "area:lianyang", "Area"),
    ("联洋居民区", "area:lyjmq", "Area"),
    ("拇指广场", "ven:thumb", "Venue"),
    ("Thumb Plaza", "ven:thumb", "Venue", "alias"),
    ("上海图书馆东馆", "ven:lib", "Venue"),
    ("Shanghai Library East", "ven:lib", "Venue", "alias"),
    ("中文长廊", "ven:corridor", "Venue"),
    ("外籍人士服务站", "ven:station", "Venue"),
    ("张伟", "per:1", "Person"),
    ("张伟", "per:2", "Person"),
    ("Zhang Wei", "per:1", "Person", "alias"),
]
