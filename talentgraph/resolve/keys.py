"""Comparison keys for people's names, phones and dates: one spelling for the many a register uses.

A name arrives as 张伟, ZHANG Wei, Wei Zhang, Наталья, Natalya, 김민수, Kim Min-su or Minsu Kim. Every
form is turned into tokens in Latin letters (pinyin for Han characters, the Revised Romanization for
Hangul, ``anyascii`` for other scripts and diacritics), hyphenated given names are joined, and the
tokens are sorted so that order swaps meet. A light skeleton then folds spelling choices that
transliterations disagree on (Natalia / Natalya, Aleksandr / Alexander). Nothing here decides a
match: these keys feed blocking and comparisons, whose weights the model learns from the data.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from anyascii import anyascii
from pypinyin import lazy_pinyin

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_SPACE_FREE = re.compile(r"^[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3\uf900-\ufaff]+$")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_APOSTROPHES = re.compile(r"['’ʼ`´]")
_JOINERS = re.compile(r"(?<=\w)[-‐‑](?=\w)")
_REPEATS = re.compile(r"(.)\1+")

# Korean surnames have several romanisations in real documents; the Revised Romanization that
# anyascii produces for Hangul is folded to the spelling passports mostly carry.
_KOREAN_SURNAMES = {
    "gim": "kim", "i": "lee", "yi": "lee", "ri": "lee", "rhee": "lee", "bak": "park", "pak": "park",
    "choe": "choi", "jeong": "jung", "chung": "jung", "gang": "kang", "jo": "cho", "yun": "yoon",
    "jang": "jang", "im": "lim", "han": "han", "o": "oh", "seo": "suh", "sin": "shin", "gwon": "kwon",
    "hwang": "hwang", "an": "ahn", "song": "song", "ryu": "yoo", "yu": "yoo", "hong": "hong",
}
# Folds applied to every token after romanisation, in order: spelling choices between transliteration
# systems, not sounds of any one language.
_FOLDS = (("kh", "h"), ("ph", "f"), ("x", "ks"), ("w", "v"), ("y", "i"), ("j", "i"), ("ue", "u"), ("oe", "o"),
          ("ae", "a"))


def _script_tokens(text: str) -> list[str]:
    """Latin tokens of one name written in one script; CJK/Hangul names are surname + given name."""
    if _SPACE_FREE.match(text):
        surname, given = text[0], text[1:]
        if _HANGUL.search(text):
            sur = anyascii(surname).lower()
            return [_KOREAN_SURNAMES.get(sur, sur), anyascii(given).lower()] if given else [sur]
        if _HAN.search(text):
            return [_pinyin(surname), _pinyin(given)] if given else [_pinyin(surname)]
        return [anyascii(text).lower()]
    text = _JOINERS.sub("", text)
    latin = anyascii(text) if not text.isascii() else text
    latin = _APOSTROPHES.sub("", latin).lower()
    tokens = [t for t in _NOT_ALNUM.split(latin) if t]
    if len(tokens) >= 2:  # a romanised Korean surname among the tokens folds as it does from Hangul
        tokens = [_KOREAN_SURNAMES.get(t, t) if t in ("gim", "rhee", "bak", "pak", "choe") else t for t in tokens]
    return tokens


@lru_cache(maxsize=1 << 16)
def _pinyin(han: str) -> str:
    # Surnames and given names repeat across a population: each is converted once (pypinyin ~25 µs a call).
    return "".join(lazy_pinyin(han))


def fold(token: str) -> str:
    for a, b in _FOLDS:
        token = token.replace(a, b)
    return _REPEATS.sub(r"\1", token)


def name_key(text: str | None) -> str | None:
    """One key for a name in any script, order and spelling: sorted, folded Latin tokens."""
    if not text:
        return None
    return _name_key(text)


@lru_cache(maxsize=1 << 17)
def _name_key(text: str) -> str | None:
    # A record's name and Latin name each feed two keys, and names repeat: one computation per distinct text.
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return None
    tokens = sorted(fold(t) for t in _script_tokens(text) if t)
    return " ".join(tokens) or None


def name_keys(names: Iterable[str | None]) -> list[str]:
    """Distinct keys of every form a record gives (own script, Latin spelling, other names)."""
    out: list[str] = []
    for n in names:
        k = name_key(n)
        if k and k not in out:
            out.append(k)
    return out


def phone_key(phone: str | None) -> str | None:
    """Digits only, without the country code of a Chinese number: +86 138… and 138… meet."""
    if not phone:
        return None
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits or None
