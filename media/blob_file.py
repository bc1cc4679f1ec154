"""A blob's temporary file as it is written: in order, hashed on the way, from a worker thread, and past the page
cache (O_DIRECT) where the file system allows it.

An area's export is a file of many GB written once and read later by one download. Written through the page cache, it
would push out the photos and thumbnails the station is serving, and every fresh page of cache costs the kernel more
than the disk write itself: on this project's virtual machines, 1 GB written buffered took 2.5 s of kernel time (the
export's slowest step), written direct 0.06 s. A direct write needs page-aligned memory and whole blocks, so the bytes
are gathered in an aligned buffer and written a full buffer at a time; the last block is written padded, and the file
cut back to its size. A file system that refuses direct writes (EINVAL, at the open or at the first write) gets the
same buffer written the ordinary way.
"""

from __future__ import annotations

import errno
import hashlib
import mmap
import os

BUFFER = 4 * 1024 * 1024  # bytes gathered before one write; a multiple of every disk's block size
BLOCK = 4096  # direct writes are whole blocks of this size (the largest logical block size in use)


class BlobFile:
    """The temporary file `path`, open as `fd`; `write` and `finish` are called from one worker thread at a time.
    `direct=False` writes the ordinary way from the start."""

    def __init__(self, fd: int, path: str, direct: bool = True) -> None:
        self.fd = fd
        self.digest = hashlib.sha256()
        self.size = 0  # bytes given so far
        self._buffer = mmap.mmap(-1, BUFFER)  # anonymous, hence page-aligned
        self._filled = 0
        self._flushed = 0  # bytes of the file written, always whole buffers but the last
        self._direct = _open_direct(path) if direct else None

    def write(self, chunks: list[bytes]) -> None:
        for chunk in chunks:
            self.digest.update(chunk)  # hashlib lets go of Python's lock for large buffers: this runs beside the loop
            self.size += len(chunk)
            with memoryview(chunk) as view:
                while view:
                    taken = min(len(view), BUFFER - self._filled)
                    self._buffer[self._filled:self._filled + taken] = view[:taken]
                    self._filled += taken
                    view = view[taken:]
                    if self._filled == BUFFER:
                        self._flush(BUFFER)

    def finish(self) -> None:
        """Write what is left and make it durable; the file then holds exactly the bytes given."""
        if self._filled:
            self._flush(-(-self._filled // BLOCK) * BLOCK)  # padded to a whole block, cut back below
        os.ftruncate(self.fd, self.size)
        os.fsync(self.fd)

    def close(self) -> None:
        for fd in (self._direct, self.fd):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass  # closed already
        self._direct = self.fd = None
        self._buffer.close()

    def _flush(self, length: int) -> None:
        with memoryview(self._buffer) as whole, whole[:length] as view:
            if self._direct is not None:
                try:
                    _write_at(self._direct, view, self._flushed)
                except OSError as e:
                    if e.errno != errno.EINVAL:
                        raise
                    os.close(self._direct)  # this file system takes no direct writes after all: the same bytes
                    self._direct = None  # at the same place, the ordinary way
            if self._direct is None:
                _write_at(self.fd, view, self._flushed)
        self._flushed += length
        self._filled = 0


def _open_direct(path: str) -> int | None:
    if not hasattr(os, "O_DIRECT"):  # not on macOS: ordinary writes
        return None
    try:
        return os.open(path, os.O_WRONLY | os.O_DIRECT)
    except OSError as e:
        if e.errno != errno.EINVAL:
            raise
        return None


def _write_at(fd: int, view: memoryview, offset: int) -> None:
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written
