#!/usr/bin/env python3
"""Regenerate talentgraph/search/readings/hangul.tsv (Hangul readings of Hanja) from the Unicode Unihan
database's kHangul field.

    apt-get install unicode-data   # Debian: /usr/share/unicode/Unihan_Readings.txt.bz2
    python scripts/hangul_readings.py [/usr/share/unicode/Unihan_Readings.txt.bz2]
"""

from __future__ import annotations

import bz2
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "talentgraph" / "search" / "readings" / "hangul.tsv"
HEADER = """\
# Hangul readings of Han characters (Hanja): Unicode Unihan database 15.0, field kHangul
# (https://www.unicode.org/reports/tr38/; terms of use: https://www.unicode.org/terms_of_use.html).
# One character a line, its readings space-separated, the usual first. Regenerate with
# scripts/hangul_readings.py from Debian's unicode-data (Unihan_Readings.txt.bz2).
"""


def main(source: str = "/usr/share/unicode/Unihan_Readings.txt.bz2") -> int:
    rows = []
    with bz2.open(source, "rt", encoding="utf-8") as f:
        for line in f:
            if "\tkHangul\t" not in line:
                continue
            cp, _field, value = line.rstrip("\n").split("\t")
            readings = dict.fromkeys(v.split(":")[0] for v in value.split())
            rows.append(f"{chr(int(cp[2:], 16))}\t{' '.join(readings)}")
    OUT.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    print(f"{len(rows)} characters → {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
