"""Parsing ids from paths and bodies: a malformed id in a path is simply not found."""

from __future__ import annotations

import uuid

from server.problems import NotFound, invalid


def parse_id(value: object, not_found: type[NotFound] | None = None, *, pointer: str = "/id") -> uuid.UUID:
    """A UUID, or the given 404 (ids in paths) or a 422 at `pointer` (ids in bodies)."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        if not_found is not None:
            raise not_found() from None
        raise invalid(pointer, "不是有效的编号") from None
