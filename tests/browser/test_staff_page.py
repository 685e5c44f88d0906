"""The staff search page in a real browser: Debian's chromium driven by Playwright, against a real
``talentgraph serve`` over a small generated demo community (1,500 residents).

Skipped when Playwright or chromium is missing (``apt-get install chromium``; never ``playwright
install``, which downloads a browser). Every request the page makes is recorded: none may leave
this machine. Screenshots at 1280 and 390 px go to docs/screenshots/ (the README shows them) on a
machine whose browser draws Chinese (``screenshots.py``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api",
                               reason="Playwright for Python is not installed (pip install playwright)")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)", allow_module_level=True)

from openpyxl import load_workbook  # noqa: E402

from talentgraph.config import Settings  # noqa: E402
from talentgraph.stores import open_stores  # noqa: E402
from talentgraph.types import NodeRecord, Provenance, RelRecord  # noqa: E402
from tests.browser.screenshots import readme_screenshot  # noqa: E402

RESIDENTS = 1500
STAFF_AREA = "area:RA01"
# Residents whose names a spreadsheet would run as formulas, living in the staff key's area and
# matching the flagship search: the export must defuse them.
HOSTILE = {
    "per:XLS001": {"name": "=HYPERLINK(\"http://evil.example\",\"Иван\")", "latin_name": "+Ivan Formula",
                   "occupation": "@SUM(1) 俄语翻译", "languages": ["ru", "zh"], "skills": ["translation.ru"],
                   "nationality": "RU", "phone": "+8613800000001"},
    "per:XLS002": {"name": "-Olga <b>Tag</b>", "latin_name": "\tOlga Tab", "languages": ["ru"],
                   "skills": ["translation.ru"], "nationality": "RU"},
}
HOSTILE_HOME = "area:RA01-2"


@dataclass
class Site:
    base: str
    key: str
    data_dir: Path


def _cli(*args: str, data_dir: Path) -> str:
    env = {**os.environ, "TALENTGRAPH_DATA_DIR": str(data_dir)}
    done = subprocess.run([sys.executable, "-m", "talentgraph.cli", *args], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _add_hostile(data_dir: Path) -> None:
    stores = open_stores(Settings(data_dir=data_dir))
    try:
        prov = Provenance(job="browser-test", source="hostile.csv", row=1, ingested_at="2026-01-01T00:00:00Z")
        stores.graph.upsert_nodes([NodeRecord("Person", pid, props, prov) for pid, props in HOSTILE.items()])
        result = stores.graph.upsert_relationships([RelRecord("LIVES_IN", pid, HOSTILE_HOME) for pid in HOSTILE])
        assert not result.rejected, result.rejected
        stores.projector.sync()
    finally:
        stores.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    data_dir = tmp_path_factory.mktemp("staff") / "data"
    _cli("demo", "--residents", str(RESIDENTS), "--no-serve", "--quiet", data_dir=data_dir)
    _add_hostile(data_dir)
    key = json.loads(_cli("keys", "create", "--name", "browser-staff", "--role", "staff", "--area", STAFF_AREA,
                          "--json", data_dir=data_dir))["key"]
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    env = {**os.environ, "TALENTGRAPH_DATA_DIR": str(data_dir)}
    log = data_dir.parent / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "talentgraph.cli", "serve", "--port", str(port)], env=env,
                                  stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text(errors="replace")[-2000:]
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield Site(base, key, data_dir)
    finally:
        server.terminate()
        server.wait(timeout=30)


@dataclass
class Browser:
    page: Any
    hosts: list[str]
    errors: list[str]


@pytest.fixture
def browser(site: Site, tmp_path: Path) -> Iterator[Browser]:
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = chromium.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        hosts: list[str] = []
        errors: list[str] = []

        def record(route: Any) -> None:
            hosts.append(urlsplit(route.request.url).hostname or "")
            route.continue_()

        context.route("**/*", record)
        page = context.new_page()
        def console(m: Any) -> None:
            if m.type == "error":
                errors.append(f"{m.text} ({m.location.get('url')}:{m.location.get('lineNumber')})")

        page.on("console", console)
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            yield Browser(page, hosts, errors)
        finally:
            context.close()
            chromium.close()


def sign_in(page: Any, site: Site) -> None:
    page.goto(site.base + "/")
    page.fill("#key", site.key)
    page.press("#key", "Enter")
    page.wait_for_selector("#q")


def search(page: Any, text: str) -> None:
    page.fill("#q", text)
    page.press("#q", "Enter")
    # htmx swaps the page in place: wait for the address bar to name this search, then its results.
    page.wait_for_function("q => new URL(location.href).searchParams.get('q') === q", arg=text)
    page.wait_for_selector("#results-title:not(.visually-hidden)")


def cards(page: Any) -> list[str]:
    return page.locator(".results .card h3 a").all_inner_texts()  # type: ignore[no-any-return]


def total(page: Any) -> int:
    return int("".join(ch for ch in page.inner_text("#results-title") if ch.isdigit()))


def facet_counts(page: Any, facet: str) -> dict[str, str]:
    out = {}
    for item in page.locator(f"#facet-{facet} li").all():
        out[item.locator("input").get_attribute("value")] = item.locator(".count").inner_text()
    return out


def audit(site: Site) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(_cli("audit", "--json", "--principal", "browser-staff",
                                                    data_dir=site.data_dir))
    return entries


def test_staff_page_end_to_end(site: Site, browser: Browser, tmp_path: Path) -> None:
    page = browser.page
    page.goto(site.base + "/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"  # Chinese by default
    assert page.inner_text("#signin") == "登录"

    # A wrong key: refused, in the page's language, without a trace of the server's internals.
    page.fill("#key", "tg_staff_not-a-key")
    page.press("#key", "Enter")
    page.wait_for_selector(".error")
    assert "密钥无效" in page.inner_text(".error") and "Traceback" not in page.content()
    assert browser.errors == [] or all("401" in e for e in browser.errors)  # the refused sign-in's status
    browser.errors.clear()

    sign_in(page, site)
    cookie = next(c for c in page.context.cookies() if c["name"] == "tg_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and site.key not in cookie["value"]

    # Suggestions from the vocabularies as the staff member types (both languages in the label).
    page.fill("#q", "俄语翻")
    page.wait_for_function("() => document.querySelectorAll('#suggest-list option').length > 0")
    options = page.locator("#suggest-list option").evaluate_all("os => os.map(o => o.value + ' ' + o.textContent)")
    assert any("俄语翻译" in o and "Russian translation" in o for o in options), options

    # The README's screenshots: Russian-speaking lawyers, at desktop and phone width.
    search(page, "俄语 律师")
    assert "联洋新苑" in page.inner_text(".role-note")  # the key's area, by name
    assert total(page) >= 1 and "律师" in page.inner_text(".results")
    page.screenshot(path=str(readme_screenshot("staff-1280.png", tmp_path)))
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector(".results .card")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    assert page.get_attribute("#facets", "open") is None  # folded on a phone: results on the first screen
    page.screenshot(path=str(readme_screenshot("staff-390.png", tmp_path)))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.reload()
    page.wait_for_selector("#facets[open]")

    # Chinese: the flagship question finds Russian-speaking translators, with reasons.
    search(page, "俄语 翻译")
    zh_total = total(page)
    names = cards(page)
    assert zh_total >= 3 and names
    first = page.locator(".results .card").first
    assert "俄语" in first.inner_text()  # languages on the card, in Chinese
    assert first.locator(".why li").count() > 0  # why it matched
    assert "=HYPERLINK" in " ".join(names)  # the hostile resident is a Russian translator in the area

    # Tick a facet (keyboard: focus it and press space): counts and results narrow.
    before = facet_counts(page, "nationality")
    assert "nationality:RU" in before, before
    box = page.locator("#facet-nationality input[value='nationality:RU']")
    box.focus()
    page.keyboard.press("Space")
    page.wait_for_function("() => new URL(location.href).searchParams.getAll('f').includes('nationality:RU')")
    page.wait_for_selector("#facet-nationality input[value='nationality:RU']:checked")
    after = facet_counts(page, "nationality")
    assert total(page) == int(before["nationality:RU"]) < zh_total
    assert set(after) == {"nationality:RU"}, after  # every hit is now Russian

    # English: the same question, the same kind of people.
    page.click("#lang-switch")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    search(page, "Russian translator")
    assert total(page) >= 3
    en_card = page.locator(".results .card").first.inner_text()
    assert "Russian" in en_card and "Languages" in en_card

    # A person page through the role's schema: phone shown for a resident of the key's area.
    search(page, "俄语 翻译")
    # Names are text, never markup: the tag in a name is shown as typed.
    assert "-Olga <b>Tag</b>" in cards(page) and page.locator(".results .card b").count() == 0
    page.locator(".results .card", has_text="Ivan Formula").locator("h3 a").click()
    page.wait_for_selector("#person-name")
    assert "+8613800000001" in page.inner_text(".details")
    page.click("button[data-person='per:XLS001']")  # add to the shortlist from the person page
    page.wait_for_selector("button[data-person='per:XLS001']:has-text('Remove from shortlist')")
    page.click("#back")
    page.wait_for_selector("#q")
    # And the second hostile resident from a result card.
    page.locator(".results .card", has_text="Olga Tab").locator("button[data-person]").click()
    page.wait_for_selector(".shortlist .card >> nth=1")
    assert page.locator(".shortlist .card").count() == 2

    # Export the shortlist (XLSX and CSV) and the result set, and read the files back.
    with page.expect_download() as dl:
        page.click("#export-shortlist-xlsx")
    xlsx = load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes()))
    rows = [[c.value for c in row] for row in xlsx.active.iter_rows()]
    header, body = rows[0], rows[1:]
    assert "Phone" in header and len(body) == 2
    assert {r[header.index("ID")] for r in body} == {"per:XLS001", "per:XLS002"}
    cells = [str(v) for r in rows for v in r if v is not None]
    assert not any(v.startswith(("=", "+", "-", "@", "\t")) for v in cells), cells
    assert "'=HYPERLINK(\"http://evil.example\",\"Иван\")" in cells and "+8613800000001" not in cells
    assert "'+8613800000001" in cells  # a phone starting with + is defused too, and still readable

    with page.expect_download() as dl:
        page.click("#export-results-csv")
    text = Path(dl.value.path()).read_bytes().decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][0] == "ID" and len(table) - 1 == total(page)
    assert not any(cell.startswith(("=", "+", "-", "@", "\t")) for row in table for cell in row)
    ids = {row[0] for row in table[1:]}
    assert {"per:XLS001", "per:XLS002"} <= ids

    # Every view and export was audited under the staff key, with the persons shown.
    entries = audit(site)
    exports = [e for e in entries if e["path"] == "/export"]
    assert len(exports) == 2 and all(e["via"] == "session" for e in exports)
    assert {"per:XLS001", "per:XLS002"} <= set(exports[0]["person_ids"])
    assert any(e["path"] == "/people/per:XLS001" and "per:XLS001" in e["person_ids"] for e in entries)

    # Sign out: the session is gone, and the page asks for the key again.
    page.click("#signout")
    page.wait_for_selector("#key")
    page.goto(site.base + "/?q=俄语")
    assert page.locator("#key").count() == 1

    # Nothing left the machine, and the page raised no script errors.
    assert set(browser.hosts) <= {"127.0.0.1"}, set(browser.hosts)
    assert not browser.errors, browser.errors


def test_revoked_key_ends_the_session(site: Site, browser: Browser) -> None:
    key = json.loads(_cli("keys", "create", "--name", "browser-revoked", "--role", "staff", "--area", STAFF_AREA,
                          "--json", data_dir=site.data_dir))["key"]
    page = browser.page
    sign_in(page, Site(site.base, key, site.data_dir))
    search(page, "钢琴")
    # The server owns the data dir: the CLI revokes through it; the next click finds the session dead.
    _cli("keys", "revoke", "browser-revoked", data_dir=site.data_dir)
    page.reload()
    page.wait_for_selector("#key")
    assert "登录已过期" in page.inner_text(".error")


def test_a_long_url_arriving_in_pieces_is_answered_by_the_page(site: Site) -> None:
    """h11 refuses a request head that arrives in pieces past 16 KiB with a plain-text 400 of its own (CI saw it
    now and then for a 45 KB search URL); the server lets one through up to the size of a body, so the page
    answers it in its own words, whatever the network does to it."""
    from urllib.parse import quote

    where = urlsplit(site.base)
    assert where.hostname and where.port
    head = (f"GET /?q={quote('俄' * 5000)} HTTP/1.1\r\nHost: {where.hostname}:{where.port}\r\n"
            "Connection: close\r\n\r\n").encode("ascii")
    with socket.create_connection((where.hostname, where.port), timeout=30) as conn:
        conn.sendall(head[:20_000])  # past h11's default 16 KiB, the head not yet complete
        time.sleep(0.3)
        conn.sendall(head[20_000:])
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    # Without a session the page asks for a key (signed in, the same URL is the 400 page the next test reads).
    assert answer.split(b"\r\n", 1)[0] == b"HTTP/1.1 200 OK"
    assert b'id="key"' in answer and b"Invalid HTTP request" not in answer


def test_hostile_requests_are_answered_cleanly(site: Site) -> None:
    with httpx.Client(base_url=site.base) as c:
        assert c.get("/?q=x").status_code == 200 and 'id="key"' in c.get("/?q=x").text  # no session: sign in
        # A POST without a session, or without the CSRF token, never acts.
        r = c.post("/shortlist", data={"action": "clear"})
        assert r.status_code == 303 and r.headers["location"] == "/?notice=expired"
        page = c.get("/")
        token = page.text.split('name="csrf" value="')[1].split('"')[0]
        assert c.post("/signin", data={"key": site.key}).status_code == 403  # CSRF token missing
        assert c.post("/signin", data={"key": site.key, "csrf": token}).status_code == 303
        assert c.post("/shortlist", data={"action": "clear"}).status_code == 403
        for path in ("/?q=" + "俄" * 5000, "/?q=x&f=languages:klingon", "/?q=x&f=nonsense:1", "/?q=x&f=bad",
                     "/?q=x&after=forged", "/people/per:NOBODY", "/people/org:C00", "/people/" + "x" * 5000):
            r = c.get(path)
            assert r.status_code in (400, 404), (path, r.status_code)
            assert "Traceback" not in r.text and "<p class=\"error\"" in r.text
        assert c.get("/health").json()["status"] == "ok"
