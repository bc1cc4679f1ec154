"""Memory for decoding photos: one budget shared by every image job, and handing freed memory back to the system.

A count of threads does not bound memory: a 200 KB PNG can decode to 196 MB, a phone's photo to 36 MB. So each job
says what it will hold (worked out from the header, before a pixel is decoded) and waits, in asyncio, until the
budget has room for it. Uploads, background thumbnails and thumbnails asked for all take from the same budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import threading
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

MB = 1024 * 1024
# Keeps a small server (2 cores, 1 to 2 GB shared with the database) well under 300 MB of pixels: three 12 MP
# phone photos' thumbnails fit at once; a 7000x7000 RGBA PNG (~270 MB to make thumbnails of) is decoded alone.
DEFAULT_BUDGET_MB = 192


@dataclass(eq=False)
class _Waiter:
    charge: int
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future = field(repr=False)


class MemoryBudget:
    """Bytes that image jobs may hold at once. A job waits its turn in arrival order, so a large photo is not
    passed over for ever by small ones; a job larger than the whole budget runs alone once the rest are done.

    Safe to share between threads and event loops (tests run one loop each); it never blocks a loop.
    """

    def __init__(self, limit: int = DEFAULT_BUDGET_MB * MB) -> None:
        if limit <= 0:
            raise ValueError("a memory budget must be above zero")
        self.limit = limit
        self._lock = threading.Lock()
        self._waiting: deque[_Waiter] = deque()
        self.in_use = 0  # bytes held now
        self.holders = 0  # jobs holding some now
        self.peak_in_use = 0
        self.peak_holders = 0
        self.granted = 0  # jobs that have held some, ever

    @classmethod
    def megabytes(cls, mb: int) -> MemoryBudget:
        return cls(mb * MB)

    @contextlib.asynccontextmanager
    async def hold(self, cost: int) -> AsyncIterator[None]:
        """Hold `cost` bytes (at most the whole budget) for the time of the block, waiting until there is room."""
        charge = min(max(cost, 0), self.limit)
        await self._acquire(charge)
        try:
            yield
        finally:
            self._release(charge)

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    async def _acquire(self, charge: int) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            if not self._waiting and self.in_use + charge <= self.limit:
                self._take(charge)
                return
            waiter = _Waiter(charge, loop, loop.create_future())
            self._waiting.append(waiter)
        try:
            await waiter.future
        except BaseException:  # cancelled while waiting, or just as its turn came
            with self._lock:
                granted = waiter not in self._waiting
                if not granted:
                    self._waiting.remove(waiter)
            if granted:
                self._release(charge)
            else:
                self._release(0, held=False)  # the next in line may fit now that this one is gone
            raise

    def _take(self, charge: int) -> None:
        self.in_use += charge
        self.holders += 1
        self.granted += 1
        self.peak_in_use = max(self.peak_in_use, self.in_use)
        self.peak_holders = max(self.peak_holders, self.holders)

    def _release(self, charge: int, held: bool = True) -> None:
        with self._lock:
            if held:
                self.in_use -= charge
                self.holders -= 1
            while self._waiting and self.in_use + self._waiting[0].charge <= self.limit:
                waiter = self._waiting.popleft()
                self._take(waiter.charge)
                try:
                    waiter.loop.call_soon_threadsafe(_wake, waiter.future)
                except RuntimeError:  # its loop is closed: nobody will use the share
                    self.in_use -= waiter.charge
                    self.holders -= 1
                    self.granted -= 1


def _wake(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


# --- handing memory back ------------------------------------------------------------------------------------------

_M_MMAP_THRESHOLD = -3  # glibc's malloc.h
LARGE_BLOCK = MB


def free_large_blocks_at_once() -> bool:
    """Have glibc map every allocation of LARGE_BLOCK or more on its own, so that freeing it unmaps it: the memory
    goes back to the system when a photo's pixels are freed. False where this is not glibc (nothing to do there).

    By default glibc raises that threshold to the size of the largest block freed so far (up to 32 MB): once one
    decoded photo is freed, Pillow's 16 MB blocks come from the heaps of per-thread arenas instead, and a freed block
    in the middle of a heap stays with the process. Measured with bench/image_memory.py (eight 7000x7000 PNGs, ten
    seconds after): the server kept 180 MB above idle for good; with this, 1 to 6 MB. MALLOC_ARENA_MAX=2 kept 23 MB.
    malloc_trim(0) after each decoding did as well as this, but is one more call after every job, and takes each
    arena's lock while it walks them. The price is mapping fresh pages for each photo: ~0.2 s more for a 196 MB
    RGBA picture (~1 s to decode), nothing measurable beside a 12 MP photo.
    """
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return False
    if libc is None or not hasattr(libc, "mallopt") or not hasattr(libc, "gnu_get_libc_version"):
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, LARGE_BLOCK))


def hand_back_free_memory() -> bool:
    """Ask glibc to return the free pages inside its heaps (`malloc_trim(0)`); False where this is not glibc.

    For long jobs that allocate in many threads, such as an area export: each worker thread's arena keeps the pages
    of blocks freed in its middle, and the process grows by a few tens of KB per household without this (measured
    with bench/area_export.py: +26 MB over 600 households; trimmed after every 20, none)."""
    libc = _libc()
    if libc is None or not hasattr(libc, "malloc_trim"):
        return False
    libc.malloc_trim(0)
    return True


def _libc():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "gnu_get_libc_version") else None
