"""The blob half of the store contract (files the server makes, such as area exports); runs once per implementation."""

from __future__ import annotations

import hashlib
import os

import pytest

from media.blobs import BATCH_BYTES
from media.errors import BlobNotFound, InvalidBlobKey
from media.store import PhotoStore

KEY = "exports/5b0c5a64-1f7e-4c53-9a51-0d3c8f1a2b10-1.zip"


async def chunks_of(data: bytes, size: int = 100_000):
    for at in range(0, len(data), size):
        yield data[at:at + size]


async def test_a_blob_is_stored_from_its_chunks_and_read_back_whole_or_by_range(store: PhotoStore) -> None:
    data = os.urandom(3 * BATCH_BYTES + 12345)

    info = await store.put_blob(KEY, chunks_of(data))

    assert (info.size, info.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert await (await store.open_blob(KEY)).read() == data
    middle = await store.open_blob(KEY, 1000, 2_000_000)
    assert middle.size == 1_999_000 and await middle.read() == data[1000:2_000_000]
    tail = await store.open_blob(KEY, len(data) - 10)
    assert await tail.read() == data[-10:]
    assert (await store.open_blob(KEY, 5, 10 ** 12)).size == len(data) - 5


async def test_a_blob_whose_making_fails_leaves_nothing_behind(store: PhotoStore) -> None:
    async def failing():
        yield os.urandom(2 * BATCH_BYTES)
        raise RuntimeError("the export broke")

    with pytest.raises(RuntimeError):
        await store.put_blob(KEY, failing())

    with pytest.raises(BlobNotFound):
        await store.open_blob(KEY)
    assert list(store.temp_dir.iterdir()) == []


async def test_a_blob_is_replaced_and_deleted(store: PhotoStore) -> None:
    await store.put_blob(KEY, chunks_of(b"first"))
    await store.put_blob(KEY, chunks_of(b"second"))
    assert await (await store.open_blob(KEY)).read() == b"second"

    assert await store.delete_blob(KEY) is True
    assert await store.delete_blob(KEY) is False
    with pytest.raises(BlobNotFound):
        await store.open_blob(KEY)


async def test_an_empty_blob_is_a_blob(store: PhotoStore) -> None:
    info = await store.put_blob(KEY, chunks_of(b""))
    assert info.size == 0 and (await store.open_blob(KEY)).size == 0


@pytest.mark.parametrize("key", ["", "../x", "exports/../../x", "/etc/passwd", "a/./b", "a//b", "a\\b", "导出.zip"])
async def test_a_key_that_could_leave_the_store_is_refused(store: PhotoStore, key: str) -> None:
    with pytest.raises(InvalidBlobKey):
        await store.put_blob(key, chunks_of(b"x"))
    with pytest.raises(InvalidBlobKey):
        await store.open_blob(key)
    with pytest.raises(InvalidBlobKey):
        await store.delete_blob(key)
