"""A bounded pool of threads for Pillow work, so the event loop never waits on an image."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


def default_max_workers() -> int:
    # Leave one core to the event loop: Pillow releases the GIL while decoding, so each worker can fill a core.
    return max(1, min(4, (os.cpu_count() or 2) - 1))


class ImageWorkers:
    """Runs image jobs on at most `max_workers` threads.

    Callers beyond that wait in asyncio (cancellable, nothing queued in the pool), so a burst of uploads holds at
    most `max_workers` decoded images in memory at once.
    """

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = max_workers or default_max_workers()
        self._executor = ThreadPoolExecutor(self.max_workers, thread_name_prefix="doorstep-image")
        # One semaphore per event loop: asyncio primitives belong to the loop they are first used in.
        self._semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[Callable[..., Awaitable]]:
        """Hold one of the pool's places across several steps (read a photo, decode it, store what was made), so
        that the bound covers what those steps hold in memory too. Yields a `run` for jobs within the place."""
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self.max_workers)

        async def run(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
            return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

        async with semaphore:
            yield run

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        async with self.slot() as run:
            return await run(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True) -> None:
        self._executor.shutdown(wait=wait, cancel_futures=True)


_default: ImageWorkers | None = None


def configure_image_workers(max_workers: int | None = None) -> ImageWorkers:
    """Set the pool `run_image_job` uses (at server start, from settings); replaces any earlier one."""
    global _default
    if _default is not None:
        _default.shutdown(wait=False)
    _default = ImageWorkers(max_workers)
    return _default


def shutdown_image_workers(wait: bool = True) -> None:
    global _default
    if _default is not None:
        _default.shutdown(wait=wait)
        _default = None


async def run_image_job(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `fn(*args, **kwargs)` on the image pool (created with default size on first use) and await it."""
    workers = _default or configure_image_workers()
    return await workers.run(fn, *args, **kwargs)
