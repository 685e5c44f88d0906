"""The staff page's pure parts: export cells, query documents per role, suggestions, sessions."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from graphql import parse, validate
from openpyxl import load_workbook

from talentgraph.access.keys import KeyStore
from talentgraph.access.policy import POLICY
from talentgraph.api.schema import build_schema
from talentgraph.schema.ontology import ONTOLOGY
from talentgraph.web import export
from talentgraph.web.i18n import EN, FIELD_LABELS, ZH
from talentgraph.web.queries import PAGE_FACETS, people_document, role_fields, search_document
from talentgraph.web.session import IDLE_SECONDS, SessionStore, check_token
from talentgraph.web.suggest import MAX_SUGGESTIONS, suggest


@pytest.mark.parametrize("value", ["=1+1", "+86138", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_starts_are_defused(value: str) -> None:
    assert export.safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["王芳", "Anna = Petrova", "", "1+1", "per:00"])
def test_other_cells_are_kept(value: str) -> None:
    assert export.safe_cell(value) == value


def test_csv_and_xlsx_carry_defused_text_only() -> None:
    rows = [{"id": "per:1", "name": "=cmd|' /C calc'!A0", "phone": "+8613800000000",
             "languagesLabels": [{"id": "ru", "zh": "俄语", "en": "Russian"}], "volunteer": True}]
    fields = {"id", "name", "phone", "languagesLabels", "volunteer"}
    table = export.table(rows, fields, "en")
    assert table[0] == ["ID", "Name", "Languages", "Phone", "Volunteer"]
    assert table[1] == ["per:1", "'=cmd|' /C calc'!A0", "Russian", "'+8613800000000", "yes"]
    back = list(csv.reader(io.StringIO(export.to_csv(table).decode("utf-8-sig"))))
    assert back == table
    sheet = load_workbook(io.BytesIO(export.to_xlsx(table, "results"))).active
    assert sheet is not None
    assert [[c.value for c in r] for r in sheet.iter_rows()] == table
    assert {c.data_type for r in sheet.iter_rows() for c in r} == {"s"}


def test_columns_are_only_what_the_role_reads() -> None:
    for role in ("staff", "analyst", "admin"):
        schema = build_schema(ONTOLOGY, role=role)
        fields = role_fields(schema._schema, role)
        cols = {key for _, key in export.columns(fields.person)}
        assert ("phone" in cols) == (role != "analyst")
        assert "name" in cols and "languages" in cols
        # The documents name only fields the role's Person type has (a field it may not read is never
        # asked for), and they validate against the role's schema.
        doc = search_document(fields.person)
        assert ("phone" in doc) == ("phone" in fields.person)
        for d in (doc, people_document(3, fields.person, "StaffShortlist")):
            assert validate(schema._schema, parse(d)) == [], (role, d)
    platform = role_fields(build_schema(ONTOLOGY, role="platform")._schema, "platform")
    assert platform.person == frozenset()


def test_facets_follow_the_policy() -> None:
    analyst = role_fields(build_schema(ONTOLOGY, role="analyst")._schema, "analyst")
    assert "party_member" in analyst.facets and "party_member" not in analyst.filterable
    assert {"languages", "skills", "nationality"} <= analyst.filterable
    staff = role_fields(build_schema(ONTOLOGY, role="staff")._schema, "staff")
    assert staff.facets == PAGE_FACETS


def test_ui_tables_and_labels_match() -> None:
    assert set(ZH) == set(EN)
    assert set(FIELD_LABELS["zh"]) == set(FIELD_LABELS["en"])
    assert {key for _, key in export.COLUMNS} <= set(FIELD_LABELS["en"])


def test_suggestions_in_both_languages() -> None:
    zh = suggest("俄语 翻", "zh")
    assert zh and zh[0].value.startswith("俄语 ") and all(s.value.startswith("俄语 ") for s in zh)
    assert any(s.value == "俄语 俄语翻译" or s.value == "俄语 翻译" for s in zh)
    en = suggest("Russian tr", "en")
    assert en[0].value == "Russian translation" and en[0].label == "Russian translation · 俄语翻译"
    assert suggest("", "zh") == [] and suggest("   ", "en") == []
    assert len(suggest("a", "en")) == MAX_SUGGESTIONS
    assert suggest("zzzqqq", "en") == []


def test_sessions_are_signed_and_die_with_their_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = KeyStore(tmp_path / "keys.json", POLICY.roles)
    raw, _ = keys.create("wang", "staff", ["area:RA01"])
    store = SessionStore(tmp_path, keys)
    session, principal = store.open(raw)
    assert principal.via == "session" and principal.areas == ("area:RA01",)
    cookie = store.cookie_value(session)
    assert raw not in cookie
    found = store.find(cookie)
    assert found is not None and found[0] is session
    sid, mac = cookie.split(".")
    assert store.find(f"{sid}.{'0' * len(mac)}") is None  # tampered signature
    other = "y" if sid[0] == "x" else "x"  # a changed id (one sid in 64 begins with x already)
    assert store.find(f"{other}{sid[1:]}.{mac}") is None
    assert store.find(None) is None and store.find("no-dot") is None and store.find("é.é") is None
    # Another data dir's secret does not sign for this one; the same dir's does (kept across restarts).
    assert SessionStore(tmp_path / "other", keys)._sid(cookie) is None
    assert SessionStore(tmp_path, keys)._sid(cookie) == sid
    assert (tmp_path / "web-session.key").stat().st_mode & 0o777 == 0o600
    # Idle too long: gone.
    import talentgraph.web.session as module

    now = module.time.monotonic()
    monkeypatch.setattr(module.time, "monotonic", lambda: now + IDLE_SECONDS + 1)
    assert store.find(cookie) is None
    monkeypatch.undo()
    # Revoked key: the next lookup ends the session.
    session, _ = store.open(raw)
    cookie = store.cookie_value(session)
    keys.revoke("wang")
    assert store.find(cookie) is None and store.get(session.sid) is None


def test_csrf_tokens_compare_strictly() -> None:
    assert check_token("abc", "abc")
    assert not check_token("abc", "abd") and not check_token("abc", None) and not check_token("", "")
    assert not check_token(None, "abc") and not check_token("abc", ["abc"])


def test_readme_shows_the_staff_page() -> None:
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "## For community staff" in readme
    for name in ("staff-1280.png", "staff-390.png"):
        assert f"docs/screenshots/{name}" in readme
        assert (root / "docs" / "screenshots" / name).stat().st_size > 10_000  # written by the browser test
    # htmx is vendored with its licence, never fetched from a CDN.
    static = root / "talentgraph" / "web" / "static"
    assert (static / "htmx-LICENSE").exists() and any(static.glob("htmx-2.*.min.js"))
