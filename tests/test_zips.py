"""ZIP files streamed from async sources: they open, hold each entry's bytes, keep one chunk in memory, and an
abandoned download closes what it was reading. No database."""

import io
import os
import zipfile

from server.core import zips

CHUNK = 64 * 1024


async def chunks_of(data: bytes, closed: list[str] | None = None, name: str = ""):
    try:
        for i in range(0, len(data), CHUNK):
            yield data[i:i + CHUNK]
    finally:
        if closed is not None:
            closed.append(name)


async def entries(files: dict[str, bytes], closed: list[str] | None = None):
    try:
        for name, data in files.items():
            yield zips.Entry(name, len(data), chunks_of(data, closed, name))
    finally:
        if closed is not None:
            closed.append("entries")


async def test_an_archive_streamed_from_async_chunks_opens_with_every_entry_intact():
    files = {"说明.txt": "先解压".encode(), "book.xlsx": os.urandom(3 * CHUNK + 5), "photos/a.jpg": os.urandom(CHUNK),
             "photos/empty.jpg": b""}
    pieces = [piece async for piece in zips.stream_zip(entries(files))]
    assert max(len(p) for p in pieces) <= CHUNK  # one chunk at a time, never an entry whole
    archive = zipfile.ZipFile(io.BytesIO(b"".join(pieces)))
    assert archive.testzip() is None
    assert {name: archive.read(name) for name in archive.namelist()} == files
    assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())


async def test_an_unknown_size_still_makes_an_archive():
    data = os.urandom(2 * CHUNK)
    pieces = [p async for p in zips.stream_zip(_one(zips.Entry("x.bin", None, chunks_of(data))))]
    assert zipfile.ZipFile(io.BytesIO(b"".join(pieces))).read("x.bin") == data


async def _one(entry):
    yield entry


async def test_an_abandoned_download_closes_the_entry_being_read_and_those_to_come():
    closed: list[str] = []
    stream = zips.stream_zip(entries({"a.bin": os.urandom(3 * CHUNK), "b.bin": b"b"}, closed))
    await anext(stream)  # the header of a.bin
    await anext(stream)  # its first chunk
    await stream.aclose()
    assert closed == ["a.bin", "entries"]
