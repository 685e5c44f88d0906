"""Transforms: each turns one cell into a property value or names the field, value and expectation."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from talentgraph.errors import ValidationError
from talentgraph.ingest.transforms import TRANSFORMS, Context, apply, identity_kind, mask_id, register_transform
from talentgraph.schema.geo import gcj02_to_wgs84
from talentgraph.schema.validators import hash_identity, resident_id_check_char

KEY = b"test-key"


def ctx(field: str = "Person.x", **kw: Any) -> Context:
    return Context(field, kw.pop("column", None), kw.pop("id_hash_key", KEY), kw.pop("kind", None))


def valid_id(first17: str = "31011519840302123") -> str:
    return first17 + resident_id_check_char(first17)


def wrong_check(number: str) -> str:
    bad = "0" if number[-1] != "0" else "1"
    return number[:-1] + bad


@pytest.mark.parametrize(
    "value",
    ["2024-03-05", "2024/3/5", "2024.03.05", "20240305", "2024年3月5日", "２０２４年３月５日", " 2024-3-5 ",
     "2024-03-05T10:00:00", 45356, 45356.0, "45356", 20240305, date(2024, 3, 5), datetime(2024, 3, 5, 8, 0)],
)
def test_date_accepts_many_forms(value: Any) -> None:
    assert apply("date", value, ctx("x.since")) == "2024-03-05"


@pytest.mark.parametrize("value", ["2024-02-30", "5 March", "2024-13-01", 0, -3, True, "yesterday"])
def test_date_rejects_with_field_and_value(value: Any) -> None:
    with pytest.raises(ValidationError) as info:
        apply("date", value, ctx("LIVES_IN.since"))
    assert info.value.field == "LIVES_IN.since" and info.value.value == value
    assert "LIVES_IN.since" in str(info.value)


def test_excel_serials_around_the_1900_leap_bug() -> None:
    assert apply("date", 1, ctx()) == "1900-01-01"
    assert apply("date", 59, ctx()) == "1900-02-28"
    assert apply("date", 61, ctx()) == "1900-03-01"


@pytest.mark.parametrize("value", ["1984-03-02", "1984/3/2", "19840302", 1984, "1984", "1984年", 1984.0,
                                   date(1984, 3, 2), "1984年3月2日"])
def test_year(value: Any) -> None:
    assert apply("year", value, ctx()) == 1984


def test_year_rejects_text() -> None:
    with pytest.raises(ValidationError, match="Person.birth_year: 'eighty-four'"):
        apply("year", "eighty-four", ctx("Person.birth_year"))


@pytest.mark.parametrize(("value", "out"), [("42", 42), ("1,234", 1234), ("１２", 12), (12.0, 12), ("7.0", 7), (5, 5)])
def test_int(value: Any, out: int) -> None:
    assert apply("int", value, ctx()) == out


@pytest.mark.parametrize("value", ["12.5", "abc", True, "1 2"])
def test_int_rejects(value: Any) -> None:
    with pytest.raises(ValidationError, match="whole number"):
        apply("int", value, ctx())


def test_float() -> None:
    assert apply("float", "121.5437", ctx()) == 121.5437
    assert apply("float", "1,234.5", ctx()) == 1234.5
    with pytest.raises(ValidationError):
        apply("float", "nan", ctx())
    with pytest.raises(ValidationError):
        apply("float", "东经121度", ctx())


@pytest.mark.parametrize(("value", "out"), [("是", True), ("否", False), ("Y", True), ("no", False), (1, True),
                                            (0.0, False), ("√", True), ("×", False), (" TRUE ", True)])
def test_bool(value: Any, out: bool) -> None:
    assert apply("bool", value, ctx()) is out


def test_bool_rejects() -> None:
    with pytest.raises(ValidationError, match="yes or no"):
        apply("bool", "也许", ctx())


def test_str_upper_lower() -> None:
    assert apply("str", "  张伟 ", ctx()) == "张伟"
    assert apply("str", 13812345678, ctx()) == "13812345678"
    assert apply("str", 101.0, ctx()) == "101"
    assert apply("str", 2.5, ctx()) == "2.5"
    assert apply("upper", "cn", ctx()) == "CN"
    assert apply("lower", "RU", ctx()) == "ru"


@pytest.mark.parametrize("value", [310115198403021234, 3.10115198403021e17, "3.10115E+17", "3.10115198403021E+17",
                                   1234567890123456])
def test_numbers_longer_than_excel_keeps_are_refused(value: Any) -> None:
    with pytest.raises(ValidationError, match="spreadsheets keep only 15 digits") as info:
        apply("str", value, ctx("Person.key [编号]"))
    assert "Format the column as Text" in (info.value.hint or "")


def test_identity_hashes_and_never_returns_the_number() -> None:
    number = valid_id()
    out = apply("identity", number, ctx("Person.identity", column="证件号码"))
    assert out == {"id_hash": hash_identity(number, KEY)[0], "id_last4": number[-4:], "id_kind": "resident_id"}
    assert number not in repr(out)
    # Spaces and a lower-case x are normalised before hashing: the same person hashes alike.
    x_id = valid_id("31011519840302009")
    assert x_id.endswith("X")
    spaced = x_id[:6] + " " + x_id[6:-1] + "x"
    assert apply("identity", spaced, ctx())["id_hash"] == hash_identity(x_id, KEY)[0]


def test_identity_bad_check_char_is_masked() -> None:
    bad = wrong_check(valid_id())
    with pytest.raises(ValidationError) as info:
        apply("identity", bad, ctx("Person.identity [证件号码]", kind="居民身份证"))
    message = str(info.value)
    assert "Person.identity" in message and "check" in message.lower()
    assert bad not in message and bad[:14] not in message
    assert info.value.value == "************" + bad[-4:]


def test_identity_kind_detection() -> None:
    rid = valid_id()
    assert identity_kind(rid, None, "证件号码") == "resident_id"
    assert identity_kind("E12345678", None, "证件号码") == "passport"
    assert identity_kind("E12345678", "护照", None) == "passport"
    assert identity_kind("E12345678", "PR card", None) == "permanent_residence_id"
    assert identity_kind("E12345678", None, "身份证号") == "resident_id"
    assert identity_kind(wrong_check(rid), None, None) == "resident_id"  # checked as an id, not a passport
    with pytest.raises(ValidationError, match="id_kinds"):
        identity_kind(rid, "驾照", None)


def test_identity_passport() -> None:
    out = apply("identity", "e 1234 5678", ctx(kind="passport"))
    assert out["id_kind"] == "passport" and out["id_last4"] == "5678"
    with pytest.raises(ValidationError):
        apply("identity", "AB", ctx(kind="passport"))


def test_identity_needs_a_key() -> None:
    with pytest.raises(ValidationError, match="id_hash_key"):
        apply("identity", valid_id(), ctx(id_hash_key=b""))


def test_gcj02_converts_and_wgs84_passes_through() -> None:
    lon, lat = 121.5437, 31.2304
    out = apply("gcj02", ("121.5437", "31.2304"), ctx())
    want = gcj02_to_wgs84(lon, lat)
    assert out == {"lon": round(want[0], 7), "lat": round(want[1], 7)}
    assert 0.001 < abs(out["lon"] - lon) < 0.01  # a few hundred metres, as GCJ-02 offsets are
    assert apply("wgs84", (lon, lat), ctx()) == {"lon": lon, "lat": lat}


def test_swapped_coordinates_are_named() -> None:
    with pytest.raises(ValidationError, match="swapped") as info:
        apply("gcj02", ("31.2304", "121.5437"), ctx("Area.lon_lat [经度, 纬度]"))
    assert info.value.field == "Area.lon_lat [经度, 纬度]"


def test_half_empty_coordinates() -> None:
    with pytest.raises(ValidationError, match="one of them is empty"):
        apply("wgs84", ("121.5", ""), ctx())


def test_mask_id() -> None:
    assert mask_id("310115198403021234") == "************1234"
    assert mask_id(" E123 45678 ") == "************5678"


def test_register_transform() -> None:
    @register_transform("reverse-test")
    def reverse(value: Any, c: Context) -> str:
        """Text reversed."""
        return str(value)[::-1]

    try:
        assert apply("reverse-test", "abc", ctx()) == "cba"
        assert TRANSFORMS["reverse-test"].description == "Text reversed."
    finally:
        TRANSFORMS.pop("reverse-test")
