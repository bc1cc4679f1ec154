"""Area exports as callers see them: start one (queued for whichever instance's runner claims it,
`export_runner`), follow its progress, list them, queue a failed or expired one again, and read its file.

A job is visible to those whose scope covers its area (a colleague's export of the same township too, whose
households they may export themselves); any other is answered 404. Starting, restarting and each read of the file go
to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

from media.errors import BlobNotFound
from media.store import PhotoStore, PhotoStream
from server.core import audit
from server.core.caller import Caller
from server.core.clock import now
from server.core.ids import parse_id
from server.core.pagination import Page, paginate
from server.core.problems import (AreaNotFound, ExportExpired, ExportNotFound, ExportNotReady, ExportNotRestartable,
                                  InvalidInput, invalid)
from server.core.scope import get_visible, visible
from server.households.archive_contents import safe_name
from server.models import EXPORT_STATES, Area, ExportJob

API = "/api/v1/exports"
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)


async def start(caller: Caller, body: dict) -> ExportJob:
    """Queue the export of an area the caller may see (404 otherwise) for the days `from` to `to`."""
    days, errors = {}, []
    for name in ("from", "to"):
        try:
            days[name] = _day(body[name], f"/{name}")
        except InvalidInput as problem:
            errors += problem.errors
    if errors:
        raise InvalidInput(errors=errors)
    first, last = days["from"], days["to"]
    if first > last:
        raise invalid("/to", "结束日期不能早于开始日期")
    parse_id(body["area"], pointer="/area")  # a malformed id is bad input (422); a well-formed one out of reach, 404
    area = await get_visible(caller, Area, body["area"], AreaNotFound)
    job = await ExportJob.create(area=area, period_from=first, period_to=last, requested_by_id=caller.id,
                                 created_at=now())
    await audit.record(caller, "export.started", "export", job.id, area=str(area.id), area_name=area.name,
                       period_from=first.isoformat(), period_to=last.isoformat())
    return job


def _day(value: str, pointer: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:  # the body's schema checks the format; this is the last guard
        raise invalid(pointer, "日期格式应为 YYYY-MM-DD") from None
    if not EARLIEST <= day <= LATEST:  # day 1 or 9999-12-31 on the station's clock lies outside what times can hold
        raise invalid(pointer, f"日期应在 {EARLIEST} 至 {LATEST} 之间")
    return day


async def get(caller: Caller, job_id: str) -> ExportJob:
    job = await get_visible(caller, ExportJob, job_id, ExportNotFound)
    await job.fetch_related("area")
    return job


async def find(caller: Caller, state: str | None, cursor: str | None) -> Page:
    """The exports the caller may see, newest first."""
    query = await visible(caller, ExportJob)
    if state:
        if state not in EXPORT_STATES:
            raise invalid("/state", "状态应为 " + "、".join(EXPORT_STATES) + " 之一")
        query = query.filter(state=state)
    return await paginate(query.select_related("area"), cursor, order=("-created_at", "-id"), shape=as_api)


async def restart(caller: Caller, job_id: str) -> ExportJob:
    """Queue a failed or expired export again (409 for one that is queued, running or done)."""
    job = await get(caller, job_id)
    changed = await ExportJob.filter(id=job.id, state__in=("failed", "expired")).update(
        state="queued", owner=None, heartbeat_at=None, started_at=None, finished_at=None, expires_at=None,
        households_done=0, households_total=0, bytes_written=0, size=None, sha256=None, blob=None, error=None,
        requested_by_id=caller.id, created_at=now())
    if changed != 1:
        raise ExportNotRestartable()
    await audit.record(caller, "export.restarted", "export", job.id, area=str(job.area_id))
    return await ExportJob.get(id=job.id).select_related("area")


async def downloadable(caller: Caller, job_id: str) -> ExportJob:
    """A done export whose file is still kept: 409 while it is being made or when it failed, 410 once expired."""
    job = await get(caller, job_id)
    if job.state == "expired" or (job.state == "done" and job.expires_at <= now()):
        raise ExportExpired()
    if job.state != "done":
        detail = "该导出失败了，可以重新开始。" if job.state == "failed" else "该导出尚未完成，请稍后再下载。"
        raise ExportNotReady(detail)
    return job


async def open_file(caller: Caller, store: PhotoStore, job: ExportJob, start: int, end: int) -> PhotoStream:
    """Bytes [start, end) of the export's file, the read recorded in the audit log."""
    try:
        stream = await store.open_blob(job.blob, start, end)
    except BlobNotFound:
        raise ExportExpired("该导出的文件已不在存储中；可以重新开始导出。") from None
    await audit.record(caller, "export.downloaded", "export", job.id, area=str(job.area_id), start=start, end=end,
                       size=job.size)
    return stream


@dataclass(frozen=True)
class FileNames:
    ascii: str  # for clients that read no other
    title: str  # what a person sees: 户档案导出_白竹亭社区_20250101-20250331.zip


def file_names(job: ExportJob) -> FileNames:
    area = job.area
    period = f"{job.period_from:%Y%m%d}-{job.period_to:%Y%m%d}"
    return FileNames(f"households-{area.code}-{period}.zip", f"户档案导出_{safe_name(area.name)}_{period}.zip")


def disposition(names: FileNames) -> str:
    ascii_name = "".join(c if c.isalnum() or c in "-_." else "_" for c in names.ascii if c.isascii())
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(names.title)}"


def as_api(job: ExportJob) -> dict:
    """The job as the API gives it (its area loaded)."""
    return {
        "id": str(job.id),
        "state": job.state,
        "area": str(job.area_id),
        "area_name": job.area.name,
        "from": job.period_from.isoformat(),
        "to": job.period_to.isoformat(),
        "requested_by": str(job.requested_by_id) if job.requested_by_id else None,
        "progress": {"households_done": job.households_done, "households_total": job.households_total,
                     "bytes": job.bytes_written},
        "attempt": job.attempt,
        "size": job.size,
        "sha256": job.sha256,
        "error": job.error,
        "created_at": job.created_at.isoformat(),
        "started_at": _iso(job.started_at),
        "heartbeat_at": _iso(job.heartbeat_at),
        "finished_at": _iso(job.finished_at),
        "expires_at": _iso(job.expires_at),
        "file": f"{API}/{job.id}/file" if job.state == "done" else None,
    }


def _iso(value) -> str | None:
    return value.isoformat() if value else None
