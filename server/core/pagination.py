"""Keyset pagination: `{"items": [...], "next_cursor": ...}` with an opaque cursor that survives inserts."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q
from tortoise.fields import DatetimeField, UUIDField
from tortoise.queryset import QuerySet

from server.core.problems import invalid
from server.core.text import unstorable

DEFAULT_LIMIT = 100
MAX_CURSOR = 512  # two values of at most a few hundred characters, in base64


@dataclass
class Page:
    items: list
    next_cursor: str | None

    def as_api(self) -> dict:
        return {"items": self.items, "next_cursor": self.next_cursor}


async def paginate(
    query: QuerySet,
    cursor: str | None,
    *,
    order: tuple[str, str],
    shape: Callable,
    limit: int = DEFAULT_LIMIT,
) -> Page:
    """Order by two fields (the second unique, usually id), both ascending or both descending ("-")."""
    names = [name.lstrip("-") for name in order]
    if cursor:
        query = after(query, order, _decode(cursor, query.model, names))
    rows = await query.order_by(*order).limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = _encode([getattr(rows[-1], n) for n in names]) if more else None
    return Page([shape(row) for row in rows], next_cursor)


async def batches(query: QuerySet, *, order: tuple[str, str], size: int,
                  values: tuple[str, ...] = ()) -> AsyncIterator[list]:
    """Every row of the query in `order`, `size` at a time: for exports, which hold one batch, never the whole.
    With `values` (which must name the `order` fields), rows are dicts of those fields: no model is made per row,
    which costs several times the query when the rows come with related ones."""
    last = None
    while True:
        page = (query if last is None else after(query, order, last)).order_by(*order).limit(size)
        rows = await (page.values(*values) if values else page)
        if rows:
            yield rows
        if len(rows) < size:
            return
        last = [rows[-1][name.lstrip("-")] if values else getattr(rows[-1], name.lstrip("-")) for name in order]


def after(query: QuerySet, order: tuple[str, str], last: list) -> QuerySet:
    """The rows that come after the row whose ordering values are `last` (the keyset condition)."""
    first, second = (name.lstrip("-") for name in order)
    op = "lt" if order[0].startswith("-") else "gt"
    return query.filter(Q(**{f"{first}__{op}": last[0]}) | Q(**{first: last[0], f"{second}__{op}": last[1]}))


def _encode(values: list) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else str(v) for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, model, names: list[str]) -> list:
    try:
        if len(cursor) > MAX_CURSOR:  # longer than any we make: refused before it is decoded and walked
            raise ValueError("too long")
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not (isinstance(raw, list) and len(raw) == len(names) and all(isinstance(v, str) for v in raw)):
            raise ValueError
        return [_parse(model._meta.fields_map[name], value) for name, value in zip(names, raw)]
    except ValueError:
        raise invalid("/cursor", "分页游标无效，请从第一页重新获取") from None


def _parse(field, value: str):
    """A value the cursor was made from; anything no row could hold means the cursor was not one of ours."""
    if isinstance(field, DatetimeField):
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive datetime")
        return parsed
    if isinstance(field, UUIDField):
        return uuid.UUID(value)
    max_length = getattr(field, "max_length", None)
    if (max_length is not None and len(value) > max_length) or unstorable(value):
        raise ValueError("not a stored value")
    return value
