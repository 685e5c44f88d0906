"""Where the browser tests put the README's screenshots (docs/screenshots)."""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@functools.cache
def draws_chinese() -> bool:
    """Whether fontconfig, which Chromium on Linux draws its text with, has a font for Chinese."""
    if shutil.which("fc-list") is None:
        return False
    listed = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=60)
    return bool(listed.stdout.strip())


def readme_screenshot(name: str, scratch: Path) -> Path:
    """``docs/screenshots/<name>`` where the browser draws Chinese; elsewhere ``scratch/<name>`` (the shot is
    still taken): a machine without a CJK font draws a box for every Chinese character, and twice a test run on
    one replaced the README's images with those."""
    where = DOCS if draws_chinese() else scratch
    where.mkdir(parents=True, exist_ok=True)
    return where / name
