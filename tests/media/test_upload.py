"""Receiving an upload: hashed while streamed to disk, limits enforced on the way, nothing left behind on error."""

from __future__ import annotations

import asyncio
import hashlib
import tracemalloc
from collections.abc import AsyncIterator

import pytest

from media.errors import EmptyBody, HashMismatch, InvalidHash, TooLarge
from media.store import PhotoStore
from media.upload import receive
from photo_factories import chunks_of, sha256_of, temp_files

PHOTO = b"\xff\xd8\xff" + bytes(range(256)) * 2000  # about 500 KB
MB = 1024 * 1024


async def test_an_upload_lands_in_a_temp_file_with_its_hash_and_size(store: PhotoStore) -> None:
    received = await receive(chunks_of(PHOTO), store, expected_sha256=sha256_of(PHOTO), max_bytes=MB)

    assert (received.sha256, received.size) == (sha256_of(PHOTO), len(PHOTO))
    assert received.path.startswith(str(store.temp_dir))
    with open(received.path, "rb") as f:
        assert f.read() == PHOTO

    assert await store.put(received.sha256, received.path) is True
    assert temp_files(store) == []


async def test_the_hash_name_may_be_upper_case(store: PhotoStore) -> None:
    received = await receive(chunks_of(PHOTO), store, expected_sha256=sha256_of(PHOTO).upper(), max_bytes=MB)
    async with received:
        assert received.sha256 == sha256_of(PHOTO)


async def test_bytes_that_do_not_match_their_name_are_refused(store: PhotoStore) -> None:
    damaged = PHOTO[:-1] + b"\x00"
    with pytest.raises(HashMismatch) as raised:
        await receive(chunks_of(damaged), store, expected_sha256=sha256_of(PHOTO), max_bytes=MB)
    assert raised.value.actual == sha256_of(damaged)
    assert "SHA-256" in raised.value.detail
    assert temp_files(store) == []


async def test_an_empty_body_is_refused(store: PhotoStore) -> None:
    with pytest.raises(EmptyBody):
        await receive(chunks_of(b""), store, expected_sha256=sha256_of(b""), max_bytes=MB)
    assert temp_files(store) == []


async def test_a_name_that_is_not_a_sha256_is_refused_before_reading(store: PhotoStore) -> None:
    body = counting(PHOTO)
    with pytest.raises(InvalidHash):
        await receive(body, store, expected_sha256="../" * 21 + "a", max_bytes=MB)
    assert body.taken == 0
    assert temp_files(store) == []


async def test_a_body_past_the_limit_is_refused_without_reading_the_rest(store: PhotoStore) -> None:
    body = counting(b"x" * (10 * MB), size=64 * 1024)
    with pytest.raises(TooLarge) as raised:
        await receive(body, store, expected_sha256=sha256_of(b"x" * (10 * MB)), max_bytes=MB)
    assert body.taken == 17  # 16 chunks make exactly 1 MB; the 17th passes the limit
    assert raised.value.max_bytes == MB
    assert "1 MB" in raised.value.detail
    assert temp_files(store) == []


async def test_a_body_of_exactly_the_limit_is_accepted(store: PhotoStore) -> None:
    async with await receive(chunks_of(PHOTO), store, expected_sha256=sha256_of(PHOTO), max_bytes=len(PHOTO)):
        pass
    assert temp_files(store) == []


async def test_a_dropped_connection_leaves_no_temp_file(store: PhotoStore) -> None:
    async def dropped() -> AsyncIterator[bytes]:
        yield PHOTO[:300_000]
        raise ConnectionResetError("phone lost its signal")

    with pytest.raises(ConnectionResetError):
        await receive(dropped(), store, expected_sha256=sha256_of(PHOTO), max_bytes=MB)
    assert temp_files(store) == []


async def test_a_cancelled_upload_leaves_no_temp_file(store: PhotoStore) -> None:
    arrived = asyncio.Event()

    async def stalled() -> AsyncIterator[bytes]:
        yield PHOTO[:300_000]
        arrived.set()
        await asyncio.sleep(3600)
        yield b""

    task = asyncio.create_task(receive(stalled(), store, expected_sha256=sha256_of(PHOTO), max_bytes=MB))
    await arrived.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert temp_files(store) == []


async def test_a_received_photo_the_caller_rejects_is_removed(store: PhotoStore) -> None:
    with pytest.raises(ValueError):
        async with await receive(chunks_of(PHOTO), store, expected_sha256=sha256_of(PHOTO), max_bytes=MB):
            assert len(temp_files(store)) == 1
            raise ValueError("not a readable image")
    assert temp_files(store) == []


async def test_a_large_upload_is_never_held_in_memory_whole(store: PhotoStore) -> None:
    block = bytes(range(256)) * 256  # 64 KB, sent 320 times: 20 MB
    expected = hashlib.sha256(block * 320).hexdigest()

    async def body() -> AsyncIterator[bytes]:
        for _ in range(320):
            yield block

    tracemalloc.start()
    try:
        async with await receive(body(), store, expected_sha256=expected, max_bytes=50 * MB) as received:
            _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received.size == 20 * MB
    assert peak < 2 * MB


class counting:
    """A request body that counts how many chunks the reader took."""

    def __init__(self, data: bytes, size: int = 64 * 1024) -> None:
        self.chunks = [data[i : i + size] for i in range(0, len(data), size)]
        self.taken = 0

    def __aiter__(self) -> counting:
        return self

    async def __anext__(self) -> bytes:
        if self.taken == len(self.chunks):
            raise StopAsyncIteration
        self.taken += 1
        return self.chunks[self.taken - 1]
