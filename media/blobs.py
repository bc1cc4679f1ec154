"""Files the server makes itself and keeps for a while (an area's export: a ZIP of many GB), stored beside the
photos under a name of their own: the blob half of the `PhotoStore` interface, and its local-disk implementation.

A blob is written from its bytes as they are made (an async iterable), never held whole: the local store writes
them to a temporary file in batches of about a megabyte, each batch written and hashed in a worker thread while the
event loop makes the next, then syncs it and renames it into place, so a blob appears whole or not at all. A cloud
store would send the same batches as the parts of a multipart upload. Reading takes a byte range, for HTTP Range.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import aiofiles

from media.errors import BlobNotFound, InvalidBlobKey

BATCH_BYTES = 1024 * 1024
READ_CHUNK = 256 * 1024
# Folders and names of letters, digits, dot, dash and underscore; no part may be "." or "..".
_KEY = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}(/[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}){0,3}")


@dataclass(frozen=True)
class BlobInfo:
    size: int
    sha256: str


def check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.fullmatch(key) or any(p in (".", "..") for p in key.split("/")):
        raise InvalidBlobKey()
    return key


async def write_local(path: Path, temp: tuple[int, str], chunks: AsyncIterable[bytes]) -> BlobInfo:
    """Write `chunks` to the open temporary file `temp` (descriptor, path), then move it to `path`."""
    fd, temp_path = temp
    digest = hashlib.sha256()
    size = 0
    writing: asyncio.Future | None = None
    batch: list[bytes] = []
    batched = 0
    try:
        async for chunk in chunks:
            batch.append(chunk)
            batched += len(chunk)
            if batched >= BATCH_BYTES:
                if writing is not None:
                    await writing  # one batch in the thread while the next is made: two in memory at most
                writing = asyncio.ensure_future(asyncio.to_thread(_write_batch, fd, batch, digest))
                size += batched
                batch, batched = [], 0
        if writing is not None:
            await writing
        size += batched
        await asyncio.to_thread(_finish, fd, batch, digest, Path(temp_path), path)
    except BaseException:
        if writing is not None and not writing.done():
            await asyncio.shield(asyncio.wait([writing]))  # the thread still holds the descriptor
        await asyncio.shield(asyncio.to_thread(_discard, fd, temp_path))
        raise
    return BlobInfo(size, digest.hexdigest())


def _write_batch(fd: int, batch: list[bytes], digest) -> None:
    for chunk in batch:
        digest.update(chunk)  # hashlib lets go of Python's lock for large buffers: this runs beside the loop
        view = memoryview(chunk)
        while view:
            view = view[os.write(fd, view):]


def _finish(fd: int, batch: list[bytes], digest, temp: Path, dest: Path) -> None:
    _write_batch(fd, batch, digest)
    os.fsync(fd)
    os.close(fd)
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(temp, dest)
    folder = os.open(dest.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _discard(fd: int, temp: str) -> None:
    try:
        os.close(fd)
    except OSError:
        pass  # closed by _finish before its rename failed
    Path(temp).unlink(missing_ok=True)


async def open_local(path: Path, start: int, end: int | None) -> tuple[int, Callable[[], AsyncIterator[bytes]]]:
    """The length of bytes [start, end) of the file at `path`, and their chunks when iterated."""
    try:
        total = (await asyncio.to_thread(os.stat, path)).st_size
    except FileNotFoundError:
        raise BlobNotFound() from None
    end = total if end is None else min(end, total)
    start = min(max(start, 0), end)

    async def chunks() -> AsyncIterator[bytes]:
        try:
            f = await aiofiles.open(path, "rb")
        except FileNotFoundError:
            raise BlobNotFound() from None
        try:
            await f.seek(start)
            left = end - start
            while left > 0 and (chunk := await f.read(min(READ_CHUNK, left))):
                left -= len(chunk)
                yield chunk
        finally:
            await asyncio.shield(f.close())

    return end - start, chunks


def delete_local(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except FileNotFoundError:
        return False
