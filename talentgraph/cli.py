"""The ``talentgraph`` command: demo, generate, ingest, ingest-docs, docs, serve, search, reindex, stats.

Every setting in ``config.SETTINGS`` is a flag on every command (``--data-dir`` …) and an env var
(``TALENTGRAPH_DATA_DIR`` …); flags win. Errors raised on purpose print their message and hint and
exit with status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from talentgraph.config import SETTINGS, Settings
from talentgraph.errors import StoreBusyError, TalentgraphError

DEMO_JOBS = Path(__file__).parent / "demo" / "jobs" / "pipeline.yaml"
SERVER_STATE = "server.json"

EXAMPLE_QUERIES: tuple[tuple[str, str], ...] = (
    (
        "Analyst: who speaks Russian, their party organisation and its co-building units?",
        """# as analyst
{
  persons(where: {languages: {contains: "ru"}}, first: 5) {
    totalCount
    nodes { name latinName
      memberOf { edges { properties { role since } node { ... on PartyOrganization { name level
        coBuildsWith { edges { properties { since } node { ... on Enterprise { name industry } } } } } } } } }
  }
}""",
    ),
    (
        "Staff: find Russian-speaking lawyers (ask in Chinese or English: 俄语 律师 / Russian lawyer)",
        """# as staff
{
  search(query: "俄语 律师", first: 5, facets: ["languages", "skills", "residential_area"]) {
    totalCount
    hits { title score explanations highlights { field fragments } }
    facets { field values { value label display } }
  }
}""",
    ),
    (
        "Twin-city platform: venues with coordinates (WGS84)",
        """# as platform
{
  venues(first: 20) { nodes { id name kind lat lon address } pageInfo { hasNextPage endCursor } }
}""",
    ),
)


# --- settings flags -----------------------------------------------------------------------------


def _settings_parent() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("settings (flag > environment variable > default)")
    for s in SETTINGS:
        flag = "--" + s.name.replace("_", "-")
        default = "(empty)" if s.default in ("", None) else s.default
        # SUPPRESS, not None: an action's parser (keys create, person erase …) shares these flags, and a default
        # there would overwrite one given before the action (`keys --data-dir D create` wrote into ./talentgraph-data).
        group.add_argument(flag, dest=s.name, default=argparse.SUPPRESS, metavar=s.type.__name__.upper(),
                           help=f"{s.help} [env {s.env}; default {default}]")
    return parent


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.load({s.name: getattr(args, s.name, None) for s in SETTINGS})


# --- commands -----------------------------------------------------------------------------------


def cmd_generate(args: argparse.Namespace) -> int:
    from talentgraph.demo.generator import generate

    out = Path(args.out)
    t0 = time.perf_counter()
    result = generate(out, residents=args.residents, seed=args.seed, progress=not args.quiet)
    print(f"Wrote registers to {out} in {time.perf_counter() - t0:.1f}s:")
    print(_describe(result))
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    settings = _settings(args)
    job = Path(args.job).resolve()
    input_dir = Path(args.input_dir).resolve() if args.input_dir else None
    server = _server_for(args, settings)
    if server:
        print(f"A talentgraph server is using this data dir; sending the job to {server} …", file=sys.stderr)
        summaries = _ingest_via_server(server, job, input_dir, args.dry_run, settings, force=args.force)
    else:
        summaries = _ingest_local(settings, job, input_dir, dry_run=args.dry_run, progress=not args.quiet,
                                  force=args.force)
    _print_summaries(summaries, as_json=args.json)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    open_role = _open_role(args, settings)
    from talentgraph.stores import open_stores

    stores = open_stores(settings)
    try:
        report = stores.projector.sync()
        if report.changes_read:
            print(f"Search index caught up: {report.indexed} documents from {report.changes_read} changes.")
        pruned = _prune_feed(stores)
        if pruned:
            print(f"Change feed: {pruned} entries older than {settings.feed_retention_days:g} days pruned.")
        _serve(stores, settings, open_role=open_role)
    finally:
        stores.close()
    return 0


def _open_role(args: argparse.Namespace, settings: Settings) -> str | None:
    role = getattr(args, "open", None)
    if role is None:
        return None
    from talentgraph.access.gate import is_loopback
    from talentgraph.access.policy import POLICY
    from talentgraph.errors import ConfigError

    POLICY.role(role)
    if not is_loopback(settings.host) and settings.host != "localhost":
        raise ConfigError(f"--open serves without keys, and the server would listen on {settings.host}.",
                          hint="Use --open only with --host 127.0.0.1 (the default), or create keys.")
    print(f"\n!!! OPEN MODE: requests from this machine without a key are served as {role!r}. "
          "Never use this on a shared host. !!!\n", file=sys.stderr)
    return str(role)


def cmd_demo(args: argparse.Namespace) -> int:
    settings = _settings(args)
    from talentgraph.demo.generator import REGISTERS_VERSION
    from talentgraph.stores import open_stores, private_data_dir

    private_data_dir(settings.data_dir)  # before the registers (personal data) are written into it
    registers = settings.data_dir / "registers"
    marker = registers / ".generated.json"
    wanted = {"residents": args.residents, "seed": args.seed, "version": REGISTERS_VERSION}
    stores: Any = None
    if not marker.exists() or json.loads(marker.read_text()) != wanted:
        t0 = time.perf_counter()
        print(f"Generating synthetic Lianyang registers ({args.residents} residents, seed {args.seed}) …")

        def meanwhile() -> Any:
            if not args.no_serve:
                _warm_serving(settings)
            return open_stores(settings)

        stores = _generate_while(meanwhile, registers, args.residents, args.seed, progress=not args.quiet)
        marker.write_text(json.dumps(wanted))
        print(f"  done in {time.perf_counter() - t0:.1f}s → {registers}")
    if stores is None:
        stores = open_stores(settings)
    try:
        # Loaded before from these very registers: nothing to ingest again (and a person erased since
        # would come back from the registers if it were).
        loaded = registers / ".loaded.json"
        if loaded.exists() and json.loads(loaded.read_text()) == wanted and stores.graph.count_nodes("Person"):
            print(f"The graph already holds these registers ({loaded}); starting without ingesting them again.")
        else:
            t0 = time.perf_counter()
            # Indexed once, after resolution: resolution rewrites a fifth of the people (their canonical
            # record), so a sync before it would build those documents twice.
            failed = True
            stores.projector.start_builder()  # forked while this process is small, as in `talentgraph ingest`
            try:
                summaries = _run_pipeline(stores, DEMO_JOBS, registers, dry_run=False, progress=not args.quiet,
                                          sync=False)
                _print_summaries(summaries, as_json=False)
                print(f"Ingest took {time.perf_counter() - t0:.1f}s.")
                _demo_resolve(stores, settings, progress=not args.quiet)
                failed = False
            finally:
                # What was written is indexed even when a job or resolution failed; a sync failure then must not
                # hide that error, which says what to fix (as in _run_pipeline).
                t1 = time.perf_counter()
                try:
                    stores.projector.sync(progress=not args.quiet)
                except Exception:
                    if not failed:
                        raise
                    logging.getLogger(__name__).exception("Search sync after the failed demo ingest failed too.")
                finally:
                    stores.projector.stop_builder()
                print(f"Search sync took {time.perf_counter() - t1:.1f}s; {time.perf_counter() - t0:.1f}s in all.")
            loaded.write_text(json.dumps(wanted))
        keys = _demo_keys(stores, settings)
        if args.no_serve:
            _print_demo_keys(keys, settings)
            return 0
        _serve(stores, settings, open_role=_open_role(args, settings), demo_keys=keys)
    finally:
        stores.close()
    return 0


def _generate_while(work: Callable[[], Any], registers: Path, residents: int, seed: int, *,
                    progress: bool = False) -> Any:
    """Generate the registers in a child process while ``work`` runs here; ``work``'s result.

    Generating is ~10 s of single-core Python with the other core idle; the demo meanwhile opens its
    stores and loads what serving will need (the API's modules, every role's schema), ~4 s it otherwise
    spent in sequence. ``work``'s result is closed (``close()``) should the generator fail.

    The child is spawned, not forked: a fork copies whatever threads' locks the caller holds (engine
    threads, a test run's earlier stores), and such a child crashed now and then (exit -11)."""
    import multiprocessing as mp

    from talentgraph.demo.generator import generate

    child = mp.get_context("spawn").Process(target=generate, args=(registers,), name="generate-registers",
                                            kwargs={"residents": residents, "seed": seed, "progress": progress})
    child.start()
    result: Any = None
    try:
        result = work()
    finally:
        child.join()
        if child.exitcode != 0 and result is not None:
            result.close()
    if child.exitcode != 0:
        raise TalentgraphError(f"Generating the registers failed (the generator exited with {child.exitcode}).",
                               hint="Its error is printed above; fix it and run the demo again.")
    return result


def _warm_serving(settings: Settings) -> None:
    """What serving needs that does not depend on the data: the server's modules and the role schemas."""
    import uvicorn  # noqa: F401  (imported for what it costs, here rather than later)

    from talentgraph.access.policy import POLICY
    from talentgraph.api.schema import build_schema
    from talentgraph.server import query_limits

    for role in POLICY.roles:
        build_schema(role=role, limits=query_limits(settings))


def _demo_resolve(stores: Any, settings: Settings, *, progress: bool) -> None:
    """The registers name some people twice: link them, as a steward would run `talentgraph resolve`."""
    from talentgraph.resolve.actions import perform

    t0 = time.perf_counter()
    r = perform(stores.graph, None, settings.data_dir, {"action": "run"}, by="demo",  # the caller syncs
                progress=progress)["report"]
    print(f"Entity resolution: {r['clusters']} people found in more than one register ({r['records_in_clusters']} "
          f"records), {r['pending_pairs']} pairs for review (talentgraph resolve --pending); "
          f"{time.perf_counter() - t0:.1f}s.")


def cmd_search(args: argparse.Namespace) -> int:
    settings = _settings(args)
    from talentgraph.search.service import SearchService
    from talentgraph.stores import open_index

    index = open_index(settings)
    try:
        service = SearchService(index, max_page_size=settings.max_page_size)
        filters: dict[str, list[str]] = {}
        for name, values in (("languages", args.lang), ("skills", args.skill), ("nationality", args.nationality),
                             ("residential_area", args.area)):
            if values:
                filters[name] = values
        for item in args.filter or []:
            key, sep, value = item.partition("=")
            if not sep:
                raise TalentgraphError(f"--filter {item!r} is not FIELD=VALUE.", hint="Example: --filter volunteer=true")
            filters.setdefault(key, []).append(value)
        result = service.search(args.query, types=tuple(args.type or ("Person",)), filters=filters or None,
                                first=args.first)
        if args.json:
            print(json.dumps(_jsonable(result), ensure_ascii=False, indent=2))
            return 0
        print(f"{result.total} match(es)")
        for hit in result.hits:
            print(f"- {hit.title}  [{hit.id}]  score {hit.score:.2f}")
            for why in hit.explanations:
                print(f"    {why}")
        for field, values in result.facets.items():
            shown = ", ".join(f"{v.label_zh or v.value} {v.count}" for v in values[:8])
            print(f"  {field}: {shown}")
    finally:
        index.close()
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    settings = _settings(args)
    server = _server_for(args, settings)
    if server:
        # The server holds the data dir: it rebuilds, and answers searches from the old index until the swap.
        print(f"The server at {server} owns {settings.data_dir}: rebuilding there …", file=sys.stderr)
        out = _admin_call(server, "/admin/reindex", {}, settings)
    else:
        from talentgraph.stores import open_stores

        stores = open_stores(settings)
        try:
            out = rebuild_index(stores, progress=True)
        finally:
            stores.close()
    print(f"Rebuilt the search index: {out['documents']} documents in {out['seconds']:.1f}s (swapped atomically).")
    return 0


def rebuild_index(stores: Any, *, progress: bool = False) -> dict[str, Any]:
    """The search index rebuilt from the graph and swapped in: how many documents, in how many seconds."""
    t0 = time.perf_counter()
    n = stores.projector.rebuild(progress=progress)
    return {"documents": n, "seconds": round(time.perf_counter() - t0, 2)}


def cmd_stats(args: argparse.Namespace) -> int:
    settings = _settings(args)
    server = _server_for(args, settings)
    if server:
        out = _admin_call(server, "/admin/stats", {}, settings)
    else:
        from talentgraph.stores import open_stores

        stores = open_stores(settings)
        try:
            out = stats_of(stores)
        finally:
            stores.close()
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"graph: {out['graph']}   search: {out['search']}")
        for name, n in out["nodes"].items():
            print(f"  {name:<18} {n:>8}")
        print(f"change log at seq {out['change_log_seq']}; search index has {out['search_documents']} documents "
              f"at seq {out['search_cursor']}")
    return 0


def stats_of(stores: Any) -> dict[str, Any]:
    """Counts per node type, the change-log position and how far the search index has read it."""
    return {
        "graph": stores.graph.capabilities.name,
        "search": stores.index.capabilities.name,
        "nodes": {t.name: stores.graph.count_nodes(t.name) for t in stores.projector.ontology.node_types},
        "change_log_seq": stores.graph.last_seq(),
        "search_documents": stores.index.count(),
        "search_cursor": stores.index.get_cursor(),
    }


# --- helpers ------------------------------------------------------------------------------------


def _run_pipeline(stores: Any, job_path: Path, input_dir: Path | None, *, dry_run: bool, progress: bool,
                  roots: Sequence[Path] | None = None, force: bool = False, sync: bool = True) -> list[Any]:
    """Run the jobs and, unless ``sync`` is False (the caller syncs after more writes), bring search up to date."""
    from talentgraph.ingest.mapping import DocumentsSpec, load_jobs
    from talentgraph.ingest.pipeline import run_pipeline
    from talentgraph.stores import id_hash_key, quarantine_dir

    specs = load_jobs(job_path, input_dir=input_dir)
    if roots is not None:  # sent to a running server: every job and source file must lie inside the roots
        from talentgraph.admin import confine

        for spec in specs:
            confine(str(spec.file), roots, f"Job {spec.job}")
            for source in (spec.paths if isinstance(spec, DocumentsSpec) else (spec.source.path,)):
                confine(str(source), roots, f"The source of job {spec.job}")
    failed = True
    try:
        summaries = run_pipeline(
            specs, stores.graph,
            id_hash_key=id_hash_key(stores.settings),
            quarantine_dir=quarantine_dir(stores.settings),
            dry_run=dry_run,
            progress=progress,
            force=force,
        )
        failed = False
    finally:
        # Batches a failed job wrote are committed: index them now, or search lags the graph until
        # the next sync. A sync failure must not hide the job's own error, which says what to fix.
        if sync and not dry_run:
            try:
                t0 = time.perf_counter()
                report = stores.projector.sync(progress=progress)
                # On stderr, so --json output stays one JSON document; the seconds are the sync's own
                # (bench/run.py sets them against a bare bulk load of the same documents).
                print(f"Search sync: {report.indexed:,} documents indexed, {report.deleted:,} removed, from "
                      f"{report.changes_read:,} changes in {time.perf_counter() - t0:.2f}s.", file=sys.stderr)
            except Exception:
                if not failed:
                    raise
                logging.getLogger(__name__).exception("Search sync after the failed job failed too; "
                                                      "`talentgraph reindex` or the next ingest/serve catches up.")
    if not dry_run:
        _prune_feed(stores)
    return list(summaries)


def _prune_feed(stores: Any) -> int:
    """Drop change-log entries past the feed's retention that no reader of this service still needs.

    Readers inside the service are the search index and the NGSI-LD subscriptions: nothing after
    either's position goes. External consumers hold cursors; theirs expire with the retention.
    """
    from talentgraph.feed.changes import Cursor, prune
    from talentgraph.feed.subscriptions import SubscriptionStore

    positions = [stores.projector.index.get_cursor()]
    positions += [Cursor.decode(s.cursor).seq for s in SubscriptionStore(stores.settings.data_dir).all()
                  if s.cursor and s.active]
    return prune(stores.graph, stores.settings.feed_retention, up_to_seq=min(positions))


def _ingest_local(settings: Settings, job: Path, input_dir: Path | None, *, dry_run: bool, progress: bool,
                  force: bool = False) -> list[Any]:
    from talentgraph.stores import open_stores

    stores = open_stores(settings)
    try:
        if not dry_run:
            # The sync's document worker, forked while this process is small (docpool.DocBuilder.start). Not in a
            # server's ingest: that process is large already.
            stores.projector.start_builder()
        return _run_pipeline(stores, job, input_dir, dry_run=dry_run, progress=progress, force=force)
    finally:
        stores.projector.stop_builder()  # the sync took it, or it failed before it could
        stores.close()


def _ingest_via_server(server: str, job: Path, input_dir: Path | None, dry_run: bool,
                       settings: Settings | None = None, *, force: bool = False) -> list[Any]:
    body = {"job": str(job), "input_dir": str(input_dir) if input_dir else None, "dry_run": dry_run, "force": force}
    return list(_admin_call(server, "/admin/ingest", body, settings)["summaries"])


def _admin_call(server: str, path: str, body: dict[str, Any], settings: Settings | None) -> dict[str, Any]:
    """POST to a running server's admin route with the data directory's local admin token."""
    import httpx

    from talentgraph.access.gate import local_token

    token = local_token(settings.data_dir, create=False) if settings is not None else None
    if token is None:
        token = os.environ.get("TALENTGRAPH_ADMIN_KEY")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        r = httpx.post(server.rstrip("/") + path, json=body, headers=headers, timeout=None)
    except httpx.HTTPError as exc:
        raise StoreBusyError(f"Could not reach the running server at {server}: {exc}.",
                             hint="Stop it, or pass --server with its URL.") from exc
    try:
        payload: dict[str, Any] = r.json()
    except ValueError:
        raise TalentgraphError(f"The server answered {r.status_code} without JSON.") from None
    if r.status_code != 200:
        err = (payload.get("errors") or [{}])[0]
        raise TalentgraphError(str(err.get("message", r.text)), hint=(err.get("extensions") or {}).get("hint"))
    return payload


def _server_for(args: argparse.Namespace, settings: Settings) -> str | None:
    """Where a data command goes: ``--server URL``, else the running server that owns the embedded data dir."""
    explicit: str | None = getattr(args, "server", None)
    return explicit or (_running_server(settings) if settings.embedded_graph else None)


def _running_server(settings: Settings) -> str | None:
    state = settings.data_dir / SERVER_STATE
    if not state.exists():
        return None
    try:
        info = json.loads(state.read_text())
        os.kill(int(info["pid"]), 0)
    except (ValueError, KeyError, ProcessLookupError, PermissionError):
        return None
    return str(info["url"])


def _serve(stores: Any, settings: Settings, *, open_role: str | None = None,
           demo_keys: dict[str, str] | None = None) -> None:
    import uvicorn

    from talentgraph.access import request_log
    from talentgraph.access.gate import Gate, local_token
    from talentgraph.http_protocol import http_protocol
    from talentgraph.server import create_app

    access = _access(settings)
    gate = Gate(keys=access.keys, jwt=_jwt(settings), local_token=local_token(settings.data_dir, create=True),
                open_role=open_role)

    def on_ingest(job: Path, input_dir: Path | None, dry_run: bool, roots: Sequence[Path], *,
                  force: bool = False) -> list[dict[str, Any]]:
        summaries = _run_pipeline(stores, job, input_dir, dry_run=dry_run, progress=False, roots=roots, force=force)
        return [s.to_dict() for s in summaries]

    admin = _admin_ops(stores, settings, access)
    # One writer at a time: an erasure rewriting a quarantine file while a job appends to it would lose rows.
    writes = threading.Lock()

    def ingest_locked(*a: Any, **kw: Any) -> list[dict[str, Any]]:
        with writes:
            return on_ingest(*a, **kw)

    def erase_locked(person_id: str, dry_run: bool) -> Any:
        with writes:
            return erase(person_id, dry_run)

    erase = admin.erase_person
    admin.ingest = ingest_locked
    if erase is not None:
        admin.erase_person = erase_locked
    admin.stats = lambda: stats_of(stores)

    def reindex_locked() -> dict[str, Any]:
        with writes:  # one maintenance operation at a time; searches go on against the live index
            return rebuild_index(stores)

    admin.reindex = reindex_locked
    from talentgraph.vocab_cli import server_ops

    admin.vocab = server_ops(stores, settings, writes)
    from talentgraph.docs_cli import server_ops as docs_ops

    admin.docs = docs_ops(stores, writes, admin.roots)
    app = create_app(stores.graph, stores.search, settings, gate=gate, audit=access.audit, admin=admin, prebuild=True)
    url = f"http://{settings.host}:{settings.port}"
    state = settings.data_dir / SERVER_STATE
    state.write_text(json.dumps({"url": url, "pid": os.getpid()}))
    os.chmod(state, 0o600)
    print(f"\nPlayground: {url}/graphql   (health: {url}/health)\n")
    if demo_keys:
        _print_demo_keys(demo_keys, settings)
    for title, query in EXAMPLE_QUERIES:
        print(f"# {title}\n{query}\n")
    proxies = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    request_log.install()  # the access log names paths and parameters, never what was searched for
    try:
        # X-Forwarded-For is believed only from configured proxies (uvicorn's default trusts 127.0.0.1).
        # A long URL (a GraphQL GET, a staff search of 5,000 characters: 45 KB percent-encoded) reaches the app
        # up to the size of a body, in however many pieces, and is answered there, in the one error shape;
        # a longer head is refused with 431 before the app (``http_protocol``).
        uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level,
                    proxy_headers=bool(proxies), forwarded_allow_ips=",".join(proxies) or None,
                    http=http_protocol(max(settings.max_body_bytes, 64 * 1024)))
    finally:
        state.unlink(missing_ok=True)


class _Access:
    def __init__(self, settings: Settings) -> None:
        from talentgraph.access.audit import AuditLog
        from talentgraph.access.keys import KeyStore
        from talentgraph.access.policy import POLICY

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.keys = KeyStore(settings.data_dir / "keys.json", POLICY.roles)
        self.audit = AuditLog(settings.data_dir / "audit", max_bytes=settings.audit_max_bytes)


def _access(settings: Settings) -> _Access:
    return _Access(settings)


def _jwt(settings: Settings) -> Any:
    if not settings.jwt_jwks:
        return None
    from talentgraph.access.jwt import JwtVerifier
    from talentgraph.access.policy import POLICY

    return JwtVerifier(settings.jwt_jwks, settings.jwt_issuer, settings.jwt_audience, roles=POLICY.roles,
                       role_claim=settings.jwt_role_claim, areas_claim=settings.jwt_areas_claim,
                       name_claim=settings.jwt_name_claim)


def ingest_roots(settings: Settings) -> list[Path]:
    configured = [Path(p) for p in settings.ingest_roots.split(os.pathsep) if p.strip()]
    return configured or [settings.data_dir, DEMO_JOBS.parent]


def _admin_ops(stores: Any, settings: Settings, access: _Access) -> Any:
    from talentgraph.admin import AdminOps

    ops = AdminOps(keys=access.keys, audit=access.audit, roots=ingest_roots(settings))
    try:
        from talentgraph.access import subject
    except ImportError:  # pragma: no cover - the module ships with the package
        return ops
    from talentgraph.stores import quarantine_dir

    def export(person_id: str) -> dict[str, Any]:
        return dict(subject.export_person(stores.graph, stores.index, person_id,
                                          quarantine_dir=quarantine_dir(settings), audit=access.audit))

    def erase(person_id: str, dry_run: bool) -> dict[str, Any]:
        report = subject.erase_person(stores.graph, stores.index, person_id,
                                      quarantine_dir=quarantine_dir(settings), dry_run=dry_run)
        if not dry_run:
            # A record resolved into another person's golden record lends it names and skills in search:
            # the sync re-projects that record from the change log, so nothing of the erased one stays findable.
            stores.projector.sync()
        return dict(report.to_dict())

    ops.export_person, ops.erase_person = export, erase

    def resolve(body: dict[str, Any], by: str) -> dict[str, Any]:
        from talentgraph.resolve.actions import perform

        return perform(stores.graph, stores.projector, settings.data_dir, body, by=by)

    ops.resolve = resolve
    return ops


# --- keys, audit, data-subject requests ------------------------------------------------------------


def _demo_keys(stores: Any, settings: Settings) -> dict[str, str]:
    """One fresh key per role for the demo (earlier demo keys are revoked: keys are shown only once)."""
    from talentgraph.access.policy import POLICY
    from talentgraph.types import Cmp

    access = _access(settings)
    stamp = time.strftime("%Y%m%d%H%M%S")
    taken = set()
    for info in access.keys.list():
        taken.add(info.name)
        if info.name.startswith("demo-") and info.revoked_at is None:
            access.keys.revoke(info.name)
    # Two starts within one second (a second start skips the ingest) must not reuse a revoked key's name.
    n = 1
    while any(f"demo-{role}-{stamp}{f'-{n}' if n > 1 else ''}" in taken for role in POLICY.roles):
        n += 1
    if n > 1:
        stamp = f"{stamp}-{n}"
    scope_place = POLICY.scope.place
    areas = stores.graph.list_nodes(scope_place, where=Cmp("level", "eq", "residential_area"), first=1).items
    out: dict[str, str] = {}
    for role in POLICY.roles:
        scoped = POLICY.role(role).scoped
        if scoped and not areas:
            continue
        raw, _ = access.keys.create(f"demo-{role}-{stamp}", role, [areas[0].id] if scoped else [])
        out[role] = raw
    if areas:
        out["_staff_area"] = f"{areas[0].id} ({areas[0].props.get('name')})"
    return out


def _print_demo_keys(keys: dict[str, str], settings: Settings) -> None:
    url = f"http://{settings.host}:{settings.port}"
    print("API keys for the demo, one per role (shown once; `talentgraph keys list` shows their names):")
    for role, key in keys.items():
        if not role.startswith("_"):
            print(f"  {role:<9} {key}")
    if "_staff_area" in keys:
        print(f"  (the staff key sees personal fields of residents of {keys['_staff_area']})")
    if "staff" in keys:
        # The key is typed into the page's sign-in form, never put in a URL: it would stay in the history.
        print(f"\nStaff search page: {url}/  (sign in with the staff key above)")
    if "analyst" in keys:
        print(f"\nPlayground as analyst: {url}/graphql#key={keys['analyst']}")
        print(f"curl: curl -s {url}/graphql -H 'Authorization: Bearer {keys['analyst']}' "
              "-H 'Content-Type: application/json' -d '{\"query\": \"{ persons(first: 2) { nodes { name } } }\"}'")


def cmd_keys(args: argparse.Namespace) -> int:
    settings = _settings(args)
    server = _running_server(settings) if settings.embedded_graph else None
    action = args.keys_command
    body: dict[str, Any] = {"action": action}
    if action == "create":
        body.update(name=args.name, role=args.role, areas=args.area or [], expires=args.expires)
    elif action == "revoke":
        body["name"] = args.name
    target: str | None = args.server or server
    if target:
        result = _admin_call(target, "/admin/keys", body, settings)
    else:
        result = _keys_local(settings, body)
    if action == "list":
        rows = result["keys"]
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=2))
            return 0
        print(f"{'name':<32}{'role':<10}{'status':<9}{'prefix':<22}{'expires':<22}areas")
        for k in rows:
            print(f"{k['name']:<32}{k['role']:<10}{k.get('status', ''):<9}{k.get('prefix', ''):<22}"
                  f"{str(k.get('expires') or '-'):<22}{' '.join(k.get('areas') or [])}")
        return 0
    if args.json:
        print(json.dumps(result.get("key") if action == "revoke" else result, ensure_ascii=False, indent=2))
    elif action == "create":
        print(result["key"])
        print(f"# key {result['name']} ({result['role']}) created; it is shown only this once.", file=sys.stderr)
    else:
        print(f"Revoked {result['key']['name']}.")
    return 0


def _keys_local(settings: Settings, body: dict[str, Any]) -> dict[str, Any]:
    from datetime import date

    from talentgraph.errors import ValidationError

    access = _access(settings)
    if body["action"] == "list":
        return {"keys": [k.to_dict() for k in access.keys.list()]}
    if body["action"] == "revoke":
        return {"key": access.keys.revoke(body["name"]).to_dict()}
    if body["areas"]:
        _check_areas(settings, body["areas"])
    try:
        expires = date.fromisoformat(body["expires"]) if body["expires"] else None
    except ValueError:
        raise ValidationError("--expires", body["expires"], "a date YYYY-MM-DD") from None
    raw, info = access.keys.create(body["name"], body["role"], body["areas"], expires)
    return {"key": raw, **info.to_dict()}


def _check_areas(settings: Settings, areas: Sequence[str]) -> None:
    """A staff key scoped to an area that does not exist would silently see nobody."""
    from talentgraph.access.policy import POLICY
    from talentgraph.errors import ValidationError
    from talentgraph.stores import open_graph

    graph = open_graph(settings)
    try:
        found = graph.get_nodes(list(areas))
    finally:
        graph.close()
    missing = [a for a in areas if a not in found or found[a].type != POLICY.scope.place]
    if missing:
        raise ValidationError("--area", ", ".join(missing), f"ids of existing {POLICY.scope.place} nodes",
                              hint="Find them with e.g. `talentgraph search 联洋 --type Area`.")


def cmd_audit(args: argparse.Namespace) -> int:
    settings = _settings(args)
    from talentgraph.access.audit import AuditLog

    log = AuditLog(settings.data_dir / "audit", max_bytes=settings.audit_max_bytes)
    if args.verify:
        report = log.verify()
        if args.json:
            print(json.dumps(report.to_dict(), indent=2))
        else:
            print(("OK: " if report.ok else "TAMPERED: ") + f"{report.entries} entries"
                  + (f"; {report.problem} at {report.at}" if not report.ok else ""))
        return 0 if report.ok else 1
    entries = log.read(person=args.person, principal=args.principal, since=args.since, until=args.until,
                       limit=args.limit)
    if args.json:
        print(json.dumps([e.to_dict() for e in entries], ensure_ascii=False, indent=2))
        return 0
    for e in entries:
        who = f"{e.principal} ({e.role})"
        persons = f" persons={','.join(e.person_ids[:5])}{'…' if len(e.person_ids) > 5 else ''}" if e.person_ids else ""
        print(f"{e.at}  #{e.seq:<6} {who:<36} {e.operation:<28} {e.outcome:<8} {e.status} "
              f"{e.duration_ms:.1f}ms{persons}")
    return 0


def cmd_person(args: argparse.Namespace) -> int:
    settings = _settings(args)
    server = _server_for(args, settings)
    erase = args.person_command == "erase"
    if erase and not args.dry_run and not args.yes:
        raise TalentgraphError(f"Erasing {args.id} deletes the person, their relationships, search document and "
                               "quarantined rows for good.", hint="Re-run with --yes, or with --dry-run to see what would go.")
    body: dict[str, Any] = {"id": args.id, "dry_run": bool(getattr(args, "dry_run", False))}
    if server:
        result = _admin_call(server, f"/admin/person/{args.person_command}", body, settings)
    else:
        from talentgraph.access.principal import Principal
        from talentgraph.stores import open_stores

        stores = open_stores(settings)
        try:
            access = _access(settings)
            ops = _admin_ops(stores, settings, access)
            started = time.perf_counter()
            result = ops.erase_person(args.id, body["dry_run"]) if erase else ops.export_person(args.id)
            who = Principal(f"cli:{os.environ.get('USER', 'unknown')}", "admin", via="local")
            access.audit.append(principal=who.name, role=who.role, via=who.via,
                                operation=f"admin.{args.person_command}", document_hash=None, person_ids=[args.id],
                                outcome="ok", status=200, duration_ms=(time.perf_counter() - started) * 1000,
                                path="cli", detail="dry run" if body["dry_run"] else None)
        finally:
            stores.close()
    text = json.dumps(result, ensure_ascii=False, indent=2, default=str)
    if getattr(args, "out", None):
        out = Path(args.out)
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text + "\n")
        print(f"Wrote {out} (mode 0600: it holds one person's data).", file=sys.stderr)
    else:
        print(text)
    return 0


def cmd_resolve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    server = _server_for(args, settings)
    body: dict[str, Any] = {"action": "run", "threshold": args.threshold, "review_floor": args.review_floor}
    if args.pending:
        body = {"action": "pending"}
    elif args.accept or args.reject:
        a, b = args.accept or args.reject
        body = {"action": "accept" if args.accept else "reject", "a": a, "b": b, "note": args.note or ""}
    elif args.split:
        body = {"action": "split", "cluster": args.split}
    if server:
        print(f"A talentgraph server is using this data dir; sending the request to {server} …", file=sys.stderr)
        result = _admin_call(server, "/admin/resolve", body, settings)
    else:
        from talentgraph.resolve.actions import perform
        from talentgraph.stores import open_stores

        stores = open_stores(settings)
        try:
            result = perform(stores.graph, stores.projector, settings.data_dir, body,
                             by=f"cli:{os.environ.get('USER', 'unknown')}", progress=sys.stderr.isatty())
        finally:
            stores.close()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    elif "pending" in result:
        rows = result["pending"]
        for r in rows:
            p = r["probability"]
            names = " / ".join(str(n) for n in r["names"])
            print(f"{r['a']}  {r['b']}  p={p:.3f}  {names}" if p is not None else f"{r['a']}  {r['b']}  {names}")
            print("    " + ", ".join(f"{k} {v:+.1f}" for k, v in sorted(r["weights"].items())))
        print(f"{len(rows)} pairs for review: talentgraph resolve --accept A B | --reject A B")
    else:
        r = result["report"]
        print(f"{r['records']} records: {r['clusters']} clusters of {r['records_in_clusters']} records; "
              f"{r['matched_pairs']} matched, {r['accepted_pairs']} accepted, {r['pending_pairs']} pending, "
              f"{r['rejected_pairs']} rejected pairs; wrote {r['links_written']} links "
              f"({r['links_removed']} removed), {r['canonicals_written']} canonical records.")
        if r.get("uncorroborated_pairs"):
            print(f"{r['uncorroborated_pairs']} pairs scored above the threshold on the name alone; "
                  "they wait for review (never a merge on name alone).")
        if r.get("note"):
            print(f"Note: {r['note']}.")
        if r.get("pending_pairs"):
            print("Review them: talentgraph resolve --pending")
    return 0


def _print_summaries(summaries: Sequence[Any], *, as_json: bool) -> None:
    rows = [s if isinstance(s, dict) else s.to_dict() for s in summaries]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if len(rows) == 1 and not isinstance(summaries[0], dict):
        print(summaries[0])
        return
    # A pipeline: one aligned line per job, then where the quarantined rows went.
    dry = bool(rows and rows[0].get("dry_run"))
    verb = "would " if dry else ""
    counts = ("rows_in", "inserted", "updated", "unchanged", "quarantined", "empty")
    print(f"{'job':<20}{'rows in':>9}{'inserted':>10}{'updated':>9}{'unchanged':>11}{'quarantined':>13}{'empty':>7}"
          f"{'rows/s':>9}")
    for r in rows:
        print(f"{r['job']:<20}{r['rows_in']:>9,}{r['inserted']:>10,}{r['updated']:>9,}{r['unchanged']:>11,}"
              f"{r['quarantined']:>13,}{r.get('empty', 0):>7,}{r['rows_per_second']:>9,.0f}")
    total = {k: sum(r.get(k, 0) for r in rows) for k in counts}
    print(f"{'total (' + verb + 'write)':<20}{total['rows_in']:>9,}{total['inserted']:>10,}{total['updated']:>9,}"
          f"{total['unchanged']:>11,}{total['quarantined']:>13,}{total['empty']:>7,}")
    _print_snapshots(rows, verb)
    if dry:
        # A dry run writes no quarantine file: show the reasons here instead.
        for r in rows:
            preview = r.get("quarantine_preview") or []
            if preview:
                print(f"{r['job']} would quarantine {r['quarantined']:,} row(s):")
                print("\n".join(f"  row {q['row']}: {q['reason']}" for q in preview))
                if r["quarantined"] > len(preview):
                    print(f"  … and {r['quarantined'] - len(preview):,} more")
        return
    files = [r for r in rows if r.get("quarantine_path")]
    if files:
        # Paths as the writing process resolved them (absolute), never relative to this one's directory.
        print("Quarantined rows (original row + reason):")
        for r in files:
            again = "  (the same rows as the last run: no new file)" if r.get("quarantine_repeated") else ""
            print(f"  {r['quarantine_path']} ({r['quarantined']:,}){again}")
        example = _first_reason(Path(files[0]["quarantine_path"]))
        if example:
            print(f"  e.g. {example}")


def _print_snapshots(rows: Sequence[dict[str, Any]], verb: str) -> None:
    """What snapshot jobs ended and deleted (ingest/snapshot.py): counts, the first ids, or why none."""
    for r in rows:
        if r.get("mode") != "snapshot":
            continue
        by_type = {k: r["ended_by_type"].get(k, 0) + r["deleted_by_type"].get(k, 0) for k in r["removed_preview"]}
        detached = f" (with {r['detached']:,} relationship(s) of other sources)" if r.get("detached") else ""
        print(f"{r['job']} (snapshot): {verb}end {r['ended']:,}, {verb}delete {r['deleted']:,} node(s){detached}")
        for kind, ids in r["removed_preview"].items():
            print(f"  {kind}: {', '.join(ids)}{' …' if len(ids) < by_type[kind] else ''}")
        if r.get("snapshot_note"):
            print(f"  {r['snapshot_note']}")


def _first_reason(path: Path) -> str | None:
    import csv

    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            row = next(csv.DictReader(f), None)
    except OSError:
        return None
    return f"row {row['_row']}: {row['_reason']}" if row else None


def _describe(obj: Any) -> str:
    if hasattr(obj, "to_dict"):
        return json.dumps(obj.to_dict(), ensure_ascii=False, indent=2, default=str)
    return str(obj)


def _jsonable(obj: Any) -> Any:
    import dataclasses

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {k: _jsonable(v) for k, v in dataclasses.asdict(obj).items()}
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj


# --- parser -------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parent = _settings_parent()
    parser = argparse.ArgumentParser(
        prog="talentgraph",
        description="Community knowledge graph and talent search (LadybugDB + Tantivy by default; Neo4j + "
        "OpenSearch/Elasticsearch when their URLs are set).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[parent], help=help, description=help)
        p.set_defaults(func=func)
        return p

    p = add("demo", cmd_demo, "Generate the synthetic Lianyang registers, ingest them with the shipped jobs, and serve.")
    p.add_argument("--residents", type=int, default=50_000, help="Number of residents to generate (default 50000).")
    p.add_argument("--seed", type=int, default=7, help="Random seed; the same seed gives the same registers.")
    p.add_argument("--no-serve", action="store_true", help="Stop after ingest (do not start the server).")
    p.add_argument("--open", nargs="?", const="analyst", metavar="ROLE",
                   help="LOUD: serve key-less requests from this machine as ROLE (default analyst).")
    p.add_argument("--quiet", action="store_true", help="No progress bars.")

    p = add("generate", cmd_generate, "Write synthetic community registers (CSV/XLSX, some GBK) to a directory.")
    p.add_argument("out", help="Output directory.")
    p.add_argument("--residents", type=int, default=50_000, help="Number of residents (default 50000).")
    p.add_argument("--seed", type=int, default=7, help="Random seed (default 7).")
    p.add_argument("--quiet", action="store_true", help="No progress bar.")

    p = add("ingest", cmd_ingest, "Run an ingest job or pipeline YAML (routes through a running server if one owns "
                                  "the data dir).")
    p.add_argument("job", help="Job or pipeline YAML file.")
    p.add_argument("--input-dir", help="Directory the job's source paths are relative to (default: the job's folder).")
    p.add_argument("--dry-run", action="store_true", help="Validate and report without writing.")
    p.add_argument("--force", action="store_true",
                   help="Let snapshot jobs end more than their max_delete_share of records.")
    p.add_argument("--server", help="Send the job to this running server (e.g. http://127.0.0.1:8000).")
    p.add_argument("--json", action="store_true", help="Print the job summaries as JSON.")
    p.add_argument("--quiet", action="store_true", help="No progress bar.")

    p = add("serve", cmd_serve, "Serve the GraphQL API and playground.")
    p.add_argument("--open", nargs="?", const="analyst", metavar="ROLE",
                   help="LOUD: serve requests from this machine that carry no key as ROLE (default analyst); "
                   "loopback only, for local exploration.")

    p = add("keys", cmd_keys, "Create, list and revoke API keys (through a running server if one owns the data dir).")
    keys = p.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    k = keys.add_parser("create", parents=[parent], help="Create a key; prints it once.")
    k.add_argument("--name", required=True, help="Who or what uses the key (unique).")
    k.add_argument("--role", required=True, help="admin, staff, analyst or platform (schema/policy.yaml).")
    k.add_argument("--area", action="append", help="Area id a staff key is scoped to; repeatable.")
    k.add_argument("--expires", help="Last day the key works (YYYY-MM-DD, UTC).")
    k.add_argument("--json", action="store_true", help="Print an object with a `key` field.")
    k.add_argument("--server", help="Send to this running server.")
    k = keys.add_parser("list", parents=[parent], help="List keys (never the keys themselves).")
    k.add_argument("--json", action="store_true", help="Print as JSON.")
    k.add_argument("--server", help="Send to this running server.")
    k = keys.add_parser("revoke", parents=[parent], help="Revoke a key by name.")
    k.add_argument("name", help="The key's name.")
    k.add_argument("--json", action="store_true", help="Print as JSON.")
    k.add_argument("--server", help="Send to this running server.")

    p = add("audit", cmd_audit, "Read the access record (who read whom), or check it was not tampered with.")
    p.add_argument("--person", help="Entries that returned this person id.")
    p.add_argument("--principal", help="Entries of this caller (key name or token subject).")
    p.add_argument("--since", help="From this time (ISO-8601).")
    p.add_argument("--until", help="Up to this time (ISO-8601).")
    p.add_argument("--limit", type=int, help="At most this many (the newest).")
    p.add_argument("--verify", action="store_true", help="Check the hash chain; exit 1 if it is broken.")
    p.add_argument("--json", action="store_true", help="Print as JSON.")

    p = add("person", cmd_person, "Data-subject requests (PIPL arts. 45, 47): export or erase one person.")
    person = p.add_subparsers(dest="person_command", required=True, metavar="ACTION")
    k = person.add_parser("export", parents=[parent], help="All data held about one person, with provenance "
                          "and who read it.")
    k.add_argument("id", help="Person id, e.g. per:000123.")
    k.add_argument("--out", help="Write to this file (mode 0600) instead of stdout.")
    k.add_argument("--server", help="Send to this running server.")
    k = person.add_parser("erase", parents=[parent], help="Delete one person everywhere; the audit keeps the fact.")
    k.add_argument("id", help="Person id, e.g. per:000123.")
    k.add_argument("--dry-run", action="store_true", help="Show what would be deleted.")
    k.add_argument("--yes", action="store_true", help="Really erase.")
    k.add_argument("--server", help="Send to this running server.")

    p = add("resolve", cmd_resolve, "Entity resolution: link records of one person across registers (Splink, "
            "Fellegi-Sunter, trained on the data); never deletes or overwrites a record.")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--pending", action="store_true", help="List the pairs waiting for review.")
    mode.add_argument("--accept", nargs=2, metavar=("A", "B"), help="These two records are one person.")
    mode.add_argument("--reject", nargs=2, metavar=("A", "B"), help="These two records are different people.")
    mode.add_argument("--split", metavar="CLUSTER", help="Undo a cluster (named by its canonical record id).")
    p.add_argument("--threshold", type=float, default=0.95,
                   help="Match probability at or above which a corroborated pair is linked (default 0.95).")
    p.add_argument("--review-floor", type=float, default=0.5,
                   help="Pairs between this and the threshold go to review (default 0.5).")
    p.add_argument("--note", help="Why (kept with an --accept/--reject decision).")
    p.add_argument("--json", action="store_true", help="Print as JSON.")
    p.add_argument("--server", help="Send to this running server.")

    p = add("search", cmd_search, "Search talent from the command line, e.g. talentgraph search 律师 --lang 俄语.")
    p.add_argument("query", nargs="?", default="", help="Free text: names, skills, languages, in any language.")
    p.add_argument("--lang", action="append", help="Language filter (ru, 俄语, Russian …); repeatable.")
    p.add_argument("--skill", action="append", help="Skill filter (法律, law, …); repeatable.")
    p.add_argument("--nationality", action="append", help="Nationality filter (RU, 俄罗斯 …); repeatable.")
    p.add_argument("--area", action="append", help="Residential area id filter; repeatable.")
    p.add_argument("--filter", action="append", help="Any facet filter FIELD=VALUE; repeatable.")
    p.add_argument("--type", action="append", help="Node type to search (default Person); repeatable.")
    p.add_argument("--first", type=int, default=10, help="Number of hits (default 10).")
    p.add_argument("--json", action="store_true", help="Print results as JSON.")

    p = add("reindex", cmd_reindex, "Rebuild the search index from the graph into a new directory and swap it in "
                                    "(through a running server if one owns the data dir).")
    p.add_argument("--server", help="Ask this running server (default: the one that owns the data dir, if any).")

    p = add("stats", cmd_stats, "Counts per node type, change-log position and search index lag (through a running "
                                "server if one owns the data dir).")
    p.add_argument("--json", action="store_true", help="Print as JSON.")
    p.add_argument("--server", help="Ask this running server (default: the one that owns the data dir, if any).")

    from talentgraph.vocab_cli import add_vocab_command

    add_vocab_command(sub, parent)
    from talentgraph.docs_cli import add_docs_commands

    add_docs_commands(sub, parent)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = (getattr(args, "log_level", None) or os.environ.get("TALENTGRAPH_LOG_LEVEL") or "info").upper()
    logging.basicConfig(level=getattr(logging, level, logging.INFO), format="%(levelname)s %(name)s: %(message)s")
    if level != "DEBUG":  # the engine clients log every request at INFO
        for noisy in ("opensearch", "elasticsearch", "elastic_transport", "neo4j", "httpx", "urllib3"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return int(args.func(args))
    except TalentgraphError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {exc.hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `talentgraph search … | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
