"""Parsing ids from paths, queries and bodies: a malformed id in a path is simply not found."""

from __future__ import annotations

import re
import uuid

from forms.formats import is_uuid
from server.core.problems import NotFound, invalid

# A form's slug, as forms are created with it: these characters, 2 to 64 of them.
SLUG_CHARACTERS = r"^[a-z][a-z0-9_-]*$"
SLUG_LENGTH = (2, 64)
_SLUG = re.compile(SLUG_CHARACTERS)
# The database's INTEGER (PostgreSQL's is 32 bits): version numbers and the like.
INT_MAX = 2**31 - 1


def parse_id(value: object, not_found: type[NotFound] | None = None, *, pointer: str = "/id") -> uuid.UUID:
    """A UUID in its one spelling, or the given 404 (ids in paths) or a 422 at `pointer` (ids in bodies, queries).
    The spelling is the bodies' `uuid` format: 8-4-4-4-12 hex digits, either case (iOS writes upper case). Python's
    UUID() also reads the hex without dashes, in braces or as urn:uuid:, which would give one record several names."""
    if isinstance(value, str) and is_uuid(value):
        return uuid.UUID(value)
    if not_found is not None:
        raise not_found()
    raise invalid(pointer, "不是有效的编号")


def parse_slug(value: str, not_found: type[NotFound] | None = None, *, pointer: str = "/form") -> str:
    """A form's slug, or the given 404 (slugs in paths) or a 422 at `pointer` (in queries): one that no form can
    have is refused here, before the database (which would refuse a longer one than its column with a 500)."""
    if SLUG_LENGTH[0] <= len(value) <= SLUG_LENGTH[1] and _SLUG.match(value):
        return value
    if not_found is not None:
        raise not_found()
    raise invalid(pointer, "不是有效的表单代号")
