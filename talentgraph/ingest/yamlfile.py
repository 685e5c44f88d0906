"""Reading job and pipeline YAML: a repeated key is an error, and errors never quote the file.

PyYAML keeps the last value of a key written twice in one mapping and says nothing, so a second
``phone:`` line silently replaced the first mapping's column (one test run erased 181 phone numbers
that way). ``UniqueKeyLoader`` refuses that at any depth and names both lines.

PyYAML's own messages carry a snippet of the file around the error. A job file sent to a server
(``/admin/ingest``) would have that snippet echoed back to the caller, and the lines around a
mistake can hold whatever the author pasted there; so errors here give the file name, line, column
and PyYAML's description of the problem, never the file's text (a repeated key is named: it is
the one piece of the file the author needs to find).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode

from talentgraph.errors import IngestError

_MERGE_TAG = "tag:yaml.org,2002:merge"


class DuplicateKeyError(yaml.YAMLError):
    """A key written twice in one mapping; lines are 1-based."""

    def __init__(self, key: Any, first_line: int, second_line: int) -> None:
        super().__init__(f"key {key!r} repeated at lines {first_line} and {second_line}")
        self.key = key
        self.first_line = first_line
        self.second_line = second_line


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that raises ``DuplicateKeyError`` for a key repeated in one mapping."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue  # ``<<: *defaults`` may be overridden by explicit keys; that is what it is for
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line
            try:
                if key in seen:
                    raise DuplicateKeyError(key, seen[key] + 1, line + 1)
                seen[key] = line
            except TypeError:
                continue  # an unhashable key: SafeLoader's own check reports it
        return super().construct_mapping(node, deep=deep)


def load_yaml(path: Path, what: str = "Job file") -> Any:
    """The YAML document in ``path``; IngestError (file, line, column, problem) when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise IngestError(f"{what} {path} does not exist.", hint="Check the path.") from None
    except UnicodeDecodeError as exc:
        raise IngestError(f"{path.name} is not UTF-8 text (invalid byte at offset {exc.start}).",
                          hint="Save the file as UTF-8.") from None
    except OSError as exc:
        raise IngestError(f"{what} {path} cannot be read: {exc.strerror}.",
                          hint="Check the path and its permissions.") from None
    try:
        loader = UniqueKeyLoader(text)  # checks the characters first
    except yaml.reader.ReaderError as exc:
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise IngestError(f"{path.name} is not valid YAML: character #x{char:04x} at offset {exc.position}: "
                          f"{exc.reason}.", hint="Remove the character.") from None
    try:
        return loader.get_single_data()
    except DuplicateKeyError as exc:
        raise IngestError(
            f"{path.name}: key {exc.key!r} appears twice in the same mapping, at line {exc.first_line} and "
            f"line {exc.second_line}.",
            hint="YAML would keep only the second value and silently drop the first; remove or rename one of them.",
        ) from None
    except yaml.MarkedYAMLError as exc:
        raise IngestError(f"{path.name} is not valid YAML: {describe(exc)}.",
                          hint="Fix the indentation or quoting at that line.") from None
    except yaml.YAMLError as exc:
        raise IngestError(f"{path.name} is not valid YAML ({type(exc).__name__}).",
                          hint="Check the file with a YAML linter.") from None
    finally:
        loader.dispose()


def describe(exc: yaml.MarkedYAMLError) -> str:
    """Line, column and problem of a PyYAML error, without the snippet of the file PyYAML adds."""
    mark = exc.problem_mark or exc.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    problem = exc.problem or exc.context or type(exc).__name__
    context = ""
    if exc.context and exc.problem and exc.context_mark is not None:
        context = f" ({exc.context} at line {exc.context_mark.line + 1})"
    return f"{where}{problem}{context}"


__all__ = ["DuplicateKeyError", "UniqueKeyLoader", "describe", "load_yaml"]
