"""API keys on a real key file: shown once, stored hashed, verified fast, revoked across processes."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import re
import stat
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from talentgraph.access.keys import KeyInfo, KeyStore
from talentgraph.access.principal import Principal
from talentgraph.errors import ConfigError, NotFoundError, UnauthenticatedError, ValidationError

ROLES = ("admin", "staff", "analyst", "platform")


@pytest.fixture()
def store(tmp_path: Path) -> KeyStore:
    return KeyStore(tmp_path / "data" / "keys.json", ROLES)


def test_create_returns_the_raw_key_once_and_stores_only_its_hash(store: KeyStore) -> None:
    raw, info = store.create("huamu-staff-wang", "staff", areas=["area:R01", "area:R02", "area:R01"])
    assert re.fullmatch(r"tg_staff_[A-Za-z0-9_-]{43}", raw)
    assert info.areas == ("area:R01", "area:R02")
    assert raw.startswith(info.prefix) and len(info.prefix) == len("tg_staff_") + 6
    text = store.path.read_text(encoding="utf-8")
    assert raw not in text and raw[len("tg_staff_"):] not in text
    assert hashlib.sha256(raw.encode()).hexdigest() in text
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_verify_returns_the_principal(store: KeyStore) -> None:
    raw, _ = store.create("huamu-staff-wang", "staff", areas=["area:R01"])
    raw_analyst, _ = store.create("analyst-li", "analyst")
    assert store.verify(raw) == Principal("huamu-staff-wang", "staff", ("area:R01",), via="key")
    assert store.verify(f"  {raw_analyst}\n") == Principal("analyst-li", "analyst", (), via="key")


def test_list_and_to_dict_never_show_hashes(store: KeyStore) -> None:
    raw, _ = store.create("twin-city", "platform", expires=date.today() + timedelta(days=30))
    [info] = store.list()
    d = info.to_dict()
    assert d["name"] == "twin-city" and d["status"] == "active" and d["expires"] and d["revoked_at"] is None
    flat = json.dumps(d)
    assert hashlib.sha256(raw.encode()).hexdigest() not in flat and raw not in flat
    assert not any("hash" in k or "sha" in k for k in d)
    assert not hasattr(info, "digest")


def test_unknown_keys_get_one_message_that_names_no_key(store: KeyStore) -> None:
    raw, _ = store.create("analyst-li", "analyst")
    messages = set()
    for guess in ("nonsense", "tg_analyst_" + "A" * 43, raw[:-1] + ("A" if raw[-1] != "A" else "B"), ""):
        with pytest.raises(UnauthenticatedError) as info:
            store.verify(guess)
        messages.add(str(info.value))
        assert "analyst-li" not in str(info.value) and info.value.code == "UNAUTHENTICATED"
    assert len(messages) == 1
    assert "tg_" in (info.value.hint or "")


def test_names_are_unique_even_after_revocation(store: KeyStore) -> None:
    store.create("analyst-li", "analyst")
    store.revoke("analyst-li")
    with pytest.raises(ValidationError) as info:
        store.create("analyst-li", "platform")
    assert "revoked analyst key" in (info.value.hint or "") and "analyst-li-2" in (info.value.hint or "")


@pytest.mark.parametrize(("kwargs", "field", "in_message"), [
    ({"name": "x", "role": "root"}, "role", "admin, analyst, platform, staff"),
    ({"name": "x", "role": "staff"}, "areas", "at least one Area"),
    ({"name": "x", "role": "analyst", "areas": ["area:R01"]}, "areas", "no areas for the analyst role"),
    ({"name": "x", "role": "analyst", "expires": date.today() - timedelta(days=1)}, "expires", "future"),
    ({"name": "x", "role": "analyst", "expires": datetime.now(UTC) - timedelta(seconds=5)}, "expires", "future"),
    ({"name": "has space", "role": "analyst"}, "name", "letters"),
    ({"name": "", "role": "analyst"}, "name", "letters"),
])
def test_bad_requests_say_what_to_do(store: KeyStore, kwargs: dict[str, object], field: str, in_message: str) -> None:
    with pytest.raises(ValidationError) as info:
        store.create(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field and in_message in str(info.value)
    assert not store.path.exists() or store.list() == []


def test_a_date_expiry_covers_that_whole_day(store: KeyStore) -> None:
    raw, info = store.create("today-only", "analyst", expires=datetime.now(UTC).date())
    assert info.expires is not None and info.expires.hour == 0 and info.expires > datetime.now(UTC)
    assert store.verify(raw).name == "today-only"
    _, naive = store.create("naive", "analyst", expires=datetime(2099, 1, 1, 12))
    assert naive.expires == datetime(2099, 1, 1, 12, tzinfo=UTC)
    assert store.list()[1].expires == naive.expires  # survives the round trip through the file


def test_revoked_and_expired_keys_say_so(store: KeyStore) -> None:
    raw, _ = store.create("old-laptop", "admin")
    revoked = store.revoke("old-laptop")
    assert revoked.revoked_at is not None and revoked.status() == "revoked"
    assert store.revoke("old-laptop") == revoked  # idempotent: the first revocation time stays
    with pytest.raises(UnauthenticatedError, match="revoked"):
        store.verify(raw)

    raw2, _ = store.create("short-lived", "analyst", expires=datetime.now(UTC) + timedelta(days=1))
    data = json.loads(store.path.read_text(encoding="utf-8"))  # a day passes
    data["keys"][1]["expires"] = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    store.path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(UnauthenticatedError, match="expired"):
        store.verify(raw2)
    assert [i.status() for i in store.list()] == ["revoked", "expired"]


def test_revoke_unknown_name_lists_the_names(store: KeyStore) -> None:
    store.create("analyst-li", "analyst")
    with pytest.raises(NotFoundError) as info:
        store.revoke("analyst-wang")
    assert "analyst-li" in (info.value.hint or "")


def test_a_revoke_by_another_instance_takes_effect_on_the_next_verify(tmp_path: Path) -> None:
    server = KeyStore(tmp_path / "keys.json", ROLES)
    cli = KeyStore(tmp_path / "keys.json", ROLES)
    raw, _ = cli.create("analyst-li", "analyst")
    assert server.verify(raw).name == "analyst-li"  # server has now cached the file
    cli.revoke("analyst-li")
    with pytest.raises(UnauthenticatedError, match="revoked"):
        server.verify(raw)
    raw2, _ = cli.create("analyst-zhao", "analyst")
    assert server.verify(raw2).name == "analyst-zhao"


def test_a_role_dropped_from_the_policy_stops_verifying(tmp_path: Path) -> None:
    raw, _ = KeyStore(tmp_path / "keys.json", ROLES).create("twin-city", "platform")
    with pytest.raises(UnauthenticatedError, match="no longer exists"):
        KeyStore(tmp_path / "keys.json", ("admin", "staff", "analyst")).verify(raw)


def test_a_damaged_file_is_a_config_error_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        KeyStore(path, ROLES).list()
    assert "backup" in (info.value.hint or "")


def test_verify_is_a_lookup_not_a_scan(store: KeyStore) -> None:
    for i in range(200):
        store.create(f"key-{i}", "analyst")
    raw, _ = store.create("last", "analyst")
    store.verify(raw)
    n = 2000
    start = time.perf_counter()
    for _ in range(n):
        store.verify(raw)
    per_call = (time.perf_counter() - start) / n
    assert per_call < 500e-6, f"verify took {per_call * 1e6:.0f} µs"


def _create_many(path: str, prefix: str, start: Any) -> None:
    store = KeyStore(Path(path), ROLES)
    start.wait()
    for i in range(15):
        store.create(f"{prefix}-{i}", "analyst")


def test_two_processes_creating_keys_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(2)
    procs = [ctx.Process(target=_create_many, args=(str(path), p, start)) for p in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    names = {i.name for i in KeyStore(path, ROLES).list()}
    assert names == {f"{p}-{i}" for p in "ab" for i in range(15)}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".keys.json.*.tmp"))


def test_keyinfo_status_uses_expiry() -> None:
    now = datetime.now(UTC)
    info = KeyInfo("x", "analyst", (), "tg_analyst_abcdef", created=now, expires=now + timedelta(hours=1))
    assert info.status() == "active" and info.status(now + timedelta(hours=2)) == "expired"


def test_only_identity_provider_tokens_are_verified_off_the_event_loop() -> None:
    from typing import Any, cast

    from talentgraph.access.gate import Gate

    with_jwt = Gate(jwt=cast(Any, object()), open_role="analyst")
    assert with_jwt.blocks("Bearer aaa.bbb.ccc")  # may fetch the provider's keys
    assert not with_jwt.blocks("Bearer tg_abc.def.ghi")  # an API key, whatever its characters
    assert not with_jwt.blocks(None) and not with_jwt.blocks("Bearer tg_0123")
    assert not Gate(open_role="analyst").blocks("Bearer aaa.bbb.ccc")  # no tokens accepted: refused at once
