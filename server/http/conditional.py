"""Conditional GET (RFC 9110 §13.1.2): a client that already holds what it asks for gets a 304 and no body."""

from __future__ import annotations

from starlette.requests import Request


def not_modified(request: Request, etag: str) -> bool:
    """Whether the request's If-None-Match matches `etag`: compared weakly, as RFC 9110 asks for this header
    (W/"x" matches "x"), and "*" matches anything."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag.removeprefix("W/") in tags
