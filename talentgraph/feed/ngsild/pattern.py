"""``idPattern``: the regular expressions entity ids are matched with, in time linear in the id.

CIM 009 takes a regular expression here. Python's ``re`` backtracks, so a hostile pattern
(``(a+)+b``, ``a*a*a*a*b``) could hold a worker for minutes; instead the pattern is compiled into a
small automaton and run state-set by state-set (Thompson), which is linear whatever the pattern.

Supported: literals, ``.``, classes ``[a-z0-9_]`` / ``[^…]``, escapes ``\\d \\w \\s \\D \\W \\S`` and escaped
punctuation, the quantifiers ``* + ?`` on one atom, ``^`` at the start and ``$`` at the end. Groups,
alternation, ``{m,n}``, backreferences and lookarounds are refused by name. Matching is a search
(the pattern may match anywhere in the id) unless anchored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from talentgraph.feed.ngsild.errors import bad_request, unsupported

MAX_PATTERN_LENGTH = 256

CharTest = Callable[[str], bool]

_CLASSES: dict[str, CharTest] = {
    "d": str.isdigit, "D": lambda c: not c.isdigit(),
    "w": lambda c: c.isalnum() or c == "_", "W": lambda c: not (c.isalnum() or c == "_"),
    "s": str.isspace, "S": lambda c: not c.isspace(),
}


@dataclass(frozen=True)
class _Atom:
    test: CharTest
    quant: str  # "" | "*" | "+" | "?"


@dataclass(frozen=True)
class IdPattern:
    source: str
    atoms: tuple[_Atom, ...]
    start: bool  # anchored at the start
    end: bool  # anchored at the end

    def _closure(self, states: set[int]) -> set[int]:
        out, todo = set(), list(states)
        while todo:
            i = todo.pop()
            if i in out:
                continue
            out.add(i)
            if i < len(self.atoms) and self.atoms[i].quant in ("*", "?"):
                todo.append(i + 1)  # an optional atom may be skipped
        return out

    def search(self, text: str) -> bool:
        n = len(self.atoms)
        states = self._closure({0})
        for ch in text:
            if n in states and not self.end:
                return True
            nxt: set[int] = set()
            for i in states:
                if i < n and self.atoms[i].test(ch):
                    nxt.add(i + 1)
                    if self.atoms[i].quant in ("*", "+"):
                        nxt.add(i)  # repeat
            if not self.start:
                nxt.add(0)  # a search: a match may begin at the next character
            states = self._closure(nxt)
        return n in states


def compile_pattern(source: str) -> IdPattern:
    if len(source) > MAX_PATTERN_LENGTH:
        raise bad_request("idPattern", source, f"a pattern of at most {MAX_PATTERN_LENGTH} characters")
    text, start, end = source, False, False
    if text.startswith("^"):
        text, start = text[1:], True
    if text.endswith("$") and not text.endswith("\\$"):
        text, end = text[:-1], True
    atoms: list[_Atom] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c in "()|{}":
            what = {"(": "groups", ")": "groups", "|": "alternation", "{": "counted repetition {m,n}",
                    "}": "counted repetition {m,n}"}[c]
            raise unsupported("idPattern", source, what, "use literals, ., [classes], \\d \\w \\s and * + ?")
        if c in "^$":
            raise unsupported("idPattern", source, f"{c!r} inside the pattern", "anchor only at its start (^) or end ($)")
        if c in "*+?":
            raise bad_request("idPattern", source, f"something to repeat before {c!r} at character {i + 1}")
        if c == "\\":
            if i + 1 >= len(text):
                raise bad_request("idPattern", source, "a character after the final backslash")
            e = text[i + 1]
            if e in _CLASSES:
                test = _CLASSES[e]
            elif e.isalnum():
                raise unsupported("idPattern", source, f"the escape \\{e}", "escape punctuation only, or use \\d \\w \\s")
            else:
                test = _literal(e)
            i += 2
        elif c == ".":
            test, i = (lambda ch: ch != "\n"), i + 1
        elif c == "[":
            test, i = _class(source, text, i)
        else:
            test, i = _literal(c), i + 1
        quant = ""
        if i < len(text) and text[i] in "*+?":
            quant = text[i]
            i += 1
            if i < len(text) and text[i] in "*+?":
                raise unsupported("idPattern", source, f"the quantifier {text[i - 1:i + 1]!r} (lazy or possessive)",
                                  "use a single * + or ?")
        atoms.append(_Atom(test, quant))
    return IdPattern(source, tuple(atoms), start, end)


def _literal(c: str) -> CharTest:
    return lambda ch: ch == c


def _class(source: str, text: str, i: int) -> tuple[CharTest, int]:
    j = i + 1
    negate = j < len(text) and text[j] == "^"
    if negate:
        j += 1
    singles: set[str] = set()
    ranges: list[tuple[str, str]] = []
    tests: list[CharTest] = []
    first = True
    while j < len(text) and (text[j] != "]" or first):
        first = False
        c = text[j]
        if c == "\\" and j + 1 < len(text):
            e = text[j + 1]
            if e in _CLASSES:
                tests.append(_CLASSES[e])
            else:
                singles.add(e)
            j += 2
            continue
        if j + 2 < len(text) and text[j + 1] == "-" and text[j + 2] != "]":
            if text[j + 2] < c:
                raise bad_request("idPattern", source, f"a range whose start is not after its end ({c}-{text[j + 2]})")
            ranges.append((c, text[j + 2]))
            j += 3
            continue
        singles.add(c)
        j += 1
    if j >= len(text):
        raise bad_request("idPattern", source, "a closing ] for the class opened at character "
                          f"{i + 1 + (1 if source.startswith('^') else 0)}")

    def test(ch: str) -> bool:
        hit = ch in singles or any(a <= ch <= b for a, b in ranges) or any(t(ch) for t in tests)
        return hit != negate
    return test, j + 1
