"""Job and pipeline files: parse the YAML, check it against the ontology, and apply it to a row.

Everything that can be wrong with a job file is reported before the first row is read, as an
IngestError naming the file and the YAML path (``nodes[0].properties.birth_year.transform``) and
saying what would fix it. Column names are checked once the source header is known
(``JobSpec.check_header``), which the job runner does right after opening the source.

Applying a mapping to a row (``PropSpec.evaluate``, ``Template.render``) is pure: it turns cells
into property values and raises ``ValidationError`` for a bad cell; building and validating
records is the job runner's business.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from talentgraph.errors import IngestError, OntologyError, ValidationError
from talentgraph.ingest.sources import Row, source_class
from talentgraph.ingest.transforms import TRANSFORMS, Context, TransformFn, is_empty, to_text
from talentgraph.ingest.yamlfile import load_yaml
from talentgraph.schema.ontology import ONTOLOGY, NodeType, Ontology, Property, PropType, SearchKind
from talentgraph.schema.vocabularies import vocabulary

_JOB_ID = re.compile(r"^[a-z0-9_-]+$")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

# What a shorthand (column only) property goes through before validation, by property type.
DEFAULT_TRANSFORM: dict[PropType, str] = {
    PropType.STRING: "str",
    PropType.STRING_LIST: "str",
    PropType.INT: "int",
    PropType.FLOAT: "float",
    PropType.BOOL: "bool",
    PropType.DATE: "date",
}

_JOB_KEYS = {"job", "description", "source", "nodes", "relationships", "priority", "mode", "max_delete_share",
             "force_delete"}
# How a job treats what its source no longer lists (see JobSpec.mode).
MODES = ("additive", "snapshot")
DEFAULT_MAX_DELETE_SHARE = 0.5
_NODE_KEYS = {"type", "key", "properties"}
_REL_KEYS = {"type", "from", "to", "properties", "optional"}
_END_KEYS = {"type", "key", "lookup"}
_LOOKUP_RESERVED = {"where", "within"}  # every other key of a lookup is a property to match
_PROP_KEYS = {"column", "columns", "value", "transform", "split", "default", "kind_column", "strict"}


def _fail(file: Path | str, where: str, message: str, hint: str) -> IngestError:
    name = file.name if isinstance(file, Path) else file
    return IngestError(f"{name}: {where}: {message}", hint=hint)


def _close(word: str, options: Sequence[str]) -> str:
    near = difflib.get_close_matches(word, list(options), n=3, cutoff=0.5)
    return f"Did you mean {', '.join(map(repr, near))}? " if near else ""


# --- spec types ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """``"{楼号}-{单元}"``: literal text with ``{column}`` placeholders."""

    text: str
    columns: tuple[str, ...]

    @classmethod
    def parse(cls, raw: Any, file: Path, where: str) -> "Template":
        if isinstance(raw, bool) or not isinstance(raw, (str, int)) or not str(raw).strip():
            raise _fail(file, where, f"{raw!r} is not a key template.",
                        'Write a template over columns, e.g. key: "{居民编号}" or "{楼号}-{单元}".')
        text = str(raw)
        columns = tuple(c.strip() for c in _PLACEHOLDER.findall(text))
        if any(not c for c in columns):
            raise _fail(file, where, f"template {text!r} has an empty {{}}.", "Put a column name inside the braces.")
        if "{" in _PLACEHOLDER.sub("", text) or "}" in _PLACEHOLDER.sub("", text):
            raise _fail(file, where, f"template {text!r} has an unbalanced brace.", 'Write placeholders as "{column}".')
        return cls(text, columns)

    @cached_property
    def _parts(self) -> tuple[tuple[str, str | None], ...]:
        """(literal, column or None) pairs in order, so rendering joins instead of re-running a regex."""
        parts: list[tuple[str, str | None]] = []
        pos = 0
        for m in _PLACEHOLDER.finditer(self.text):
            parts.append((self.text[pos:m.start()], m.group(1).strip()))
            pos = m.end()
        parts.append((self.text[pos:], None))
        return tuple(parts)

    def render(self, row: Row, field: str) -> str | None:
        """The key, or None when a referenced cell is empty; ValidationError for a bad key."""
        out: list[str] = []
        for literal, col in self._parts:
            out.append(literal)
            if col is None:
                continue
            cell = row.get(col)
            if is_empty(cell):
                return None
            out.append(to_text(cell, Context(f"{field} [{col}]", col)) if type(cell) is not str else _plain_text(
                cell, field, col))
        key = "".join(out).strip()
        if not key:
            return None
        if "|" in key or (not key.isprintable() and any(ord(ch) < 32 for ch in key)):
            raise ValidationError(field, key, "a key without '|' or control characters")
        return key


def _plain_text(cell: str, field: str, col: str) -> str:
    # Most key cells are short plain text; only build the error context when to_text needs it.
    if "e" in cell or "E" in cell:  # maybe 3.1E+17, which to_text refuses
        return to_text(cell, Context(f"{field} [{col}]", col))
    return cell.strip()


@dataclass(frozen=True)
class PropSpec:
    name: str  # the mapping's key: an ontology property, or a free name for multi-output transforms
    where: str  # YAML path, for messages
    targets: tuple[str, ...]  # ontology properties written
    columns: tuple[str, ...] = ()  # () for a constant
    transform: str | None = None
    split: re.Pattern[str] | None = None
    default: Any = None
    value: Any = None
    kind_column: str | None = None
    is_list: bool = False  # target is a string_list
    # ``strict: true``: a value the vocabulary lacks quarantines the row instead of being kept for review.
    strict_vocabulary: str | None = None

    @cached_property
    def _contexts(self) -> dict[tuple[str, bytes], Context]:
        # One Context per (owner, key) instead of one per cell; only identity's kind varies by row.
        return {}

    def _context(self, row: Row, owner: str, id_hash_key: bytes) -> Context:
        if self.kind_column:
            return Context(f"{owner}.{self.name} [{', '.join(self.columns)}]", self.columns[0], id_hash_key,
                           row.get(self.kind_column))
        ctx = self._contexts.get((owner, id_hash_key))
        if ctx is None:
            ctx = self._contexts[(owner, id_hash_key)] = Context(
                f"{owner}.{self.name} [{', '.join(self.columns)}]", self.columns[0], id_hash_key)
        return ctx

    @cached_property
    def _fn(self) -> TransformFn:
        return TRANSFORMS[self.transform or "str"].fn

    @cached_property
    def _multi(self) -> bool:
        return bool(self.transform and TRANSFORMS[self.transform].outputs)

    def evaluate(self, row: Row, owner: str, id_hash_key: bytes) -> dict[str, Any]:
        """Property values from one row ({} when the cell is empty and there is no default)."""
        if not self.columns:
            return {self.targets[0]: self.value}
        if len(self.columns) > 1:
            cells = tuple(row.get(c) for c in self.columns)
            if all(is_empty(c) for c in cells):
                return {}
            return dict(self._fn(cells, self._context(row, owner, id_hash_key)))
        cell = row.get(self.columns[0])
        if is_empty(cell):
            if self.default is None:
                return {}
            cell = self.default
        ctx = self._context(row, owner, id_hash_key)
        fn = self._fn
        if self._multi:
            return dict(fn(cell, ctx))
        if self.split is not None or self.is_list:
            parts: list[Any]
            if isinstance(cell, list):
                parts = cell
            elif self.split is not None:
                parts = self.split.split(to_text(cell, ctx))
            else:
                parts = [cell]
            values = [fn(p.strip() if isinstance(p, str) else p, ctx) for p in parts if not is_empty(p)]
            return {self.targets[0]: self._checked(values, ctx)} if values else {}
        return {self.targets[0]: self._checked(fn(cell, ctx), ctx)}

    def _checked(self, value: Any, ctx: Context) -> Any:
        """With ``strict: true``, every value must already be a term (the ValidationError quarantines the row)."""
        if self.strict_vocabulary is not None:
            vocab = vocabulary(self.strict_vocabulary)
            for v in value if isinstance(value, list) else [value]:
                vocab.require(v, ctx.field)
        return value


@dataclass(frozen=True)
class NodeSpec:
    type: str
    key: Template
    properties: tuple[PropSpec, ...]
    where: str

    @cached_property
    def targets(self) -> tuple[str, ...]:
        """Every ontology property the mapping writes."""
        return tuple(t for p in self.properties for t in p.targets)


@dataclass(frozen=True)
class LookupMatch:
    """One alternative of a lookup: the row's ``template`` against ``properties`` of the node."""

    label: str  # as written in the job file ("name", "uscc"), for messages
    properties: tuple[str, ...]  # "name" stands for the type's title and its other name properties
    template: Template


@dataclass(frozen=True)
class LookupSpec:
    """Find a relationship end by what the register says about it, not by its id.

    A node is a candidate when any one of ``match`` equals it (after ``lookups.normalise``), it has
    every ``where`` value, and — with ``within`` — it has a ``via`` relationship to the node that
    ``within`` finds. Exactly one candidate is the answer; none or several quarantine the row.
    """

    type: str
    match: tuple[LookupMatch, ...]
    where: tuple[tuple[str, Any], ...]  # (property, stored value), constants checked when parsed
    within: "LookupSpec | None"
    via: str | None  # relationship type from this type to ``within.type``
    where_path: str  # YAML path, for messages

    @property
    def columns(self) -> tuple[str, ...]:
        cols = [c for m in self.match for c in m.template.columns]
        if self.within is not None:
            cols += self.within.columns
        return tuple(dict.fromkeys(cols))


@dataclass(frozen=True)
class EndpointSpec:
    """A relationship end, named by a ``key`` template (an id) or found by a ``lookup``."""

    type: str
    key: Template | None
    lookup: LookupSpec | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        if self.key is not None:
            return self.key.columns
        assert self.lookup is not None
        return self.lookup.columns

    @property
    def text(self) -> str:
        """How the end is written in the job file, for messages."""
        return repr(self.key.text) if self.key is not None else "lookup"


@dataclass(frozen=True)
class RelSpec:
    type: str
    from_: EndpointSpec
    to: EndpointSpec
    properties: tuple[PropSpec, ...]
    optional: bool
    where: str


@dataclass(frozen=True)
class SourceSpec:
    path: Path
    format: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JobSpec:
    job: str
    description: str
    source: SourceSpec
    nodes: tuple[NodeSpec, ...]
    relationships: tuple[RelSpec, ...]
    file: Path
    # Whose value a node shows when registers disagree on a property: the higher priority, ties
    # to the latest write (graph/claims.py). ``priority:`` in the job YAML, default 0.
    priority: int = 0
    # "additive" (default): rows add and update, nothing is removed. "snapshot": the source lists
    # every record the job owns, so what the job wrote before and the file no longer yields is ended
    # (ingest/snapshot.py). ``max_delete_share``: a snapshot that would end more than this share of
    # the job's records is refused (an empty or wrong file is the likeliest cause) unless
    # ``force_delete`` (or ``--force``).
    mode: str = "additive"
    max_delete_share: float = DEFAULT_MAX_DELETE_SHARE
    force_delete: bool = False

    def column_refs(self) -> Iterator[tuple[str, str]]:
        """Every (YAML path, column) the mapping reads."""
        for n in self.nodes:
            for c in n.key.columns:
                yield f"{n.where}.key", c
            yield from _prop_refs(n.properties)
        for r in self.relationships:
            for end, spec in (("from", r.from_), ("to", r.to)):
                for c in spec.columns:
                    yield f"{r.where}.{end}.{'key' if spec.key is not None else 'lookup'}", c
            yield from _prop_refs(r.properties)

    @property
    def identity_columns(self) -> frozenset[str]:
        """Columns holding identity-document numbers (masked in quarantine files)."""
        out: set[str] = set()
        specs: list[NodeSpec | RelSpec] = [*self.nodes, *self.relationships]
        for spec in specs:
            for p in spec.properties:
                if p.transform == "identity":
                    out.update(p.columns)
        return frozenset(out)

    def check_header(self, header: Sequence[str]) -> None:
        """IngestError naming each YAML path whose column is not in the source header."""
        known = set(header)
        missing = [(where, col) for where, col in self.column_refs() if col not in known]
        if not missing:
            return
        lines = "; ".join(f"{where}: column {col!r} {_close(col, header)}".strip() for where, col in missing)
        raise IngestError(
            f"{self.file.name}: {len(missing)} mapped column(s) not in the header of {self.source.path.name}: {lines}",
            hint=f"Columns in the file: {', '.join(header)}. Fix the column names in the job file or the register.",
        )


def _prop_refs(props: Sequence[PropSpec]) -> Iterator[tuple[str, str]]:
    for p in props:
        for c in p.columns:
            yield p.where, c
        if p.kind_column:
            yield f"{p.where}.kind_column", p.kind_column


# --- parsing ------------------------------------------------------------------------------------


def load_job(path: Path, *, input_dir: Path | None = None, ontology: Ontology = ONTOLOGY) -> JobSpec:
    """Parse and check a job file; source paths are relative to ``input_dir`` or the file's folder."""
    return parse_job(load_yaml(path), path, input_dir=input_dir, ontology=ontology)


@dataclass(frozen=True)
class DocumentsSpec:
    """A job file that reads documents into the graph (``text/jobs.py``) instead of mapping rows::

        documents: annual-reports        # the job's name
        paths: [reports/, minutes/2025]  # files or folders, relative to input_dir or the file's folder
    """

    job: str
    paths: tuple[Path, ...]
    file: Path
    description: str = ""


def parse_documents(data: dict[str, Any], file: Path, input_dir: Path | None = None) -> DocumentsSpec:
    unknown = set(data) - {"documents", "paths", "description"}
    if unknown:
        raise _fail(file, sorted(unknown)[0], "unknown key.", "A documents job has documents, paths and description.")
    job = data.get("documents")
    if not isinstance(job, str) or not _JOB_ID.match(job):
        raise _fail(file, "documents", f"{job!r} is not a job id.", "Use lower-case letters, digits, '_' and '-'.")
    paths = data.get("paths")
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) and p.strip() for p in paths):
        raise _fail(file, "paths", f"{paths!r} is not a list of files or folders.", "Write paths: [reports/].")
    base = input_dir or file.parent
    return DocumentsSpec(job, tuple((base / p).resolve() for p in paths), file, str(data.get("description") or ""))


def _load_any(data: Any, path: Path, input_dir: Path | None, ontology: Ontology) -> JobSpec | DocumentsSpec:
    if isinstance(data, dict) and "documents" in data:
        return parse_documents(data, path, input_dir)
    return parse_job(data, path, input_dir=input_dir, ontology=ontology)


def load_jobs(path: Path, *, input_dir: Path | None = None,
              ontology: Ontology = ONTOLOGY) -> list[JobSpec | DocumentsSpec]:
    """A pipeline file's jobs in order, or the one job of a job file (the CLI takes either)."""
    data = load_yaml(path)
    if isinstance(data, dict) and "pipeline" in data:
        return _pipeline(data, path, input_dir, ontology, documents=True)
    return [_load_any(data, path, input_dir, ontology)]


def load_pipeline(path: Path, *, input_dir: Path | None = None, ontology: Ontology = ONTOLOGY) -> list[JobSpec]:
    """The jobs a pipeline file lists, each loaded and checked, in order."""
    return [s for s in _pipeline(load_yaml(path), path, input_dir, ontology) if isinstance(s, JobSpec)]


def _pipeline(data: Any, path: Path, input_dir: Path | None, ontology: Ontology, *,
              documents: bool = False) -> list[JobSpec | DocumentsSpec]:
    if not isinstance(data, dict) or "pipeline" not in data:
        raise _fail(path, "pipeline", "not a pipeline file.", "Expected 'pipeline: <name>' and 'jobs: [a.yaml, ...]'.")
    unknown = set(data) - {"pipeline", "description", "jobs"}
    if unknown:
        raise _fail(path, sorted(unknown)[0], "unknown key.", "A pipeline file has pipeline, description and jobs.")
    jobs = data.get("jobs")
    if not isinstance(jobs, list) or not jobs:
        raise _fail(path, "jobs", f"{jobs!r} is not a list of job files.", "Write jobs: [areas.yaml, residents.yaml].")
    specs = []
    for i, entry in enumerate(jobs):
        if not isinstance(entry, str) or not entry.strip():
            raise _fail(path, f"jobs[{i}]", f"{entry!r} is not a file name.",
                        "List job files relative to the pipeline.")
        job_path = (path.parent / entry).resolve()
        if not job_path.is_file():
            raise _fail(path, f"jobs[{i}]", f"{job_path} does not exist.", "Fix the file name or add the job file.")
        if documents:  # a step that reads a folder of documents (``DocumentsSpec``)
            specs.append(_load_any(load_yaml(job_path), job_path, input_dir, ontology))
        else:
            specs.append(load_job(job_path, input_dir=input_dir, ontology=ontology))
    return specs


def parse_job(data: Any, file: Path, *, input_dir: Path | None = None, ontology: Ontology = ONTOLOGY) -> JobSpec:
    if not isinstance(data, dict):
        raise _fail(file, "(top level)", "not a job file.",
                    "Expected a mapping with job, source, nodes, relationships.")
    for key in data:
        if key not in _JOB_KEYS:
            raise _fail(file, str(key), "unknown key.", f"{_close(str(key), sorted(_JOB_KEYS))}"
                        f"A job file has {', '.join(sorted(_JOB_KEYS))}.")
    job = data.get("job")
    if not isinstance(job, str) or not _JOB_ID.match(job):
        raise _fail(file, "job", f"{job!r} is not a job id.", "Use lower-case letters, digits, '_' and '-'.")
    source = _parse_source(data.get("source"), file, input_dir)
    nodes_raw = _list(data.get("nodes"), file, "nodes")
    rels_raw = _list(data.get("relationships"), file, "relationships")
    if not nodes_raw and not rels_raw:
        raise _fail(file, "nodes", "the job maps nothing.", "Add at least one entry under nodes or relationships.")
    nodes = tuple(_parse_node(n, file, f"nodes[{i}]", ontology) for i, n in enumerate(nodes_raw))
    rels = tuple(_parse_rel(r, file, f"relationships[{i}]", ontology) for i, r in enumerate(rels_raw))
    priority = data.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise _fail(file, "priority", f"{priority!r} is not a whole number.",
                    "Write e.g. priority: 10; the higher priority's value is shown when registers disagree.")
    mode, share, force = _snapshot_keys(data, file)
    return JobSpec(job, str(data.get("description") or ""), source, nodes, rels, file, priority, mode, share, force)


def _snapshot_keys(data: dict[str, Any], file: Path) -> tuple[str, float, bool]:
    """(mode, max_delete_share, force_delete) of a job file, checked."""
    mode = data.get("mode", "additive")
    if mode not in MODES:
        raise _fail(file, "mode", f"{mode!r} is not a mode.",
                    f"{_close(str(mode), MODES)}Write mode: snapshot when the file lists every record the job owns "
                    "(what it no longer lists is ended), or leave it out: additive, rows only add and update.")
    share = data.get("max_delete_share", DEFAULT_MAX_DELETE_SHARE)
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
        raise _fail(file, "max_delete_share", f"{share!r} is not a share between 0 and 1.",
                    "Write e.g. max_delete_share: 0.5: a snapshot that would end more than half of the job's "
                    "records is refused.")
    force = data.get("force_delete", False)
    if not isinstance(force, bool):
        raise _fail(file, "force_delete", f"{force!r} is not true or false.",
                    "Write force_delete: true to end more than max_delete_share of the job's records.")
    if mode != "snapshot":
        # These only steer a snapshot's removals; on an additive job they would silently do nothing.
        for key in ("max_delete_share", "force_delete"):
            if key in data:
                raise _fail(file, key, "only a snapshot job ends records.",
                            f"Add mode: snapshot, or remove {key}.")
    return str(mode), float(share), force


def _list(raw: Any, file: Path, where: str) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _fail(file, where, f"is a {type(raw).__name__}, not a list.", "Write each entry as '- type: ...'.")
    return raw


def _parse_source(raw: Any, file: Path, input_dir: Path | None) -> SourceSpec:
    if isinstance(raw, str):
        raw = {"path": raw}
    if not isinstance(raw, dict) or not isinstance(raw.get("path"), str) or not raw["path"].strip():
        raise _fail(file, "source.path", "missing.", "Write source: {path: residents.csv}.")
    rel = Path(raw["path"])
    path = rel if rel.is_absolute() else ((input_dir or file.parent) / rel)
    path = path.resolve()
    fmt = raw.get("format")
    if fmt is not None and not isinstance(fmt, str):
        raise _fail(file, "source.format", f"{fmt!r} is not a format name.", "Write e.g. format: csv.")
    try:
        cls = source_class(fmt, path)
        options = {k: v for k, v in raw.items() if k not in ("path", "format")}
        cls.check_options(options, "source")
    except IngestError as exc:
        raise IngestError(f"{file.name}: {exc.message}", hint=exc.hint) from None
    if not path.is_file():
        base = "--input-dir" if input_dir else "the job file's folder"
        raise _fail(file, "source.path", f"{path} does not exist.", f"Paths are relative to {base}.")
    return SourceSpec(path, cls.name, options)


def _check_keys(raw: Any, allowed: set[str], file: Path, where: str, example: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _fail(file, where, f"{raw!r} is not a mapping.", f"Write e.g. {example}.")
    for key in raw:
        if key not in allowed:
            raise _fail(file, f"{where}.{key}", "unknown key.",
                        f"{_close(str(key), sorted(allowed))}Allowed here: {', '.join(sorted(allowed))}.")
    return raw


def _type_and_key(raw: dict[str, Any], file: Path, where: str, ontology: Ontology,
                  example: str) -> tuple[NodeType, Template]:
    try:
        node_type = ontology.node(str(raw.get("type")))
    except OntologyError as exc:
        raise _fail(file, f"{where}.type", exc.message, exc.hint or "") from None
    if "key" not in raw:
        raise _fail(file, f"{where}.key", "missing.", f'Give the id key template, e.g. key: "{{{example}}}".')
    return node_type, Template.parse(raw["key"], file, f"{where}.key")


def _parse_node(raw: Any, file: Path, where: str, ontology: Ontology) -> NodeSpec:
    raw = _check_keys(raw, _NODE_KEYS, file, where, '{type: Person, key: "{居民编号}", properties: {...}}')
    node_type, key = _type_and_key(raw, file, where, ontology, "居民编号")
    props = _parse_props(raw.get("properties"), node_type.properties, node_type.name, file, f"{where}.properties")
    written = {t for p in props for t in p.targets}
    missing = [p.name for p in node_type.properties if p.required and p.name not in written]
    if missing:
        raise _fail(file, f"{where}.properties",
                    f"{node_type.name} requires {', '.join(missing)}, which is not mapped.",
                    "Map a column to it, or give a constant with {value: ...}.")
    return NodeSpec(node_type.name, key, props, where)


def _parse_endpoint(raw: Any, file: Path, where: str, ontology: Ontology) -> EndpointSpec:
    raw = _check_keys(raw, _END_KEYS, file, where, '{type: Area, key: "{楼栋编号}"}')
    if "lookup" not in raw:
        node_type, key = _type_and_key(raw, file, where, ontology, "楼栋编号")
        return EndpointSpec(node_type.name, key)
    if "key" in raw:
        raise _fail(file, where, "has both key and lookup.",
                    "Give key when the register holds the id, lookup when it names the node.")
    node_type = _node_type(raw, file, where, ontology)
    return EndpointSpec(node_type.name, None, _parse_lookup(raw["lookup"], node_type, file, f"{where}.lookup",
                                                            ontology))


def _node_type(raw: dict[str, Any], file: Path, where: str, ontology: Ontology) -> NodeType:
    try:
        return ontology.node(str(raw.get("type")))
    except OntologyError as exc:
        raise _fail(file, f"{where}.type", exc.message, exc.hint or "") from None


def name_properties(node_type: NodeType) -> tuple[str, ...]:
    """What a lookup's ``name`` matches: the title property, then other properties searched as names."""
    names = [node_type.title] + [p.name for p in node_type.properties
                                 if p.searchable is SearchKind.NAME and p.type is PropType.STRING]
    return tuple(dict.fromkeys(names))


def _parse_lookup(raw: Any, node_type: NodeType, file: Path, where: str, ontology: Ontology) -> LookupSpec:
    example = '{name: "{小区}", where: {level: residential_area}}'
    if not isinstance(raw, dict) or not raw:
        raise _fail(file, where, f"{raw!r} is not a lookup.", f"Write e.g. lookup: {example}.")
    strings = [p.name for p in node_type.properties if p.type is PropType.STRING]
    matches: list[LookupMatch] = []
    for key, value in raw.items():
        key = str(key)
        if key in _LOOKUP_RESERVED:
            continue
        if key == "name" or key == node_type.title:
            props = name_properties(node_type)
        elif key in strings:
            props = (key,)
        else:
            raise _fail(file, f"{where}.{key}", f"{node_type.name} has no text property {key!r} to match.",
                        f"{_close(key, ['name', *strings, *_LOOKUP_RESERVED])}Match on name or one of "
                        f"{', '.join(strings)}; where and within narrow the match.")
        matches.append(LookupMatch(key, props, Template.parse(value, file, f"{where}.{key}")))
    if not matches:
        raise _fail(file, where, "matches on nothing.", f"Say what to match, e.g. lookup: {example}.")
    filters = _parse_lookup_where(raw.get("where"), node_type, file, f"{where}.where")
    within, via = None, None
    if "within" in raw:
        within, via = _parse_within(raw["within"], node_type, file, f"{where}.within", ontology)
    return LookupSpec(node_type.name, tuple(matches), filters, within, via, where)


def _parse_lookup_where(raw: Any, node_type: NodeType, file: Path, where: str) -> tuple[tuple[str, Any], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict) or not raw:
        raise _fail(file, where, f"{raw!r} is not a mapping of property values.", "Write where: {level: building}.")
    out: list[tuple[str, Any]] = []
    for name, value in raw.items():
        name = str(name)
        if not node_type.has(name):
            raise _fail(file, f"{where}.{name}", f"{node_type.name} has no property {name!r}.",
                        f"{_close(name, [p.name for p in node_type.properties])}")
        prop = node_type.prop(name)
        if isinstance(value, (dict, list)) or value is None or "{" in str(value):
            raise _fail(file, f"{where}.{name}", f"{value!r} is not a constant.",
                        "where takes fixed values (e.g. level: building); match columns with the lookup's own keys.")
        if prop.vocabulary is not None:
            # Stored values are vocabulary ids, so 楼栋 and building both mean the id "building".
            try:
                value = vocabulary(prop.vocabulary).require(str(value), f"{where}.{name}").id
            except ValidationError as exc:
                raise _fail(file, f"{where}.{name}", str(exc), exc.hint or "") from None
        out.append((name, value))
    return tuple(out)


def _parse_within(raw: Any, node_type: NodeType, file: Path, where: str,
                  ontology: Ontology) -> tuple[LookupSpec, str]:
    if not isinstance(raw, dict):
        raise _fail(file, where, f"{raw!r} is not a lookup.", 'Write within: {name: "{小区}"}.')
    raw = dict(raw)
    parent_type = node_type
    if "type" in raw:
        parent_type = _node_type(raw, file, where, ontology)
        del raw["type"]
    links = [r.name for r in ontology.rels_from(node_type.name) if r.allows(node_type.name, parent_type.name)]
    via = raw.pop("via", None)
    if via is not None:
        if via not in links:
            raise _fail(file, f"{where}.via", f"{via!r} does not link {node_type.name} to {parent_type.name}.",
                        f"Links between them: {', '.join(links) or '(none)'}.")
        links = [str(via)]
    if len(links) != 1:
        found = f"{', '.join(links)} all do" if links else "no relationship does"
        hint = (f"Say which with via: {links[0]}." if links else
                "Look up the end another way, or name the parent type (type: Area).")
        raise _fail(file, where, f"within needs one relationship from {node_type.name} to {parent_type.name}; "
                    f"{found}.", hint)
    return _parse_lookup(raw, parent_type, file, where, ontology), links[0]


def _parse_rel(raw: Any, file: Path, where: str, ontology: Ontology) -> RelSpec:
    raw = _check_keys(raw, _REL_KEYS, file, where, "{type: LIVES_IN, from: {...}, to: {...}}")
    try:
        rel_type = ontology.rel(str(raw.get("type")))
    except OntologyError as exc:
        raise _fail(file, f"{where}.type", exc.message, exc.hint or "") from None
    for end in ("from", "to"):
        if end not in raw:
            raise _fail(file, f"{where}.{end}", "missing.",
                        f"Give {end}: {{type: ..., key: ...}} or {end}: {{type: ..., lookup: ...}}.")
    src = _parse_endpoint(raw["from"], file, f"{where}.from", ontology)
    dst = _parse_endpoint(raw["to"], file, f"{where}.to", ontology)
    if not rel_type.allows(src.type, dst.type):
        pairs = ", ".join(f"{f}→{t}" for f, t in rel_type.endpoints)
        raise _fail(file, where, f"{rel_type.name} does not connect {src.type}→{dst.type}.",
                    f"The ontology allows {pairs}.")
    optional = raw.get("optional", False)
    if not isinstance(optional, bool):
        raise _fail(file, f"{where}.optional", f"{optional!r} is not true or false.", "Write optional: true.")
    props = _parse_props(raw.get("properties"), rel_type.properties, rel_type.name, file, f"{where}.properties")
    return RelSpec(rel_type.name, src, dst, props, optional, where)


def _parse_props(
    raw: Any, known: tuple[Property, ...], owner: str, file: Path, where: str
) -> tuple[PropSpec, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise _fail(file, where, f"is a {type(raw).__name__}, not a mapping.", "Write property: column pairs.")
    by_name = {p.name: p for p in known}
    out: list[PropSpec] = []
    written: dict[str, str] = {}
    for name, spec in raw.items():
        p = _parse_prop(str(name), spec, by_name, owner, file, f"{where}.{name}")
        for t in p.targets:
            if t in written:
                raise _fail(file, p.where, f"writes {owner}.{t}, which {written[t]} already writes.",
                            "Map each property once.")
            written[t] = p.where
        out.append(p)
    return tuple(out)


def _parse_prop(
    name: str, raw: Any, by_name: Mapping[str, Property], owner: str, file: Path, where: str
) -> PropSpec:
    if isinstance(raw, (str, int)) and not isinstance(raw, bool):
        raw = {"column": str(raw)}
    spec = _check_keys(raw, _PROP_KEYS, file, where, "{column: 出生日期, transform: year}")
    tname = spec.get("transform")
    if tname is not None and tname not in TRANSFORMS:
        raise _fail(file, f"{where}.transform", f"unknown transform {tname!r}.",
                    f"{_close(str(tname), sorted(TRANSFORMS))}Known transforms: {', '.join(sorted(TRANSFORMS))}.")
    tr = TRANSFORMS[tname] if tname else None
    if tr is not None and tr.outputs:
        missing = [t for t in tr.outputs if t not in by_name]
        if missing:
            raise _fail(file, f"{where}.transform", f"{tname} writes {', '.join(tr.outputs)}, but {owner} has no "
                        f"{', '.join(missing)}.", f"Use {tname} only on a type with those properties.")
        targets = tr.outputs
    elif name in by_name:
        targets = (name,)
    else:
        raise _fail(file, where, f"{owner} has no property {name!r}.",
                    f"{_close(name, list(by_name))}Known properties: {', '.join(by_name) or '(none)'}.")
    prop = by_name[targets[0]]
    is_list = len(targets) == 1 and prop.type is PropType.STRING_LIST

    sources = [k for k in ("column", "columns", "value") if k in spec]
    if len(sources) != 1:
        raise _fail(file, where, f"needs exactly one of column, columns or value (found {sources or 'none'}).",
                    "Write {column: 姓名}, {columns: [经度, 纬度], transform: gcj02} or {value: six_category}.")
    if "value" in spec:
        extra = [k for k in spec if k != "value"]
        if extra:
            raise _fail(file, f"{where}.{extra[0]}", "does not combine with value.", "A constant is used as given.")
        if tr is not None and tr.outputs:
            raise _fail(file, where, f"{tname} needs a column.", "Map it from a column.")
        return PropSpec(name, where, targets, value=spec["value"], is_list=is_list)

    arity = tr.columns if tr else 1
    if "columns" in spec:
        cols = spec["columns"]
        if not isinstance(cols, list) or not all(isinstance(c, str) and c.strip() for c in cols):
            raise _fail(file, f"{where}.columns", f"{cols!r} is not a list of column names.",
                        "Write columns: [经度, 纬度].")
        columns = tuple(c.strip() for c in cols)
    else:
        col = spec["column"]
        if not isinstance(col, (str, int)) or not str(col).strip():
            raise _fail(file, f"{where}.column", f"{col!r} is not a column name.", "Write column: 姓名.")
        columns = (str(col).strip(),)
    if len(columns) != arity:
        need = f"columns: [a, b] with transform {tname}" if arity == 2 else "column: <name>"
        raise _fail(file, where, f"reads {len(columns)} column(s), but {tname or 'the property'} needs {arity}.",
                    f"Write {need}.")

    split = None
    if "split" in spec:
        if not is_list:
            raise _fail(file, f"{where}.split", f"{owner}.{targets[0]} is not a list property.",
                        "Use split only for list properties such as languages or skills.")
        try:
            split = re.compile(str(spec["split"]))
        except re.error as exc:
            raise _fail(file, f"{where}.split", f"{spec['split']!r} is not a regular expression ({exc}).",
                        'Write e.g. split: "[,;，；、/]".') from None
    strict = spec.get("strict", False)
    if not isinstance(strict, bool):
        raise _fail(file, f"{where}.strict", f"{strict!r} is not true or false.", "Write strict: true.")
    if strict and (len(targets) != 1 or prop.vocabulary is None):
        raise _fail(file, f"{where}.strict", f"{owner}.{targets[0]} has no vocabulary.",
                    "Use strict only on vocabulary properties such as languages or skills.")
    kind_column = spec.get("kind_column")
    if kind_column is not None and tname != "identity":
        raise _fail(file, f"{where}.kind_column", "only applies to transform: identity.", "Remove it.")
    if kind_column is not None and (not isinstance(kind_column, str) or not kind_column.strip()):
        raise _fail(file, f"{where}.kind_column", f"{kind_column!r} is not a column name.",
                    "Write kind_column: 证件类型.")
    default = spec.get("default")
    if default is not None and arity != 1:
        raise _fail(file, f"{where}.default", f"does not apply to {tname}.", "Remove it.")
    return PropSpec(
        name, where, targets, columns,
        transform=tname or DEFAULT_TRANSFORM.get(prop.type, "str"),
        split=split, default=default, kind_column=kind_column.strip() if kind_column else None, is_list=is_list,
        strict_vocabulary=prop.vocabulary if strict else None,
    )


__all__ = [
    "DEFAULT_TRANSFORM", "EndpointSpec", "JobSpec", "LookupMatch", "LookupSpec", "NodeSpec", "PropSpec", "RelSpec",
    "SourceSpec", "Template",
    "DocumentsSpec", "load_job", "load_pipeline", "parse_documents", "name_properties", "parse_job",
]
