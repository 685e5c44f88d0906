"""Why a LadybugDB checkpoint grows batch after batch in a large ingest: an engine-level reproducer.

    python bench/checkpoint_growth.py                       # 10 batches of 100,000 people, 162 buildings
    python bench/checkpoint_growth.py --batches 4 --out /tmp/x.md

At a million residents the ingest's checkpoints (one after every 100,000-resident batch, in a thread of their own;
every write transaction must start from a checkpoint on LadybugDB 0.22, see ``graph/ladybug/store.py``) took
2.5 s after the first batch and 6.9 s after the ninth: 66 s of CPU on a 2-core machine that is CPU-bound. This
script loads the same shape into a fresh database with the store's own DDL (the ontology's ``Person``, ``Area``,
``LIVES_IN`` and change-log tables) and ``COPY`` path, one transaction per batch followed by a ``CHECKPOINT``, and
times both, in four variants of the ``LIVES_IN`` table:

- ``as built``: the table the store creates (its eight provenance properties);
- ``no properties``: ``LIVES_IN`` without properties;
- ``forward only``: the store's table stored in one direction (``storage_direction = 'fwd'``);
- ``no relationships``: people and change-log rows only.

Every person lives in one of ``--buildings`` areas, as in the demo registers (162 buildings), so each batch adds
edges to every building: if the checkpoint rewrites the buildings' backward adjacency whole, its cost follows
the edges loaded so far, not the batch. Results are prepended to bench/RESULTS.md (``--out``).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import ladybug as lb
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import machine, prepend  # noqa: E402

from talentgraph.graph.cypher import (  # noqa: E402
    CHANGE_LOG, CHANGE_LOG_COLUMNS, LadybugDialect, node_columns, q, rel_columns,
)
from talentgraph.graph.ladybug.bulk import ARROW_TYPES, arrow_rows, copy_from_arrow  # noqa: E402
from talentgraph.schema.ontology import ONTOLOGY  # noqa: E402

PERSON, AREA, LIVES_IN = ONTOLOGY.node("Person"), ONTOLOGY.node("Area"), ONTOLOGY.rel("LIVES_IN")
VARIANTS = ("as built", "no properties", "forward only", "no relationships")
DIALECT = LadybugDialect()


def _arrow(props: Sequence[Any]) -> list[tuple[str, pa.DataType]]:
    return [(p.name, ARROW_TYPES[DIALECT.column_type(p)]) for p in props]


def schema(variant: str) -> list[str]:
    """The store's DDL, with ``LIVES_IN`` as the variant has it (the store's own statement but for its options)."""
    prefix = f"CREATE REL TABLE IF NOT EXISTS {q(LIVES_IN.name)}("
    statements = DIALECT.schema(ONTOLOGY)
    built = next(s for s in statements if s.startswith(prefix))
    out = [s for s in statements if s is not built]
    if variant == "as built":
        out.append(built)
    elif variant == "forward only":
        out.append(f"{built} WITH (storage_direction = 'fwd')")
    elif variant == "no properties":
        out.append(f"{prefix}FROM {q(PERSON.name)} TO {q(AREA.name)})")
    return out


def people(batch: int, size: int, rnd: random.Random) -> list[dict[str, Any]]:
    langs = (["zh"], ["zh", "en"], ["en"], ["zh", "ja"], ["ko", "zh", "en"])
    now = datetime.now(timezone.utc).isoformat()
    return [{"id": f"person:{batch:02d}{i:07d}", "name": f"测试{rnd.randrange(10_000):04d}",
             "gender": rnd.choice(("男", "女")), "birth_year": 1940 + rnd.randrange(80),
             "birth_date": date(1940 + rnd.randrange(80), 1 + rnd.randrange(12), 1 + rnd.randrange(28)),
             "languages": rnd.choice(langs), "occupation": f"occupation {rnd.randrange(60)}",
             "phone": f"1{rnd.randrange(10**10):010d}", "version": 1, "content_hash": f"{rnd.getrandbits(128):032x}",
             "src_job": "residents", "src_file": "residents.csv", "src_row": i, "ingested_at": now, "updated_at": now}
            for i in range(size)]


def run(variant: str, batches: int, size: int, buildings: int, workdir: Path) -> list[tuple[float, float]]:
    path = workdir / variant.replace(" ", "-")
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    db = lb.Database(str(path / "graph.lbdb"), auto_checkpoint=False)
    conn = lb.Connection(db)
    for statement in schema(variant):
        conn.execute(statement)
    areas = [{"id": f"area:b{i:04d}", "version": 1} for i in range(buildings)]
    copy_from_arrow(conn, q(AREA.name), arrow_rows(_arrow(node_columns(AREA)), areas))
    conn.execute("CHECKPOINT")
    rnd, seq, times = random.Random(7), 0, []
    person_cols, rel_cols = _arrow(node_columns(PERSON)), _arrow(rel_columns(LIVES_IN))
    log_cols = _arrow(CHANGE_LOG_COLUMNS)
    for b in range(batches):
        rows = people(b, size, rnd)
        ends = [areas[rnd.randrange(buildings)]["id"] for _ in rows]
        t0 = time.perf_counter()
        conn.execute("BEGIN TRANSACTION")
        copy_from_arrow(conn, q(PERSON.name), arrow_rows(person_cols, rows))
        log = [{"seq": seq + i, "op": "upsert", "kind": "node", "type": PERSON.name, "id": r["id"], "version": 1,
                "ts": r["ingested_at"]} for i, r in enumerate(rows)]
        if variant != "no relationships":
            lead = (("from", [r["id"] for r in rows]), ("to", ends))
            if variant == "no properties":
                table = pa.table({name: pa.array(values, pa.string()) for name, values in lead})
            else:
                table = arrow_rows(rel_cols, [{**r, "key": r["id"]} for r in rows], lead)
            copy_from_arrow(conn, q(LIVES_IN.name), table)
            log += [{"seq": seq + size + i, "op": "upsert", "kind": "rel", "type": LIVES_IN.name, "id": r["id"],
                     "version": 1, "ts": r["ingested_at"], "from_id": r["id"], "to_id": e}
                    for i, (r, e) in enumerate(zip(rows, ends))]
        copy_from_arrow(conn, q(CHANGE_LOG), arrow_rows(log_cols, log))
        seq += len(log)
        conn.execute("COMMIT")
        t1 = time.perf_counter()
        conn.execute("CHECKPOINT")
        times.append((t1 - t0, time.perf_counter() - t1))
        copy_s, checkpoint_s = times[-1]
        print(f"{variant}: batch {b + 1}/{batches} COPY {copy_s:.2f} s, CHECKPOINT {checkpoint_s:.2f} s", flush=True)
    conn.close()
    db.close()
    shutil.rmtree(path, ignore_errors=True)
    return times


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batches", type=int, default=10)
    ap.add_argument("--size", type=int, default=100_000, help="People per batch (the ingest's 1M batch size).")
    ap.add_argument("--buildings", type=int, default=162)
    ap.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "talentgraph-checkpoint")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = ap.parse_args(argv)
    results = {v: run(v, args.batches, args.size, args.buildings, args.workdir) for v in args.variants}
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"## LadybugDB checkpoint growth, {when}", "",
             f"Machine: {machine()}, ladybug {lb.__version__}. `bench/checkpoint_growth.py --batches {args.batches} "
             f"--size {args.size} --buildings {args.buildings}`: one transaction per batch (people, `LIVES_IN` to one "
             "of the buildings, change-log rows; the store's DDL and COPY path), then a CHECKPOINT; seconds per batch.",
             "", "| batch | " + " | ".join(f"{v}: COPY / CHECKPOINT" for v in results) + " |",
             "|---|" + "---|" * len(results)]
    for b in range(args.batches):
        lines.append(f"| {b + 1} | " + " | ".join(f"{t[b][0]:.2f} / {t[b][1]:.2f}" for t in results.values()) + " |")
    lines.append("| CHECKPOINT total (last / first) | " + " | ".join(
        f"{sum(c for _, c in t):.1f} ({t[-1][1] / max(t[0][1], 1e-9):.1f}×)" for t in results.values()) + " |")
    lines.append("")
    prepend("\n".join(lines), args.out)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
