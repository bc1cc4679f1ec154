"""The image pool: jobs run off the event loop, never more at once than its bound, errors come back to the caller."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from media.errors import ImageRejected
from media.images import inspect
from media.shrinking import make_thumbnail
from media.workers import ImageWorkers, configure_image_workers, run_image_job, shutdown_image_workers
from photo_factories import GPS_PHOTO


@pytest.fixture
def workers() -> Iterator[ImageWorkers]:
    pool = ImageWorkers(max_workers=2)
    yield pool
    pool.shutdown()


async def test_a_job_runs_in_a_worker_thread_and_returns_its_result(workers: ImageWorkers) -> None:
    assert await workers.run(threading.current_thread) is not threading.current_thread()
    info = await workers.run(inspect, str(GPS_PHOTO), "image/jpeg", max_pixels=10_000_000)
    assert info.gps is not None


async def test_a_job_that_fails_raises_in_the_caller(workers: ImageWorkers, tmp_path: Path) -> None:
    path = tmp_path / "a.jpg"
    path.write_text("not a photo")
    with pytest.raises(ImageRejected):
        await workers.run(inspect, str(path), "image/jpeg")


async def test_no_more_jobs_run_at_once_than_the_bound(workers: ImageWorkers) -> None:
    lock = threading.Lock()
    running = peak = 0

    def job() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1

    await asyncio.gather(*(workers.run(job) for _ in range(10)))
    assert peak == 2


async def test_a_slot_holds_its_place_across_several_jobs() -> None:
    order: list[str] = []
    single = ImageWorkers(1)

    async def steps(name: str) -> None:
        async with single.slot() as run:
            await run(order.append, f"{name}1")
            await asyncio.sleep(0.01)  # between jobs, the place stays taken
            await run(order.append, f"{name}2")

    try:
        await asyncio.gather(steps("a"), steps("b"))
    finally:
        single.shutdown()
    assert order in (["a1", "a2", "b1", "b2"], ["b1", "b2", "a1", "a2"])


async def test_run_image_job_uses_the_configured_pool() -> None:
    configure_image_workers(max_workers=1)
    try:
        names = await asyncio.gather(*(run_image_job(lambda: threading.current_thread().name) for _ in range(4)))
        assert len(set(names)) == 1 and names[0].startswith("doorstep-image")
    finally:
        shutdown_image_workers()


async def test_thumbnails_in_the_pool_keep_the_event_loop_responsive(big_jpeg: Path) -> None:
    # A ticker that should wake every 5 ms measures how late it wakes while four 12 MP photos get thumbnails.
    lags: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            lags.append(time.perf_counter() - before - 0.005)

    pool = ImageWorkers(max_workers=2)
    tick = asyncio.create_task(ticker())
    try:
        started = time.perf_counter()
        thumbnails = await asyncio.gather(*(pool.run(make_thumbnail, str(big_jpeg), side) for side in (320, 1280) * 2))
        elapsed = time.perf_counter() - started
    finally:
        done.set()
        await tick
        pool.shutdown()

    assert all(thumbnails)
    assert len(lags) > 10, f"the ticker barely ran in {elapsed:.2f} s"
    assert max(lags) < 0.1, f"worst event-loop lag {max(lags) * 1000:.0f} ms"


async def test_the_pool_says_how_many_jobs_run_and_how_many_wait(workers: ImageWorkers) -> None:
    release = threading.Event()
    jobs = [asyncio.create_task(workers.run(release.wait, 10)) for _ in range(5)]
    while workers.running < 2:
        await asyncio.sleep(0.01)
    assert (workers.running, workers.waiting) == (2, 3)
    release.set()
    await asyncio.gather(*jobs)
    assert (workers.running, workers.waiting) == (0, 0)
    cancelled = [asyncio.create_task(workers.run(time.sleep, 0.2)) for _ in range(3)]
    await asyncio.sleep(0.05)
    cancelled[2].cancel()  # a caller that gives up while waiting is no longer counted
    await asyncio.gather(*cancelled, return_exceptions=True)
    assert (workers.running, workers.waiting) == (0, 0)
