"""A bulk load rolled back after a COPY into a non-empty table must leave a usable, consistent store.

LadybugDB 0.22 was seen corrupting its in-memory state when such a transaction rolled back (the next
COPY aborted the process), so the store reopens the database after any rolled-back transaction that
ran a COPY. The scenarios (a failure after a COPY; a COPY that itself fails on a duplicate key) run
in a child process so that a crash cannot take the test runner down.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    import pyarrow as pa
    from talentgraph.graph.ladybug.store import LadybugGraphStore
    from talentgraph.types import NodeRecord

    def people(start, n):
        return [NodeRecord("Person", f"per:{i:06d}", {"name": f"居民{i}"}) for i in range(start, start + n)]

    g = LadybugGraphStore(Path(sys.argv[1]), copy_threshold=10)
    g.ensure_schema()
    assert len(g.upsert_nodes(people(0, 500)).inserted) == 500
    seq = g.last_seq()
    try:
        with g._transaction() as conn:
            g._copy(conn, "Person", g._arrow("Person", [{"id": f"per:{i:06d}", "name": "x", "version": 1}
                                                        for i in range(500, 900)]))
            raise RuntimeError("injected failure after the COPY")
    except RuntimeError:
        pass
    assert g.count_nodes("Person") == 500 and g.last_seq() == seq        # nothing of it is visible
    try:
        with g._transaction() as conn:
            g._copy(conn, "Person", g._arrow("Person", [{"id": f"per:{i:06d}", "name": "x", "version": 1}
                                                        for i in range(490, 520)]))
    except Exception as exc:
        assert "duplicate" in str(exc).lower(), exc
    assert g.count_nodes("Person") == 500 and g.last_seq() == seq
    assert len(g.upsert_nodes(people(500, 500)).inserted) == 500          # the next COPY works
    assert g.count_nodes("Person") == 1000 and g.last_seq() == seq + 500
    assert g.get_nodes(["per:000700"])["per:000700"].props["name"] == "居民700"
    # ``settle()`` checkpoints on a thread; a failing bulk load right behind it, racing that checkpoint,
    # must still start from a clean WAL.
    for k in range(8):
        assert len(g.upsert_nodes(people(2000 + 20 * k, 20)).inserted) == 20
        g.settle()
        try:
            with g._transaction() as conn:
                g._copy(conn, "Person", g._arrow("Person", [{"id": f"per:{i:06d}", "name": "x", "version": 1}
                                                            for i in range(2000 + 20 * k, 2030 + 20 * k)]))
        except Exception as exc:
            assert "duplicate" in str(exc).lower(), exc
    assert g.count_nodes("Person") == 1160
    g.close()
    print("ok")
""")


def test_bulk_load_rollback_leaves_a_usable_store(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "g")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]
