"""Entity patterns derived from the graph and the ontology.

(a) ``gazetteer_patterns``: one phrase pattern per (surface form, type) of the gazetteer, for spaCy's span
    ruler: every name a register has is found where the text writes it as whole tokens.
(b) ``FormMatcher``: a name no register has, recognised by its form: a type's ending (``NodeType.name_suffixes``:
    党支部, 广场, 有限公司, "Volunteer Team") preceded by a plausible name part.

    Chinese: the name part is the run of tokens right before the ending, at most ``MAX_HAN_NAME`` characters
    (at least ``MIN_HAN_NAME``), stopped by punctuation, spaces, function words, verbs and time words that
    open a clause (与/和/在/的/召开/今年 …: ``ZH_STOP``) — "今年在联洋社区党委" gives 联洋社区党委. The ending
    may start inside a token (东馆 = 东 + 馆) but must end at a token end (馆 in 馆长 is no ending). The
    ending alone is never a name (图书馆, 志愿服务队 are common nouns).
    English: one to ``MAX_EN_WORDS`` Title-Case words right before the ending ("Lianyang Volunteer Team"),
    without leading articles and other capitalised function words.

    These are written as code over tokens rather than spaCy token patterns: an ending inside a jieba token and
    a name part capped in characters are not expressible in the Matcher's pattern language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from spacy.tokens import Doc

from talentgraph.schema.ontology import ONTOLOGY
from talentgraph.text.gazetteer import Gazetteer, entity_types

MIN_HAN_NAME = 2
MAX_HAN_NAME = 8
MAX_EN_WORDS = 5
RULER_ID = "ruler"

_HAN_CH = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN = re.compile(f"[{_HAN_CH}]")
# A token that can be part of a Chinese name: Han, Latin letters, digits, the middle dot of transliterations.
_NAME_TOKEN = re.compile(f"^[{_HAN_CH}A-Za-z0-9·]+$")

# Tokens that end a Chinese name part going leftwards: function words, measure words, and the verbs, time
# and deictic words that usually open the clause a name stands in.
ZH_STOP = frozenset("""
与 和 及 以及 或 或者 在 于 的 地 得 了 着 过 是 为 对 向 从 由 把 被 将 给 让 到 至 跟 同 也 都 还 又 并 并且 而 等 等等
各 每 本 该 此 其 之 这 那 这个 那个 这些 那些 这里 该项 我们 他们 她们 大家 全体 所有 有关 相关 各类 各项 各个 多个 多家 一批
共 共有 有 约 近 逾 余 多 个 名 家 位 户 人 处 座 项 次 支 年 月 日 上 下 内 里 前 后 以 以上 以下 左右
今年 去年 明年 近日 日前 目前 近年 近年来 当天 当日 上午 下午 晚上 届时 此前 随后 同时 此外 其中 如今 已经 已 正在 正 将要
召开 组织 开展 举办 举行 参加 参与 来到 走进 前往 位于 成立 依托 联合 携手 通过 邀请 支持 协助 带领 牵头 发起 来自 包括 设有
设立 新建 建成 建立 启用 打造 推出 推动 推进 围绕 针对 结合 加入 担任 成为 作为 属于 看望 慰问 走访 表示 介绍 指出 认为 获得
荣获 评为 入选 为了 关于 根据 按照 经过 由于 因为 所以 但是 不过 如果 还有 另外 首先 其次 最后
经 据 据统计 另据统计 统计 组建 批准 隶属 指导 认领 入驻 新成立 新开业 开业 共同 分别 会上 会议 经协调 协调
主动 对接 设在 阵地 当选 同志 启动
""".split())

EN_STOP = frozenset("""
The A An This That These Those Our Its Their His Her My Your Every Each All Some Many Most Several Other
In At On From To For With By Of And Or But As Since After Before During When While Today Yesterday Tomorrow
Last Next New Local Several Both Dear Mr Mrs Ms Dr
""".split())


def gazetteer_patterns(gazetteer: Gazetteer) -> list[dict[str, str]]:
    """Span-ruler phrase patterns: every surface, labelled with each type it names."""
    out: list[dict[str, str]] = []
    for surface, entries in gazetteer.items():
        for type_name in dict.fromkeys(e.type for e in entries):
            out.append({"label": type_name, "pattern": surface, "id": RULER_ID})
    return out


@dataclass(frozen=True)
class FormMatch:
    start: int  # characters in the document text
    end: int
    type: str
    suffix: str
    name_size: int  # characters (Chinese) or words (English) of the name part before the ending

    @property
    def latin(self) -> bool:
        return not _HAN.search(self.suffix)


def form_suffixes() -> dict[str, tuple[str, ...]]:
    """Type → its name endings, from the ontology (types that registers hold and documents mention)."""
    return {t: ONTOLOGY.node(t).name_suffixes for t in entity_types() if ONTOLOGY.node(t).name_suffixes}


class FormMatcher:
    """Finds names by their form (module docstring); one instance per pipeline, stateless per call."""

    def __init__(self, suffixes: dict[str, tuple[str, ...]] | None = None) -> None:
        table = form_suffixes() if suffixes is None else suffixes
        # One ending may belong to several types; the first type in ontology order keeps it.
        self._type_of: dict[str, str] = {}
        for type_name, sfx in table.items():
            for s in sfx:
                self._type_of.setdefault(s, type_name)
        han = sorted((s for s in self._type_of if _HAN.search(s)), key=len, reverse=True)
        lat = sorted((s for s in self._type_of if not _HAN.search(s)), key=len, reverse=True)
        # A lookahead finds an ending at every position (overlapping: 志愿服务队 and 服务队 both), longest first.
        self._han = re.compile("(?=(" + "|".join(map(re.escape, han)) + "))") if han else None
        self._lat = re.compile(r"(?<![A-Za-z])(?=(" + "|".join(map(re.escape, lat)) + r")(?![A-Za-z]))") if lat else None
        self._han_sorted = tuple(han)

    def find(self, doc: Doc) -> list[FormMatch]:
        text = doc.text
        if not text:
            return []
        starts = {t.idx: t.i for t in doc}
        ends = {t.idx + len(t.text): t.i for t in doc}
        found: dict[tuple[int, int, str], FormMatch] = {}
        if self._han is not None:
            for m in self._han.finditer(text):
                fm = self._han_match(doc, text, m.start(), m.group(1), ends)
                if fm is not None:
                    found.setdefault((fm.start, fm.end, fm.type), fm)
        if self._lat is not None:
            for m in self._lat.finditer(text):
                fm = self._latin_match(doc, m.start(), m.group(1), starts)
                if fm is not None:
                    found.setdefault((fm.start, fm.end, fm.type), fm)
        return sorted(found.values(), key=lambda f: (f.start, -f.end))

    def _han_match(self, doc: Doc, text: str, s_start: int, suffix: str, ends: dict[int, int]) -> FormMatch | None:
        s_end = s_start + len(suffix)
        if s_end not in ends:  # the ending must end a token (馆 of 馆长 is not an ending)
            return None
        # The token the ending starts in: its characters before the ending are part of the name (东 of 东馆).
        tok = doc[ends[s_end]]
        while tok.idx > s_start:
            tok = doc[tok.i - 1]
        name_start = s_start
        head = text[tok.idx:s_start]
        if head:
            if not _NAME_TOKEN.match(head) or head in ZH_STOP:
                return None
            name_start = tok.idx
        i = tok.i - 1
        while i >= 0:
            t = doc[i]
            if t.whitespace_ or not _NAME_TOKEN.match(t.text) or t.text in ZH_STOP:
                break
            if s_start - t.idx > MAX_HAN_NAME:
                break
            name_start = t.idx
            i -= 1
        # The ending alone is never a name: measured against the longest ending the match ends with, so the
        # 服务站 inside 外籍人士服务站 or the 馆 of 图书馆 does not make a common noun a name.
        ending = self._longest_ending(text[name_start:s_end])
        size = s_end - len(ending) - name_start
        if size < MIN_HAN_NAME:
            return None
        return FormMatch(name_start, s_end, self._type_of[ending], ending, size)

    def _longest_ending(self, name: str) -> str:
        for s in self._han_sorted:
            if name.endswith(s):
                return s
        return ""  # unreachable: the name ends with the ending it was found by

    def _latin_match(self, doc: Doc, s_start: int, suffix: str, starts: dict[int, int]) -> FormMatch | None:
        if s_start not in starts:
            return None
        i = starts[s_start] - 1
        words = 0
        name_start = s_start
        while i >= 0 and words < MAX_EN_WORDS:
            t = doc[i]
            w = t.text
            if not (w[:1].isupper() and w.replace("-", "").replace("'", "").isalnum()) or w in EN_STOP:
                break
            if not t.whitespace_:  # "Plaza,Thumb" or a Han character glued on: not one name
                break
            name_start = t.idx
            words += 1
            i -= 1
        if words == 0:
            return None
        end = s_start + len(suffix)
        return FormMatch(name_start, end, self._type_of[suffix], suffix, words)


def all_suffixes(types: Iterable[str] | None = None) -> list[str]:
    """Every ending of ``types`` (default: every entity type), longest first."""
    table = form_suffixes()
    names = list(types) if types is not None else list(table)
    return sorted({s for t in names for s in table.get(t, ())}, key=len, reverse=True)
