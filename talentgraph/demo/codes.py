"""Synthetic identifiers that pass the real checks: resident ids, USCCs, passports, phone numbers.

Check characters come from ``schema.validators`` so the demo can never disagree with ingest about
what a valid code is.
"""

from __future__ import annotations

import random
from datetime import date

import phonenumbers

from talentgraph.schema.validators import resident_id_check_char, uscc_check_char

# Region codes of resident ids (first six digits). Pudong dominates; the rest are where people
# moved in from. 310115 (Pudong New Area, created 1993) is also carried by people born long
# before 1993 — ids were reissued — which the validator must not reject.
REGION_CODES: tuple[tuple[str, float], ...] = (
    ("310115", 46), ("310104", 6), ("310101", 4), ("310110", 4), ("310112", 3), ("310225", 2),
    ("320102", 3), ("320583", 2), ("330106", 3), ("330203", 2), ("340104", 2), ("370202", 2),
    ("420106", 2), ("430104", 2), ("510107", 2), ("110105", 2), ("230103", 2), ("410105", 2),
    ("350203", 2), ("440305", 2), ("210203", 1), ("610113", 1), ("500103", 1), ("360102", 1),
)

# GB 32100 character set (no I, O, Z, S, V).
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    total = sum(w for _, w in weighted)
    x = rng.random() * total
    for value, w in weighted:
        x -= w
        if x < 0:
            return value
    return weighted[-1][0]


def resident_id(rng: random.Random, birth: date, male: bool, region: str | None = None) -> str:
    """An 18-character GB 11643 id: region, birth date, sequence (odd = male), check character."""
    region = region or _pick(rng, REGION_CODES)
    seq = rng.randrange(0, 500) * 2 + (1 if male else 0)
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + resident_id_check_char(first17)


def corrupt_check_char(code: str, alphabet: str) -> str:
    """The same code with a different, wrong final character (for deliberate bad rows)."""
    last = code[-1]
    wrong = alphabet[(alphabet.index(last) + 1) % len(alphabet)] if last in alphabet else alphabet[0]
    return code[:-1] + wrong


def _org_code(rng: random.Random) -> str:
    """A GB 11714 organisation code (8 characters + check), the middle of a USCC.

    New registrations since 2015 start with "MA"; the check uses weights 3,7,9,10,5,8,4,2 with
    letters valued A=10 … Z=35.
    """
    body = "MA" + "".join(rng.choice(USCC_CHARS) for _ in range(6))
    total = sum(int(c, 36) * w for c, w in zip(body, _ORG_WEIGHTS))
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


# Registration authority + entity type prefixes (first two characters of a USCC).
USCC_PREFIX = {
    "company": "91",  # market regulator, enterprise
    "law_firm": "31",  # justice bureau, law firm
    "public_institution": "12",  # establishment office, public institution
    "private_non_enterprise": "52",  # civil affairs, private non-enterprise unit (e.g. private school)
}


def uscc(rng: random.Random, kind: str = "company", region: str = "310115") -> str:
    first17 = USCC_PREFIX[kind] + region + _org_code(rng)
    return first17 + uscc_check_char(first17)


def passport(rng: random.Random, nationality: str) -> str:
    """A passport-number-shaped string; formats loosely follow the issuing country."""
    def digits(n: int) -> str:
        return "".join(rng.choice("0123456789") for _ in range(n))

    def letters(n: int) -> str:
        return "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(n))

    if nationality in ("RU", "KZ", "BY"):
        return f"{digits(2)} {digits(7)}"  # written with a space, as on the document
    if nationality == "KR":
        return "M" + digits(8)
    if nationality == "JP":
        return letters(2) + digits(7)
    if nationality == "US":
        return digits(9)
    if nationality in ("FR", "DE", "IT", "ES", "NL"):
        return letters(2) + digits(7)
    return letters(1) + digits(rng.choice((7, 8)))


_MOBILE_PREFIXES = ("130", "131", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
                    "158", "159", "177", "180", "181", "186", "187", "188", "189", "199")
# Foreign mobile formats: country code, national format template (x = random digit).
_FOREIGN_MOBILES = {
    "RU": "+7 9xx xxx-xx-xx", "KZ": "+7 70x xxx xx xx", "KR": "+82 10-xxxx-xxxx", "JP": "+81 90-xxxx-xxxx",
    "US": "+1 646 2xx xxxx", "GB": "+44 7700 9xxxxx", "FR": "+33 6 xx xx xx xx", "DE": "+49 151 2xxxxxxx",
}
_LANDLINES = ("021-5xxxxxxx", "021-6xxxxxxx", "(021)5xxxxxxx")


def _fill(rng: random.Random, template: str) -> str:
    return "".join(rng.choice("0123456789") if c == "x" else c for c in template)


def _valid(country_code: int, national: str) -> bool:
    """Whether ``phonenumbers`` accepts a number the generator composed: the parts are what ``parse``
    finds in its text (a unit test holds the two equal), without parsing it (50k residents: ~3.5 s)."""
    return phonenumbers.is_valid_number(phonenumbers.PhoneNumber(country_code=country_code,
                                                                 national_number=int(national)))


def _parts(number: str, country_code: int) -> tuple[int, str]:
    """Country code and national number of a number written ``+CC national`` (a foreign template)
    or nationally in China (a mobile, or a landline with its trunk prefix 0)."""
    digits = "".join(c for c in number if c.isdigit())
    if number.startswith("+"):
        return country_code, digits[len(str(country_code)):]
    return 86, digits[1:] if digits.startswith("0") else digits


def phone(rng: random.Random, *, landline: bool = False, nationality: str = "CN") -> str:
    """A valid number written the way people type it: spaces, dashes, +86, or a 021 landline.

    Numbers are redrawn until ``phonenumbers`` accepts them, so every good row passes the
    ingest validator; the draw sequence is seeded, so the result is still deterministic.
    """
    while True:
        country_code = 86
        if nationality in _FOREIGN_MOBILES and rng.random() < 0.3:
            template = _FOREIGN_MOBILES[nationality]
            country_code = int(template[1:template.index(" ")])
            number = _fill(rng, template)
        elif landline:
            number = _fill(rng, rng.choice(_LANDLINES))
        else:
            m = rng.choice(_MOBILE_PREFIXES) + _fill(rng, "xxxxxxxx")
            style = rng.random()
            if style < 0.45:
                number = m
            elif style < 0.7:
                number = f"{m[:3]} {m[3:7]} {m[7:]}"
            elif style < 0.85:
                number = f"+86-{m[:3]}-{m[3:7]}-{m[7:]}"
            else:
                number = f"+86 {m}"
        if _valid(*_parts(number, country_code)):
            return number
