"""What an area's export holds, and its entries as they are made: for every household of the area (and the areas
below it) with a visit in the period, the archive of one household (`archive`: summary PDF, household.json, photos,
manifest) in a folder of its own, `<community>/<head>_<id>/`; with `导出说明.txt` first and a `manifest.txt` last
holding the SHA-256 of the note and of each household's manifest (so `sha256sum -c` checks the chain).

The households are those with a visit observed in the period on the station's clock and received before the run
began: a snapshot, so that the count given at the start is the count packed. Each household's whole file is packed
(every visit, not only the period's): the period chooses the households, as the bureau asks "every file visited this
quarter". They are read 50 at a time in a few queries per batch, and the next households' summaries are rendered
in the renderer's processes while the current one's photos are being written, so the export holds one batch's rows
and a few households' PDFs and JSON at most, whatever the area's size. An area with
no such household gives a valid ZIP whose note says so.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing, suppress
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from tortoise.expressions import Subquery

from server.core import zips
from server.core.caller import Caller
from server.core.pagination import batches
from server.core.scope import under
from server.households import archive
from server.households.archive import Context
from server.households.archive_contents import safe_name
from server.models import Area, ExportJob, Household, Visit

NOTE = "导出说明.txt"
MANIFEST = "manifest.txt"
BATCH = 50
LEVEL_NAMES = {"county": "区（县）", "township": "乡镇（街道）", "community": "社区（村）"}


def period_bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of the days `first` to `last` on the station's clock, in UTC: SQLite compares stored times as
    text, and a time with another offset would compare wrong."""
    start, end = (datetime.combine(day, time(), zone) for day in (first, last + timedelta(days=1)))
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def households(job: ExportJob, zone: ZoneInfo, snapshot: datetime):
    """The households of the export (a query): in the area or below it, with a visit in the period."""
    start, end = period_bounds(job.period_from, job.period_to, zone)
    visited = Visit.filter(observed_at__gte=start, observed_at__lt=end, created_at__lte=snapshot).values(
        "household_id")
    return Household.filter(under(Household, job.area_id), merged_into__isnull=True).filter(id__in=Subquery(visited))


def entries(context: Context, caller: Caller, job: ExportJob, area: Area, total: int, snapshot: datetime,
            done: Callable[[int], Awaitable[None]]) -> AsyncIterator[zips.Entry]:
    """The export's entries; `done(n)` is awaited after each household, n households packed so far."""
    zone = ZoneInfo(context.settings.station_timezone)
    note = _note(job, area, caller, total, snapshot, zone).encode()
    return _entries(context, caller, households(job, zone, snapshot), note, snapshot, done)


async def _entries(context: Context, caller: Caller, query, note: bytes, snapshot: datetime,
                   done: Callable[[int], Awaitable[None]]) -> AsyncIterator[zips.Entry]:
    sums = [(hashlib.sha256(note).hexdigest(), NOTE)]
    yield zips.Entry(NOTE, len(note), zips.one_chunk(note))
    communities: dict = {}
    folders: set[str] = set()
    count = 0
    async with aclosing(_prepared(context, caller, query, snapshot)) as prepared:
        async for one in prepared:
            async for entry in _household(context, one, communities, folders, sums):
                yield entry
            count += 1
            await done(count)
    manifest = "".join(f"{sha}  {name}\n" for sha, name in sums).encode()
    yield zips.Entry(MANIFEST, len(manifest), zips.one_chunk(manifest))


async def _prepared(context: Context, caller: Caller, query, snapshot: datetime) -> AsyncIterator[archive.Prepared]:
    """The households prepared in order, the next ones' summaries rendered (in the renderer's processes) while the
    current one's photos are written: a few households ahead, never more (`ahead`), and the next batch read while
    this one is packed."""
    limit = ahead(context.renderer.workers)
    pages = aiter(batches(query, order=("community_id", "id"), size=BATCH))

    async def next_batch() -> list[archive.Gathered] | None:
        page = await anext(pages, None)
        return None if page is None else await archive.gather(caller, context, page)

    reading: asyncio.Future = asyncio.ensure_future(next_batch())
    making: deque[asyncio.Future] = deque()
    try:
        while (batch := await reading) is not None:
            reading = asyncio.ensure_future(next_batch())
            for gathered in batch:
                making.append(asyncio.ensure_future(archive.prepare(caller, context, gathered, snapshot)))
                if len(making) >= limit:
                    yield await making.popleft()
            del batch
        while making:
            yield await making.popleft()
    finally:
        for task in (reading, *making):
            task.cancel()
        with suppress(BaseException):
            await asyncio.gather(reading, *making, return_exceptions=True)
        await pages.aclose()


def ahead(workers: int) -> int:
    """Households prepared at once: enough to keep every renderer busy while one is written."""
    return 4 * workers + 4


async def _household(context: Context, prepared: archive.Prepared, communities: dict, folders: set[str],
                     sums: list) -> AsyncIterator[zips.Entry]:
    household = prepared.household
    if household.community_id not in communities:
        communities[household.community_id] = safe_name((await Area.get(id=household.community_id)).name)
    folder = f"{communities[household.community_id]}/{safe_name(household.head)}_{str(household.id)[:8]}"
    if folder in folders:  # two heads of one name whose ids begin alike: the whole id tells them apart
        folder = f"{communities[household.community_id]}/{safe_name(household.head)}_{household.id}"
    folders.add(folder)
    async for entry in archive.entries(prepared, context.store, folder):
        if entry.name == f"{folder}/{archive.MANIFEST}":
            body = b"".join([chunk async for chunk in entry.chunks])
            sums.append((hashlib.sha256(body).hexdigest(), entry.name))
            entry = zips.Entry(entry.name, len(body), zips.one_chunk(body))
        yield entry


def _note(job: ExportJob, area: Area, caller: Caller, total: int, snapshot: datetime, zone: ZoneInfo) -> str:
    lines = [
        "户档案批量导出（一户一档）",
        f"区域：{area.name}（{LEVEL_NAMES.get(area.level, area.level)}，含下属区域）",
        f"期间：{job.period_from.isoformat()} 至 {job.period_to.isoformat()}（{zone.key} 时间）",
        f"导出人：{caller.user.display_name}",
        f"导出时间：{snapshot.astimezone(zone).strftime('%Y-%m-%d %H:%M')}",
        f"户数：{total}",
        "",
        "收录此期间内有走访记录的户；每户一个文件夹（社区（村）/户主_档案编号），内含完整的户档案："
        "户档案摘要.pdf、household.json、photos 文件夹（照片原图）和 manifest.txt（各文件的 SHA-256）。",
        "本目录的 manifest.txt 记有本说明和各户 manifest.txt 的 SHA-256，可用 sha256sum -c manifest.txt 逐级校验。",
        "身份证号均已遮盖，只显示前 6 位和后 4 位。",
    ]
    if total == 0:
        lines += ["", "本次导出没有符合条件的户：该区域在此期间没有走访记录。"]
    return "\ufeff" + "\r\n".join(lines) + "\r\n"
