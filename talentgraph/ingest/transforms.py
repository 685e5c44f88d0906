"""Value transforms named in mapping files: ``{column: 出生日期, transform: year}``.

A transform is one small function ``(value, ctx) -> value`` registered with ``@register_transform(name)``.
It receives a non-empty cell (emptiness and defaults are handled by the caller) and raises
``ValidationError(field, value, expected)`` for input it cannot read. Transforms that write more
than one property (``identity`` → id_hash/id_last4/id_kind, ``gcj02`` → lon/lat) declare
``outputs`` and return a dict; ``columns=2`` ones receive a tuple of two cells. A transform is a
function of its cells and its context (field, the job's id-hash key, the row's kind cell): an ingest
remembers what each distinct cell came to and does not call it again for the same cell
(``ingest/distinct.py``), so a transform must not read a clock, a counter or other rows.

Cells from spreadsheets are not always strings: ``to_text`` is the one place a number becomes
text, and it refuses numbers with more digits than Excel keeps, so an 18-digit id typed into a
Number cell is reported instead of written with its last digits rounded away.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from talentgraph.errors import ValidationError
from talentgraph.schema.geo import gcj02_to_wgs84
from talentgraph.schema.validators import clean_number, hash_identity, identity_number, polygon
from talentgraph.schema.vocabularies import vocabulary

# Excel and WPS store numbers as IEEE doubles shown with 15 significant digits.
EXCEL_DIGITS = 15


@dataclass(frozen=True)
class Context:
    """What a transform may need besides the value; ``field`` is how errors name the value."""

    field: str
    column: str | None = None
    id_hash_key: bytes = b""
    kind: Any = None  # identity: the cell of ``kind_column``, when the mapping names one


TransformFn = Callable[[Any, Context], Any]


@dataclass(frozen=True)
class Transform:
    name: str
    fn: TransformFn
    outputs: tuple[str, ...] = ()  # properties written; () = the mapped property itself
    columns: int = 1  # number of source columns it reads
    description: str = ""


TRANSFORMS: dict[str, Transform] = {}


def register_transform(
    name: str, *, outputs: tuple[str, ...] = (), columns: int = 1
) -> Callable[[TransformFn], TransformFn]:
    """Register ``fn`` as the transform ``name`` (its docstring's first line is its description)."""

    def decorate(fn: TransformFn) -> TransformFn:
        doc = (fn.__doc__ or "").strip().splitlines()
        TRANSFORMS[name] = Transform(name, fn, outputs, columns, doc[0] if doc else "")
        return fn

    return decorate


def apply(name: str, value: Any, ctx: Context) -> Any:
    return TRANSFORMS[name].fn(value, ctx)


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def mask_id(value: Any) -> str:
    """``************1234``: a fixed-width mask so the length of the number is not revealed either."""
    text = re.sub(r"\s+", "", str(value))
    return "************" + text[-4:] if text else ""


# --- text ---------------------------------------------------------------------------------------

_SCIENTIFIC = re.compile(r"^[+-]?\d(?:\.\d+)?[eE]\+?(\d+)$")


def _too_long(value: Any, digits: int, ctx: Context) -> ValidationError:
    return ValidationError(
        ctx.field, value,
        f"text; this is a {digits}-digit number, but spreadsheets keep only {EXCEL_DIGITS} digits so the "
        "last ones may already be lost",
        hint="Format the column as Text in Excel/WPS and re-enter the values (or prefix them with ').",
    )


def to_text(value: Any, ctx: Context) -> str:
    """Cell → stripped text; whole floats lose '.0'; long numbers and 3.1E+17 forms are refused."""
    if isinstance(value, str):
        text = value.strip()
        m = _SCIENTIFIC.match(text)
        if m and int(m.group(1)) >= 10:
            raise _too_long(value, int(m.group(1)) + 1, ctx)
        return text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if len(str(abs(value))) > EXCEL_DIGITS:
            raise _too_long(value, len(str(abs(value))), ctx)
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(ctx.field, value, "a finite number or text")
        if value.is_integer():
            digits = len(str(abs(int(value))))
            if digits > EXCEL_DIGITS:
                raise _too_long(value, digits, ctx)
            return str(int(value))
        return repr(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        raise ValidationError(ctx.field, value, "a single value", hint="Use split: to map a list to a list property.")
    return str(value).strip()


@register_transform("str")
def str_(value: Any, ctx: Context) -> str:
    """Text, stripped (the default for text properties)."""
    return to_text(value, ctx)


@register_transform("upper")
def upper(value: Any, ctx: Context) -> str:
    """Text in upper case (e.g. country codes)."""
    return to_text(value, ctx).upper()


@register_transform("lower")
def lower(value: Any, ctx: Context) -> str:
    """Text in lower case."""
    return to_text(value, ctx).lower()


# --- numbers ------------------------------------------------------------------------------------

_THOUSANDS = re.compile(r"(?<=\d)[,，\s'](?=\d{3})")


def _number_text(value: Any) -> str:
    # NFKC turns full-width digits (１２３) into ASCII; registers typed on Chinese IMEs contain them.
    return _THOUSANDS.sub("", unicodedata.normalize("NFKC", str(value)).strip())


@register_transform("int")
def int_(value: Any, ctx: Context) -> int:
    """Whole number; accepts 1,234 and full-width digits; 12.0 → 12."""
    if isinstance(value, bool):
        raise ValidationError(ctx.field, value, "a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = _number_text(value)
    m = re.fullmatch(r"([+-]?\d+)(?:\.0*)?", text)
    if not m:
        raise ValidationError(ctx.field, value, "a whole number such as 42")
    return int(m.group(1))


@register_transform("float")
def float_(value: Any, ctx: Context) -> float:
    """Decimal number; accepts 1,234.5 and full-width digits."""
    if isinstance(value, bool):
        raise ValidationError(ctx.field, value, "a number")
    try:
        out = float(value) if isinstance(value, (int, float)) else float(_number_text(value))
    except ValueError:
        raise ValidationError(ctx.field, value, "a number such as 121.5437") from None
    if not math.isfinite(out):
        raise ValidationError(ctx.field, value, "a finite number")
    return out


_TRUE = {"1", "true", "t", "yes", "y", "是", "有", "√", "✓", "✔", "on", "对"}
_FALSE = {"0", "false", "f", "no", "n", "否", "无", "×", "✗", "off", "不是", "非"}


@register_transform("bool")
def bool_(value: Any, ctx: Context) -> bool:
    """是/否, yes/no, true/false, 1/0, √/×."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = unicodedata.normalize("NFKC", str(value)).strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValidationError(ctx.field, value, "yes or no (是/否, yes/no, true/false, 1/0)")


# --- dates --------------------------------------------------------------------------------------

_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
# Excel's day 0 is 1899-12-30 for serials after its phantom 1900-02-29 (serial 60).
_EXCEL_EPOCH = date(1899, 12, 30)
_MAX_SERIAL = 2958465  # 9999-12-31


def _from_serial(serial: float, value: Any, ctx: Context) -> date:
    if not 1 <= serial <= _MAX_SERIAL:
        raise ValidationError(ctx.field, value, "a date such as 2024-03-05")
    days = int(serial)
    return (_EXCEL_EPOCH if days > 60 else date(1899, 12, 31)) + timedelta(days=days)


def _ymd(y: str, m: str, d: str, value: Any, ctx: Context) -> date:
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        raise ValidationError(ctx.field, value, "a real calendar date such as 2024-03-05") from None


def parse_date(value: Any, ctx: Context) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise ValidationError(ctx.field, value, "a date such as 2024-03-05")
    if isinstance(value, (int, float)):
        if float(value).is_integer() and 19000101 <= value <= 29991231:
            s = str(int(value))
            return _ymd(s[:4], s[4:6], s[6:], value, ctx)
        return _from_serial(float(value), value, ctx)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    m = _YMD.match(text) or _COMPACT.match(text)
    if m:
        y, mo, d = m.groups()
        return _ymd(y, mo, d, value, ctx)
    # A five-digit text cell is an Excel serial that lost its date format on export to CSV.
    if re.fullmatch(r"\d{5}(\.\d+)?", text):
        return _from_serial(float(text), value, ctx)
    raise ValidationError(
        ctx.field, value, "a date such as 2024-03-05, 2024/3/5, 20240305 or 2024年3月5日",
    )


@register_transform("date")
def date_(value: Any, ctx: Context) -> str:
    """Date → YYYY-MM-DD from ISO, 2024/3/5, 20240305, 2024年3月5日, Excel serials, date cells."""
    return parse_date(value, ctx).isoformat()


@register_transform("year")
def year(value: Any, ctx: Context) -> int:
    """Year from 1984, 1984年, or any date form."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
        if 1000 <= value <= 9999:
            return int(value)
    if isinstance(value, str):
        m = re.fullmatch(r"(\d{4})\s*年?", unicodedata.normalize("NFKC", value).strip())
        if m:
            return int(m.group(1))
    return parse_date(value, ctx).year


# --- identity documents -------------------------------------------------------------------------

_RESIDENT_WORDS = ("身份证", "resident_id", "resident id", "id card", "idcard")
_PASSPORT_WORDS = ("护照", "passport")
_RESIDENT_SHAPE = re.compile(r"^\d{17}[\dX]$")


def identity_kind(number: str, kind: Any, column: str | None, field: str = "id_kind") -> str:
    """An ``id_kinds`` term id from the kind cell, else the column name, else the number's shape.

    A kind cell that names no known document is an error (with the closest labels), not a guess.
    """
    kinds = vocabulary("id_kinds")
    if not is_empty(kind):
        return kinds.require(str(kind).strip(), field).id
    if column:
        term = kinds.lookup(column)
        if term is not None:
            return term.id
        text = unicodedata.normalize("NFKC", column).casefold()
        if any(w in text for w in _PASSPORT_WORDS):
            return "passport"
        if any(w in text for w in _RESIDENT_WORDS):
            return "resident_id"
    # An 18-character number of the resident-id shape is checked as one, so a wrong check
    # character is reported as such rather than as "not a passport number".
    return "resident_id" if _RESIDENT_SHAPE.match(number) else "passport"


def _leaks(text: str, number: str) -> bool:
    return any(number[i:i + 6] in text for i in range(max(len(number) - 5, 0)))


@register_transform("identity", outputs=("id_hash", "id_last4", "id_kind"))
def identity(value: Any, ctx: Context) -> dict[str, str]:
    """Identity-document number → keyed hash + last 4 + kind; the number itself is never kept."""
    number = clean_number(to_text(value, ctx))
    kind = identity_kind(number, ctx.kind, ctx.column, ctx.field + " kind")
    try:
        number = identity_number(kind, number, ctx.field)
    except ValidationError as exc:
        # Re-raised showing only the last 4 characters: messages end up in logs and quarantine files,
        # and a hint quoting part of the number (e.g. its birth date digits) is replaced too.
        safe_hint = exc.hint if exc.hint and not _leaks(exc.hint, number) else None
        raise ValidationError(
            ctx.field, mask_id(number), f"a valid {kind} number: {exc.expected}",
            hint=safe_hint or "Check the number on the document; only the last 4 characters are shown here.",
        ) from None
    if not ctx.id_hash_key:
        raise ValidationError(ctx.field, mask_id(number), "a configured id_hash_key",
                              hint="Pass id_hash_key to run_job (see talentgraph.stores.id_hash_key).")
    digest, last4 = hash_identity(number, ctx.id_hash_key)
    return {"id_hash": digest, "id_last4": last4, "id_kind": kind}


# --- coordinates --------------------------------------------------------------------------------


def _lon_lat(value: Any, ctx: Context) -> tuple[float, float]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValidationError(ctx.field, value, "two columns: [longitude, latitude]")
    if is_empty(value[0]) or is_empty(value[1]):
        raise ValidationError(ctx.field, value, "both a longitude and a latitude (one of them is empty)")
    lon = float_(value[0], Context(ctx.field + ".lon"))
    lat = float_(value[1], Context(ctx.field + ".lat"))
    if abs(lat) > 90 and abs(lon) <= 90:
        raise ValidationError(
            ctx.field, (value[0], value[1]), "longitude first, then latitude",
            hint=f"The values look swapped ({lat} cannot be a latitude); list the columns as [经度, 纬度].",
        )
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValidationError(ctx.field, (value[0], value[1]), "longitude in [-180, 180] and latitude in [-90, 90]")
    return lon, lat


@register_transform("gcj02", outputs=("lon", "lat"), columns=2)
def gcj02(value: Any, ctx: Context) -> dict[str, float]:
    """[lon, lat] in GCJ-02 (Amap/Tencent maps) → WGS84 lon + lat."""
    lon, lat = gcj02_to_wgs84(*_lon_lat(value, ctx))
    # Rounded to ~1 cm so re-running the conversion never looks like a change.
    return {"lon": round(lon, 7), "lat": round(lat, 7)}


@register_transform("gcj02_outline")
def gcj02_outline(value: Any, ctx: Context) -> str:
    """Outline ring 'lon,lat;lon,lat;…' in GCJ-02 → GeoJSON Polygon text in WGS84."""
    text = unicodedata.normalize("NFKC", to_text(value, ctx))
    ring: list[list[float]] = []
    for i, pair in enumerate(p for p in re.split(r"[;；]", text) if p.strip()):
        parts = [x for x in re.split(r"[,，\s]+", pair.strip()) if x]
        if len(parts) != 2:
            raise ValidationError(ctx.field, value, "an outline 'lon,lat;lon,lat;…' (GCJ-02)",
                                  hint=f"Position {i + 1} is {pair.strip()!r}; write it as longitude,latitude.")
        ring.append(list(_lon_lat((parts[0], parts[1]), Context(f"{ctx.field}[{i + 1}]"))))
    # The shape is checked as written (three distinct corners, not in a line, inside Shanghai): after
    # conversion a line would enclose a sliver, as the offset differs slightly from corner to corner.
    polygon({"type": "Polygon", "coordinates": [ring]}, ctx.field)
    # Each vertex converted on its own: the GCJ-02 offset varies smoothly, so a ring of a few hundred
    # metres keeps its shape; the validator then closes and orients the converted ring.
    converted = [[round(c, 7) for c in gcj02_to_wgs84(lon, lat)] for lon, lat in ring]
    return polygon({"type": "Polygon", "coordinates": [converted]}, ctx.field)


@register_transform("wgs84", outputs=("lon", "lat"), columns=2)
def wgs84(value: Any, ctx: Context) -> dict[str, float]:
    """[lon, lat] already in WGS84 (GPS) → lon + lat."""
    lon, lat = _lon_lat(value, ctx)
    return {"lon": lon, "lat": lat}


__all__ = [
    "TRANSFORMS", "Context", "Transform", "apply", "is_empty", "mask_id", "parse_date", "register_transform", "to_text",
]
