"""The analyst graph view in a real browser: Debian's chromium driven by Playwright, against a real
server (uvicorn in a thread) over the access tests' small community.

Skipped when Playwright or chromium is missing (``apt-get install chromium``; never ``playwright
install``, which downloads a browser). Every request the page makes is recorded: none may leave
this machine.
"""

from __future__ import annotations

import json
import shutil
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

# The access tests' world and server set-up are reused as they are (tests/ is not a package).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from access_world import load_access_world, make_access_world, serve  # noqa: E402

from talentgraph.graph.ladybug.store import LadybugGraphStore  # noqa: E402
from talentgraph.types import RelRecord  # noqa: E402
from tests.browser.screenshots import readme_screenshot  # noqa: E402

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install playwright)")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)", allow_module_level=True)

ROOT = "grp:G1"  # the volunteer corps: led by per:00, joined by per:01 and the hostile name below
HOSTILE_ID = "per:X1"
HOSTILE_NAME = '<img src=x onerror="alert(1);window.__pwned=1"><script>window.__pwned=2</script>'
PATH_TO = "ven:V1"
# The page is a shell that holds no record data (web/explore.py), so it is served without a
# credential, like the playground page; its script then uses the key typed into it.
UNGUARDED_HINT = ("/explore/{id} must be served without a credential: the page holds no data and asks for the key "
                  "itself. List '/explore/' among the access middleware's unguarded paths (server.UNGUARDED).")


@dataclass
class Site:
    base: str
    key: str

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        r = httpx.post(f"{self.base}/graphql", json={"query": query, "variables": variables},
                       headers={"Authorization": f"Bearer {self.key}", "Accept": "application/json"})
        body: dict[str, Any] = r.json()
        assert "errors" not in body, body
        return body["data"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("explore")
    graph = LadybugGraphStore(root / "graph")
    graph.ensure_schema()
    world = make_access_world()
    # A name that is markup: it must reach the page as text, wherever it is shown.
    world.add("Person", HOSTILE_ID, {"name": HOSTILE_NAME, "latin_name": "Hostile Name", "languages": ["ru"]})
    world.rels.append(RelRecord("MEMBER_OF", HOSTILE_ID, ROOT, {"role": "volunteer"}))
    load_access_world(graph, world)
    served = serve(graph, None, root)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(served.app, log_level="warning", ws="none", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.05)
    try:
        yield Site(f"http://127.0.0.1:{port}", served.keys["analyst"])
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()
        graph.close()


@dataclass
class Browser:
    page: Any
    hosts: list[str]
    dialogs: list[str]
    console_errors: list[str]


@pytest.fixture
def browser(site: Site) -> Iterator[Browser]:
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = chromium.new_context(viewport={"width": 1280, "height": 800})
        hosts: list[str] = []
        dialogs: list[str] = []
        errors: list[str] = []

        def record(route: Any) -> None:
            hosts.append(urlsplit(route.request.url).netloc)
            route.continue_()

        context.route("**/*", record)
        page = context.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        try:
            yield Browser(page, hosts, dialogs, errors)
        finally:
            context.close()
            chromium.close()


def settled(page: Any) -> None:
    page.wait_for_function("() => window.tgExplore && window.tgExplore.pending === 0", timeout=15000)


def drawn_ids(page: Any) -> set[str]:
    return set(page.evaluate("window.tgExplore.cy.nodes().map(n => n.id())"))


def click_node(page: Any, node_id: str) -> None:
    # A real mouse click on the node's place on the canvas, as an analyst would.
    box = page.locator("#cy").bounding_box()
    pos = page.evaluate("id => window.tgExplore.cy.getElementById(id).renderedPosition()", node_id)
    page.mouse.click(box["x"] + pos["x"], box["y"] + pos["y"])


def open_explore(page: Any, site: Site, node_id: str) -> None:
    response = page.goto(f"{site.base}/explore/{node_id}")
    assert response is not None and response.status == 200, UNGUARDED_HINT


def sign_in_on_page(page: Any, key: str) -> None:
    page.fill("#key-input", key)
    page.click("#key-form button[type=submit]")


NEIGHBOURS = "query($id: ID!) { neighbourhood(id: $id, depth: 1, limit: 50) { nodes { id } } }"
PATH = "query($a: ID!, $b: ID!) { path(from: $a, to: $b, maxHops: 6) { hops nodes { id } } }"


def test_page_is_a_shell_with_a_strict_policy(site: Site) -> None:
    r = httpx.get(f"{site.base}/explore/{ROOT}")
    assert r.status_code == 200, UNGUARDED_HINT
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp and "unsafe-inline" not in csp
    # No record data: the root's neighbours are nowhere in the HTML, only the id from the URL.
    assert "联洋志愿服务队" not in r.text and "Hostile" not in r.text
    assert "<script>" not in r.text.replace("<script src=", "")
    assert httpx.get(f"{site.base}/explore/nonsense").status_code == 404
    # The id from the URL is the one thing the page repeats: escaped, in attributes only.
    odd = httpx.get(f"{site.base}/explore/per:%22%3E%3Cimg%20src=x%20onerror=alert(1)%3E")
    assert odd.status_code == 200 and "<img" not in odd.text and "&lt;img src=x" in odd.text


def test_explore_expand_path_and_playground(site: Site, browser: Browser, tmp_path: Path) -> None:
    page = browser.page
    open_explore(page, site, ROOT)
    page.wait_for_selector("#status.error")  # no credential yet: the page asks for a key
    assert page.evaluate("window.tgExplore.cy.nodes().length") == 0

    sign_in_on_page(page, site.key)
    page.wait_for_function("() => window.tgExplore.cy.nodes().length > 0")
    settled(page)
    expected = {n["id"] for n in site.graphql(NEIGHBOURS, id=ROOT)["neighbourhood"]["nodes"]}
    assert drawn_ids(page) == expected and len(expected) >= 3
    assert page.evaluate("window.tgExplore.cy.edges().length") >= len(expected) - 1
    # Edges carry the relationship type as their label.
    assert "LEADS" in page.evaluate("window.tgExplore.cy.edges().map(e => e.data('type'))")

    # Click a neighbour: it is expanded, and its neighbours join the graph.
    before = drawn_ids(page)
    click_node(page, "per:00")
    page.wait_for_function(f"() => window.tgExplore.cy.nodes().length > {len(before)}")
    settled(page)
    grown = {n["id"] for n in site.graphql(NEIGHBOURS, id="per:00")["neighbourhood"]["nodes"]}
    assert drawn_ids(page) == before | grown
    page.wait_for_function("() => document.querySelector('#panel-meta').textContent.includes('per:00')")
    panel = page.inner_text("#panel")
    assert "Xiao 00" in panel  # latinName, a field the analyst reads
    assert "+86" not in panel  # the phone is not in the analyst's schema at all

    # The path finder: highlighted nodes are the API's shortest path.
    page.fill("#path-from", ROOT)
    page.fill("#path-to", PATH_TO)
    page.click("#path-form button[type=submit]")
    page.wait_for_function("() => window.tgExplore.cy.$('node.onpath').length > 0")
    settled(page)
    path = site.graphql(PATH, a=ROOT, b=PATH_TO)["path"]
    on_path = set(page.evaluate("window.tgExplore.cy.$('node.onpath').map(n => n.id())"))
    assert on_path == {n["id"] for n in path["nodes"]} and {ROOT, PATH_TO} <= on_path
    assert page.evaluate("window.tgExplore.cy.$('edge.onpath').length") == path["hops"]
    page.screenshot(path=str(readme_screenshot("explore.png", tmp_path)))

    # The view's query opens in the playground, in a tab named after its operation, and runs there
    # with the key the analyst typed into the graph view.
    page.click("#view-query")
    page.wait_for_url(f"{site.base}/graphql*")
    page.wait_for_selector(".graphiql-query-editor .CodeMirror")
    editor = page.evaluate("document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue()")
    assert "query ExplorePath" in editor and "path(from: $from" in editor
    assert "ExplorePath" in page.inner_text(".graphiql-tabs")
    page.click(".graphiql-execute-button")
    page.wait_for_function(
        "() => document.querySelector('.result-window .CodeMirror').CodeMirror.getValue().includes('\"hops\"')")
    result = json.loads(page.evaluate("document.querySelector('.result-window .CodeMirror').CodeMirror.getValue()"))
    assert result["data"]["path"]["hops"] == path["hops"]

    assert set(browser.hosts) == {urlsplit(site.base).netloc}, browser.hosts
    assert not browser.dialogs
    # The page's policy refused nothing the page itself needs (the first 401, before the key, aside).
    assert not [e for e in browser.console_errors if "Content Security Policy" in e], browser.console_errors


def test_names_are_text_never_markup(site: Site, browser: Browser) -> None:
    page = browser.page
    open_explore(page, site, f"{ROOT}#key={site.key}")  # a link bringing the key, as the demo prints them
    page.wait_for_function(f"() => window.tgExplore.cy.getElementById('{HOSTILE_ID}').nonempty()")
    assert "key=" not in page.url  # wiped from the address bar
    settled(page)
    assert page.evaluate(f"window.tgExplore.cy.getElementById('{HOSTILE_ID}').data('label')") == HOSTILE_NAME
    # The root is selected; its neighbours are listed as buttons: choose the hostile one by keyboard.
    page.wait_for_function("() => document.querySelectorAll('#panel-neighbours button').length > 0")
    neighbour = page.get_by_role("button", name=HOSTILE_NAME, exact=True)
    neighbour.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => document.querySelector('#panel-meta').textContent.includes('{HOSTILE_ID}')")
    settled(page)
    assert page.text_content("#panel-title") == HOSTILE_NAME
    assert page.locator("#panel img, #panel script").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert not browser.dialogs
    assert set(browser.hosts) == {urlsplit(site.base).netloc}, browser.hosts


def test_playground_examples_have_operation_names(site: Site, browser: Browser) -> None:
    page = browser.page
    page.goto(f"{site.base}/graphql")
    page.wait_for_selector(".graphiql-tabs")
    titles = page.inner_text(".graphiql-tabs")
    assert "<untitled>" not in titles
    for name in ("RussianSpeakersPartyWalk", "TalentSearchRussianLawyer", "PartyOrganizationsByLevel",
                 "VenuesWithCoordinates"):
        assert name in titles
