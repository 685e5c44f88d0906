"""Many rows in few Bolt records: a bulk read's rows collected server-side and sent a thousand to a record.

The driver turns every record into a Bolt message of its own: a chunk read off the socket, a message dispatched,
a ``Record`` built, each on the Python side. For the search sync's scans (tens of thousands of rows of twenty
properties) that was half of the main thread's time: 56,154 people read in 4.0 s of CPU one row a record against
2.3 s packed (Neo4j 5.26, driver 6.4 with its Rust codec), the same rows in the same order. So a statement that
returns many rows of named columns (``GraphStore._read_many``) is wrapped::

    CALL { <statement> } WITH collect([col1, col2]) AS rows
    UNWIND range(0, size(rows) - 1, $__pack) AS i RETURN rows[i..i + $__pack] AS packed

``collect`` keeps the order its rows arrive in, and a subquery's rows arrive in the order its RETURN (with its
``ORDER BY``) gives them — the order-dependent reads (keyset pages) are in the contract suite, with packs of two
rows. The column names are read off the statement's last ``RETURN`` (``return_columns``); a statement whose
columns cannot be read with certainty (``RETURN *``, an unnamed expression) is read unpacked.
"""

from __future__ import annotations

import functools
import re

# Rows per record: ~1 MB for a scan's rows, against Bolt's 64 KB chunks; 1,000 and 5,000 measured alike.
PACK_ROWS = 1000
PACK_PARAM = "__pack"

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|`(?:[^`]|``)+`")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CLAUSE_ENDS = ("ORDER", "SKIP", "LIMIT", "UNION")


def _top_level_words(text: str) -> list[tuple[int, str, int]]:
    """(start, WORD, depth) of every bare word outside strings, backticks and comments; depth counts brackets."""
    out: list[tuple[int, str, int]] = []
    depth = 0
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "'\"":
            i += 1
            while i < n and text[i] != c:
                i += 2 if text[i] == "\\" else 1
            i += 1
        elif c == "`":
            end = text.find("`", i + 1)
            if end < 0:
                return []
            i = end + 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif c in "([{":
            depth += 1
            i += 1
        elif c in ")]}":
            depth -= 1
            i += 1
        elif c.isalpha() or c == "_":
            m = _WORD.match(text, i)
            assert m is not None
            out.append((i, m.group().upper(), depth))
            i = m.end()
        else:
            i += 1
    return out


def _split_items(part: str) -> list[str] | None:
    """``part`` split at its top-level commas (None if a bracket or string is left open)."""
    items, depth, start, quote = [], 0, 0, ""
    i = 0
    while i < len(part):
        c = part[i]
        if quote:
            if c == "\\" and quote != "`":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "'\"`":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            items.append(part[start:i])
            start = i + 1
        i += 1
    if quote or depth:
        return None
    items.append(part[start:])
    return items


def _column(item: str) -> str | None:
    """The name a RETURN item gives its column: its alias, or a bare variable; None for anything else."""
    words = [(s, w) for s, w, d in _top_level_words(item) if d == 0]
    aliases = [s for s, w in words if w == "AS"]
    name = item[aliases[-1] + 2:].strip() if aliases else item.strip()
    if not _IDENT.fullmatch(name):
        return None
    return name


@functools.lru_cache(maxsize=512)
def return_columns(text: str) -> tuple[str, ...] | None:
    """The column names of ``text``'s final RETURN, as Cypher names them (backticks kept), or None when they
    cannot be read with certainty."""
    words = _top_level_words(text)
    if not words:
        return None
    returns = [k for k, (_s, w, d) in enumerate(words) if w == "RETURN" and d == 0]
    if not returns:
        return None
    k = returns[-1]
    start = words[k][0] + len("RETURN")
    end = len(text)
    for s, w, d in words[k + 1:]:
        if d == 0 and w in _CLAUSE_ENDS:
            end = s
            break
    body = text[start:end].strip()
    if body.upper().startswith("DISTINCT") and (len(body) == 8 or not (body[8].isalnum() or body[8] == "_")):
        body = body[8:].strip()
    items = _split_items(body)
    if not items or body == "*":
        return None
    columns = [_column(item) for item in items]
    if any(c is None for c in columns) or len(set(columns)) != len(columns):
        return None
    return tuple(c for c in columns if c is not None)


@functools.lru_cache(maxsize=512)
def packed(text: str) -> tuple[str, tuple[str, ...]] | None:
    """``text`` wrapped to send its rows ``$__pack`` to a record (as ``[row values]`` lists), with the column names
    they come in; None when its columns cannot be read (read it unpacked)."""
    columns = return_columns(text)
    if columns is None or PACK_PARAM in text:
        return None
    row = ", ".join(columns)
    return (f"CALL {{ {text} }} WITH collect([{row}]) AS rows "
            f"UNWIND range(0, size(rows) - 1, ${PACK_PARAM}) AS i RETURN rows[i..i + ${PACK_PARAM}] AS packed",
            tuple(c.strip("`").replace("``", "`") if c.startswith("`") else c for c in columns))


__all__ = ["PACK_PARAM", "PACK_ROWS", "packed", "return_columns"]
