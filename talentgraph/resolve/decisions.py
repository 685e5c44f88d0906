"""A data steward's decisions on pairs: accepted or rejected, kept across re-runs of the model.

An append-only JSON-lines file in the data directory (``resolve/decisions.jsonl``); the latest line
about a pair wins, so the history of a decision stays readable. A decision is about two record ids,
not about a score: re-training the model never undoes it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from talentgraph.errors import ConfigError

Verdict = Literal["accept", "reject"]


@dataclass(frozen=True)
class Decision:
    a: str
    b: str
    verdict: Verdict
    by: str
    at: str
    note: str = ""


def pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


class DecisionLog:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[tuple[str, str], Decision]:
        out: dict[tuple[str, str], Decision] = {}
        if not self.path.exists():
            return out
        with self.path.open(encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    d = json.loads(line)
                    decision = Decision(d["a"], d["b"], d["verdict"], d.get("by", ""), d.get("at", ""),
                                        d.get("note", ""))
                except (ValueError, KeyError, TypeError) as exc:
                    raise ConfigError(f"{self.path}:{n}: not a resolution decision ({exc}).",
                                      hint="Each line is a JSON object with a, b and verdict (accept|reject).") \
                        from None
                if decision.verdict not in ("accept", "reject"):
                    raise ConfigError(f"{self.path}:{n}: verdict {decision.verdict!r} is not accept or reject.")
                out[pair(decision.a, decision.b)] = decision
        return out

    def record(self, decisions: list[Decision]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            for d in decisions:
                a, b = pair(d.a, d.b)
                f.write(json.dumps({"a": a, "b": b, "verdict": d.verdict, "by": d.by, "at": d.at, "note": d.note},
                                   ensure_ascii=False) + "\n")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
