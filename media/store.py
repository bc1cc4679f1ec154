"""Where photos live: the `PhotoStore` interface, named by sha256, and its local-disk implementation."""

from __future__ import annotations

import asyncio
import errno
import os
import re
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import aiofiles
import aiofiles.os

from media import blobs
from media.blobs import BlobInfo
from media.errors import InvalidHash, PhotoNotFound, UnknownVariant

# Derived images the server makes of each photo; the pixel sizes belong to `media.images`.
VARIANTS = frozenset({"thumb", "large"})

CHUNK_SIZE = 256 * 1024

_SHA256 = re.compile(r"[0-9a-f]{64}")


def normalize_sha256(value: str) -> str:
    """Lower-case a hex sha256 and check it, so a crafted name can never become a path outside the store."""
    lowered = value.lower() if isinstance(value, str) else ""
    if not _SHA256.fullmatch(lowered):
        raise InvalidHash()
    return lowered


def check_variant(variant: str) -> str:
    if variant not in VARIANTS:
        raise UnknownVariant()
    return variant


@dataclass(frozen=True)
class PhotoStream:
    """An opened photo: its size (for Content-Length), then its bytes in chunks when iterated."""

    size: int
    chunks: Callable[[], AsyncIterator[bytes]]
    whole: Callable[[], Awaitable[bytes]] | None = None  # the content at once, when the store has a faster way

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.chunks()

    async def read(self) -> bytes:
        """The whole content; for thumbnails, an export's photos one by one, and tests; not for originals in a
        request."""
        if self.whole is not None:
            return await self.whole()
        return b"".join([chunk async for chunk in self])


class PhotoStore(ABC):
    """Photos by content hash. Stored originals are never rewritten; derived images may be remade.

    Uploads are written first to `temp_dir`, a local folder (for the local store, on the same filesystem as the
    photos, so that `put` is a rename); a cloud store would upload from there.
    """

    temp_dir: Path

    def make_temp(self, prefix: str = "upload-") -> tuple[int, str]:
        """Create an empty temporary file for an upload in progress; returns its descriptor and path (blocking)."""
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(prefix=prefix, suffix=".part", dir=self.temp_dir)

    async def cleanup_temp(self, older_than: float = 0.0) -> int:
        """Remove temporary files left by a crash; returns how many.

        Called at start, before uploads are accepted. With several processes sharing one store, pass `older_than`
        (seconds) larger than any upload takes, so that another process's upload in progress is left alone.
        """
        # One hop for the whole folder, not two or three per file as aiofiles would take.
        return await asyncio.to_thread(_remove_files_older_than, self.temp_dir, older_than)

    @abstractmethod
    async def put(self, sha256: str, source_path: str) -> bool:
        """Move a fully written temp file whose bytes hash to `sha256` into place.

        True if newly stored, False if the photo was already there (the existing bytes are left untouched).
        The source file is consumed either way.
        """

    @abstractmethod
    async def open(self, sha256: str) -> PhotoStream:
        """Raises PhotoNotFound before any byte is sent, so a caller can still answer 404."""

    async def read(self, sha256: str) -> bytes:
        """A photo's bytes at once (an export's photos, a few MB each at most); raises PhotoNotFound."""
        return await (await self.open(sha256)).read()

    @abstractmethod
    async def exists(self, sha256: str) -> bool: ...

    @abstractmethod
    async def size(self, sha256: str) -> int: ...

    @abstractmethod
    async def stored_at(self, sha256: str) -> datetime:
        """When the photo was stored (UTC), for reports of photos that no submission refers to."""

    @abstractmethod
    async def delete(self, sha256: str) -> bool:
        """Remove a photo and its derived images; False if there was nothing to remove."""

    @abstractmethod
    async def put_derived(self, sha256: str, variant: str, data: bytes) -> None: ...

    @abstractmethod
    async def open_derived(self, sha256: str, variant: str) -> PhotoStream: ...

    async def read_derived(self, sha256: str, variant: str) -> bytes:
        """A derived image's bytes at once (a thumbnail, a few dozen KB); raises PhotoNotFound."""
        return await (await self.open_derived(sha256, variant)).read()

    @abstractmethod
    async def exists_derived(self, sha256: str, variant: str) -> bool: ...

    @abstractmethod
    def list_hashes(self, after: str = "") -> AsyncIterator[str]:
        """Every stored photo's hash greater than `after`, in ascending order: a report that walks them in pages
        starts where its last page ended and stops once its page is full."""

    async def list_stored(self, after: str = "") -> AsyncIterator[tuple[str, datetime]]:
        """`list_hashes` with each photo's `stored_at`; a store whose listing carries the time gives it for free."""
        async for sha256 in self.list_hashes(after):
            try:
                yield sha256, await self.stored_at(sha256)
            except PhotoNotFound:
                continue  # deleted while listed

    @abstractmethod
    async def check(self) -> None:
        """Raise if the store cannot be written to right now (for readiness probes)."""

    # Blobs: files the server makes and keeps for a while (area exports), by a name of its choosing (`media.blobs`).

    @abstractmethod
    async def put_blob(self, key: str, chunks: AsyncIterable[bytes]) -> BlobInfo:
        """Store the bytes `chunks` gives, as they come, under `key` (replacing a blob of that name); the blob
        appears whole once this returns, or not at all. Returns its size and SHA-256."""

    @abstractmethod
    async def open_blob(self, key: str, start: int = 0, end: int | None = None) -> PhotoStream:
        """Bytes [start, end) of a blob (to its end when `end` is None), for HTTP Range; BlobNotFound before any
        byte is sent."""

    @abstractmethod
    async def delete_blob(self, key: str) -> bool:
        """Remove a blob; False if there was none."""


class LocalPhotoStore(PhotoStore):
    """Photos on a local disk: `originals/ab/cd/<sha256>`, `derived/<variant>/ab/cd/<sha256>.jpg`, `tmp/`; and
    the server's own files in `blobs/<key>`.

    Two levels of shards keep folders small enough to list with tens of thousands of photos per township.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.temp_dir = self.root / "tmp"
        self._originals = self.root / "originals"
        self._derived = self.root / "derived"
        self._blobs = self.root / "blobs"
        # Done once at start-up, before the store serves anything, so a blocking mkdir is harmless here.
        self.temp_dir.mkdir(parents=True, exist_ok=True)

    async def check(self) -> None:
        def probe() -> None:
            fd, path = self.make_temp(prefix="probe-")
            os.close(fd)
            os.unlink(path)

        await asyncio.to_thread(probe)  # create, close, remove: one hop (aiofiles has no mkstemp)

    def original_path(self, sha256: str) -> Path:
        sha256 = normalize_sha256(sha256)
        return self._originals / sha256[:2] / sha256[2:4] / sha256

    def derived_path(self, sha256: str, variant: str) -> Path:
        sha256 = normalize_sha256(sha256)
        return self._derived / check_variant(variant) / sha256[:2] / sha256[2:4] / f"{sha256}.jpg"

    async def put(self, sha256: str, source_path: str) -> bool:
        dest = self.original_path(sha256)
        # One hop for the sequence whose order makes it crash-safe (sync, link, sync the folder), not one per call.
        return await asyncio.to_thread(_move_into_place, Path(source_path), dest)

    async def open(self, sha256: str) -> PhotoStream:
        return await _open_file(self.original_path(sha256))

    async def read(self, sha256: str) -> bytes:
        # One hop to a thread (open, read, close), not a stat first and the read after: each hop waits a millisecond
        # or so for the loop while an export keeps it busy.
        return await asyncio.to_thread(_read_file, self.original_path(sha256))

    async def exists(self, sha256: str) -> bool:
        return await aiofiles.os.path.isfile(self.original_path(sha256))

    async def size(self, sha256: str) -> int:
        return (await _stat(self.original_path(sha256))).st_size

    async def stored_at(self, sha256: str) -> datetime:
        mtime = (await _stat(self.original_path(sha256))).st_mtime
        return datetime.fromtimestamp(mtime, timezone.utc)

    async def delete(self, sha256: str) -> bool:
        paths = [self.original_path(sha256)] + [self.derived_path(sha256, v) for v in sorted(VARIANTS)]
        return await asyncio.to_thread(_unlink_all, paths)  # three files, one hop

    async def put_derived(self, sha256: str, variant: str, data: bytes) -> None:
        dest = self.derived_path(sha256, variant)
        await asyncio.to_thread(self._write_derived, dest, data)  # write, sync, rename, sync the folder: one hop

    async def open_derived(self, sha256: str, variant: str) -> PhotoStream:
        return await _open_file(self.derived_path(sha256, variant))

    async def read_derived(self, sha256: str, variant: str) -> bytes:
        return await asyncio.to_thread(_read_file, self.derived_path(sha256, variant))  # one hop, as `read`

    async def exists_derived(self, sha256: str, variant: str) -> bool:
        return await aiofiles.os.path.isfile(self.derived_path(sha256, variant))

    async def list_hashes(self, after: str = "") -> AsyncIterator[str]:
        after = normalize_sha256(after) if after else ""
        # One thread hop per first-level shard: at most 256 hops, each listing a bounded number of folders. Sorted
        # names of sorted shards of a fixed-length hash: ascending order.
        shards = await asyncio.to_thread(_list_dir, self._originals)
        for shard in shards:
            if shard < after[:2]:
                continue
            for name in await asyncio.to_thread(_list_sharded_files, self._originals / shard):
                if name > after:
                    yield name

    def blob_path(self, key: str) -> Path:
        return self._blobs / blobs.check_key(key)

    async def put_blob(self, key: str, chunks: AsyncIterable[bytes]) -> BlobInfo:
        dest = self.blob_path(key)
        temp = await asyncio.to_thread(self.make_temp, "blob-")
        return await blobs.write_local(dest, temp, chunks)

    async def open_blob(self, key: str, start: int = 0, end: int | None = None) -> PhotoStream:
        size, chunks = await blobs.open_local(self.blob_path(key), start, end)
        return PhotoStream(size=size, chunks=chunks)

    async def delete_blob(self, key: str) -> bool:
        return await asyncio.to_thread(blobs.delete_local, self.blob_path(key))

    def _write_derived(self, dest: Path, data: bytes) -> None:
        # Derived images may be remade, so replacing one is fine; but the bytes are synced before the rename,
        # or a crash could leave a name that exists with empty content, served as a blank thumbnail forever.
        fd, temp = self.make_temp(prefix="derived-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            _ensure_dir(dest.parent)
            os.replace(temp, dest)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        _fsync_dir(dest.parent)


def _move_into_place(source: Path, dest: Path) -> bool:
    if dest.exists():
        # A retry of a stored photo: the bytes are the same by their hash, so keep the old file untouched.
        source.unlink()
        return False
    _fsync_file(source)
    # Read-only, as a guard against anything on the server opening a stored original for writing.
    os.chmod(source, 0o444)
    _ensure_dir(dest.parent)
    try:
        # link, not rename: it fails if the name exists, so two uploads of one photo at once cannot both
        # report "newly stored", and the first one's file is never replaced.
        os.link(source, dest)
    except FileExistsError:
        source.unlink()
        return False
    except OSError as e:
        # Some filesystems (network shares, some container volumes) have no hard links.
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        if dest.exists():
            source.unlink()
            return False
        os.replace(source, dest)
    else:
        source.unlink()
    _fsync_dir(dest.parent)
    return True


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    # A rename or a new link is durable only once the folder holding it is synced.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _ensure_dir(path: Path) -> None:
    """Create a folder and its missing parents, syncing each parent so the new folders survive a crash."""
    if path.is_dir():
        return
    _ensure_dir(path.parent)
    try:
        path.mkdir()
    except FileExistsError:
        return
    _fsync_dir(path.parent)


async def _stat(path: Path) -> os.stat_result:
    try:
        return await aiofiles.os.stat(path)
    except FileNotFoundError:
        raise PhotoNotFound() from None


async def _open_file(path: Path) -> PhotoStream:
    size = (await _stat(path)).st_size

    async def chunks() -> AsyncIterator[bytes]:
        # Opened on first read, not before: a stream that is never read leaves no file handle behind.
        try:
            f = await aiofiles.open(path, "rb")
        except FileNotFoundError:
            raise PhotoNotFound() from None
        try:
            while chunk := await f.read(CHUNK_SIZE):
                yield chunk
        finally:
            # Shielded: when a phone goes away mid-download the whole request is cancelled, this await too.
            await asyncio.shield(f.close())

    # Open, read and close in one hop to a thread, not one per call (an export reads thousands of photos whole).
    return PhotoStream(size=size, chunks=chunks, whole=lambda: asyncio.to_thread(_read_file, path))


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise PhotoNotFound() from None


def _unlink_all(paths: list[Path]) -> bool:
    removed = False
    for path in paths:
        try:
            path.unlink()
            removed = True
        except FileNotFoundError:
            pass
    return removed


def _list_dir(path: Path) -> list[str]:
    try:
        return sorted(os.listdir(path))
    except FileNotFoundError:
        return []


def _list_sharded_files(shard: Path) -> list[str]:
    return [
        name
        for sub in _list_dir(shard)
        for name in _list_dir(shard / sub)
        if _SHA256.fullmatch(name)
    ]


def _remove_files_older_than(folder: Path, older_than: float) -> int:
    cutoff = time.time() - older_than
    removed = 0
    for name in _list_dir(folder):
        path = folder / name
        try:
            if path.is_file() and (older_than <= 0 or path.stat().st_mtime < cutoff):
                path.unlink()
                removed += 1
        except FileNotFoundError:
            pass  # finished or removed by its upload meanwhile
    return removed
