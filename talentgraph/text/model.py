"""The shapes text-to-graph passes between its stages (reader → pipeline → linking → store)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

LinkMethod = Literal["exact", "alias", "normalised", "pinyin", "form", "model"]


@dataclass(frozen=True)
class DocumentText:
    """What a reader got out of one file."""

    path: str  # as given (used as the document's source)
    title: str
    text: str  # plain text; every span below indexes into it
    language: str  # ISO 639-1 ("zh", "en")
    published: str | None = None  # ISO date when the file states one
    doc_kind: str = "other"  # report, news, minutes, case_note, write_up, other
    text_hash: str = ""  # sha256 hex of ``text``


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int


@dataclass(frozen=True)
class Mention:
    """One named entity in the text, typed with an ontology node type."""

    start: int
    end: int
    text: str
    type: str  # ontology node type name (Venue, PartyOrganization, …)
    source: Literal["ruler", "form", "model"]  # gazetteer of graph names, name-form pattern, statistical NER
    node_id: str | None = None  # set by linking when it names an existing node
    candidate_key: str | None = None  # set by linking when it is a new entity: normalised name + type
    score: float = 0.0  # link or recognition confidence 0–1
    method: LinkMethod | None = None
    # Several nodes of the type carry the name: the nodes it may be. node_id is the one the document's context
    # chose, or None (then candidate_key is None too: an ambiguous known name is neither linked nor new).
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True)
class Fact:
    """A number the text states about an entity (2,136 名党员)."""

    measure: str  # party_members, co_building_units, parking_spaces, residents, households, foreign_residents,
    #             volunteers, area_m2, year
    value: float
    unit: str
    approximate: bool
    start: int  # span of the statement in the text
    end: int
    sentence: Sentence
    subject: Mention | None  # the entity it is about (nearest fitting mention), None when none fits


@dataclass
class Extraction:
    document: DocumentText
    sentences: list[Sentence] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    pipeline: str = ""  # version string of the pipeline + model that produced it
