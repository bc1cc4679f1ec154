"""Thumbnails of stored photos: made in the background once an upload is answered, or when first asked for.

The upload's answer does not wait for them. They are made after it, in a pool of their own, once this process has
received no photo for a moment: a burst of uploads is received at full speed (decoding would compete for the CPU and
for Python's lock) and the thumbnails catch up when it is over. Not by lowering the threads' priority instead: a
low-priority thread holding Python's lock on a busy machine would stall the event loop.

A crash or a shutdown may leave some unmade; asking for one makes it then, on whichever instance is asked. So no
list of pending work is kept anywhere: the store itself says what is missing. (What this process is receiving is
about its own CPU, not state to share.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

from media.errors import ImageRejected, PhotoNotFound
from media.images import DEFAULT_MAX_PIXELS
from media.ingest import make_derived
from media.store import PhotoStore, PhotoStream, check_variant
from media.workers import ImageWorkers

T = TypeVar("T")

log = logging.getLogger(__name__)

# Background thumbnails wait for this long without an upload being received, but never longer than MAX_DELAY.
QUIET = 0.3
MAX_DELAY = 10.0


class Thumbnails:
    def __init__(self, store: PhotoStore, workers: ImageWorkers, *, background_workers: int = 1,
                 max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        self.store = store
        self.max_pixels = max_pixels
        self._asked = workers  # someone is waiting for these
        self._background = ImageWorkers(background_workers, workers.budget)  # one memory budget for both
        self._pending: set[asyncio.Task] = set()
        self._making: set[asyncio.Task] = set()  # past waiting: writing files, not to be cut off
        self._closing = False
        self._receiving = 0
        self._last_received = 0.0

    @contextlib.contextmanager
    def receiving(self) -> Iterator[None]:
        """Mark a photo being received: background thumbnails wait until there is none."""
        self._receiving += 1
        try:
            yield
        finally:
            self._receiving -= 1
            self._last_received = time.monotonic()

    def make_later(self, sha256: str) -> None:
        """Make the photo's thumbnails after this request, at low priority."""
        task = asyncio.get_running_loop().create_task(self._make_quietly(sha256))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def open(self, sha256: str, variant: str) -> PhotoStream:
        """A thumbnail, made now if it was not made yet. Raises ImageRejected if the photo cannot be decoded."""
        return await self._made(self.store.open_derived, sha256, variant)

    async def read(self, sha256: str, variant: str) -> bytes:
        """`open`'s bytes at once: one hop to the store for a thumbnail made already (a summary PDF reads dozens)."""
        return await self._made(self.store.read_derived, sha256, variant)

    async def _made(self, fetch: Callable[[str, str], Awaitable[T]], sha256: str, variant: str) -> T:
        """`fetch` of the thumbnail, made first if the store has none yet (asked for, not looked for: one hop less)."""
        check_variant(variant)
        try:
            return await fetch(sha256, variant)
        except PhotoNotFound:
            async with self._asked.slot() as slot:
                await make_derived(self.store, sha256, slot, max_pixels=self.max_pixels)
        return await fetch(sha256, variant)

    @property
    def being_made(self) -> int:
        """How many background thumbnails are past their quiet moment and being made now."""
        return len(self._making)

    @property
    def waiting(self) -> int:
        """How many background thumbnails are asked for and not yet being made (waiting for a quiet moment or a
        worker)."""
        return len(self._pending) - len(self._making)

    async def settle(self) -> None:
        """Wait until the thumbnails asked for with `make_later` are made (for tests and benchmarks)."""
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def close(self) -> None:
        """Stop background work: thumbnails being made are finished (no half-written file is left behind),
        those still waiting are dropped, to be made when first asked for."""
        self._closing = True
        for task in self._pending - self._making:
            task.cancel()
        await asyncio.gather(*self._pending, return_exceptions=True)
        self._background.shutdown()

    async def _quiet_moment(self) -> None:
        deadline = time.monotonic() + MAX_DELAY
        while time.monotonic() < deadline:
            quiet_for = 0.0 if self._receiving else time.monotonic() - self._last_received
            if quiet_for >= QUIET:
                return
            await asyncio.sleep(QUIET - quiet_for)

    async def _make_quietly(self, sha256: str) -> None:
        await self._quiet_moment()
        async with self._background.slot() as slot:
            if self._closing:
                return
            task = asyncio.current_task()
            self._making.add(task)
            try:
                await make_derived(self.store, sha256, slot, max_pixels=self.max_pixels)
            except ImageRejected:
                log.warning("photo %s cannot be decoded: no thumbnails", sha256)
            except Exception:
                log.exception("thumbnails of photo %s failed; they will be made when first asked for", sha256)
            finally:
                self._making.discard(task)
