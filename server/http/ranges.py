"""HTTP Range requests (RFC 9110 §14) for large downloads that a weak connection may cut: one byte range per
request, as download managers and `curl -C -` resume. Several ranges in one request are answered with the whole
file (the RFC lets a server ignore Range); so is a Range whose If-Range names another version of the file."""

from __future__ import annotations

import re

from starlette.requests import Request

from server.core.problems import RangeNotSatisfiable

_ONE_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
DIGITS = 18  # beyond any file; int() of thousands of digits is refused anyway


def requested_range(request: Request, size: int, etag: str) -> tuple[int, int] | None:
    """[start, end) of the one range asked for, or None for the whole file; RangeNotSatisfiable when it lies
    past the end."""
    header = request.headers.get("range")
    if header is None:
        return None
    if_range = request.headers.get("if-range")
    if if_range is not None and if_range.strip() != etag:  # a strong comparison: the bytes must be the same
        return None
    match = _ONE_RANGE.fullmatch(header.strip().replace(" ", ""))
    if match is None or not (match[1] or match[2]) or len(match[1]) > DIGITS or len(match[2]) > DIGITS:
        return None  # not a single byte range: ignored
    if not match[1]:  # the last n bytes
        suffix = int(match[2])
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable(size)
        return max(size - suffix, 0), size
    start = int(match[1])
    end = int(match[2]) + 1 if match[2] else size
    if match[2] and end <= start:
        return None  # last before first: invalid, so ignored
    if start >= size:
        raise RangeNotSatisfiable(size)
    return start, min(end, size)
