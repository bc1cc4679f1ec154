"""Parsing ids from paths, queries and bodies: a malformed id in a path is simply not found."""

from __future__ import annotations

import re
import uuid

from server.core.problems import NotFound, invalid

# A form's slug, as forms are created with it: these characters, 2 to 64 of them.
SLUG_CHARACTERS = r"^[a-z][a-z0-9_-]*$"
SLUG_LENGTH = (2, 64)
_SLUG = re.compile(SLUG_CHARACTERS)
# The database's INTEGER (PostgreSQL's is 32 bits): version numbers and the like.
INT_MAX = 2**31 - 1


def parse_id(value: object, not_found: type[NotFound] | None = None, *, pointer: str = "/id") -> uuid.UUID:
    """A UUID, or the given 404 (ids in paths) or a 422 at `pointer` (ids in bodies)."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        if not_found is not None:
            raise not_found() from None
        raise invalid(pointer, "不是有效的编号") from None


def parse_slug(value: str, not_found: type[NotFound] | None = None, *, pointer: str = "/form") -> str:
    """A form's slug, or the given 404 (slugs in paths) or a 422 at `pointer` (in queries): one that no form can
    have is refused here, before the database (which would refuse a longer one than its column with a 500)."""
    if SLUG_LENGTH[0] <= len(value) <= SLUG_LENGTH[1] and _SLUG.match(value):
        return value
    if not_found is not None:
        raise not_found()
    raise invalid(pointer, "不是有效的表单代号")
