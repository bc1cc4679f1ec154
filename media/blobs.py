"""Files the server makes itself and keeps for a while (an area's export: a ZIP of many GB), stored beside the
photos under a name of their own: the blob half of the `PhotoStore` interface, and its local-disk implementation.

A blob is written from its bytes as they are made (an async iterable), never held whole: the local store writes
them to a temporary file in batches of about a megabyte, each batch written and hashed in a worker thread while the
event loop makes the next (`blob_file`: past the page cache where it can), then syncs it and renames it into place,
so a blob appears whole or not at all. A cloud store would send the same batches as the parts of a multipart upload.
Reading takes a byte range, for HTTP Range.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import aiofiles

from media.blob_file import BlobFile
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
    try:
        file = await asyncio.to_thread(BlobFile, fd, temp_path)
    except BaseException:
        await asyncio.shield(asyncio.to_thread(_discard_temp, fd, temp_path))
        raise
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
                writing = asyncio.ensure_future(asyncio.to_thread(file.write, batch))
                batch, batched = [], 0
        if writing is not None:
            await writing
        await asyncio.to_thread(_finish, file, batch, Path(temp_path), path)
    except BaseException:
        if writing is not None and not writing.done():
            await asyncio.shield(asyncio.wait([writing]))  # the thread still holds the file
        await asyncio.shield(asyncio.to_thread(_discard, file, temp_path))
        raise
    return BlobInfo(file.size, file.digest.hexdigest())


def _finish(file: BlobFile, batch: list[bytes], temp: Path, dest: Path) -> None:
    file.write(batch)
    file.finish()
    file.close()
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(temp, dest)
    folder = os.open(dest.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _discard(file: BlobFile, temp: str) -> None:
    file.close()  # closed already by _finish if its rename failed
    Path(temp).unlink(missing_ok=True)


def _discard_temp(fd: int, temp: str) -> None:
    os.close(fd)
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
