"""Language cells with a level attached: ``汉语(HSK4)``, ``英语（流利）``, ``Russian (native)``, ``日语 N2``.

Registers write the level into the language cell more often than into a column of its own. The
level is read into the scale ``Person.language_levels`` uses (CEFR A1–C2 or ``native``):

========================  ==========================================================
written                   level
========================  ==========================================================
A1 … C2                   itself
HSK 1 … 6 (7–9)           A1, A2, B1, B2, C1, C2 (C2): the usual HSK ↔ CEFR alignment
JLPT N5 … N1              A1, A2, B1, B2, C1
TOPIK 1 … 6               A1, A2, B1, B2, C1, C2
native, 母语, mother tongue  native
入门, beginner             A1
基础, 初级, basic, elementary  A2
一般, 中等, 中级, 日常会话, intermediate, conversational  B1
良好, 较好, good, upper intermediate  B2
流利, 熟练, 高级, fluent, advanced  C1
精通, proficient           C2
========================  ==========================================================

Only a qualifier that reads as a level is split off: ``英语(商务)`` stays one unknown value for
review rather than silently losing its qualifier.
"""

from __future__ import annotations

import re
import unicodedata

CEFR = ("A1", "A2", "B1", "B2", "C1", "C2")
_HSK = {1: "A1", 2: "A2", 3: "B1", 4: "B2", 5: "C1", 6: "C2", 7: "C2", 8: "C2", 9: "C2"}
_JLPT = {5: "A1", 4: "A2", 3: "B1", 2: "B2", 1: "C1"}
_TOPIK = {1: "A1", 2: "A2", 3: "B1", 4: "B2", 5: "C1", 6: "C2"}
_WORDS: dict[str, str] = {
    **dict.fromkeys(("native", "native speaker", "母语", "母語", "mother tongue", "l1", "本族语"), "native"),
    **dict.fromkeys(("入门", "beginner"), "A1"),
    **dict.fromkeys(("基础", "初级", "basic", "elementary"), "A2"),
    **dict.fromkeys(("一般", "中等", "中级", "日常会话", "日常交流", "intermediate", "conversational"), "B1"),
    **dict.fromkeys(("良好", "较好", "good", "upper intermediate"), "B2"),
    **dict.fromkeys(("流利", "熟练", "高级", "fluent", "advanced"), "C1"),
    **dict.fromkeys(("精通", "proficient"), "C2"),
}
_BRACKETED = re.compile(r"^(?P<base>.+?)\s*[(\[【](?P<q>[^()\[\]【】]+)[)\]】]$")
_TRAILING = re.compile(r"^(?P<base>.+?)[\s:\-]+(?P<q>(?:新?(?:hsk|jlpt|topik)\s*n?\s*\d\s*级?)|[^\s:\-]+)$",
                       re.IGNORECASE)
_EXAM = re.compile(r"^(?:新)?(?P<exam>hsk|jlpt|topik)?\s*(?P<n>n?)\s*(?P<num>\d)\s*级?$")


def level_of(text: str) -> str | None:
    """``'HSK4'`` → ``'B2'``, ``'流利'`` → ``'C1'``, ``'native'`` → ``'native'``; None when it is no level."""
    q = unicodedata.normalize("NFKC", text).strip().casefold()
    q = re.sub(r"\s+", " ", q)
    if q.upper() in CEFR:
        return q.upper()
    if q in _WORDS:
        return _WORDS[q]
    m = _EXAM.match(q)
    if m is None:
        return None
    exam, n, num = m.group("exam"), bool(m.group("n")), int(m.group("num"))
    if n and exam in (None, "jlpt"):
        return _JLPT.get(num)
    if exam == "hsk" and not n:
        return _HSK.get(num)
    if exam == "topik" and not n:
        return _TOPIK.get(num)
    return None


def split_level(text: str) -> tuple[str, str] | None:
    """(language text, level) when ``text`` ends in a level qualifier, else None."""
    norm = unicodedata.normalize("NFKC", text).strip()
    for pattern in (_BRACKETED, _TRAILING):
        m = pattern.match(norm)
        if m is not None:
            level = level_of(m.group("q"))
            base = m.group("base").strip()
            if level is not None and base:
                return base, level
    return None


__all__ = ["CEFR", "level_of", "split_level"]
