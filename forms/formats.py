"""The string formats the engine asserts, shared by the fast and the reference validator.

Both validators get the same Python checkers for the formats where they would otherwise
disagree (jsonschema's `email` only looks for "@", the two treat leap seconds differently),
so "valid" means the same thing on the hot path and in error reports.
"""

from __future__ import annotations

import datetime
import functools
import re

import jsonschema

# GB 11643-1999 (ISO 7064 MOD 11-2): the i-th of the first 17 digits weighs 2^(17-i) mod 11.
# Since 13 ≡ 2 (mod 11), reading those digits as a base-13 number and doubling it gives the
# weighted sum modulo 11 in one C call, which keeps the check cheap on the hot path.
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"[1-8][0-9]{16}[0-9X]\Z")
_MOBILE = re.compile(r"1[3-9]\d{9}\Z", re.ASCII)  # ASCII: an input method's full-width digits are not a number
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")
_TIME = re.compile(
    r"([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(\.\d+)?([zZ]|[+-]([01]\d|2[0-3]):[0-5]\d)\Z", re.ASCII
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z", re.ASCII)
# Deliberately plain: local part of printable ASCII without spaces, a dotted domain.
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\Z")


@functools.lru_cache(maxsize=1 << 16)
def _is_birth_date(yyyymmdd: str) -> bool:
    try:
        born = datetime.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        return False
    return born.year >= 1880


def id_number_problem(value: str) -> str | None:
    """Why an 18-character resident ID number is wrong, or None when it is right."""
    if not _ID_SHAPE.match(value):
        return "shape"
    if not _is_birth_date(value[6:14]):
        return "birth_date"
    if _ID_CHECK[2 * int(value[:17], 13) % 11] != value[17]:
        return "check_digit"
    return None


def is_cn_id_number(value: object) -> bool:
    return not isinstance(value, str) or id_number_problem(value) is None


def is_cn_mobile(value: object) -> bool:
    return not isinstance(value, str) or _MOBILE.match(value) is not None


def is_sha256(value: object) -> bool:
    return not isinstance(value, str) or _SHA256.match(value) is not None


def is_email(value: object) -> bool:
    return not isinstance(value, str) or (len(value) <= 254 and _EMAIL.match(value) is not None)


def is_time(value: object) -> bool:
    return not isinstance(value, str) or _TIME.match(value) is not None


def is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE.match(value):
        return False
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def is_date_time(value: object) -> bool:
    if not isinstance(value, str) or len(value) < 11 or value[10] not in "Tt":
        return not isinstance(value, str)
    return is_date(value[:10]) and is_time(value[11:])


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")


def is_uuid(value: object) -> bool:
    return not isinstance(value, str) or _UUID.match(value) is not None


def _annotation_only(value: object) -> bool:
    return True


# Formats handed to jsonschema_rs as Python callbacks; `date` stays native there (both agree).
CUSTOM_FORMATS = {
    "uuid": is_uuid,
    "cn-id-number": is_cn_id_number,
    "cn-mobile": is_cn_mobile,
    "sha256": is_sha256,
    "email": is_email,
    "time": is_time,
    "date-time": is_date_time,
}

ASSERTED_FORMATS = frozenset(CUSTOM_FORMATS) | {"date"}

# jsonschema_rs asserts these natively when asked to check formats at all; the engine treats
# them as annotations, as 2020-12 does by default, so that both validators judge alike.
_RS_NATIVE = ("idn-email", "hostname", "idn-hostname", "ipv4", "ipv6", "uri", "uri-reference", "iri",
              "iri-reference", "uri-template", "json-pointer", "relative-json-pointer", "regex",
              "duration")
FAST_FORMATS = {**CUSTOM_FORMATS, **{name: _annotation_only for name in _RS_NATIVE}}


def reference_format_checker() -> jsonschema.FormatChecker:
    """A jsonschema FormatChecker that asserts exactly the formats the engine asserts."""
    checker = jsonschema.FormatChecker(formats=())
    for name, func in {**CUSTOM_FORMATS, "date": is_date}.items():
        checker.checks(name)(func)
    return checker
