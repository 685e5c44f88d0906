"""The claim rules of graph/claims.py as pure functions (the contract suite runs them on the engines)."""

from __future__ import annotations

import json

from talentgraph.graph import claims
from talentgraph.types import Provenance

A = Provenance("residents", "residents.csv", 3, "2026-01-01T00:00:00Z")
B = Provenance("volunteers", "volunteers.csv", 7, "2026-02-01T00:00:00Z")


def test_a_write_names_its_properties_and_leaves_the_rest() -> None:
    first = claims.merge({}, {}, {"name": "王", "skills": ["law"]}, (), A, "t1")
    second = claims.merge(first.props, first.claims, {"phone": "139"}, (), B, "t2")
    assert second.props == {"name": "王", "skills": ["law"], "phone": "139"} and second.changed
    assert [c["job"] for c in second.claims["skills"]] == ["residents"]
    again = claims.merge(second.props, second.claims, {"phone": "139"}, (), B, "t3")
    assert not again.changed and again.claims == second.claims


def test_priority_then_latest_write_then_job_decides() -> None:
    a = {"v": 1, "job": "a", "p": 0, "t": "t2"}
    b = {"v": 2, "job": "b", "p": 0, "t": "t1"}
    assert claims.shown([a, b]) is a
    assert claims.shown([a, {**b, "p": 1}])["job"] == "b"  # type: ignore[index]
    assert claims.shown([a, {**b, "t": "t2"}])["job"] == "b"  # type: ignore[index]
    assert claims.shown([]) is None


def test_an_empty_claim_withdraws_only_its_own() -> None:
    one = claims.merge({}, {}, {"phone": "138"}, (), A, "t1")
    two = claims.merge(one.props, one.claims, {"phone": "139"}, (), B, "t2")
    assert two.props["phone"] == "139"
    three = claims.merge(two.props, two.claims, {}, ("phone",), B, "t3")
    assert three.props["phone"] == "138" and three.changed
    four = claims.merge(three.props, three.claims, {}, ("skills",), B, "t4")  # nothing of B's to withdraw
    assert not four.changed


def test_a_node_without_claims_gets_them_from_its_last_writer() -> None:
    stored = {"name": "王", "skills": ["law"], "src_job": "residents", "src_file": "r.csv", "src_row": 3,
              "ingested_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:01.000Z"}
    legacy = claims.load(stored, ["name", "skills", "phone"])
    assert sorted(legacy) == ["name", "skills"]
    assert legacy["skills"] == [{"v": ["law"], "job": "residents", "file": "r.csv", "row": 3,
                                 "at": "2026-01-01T00:00:00Z", "p": 0, "t": "2026-01-01T00:00:01.000Z"}]
    assert claims.load({"prov": claims.dump(legacy)}, []) == legacy
    # Stored with each source once: the same job's claims on many properties share one entry.
    assert len(json.loads(claims.dump(legacy) or "")["s"]) == 1
    assert claims.dump({}) is None


def test_withdrawing_a_source_shows_the_next_claim_and_keeps_the_others() -> None:
    one = claims.merge({}, {}, {"name": "王", "phone": "138", "skills": ["law"]}, (), A, "t1")
    two = claims.merge(one.props, one.claims, {"name": "王五", "volunteer": True}, (), B, "t2")
    assert two.props["name"] == "王五"
    left = claims.withdraw(two.props, two.claims, "volunteers")
    assert left.changed and left.props == {"name": "王", "phone": "138", "skills": ["law"], "volunteer": None}
    assert {c["job"] for items in left.claims.values() for c in items} == {"residents"}
    gone = claims.withdraw(left.props, left.claims, "residents")
    assert gone.claims == {} and set(gone.props.values()) == {None}
    assert not claims.withdraw(gone.props, gone.claims, "residents").changed  # nothing left to withdraw


def test_a_source_owns_a_node_it_claims_or_one_nobody_claims_that_it_wrote_last() -> None:
    both = claims.merge({}, {}, {"name": "王"}, (), A, "t1")
    assert claims.owns(both.claims, "residents", "residents")
    assert not claims.owns(both.claims, "residents", "volunteers")
    assert not claims.owns(both.claims, "volunteers", "volunteers")  # wrote last, claims nothing
    assert claims.owns({}, "volunteers", "volunteers") and not claims.owns({}, "residents", "volunteers")


def test_source_needles_find_exactly_the_sources_of_a_prov_text() -> None:
    # A value spelling a source the way the prov text lists sources must not count as that source.
    tricky = {"other_names": ["volunteers", "x"], "bio": '],["volunteers",', "name": '{"s":[["volunteers",'}
    one = claims.merge({}, {}, tricky, (), A, "t1")
    two = claims.merge(one.props, one.claims, {"phone": "139"}, (), B, "t2")
    for merged, sources in ((one, {"residents"}), (two, {"residents", "volunteers"})):
        for text in (claims.dump(merged.claims), claims.dump(merged.claims, merged.props)):
            assert text is not None
            for job in ("residents", "volunteers", "other"):
                first, later = claims.source_needles(job)
                assert (text.startswith(first) or later in text) == (job in sources), (job, text)


def test_a_claim_of_the_shown_value_is_stored_without_it_and_read_back_from_the_node() -> None:
    C = Provenance("survey", "survey.csv", 9, "2026-03-01T00:00:00Z", 1)
    one = claims.merge({}, {}, {"name": "王芳", "skills": ["law"], "phone": "138", "birth_date": "1990-01-02",
                                "bio": "", "tags": []}, (), A, "t1")
    two = claims.merge(one.props, one.claims, {"phone": "139", "skills": ["law"]}, (), C, "t2")  # C outranks A
    text = claims.dump(two.claims, two.props, dates={"birth_date"})
    assert text is not None
    stored = json.loads(text)["c"]
    # The source's number alone where the node shows its value; the value kept where it does not (A's phone),
    # and where a store may not read it back as written (empty text, an empty list).
    assert stored["name"] == stored["birth_date"] == 0
    assert stored["phone"] == [[0, "138"], [1]] and stored["skills"] == [[0], [1]]
    assert stored["bio"] == [[0, ""]] and stored["tags"] == [[0, []]]
    assert claims.load({**two.props, claims.PROV: text}, []) == two.claims
    assert len(text) < len(claims.dump(two.claims) or "")
    # Written before: every claim with its value; read as it always was.
    assert claims.load({**two.props, claims.PROV: claims.dump(two.claims)}, []) == two.claims
    # A later write merges into what was read back as into what was written.
    read = claims.load({**two.props, claims.PROV: text}, [])
    assert claims.merge(two.props, read, {"phone": "139"}, (), C, "t3").changed is False
    three = claims.merge(two.props, read, {}, ("phone",), C, "t3")  # C withdraws: A's value shows again
    assert three.props["phone"] == "138"


def test_a_date_is_stored_without_its_claim_only_in_the_form_a_store_reads_back() -> None:
    for text, implied in (("1990-01-02", True), ("19900102", False), ("1990-01-02T00:00", False), ("x", False)):
        merged = claims.merge({}, {}, {"birth_date": text}, (), A, "t1")
        stored = json.loads(claims.dump(merged.claims, merged.props, dates={"birth_date"}) or "")["c"]
        assert (stored["birth_date"] == 0) is implied, text
        _, fresh = claims.fresh({"birth_date": text}, A, "t1", dates={"birth_date"})
        assert (json.loads(fresh or "")["c"]["birth_date"] == 0) is implied, text
    # Not a date property: text is text.
    assert claims.implied("19900102", "19900102") and not claims.implied(1, 1.0) and not claims.implied(True, 1)
