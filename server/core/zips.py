"""ZIP files streamed as they are made, from async sources: a finished workbook, photos read through the store.

zipstream-ng frames the entries; it reads an entry's bytes from a plain iterator, while ours come from awaits. A
relay sits between: the async side hands it one chunk, zipstream takes it, and only then is the next chunk read. An
archive of a township's year of photos so holds one chunk in memory, and none of it on disk. Entries are stored,
not compressed: photos and workbooks are compressed already, and deflating them again would only cost CPU.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass

from zipstream import ZIP_STORED, ZipStream


@dataclass
class Entry:
    name: str  # the path inside the archive, "/" between folders
    size: int | None  # known up front, it spares the entry ZIP64 fields some unzip tools stumble on
    chunks: AsyncIterable[bytes]


async def stream_zip(entries: AsyncIterator[Entry]) -> AsyncIterator[bytes]:
    """The archive's bytes as its entries are read. Closing it early (the download was abandoned) closes the
    entry being read and the entries still to come, so that their files are released."""
    archive = ZipStream(compress_type=ZIP_STORED)
    async with aclosing(entries):
        async for entry in entries:
            relay = _Relay()
            archive.add(relay, entry.name, size=entry.size)
            pieces = archive.file()
            chunks = aiter(entry.chunks)
            async with aclosing(chunks):
                async for chunk in chunks:
                    relay.hand(chunk)
                    while relay.holding:  # the entry's header comes out first, then the chunk
                        yield next(pieces)
            relay.end()
            for piece in pieces:  # the data descriptor: size and CRC, known now
                yield piece
    for piece in archive.footer():
        yield piece


async def one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


class _Relay:
    """The iterator zipstream reads an entry from, holding at most the one chunk the async side handed it."""

    def __init__(self) -> None:
        self._chunk: bytes | None = None
        self._ended = False

    @property
    def holding(self) -> bool:
        return self._chunk is not None

    def hand(self, chunk: bytes) -> None:
        self._chunk = chunk

    def end(self) -> None:
        self._ended = True

    def __iter__(self) -> _Relay:
        return self

    def __next__(self) -> bytes:
        if self._chunk is not None:
            chunk, self._chunk = self._chunk, None
            return chunk
        if self._ended:
            raise StopIteration
        raise RuntimeError("zipstream read past the chunk it was handed")
