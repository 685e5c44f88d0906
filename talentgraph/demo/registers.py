"""What every demo register is made of: rows keyed by column name, labels typed the way staff
type them, dates in the formats registers hold."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from talentgraph.demo.people import REFERENCE_DATE
from talentgraph.errors import OntologyError
from talentgraph.schema.vocabularies import Term, vocabulary


@dataclass
class Register:
    name: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    encoding: str = "utf-8"  # csv only: utf-8, utf-8-sig or gbk
    sheet: str | None = None  # set → written as XLSX with this sheet name
    bad: int = 0

    @property
    def filename(self) -> str:
        return f"{self.name}.xlsx" if self.sheet else f"{self.name}.csv"

    def add(self, **values: Any) -> None:
        unknown = set(values) - set(self.columns)
        if unknown:
            raise KeyError(f"{self.name}: no columns {sorted(unknown)}")
        self.rows.append([values.get(c, "") for c in self.columns])

    def add_bad(self, rng: random.Random, **values: Any) -> None:
        """Insert a bad row at a seeded position (not last: real registers have typos anywhere)."""
        self.add(**values)
        row = self.rows.pop()
        self.rows.insert(rng.randrange(len(self.rows) // 3, len(self.rows) + 1), row)
        self.bad += 1


# --- vocabulary labels ------------------------------------------------------------------------------


class Labels:
    """Labels the way staff type them: Chinese in Chinese registers, English in the foreign one,
    now and then a synonym. Only labels that look up to the intended term are ever written."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def term(self, vocab: str, *candidates: str) -> Term:
        v = vocabulary(vocab)
        for c in candidates:
            term = v.terms.get(c) or v.lookup(c)
            if term is not None:
                return term
        raise OntologyError(
            f"The demo needs a {vocab!r} term for any of {list(candidates)}; none is in the vocabulary.",
            hint=f"Add one of them to schema/vocab/{vocab}.yaml or update talentgraph/demo/generator.py.",
        )

    def label(self, vocab: str, term_id: str, lang: str = "zh", synonym_rate: float = 0.1) -> str:
        v = vocabulary(vocab)
        term = self.term(vocab, term_id)
        primary = term.zh if lang == "zh" else term.en
        if self.rng.random() < synonym_rate:
            want_cjk = lang == "zh"
            options = [s for s in term.synonyms
                       if any("\u4e00" <= ch <= "\u9fff" for ch in s) == want_cjk and s.strip() == s
                       and (v.lookup(s) or term).id == term.id and "," not in s]
            if options:
                return self.rng.choice(options)
        return primary


# --- dates -----------------------------------------------------------------------------------------


def fmt_date(rng: random.Random, d: date, *, chinese: bool = True) -> str:
    """Dates as registers hold them: mostly ISO, also 2015/3/2, 20150302 and 2015年3月2日."""
    x = rng.random()
    if x < 0.6:
        return d.isoformat()
    if x < 0.8:
        return f"{d.year}/{d.month}/{d.day}"
    if x < 0.9 or not chinese:
        return f"{d:%Y%m%d}"
    return f"{d.year}年{d.month}月{d.day}日"


def fmt_birth(rng: random.Random, d: date) -> str:
    # Only the formats the `year` transform documents (ISO, slashes, compact).
    x = rng.random()
    return d.isoformat() if x < 0.6 else f"{d.year}/{d.month}/{d.day}" if x < 0.85 else f"{d:%Y%m%d}"


def rand_date(rng: random.Random, start: date, end: date = REFERENCE_DATE) -> date:
    if end <= start:
        return start
    return start + timedelta(days=rng.randrange((end - start).days))
