from __future__ import annotations

import datetime as dt
import random

import pytest

from talentgraph.errors import ConfigError, ValidationError
from talentgraph.schema import validators as v
from talentgraph.schema.geo import SHANGHAI_BBOX, distance_m, gcj02_to_wgs84, out_of_china, wgs84_to_gcj02
from talentgraph.schema.ontology import ONTOLOGY

# --- USCC ----------------------------------------------------------------------------------------

# The worked example printed in GB 32100-2015 itself (not a real organisation).
STANDARD_USCC = "91350100M000100Y43"


def _random_uscc(rng: random.Random) -> str:
    body = "".join(rng.choice(v.USCC_CHARSET) for _ in range(17))
    return body + v.uscc_check_char(body)


def test_uscc_standard_example_is_valid() -> None:
    assert v.uscc_check_char(STANDARD_USCC[:17]) == STANDARD_USCC[17]
    assert v.uscc(STANDARD_USCC) == STANDARD_USCC


def test_uscc_weights_are_powers_of_three_mod_31() -> None:
    assert v._USCC_WEIGHTS[:6] == (1, 3, 9, 27, 19, 26)


def test_uscc_generated_codes_validate_and_every_other_check_char_fails() -> None:
    rng = random.Random(7)
    for _ in range(200):
        code = _random_uscc(rng)
        assert v.uscc(code) == code
    code = _random_uscc(rng)
    wrong = [c for c in v.USCC_CHARSET if c != code[17]]
    for c in wrong:
        with pytest.raises(ValidationError, match="check character"):
            v.uscc(code[:17] + c)


def test_uscc_is_normalised() -> None:
    messy = " 9135 0100-m000100y43 "
    assert v.uscc(messy) == STANDARD_USCC
    assert v.uscc("９１３５０１００Ｍ０００１００Ｙ４３") == STANDARD_USCC  # full-width


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("91350100M000100Y4", "17 characters"),
        ("91350100M000100Y433", "19 characters"),
        ("91350100I000100Y43", "'I'"),
        ("91350100O000100Y43", "'O'"),
        ("91350100M000100Y44", "check character"),
    ],
)
def test_uscc_invalid(value: str, hint: str) -> None:
    with pytest.raises(ValidationError) as e:
        v.uscc(value, "Enterprise.uscc")
    assert e.value.field == "Enterprise.uscc" and "GB 32100" in e.value.expected
    assert e.value.hint is not None and hint in e.value.hint


def test_uscc_check_char_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        v.uscc_check_char("123")
    with pytest.raises(ValueError):
        v.uscc_check_char("9135010OM000100Y4")


# --- resident identity numbers ---------------------------------------------------------------------

# Synthetic: 310115 (Pudong) with a 1950 birth date — the region code post-dates the birth.
PUDONG_1950 = "31011519500307123" + "0"
WITH_X = "31011519500601002X"
STANDARD_ID = "11010519491231002X"  # the GB 11643 worked example


def test_resident_id_check_chars() -> None:
    assert v.resident_id_check_char(PUDONG_1950[:17]) == "0"
    assert v.resident_id_check_char(WITH_X[:17]) == "X"
    assert v.resident_id_check_char(STANDARD_ID[:17]) == "X"


@pytest.mark.parametrize("value", [PUDONG_1950, WITH_X, STANDARD_ID, WITH_X.lower(), "310115 19500307 1230"])
def test_resident_id_valid(value: str) -> None:
    assert v.resident_id(value) == value.upper().replace(" ", "")


def test_resident_id_generated_numbers_round_trip() -> None:
    rng = random.Random(11)
    for _ in range(200):
        birth = dt.date(1900, 1, 1) + dt.timedelta(days=rng.randrange(45000))
        body = f"{rng.randrange(110000, 660000)}{birth:%Y%m%d}{rng.randrange(1000):03d}"
        number = body + v.resident_id_check_char(body)
        assert v.resident_id(number) == number


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("310115195003071231", "check character"),
        ("310115189912311234", "birth date"),
        ("310115195002301234", "birth date"),
        ("31011519500307123A", "characters"),
        ("3101151950030712", "16 characters"),
    ],
)
def test_resident_id_invalid(value: str, hint: str) -> None:
    # Fix the check character so only the named defect remains.
    if hint == "birth date":
        value = value[:17] + v.resident_id_check_char(value[:17])
    with pytest.raises(ValidationError) as e:
        v.resident_id(value, "Person.id_number")
    assert e.value.hint is not None and hint in e.value.hint
    assert value not in str(e.value), "the full number must not appear in an error"


def test_resident_id_future_birth_date() -> None:
    body = "31011520990101123"
    with pytest.raises(ValidationError, match="birth date"):
        v.resident_id(body + v.resident_id_check_char(body), today=dt.date(2026, 1, 1))


def test_resident_id_15_digits_has_conversion_hint() -> None:
    old = "310115500307123"
    with pytest.raises(ValidationError) as e:
        v.resident_id(old)
    assert e.value.hint is not None and "15-digit" in e.value.hint and "upgrade_resident_id15" in e.value.hint
    assert v.upgrade_resident_id15(old) == PUDONG_1950


def test_passport() -> None:
    assert v.passport(" e1234 5678 ") == "E12345678"
    assert v.passport("AB-12345") == "AB12345"
    for bad in ["1234", "A" * 21, "E1234#567"]:
        with pytest.raises(ValidationError, match="5-20 letters and digits"):
            v.passport(bad)


def test_identity_number_dispatches_by_kind() -> None:
    assert v.identity_number("resident_id", WITH_X.lower()) == WITH_X
    assert v.identity_number("passport", "e12345678") == "E12345678"
    with pytest.raises(ValidationError):
        v.identity_number("resident_id", "E12345678")


def test_hash_identity() -> None:
    key = b"test-key-0123456789"
    digest, last4 = v.hash_identity(WITH_X, key)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert last4 == "002X"
    assert v.hash_identity(WITH_X.lower()[:6] + " " + WITH_X.lower()[6:], key) == (digest, last4)
    assert v.hash_identity(WITH_X, b"another-key")[0] != digest
    assert v.hash_identity(PUDONG_1950, key)[0] != digest
    assert WITH_X not in digest
    with pytest.raises(ConfigError):
        v.hash_identity(WITH_X, b"")


# --- phones --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "e164"),
    [
        ("13812345678", "+8613812345678"),
        ("138 1234 5678", "+8613812345678"),
        ("+86 138-1234-5678", "+8613812345678"),
        ("008613812345678", "+8613812345678"),
        (13812345678, "+8613812345678"),
        (13812345678.0, "+8613812345678"),
        ("021-5012 3456", "+862150123456"),
        ("(021)68541234", "+862168541234"),
        ("+7 495 123-45-67", "+74951234567"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+1 212 555 0100", "+12125550100"),
        ("＋８６１３８１２３４５６７８", "+8613812345678"),
    ],
)
def test_phone_valid(value: object, e164: str) -> None:
    assert v.phone(value) == e164


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("12345", "numbering plan"),
        ("138123456789", "numbering plan"),
        ("50123456", "area code"),
        ("not a phone", "could not be read"),
    ],
)
def test_phone_invalid(value: str, hint: str) -> None:
    with pytest.raises(ValidationError) as e:
        v.phone(value, "Person.phone")
    assert e.value.field == "Person.phone"
    assert e.value.hint is not None and hint in e.value.hint


# --- coordinates ---------------------------------------------------------------------------------


def test_coordinates_in_shanghai() -> None:
    assert v.latitude("31.2304") == pytest.approx(31.2304)
    assert v.longitude(121.5447) == pytest.approx(121.5447)


@pytest.mark.parametrize(("func", "value"), [(v.latitude, 121.5447), (v.longitude, 31.2304)])
def test_swapped_coordinates_get_a_hint(func: v.Validator, value: float) -> None:
    with pytest.raises(ValidationError) as e:
        func(value, "Venue.x")
    assert e.value.hint is not None and "latitude and longitude look swapped" in e.value.hint


@pytest.mark.parametrize(("func", "value"), [(v.latitude, 39.9), (v.longitude, 116.4), (v.latitude, -31.2)])
def test_out_of_box_coordinates_have_no_swap_hint(func: v.Validator, value: float) -> None:
    with pytest.raises(ValidationError) as e:
        func(value, "Venue.x")
    assert e.value.hint is None and "Shanghai" in e.value.expected


@pytest.mark.parametrize("value", ["abc", "nan", float("inf"), None, [31.2]])
def test_non_numeric_coordinates(value: object) -> None:
    with pytest.raises(ValidationError):
        v.latitude(value)


# --- language levels and dates ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "out"),
    [("ru:B2", "ru:B2"), ("Russian: b2", "ru:B2"), ("俄语：C1", "ru:C1"), ("zh:native", "zh:native"),
     ("中文:母语", "zh:native"), ("EN:a1", "en:A1")],
)
def test_language_level_valid(value: str, out: str) -> None:
    assert v.language_level(value) == out


@pytest.mark.parametrize(("value", "hint"), [("ru", "ru:B2"), ("ru:B3", "B3"), ("xx:B2", "languages"), (":B2", "ru:B2")])
def test_language_level_invalid(value: str, hint: str) -> None:
    with pytest.raises(ValidationError) as e:
        v.language_level(value, "Person.language_levels")
    assert e.value.field == "Person.language_levels"
    assert hint in str(e.value)


@pytest.mark.parametrize(
    ("value", "out"),
    [("2024-03-05", "2024-03-05"), ("2024/3/5", "2024-03-05"), ("2024.03.05", "2024-03-05"),
     ("2024年3月5日", "2024-03-05"), ("2024-03-05T10:00:00Z", "2024-03-05"),
     (dt.date(2024, 3, 5), "2024-03-05"), (dt.datetime(2024, 3, 5, 9, 30), "2024-03-05")],
)
def test_date_valid(value: object, out: str) -> None:
    assert v.date(value) == out


@pytest.mark.parametrize("value", ["2024-02-30", "05/03/2024", "March 5", 20240305, "2024-13-01"])
def test_date_invalid(value: object) -> None:
    with pytest.raises(ValidationError, match="YYYY-MM-DD"):
        v.date(value, "PartyOrganization.established")


def test_registry_covers_every_validator_named_in_the_ontology() -> None:
    props = [p for n in ONTOLOGY.node_types for p in n.properties]
    props += [p for r in ONTOLOGY.rel_types for p in r.properties]
    named = {p.validator for p in props if p.validator}
    assert named == {"uscc", "phone", "latitude", "longitude", "polygon", "language_level", "date"}
    assert named <= set(v.VALIDATORS)


# --- geo -----------------------------------------------------------------------------------------


def test_gcj02_round_trip_is_sub_half_metre_across_shanghai() -> None:
    box = SHANGHAI_BBOX
    worst = 0.0
    for i in range(15):
        for j in range(15):
            lon = box.min_lon + (box.max_lon - box.min_lon) * i / 14
            lat = box.min_lat + (box.max_lat - box.min_lat) * j / 14
            g_lon, g_lat = wgs84_to_gcj02(lon, lat)
            offset = distance_m(lon, lat, g_lon, g_lat)
            assert 100 < offset < 1000, "the GCJ-02 offset in Shanghai is a few hundred metres"
            back = gcj02_to_wgs84(g_lon, g_lat)
            worst = max(worst, distance_m(lon, lat, *back))
    assert worst < 0.5
    assert worst < 0.001  # in practice far better than required


def test_gcj02_offset_direction_in_shanghai() -> None:
    # Known behaviour of GCJ-02 around Shanghai: shifted east and slightly south.
    g_lon, g_lat = wgs84_to_gcj02(121.5447, 31.2304)
    assert 0.003 < g_lon - 121.5447 < 0.006
    assert -0.004 < g_lat - 31.2304 < 0


def test_outside_china_is_unchanged() -> None:
    assert out_of_china(2.35, 48.85)
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
    assert gcj02_to_wgs84(2.35, 48.85) == (2.35, 48.85)


def test_distance() -> None:
    # One degree of latitude is about 111.2 km.
    assert distance_m(121.0, 31.0, 121.0, 32.0) == pytest.approx(111195, rel=1e-3)


def test_mobiles_take_the_short_path_with_the_full_paths_answers() -> None:
    """The short path for mainland mobiles (bare, grouped 3-4-4, with or without +86) agrees with
    libphonenumber's full parse on every number it sees, valid or not, in every prefix 100–199."""
    import random

    import phonenumbers

    from talentgraph.errors import ValidationError
    from talentgraph.schema import validators

    rng = random.Random(4)
    numbers = [f"1{rng.randint(3, 9)}{rng.randint(0, 10**9 - 1):09d}" for _ in range(3000)]
    numbers += [f"{p}{rng.randint(0, 10**8 - 1):08d}" for p in range(100, 200) for _ in range(20)]
    numbers += ["13800138000", "14000000000", "19999999999", "16600000000", "10012345678", "17912345678"]
    forms = ["{} {} {}", "{}-{}-{}", "+86 {}{}{}", "+86-{}-{}-{}", "+86{}{}{}", "+86 {} {} {}", "+86  {}{}{}",
             "86{}{}{}", "{}{} {}", "({}){}{}"]
    texts = [rng.choice(forms).format(n[:3], n[3:7], n[7:]) for n in numbers] + numbers
    for text in texts:
        parsed = phonenumbers.parse(text, "CN")
        if phonenumbers.is_valid_number(parsed):
            assert validators.phone(text) == phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        else:
            with pytest.raises(ValidationError):
                validators.phone(text)
