"""The export runner: a background task of every instance (started in the app's lifespan) that makes queued area
exports, one at a time, and looks after the rest of their life.

Any instance may run a queued job. It claims it with one conditional UPDATE (`claim`): the row changes only while it
is still queued, so of instances racing for it exactly one changes it, and the others see zero rows changed and move
on. On PostgreSQL the second UPDATE waits for the first's row lock and then finds the row no longer queued; on SQLite
writes are serialised. No SELECT … FOR UPDATE (Tortoise drops it silently on SQLite).

While it runs, the owner reports (`heartbeat_at`, progress) every quarter of the stale threshold; each report is
itself conditional on the job still being this instance's run, so an owner thought dead that comes back stops on
its next report. A running job whose reports stopped (its instance died) is failed by whichever runner notices, with
a note in Chinese; it can be queued again. Each run writes a file of its own name (`attempt`), so a late writer never
overwrites the next run's file. A finished file is kept for the configured time, then removed and the job expired.
An instance shut down mid-run puts its job back in the queue for another.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from tortoise.expressions import F

from media.memory import hand_back_free_memory
from server.core import zips
from server.core.caller import Caller
from server.core.clock import now
from server.core.scope import visible
from server.households import export_build
from server.households.archive import Context
from server.models import Area, ExportJob, User

log = logging.getLogger("doorstep.exports")

DIED = "导出中断：运行它的服务器实例已停止响应（可能已重启或崩溃）。可以重新开始导出。"
FAILED = "导出失败：服务器出现意外错误，详情见服务器日志。可以重新开始导出。"
TRIM_EVERY = 20  # households
REPORT_SECONDS = 1.0  # progress written at most this often while households are packed
REQUESTER_GONE = "导出未进行：申请人的账号已停用，或已不再管辖该区域。"


class Lost(Exception):
    """The job is no longer this run's: failed as stale meanwhile, or queued again."""


def instance_id() -> str:
    """This process, as `owner` names it: host, process and a random part (a restarted process is another)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def claim(job_id: uuid.UUID, owner: str) -> bool:
    """Take a queued job for `owner`; False if it is no longer queued (another instance has it)."""
    stamp = now()
    changed = await ExportJob.filter(id=job_id, state="queued").update(
        state="running", owner=owner, attempt=F("attempt") + 1, heartbeat_at=stamp, started_at=stamp,
        finished_at=None, households_done=0, households_total=0, bytes_written=0, error=None)
    return changed == 1


async def fail_stale(stale_after_seconds: int) -> int:
    """Fail the running jobs whose owner stopped reporting; returns how many."""
    stamp = now()
    return await ExportJob.filter(state="running", heartbeat_at__lt=stamp - timedelta(seconds=stale_after_seconds)
                                  ).update(state="failed", error=DIED, finished_at=stamp)


async def expire_files(context: Context) -> int:
    """Remove the files kept past their time and mark their jobs expired; returns how many."""
    expired = 0
    for job in await ExportJob.filter(state="done", expires_at__lte=now()).order_by("expires_at").limit(100):
        if await ExportJob.filter(id=job.id, state="done").update(state="expired") == 1:
            if job.blob:
                await context.store.delete_blob(job.blob)
            expired += 1
    return expired


async def _requeue(query) -> None:
    await query.update(state="queued", owner=None, heartbeat_at=None)


@dataclass
class Runner:
    context: Context
    owner: str
    runs: int = 0  # jobs this instance claimed and ran (/metrics)
    running: uuid.UUID | None = None  # the job it is making now

    @property
    def beat_seconds(self) -> float:
        return self.context.settings.export_stale_after_seconds / 4

    async def run_once(self) -> ExportJob | None:
        """One round: expire old files, fail the jobs of dead instances, then run the oldest queued job this
        instance manages to claim (returned, as it ended), if any."""
        await expire_files(self.context)
        if failed := await fail_stale(self.context.settings.export_stale_after_seconds):
            log.warning("marked %d export(s) failed: their instance stopped reporting", failed)
        for job_id in await ExportJob.filter(state="queued").order_by("created_at", "id").limit(10).values_list(
                "id", flat=True):
            try:
                job = await ExportJob.get(id=job_id) if await claim(job_id, self.owner) else None
            except asyncio.CancelledError:  # shut down while claiming: if the claim went through, give it back
                await asyncio.shield(_requeue(ExportJob.filter(id=job_id, state="running", owner=self.owner)))
                raise
            if job is not None:
                return await self.run(job)
        return None

    async def run_forever(self) -> None:
        while True:
            try:
                worked = await self.run_once()
            except Exception:
                log.exception("the export runner's round failed; it tries again")
                worked = None
            if worked is None:
                await asyncio.sleep(self.context.settings.export_poll_seconds)

    def _mine(self, job: ExportJob):
        return ExportJob.filter(id=job.id, state="running", owner=self.owner, attempt=job.attempt)

    async def run(self, job: ExportJob) -> ExportJob:
        """Make the claimed job's file, reporting as it goes; the job as it ended."""
        progress = {"bytes": 0, "households": 0}
        build = asyncio.ensure_future(self._build(job, progress))
        self.runs, self.running = self.runs + 1, job.id
        try:
            while not build.done():
                await asyncio.wait([build], timeout=self.beat_seconds)
                if not build.done() and not await self._report(job, progress):
                    build.cancel()
                    await asyncio.wait([build])
                    raise Lost()
            await build
        except Lost:
            log.warning("export %s was taken from this instance while it ran; its run stops", job.id)
        except asyncio.CancelledError:
            if not build.done():
                build.cancel()
                await asyncio.wait([build])
            # Shut down mid-run: back in the queue for another instance (or this one, restarted).
            await asyncio.shield(_requeue(self._mine(job)))
            raise
        except Exception:
            log.exception("export %s failed", job.id)
            await self._mine(job).update(state="failed", error=FAILED, finished_at=now())
        finally:
            self.running = None
        return await ExportJob.get(id=job.id)

    async def _report(self, job: ExportJob, progress: dict) -> bool:
        return await self._mine(job).update(heartbeat_at=now(), bytes_written=progress["bytes"],
                                            households_done=progress["households"]) == 1

    async def _build(self, job: ExportJob, progress: dict) -> None:
        settings = self.context.settings
        area = await Area.get(id=job.area_id)
        user = await User.get_or_none(id=job.requested_by_id, is_active=True)
        caller = Caller(user, address="") if user else None
        if caller is None or not await (await visible(caller, Area)).filter(id=area.id).exists():
            await self._mine(job).update(state="failed", error=REQUESTER_GONE, finished_at=now())
            return
        snapshot = job.started_at
        total = await export_build.households(job, ZoneInfo(settings.station_timezone), snapshot).count()
        if await self._mine(job).update(households_total=total) != 1:
            raise Lost()

        reported = {"at": 0.0}

        async def done(count: int) -> None:
            progress["households"] = count
            if count % TRIM_EVERY == 0:
                hand_back_free_memory()  # what worker threads freed; the export's memory stays flat
            # Reported at most once a second, not after each household (a write each, a third of the export's
            # queries): the progress bar moves as smoothly, and a run taken away stops within the second.
            if time.monotonic() - reported["at"] >= REPORT_SECONDS:
                reported["at"] = time.monotonic()
                if not await self._report(job, progress):
                    raise Lost()

        async def counted():
            async for chunk in zips.stream_zip(export_build.entries(self.context, caller, job, area, total, snapshot,
                                                                    done)):
                progress["bytes"] += len(chunk)
                yield chunk

        key = f"exports/{job.id}-{job.attempt}.zip"
        info = await self.context.store.put_blob(key, counted())
        finished = now()
        changed = await self._mine(job).update(
            state="done", finished_at=finished, heartbeat_at=finished, size=info.size, sha256=info.sha256, blob=key,
            bytes_written=info.size, households_done=progress["households"],
            households_total=progress["households"],  # a household moved away meanwhile is not in it
            expires_at=finished + timedelta(hours=settings.export_retention_hours))
        if changed != 1:
            await self.context.store.delete_blob(key)
            raise Lost()
        log.info("export %s done: %d households, %d bytes", job.id, progress["households"], info.size)
