"""The ontology: every node type, relationship type and property, declared once.

Graph DDL (``graph/cypher.py``), GraphQL types (``api/``), the search document mapping
(``search/mapping.py``) and ingest validation (``schema/validation.py``) are all derived from
``ONTOLOGY``. Nothing else may spell a label, relationship type or property name by hand; the
sync test (``tests/unit/test_ontology_sync.py``) adds a property here and checks all four see it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Literal

from talentgraph.errors import OntologyError


class PropType(StrEnum):
    STRING = "string"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    DATE = "date"  # ISO-8601 date string "YYYY-MM-DD"
    STRING_LIST = "string_list"


class Sensitivity(StrEnum):
    """Drives what each role sees (``schema/policy.yaml``): public < name < personal < sensitive.

    - PUBLIC: anything about organisations and places, and non-identifying facts about people;
    - NAME: a person's name: who is who, without details (analysts see it, the platform never);
    - PERSONAL: personal information (PIPL art. 4): contact, birth, education, whereabouts below
      the residential area, political status, free-text profile;
    - SENSITIVE: sensitive personal information (PIPL art. 28): identity documents. Never leaves.
    """

    PUBLIC = "public"
    NAME = "name"
    PERSONAL = "personal"
    SENSITIVE = "sensitive"


class SearchKind(StrEnum):
    """How a property is analysed for full-text search (see ``search/analysis.py``)."""

    NAME = "name"  # person/org names: CJK chars + bigrams, pinyin, transliteration
    TEXT = "text"  # free text: jieba segmentation + CJK bigram shadow
    KEYWORD = "keyword"  # exact codes (skill ids, language codes), expanded with vocabulary labels


@dataclass(frozen=True)
class Property:
    name: str
    type: PropType
    description: str
    required: bool = False
    searchable: SearchKind | None = None
    facet: bool = False
    sensitivity: Sensitivity = Sensitivity.PUBLIC
    vocabulary: str | None = None  # name of a vocabulary in schema/vocab/ the value must come from
    validator: str | None = None  # name of a validator in schema/validators.py
    sortable: bool = False
    # Open vocabulary: a value the vocabulary lacks goes, as written, to this string_list property
    # (searchable text, same sensitivity) instead of rejecting the row. None: strict (quarantine).
    unreviewed: str | None = None
    # Where levels parsed from qualifiers go ('汉语(HSK4)' → languages zh + language_levels 'zh:B2').
    levels_into: str | None = None
    # Filled with the year of this date property when a row gives the date but not this value.
    year_of: str | None = None
    # The measure a document's numeric fact states for this register property (``text/facts.py``
    # measures: households, residents, parking_spaces …): the fact records what the graph holds and
    # whether it disagrees (``text/store.py``), and never writes over it.
    measure: str | None = None


@dataclass(frozen=True)
class NodeType:
    name: str
    id_prefix: str
    label_zh: str
    description: str
    properties: tuple[Property, ...]
    title: str = "name"  # property shown as the node's display name
    latin_title: str | None = None  # property holding that name in Latin script (a passport or English name)
    # The endings this type's names take in running text (党支部, 广场, 有限公司, "Volunteer Team"): text-to-graph
    # recognises a name no register has yet by its form (``text/patterns.py``). Longest first is not required.
    name_suffixes: tuple[str, ...] = ()

    def prop(self, name: str) -> Property:
        for p in self.properties:
            if p.name == name:
                return p
        raise OntologyError(
            f"{self.name} has no property {name!r}.",
            hint=f"Known properties: {', '.join(p.name for p in self.properties)}.",
        )

    def has(self, name: str) -> bool:
        return any(p.name == name for p in self.properties)

    def written_with(self, names: Iterable[str]) -> frozenset[str]:
        """``names`` plus what validation fills from them: unreviewed companions, qualifier levels and
        years derived from dates. A source that maps ``languages`` also speaks for
        ``languages_unreviewed``, so a value it no longer gives is withdrawn there too."""
        out = set(names)
        for p in self.properties:
            if p.name in out:
                out.update(n for n in (p.unreviewed, p.levels_into) if n is not None)
            if p.year_of is not None and p.year_of in out:
                out.add(p.name)
        return frozenset(out)


@dataclass(frozen=True)
class RelType:
    name: str
    endpoints: tuple[tuple[str, str], ...]  # (from type, to type) pairs
    description: str
    properties: tuple[Property, ...] = ()
    # Who may traverse it (``schema/policy.yaml``): LIVES_IN tells where a person lives, which is
    # personal even when both ends are visible.
    sensitivity: Sensitivity = Sensitivity.PUBLIC
    # Name of the incoming side in the API (``MENTIONED_IN`` → ``mentionedIn`` on every mentioned type);
    # empty: the relationship's name + ``In`` (``api/naming.py``).
    inverse: str = ""

    @property
    def from_types(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f for f, _ in self.endpoints))

    @property
    def to_types(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for _, t in self.endpoints))

    def allows(self, from_type: str, to_type: str) -> bool:
        return (from_type, to_type) in self.endpoints

    def prop(self, name: str) -> Property:
        for p in self.properties:
            if p.name == name:
                return p
        raise OntologyError(
            f"Relationship {self.name} has no property {name!r}.",
            hint=f"Known properties: {', '.join(p.name for p in self.properties) or '(none)'}.",
        )


@dataclass(frozen=True)
class Hop:
    """One relationship step: ``rel`` followed ``direction`` ("out": from the node) to a ``to`` node."""

    rel: str
    to: str
    direction: Literal["out", "in"] = "out"


@dataclass(frozen=True)
class Linked:
    """A derived field holding the ids of the nodes one ``hop`` away (a person's groups)."""

    hop: Hop


@dataclass(frozen=True)
class Within:
    """The ids of the containers at ``level`` reached by ``hop`` and then up the containment
    relationship ``up`` (child → parent), at most ``len(levels)`` steps; a container's level is its
    ``level_prop`` (a person's building → residential area → community)."""

    hop: Hop
    up: str
    level_prop: str
    level: str
    levels: tuple[str, ...]  # bottom-up


@dataclass(frozen=True)
class Flag:
    """A derived flag: true when the node has any ``linked`` neighbour or its ``prop`` holds one of
    ``values`` (a party member: in a party organisation, or said to be one by a register)."""

    linked: tuple[Hop, ...] = ()
    prop: str | None = None
    values: frozenset[str] = frozenset()


DerivedPath = Linked | Within | Flag


@dataclass(frozen=True)
class DerivedField:
    """A search-only field computed from the graph around a node (e.g. a person's building).

    Declared here so the search mapping, facets and GraphQL facet enum come from one place; the
    search projection (``search/projection.py``) computes each from its ``path``, which the ontology
    checks against its relationship types when it is built: renaming a relationship or a property a
    path goes through fails at import, not silently at the next sync.
    """

    node_type: str
    name: str
    source: str  # e.g. "area:building", "area:residential_area", "party_member", "member_of:PartyOrganization"
    description: str
    facet: bool = True
    sensitivity: Sensitivity = Sensitivity.PUBLIC
    path: DerivedPath | None = None

    @property
    def hops(self) -> tuple[Hop, ...]:
        """The relationship steps out of the node the field needs read."""
        p = self.path
        if isinstance(p, Flag):
            return p.linked
        return (p.hop,) if p is not None else ()


# System properties every node/relationship carries in the graph (never set by a mapping).
_SYSTEM_RECORD_PROPERTIES: tuple[Property, ...] = (
    Property("version", PropType.INT, "Incremented on every change."),
    Property("content_hash", PropType.STRING, "Hash of the ontology properties as shown; an unchanged "
             "relationship is skipped by it (nodes: by their claims, graph/claims.py)."),
    Property("src_job", PropType.STRING, "Id of the ingest job that last wrote this record."),
    Property("src_file", PropType.STRING, "Source file of the last write."),
    Property("src_row", PropType.INT, "Row number (1-based, after the header) in the source file."),
    Property("ingested_at", PropType.STRING, "When the record was first ingested (ISO-8601 UTC)."),
    Property("updated_at", PropType.STRING, "When the record last changed (ISO-8601 UTC)."),
)
SYSTEM_NODE_PROPERTIES: tuple[Property, ...] = (
    *_SYSTEM_RECORD_PROPERTIES,
    # Nodes are written property by property from many registers (graph/claims.py); relationships
    # are still written whole by the one job that maps them, so they have no claims.
    Property("prov", PropType.STRING, "Which source said what, per property (JSON; graph/claims.py)."),
)
SYSTEM_REL_PROPERTIES: tuple[Property, ...] = (
    Property("key", PropType.STRING, "Stable relationship id: from|TYPE|to."),
    *_SYSTEM_RECORD_PROPERTIES,
)

_S, _I, _F, _B, _L = PropType.STRING, PropType.INT, PropType.FLOAT, PropType.BOOL, PropType.STRING_LIST
_NAMED, _PERS, _SENS = Sensitivity.NAME, Sensitivity.PERSONAL, Sensitivity.SENSITIVE
_NAME, _TEXT, _KW = SearchKind.NAME, SearchKind.TEXT, SearchKind.KEYWORD


def _name(desc: str = "Name as written (any script).") -> Property:
    return Property("name", _S, desc, required=True, searchable=_NAME, sortable=True)


def _name_en() -> Property:
    """A place's or organisation's English name (bilingual signage, the foreign-residents station's materials):
    searched as a name, and an alias text-to-graph links English documents by (``text/gazetteer.py``)."""
    return Property("name_en", _S, "English name as bilingual signage and materials write it.", searchable=_NAME,
                    sortable=True)


def _open(prop: Property, what: str) -> tuple[Property, Property]:
    """A vocabulary property and its ``<name>_unreviewed`` companion (same sensitivity, text-searchable).

    The companion keeps values the vocabulary does not have yet out of the id-valued property, so
    facets, filters and search expansion only ever see term ids, while the text stays findable.
    """
    companion = f"{prop.name}_unreviewed"
    return (
        replace(prop, unreviewed=companion),
        Property(companion, _L, f"{what} as written that the {prop.vocabulary} vocabulary does not have yet "
                 "(awaiting review: talentgraph vocab pending).", searchable=_TEXT, sensitivity=prop.sensitivity),
    )


# Geometry properties, named once: a node with them is a map feature (talentgraph/feed/geometry.py).
GEO_LON, GEO_LAT, GEO_OUTLINE = "lon", "lat", "outline"


def _coords() -> tuple[Property, ...]:
    return (
        Property(GEO_LAT, _F, "Latitude, WGS84 (GCJ-02 inputs are converted on ingest).", validator="latitude"),
        Property(GEO_LON, _F, "Longitude, WGS84 (GCJ-02 inputs are converted on ingest).", validator="longitude"),
    )


NODE_TYPES: tuple[NodeType, ...] = (
    NodeType(
        "Person", "per", "人员", "A resident, worker or volunteer of the community.",
        (
            Property("name", _S, "Name as written, in the person's own script.", required=True,
                     searchable=_NAME, sensitivity=_NAMED, sortable=True),
            Property("latin_name", _S, "Latin-script spelling (passport name or pinyin).", searchable=_NAME,
                     sensitivity=_NAMED, sortable=True),
            Property("other_names", _L, "Other names: a foreigner's Chinese name, aliases, former names.",
                     searchable=_NAME, sensitivity=_NAMED),
            Property("gender", _S, "Gender.", facet=True, vocabulary="genders", sensitivity=_PERS),
            Property("birth_year", _I, "Year of birth (from birth_date when only the date is given).",
                     sensitivity=_PERS, sortable=True, year_of="birth_date"),
            Property("birth_date", PropType.DATE, "Date of birth.", validator="date", sensitivity=_PERS),
            Property("registered_on", PropType.DATE, "Date the person was registered in the community.",
                     validator="date", sensitivity=_PERS),
            Property("arrived_on", PropType.DATE, "Date the person arrived in the community.", validator="date",
                     sensitivity=_PERS),
            *_open(Property("nationality", _S, "ISO 3166-1 alpha-2 code.", facet=True, vocabulary="nationalities",
                            searchable=_KW), "Nationality"),
            *_open(Property("languages", _L, "ISO 639-1 codes of languages spoken.", facet=True,
                            vocabulary="languages", searchable=_KW, levels_into="language_levels"), "Languages"),
            Property("language_levels", _L, "Per-language level, 'code:level' (level from the CEFR or 'native').",
                     validator="language_level"),
            *_open(Property("skills", _L, "Skill vocabulary ids.", facet=True, vocabulary="skills", searchable=_KW),
                   "Skills"),
            Property("occupation", _S, "Occupation as written.", searchable=_TEXT),
            *_open(Property("education", _S, "Highest education level.", facet=True, vocabulary="education",
                            sensitivity=_PERS), "Education"),
            Property("political_status", _S, "Political status.", facet=True, vocabulary="political_status",
                     sensitivity=_PERS),
            Property("phone", _S, "Phone number, E.164.", validator="phone", sensitivity=_PERS),
            Property("id_kind", _S, "Kind of identity document (resident ID, passport, permits).",
                     vocabulary="id_kinds", sensitivity=_SENS),
            Property("id_hash", _S, "Keyed hash (HMAC-SHA256) of the identity document number; never the raw number.",
                     sensitivity=_SENS),
            Property("id_last4", _S, "Last four characters of the identity document number.", sensitivity=_SENS),
            Property("volunteer", _B, "Registered volunteer.", facet=True),
            Property("bio", _S, "Free-text profile.", searchable=_TEXT, sensitivity=_PERS),
            Property("canonical", _S, "Entity resolution: id of the record that stands for this person's cluster "
                     "(itself on that record); empty when no other record was resolved to the same person.",
                     sensitivity=_NAMED),
        ),
        latin_title="latin_name",
    ),
    NodeType(
        "Enterprise", "ent", "企业", "A company, co-building unit or other employer in or near the community.",
        (
            _name(),
            Property("latin_name", _S, "English or Latin-script name.", searchable=_NAME, sortable=True),
            Property("uscc", _S, "Unified social credit code (GB 32100-2015).", validator="uscc",
                     searchable=_KW),
            Property("industry", _S, "Industry.", facet=True, vocabulary="industries"),
            Property("ownership", _S, "Ownership (state, private, foreign, joint, public institution).",
                     facet=True, vocabulary="ownership"),
            Property("employees", _I, "Number of employees.", sortable=True),
            Property("address", _S, "Street address.", searchable=_TEXT),
            *_coords(),
            Property("description", _S, "What the enterprise does.", searchable=_TEXT),
        ),
        name_suffixes=('有限责任公司', '股份有限公司', '有限公司', '公司', '集团', '银行', '酒店', '事务所', '研究院', '医院', '学校', '幼儿园', 'Co., Ltd.', 'Ltd.', 'Inc.', 'Group', 'Bank', 'Hotel'),
        latin_title="latin_name",
    ),
    NodeType(
        "PartyOrganization", "org", "党组织", "A party committee, branch or building party group.",
        (
            _name(),
            _name_en(),
            Property("level", _S, "Level in the party hierarchy.", required=True, facet=True,
                     vocabulary="party_levels"),
            Property("established", PropType.DATE, "Date established.", validator="date"),
            Property("secretary", _S, "Secretary's name.", sensitivity=_NAMED),
            *_coords(),
            Property("description", _S, "Description.", searchable=_TEXT),
        ),
        name_suffixes=('党工委', '党委', '党总支', '党支部', '联合党支部', '党小组', '楼组党小组', '党组织', 'Party Committee', 'Party Branch', 'Party Group'),
        latin_title="name_en",
    ),
    NodeType(
        "Venue", "ven", "场所", "A place where activities happen: station, library branch, plaza, language corner.",
        (
            _name(),
            _name_en(),
            Property("kind", _S, "Kind of venue.", facet=True, vocabulary="venue_kinds"),
            Property("address", _S, "Street address.", searchable=_TEXT),
            *_coords(),
            Property("capacity", _I, "Capacity in persons.", sortable=True),
            Property("parking_spaces", _I, "Parking spaces.", measure="parking_spaces"),
            Property("opening_hours", _S, "Opening hours as written."),
            Property("description", _S, "Description.", searchable=_TEXT),
        ),
        name_suffixes=('外籍人士服务站', '服务站', '服务中心', '活动中心', '图书馆', '分馆', '广场', '长廊', '驿站', '会客厅', '书房', '公园', '馆', 'Service Station', 'Library', 'Plaza', 'Corridor', 'Centre', 'Center', 'Park'),
        latin_title="name_en",
    ),
    NodeType(
        "Project", "prj", "项目", "A micro-charity or micro-autonomy project from a menu.",
        (
            _name(),
            _name_en(),
            Property("menu", _S, "Menu the project belongs to.", required=True, facet=True,
                     vocabulary="project_menus"),
            Property("category", _S, "Category within the menu.", facet=True, vocabulary="project_categories"),
            Property("year", _I, "Year.", facet=True, sortable=True),
            Property("status", _S, "Status.", facet=True, vocabulary="project_statuses"),
            Property("beneficiaries", _I, "People reached.", sortable=True),
            Property("description", _S, "Description.", searchable=_TEXT),
        ),
        name_suffixes=('微公益项目', '微自治项目', '项目', '计划', '行动', '工程', 'Project', 'Programme'),
        latin_title="name_en",
    ),
    NodeType(
        "Group", "grp", "团队", "A volunteer corps or branch, culture team, or the foreign volunteer team.",
        (
            _name(),
            _name_en(),
            Property("kind", _S, "Kind of group.", required=True, facet=True, vocabulary="group_kinds"),
            Property("founded", _I, "Year founded.", measure="year"),
            Property("description", _S, "Description.", searchable=_TEXT),
        ),
        name_suffixes=('志愿服务队', '志愿者服务队', '志愿者队', '服务队', '志愿队', '协会', '合唱团', '舞蹈队', '团队', '俱乐部', 'Volunteer Team', 'Volunteers', 'Association', 'Club', 'Choir'),
        latin_title="name_en",
    ),
    NodeType(
        "Area", "area", "区域", "A place in the hierarchy subdistrict > community > residential area > building.",
        (
            _name(),
            _name_en(),
            Property("level", _S, "Level in the place hierarchy.", required=True, facet=True,
                     vocabulary="area_levels"),
            Property("address", _S, "Street address.", searchable=_TEXT),
            *_coords(),
            Property(GEO_OUTLINE, _S, "Outline as GeoJSON Polygon text, WGS84 (residential areas and buildings; "
                     "'lon,lat;lon,lat;…' accepted on ingest).", validator="polygon"),
            Property("households", _I, "Households.", sortable=True, measure="households"),
            Property("population", _I, "Registered residents.", sortable=True, measure="residents"),
        ),
        name_suffixes=('居民区', '居委会', '居委', '小区', '社区', '街道', '号楼', 'Residential Area', 'Community', 'Subdistrict'),
        latin_title="name_en",
    ),
    NodeType(
        "Document", "doc", "文档", "A source text (minutes, notice, report) used for extraction.",
        (
            Property("title", _S, "Title.", required=True, searchable=_NAME, sortable=True),
            # Reports and minutes name residents: the text reads like a name (analysts yes, the platform no).
            Property("text", _S, "Full text.", required=True, searchable=_TEXT, sensitivity=_NAMED),
            Property("language", _S, "Main language, ISO 639-1.", vocabulary="languages", facet=True),
            Property("published", PropType.DATE, "Publication date.", validator="date", sortable=True),
            Property("source", _S, "Where the text came from."),
            Property("doc_kind", _S, "report, news, minutes, case_note, write_up or other.", facet=True),
            Property("text_hash", _S, "SHA-256 of the text as read: an unchanged file ingested again is a no-op."),
            Property("pipeline", _S, "Version of the text pipeline (and model) that read it."),
        ),
        title="title",
    ),
    NodeType(
        "Candidate", "cand", "候选实体",
        "An entity documents name that no register has: waits for review (accept, reject, merge into a node).",
        (
            # A candidate may be a person's name read from a report: a name, never shown to the platform.
            Property("name", _S, "The name as the documents write it.", required=True, searchable=_NAME,
                     sortable=True, sensitivity=_NAMED),
            Property("candidate_type", _S, "The node type it would become (Venue, PartyOrganization, …).",
                     required=True, facet=True),
            Property("confidence", _F, "How sure the recogniser is that this is a new entity of that type (0–1).",
                     sortable=True),
            Property("review", _S, "pending, accepted, rejected or merged.", required=True, facet=True),
            Property("resolved_to", _S, "The node it became (accepted) or was merged into."),
        ),
    ),
    NodeType(
        "Fact", "fact", "事实陈述",
        "A numeric claim a document states about an entity (2,136 party members, about 170 parking spaces). "
        "Never written over register data: where the graph says otherwise, the disagreement is kept here.",
        (
            Property("statement", _S, "The words that state it.", required=True, searchable=_TEXT),
            Property("measure", _S, "What is counted or measured: party_members, co_building_units, "
                     "parking_spaces, residents, households, foreign_residents, volunteers, area_m2, year.",
                     required=True, facet=True),
            # Not ``value``: NGSI-LD reserves that member name (feed/ngsild/context.py).
            Property("quantity", _F, "The number stated.", required=True, sortable=True),
            Property("unit", _S, "Unit as stated (名, 个, 平方米, …) or normalised (m2, year)."),
            Property("approximate", _B, "Stated as approximate (约, 近, about, over)."),
            Property("sentence", _S, "The sentence that states it.", sensitivity=_NAMED),
            Property("span_start", _I, "Start of the statement in the document text (characters)."),
            Property("span_end", _I, "End of the statement in the document text (characters)."),
            Property("graph_value", _F, "What the graph holds for the same property, when it holds one."),
            Property("disagrees", _B, "The graph holds a different value.", facet=True),
        ),
        title="statement",
    ),
)

_SINCE = Property("since", PropType.DATE, "Start date.", validator="date")

REL_TYPES: tuple[RelType, ...] = (
    RelType("MEMBER_OF", (("Person", "PartyOrganization"), ("Person", "Group")), "Membership.",
            (Property("role", _S, "Role, e.g. member, secretary, captain."), _SINCE)),
    RelType("PART_OF", (("PartyOrganization", "PartyOrganization"), ("Group", "Group"), ("Area", "Area")),
            "Child is part of parent."),
    RelType("WORKS_AT", (("Person", "Enterprise"),), "Employment.",
            (Property("title", _S, "Job title."), _SINCE)),
    RelType("LIVES_IN", (("Person", "Area"),), "Residence (usually a building).", sensitivity=_PERS),
    RelType("LEADS", (("Person", "Area"), ("Person", "Group"), ("Person", "PartyOrganization")),
            "Leadership: building leader, double building leader, group captain, secretary.",
            (Property("role", _S, "Role, e.g. building_leader, party_building_leader, captain."),)),
    RelType("PARTICIPATES_IN", (("Person", "Project"),), "Takes part in a project.",
            (Property("role", _S, "Role, e.g. volunteer, organiser."),)),
    RelType("SPONSORS", (("Enterprise", "Project"),), "An enterprise claims a menu project.",
            (Property("year", _I, "Year claimed."),)),
    RelType("CO_BUILDS_WITH",
            (("PartyOrganization", "Enterprise"), ("PartyOrganization", "Venue"),
             ("PartyOrganization", "PartyOrganization")),
            "Co-building unit agreement.", (_SINCE,)),
    RelType("HELD_AT", (("Project", "Venue"),), "Where a project takes place."),
    RelType("LOCATED_IN", (("Venue", "Area"), ("Enterprise", "Area")), "Location."),
    RelType("ANCHORED_AT", (("PartyOrganization", "Enterprise"),),
            "Party organisation inside a non-public enterprise."),
    RelType("SAME_AS", (("Person", "Person"),),
            "Entity resolution: this record and the cluster's canonical record describe one person "
            "(never a merge: both records stay as their registers wrote them).",
            (Property("probability", PropType.FLOAT, "Match probability of the pair (Fellegi-Sunter)."),
             Property("weights", _S, "Per-comparison match weights as JSON: the explanation of the score."),
             Property("status", _S, "matched (by the model), accepted (by a steward) or pending (for review)."),
             Property("cluster", _S, "Cluster id: the canonical record's id.")),
            sensitivity=_PERS),
    RelType("MENTIONS", (("Document", "Person"), ("Document", "Enterprise"), ("Document", "PartyOrganization"),
                         ("Document", "Venue"), ("Document", "Project"), ("Document", "Group"),
                         ("Document", "Area"), ("Document", "Candidate")),
            "A document mentions an entity (text-to-graph linking).",
            (Property("count", _I, "Number of mentions."),
             Property("surface", _S, "The words as written at the first mention."),
             Property("spans", _S, "Character spans of every mention in the text, JSON [[start, end], …]."),
             Property("sentence", _S, "The sentence of the first mention."),
             Property("score", _F, "Confidence of the link (0–1)."),
             Property("method", _S, "How it was linked: exact, alias, normalised, pinyin, form (a new entity "
                      "recognised by its name's form) or model (the statistical recogniser).")),
            # The sentence quotes the document, which names residents (as Document.text).
            sensitivity=_NAMED, inverse="MENTIONED_IN"),
    RelType("STATES", (("Document", "Fact"),), "A document states a fact.", inverse="STATED_IN"),
    RelType("ABOUT", (("Fact", "Area"), ("Fact", "Venue"), ("Fact", "PartyOrganization"), ("Fact", "Enterprise"),
                      ("Fact", "Project"), ("Fact", "Group"), ("Fact", "Candidate")),
            "What a fact is about.", inverse="FACTS"),
)

_AREA_LEVELS = ("building", "residential_area", "community", "subdistrict")
_LIVES_IN = Hop("LIVES_IN", "Area")


def _area(level: str) -> Within:
    return Within(_LIVES_IN, up="PART_OF", level_prop="level", level=level, levels=_AREA_LEVELS)


DERIVED_FIELDS: tuple[DerivedField, ...] = (
    DerivedField("Person", "building", "area:building", "Building the person lives in (area id).",
                 sensitivity=_PERS, path=_area("building")),
    DerivedField("Person", "residential_area", "area:residential_area", "Residential area (area id).",
                 path=_area("residential_area")),
    DerivedField("Person", "community", "area:community", "Community (area id).", path=_area("community")),
    DerivedField("Person", "party_member", "party_member", "Party member or probationary member.",
                 sensitivity=_PERS, path=Flag((Hop("MEMBER_OF", "PartyOrganization"),), prop="political_status",
                                              values=frozenset({"party_member", "probationary_member"}))),
    DerivedField("Person", "party_orgs", "member_of:PartyOrganization", "Party organisations (ids).",
                 path=Linked(Hop("MEMBER_OF", "PartyOrganization"))),
    DerivedField("Person", "groups", "member_of:Group", "Groups (ids).", path=Linked(Hop("MEMBER_OF", "Group"))),
)


_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Ontology:
    node_types: tuple[NodeType, ...]
    rel_types: tuple[RelType, ...]
    derived: tuple[DerivedField, ...] = field(default=())

    def __post_init__(self) -> None:
        names = [n.name for n in self.node_types] + [r.name for r in self.rel_types]
        for n in names:
            if not _IDENT.match(n):
                raise OntologyError(f"Type name {n!r} is not a plain identifier.")
        prefixes = [n.id_prefix for n in self.node_types]
        if len(set(prefixes)) != len(prefixes):
            raise OntologyError(f"Duplicate id prefixes in {prefixes}.")
        for r in self.rel_types:
            for f, t in r.endpoints:
                self.node(f), self.node(t)
        for d in self.derived:
            self._check_derived(d)
        for nt in self.node_types:
            for prop in nt.properties:
                self._check_links(nt, prop)
            for shown in (nt.title, nt.latin_title):  # display names: a property of the type, or a typo
                if shown is not None:
                    nt.prop(shown)

    def _check_links(self, node_type: NodeType, prop: Property) -> None:
        """A property's ``unreviewed`` / ``levels_into`` / ``year_of`` must name a property of the right type."""
        links = (("unreviewed", prop.unreviewed, PropType.STRING_LIST), ("levels_into", prop.levels_into,
                 PropType.STRING_LIST), ("year_of", prop.year_of, PropType.DATE))
        for what, target, kind in links:
            if target is None:
                continue
            if not node_type.has(target) or node_type.prop(target).type is not kind:
                raise OntologyError(f"{node_type.name}.{prop.name}: {what} names {target!r}, which is not a "
                                    f"{kind} property of {node_type.name}.", hint=f"Declare {target} ({kind}).")
            if what == "unreviewed" and prop.vocabulary is None:
                raise OntologyError(f"{node_type.name}.{prop.name} has an unreviewed companion but no vocabulary.")

    def _check_derived(self, d: DerivedField) -> None:
        """A derived field's path must run along declared relationships, types and properties."""
        where = f"Derived field {d.node_type}.{d.name}"
        nt = self.node(d.node_type)
        p = d.path
        if p is None:
            raise OntologyError(f"{where} declares no path.",
                                hint="Give it path=Linked(...), Within(...) or Flag(...) so the projection can compute it.")
        for hop in d.hops:
            self._check_hop(where, d.node_type, hop)
        if isinstance(p, Within):
            to = self.node(p.hop.to)
            try:
                up = self.rel(p.up)
            except OntologyError as e:
                raise OntologyError(f"{where}: containment: {e.message}", hint=e.hint) from None
            if not up.allows(to.name, to.name):
                raise OntologyError(f"{where}: {p.up} does not link {to.name} to {to.name}.",
                                    hint=f"Name the relationship that nests one {to.name} in another.")
            if not to.has(p.level_prop):
                raise OntologyError(f"{where}: {to.name} has no property {p.level_prop!r} to tell its level.")
            if p.level not in p.levels:
                raise OntologyError(f"{where}: level {p.level!r} is not one of {list(p.levels)}.")
        elif isinstance(p, Flag) and p.prop is not None and not nt.has(p.prop):
            raise OntologyError(f"{where}: {d.node_type} has no property {p.prop!r}.",
                                hint="Name a property of the node the flag reads.")

    def _check_hop(self, where: str, node_type: str, hop: Hop) -> None:
        try:
            rel = self.rel(hop.rel)
        except OntologyError as e:
            raise OntologyError(f"{where}: {e.message}", hint=e.hint) from None
        self.node(hop.to)
        ends = (node_type, hop.to) if hop.direction == "out" else (hop.to, node_type)
        if not rel.allows(*ends):
            raise OntologyError(f"{where}: {hop.rel} does not link {ends[0]} to {ends[1]}.",
                                hint=f"{hop.rel} links {', '.join(f'{a}→{b}' for a, b in rel.endpoints)}.")

    # --- lookups (every label/property name used in a query passes through one of these) ----------

    def node(self, name: str) -> NodeType:
        for n in self.node_types:
            if n.name == name:
                return n
        raise OntologyError(
            f"Unknown node type {name!r}.", hint=f"Known types: {', '.join(self.node_names)}."
        )

    def rel(self, name: str) -> RelType:
        for r in self.rel_types:
            if r.name == name:
                return r
        raise OntologyError(
            f"Unknown relationship type {name!r}.",
            hint=f"Known relationships: {', '.join(r.name for r in self.rel_types)}.",
        )

    @property
    def node_names(self) -> tuple[str, ...]:
        return tuple(n.name for n in self.node_types)

    def type_of_id(self, node_id: str) -> NodeType:
        prefix, sep, key = node_id.partition(":")
        if sep and key:
            for n in self.node_types:
                if n.id_prefix == prefix:
                    return n
        raise OntologyError(
            f"Id {node_id!r} does not name a node type.",
            hint="Ids look like 'per:000123' with prefixes "
            + ", ".join(f"{n.id_prefix} ({n.name})" for n in self.node_types)
            + ".",
        )

    def make_id(self, type_name: str, key: str) -> str:
        return f"{self.node(type_name).id_prefix}:{key}"

    def rels_from(self, type_name: str) -> list[RelType]:
        return [r for r in self.rel_types if type_name in r.from_types]

    def rels_to(self, type_name: str) -> list[RelType]:
        return [r for r in self.rel_types if type_name in r.to_types]

    def derived_for(self, type_name: str) -> list[DerivedField]:
        return [d for d in self.derived if d.node_type == type_name]

    def with_property(self, type_name: str, prop: Property) -> "Ontology":
        """A copy with one more property on a node type: used by the sync test and by extensions."""
        types = tuple(
            replace(n, properties=n.properties + (prop,)) if n.name == type_name else n for n in self.node_types
        )
        return Ontology(types, self.rel_types, self.derived)


ONTOLOGY = Ontology(NODE_TYPES, REL_TYPES, DERIVED_FIELDS)
