"""Per-property claims: which source said what about a node, and which value the node shows.

Registers overlap (the residents register and the volunteer register both know a person), so a
node is written property by property and every value remembers where it came from. In memory a
node's claims are ``{property: [claim, …]}`` with at most one claim per (property, job)::

    {"phone": [{"v": "139…", "job": "residents", "file": "residents.csv", "row": 12,
                "at": "2026-11-30T09:00:00Z", "p": 0, "t": "2026-11-30T09:00:01.250Z"}, …], …}

``at`` is when the job ran (``Provenance.ingested_at``), ``t`` when the claim was written (the
store's clock), ``p`` the job's priority. Stored on the node as the system property ``prov``, a JSON
text that names each source once (a register gives a person a dozen properties at once)::

    {"s": [["residents", "residents.csv", 12, "2026-…Z", 0, "2026-…Z"], …],
     "c": {"phone": 0, "name": [[1], [0, "王芳"]], …}}

A claim whose value is the one the node shows is stored without it (``[1]``: source 1 says what the
node shows), and a property with just such one claim as its source number alone (``0``): the value is
in the node's own column already. Most claims are of that kind (a first load gives every value one
source), and a value twice made ``prov`` over half of a person's stored bytes, which every bulk load
and every checkpoint of the table wrote again. ``load`` reads the value back from the node's
properties, so it is given the stored node; a claim written with its value (``[0, "139…"]``, every
claim before this) reads as before.

Rules (pure functions here, so both engines and the dry run agree):
- a write names properties (``NodeRecord.props`` keys + ``NodeRecord.names``); the others are untouched;
- a named property with a value adds or replaces this job's claim; an unchanged value at the same
  priority changes nothing (re-running a job is idempotent: no version bump, no change-log entry);
- a named property without a value ("this source says empty") withdraws this job's own claim and
  never removes another source's;
- the node shows, per property, the value of the claim with the highest priority, ties going to
  the latest write (``t``), then the job name, so the choice is deterministic.

Nodes written before claims existed (no ``prov``) get one claim per stored value, attributed to
their last writer (``src_job``…), the first time they are written again.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from talentgraph.graph import jsontext
from talentgraph.types import Props, Provenance

PROV = "prov"
Claim = dict[str, Any]
Claims = dict[str, list[Claim]]


_PLAIN = frozenset({str, int, float, bool, type(None)})


def jsonable(value: Any) -> Any:
    """A value as JSON stores it (dates as ISO text, tuples as lists)."""
    if type(value) in _PLAIN:  # nearly every value of a bulk load: one set lookup
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


_SOURCE = ("job", "file", "row", "at", "p", "t")


def load(stored: Mapping[str, Any], names: Iterable[str]) -> Claims:
    """The claims of a stored node's property map (``names``: its ontology properties).

    A node without ``prov`` was written before claims existed: each stored value becomes a claim of
    the node's last writer.
    """
    text = stored.get(PROV)
    if text:
        data = json.loads(text)
        sources = [dict(zip(_SOURCE, s)) for s in data["s"]]
        out: Claims = {}
        for name, items in data["c"].items():
            if type(items) is int:  # one claim, of the shown value
                out[name] = [{"v": jsonable(stored.get(name)), **sources[items]}]
            else:
                out[name] = [{"v": item[1] if len(item) > 1 else jsonable(stored.get(name)), **sources[item[0]]}
                             for item in items]
        return out
    legacy: Claims = {}
    for name in names:
        value = stored.get(name)
        if value is not None:
            legacy[name] = [{"v": jsonable(value), "job": stored.get("src_job"), "file": stored.get("src_file"),
                             "row": stored.get("src_row"), "at": stored.get("ingested_at"), "p": 0,
                             "t": stored.get("updated_at") or ""}]
    return legacy


def dump(claims: Claims, shown: Mapping[str, Any] | None = None, *, dates: Collection[str] = ()) -> str | None:
    """The ``prov`` text of ``claims`` (None when there are none); ``load`` reads it back.

    ``shown``: the properties the node is stored with (its values as JSON stores them); a claim of the
    value shown is written without it (see the module docstring). ``dates``: the DATE properties, whose
    text a store reads back as ``YYYY-MM-DD`` whatever ISO form it was written in. Without ``shown``
    every claim keeps its value."""
    if not claims:
        return None
    sources: dict[tuple[Any, ...], int] = {}
    encoded: dict[str, Any] = {}
    for name, items in claims.items():  # a hot path of bulk loads: plain indexing, no generator
        value = shown.get(name) if shown is not None else None
        out: list[list[Any]] = []
        for c in items:
            i = sources.setdefault((c["job"], c["file"], c["row"], c["at"], c["p"], c["t"]), len(sources))
            v = c["v"]
            out.append([i] if value is not None and implied(v, value, name in dates) else [i, v])
        encoded[name] = out[0][0] if len(out) == 1 and len(out[0]) == 1 else out
    return jsontext.dumps({"s": list(sources), "c": encoded})


def implied(value: Any, shown: Any, is_date: bool = False) -> bool:
    """Whether a claim of ``value`` may be stored without it on a node that shows ``shown``: the same
    value, as the store reads it back (the same type; no empty text or list, which an engine may read back
    as nothing; a date as ``YYYY-MM-DD``)."""
    if type(value) is not type(shown) or value != shown or value == "" or value == []:
        return False
    if is_date:
        return type(value) is str and canonical_date(value)
    return True


def canonical_date(text: str) -> bool:
    """``text`` is a date as a store reads one back (``YYYY-MM-DD``), not another ISO form of it."""
    try:
        return dt.date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False


def fresh(values: Mapping[str, Any], source: Provenance | None, ts: str, *,
          dates: Collection[str] = ()) -> tuple[Props, str | None]:
    """(props, ``prov`` text) of a node no source has written yet: what ``merge({}, {}, …)`` then
    ``dump`` give, in one pass and without a claim dict per value (the hot path of a first load).
    ``dates``: as for ``dump``."""
    props = {name: jsonable(value) for name, value in values.items() if value is not None}
    return props, (fresh_prov(source, ts, fresh_claims(props, dates=dates)) if props else None)


def fresh_claims(props: Mapping[str, Any], *, dates: Collection[str] = ()) -> str:
    """The ``"c"`` part of a new node's ``prov`` (``props``: its jsonable values, no nulls, which the node
    shows: each is its one source's claim, stored as the source's number alone unless ``implied`` says the
    value must stay); it does not depend on the write's time, so it can be worked out where the record is
    built."""
    kept = {name: [[0, v]] for name, v in props.items() if not implied(v, v, name in dates)}
    # Only the kept values are written out (nearly always none): whether a float is among them decides how.
    return jsontext.dumps({name: kept.get(name, 0) for name in props}, float_free=not jsontext.has_float(kept))


def fresh_prov(source: Provenance | None, ts: str, claims_text: str) -> str:
    """A new node's ``prov`` text from ``fresh_claims``: its one source, written at ``ts``."""
    origin = ([source.job, source.source, source.row, source.ingested_at, source.priority, ts] if source
              else [None, None, None, None, 0, ts])
    return '{"s":[' + jsontext.dumps(origin) + '],"c":' + claims_text + "}"


def shown(claims: list[Claim]) -> Claim | None:
    """The claim whose value a property shows: highest priority, then latest write, then job name."""
    if not claims:
        return None
    return max(claims, key=lambda c: (c.get("p") or 0, c.get("t") or "", c.get("job") or ""))


@dataclass
class Merged:
    props: Props  # every ontology property as the node now shows it
    claims: Claims
    changed: bool  # any claim added, replaced or withdrawn


def merge(stored: Props, claims: Claims, values: Mapping[str, Any], names: Iterable[str],
          source: Provenance | None, ts: str) -> Merged:
    """Apply one write to a node's shown ``stored`` properties and its ``claims`` (both copied).

    ``values``: the write's properties; ``names``: further properties it names without a value.
    ``ts`` orders writes (the store's clock); ``source`` None is an anonymous writer (job None).
    """
    job = source.job if source else None
    priority = source.priority if source else 0
    if not stored and not claims:
        # A new node (the bulk of a first load): every value is this source's only claim.
        origin = {"job": job, "file": source.source if source else None, "row": source.row if source else None,
                  "at": source.ingested_at if source else None, "p": priority, "t": ts}
        fresh = {name: jsonable(value) for name, value in values.items() if value is not None}
        return Merged(fresh, {name: [{"v": v, **origin}] for name, v in fresh.items()}, bool(fresh))
    props = dict(stored)
    out: Claims = {k: list(v) for k, v in claims.items()}
    touched: list[str] = []
    for name in dict.fromkeys([*values, *names]):
        value = values.get(name)
        mine = out.get(name, [])
        own = next((c for c in mine if c.get("job") == job), None)
        if value is None:
            if own is None:
                continue
            out[name] = [c for c in mine if c is not own]
        else:
            v = jsonable(value)
            if own is not None and own.get("v") == v and (own.get("p") or 0) == priority:
                continue
            claim: Claim = {"v": v, "job": job, "file": source.source if source else None,
                            "row": source.row if source else None, "at": source.ingested_at if source else None,
                            "p": priority, "t": ts}
            out[name] = [*(c for c in mine if c is not own), claim]
        if not out[name]:
            del out[name]
        touched.append(name)
    for name in touched:
        winner = shown(out.get(name, []))
        props[name] = None if winner is None else winner["v"]
    return Merged(props, out, bool(touched))



def source_needles(job: str | None) -> tuple[str, str]:
    """Texts a ``prov`` holds exactly when ``job`` is one of its sources: (prefix, infix).

    ``dump`` writes ``{"s":[[<job>,…],[<job>,…]…],"c":…}``: the first source follows ``{"s":[[``,
    every later one ``],[``. Nowhere else can either text occur: in ``"c"`` every ``[`` after
    ``],`` opens a claim whose first item is a source number (a digit), and the quotes of a value
    are escaped inside its JSON string. So a graph query finds a source's nodes by text alone.
    """
    name = json.dumps(job, ensure_ascii=False)
    return '{"s":[[' + name + ",", "],[" + name + ","


def owns(claims: Claims, src_job: str | None, job: str) -> bool:
    """Whether source ``job`` says anything about a node: one of its ``claims`` (as ``load`` reads
    them), or, when no source claims anything, it wrote the node last (``src_job``)."""
    if not claims:
        return src_job == job
    return any(c.get("job") == job for items in claims.values() for c in items)


def withdraw(stored: Props, claims: Claims, job: str) -> Merged:
    """Drop every claim of ``job`` from a node (its source no longer lists the record).

    Each property it claimed shows the next claim by the ``shown`` rule, or nothing; the claims of
    every other source stay as they are ("a write never erases what its source does not own").
    ``Merged.claims`` empty: no source claims anything on the node any more.
    """
    props = dict(stored)
    out: Claims = {}
    touched: list[str] = []
    for name, items in claims.items():
        kept = [c for c in items if c.get("job") != job]
        if len(kept) != len(items):
            touched.append(name)
        if kept:
            out[name] = kept
    for name in touched:
        winner = shown(out.get(name, []))
        props[name] = None if winner is None else winner["v"]
    return Merged(props, out, bool(touched))


__all__ = ["PROV", "Claim", "Claims", "Merged", "canonical_date", "dump", "implied", "load", "merge", "owns", "shown",
           "source_needles", "withdraw"]
