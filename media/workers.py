"""A bounded pool of threads for Pillow work, so the event loop never waits on an image; its jobs that decode hold
memory of a budget that pools share (`media.memory`)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import weakref
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from media.memory import MemoryBudget

P = ParamSpec("P")
T = TypeVar("T")


def default_max_workers() -> int:
    # Leave one core to the event loop: Pillow releases the GIL while decoding, so each worker can fill a core.
    return max(1, min(4, (os.cpu_count() or 2) - 1))


class Slot:
    """One place in a pool, held across several steps. Call it to run a job in the place; `hold` memory of the
    pool's budget around the jobs that decode."""

    def __init__(self, executor: ThreadPoolExecutor, budget: MemoryBudget) -> None:
        self._executor = executor
        self.budget = budget

    async def __call__(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    def hold(self, cost: int) -> contextlib.AbstractAsyncContextManager[None]:
        """Wait (in asyncio) until the budget has `cost` bytes free and hold them for the block. Always taken after
        the place, never before: a job that holds memory never waits for a place, so the two bounds cannot lock."""
        return self.budget.hold(cost)


class ImageWorkers:
    """Runs image jobs on at most `max_workers` threads, within `budget` (pass one budget to every pool of a process).

    Callers beyond that wait in asyncio (cancellable, nothing queued in the pool), so a burst of uploads holds at
    most `max_workers` photos' bytes at once, and their decoded pixels stay within the budget.
    """

    def __init__(self, max_workers: int | None = None, budget: MemoryBudget | None = None) -> None:
        self.max_workers = max_workers or default_max_workers()
        self.budget = budget or MemoryBudget()
        self._executor = ThreadPoolExecutor(self.max_workers, thread_name_prefix="doorstep-image")
        # One semaphore per event loop: asyncio primitives belong to the loop they are first used in.
        self._semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )
        self.waiting = 0  # jobs waiting for a place (the figure /metrics shows)
        self.running = 0

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[Slot]:
        """Hold one of the pool's places across several steps (read a photo, decode it, store what was made), so
        that the bound covers what those steps hold in memory too."""
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self.max_workers)
        self.waiting += 1
        try:
            await semaphore.acquire()
        finally:
            self.waiting -= 1
        self.running += 1
        try:
            yield Slot(self._executor, self.budget)
        finally:
            self.running -= 1
            semaphore.release()

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a job that decodes nothing large (it holds no memory of the budget)."""
        async with self.slot() as run:
            return await run(fn, *args, **kwargs)

    async def run_within(self, cost: int, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a job that holds up to `cost` bytes, once the budget has room for them."""
        async with self.slot() as run, run.hold(cost):
            return await run(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True) -> None:
        self._executor.shutdown(wait=wait, cancel_futures=True)


_default: ImageWorkers | None = None


def configure_image_workers(max_workers: int | None = None, budget: MemoryBudget | None = None) -> ImageWorkers:
    """Set the pool `run_image_job` uses (at server start, from settings); replaces any earlier one."""
    global _default
    if _default is not None:
        _default.shutdown(wait=False)
    _default = ImageWorkers(max_workers, budget)
    return _default


def default_image_workers() -> ImageWorkers:
    """The configured pool, created with default size and budget on first use."""
    return _default or configure_image_workers()


def shutdown_image_workers(wait: bool = True) -> None:
    global _default
    if _default is not None:
        _default.shutdown(wait=wait)
        _default = None


async def run_image_job(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `fn(*args, **kwargs)` on the default image pool and await it."""
    return await default_image_workers().run(fn, *args, **kwargs)
