"""Value validators named by ``Property.validator`` in the ontology, plus identity-number hashing.

Each validator is a pure function ``(value, field) -> normalised value`` that raises
``ValidationError(field, value, expected)`` with a hint for the fix. ``VALIDATORS`` maps the names
the ontology uses to these functions; ``schema/validation.py`` applies them on ingest.
"""

from __future__ import annotations

import datetime as dt
import hmac
import math
import re
import unicodedata
from collections.abc import Callable
from operator import mul
from typing import Any

import phonenumbers

from talentgraph.errors import ConfigError, ValidationError
from talentgraph.schema.geo import SHANGHAI_BBOX

# --- unified social credit code (GB 32100-2015) ----------------------------------------------------

# 31 characters: digits and capitals without I, O, Z, S, V (too easily confused with 1, 0, 2, 5, U).
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_CHARSET)}
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, …


def clean_number(value: Any) -> str:
    """Text as typed in a register: NFKC (full-width → ASCII), spaces and hyphens removed, upper case."""
    text = str(value)
    if text.isascii() and text.isalnum():  # the usual number: nothing to normalise or remove
        return text.upper()
    return _SPACE_OR_HYPHEN.sub("", unicodedata.normalize("NFKC", text)).upper()


_SPACE_OR_HYPHEN = re.compile(r"[\s\-]")


def uscc_check_char(first17: str) -> str:
    """Check character for the first 17 characters of a USCC (ValueError if a character is illegal)."""
    if len(first17) != 17:
        raise ValueError(f"uscc_check_char needs 17 characters, got {len(first17)}: {first17!r}")
    try:
        total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, _USCC_WEIGHTS))
    except KeyError as e:
        raise ValueError(f"{e.args[0]!r} is not a USCC character ({USCC_CHARSET})") from None
    return USCC_CHARSET[(31 - total % 31) % 31]


def uscc(value: Any, field: str = "uscc") -> str:
    code = clean_number(value)
    expected = "an 18-character unified social credit code (GB 32100-2015)"
    if len(code) != 18:
        raise ValidationError(field, value, expected, hint=f"It has {len(code)} characters after removing spaces.")
    bad = sorted({c for c in code if c not in _USCC_VALUE})
    if bad:
        hint = f"Characters {bad} are not allowed; the alphabet is {USCC_CHARSET} (no I, O, Z, S, V)."
        raise ValidationError(field, value, expected, hint=hint)
    check = uscc_check_char(code[:17])
    if code[17] != check:
        hint = f"The check character is {code[17]!r} but the first 17 characters give {check!r}; look for a typo."
        raise ValidationError(field, value, expected, hint=hint)
    return code


# --- resident identity number (GB 11643-1999) --------------------------------------------------------

_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, …


def resident_id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character ('0'–'9' or 'X') for the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"resident_id_check_char needs 17 ASCII digits, got {first17!r}")
    total = sum(map(mul, map(int, first17), _ID_WEIGHTS))
    check = (12 - total % 11) % 11
    return "X" if check == 10 else str(check)


def upgrade_resident_id15(value: str) -> str:
    """The 18-digit form of a legacy 15-digit number (born 19xx): insert '19' and add the check char."""
    old = clean_number(value)
    if len(old) != 15 or not old.isdigit():
        raise ValueError(f"not a 15-digit resident id: {value!r}")
    first17 = old[:6] + "19" + old[6:]
    return first17 + resident_id_check_char(first17)


def resident_id(value: Any, field: str = "resident_id", *, today: dt.date | None = None) -> str:
    number = clean_number(value)
    expected = "an 18-character resident identity number (GB 11643: 17 digits and a check digit 0-9 or X)"
    if len(number) == 15 and number.isdigit():
        raise ValidationError(
            field, "***", expected,
            hint="This is a legacy 15-digit number; convert it with validators.upgrade_resident_id15 "
            "(insert '19' before the birth year and append the check character).",
        )
    # The raw number is personal data: messages show only its length and last characters.
    shown = f"…{number[-4:]}" if len(number) > 4 else "***"
    if len(number) != 18 or not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError(field, shown, expected, hint=f"It has {len(number)} characters after removing spaces.")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        birth = None
    today = today or dt.date.today()
    if birth is None or birth.year < 1900 or birth > today:
        raise ValidationError(
            field, shown, expected,
            hint=f"Characters 7-14 should be a birth date YYYYMMDD between 1900 and today; got {number[6:14]}.",
        )
    check = resident_id_check_char(number[:17])
    if number[17] != check:
        raise ValidationError(
            field, shown, expected,
            hint=f"The check character is {number[17]!r} but the first 17 digits give {check!r}; look for a typo.",
        )
    return number


# --- passports and other documents ------------------------------------------------------------------

_PASSPORT = re.compile(r"^[A-Z0-9]{5,20}$")


def passport(value: Any, field: str = "passport") -> str:
    number = clean_number(value)
    if not _PASSPORT.match(number):
        shown = f"…{number[-4:]}" if len(number) > 4 else "***"
        raise ValidationError(
            field, shown, "a passport or permit number of 5-20 letters and digits",
            hint=f"After removing spaces and hyphens it is {len(number)} characters long"
            + ("" if number.isalnum() else " and contains punctuation") + ".",
        )
    return number


def identity_number(kind: str, value: Any, field: str = "id_number") -> str:
    """Normalise a document number by ``id_kinds`` term id: GB 11643 for resident_id, else passport rules."""
    return resident_id(value, field) if kind == "resident_id" else passport(value, field)


def hash_identity(number: str, key: bytes) -> tuple[str, str]:
    """(hex HMAC-SHA256 of the normalised number, its last four characters).

    Keyed so that the hash cannot be reversed by enumerating the (small) space of valid id
    numbers without the key; normalised so "310115 1950…x" and "3101151950…X" hash alike.
    """
    if not isinstance(key, (bytes, bytearray)) or not key:
        raise ConfigError(
            "id_hash_key is empty or not bytes; identity numbers cannot be hashed.",
            hint="Set TALENTGRAPH_ID_HASH_KEY or let the data dir create a random key.",
        )
    normalised = clean_number(number)
    if not normalised:
        raise ValidationError("id_number", number, "a non-empty identity document number")
    digest = hmac.digest(bytes(key), normalised.encode("utf-8"), "sha256").hex()  # one call: hmac.new's object costs more
    return digest, normalised[-4:]


# --- phone numbers ----------------------------------------------------------------------------------


# A mainland mobile as registers write it: bare, in 3-4-4 groups, with or without +86.
_MOBILE = re.compile(r"(?:\+86[ -]?)?(1[3-9][0-9])[ -]?([0-9]{4})[ -]?([0-9]{4})\Z")


def _plan_pattern(desc: Any) -> tuple[frozenset[int], re.Pattern[str]]:
    return frozenset(desc.possible_length), re.compile(desc.national_number_pattern)


_CN = phonenumbers.PhoneMetadata.metadata_for_region("CN")
assert _CN is not None  # libphonenumber ships every region's metadata
# The numbering plan's own patterns (libphonenumber's metadata): a number of the general shape that is
# a mobile is valid, as ``is_valid_number`` decides it, without building and classifying a PhoneNumber.
_CN_GENERAL = _plan_pattern(_CN.general_desc)
_CN_MOBILE = _plan_pattern(_CN.mobile)


def _cn_mobile(digits: str) -> bool:
    return all(len(digits) in lengths and pattern.fullmatch(digits) for lengths, pattern in (_CN_GENERAL, _CN_MOBILE))


def phone(value: Any, field: str = "phone", region: str = "CN") -> str:
    """E.164 form of a mainland mobile, a Shanghai (or other Chinese) landline, or +<country> number."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # spreadsheets hand back 13812345678.0
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if region == "CN" and (mobile := _MOBILE.match(text)):
        # Most cells are a mainland mobile: checked against the numbering plan's mobile pattern without
        # parsing (a twentieth of the cost); anything it does not match takes the full path and its message.
        digits = "".join(mobile.groups())
        if _cn_mobile(digits):
            return "+86" + digits
    expected = "a phone number: mainland mobile (138…), landline with area code (021-…), or +country code"
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as e:
        raise ValidationError(field, value, expected, hint=f"It could not be read as a phone number ({e}).") from None
    if not phonenumbers.is_valid_number(parsed):
        hint = (
            "Landlines need the area code (021 for Shanghai)."
            if parsed.country_code == 86 and len(str(parsed.national_number)) == 8
            else "The digits do not form a number that exists in its numbering plan; check the length and prefix."
        )
        raise ValidationError(field, value, expected, hint=hint)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# --- coordinates ------------------------------------------------------------------------------------


def _float(value: Any, field: str, expected: str) -> float:
    try:
        number = float(unicodedata.normalize("NFKC", value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise ValidationError(field, value, expected, hint="Give a decimal number of degrees, e.g. 31.2304.") from None
    if not math.isfinite(number):
        raise ValidationError(field, value, expected)
    return number


_SWAPPED = "latitude and longitude look swapped; exchange the two columns in the mapping."


def latitude(value: Any, field: str = "lat") -> float:
    box = SHANGHAI_BBOX
    expected = f"a WGS84 latitude inside Shanghai ({box.min_lat}–{box.max_lat})"
    lat = _float(value, field, expected)
    if not box.contains_lat(lat):
        hint = _SWAPPED if box.contains_lon(lat) else None
        raise ValidationError(field, value, expected, hint=hint)
    return lat


def longitude(value: Any, field: str = "lon") -> float:
    box = SHANGHAI_BBOX
    expected = f"a WGS84 longitude inside Shanghai ({box.min_lon}–{box.max_lon})"
    lon = _float(value, field, expected)
    if not box.contains_lon(lon):
        hint = _SWAPPED if box.contains_lat(lon) else None
        raise ValidationError(field, value, expected, hint=hint)
    return lon


# --- outlines (RFC 7946 Polygon) -------------------------------------------------------------------

_MAX_OUTLINE_POSITIONS = 2000


def _ring_area2(ring: list[list[float]]) -> float:
    """Twice the signed planar area of a closed ring (positive: counter-clockwise)."""
    return sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:]))


def polygon(value: Any, field: str = "outline") -> str:
    """An outline as compact GeoJSON Polygon text, WGS84, exterior ring counter-clockwise (RFC 7946 §3.1.6).

    Accepts a GeoJSON Polygon (object or its JSON text) or a ring written as
    ``lon,lat;lon,lat;…`` — the form a register's spreadsheet cell holds. Rings are closed if the
    last position does not repeat the first; every position must lie inside Shanghai.
    """
    import json

    expected = ("a GeoJSON Polygon or 'lon,lat;lon,lat;…' with at least three distinct WGS84 positions inside "
                "Shanghai")
    data: Any = value
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        if text.startswith("{"):
            try:
                data = json.loads(text)
            except ValueError:
                raise ValidationError(field, value, expected, hint="The text starts like JSON but does not parse.") \
                    from None
        else:
            try:
                data = {"type": "Polygon", "coordinates": [[[float(x) for x in pair.split(",")]
                                                            for pair in text.split(";") if pair.strip()]]}
            except ValueError:
                raise ValidationError(field, value, expected, hint="Write e.g. 121.55,31.21;121.56,31.21;121.56,31.22.") \
                    from None
    if not isinstance(data, dict) or data.get("type") != "Polygon" or not isinstance(data.get("coordinates"), list):
        raise ValidationError(field, value, expected, hint='Give {"type": "Polygon", "coordinates": [[[lon, lat], …]]}.')
    rings: list[list[list[float]]] = []
    total = 0
    for r, ring in enumerate(data["coordinates"]):
        if not isinstance(ring, list):
            raise ValidationError(field, value, expected, hint=f"Ring {r} is not a list of positions.")
        positions: list[list[float]] = []
        for pos in ring:
            if (not isinstance(pos, list) or len(pos) not in (2, 3)
                    or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
                               for x in pos)):
                raise ValidationError(field, value, expected, hint=f"Ring {r} holds {pos!r}, not [lon, lat].")
            lon, lat = float(pos[0]), float(pos[1])
            if not SHANGHAI_BBOX.contains(lon, lat):
                hint = _SWAPPED if SHANGHAI_BBOX.contains(lat, lon) else f"[{lon}, {lat}] lies outside Shanghai."
                raise ValidationError(field, value, expected, hint=hint)
            positions.append([round(lon, 7), round(lat, 7)])
        if positions and positions[0] != positions[-1]:
            positions.append(list(positions[0]))
        if len({tuple(p) for p in positions}) < 3:
            raise ValidationError(field, value, expected, hint=f"Ring {r} has fewer than three distinct positions.")
        area = _ring_area2(positions)
        if area == 0:
            raise ValidationError(field, value, expected, hint=f"Ring {r} encloses no area (its positions are in a line).")
        # Exterior rings counter-clockwise, holes clockwise (RFC 7946 §3.1.6).
        if (area < 0) == (r == 0):
            positions.reverse()
        total += len(positions)
        rings.append(positions)
    if not rings:
        raise ValidationError(field, value, expected, hint="The polygon has no ring.")
    if total > _MAX_OUTLINE_POSITIONS:
        raise ValidationError(field, f"{total} positions", expected,
                              hint=f"Simplify the outline to at most {_MAX_OUTLINE_POSITIONS} positions.")
    return json.dumps({"type": "Polygon", "coordinates": rings}, separators=(",", ":"))


# --- language levels --------------------------------------------------------------------------------

CEFR_LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")
_NATIVE = {"native", "母语", "mother tongue", "l1"}


def language_level(value: Any, field: str = "language_levels") -> str:
    """'code:level' with the language mapped through the vocabulary: 'Russian: b2' → 'ru:B2'."""
    from talentgraph.schema.vocabularies import vocabulary  # the vocabulary module imports nothing from here

    expected = "'language:level', the language from the languages vocabulary and the level A1-C2 or native"
    text = unicodedata.normalize("NFKC", str(value)).strip()
    lang, sep, level = text.rpartition(":")
    if not sep or not lang.strip() or not level.strip():
        raise ValidationError(field, value, expected, hint="Write e.g. 'ru:B2' or 'zh:native'.")
    term = vocabulary("languages").require(lang.strip(), field)
    lvl = level.strip()
    if lvl.upper() in CEFR_LEVELS:
        return f"{term.id}:{lvl.upper()}"
    if lvl.casefold() in _NATIVE:
        return f"{term.id}:native"
    raise ValidationError(field, value, expected, hint=f"Level {lvl!r} is not one of {', '.join(CEFR_LEVELS)}, native.")


# --- dates ------------------------------------------------------------------------------------------

# Year-month-day order only; registers also write 2024/3/5, 2024.03.05 and 2024年3月5日.
_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def date(value: Any, field: str = "date") -> str:
    """ISO 'YYYY-MM-DD' from a date, a datetime (its date part) or a year-month-day string."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    expected = "a date YYYY-MM-DD"
    if not isinstance(value, str):
        raise ValidationError(field, value, expected, hint=f"Got a {type(value).__name__}, not text or a date.")
    text = unicodedata.normalize("NFKC", value).strip()
    # ISO timestamps ("2024-03-05T10:00:00Z") carry the date first; keep it.
    m = _YMD.match(text.split("T")[0] if "T" in text else text)
    if not m:
        raise ValidationError(field, value, expected, hint="Write year-month-day, e.g. 2024-03-05.")
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError as e:
        raise ValidationError(field, value, expected, hint=f"No such day ({e}).") from None


Validator = Callable[[Any, str], Any]

VALIDATORS: dict[str, Validator] = {
    "uscc": uscc,
    "phone": phone,
    "latitude": latitude,
    "longitude": longitude,
    "polygon": polygon,
    "language_level": language_level,
    "date": date,
    "resident_id": resident_id,
    "passport": passport,
}
