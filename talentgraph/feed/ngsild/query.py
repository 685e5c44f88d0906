"""The ``q`` parameter: a subset of the NGSI-LD query language (CIM 009 clause 4.9), parsed and compiled.

Supported::

    q      = or
    or     = and *("|" and)              ";" binds tighter than "|"
    and    = item *(";" item)
    item   = "(" or ")" / term
    term   = attr                        the attribute exists
           / attr op value               op: == != > >= < <=
           / attr ("==" / "!=") value *("," value)    any of (==) / none of (!=)
           / attr ("==" / "!=") value ".." value      a range, both ends included
    value  = "quoted string" / number / true / false / anything else up to , ; | ) (dates, URIs)

Not supported, and named in a BadRequestData when used: attribute paths (``a.b``, ``a[b]``), pattern
matching (``~=``, ``!~=``), existence tests on relationships. A relationship is compared with
``==``/``!=`` against entity ids: ``locatedIn=="urn:ngsi-ld:Area:RA1"``; ``!=`` there means "not linked to
any of these" (the store cannot test "has some such relationship", so neither does the negation).

Compiled per entity type into a store ``Filter`` (``talentgraph.types``), so counts and paging come from
the store. A term on an attribute the type does not have, or the caller's role may not read, matches
nothing (CIM 009: a term whose attribute is absent is false); that decision is ``False`` in the
compiled result and folds away, so a hidden property never reaches a store query. A value whose type
does not fit the attribute (``capacity=="big"``) matches nothing too.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Union

from talentgraph.feed.ngsild.context import names
from talentgraph.feed.ngsild.errors import NgsiLdError, bad_request, unsupported
from talentgraph.feed.ngsild.ids import from_urn, is_uri
from talentgraph.schema.ontology import GEO_LAT, GEO_OUTLINE, Ontology, Property, PropType, RelType
from talentgraph.types import And, Cmp, Filter, Linked, Not, Or

MAX_Q_LENGTH = 4096
MAX_TERMS = 64
MAX_DEPTH = 16
MAX_VALUES = 100

Op = Literal["==", "!=", ">", ">=", "<", "<="]


@dataclass(frozen=True)
class Term:
    attr: str
    op: Op | None = None  # None: the attribute exists
    values: tuple[Any, ...] = ()  # several: any of them (==) / none of them (!=)
    range: tuple[Any, Any] | None = None


@dataclass(frozen=True)
class Bool:
    op: Literal["and", "or"]
    items: tuple["Expr", ...]


Expr = Union[Term, Bool]

_ATTR = re.compile(r"[A-Za-z_@][A-Za-z0-9_:/#.\-]*")  # wide on purpose: a path or IRI is then named, not garbled
_OPS = ("==", "!=", ">=", "<=", ">", "<", "~=", "!~=")
_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_ATOM = re.compile(r"(?:[^,;|()\"'\s.]|\.(?!\.))+")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.pos, self.terms = text, 0, 0

    def fail(self, expected: str) -> NgsiLdError:
        near = self.text[self.pos:self.pos + 20] or "the end"
        return NgsiLdError("BadRequestData", f"q: {self.text[:200]!r} cannot be parsed at character {self.pos + 1} "
                                             f"(near {near!r}); expected {expected}.")

    def peek(self) -> str:
        return self.text[self.pos:self.pos + 1]

    def parse(self) -> Expr:
        expr = self.or_(0)
        if self.pos != len(self.text):
            raise self.fail("';' (and), '|' (or) or the end of the query")
        return expr

    def or_(self, depth: int) -> Expr:
        items = [self.and_(depth)]
        while self.peek() == "|":
            self.pos += 1
            items.append(self.and_(depth))
        return items[0] if len(items) == 1 else Bool("or", tuple(items))

    def and_(self, depth: int) -> Expr:
        items = [self.item(depth)]
        while self.peek() == ";":
            self.pos += 1
            items.append(self.item(depth))
        return items[0] if len(items) == 1 else Bool("and", tuple(items))

    def item(self, depth: int) -> Expr:
        if self.peek() == "(":
            if depth >= MAX_DEPTH:
                raise NgsiLdError("TooComplexQuery", f"q: parentheses nest deeper than {MAX_DEPTH} levels.")
            self.pos += 1
            inner = self.or_(depth + 1)
            if self.peek() != ")":
                raise self.fail("')'")
            self.pos += 1
            return inner
        return self.term()

    def term(self) -> Term:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise NgsiLdError("TooComplexQuery", f"q: more than {MAX_TERMS} terms; split the query.")
        m = _ATTR.match(self.text, self.pos)
        if not m:
            raise self.fail("an attribute name")
        attr = m.group(0)
        self.pos = m.end()
        # A dot or bracket in a short name is a path (``address.street``); an IRI may hold dots of its own.
        if ("." in attr and ":" not in attr) or self.peek() == "[":
            raise unsupported("q", self.text[:200], f"the attribute path {attr + self.peek()!r}…",
                              "name a top-level attribute")
        op = next((o for o in sorted(_OPS, key=len, reverse=True) if self.text.startswith(o, self.pos)), None)
        if op is None:
            return Term(attr)
        if op in ("~=", "!~="):
            raise unsupported("q", self.text[:200], f"pattern matching ({op})", "compare with == or a range")
        self.pos += len(op)
        first = self.value()
        if self.text.startswith("..", self.pos):
            if op not in ("==", "!="):
                raise self.fail(f"a single value after {op} (ranges go with == or !=)")
            self.pos += 2
            return Term(attr, op, (), (first, self.value()))  # type: ignore[arg-type]
        values = [first]
        while self.peek() == ",":
            if op not in ("==", "!="):
                raise self.fail(f"a single value after {op} (value lists go with == or !=)")
            self.pos += 1
            values.append(self.value())
            if len(values) > MAX_VALUES:
                raise NgsiLdError("TooComplexQuery", f"q: more than {MAX_VALUES} values in one list.")
        return Term(attr, op, tuple(values))  # type: ignore[arg-type]

    def value(self) -> Any:
        if self.peek() in ('"', "'"):
            quote, out, i = self.peek(), [], self.pos + 1
            while i < len(self.text):
                c = self.text[i]
                if c == "\\" and i + 1 < len(self.text):
                    out.append(self.text[i + 1])
                    i += 2
                    continue
                if c == quote:
                    self.pos = i + 1
                    return "".join(out)
                out.append(c)
                i += 1
            raise self.fail(f"a closing {quote}")
        m = _ATOM.match(self.text, self.pos)
        if not m:
            raise self.fail("a value (a quoted string, a number, true, false, a date or a URI)")
        self.pos = m.end()
        atom = m.group(0)
        if atom in ("true", "false"):
            return atom == "true"
        if _NUMBER.fullmatch(atom):
            number = float(atom)
            if not math.isfinite(number):
                raise bad_request("q", atom, "a finite number")
            return int(atom) if number.is_integer() and re.fullmatch(r"-?\d+", atom) else number
        return atom


def parse_q(text: str) -> Expr:
    if len(text) > MAX_Q_LENGTH:
        raise bad_request("q", text, f"a query of at most {MAX_Q_LENGTH} characters")
    if not text.strip():
        raise bad_request("q", text, "a query such as capacity>100;kind==\"library\"")
    return _Parser(text).parse()


# --- compiling ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Readable:
    """What of one entity type the caller may query: its properties, relationships and geometry.

    Built from ``access/records.py`` by the caller (``lookup.readable``), never from role names here.
    """

    type_name: str
    props: Mapping[str, Property]  # attribute name → property
    rels: Mapping[str, tuple[RelType, tuple[str, ...]]]  # attribute name → (relationship, readable far types)
    location: bool  # the geometry is readable


Compiled = Union[Filter, bool]


def compile_q(expr: Expr, ontology: Ontology, readable: Readable) -> Compiled:
    """``expr`` for one entity type: a store filter, or True/False when the type decides it alone."""
    if isinstance(expr, Bool):
        parts = [compile_q(x, ontology, readable) for x in expr.items]
        return _and(parts) if expr.op == "and" else _or(parts)
    return _term(expr, ontology, readable)


def _and(parts: Sequence[Compiled]) -> Compiled:
    if any(p is False for p in parts):
        return False
    kept = tuple(p for p in parts if not isinstance(p, bool))
    return True if not kept else kept[0] if len(kept) == 1 else And(kept)


def _or(parts: Sequence[Compiled]) -> Compiled:
    if any(p is True for p in parts):
        return True
    kept = tuple(p for p in parts if not isinstance(p, bool))
    return False if not kept else kept[0] if len(kept) == 1 else Or(kept)


def _not(part: Compiled) -> Compiled:
    return (not part) if isinstance(part, bool) else Not(part)


def _term(t: Term, ontology: Ontology, r: Readable) -> Compiled:
    attr = names(ontology).expand_attr(t.attr)  # the IRI our context gives a term names the term
    if attr != t.attr:
        t = Term(attr, t.op, t.values, t.range)
    if t.attr == "location":
        if t.op is not None:
            raise unsupported("q", t.attr, "a comparison on the GeoProperty location",
                              "filter by place with georel, geometry and coordinates")
        if not r.location:
            return False
        return Or((Cmp(GEO_LAT, "is_null", False), Cmp(GEO_OUTLINE, "is_null", False))) \
            if ontology.node(r.type_name).has(GEO_OUTLINE) else Cmp(GEO_LAT, "is_null", False)
    if t.attr in r.rels:
        return _rel_term(t, ontology, *r.rels[t.attr])
    prop = r.props.get(t.attr)
    if prop is None:
        return False  # no such attribute on this type, or not for this role: a term on it is false
    exists = Cmp(prop.name, "is_null", False)
    if t.op is None:
        return exists
    whole = prop.type is PropType.INT
    if t.range is not None:
        low, high = (_coerce(prop, v) for v in t.range)
        if low is None or high is None or prop.type in (PropType.STRING_LIST, PropType.BOOL):
            inside: Compiled = False
        else:
            # Over whole numbers, 1.5..3.5 holds 2 and 3.
            low, high = (math.ceil(low), math.floor(high)) if whole else (low, high)
            inside = _and([_cmp(prop, "gte", low), _cmp(prop, "lte", high)])
        return inside if t.op == "==" else _and([exists, _not(inside)])
    if t.op in ("==", "!="):
        # A whole-number property never equals 99.5: such a value drops out of the list.
        equal = [v for v in (_coerce(prop, x) for x in t.values)
                 if v is not None and not (whole and isinstance(v, float))]
        hits = _or([_cmp(prop, "eq", v) for v in equal])
        return hits if t.op == "==" else _and([exists, _not(hits)])
    value = _coerce(prop, t.values[0])
    if value is None or prop.type in (PropType.STRING_LIST, PropType.BOOL):
        return False  # an order on lists or booleans, or a value of another type: nothing matches
    op = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}[t.op]
    if prop.type is PropType.INT and isinstance(value, float):
        # employees>99.5 over whole numbers: compare with the whole number on the right side of it.
        value, op = (math.floor(value), "gt") if op in ("gt", "gte") else (math.ceil(value), "lt")
    return _cmp(prop, op, value)


def _cmp(prop: Property, op: str, value: Any) -> Compiled:
    return Cmp(prop.name, op, value)  # type: ignore[arg-type]


def _coerce(prop: Property, value: Any) -> Any:
    """The value as the property stores it, or None when it cannot be one (then nothing matches)."""
    kind = prop.type
    if kind in (PropType.STRING, PropType.STRING_LIST):
        return value if isinstance(value, str) else None
    if kind is PropType.BOOL:
        return value if isinstance(value, bool) else None
    if kind in (PropType.INT, PropType.FLOAT):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        if kind is PropType.FLOAT:
            return float(value)
        # 100.0 is the whole number 100; 99.5 is kept as it is: equality then never holds, orders round (_term).
        return int(value) if isinstance(value, float) and value.is_integer() else value
    if kind is PropType.DATE:
        if not isinstance(value, str):
            return None
        try:  # a date, or the date of a dateTime
            return dt.date.fromisoformat(value[:10]).isoformat()
        except ValueError:
            return None
    return None


def _rel_term(t: Term, ontology: Ontology, rel: RelType, far_types: tuple[str, ...]) -> Compiled:
    what = ("an existence test" if t.op is None else "a range" if t.range is not None
            else None if t.op in ("==", "!=") else f"an order ({t.op})")
    if what is not None:
        raise unsupported("q", t.attr, f"{what} on the relationship {t.attr}",
                          f"compare {t.attr} with == or != and entity ids")
    ids: list[str] = []
    for v in t.values:
        if not isinstance(v, str) or not is_uri(v):
            raise bad_request("q", v, f"an entity id (a URN such as urn:ngsi-ld:Area:RA1) to compare {t.attr} with")
        found = from_urn(ontology, v)
        if found is not None and found[0].name in far_types:
            ids.append(found[1])  # ids of types the role may not reach can never match
    linked: Compiled = Linked(rel.name, "out", tuple(ids)) if ids else False
    return linked if t.op == "==" else _not(linked)


def attrs_filter(attrs: Sequence[str], ontology: Ontology, r: Readable) -> Compiled | None:
    """CIM 009: with ``attrs``, an entity is returned only if it has at least one of them.

    None when one of them is a relationship of this type: the store filter language cannot say "has
    some relationship of this kind", so the caller checks that on the nodes themselves.
    """
    if any(a in r.rels for a in attrs):
        return None
    return _or([_term(Term(a), ontology, r) for a in attrs if a == "location" or a in r.props])
