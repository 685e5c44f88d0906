"""Who is calling: the one value every later access decision reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Via = Literal["key", "jwt", "open", "local", "session"]


@dataclass(frozen=True)
class Principal:
    """An authenticated caller.

    ``areas`` are Area ids (residential areas or buildings) that scope a ``staff`` role's PERSONAL
    reads; empty for every other role. ``via`` says how the caller was recognised: an API key, a
    JWT from the identity provider, ``open`` (the loopback-only ``--open`` mode) or ``local``
    (a CLI command on the server host, holding the data directory's admin token) or ``session``
    (the staff page's sign-in cookie, standing for an API key that is re-checked on every request).
    """

    name: str
    role: str
    areas: tuple[str, ...] = field(default=())
    via: Via = "key"

    def describe(self) -> str:
        scope = f" in {', '.join(self.areas)}" if self.areas else ""
        return f"{self.name} ({self.role}{scope}, via {self.via})"
