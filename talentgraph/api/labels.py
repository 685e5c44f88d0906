"""Vocabulary labels for field values; lenient, because a label is decoration, not data.

A value the vocabulary does not know (an old term, a vocabulary file not shipped yet) still shows
its id, with null labels, rather than failing the whole query.
"""

from __future__ import annotations

from functools import cache

from talentgraph.api.objects import VocabLabel
from talentgraph.errors import TalentgraphError
from talentgraph.schema.vocabularies import Vocabulary, vocabulary


@cache
def _vocab(name: str) -> Vocabulary | None:
    try:
        return vocabulary(name)
    except TalentgraphError:
        return None


def term_labels(vocab_name: str | None, value: object) -> tuple[str | None, str | None]:
    """(zh, en) labels of one value; (None, None) when unknown."""
    vocab = _vocab(vocab_name) if vocab_name else None
    term = vocab.terms.get(str(value)) if vocab is not None else None
    return (term.zh, term.en) if term is not None else (None, None)


def vocab_labels(vocab_name: str, value: object) -> list[VocabLabel]:
    values = value if isinstance(value, (list, tuple)) else ([] if value is None else [value])
    out = []
    for v in values:
        zh, en = term_labels(vocab_name, v)
        out.append(VocabLabel(id=str(v), zh=zh, en=en))
    return out
