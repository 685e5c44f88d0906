"""Run a README GraphQL example verbatim, as the role its first line names, against a data directory."""

from __future__ import annotations

import re
from pathlib import Path

import anyio
import httpx

from talentgraph.access.gate import Gate
from talentgraph.access.keys import KeyStore
from talentgraph.access.policy import POLICY
from talentgraph.config import Settings
from talentgraph.server import create_app
from talentgraph.stores import open_stores

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_block(needle: str) -> str:
    """The first ```graphql block of the README that contains ``needle``."""
    return next(b for b in re.findall(r"```graphql\n(.*?)```", README.read_text(encoding="utf-8"), re.S) if needle in b)


def run_readme_example(needle: str, data_dir: Path, keys_dir: Path) -> httpx.Response:
    block = readme_block(needle)
    role = re.match(r"# as (\w+)", block)
    assert role, "README GraphQL examples start with '# as <role>'"
    keys = KeyStore(keys_dir / "keys.json", POLICY.roles)
    raw, _ = keys.create(f"readme-{role.group(1)}", role.group(1), [])
    settings = Settings(data_dir=data_dir)
    stores = open_stores(settings)
    try:
        app = create_app(stores.graph, stores.search, settings, gate=Gate(keys=keys))

        async def ask() -> httpx.Response:
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
                return await c.post("/graphql", json={"query": block}, headers={"Authorization": f"Bearer {raw}"})

        return anyio.run(ask)
    finally:
        stores.close()
