"""A ledger as an XLSX workbook, for the bureau's and the station's PCs: Chinese headers, the header row frozen,
columns as wide as their contents usually are, dates and times as real Excel dates on the station's clock, ID numbers
masked, every cell through `core.sheets` (which keeps an answer from becoming a formula).

Lines are read a batch at a time, community by community (in the order of their codes), and written as they come
to a temporary file in a worker thread: neither XLSX writer emits a byte before the workbook is closed, and a county's
ledger is held one batch at a time, never whole. The file is then streamed and removed, also when the download is
abandoned.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo


from server.core import audit, sheets
from server.core.caller import Caller
from server.core.pagination import batches
from server.households import ledger_columns, ledger_rules
from server.households.ledgers import lines, parse_kind, station_today
from server.models import Area
from server.settings import Settings

BATCH = 500
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Workbook:
    filename: str
    media_type: str
    chunks: AsyncIterator[bytes]


async def export_ledger(caller: Caller, settings: Settings, kind: str, area: str | None) -> Workbook:
    """The whole ledger of `kind` in `area` (or everywhere the caller sees) as XLSX; audited as `ledger.exported`."""
    kind = parse_kind(kind)
    today = station_today(settings)
    query = await lines(caller, kind, area, today)
    path = await _write(kind, query, today, ZoneInfo(settings.station_timezone))
    await audit.record(caller, "ledger.exported", "ledger", kind, area=area, format="xlsx")
    return Workbook(f"ledger-{kind}-{today.isoformat()}.xlsx", XLSX, sheets.read_then_remove(path))


async def _batches(kind: str, query, today, zone) -> AsyncIterator[list[list]]:
    """The rows of the ledger, community by community, a batch at a time."""
    ids = await query.distinct().values_list("household__community_id", flat=True)
    for community in await Area.filter(id__in=list(ids)).order_by("code").values_list("id", flat=True):
        within = query.filter(household__community_id=community)
        async for batch in batches(within, order=("created_at", "id"), size=BATCH, values=ledger_columns.FIELDS):
            yield await ledger_columns.rows(kind, batch, today, zone)


async def _write(kind: str, query, today, zone) -> str:
    columns = ledger_columns.COLUMNS[kind]
    fd, path = tempfile.mkstemp(prefix="doorstep-ledger-", suffix=".xlsx")
    os.close(fd)
    book = None
    try:
        book = sheets.Book(path)
        sheet = book.add_sheet(ledger_rules.KIND_NAMES[kind], [c.title for c in columns])
        sheet.layout([max(c.width, _width(c.title) + 2) for c in columns])
        async for rows in _batches(kind, query, today, zone):
            await asyncio.to_thread(_append, sheet, rows, zone)
        await asyncio.to_thread(book.close)
    except BaseException:
        await asyncio.shield(asyncio.to_thread(sheets.give_up, book, path))  # shielded as in read_then_remove
        raise
    return path


def _append(sheet: sheets.Sheet, rows: list[list], zone: ZoneInfo) -> None:
    for row in rows:
        # Times are aware; Excel has no offsets, so they go in as the station's wall time.
        sheet.append([sheets.wall_time(v, zone) if isinstance(v, datetime) else v for v in row])


def _width(text: str) -> int:
    """How wide Excel shows a text: wide (CJK) characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
