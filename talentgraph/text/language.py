"""A blank spaCy ``Language`` per document language, with the tokenizer every stage shares.

Chinese: spaCy's ``zh`` language with its segmenter replaced by jieba (jieba-rs through ``rjieba``, the same
cuts the search analysis makes), fed the graph's names and the vocabularies' labels so a known name is never
cut through. Training (``text/train.py``), the shipped model and the running pipeline all tokenise through
``blank``: a model trained on one tokenisation and run on another finds nothing.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable

import rjieba
import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.vocab import Vocab

LANGUAGES = ("zh", "en")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Runs jieba is given; everything between (Latin words, numbers, punctuation, spaces) is cut here, so a
# number such as 2,136 stays one token beside Chinese text.
_HAN_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_OTHER = re.compile(r"\s+|\d[\d,，.]*\d|\d|[A-Za-z][A-Za-z'’\-]*|[^\sA-Za-z\d]")


class JiebaTokenizer:
    """Cuts Han runs with a private jieba dictionary (graph names and vocabulary labels added as words)."""

    def __init__(self, vocab: Vocab, words: Iterable[str] = ()) -> None:
        self.vocab = vocab
        self._lock = threading.Lock()
        self._jieba = rjieba.Jieba()
        self._words: set[str] = set()
        self.add_words(words)

    def add_words(self, words: Iterable[str]) -> int:
        """Make each CJK word of two or more characters one token (jieba keeps only Han dictionary words)."""
        n = 0
        with self._lock:
            for w in words:
                w = unicodedata.normalize("NFKC", w).strip()
                if len(w) < 2 or w in self._words or not all(_CJK.match(c) for c in w):
                    continue
                self._jieba.add_word(w, int(self._jieba.suggest_freq(w)), None)
                self._words.add(w)
                n += 1
        return n

    def __call__(self, text: str) -> Doc:
        words: list[str] = []
        spaces: list[bool] = []
        pos = 0
        for m in _HAN_RUN.finditer(text):
            self._other(text[pos:m.start()], words, spaces)
            for w in self._jieba.cut(m.group(), False):
                words.append(w)
                spaces.append(False)
            pos = m.end()
        self._other(text[pos:], words, spaces)
        return Doc(self.vocab, words=words, spaces=spaces)

    @staticmethod
    def _other(chunk: str, words: list[str], spaces: list[bool]) -> None:
        # Whitespace is carried as the previous token's trailing space where it is one space, else as tokens
        # of its own, so ``doc.text == text`` and every character offset holds.
        for m in _OTHER.finditer(chunk):
            t = m.group()
            if t == " " and words and not spaces[-1]:
                spaces[-1] = True
                continue
            words.append(t)
            spaces.append(False)
        # _OTHER matches every character, so nothing is dropped between matches.

    # spaCy serialises a pipeline's tokenizer; the words come from the graph at load time, not from disk.
    def to_bytes(self, **_: object) -> bytes:
        return b""

    def from_bytes(self, _data: bytes, **_: object) -> "JiebaTokenizer":
        return self

    def to_disk(self, _path: object, **_: object) -> None:
        return None

    def from_disk(self, _path: object, **_: object) -> "JiebaTokenizer":
        return self


@spacy.registry.tokenizers("talentgraph.jieba.v1")  # type: ignore[attr-defined,untyped-decorator]
def _make_jieba() -> object:
    def create(nlp: Language) -> JiebaTokenizer:
        return JiebaTokenizer(nlp.vocab)
    return create


def blank(language: str, words: Iterable[str] = ()) -> Language:
    """A blank pipeline for ``language`` ("zh" or "en") whose tokenizer knows ``words`` (zh)."""
    if language not in LANGUAGES:
        raise ValueError(f"No text pipeline for language {language!r}; known: {', '.join(LANGUAGES)}.")
    if language == "zh":
        nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"@tokenizers": "talentgraph.jieba.v1"}}})
        tok = nlp.tokenizer
        assert isinstance(tok, JiebaTokenizer)
        tok.add_words(words)
        return nlp
    return spacy.blank("en")


def add_words(nlp: Language, words: Iterable[str]) -> int:
    """Teach a Chinese pipeline's tokenizer more words (no-op for other languages)."""
    tok = nlp.tokenizer
    return tok.add_words(words) if isinstance(tok, JiebaTokenizer) else 0
