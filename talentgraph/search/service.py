"""Talent search: user text and filters → engine-neutral query → ranked, faceted, explained hits.

A query is read by ``understanding.interpret`` into units: vocabulary *concepts* ("俄语", "Russian
lawyer", "eyu lvshi", "врач", "Spanich", a place such as "玉兰香苑") and *words* (names, free text),
each required or optional (a word beside concepts, a verb form only ranks; filler is dropped). Every
required unit must match (AND), each in any of its forms (OR):

* a concept is *held* — its term ids in keyword fields (with the skill hierarchy, and a language
  through a skill in it: translation.ru speaks Russian), its yes/no facet (志愿者 → volunteer: true)
  or its place (the residents of 玉兰香苑) — which scores a constant above any *mention* of its labels
  in free text or names; so "俄语 律师" and "Russian lawyer" build the same clauses. A compound
  ("俄语翻译", "Russian translator") also matches its pieces in their own fields (Russian in the
  languages and any translation skill), and ranks people with both readings first;
* a word matches name tokens (CJK pairs, pinyin, Latin and transliterated forms, a Hanja name's
  Hangul reading, romanised long vowels written short), free-text tokens, the CJK pair shadow, codes
  in keyword fields, and, for long Latin words, within one edit; a name typed in Latin words also
  matches as one joined spelling, exactly or within a few edits (Itou Takuya, Chang Eun-ji).

Boosts order the kinds of evidence: held concept > name > free text > pair shadow / fuzzy.
Highlights and explanations are computed here from the stored original values, so every engine
returns the same ones — only for the page's hits, and only when asked for (GraphQL passes what the
selection reads). One search asks the engine for the page and its facets once (ties are settled
inside the adapter); plans of repeated texts, default facets and facet-value titles are cached.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from talentgraph.errors import BadQueryError, ForbiddenError, OntologyError, TooLargeError
from talentgraph.schema.ontology import ONTOLOGY, Ontology, Sensitivity
from talentgraph.schema.vocabularies import Term as VocabTerm
from talentgraph.schema.vocabularies import load_vocabularies
from talentgraph.search import analysis, synonyms, understanding
from talentgraph.search.cache import LRU
from talentgraph.search.highlight import Needles, find_spans, highlight, merge_spans
from talentgraph.search.mapping import (
    ALSO_FIELD,
    ID_FIELD,
    TYPE_FIELD,
    FieldKind,
    SearchField,
    analysed_fields,
    facets as facet_fields,
    source_of,
)
from talentgraph.search.port import RawHit, SearchIndex
from talentgraph.search.query import Bool, Fuzzy, MatchAll, Query, Term, Terms
from talentgraph.search.synonyms import Segment

BOOST_KEYWORD = 4.0
BOOST_HELD = 25.0  # constant for holding a concept (skill, language, flag, place): above any mention
BOOST_IMPLIED = 0.5  # of BOOST_HELD, for holding it through another term (translation.ru: speaks ru)
BOOST_MENTION = 0.3  # a concept's labels in free text or names
BOOST_OPTIONAL = 0.5  # a word beside concepts, a verb form: ranks, does not filter
BOOST_NAME = 3.0
BOOST_TEXT = 1.5
BOOST_HOMOPHONE = 1.0  # same pinyin, other characters (章伟 for 张伟)
BOOST_BIGRAM = 0.5
BOOST_FUZZY = 0.5
FUZZY_MIN_CHARS = 5
FACET_SIZE = 20
MAX_QUERY_CHARS = 500  # segmentation tries every label window: keep pasted essays out
CURSOR_PREFIX = "offset:"
MAX_SEARCH_WINDOW = 10_000
"""Deepest hit a search pages to (offset + first), also when the engine allows more (its
``capabilities.max_result_window``): ranking keeps every hit up to the window in memory. Beyond it a
client should narrow the query or filter, not page."""
MAX_CURSOR_DIGITS = 18  # of a cursor's offset, checked before int(): past it a cursor is forged, not deep
PLAN_CACHE_SIZE = 1024  # plans of recent (text, types, visibility): parsing tries every label window
SPANS_CACHE_SIZE = 8192  # what a plan's needles mark in recent texts (``SearchService._spans``)
TITLE_CACHE_SIZE = 4096  # display names of node-id facet values (buildings, areas, groups …)
LABEL_CACHE_SIZE = 4096  # (zh, en) labels of vocabulary facet values, until the vocabularies change
TITLE_TTL_S = 60.0  # a renamed building shows its new name in facets within this long

_TRUE = {"true", "1", "yes", "y", "是", "t"}
_FALSE = {"false", "0", "no", "n", "否", "f"}
_BOOL_LABELS = {"true": ("是", "Yes"), "false": ("否", "No")}


@dataclass(frozen=True)
class Visibility:
    """What one caller may match, filter, count and see. Built from the role policy by ``access/``;
    search itself knows no roles. Keys are (node type, property or derived-field name).

    ``read``: "always" or "in_scope" (only on rows inside ``scope``); an absent key is never read —
    not matched, filtered, highlighted or explained. ``count``: "exact" or "suppressed" (below
    ``k`` shown as None); absent: the facet may not be counted. ``types``: types whose rows may be
    returned. ``scope``: a filter query true for rows inside the caller's areas, and ``places`` the
    area ids it stands for (to tell a hit's scope from its stored values).
    """

    read: Mapping[tuple[str, str], str]
    count: Mapping[tuple[str, str], str]
    types: frozenset[str]
    k: int
    scope: Query | None = None
    places: frozenset[str] = frozenset()
    place_fields: tuple[str, ...] = ()  # stored derived fields holding a row's place ids


@dataclass(frozen=True)
class FacetValue:
    value: str
    label_zh: str
    label_en: str
    count: int | None  # None: fewer than the caller's k, suppressed


@dataclass(frozen=True)
class SearchHit:
    id: str
    type: str
    score: float
    title: str
    highlights: dict[str, list[str]]
    explanations: list[str]


@dataclass(frozen=True)
class SearchResults:
    hits: list[SearchHit]
    total: int
    facets: dict[str, list[FacetValue]]
    end_cursor: str | None
    has_next_page: bool


@dataclass
class Plan:
    """How a text was read: its segments, the query built from them and what to highlight."""

    segments: list[Segment]
    query: Query
    name_needles: list[Needles] = field(default_factory=list)  # per segment
    text_needles: list[Needles] = field(default_factory=list)
    # Per segment, the terms it holds as (field, term id, "said ← field: id (zh / en)"): what an
    # explanation names when a hit holds one (``SearchService._held_terms``, read once per plan).
    held_terms: list[tuple[tuple[str, str, str], ...]] | None = None


@dataclass(frozen=True)
class _RowView:
    """What a caller reads on the rows of one type, inside or outside their areas (``_row_view``)."""

    sees: Callable[[str], bool]  # whether a property is read
    text_props: dict[str, tuple[FieldKind, bool]]  # the read name and free-text properties (``_text_props``)


# --- cursors ------------------------------------------------------------------------------------


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    bad = BadQueryError(f"Search cursor {cursor!r} is not valid.",
                        hint="Pass the end_cursor of a previous page unchanged, or omit 'after' for the first page.")
    if not isinstance(cursor, str) or not cursor or len(cursor) > 64:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise bad from None
    digits = raw[len(CURSOR_PREFIX):]
    if not raw.startswith(CURSOR_PREFIX) or not digits.isdigit() or len(digits) > MAX_CURSOR_DIGITS:
        raise bad
    return int(digits)


def check_window(offset: int, first: int, engine_window: int | None) -> None:
    """Refuse a page reaching past ``MAX_SEARCH_WINDOW`` (or the engine's own, smaller window)."""
    window = MAX_SEARCH_WINDOW if engine_window is None else min(MAX_SEARCH_WINDOW, engine_window)
    if offset + first > window:
        raise TooLargeError(
            f"This page would reach hit {offset + first:,} (after {offset:,}, first={first}); searches page "
            f"at most {window:,} hits deep (MAX_SEARCH_WINDOW).",
            hint="Narrow the query or add filters (languages, skills, area …) instead of paging further.",
        )


# --- the service --------------------------------------------------------------------------------


class SearchService:
    def __init__(self, index: SearchIndex, ontology: Ontology = ONTOLOGY, max_page_size: int = 100) -> None:
        self.index = index
        self.ontology = ontology
        self.max_page_size = max_page_size
        self._facets = facet_fields(ontology)
        self._analysed = analysed_fields(ontology)
        self._codes = [f for f in self._analysed if f.kind is FieldKind.KEYWORD and not f.vocabularies]  # free codes
        self._plans: LRU[tuple[Any, ...], Plan] = LRU(PLAN_CACHE_SIZE)
        self._plans_vocabs: object = None  # the vocabularies the cached plans were read with
        self._plans_places: object = None  # and the place names
        self._titles_cache: LRU[str, tuple[float, tuple[str, str] | None]] = LRU(TITLE_CACHE_SIZE)
        self._text_props_of: dict[str, dict[str, tuple[FieldKind, bool]]] = {}  # per node type
        self._labels: LRU[tuple[str, str], tuple[str, str]] = LRU(LABEL_CACHE_SIZE)  # vocabulary facet values
        self._marks: LRU[tuple[int, str, bool], tuple[Needles, list[tuple[int, int]]]] = LRU(SPANS_CACHE_SIZE)
        self._labels_vocabs: object = None
        self._defaults: LRU[tuple[Any, ...], tuple[str, ...]] = LRU(64)  # default facets per types and count rules
        # Place names a query may hold ("玉兰香苑" → its residents), read from the index now and again
        # every PLACES_TTL_S when a search needs them.
        self._places = understanding.index_places(index, ontology, tuple(ontology.node_names))
        self._places.prime()

    # --- public ---------------------------------------------------------------------------------

    def search(
        self,
        text: str,
        *,
        types: Sequence[str] = ("Person",),
        filters: dict[str, list[str]] | None = None,
        facets: Sequence[str] | None = None,
        first: int = 20,
        after: str | None = None,
        visibility: Visibility | None = None,
        highlights: bool = True,
        explanations: bool = True,
    ) -> SearchResults:
        """Ranked hits for ``text`` among ``types``; ``facets=None`` counts the default facets.

        ``visibility`` (None: everything but SENSITIVE, which is never indexed) limits what the caller
        may match, filter, count and see. ``highlights``/``explanations``: False leaves them empty
        (a GraphQL selection that does not ask for them), so the hits' values are never scanned."""
        types = self._types(types)
        vis = visibility
        if vis is not None:
            hidden = [t for t in types if t not in vis.types]
            if hidden:
                raise ForbiddenError(f"Your role may not search {', '.join(hidden)} rows.",
                                     hint="Search the other types, or count with facets on an allowed search.")
        if not isinstance(first, int) or first < 0 or first > self.max_page_size:
            raise BadQueryError(f"first={first!r} is out of range.",
                                hint=f"Ask for 0 to {self.max_page_size} hits per page and page with 'after'.")
        offset = decode_cursor(after) if after is not None else 0
        check_window(offset, first, self.index.capabilities.max_result_window)
        if len(text or "") > MAX_QUERY_CHARS:
            raise BadQueryError(f"The search text has {len(text)} characters.",
                                hint=f"Search with at most {MAX_QUERY_CHARS} characters: a few names, skills or languages.")
        plan = self._cached_plan(text or "", types, vis)
        filter_query = self.filter_query(filters or {}, types, vis)
        wanted = self._facet_names(facets, types, vis)
        raw = self.index.search(
            plan.query,
            filters=filter_query,
            facets=[self._facets[n].name for n in wanted],
            limit=first,
            offset=offset,
            facet_size=FACET_SIZE,
        )
        all_name, all_text = Needles(), Needles()
        if highlights:
            for n in plan.name_needles:
                all_name.update(n)
            for n in plan.text_needles:
                all_text.update(n)
        views: dict[tuple[str, bool], _RowView] = {}
        hits = [self._hit(h, plan, vis, (all_name, all_text) if highlights else None, explanations, views)
                for h in raw.hits]
        counted: dict[str, list[tuple[str, int | None]]] = {
            n: list(raw.facets.get(self._facets[n].name, [])) for n in wanted}
        if vis is not None:
            for name, pairs in counted.items():
                if self._count_rule(name, types, vis) != "exact":
                    counted[name] = [(v, _suppress(c, vis.k)) for v, c in pairs]
        end = offset + len(hits)
        return SearchResults(
            hits=hits,
            total=raw.total,
            facets=self._label_facets(counted),
            end_cursor=encode_cursor(end) if hits else after,
            has_next_page=end < raw.total,
        )

    def default_facets(self, types: Sequence[str], vis: Visibility | None = None) -> list[str]:
        """Facets shown when none are asked for: every facet of the types except personal data."""
        key = (tuple(types), None if vis is None else tuple(sorted(vis.count.items())))
        return list(self._defaults.get_or_make(key, lambda: self._default_facets(types, vis)))

    def _default_facets(self, types: Sequence[str], vis: Visibility | None) -> tuple[str, ...]:
        out = []
        for name, f in self._facets.items():
            if not self._applies(f, types):
                continue
            if vis is not None and self._count_rule(name, types, vis) != "exact":
                continue
            props = [self.ontology.node(t).prop(name) for t in f.types if t in types and self.ontology.node(t).has(name)]
            if any(p.sensitivity is not Sensitivity.PUBLIC for p in props):
                continue
            out.append(name)
        return tuple(out)

    # --- query building -------------------------------------------------------------------------

    def _cached_plan(self, text: str, types: Sequence[str], vis: Visibility | None) -> Plan:
        """``plan``, kept for repeated (text, types, visibility) until the vocabularies or the place names
        change. Cached plans are shared: nothing downstream may change them (``held_terms`` is filled in once)."""
        vocabs = load_vocabularies()  # the same object until the vocabulary overlay changes
        places = self._places.current()  # the same object until an area is added, renamed or removed
        if vocabs is not self._plans_vocabs or places is not self._plans_places:
            self._plans.clear()
            self._plans_vocabs, self._plans_places = vocabs, places
        key = (text, tuple(types), _vis_key(vis))
        try:
            hash(key)
        except TypeError:  # a scope query built with a list: plan without caching
            return self.plan(text, types, vis)
        return self._plans.get_or_make(key, lambda: self.plan(text, types, vis))

    def plan(self, text: str, types: Sequence[str], vis: Visibility | None = None) -> Plan:
        fields = [f for f in self._analysed if self._applies(f, types)]
        # Yes/no facets a query word can name ("志愿者": volunteer), by property; and the place fields a
        # place name stands for ("玉兰香苑": residential_area), matched like them.
        flags = {f.property: f for f in self._facets.values() if f.values == "bool" and self._applies(f, types)}
        levels = understanding.place_fields(self.ontology, types)
        flags.update({n: self._facets[n] for n in levels.values()
                      if n in self._facets and self._applies(self._facets[n], types)})
        scoped: set[str] = set()
        if vis is not None:
            # A field the caller may not read is not matched at all: a match would be an oracle.
            grants = {f.name: self._read_grant(f.property, f.types, types, vis) for f in fields}
            fields = [f for f in fields if grants[f.name] is not None]
            scoped = {name for name, g in grants.items() if g == "in_scope"}
            flag_grants = {f.name: self._read_grant(f.property, f.types, types, vis) for f in flags.values()}
            flags = {p: f for p, f in flags.items() if flag_grants[f.name] is not None}
            scoped |= {name for name, g in flag_grants.items() if g == "in_scope"}
        reading = understanding.interpret(text, ontology=self.ontology, types=types, places=self._places,
                                          place_field={lvl: n for lvl, n in levels.items() if n in flags})
        plan = Plan(segments=reading.segments, query=MatchAll())
        musts: list[Query] = []
        optional: list[Query] = []
        for unit in reading.units:
            seg = unit.segment
            if seg.kind == "concept":
                q, name_n, text_n = self._concept(seg, fields, types, flags)
                if seg.parts:
                    # Read across a typed space: the joined concept, or every piece in its own field.
                    pieces = [self._concept(part, fields, types, flags) for part in seg.parts]
                    q = Bool(should=(q, Bool(must=tuple(x[0] for x in pieces))))
                    for _q, part_name, part_text in pieces:
                        name_n.update(part_name)
                        text_n.update(part_text)
            else:
                q, name_n, text_n = self._word(seg, fields)
            # Required concepts and words must match; an optional one (a word beside concepts, a verb
            # form) only ranks what it matches first.
            if unit.required:
                musts.append(q)
            else:
                optional.append(Bool(should=(q,), boost=BOOST_OPTIONAL))
            plan.name_needles.append(name_n)
            plan.text_needles.append(text_n)
        if musts or optional:
            if scoped and vis is not None and vis.scope is not None:
                musts = [_guard(q, scoped, vis.scope) for q in musts]
                optional = [_guard(q, scoped, vis.scope) for q in optional]
            plan.query = Bool(must=tuple(musts), should=tuple(optional))
            whole = understanding.whole_name([f.name for f in fields if f.kind is FieldKind.NAME], reading,
                                             BOOST_NAME, BOOST_FUZZY)
            if whole is not None:
                # A name look-up in Latin letters: its words, or the whole name as one spelling, exact or
                # within a few edits (Chang Eun-ji finds Jang Eunji); each word still ranks.
                if scoped and vis is not None and vis.scope is not None:
                    whole = _guard(whole, scoped, vis.scope)
                plan.query = Bool(must=(Bool(should=(Bool(must=tuple(musts)), whole)),),
                                  should=tuple(Bool(should=(q,), boost=BOOST_OPTIONAL) for q in musts))
        return plan

    def _concept(self, seg: Segment, fields: list[SearchField], types: Sequence[str],
                 flags: Mapping[str, SearchField]) -> tuple[Query, Needles, Needles]:
        """A concept is *held* (its ids in keyword fields, a yes/no facet, a place) or *mentioned* (a
        label in free text or names); holding scores a constant well above any mention."""
        readable = {f.name for f in fields}
        held: dict[str, list[str]] = {}
        implied: dict[str, list[str]] = {}  # held through another term (translation.ru speaks ru): ranked lower
        for into, pairs in ((held, seg.terms), (implied, [(e.field, e.term_id) for e in seg.implied])):
            for f, tid in pairs:
                if f in readable:
                    into.setdefault(f, []).append(analysis.keyword_token(tid))
                elif f in flags:
                    into.setdefault(flags[f].name, []).append(tid)
        mention: list[Query] = []
        text_needles = Needles()
        if any(f in self._facets and self._facets[f].values != "vocabulary" for f, _tid in seg.terms):
            # A yes/no facet ("志愿者" → volunteer: true) or a place, matched where readable; the word
            # itself still matches free text ("周末参加社区志愿者活动").
            mention += self._text_clauses(seg.text, fields)
            if seg.cjk:
                text_needles.cjk.add(seg.text)
            else:
                text_needles.words.update(_forms(seg.text))
        # The labels of the terms the text names (a misspelling or pinyin: of the label it was read as).
        said = [seg.text] + [e.label for e in seg.expansions if e.label != seg.text]
        fields_of = {f for f, _tid in seg.terms}
        direct = [(f, t) for label in dict.fromkeys(said)
                  for f, t in synonyms.lookup(label, ontology=self.ontology, types=types) if f in fields_of]
        labels = list(dict.fromkeys(lbl for _f, t in direct for lbl in _labels(t)))
        for label in labels:
            norm = analysis.normalize(label)
            mention += self._text_clauses(norm, fields)
            if analysis.has_cjk(norm):
                text_needles.cjk.add(norm)
            else:
                text_needles.words.add(norm)
        # A label can also be a name ("Dan" is a Danish synonym and a first name).
        name_clauses, name_needles = self._name_clauses(seg, fields, homophones=False)
        mention += name_clauses
        should: list[Query] = []
        if held or implied:
            owned: list[Query] = [Terms(f, tuple(dict.fromkeys(v))) for f, v in held.items()]
            if implied:
                owned.append(Bool(should=tuple(Terms(f, tuple(dict.fromkeys(v))) for f, v in implied.items()),
                                  boost=BOOST_IMPLIED))
            should.append(Bool(should=tuple(owned), boost=BOOST_HELD))
        if mention:
            should.append(Bool(should=tuple(_dedupe(mention)), boost=BOOST_MENTION))
        return Bool(should=tuple(should)), name_needles, text_needles

    def _word(self, seg: Segment, fields: list[SearchField]) -> tuple[Query, Needles, Needles]:
        should: list[Query] = []
        name_clauses, name_needles = self._name_clauses(seg, fields, homophones=True)
        should += name_clauses
        if not seg.cjk:  # a romanised long vowel written short (いとう, Itou: Ito)
            for form in understanding.long_vowel_forms(seg.text):
                name_needles.words.add(form)
                should += [Term(f.name, form, BOOST_NAME) for f in fields if f.kind is FieldKind.NAME]
            # A Korean surname in another romanisation (Chang: 장, indexed as jang) is the same name.
            for form in understanding.romanisation_forms(seg.text):
                name_needles.words.add(form)
                should += [Term(f.name, form, BOOST_NAME) for f in fields if f.kind is FieldKind.NAME]
        for hangul in understanding.hangul_readings(seg.text) if seg.cjk else []:
            # A Korean name in Hanja (韓惠珍) is the same name in Hangul (한혜진), as written (its Latin
            # reading would find Chinese names), ranked as a homophone.
            name_needles.words.add(hangul)
            should += [Term(f.name, hangul, BOOST_HOMOPHONE) for f in fields if f.kind is FieldKind.NAME]
        should += self._text_clauses(seg.text, fields)
        text_needles = Needles()
        if seg.cjk:
            text_needles.cjk.add(seg.text)
            text_needles.cjk.update(analysis.cjk_pairs(seg.text))
        else:
            text_needles.words.update(_forms(seg.text))
            for f in fields:
                if f.kind is FieldKind.KEYWORD and not f.vocabularies:
                    should.append(Term(f.name, analysis.keyword_token(seg.text), BOOST_KEYWORD))
            if _fuzzy_ok(seg.text):
                text_needles.fuzzy.add(seg.text)
                name_needles.fuzzy.add(seg.text)
                for f in fields:
                    if f.kind in (FieldKind.NAME, FieldKind.TEXT):
                        should.append(Fuzzy(f.name, seg.text, 1, 1, BOOST_FUZZY))
        return Bool(should=tuple(_dedupe(should))), name_needles, text_needles

    def _name_clauses(self, seg: Segment, fields: list[SearchField], *, homophones: bool) -> tuple[list[Query], Needles]:
        names = [f.name for f in fields if f.kind is FieldKind.NAME]
        needles = Needles()
        out: list[Query] = []
        if seg.cjk:
            pairs = analysis.cjk_pairs(seg.text)
            needles.cjk.add(seg.text)
            needles.cjk.update(pairs)
            out += [_all(n, pairs, BOOST_NAME) for n in names]
            if homophones and len(seg.text) > 1:
                spelled = "".join(analysis.pinyin_syllables(seg.text, surname=True))
                if spelled.isascii() and spelled:
                    needles.pinyin.add(spelled)
                    out += [_all(n, analysis.fit(spelled), BOOST_HOMOPHONE) for n in names]
        else:
            needles.words.update(_forms(seg.text))
            needles.pinyin.update(analysis.words(seg.text))
            for variant in _variants(seg.text):
                out += [_all(n, variant, BOOST_NAME) for n in names]
        return out, needles

    def _text_clauses(self, text: str, fields: list[SearchField]) -> list[Query]:
        out: list[Query] = []
        tokens = analysis.analyze_text(text)
        variants = [tokens] if analysis.has_cjk(text) else _variants(text)
        pairs = analysis.analyze_bigrams(text)
        for f in fields:
            if f.kind is FieldKind.TEXT:
                out += [_all(f.name, v, BOOST_TEXT) for v in variants if v]
            elif f.kind is FieldKind.BIGRAM and pairs:
                out.append(_all(f.name, pairs, BOOST_BIGRAM))
        return out

    # --- filters and facets ---------------------------------------------------------------------

    def filter_query(self, filters: dict[str, list[str]], types: Sequence[str], vis: Visibility | None = None) -> Query:
        parts: list[Query] = [Terms(TYPE_FIELD, tuple(types))]
        if not isinstance(filters, dict):
            raise BadQueryError(f"filters is {filters!r}.", hint='Pass a mapping like {"languages": ["俄语"]}.')
        for name, values in filters.items():
            f = self._facet(name, types)
            grant = self._read_grant(f.property, f.types, types, vis) if vis is not None else "always"
            if grant is None:
                raise ForbiddenError(f"Your role may not filter on {f.property}: a filter would reveal the values.",
                                     hint="Count it as a facet instead, or filter on a field your role reads.")
            if isinstance(values, (str, bool, int)):
                values = [values]
            canon = tuple(dict.fromkeys(c for v in values for c in self._canonical(f, v)))
            if canon:
                term: Query = Terms(f.name, canon)
                if grant == "in_scope" and vis is not None:
                    # Rows outside the caller's areas never match a filter on a value hidden there.
                    term = Bool(filter=(vis.scope if vis.scope is not None else Terms(ID_FIELD, ()), term))
                parts.append(term)
        return Bool(filter=tuple(parts))

    # --- visibility -----------------------------------------------------------------------------

    def _read_grant(self, prop: str, field_types: Sequence[str], types: Sequence[str],
                    vis: Visibility | None) -> str | None:
        """The weakest grant over the searched types that carry ``prop``: None (never), in_scope, always."""
        if vis is None:
            return "always"
        carriers = [t for t in types if not field_types or t in field_types]
        grants = [vis.read.get((t, prop)) for t in carriers]
        if not grants or any(g is None for g in grants):
            return None
        return "in_scope" if "in_scope" in grants else "always"

    def _count_rule(self, name: str, types: Sequence[str], vis: Visibility) -> str | None:
        f = self._facets[name]
        rules = [vis.count.get((t, f.property)) for t in types if not f.types or t in f.types]
        if not rules or any(r is None for r in rules):
            return None
        return "suppressed" if "suppressed" in rules else "exact"

    @staticmethod
    def _sees(type_name: str, src: dict[str, Any], vis: Visibility | None) -> Callable[[str], bool]:
        """Whether the caller reads a property on this row: an "in_scope" grant holds when one of the
        row's stored place ids is in the caller's areas (tested once per row)."""
        if vis is None:
            return lambda prop: True
        read = vis.read
        inside = _in_areas(src, vis)

        def sees(prop: str) -> bool:
            grant = read.get((type_name, prop))
            return grant == "always" or (inside and grant == "in_scope")

        return sees

    def _row_view(self, type_name: str, src: dict[str, Any], vis: Visibility | None,
                  views: dict[tuple[str, bool], _RowView]) -> _RowView:
        """What the caller reads on this row (as ``_sees`` says), worked out once per request for
        each (type, whether the row is in the caller's areas) and kept in ``views``."""
        inside = vis is not None and _in_areas(src, vis)
        view = views.get((type_name, inside))
        if view is None:
            sees: Callable[[str], bool] = lambda prop: True
            if vis is not None:
                sees = frozenset(prop for (t, prop), grant in vis.read.items()
                                 if t == type_name and (grant == "always" or (inside and grant == "in_scope"))).__contains__
            text_props = {k: v for k, v in self._text_props(type_name).items() if sees(k)}
            view = views[(type_name, inside)] = _RowView(sees, text_props)
        return view

    def _facet(self, name: str, types: Sequence[str]) -> SearchField:
        f = self._facets.get(name)
        if f is None or not self._applies(f, types):
            valid = [n for n, g in self._facets.items() if self._applies(g, types)]
            raise BadQueryError(
                f"{name!r} is not a facet of {', '.join(types)}.",
                hint=f"Valid facets: {', '.join(valid)}.",
            )
        return f

    def _canonical(self, f: SearchField, value: object) -> list[str]:
        """Index values a filter value stands for; a broad skill also stands for its specialisms."""
        if f.values == "bool":
            text = str(value).strip().casefold() if not isinstance(value, bool) else ("true" if value else "false")
            if text in _TRUE:
                return ["true"]
            if text in _FALSE:
                return ["false"]
            raise BadQueryError(f"Filter {f.property}: {value!r} is not a yes/no value.",
                                hint="Use true or false (also yes/no, 是/否).")
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise BadQueryError(f"Filter {f.property}: {value!r} is not a string.", hint="Pass strings.")
        text = str(value).strip()
        if f.values == "vocabulary":
            vocabs = load_vocabularies()
            for vname in f.vocabularies:
                term = vocabs[vname].lookup(text)
                if term is not None:
                    return vocabs[vname].expand(term.id)
            sample = [f"{t.id} ({t.zh}/{t.en})" for vname in f.vocabularies for t in list(vocabs[vname])[:12]]
            close = [f"{lbl!r} ({t.id})" for vname in f.vocabularies for lbl, t in vocabs[vname].suggest(text)]
            raise BadQueryError(
                f"Filter {f.property}: {value!r} is not in the {'/'.join(f.vocabularies)} vocabulary.",
                hint=(f"Did you mean {', '.join(close)}? " if close else "")
                + f"Valid values include: {', '.join(sample)}.",
            )
        if f.values == "node_id":
            try:
                self.ontology.type_of_id(text)
            except OntologyError as exc:
                raise BadQueryError(f"Filter {f.property}: {value!r} is not a node id.", hint=exc.hint) from None
            return [text]
        if f.values == "int":
            if not text.lstrip("-").isdigit():
                raise BadQueryError(f"Filter {f.property}: {value!r} is not a whole number.", hint="Use digits, e.g. 2024.")
            return [str(int(text))]
        return [text]

    def _facet_names(self, facets: Sequence[str] | None, types: Sequence[str], vis: Visibility | None = None) -> list[str]:
        if facets is None:
            return self.default_facets(types, vis)
        if isinstance(facets, str):
            facets = [facets]
        names = [self._facet(n, types).property for n in dict.fromkeys(facets)]
        for n in names:
            if vis is not None and self._count_rule(n, types, vis) is None:
                raise ForbiddenError(f"Your role may not count {n}.",
                                     hint="Ask for facets your role may count, or leave `facets` out for the defaults.")
        return names

    def _label_facets(self, counted: dict[str, list[tuple[str, int | None]]]) -> dict[str, list[FacetValue]]:
        node_ids = sorted({v for n, pairs in counted.items() if self._facets[n].values == "node_id" for v, _ in pairs})
        titles = self._titles(node_ids)
        vocabs = load_vocabularies()
        if vocabs is not self._labels_vocabs:
            self._labels.clear()
            self._labels_vocabs = vocabs
        out: dict[str, list[FacetValue]] = {}
        for name, pairs in counted.items():
            f = self._facets[name]
            values: list[FacetValue] = []
            for value, count in pairs:
                zh = en = value
                if f.values == "vocabulary":
                    zh, en = self._labels.get_or_make(
                        (name, value), lambda: _term_labels(vocabs, f.vocabularies, value))
                elif f.values == "bool":
                    zh, en = _BOOL_LABELS.get(value, (value, value))
                elif f.values == "node_id":
                    zh, en = titles.get(value, (value, value))
                values.append(FacetValue(value, zh, en, count))
            out[name] = values
        return out

    def _titles(self, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """Display names of facet values that are node ids, read from the index itself; kept for
        ``TITLE_TTL_S``, so a page of facets costs a search only when a value is new or stale."""
        out: dict[str, tuple[str, str]] = {}
        now = time.monotonic()
        missing: list[str] = []
        for i in ids:
            cached = self._titles_cache.get(i)
            if cached is not None and now - cached[0] < TITLE_TTL_S:
                if cached[1] is not None:
                    out[i] = cached[1]
            else:
                missing.append(i)
        if not missing:
            return out
        raw = self.index.search(MatchAll(), filters=Terms(ID_FIELD, tuple(missing)), facets=(),
                                limit=len(missing), offset=0)
        found: dict[str, tuple[str, str]] = {}
        for h in raw.hits:
            src = source_of(h.stored)
            title = self._title(h, src)
            found[h.id] = (title, str(src.get(self._latin_title(h) or "") or title))
        for i in missing:
            self._titles_cache.put(i, (now, found.get(i)))
        out.update(found)
        return out

    # --- hits -----------------------------------------------------------------------------------

    def _hit(self, raw: RawHit, plan: Plan, vis: Visibility | None = None,
             needles: tuple[Needles, Needles] | None = None, explain: bool = True,
             views: dict[tuple[str, bool], _RowView] | None = None) -> SearchHit:
        """One hit with its title; highlights with ``needles`` (every segment's name and text
        needles, merged), explanations when ``explain``. ``views``: what one request has worked out
        of the visibility per (type, in scope), shared by its hits.

        With both, each text is scanned once per segment: a segment's spans explain it, and the
        union of every segment's spans is the highlight (the merged needles would find the same)."""
        src = source_of(raw.stored)
        type_name = str(raw.stored.get(TYPE_FIELD) or "")
        highlights: dict[str, list[str]] = {}
        explanations: list[str] = []
        if needles is None and not explain:
            return SearchHit(id=raw.id, type=type_name, score=raw.score, title=self._title(raw, src),
                             highlights=highlights, explanations=explanations)
        view = self._row_view(type_name, src, vis, {} if views is None else views)
        sees = view.sees
        # Highlights and explanations only from values the caller may read on this row.
        text_props = view.text_props
        # A cluster's document (entity resolution) also holds its other records' values (``_also``).
        also = {k: v for k, v in _also(src).items() if sees(k)}
        # Only the properties this row has: most of a type's text properties are empty on most rows.
        text_props = {k: v for k, v in text_props.items() if k in src or k in also}
        texts = {prop: [v for v in ([src[prop]] if isinstance(src.get(prop), str) else []) + also.get(prop, [])
                        if isinstance(v, str)] for prop in text_props}
        seg_spans: list[dict[str, list[list[tuple[int, int]]]]] = []
        if explain:
            shown = {k: v for k, v in src.items() if k != ALSO_FIELD and sees(k)}
            held_terms = self._held_terms(plan)
            for i, seg in enumerate(plan.segments):
                seg_spans.append(self._spans(texts, text_props, plan, i))
                explanations += self._explain(seg, held_terms[i], shown, also, text_props, seg_spans[i])
        if needles is not None:
            name_needles, text_needles = needles
            for prop, (kind, personal) in text_props.items():
                wanted = name_needles if kind is FieldKind.NAME else text_needles
                frags: list[str] = []
                for j, text in enumerate(texts[prop]):
                    spans = merge_spans(x for s in seg_spans for x in s[prop][j]) if explain else None
                    frags += highlight(text, wanted, surname=personal, spans=spans)
                if frags:
                    highlights[prop] = list(dict.fromkeys(frags))
        return SearchHit(
            id=raw.id,
            type=type_name,
            score=raw.score,
            title=self._title(raw, src),
            highlights=highlights,
            explanations=list(dict.fromkeys(explanations)),
        )

    def _spans(self, texts: Mapping[str, list[str]], text_props: Mapping[str, tuple[FieldKind, bool]],
               plan: Plan, i: int) -> dict[str, list[list[tuple[int, int]]]]:
        """Per text property, what segment ``i``'s needles mark in each of its texts. Kept for recent texts
        (callers do not change the lists): a pure function of needles, text and surname flag, and texts recur —
        an occupation, a skill written freely — among one search's hits and the pages after it. Keyed by the
        needles' identity; the entry holds them, so their id is not reused while it is kept."""
        out: dict[str, list[list[tuple[int, int]]]] = {}
        name_needles, text_needles, cache = plan.name_needles[i], plan.text_needles[i], self._marks
        for prop, (kind, personal) in text_props.items():
            needles = name_needles if kind is FieldKind.NAME else text_needles
            if not needles:
                out[prop] = [[] for _t in texts[prop]]
                continue
            found = []
            for t in texts[prop]:
                key = (id(needles), t, personal)
                kept = cache.get(key)
                if kept is not None and kept[0] is needles:
                    spans = kept[1]
                else:
                    spans = find_spans(t, needles, surname=personal)
                    cache.put(key, (needles, spans))
                found.append(spans)
            out[prop] = found
        return out

    def _held_terms(self, plan: Plan) -> list[tuple[tuple[str, str, str], ...]]:
        """``plan.held_terms``, worked out on first use (a plan is rebuilt when the vocabularies change,
        so its labels hold as long as it does)."""
        if plan.held_terms is None:
            out = []
            for seg in plan.segments:
                items = []
                for said, field_name, term_id in [(s.text, *t) for s in (seg, *seg.parts)
                                                  for t in s.terms + [(e.field, e.term_id) for e in s.implied]]:
                    term = synonyms.term_of(field_name, term_id, ontology=self.ontology)
                    label = f" ({term.zh} / {term.en})" if term is not None else ""
                    items.append((field_name, term_id, f"{said} ← {field_name}: {term_id}{label}"))
                out.append(tuple(items))
            plan.held_terms = out
        return plan.held_terms

    def _explain(
        self, seg: Segment, held_terms: Sequence[tuple[str, str, str]], src: dict[str, Any],
        also: Mapping[str, list[Any]], text_props: dict[str, tuple[FieldKind, bool]],
        spans: Mapping[str, list[list[tuple[int, int]]]],
    ) -> list[str]:
        """Why the row matched ``seg``: the terms it holds (``held_terms``, the segment's) in keyword fields,
        and the text properties where ``spans`` (the segment's marks per text, ``_spans``) found something."""
        out: list[str] = []
        held: dict[str, list[Any]] = {}  # a field's values on this row, as term ids spell them
        for field_name, term_id, explained in held_terms:
            values = held.get(field_name)
            if values is None:
                values = held[field_name] = [_flag_text(v) for v in _as_list(src.get(field_name))
                                             + also.get(field_name, [])]
            if term_id in values:
                out.append(explained)
        for prop in text_props:
            if any(spans[prop]):
                out.append(f"{seg.text} ← {prop}")
        if not seg.cjk:
            token = analysis.keyword_token(seg.text)
            for f in self._codes:
                if any(
                    analysis.keyword_token(str(v)) == token
                    for v in _as_list(src.get(f.property)) + also.get(f.property, [])
                ):
                    out.append(f"{seg.text} ← {f.property}")
        return out

    def _text_props(self, type_name: str) -> dict[str, tuple[FieldKind, bool]]:
        """Name and free-text properties of a type: kind, and whether it is a personal name (read
        once per type; callers do not change the dict)."""
        out = self._text_props_of.get(type_name)
        if out is None:
            out = self._text_props_of[type_name] = self._read_text_props(type_name)
        return out

    def _read_text_props(self, type_name: str) -> dict[str, tuple[FieldKind, bool]]:
        try:
            nt = self.ontology.node(type_name)
        except OntologyError:
            return {}
        out: dict[str, tuple[FieldKind, bool]] = {}
        for p in nt.properties:
            if p.sensitivity is Sensitivity.SENSITIVE or p.searchable is None:
                continue
            if p.searchable.value in ("name", "text"):
                kind = FieldKind.NAME if p.searchable.value == "name" else FieldKind.TEXT
                out[p.name] = (kind, p.sensitivity is Sensitivity.NAME)
        return out

    def _latin_title(self, raw: RawHit) -> str | None:
        """The property holding the hit's name in Latin script (``NodeType.latin_title``), if its type has one."""
        try:
            return self.ontology.node(str(raw.stored.get(TYPE_FIELD) or "")).latin_title
        except OntologyError:
            return None

    def _title(self, raw: RawHit, src: dict[str, Any]) -> str:
        try:
            prop = self.ontology.node(str(raw.stored.get(TYPE_FIELD) or "")).title
        except OntologyError:
            return raw.id
        return str(src.get(prop) or raw.id)

    # --- helpers --------------------------------------------------------------------------------

    def _types(self, types: Sequence[str] | str) -> list[str]:
        if isinstance(types, str):
            types = [types]
        if not types:
            raise BadQueryError("types is empty.", hint=f"Search one or more of: {', '.join(self.ontology.node_names)}.")
        out = []
        for t in types:
            if t not in self.ontology.node_names:
                raise BadQueryError(f"Unknown node type {t!r}.", hint=f"Known types: {', '.join(self.ontology.node_names)}.")
            out.append(t)
        return list(dict.fromkeys(out))

    @staticmethod
    def _applies(f: SearchField, types: Sequence[str]) -> bool:
        return not f.types or any(t in f.types for t in types)


def _also(src: dict[str, Any]) -> dict[str, list[Any]]:
    """A cluster document's other records' scalar values per property (``mapping.build_doc``)."""
    raw = src.get(ALSO_FIELD)
    if not isinstance(raw, dict):
        return {}
    return {str(k): _as_list(v) for k, v in raw.items()}


def _in_areas(src: dict[str, Any], vis: Visibility) -> bool:
    """Whether one of the row's stored place ids is in the caller's areas (none: a caller without areas)."""
    return bool(vis.places) and any(v in vis.places for d in vis.place_fields for v in _as_list(src.get(d)))


def _flag_text(value: Any) -> Any:
    """A stored yes/no value as a flag concept's term id spells it (True → "true")."""
    return ("true" if value else "false") if isinstance(value, bool) else value


def _vis_key(vis: Visibility | None) -> tuple[Any, ...] | None:
    """What of a visibility a plan depends on: the read grants and the scope query."""
    if vis is None:
        return None
    return (tuple(sorted(vis.read.items())), vis.scope)


def _term_labels(vocabs: Mapping[str, Any], names: Sequence[str], value: str) -> tuple[str, str]:
    """(zh, en) of a vocabulary facet value: the first of ``names`` that holds it, else the value."""
    term = next((vocabs[v].terms[value] for v in names if value in vocabs[v]), None)
    return (term.zh, term.en) if term is not None else (value, value)


def _suppress(count: int | None, k: int) -> int | None:
    return count if count is None or count >= k or count == 0 else None


def _fields_of(q: Query) -> set[str]:
    if isinstance(q, Bool):
        return set().union(*(_fields_of(x) for x in (*q.must, *q.should, *q.must_not, *q.filter)))
    if isinstance(q, (Term, Terms, Fuzzy)):
        return {q.field}
    return set()


def _guard(q: Query, scoped: set[str], scope: Query) -> Query:
    """Clauses that match only in-scope fields also require the row to be in scope.

    Sibling clauses that are all in-scope share one guard (``a ∧ S`` and ``b ∧ S`` as ``(a ∧ b) ∧ S``
    among musts, ``(a ∨ b) ∧ S`` among shoulds): the same rows match with the same score, and the
    engine evaluates the scope once per bool instead of once per clause (a staff search on "俄语 律师"
    guards ~60 clauses; evaluated one by one they cost Tantivy ~1 ms each at 50k rows)."""
    fields = _fields_of(q)
    if fields and fields <= scoped:
        return Bool(must=(q,), filter=(scope,))
    if isinstance(q, Bool) and fields & scoped:
        must = _guard_group(q.must, scoped, scope, any_of=False)
        # Grouped shoulds count as one toward minimum_should_match: group only when that is at most 1.
        should = (_guard_group(q.should, scoped, scope, any_of=True) if q.minimum_should_match <= 1
                  else tuple(_guard(x, scoped, scope) for x in q.should))
        return Bool(must=must, should=should, must_not=q.must_not, filter=q.filter,
                    minimum_should_match=q.minimum_should_match, boost=q.boost)
    return q


def _guard_group(clauses: tuple[Query, ...], scoped: set[str], scope: Query, *, any_of: bool) -> tuple[Query, ...]:
    """``clauses`` guarded, the wholly in-scope ones in one bool behind one scope filter, placed where
    the first of them stood."""
    inside = [i for i, x in enumerate(clauses) if (f := _fields_of(x)) and f <= scoped]
    if len(inside) < 2:
        return tuple(_guard(x, scoped, scope) for x in clauses)
    grouped = tuple(clauses[i] for i in inside)
    # minimum_should_match=1: beside a filter, shoulds would otherwise be optional (query.Bool).
    group = (Bool(should=grouped, filter=(scope,), minimum_should_match=1) if any_of
             else Bool(must=grouped, filter=(scope,)))
    return tuple(group if i == inside[0] else _guard(x, scoped, scope)
                 for i, x in enumerate(clauses) if i == inside[0] or i not in inside)


def _labels(term: VocabTerm) -> list[str]:
    # Dotted ids (law.litigation) are codes, not words anyone writes in a profile.
    return [lbl for lbl in term.labels if not (lbl == term.id and "." in lbl)]


def _variants(word: str) -> list[list[str]]:
    """Token lists, any of which spells a non-CJK word the way analysis indexed it: its parts
    together, the parts joined, and the same for the plain-Latin (diacritic-free or
    transliterated) reading."""
    out: list[list[str]] = []
    for w in analysis.words(analysis.normalize(word)):
        parts = analysis.word_parts(w)
        latin = (
            [analysis.strip_diacritics(p) for p in parts]
            if analysis.is_latin_word("".join(parts))
            else analysis.transliterate(w)
        )
        for spelling in (parts, latin):
            if spelling:
                out.append(spelling)
                if len(spelling) > 1:
                    out.append(["".join(spelling)])
    unique = dict.fromkeys(tuple(t for x in v for t in analysis.fit(x)) for v in out)
    return [list(v) for v in unique if v]


def _forms(text: str) -> set[str]:
    out: set[str] = set()
    for w in analysis.words(analysis.normalize(text)):
        out.update(analysis.analyze_name(w, surname=False))
    return out


def _fuzzy_ok(word: str) -> bool:
    return len(word) >= FUZZY_MIN_CHARS and word.isascii() and word.isalpha()


def _all(field_name: str, tokens: Sequence[str], boost: float) -> Query:
    tokens = list(dict.fromkeys(tokens))
    if len(tokens) == 1:
        return Term(field_name, tokens[0], boost)
    return Bool(must=tuple(Term(field_name, t) for t in tokens), boost=boost)


def _dedupe(items: Iterable[Query]) -> list[Query]:
    return list(dict.fromkeys(items))


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


__all__ = ["FacetValue", "Plan", "SearchHit", "SearchResults", "SearchService", "check_window", "decode_cursor",
           "encode_cursor"]
