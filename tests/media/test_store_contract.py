"""The contract every PhotoStore keeps; runs once per implementation (the `store` fixture in conftest)."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import datetime, timedelta, timezone

import pytest

from media.errors import InvalidHash, PhotoNotFound, UnknownVariant
from media.store import CHUNK_SIZE, PhotoStore
from photo_factories import sha256_of, temp_files, write_temp

PHOTO = b"\xff\xd8\xff" + b"photo bytes " * 1000
NOT_HASHES = ["", "abc", "0" * 63, "0" * 65, "g" * 64, "../../etc/passwd", "../" * 21 + "a", "0" * 62 + "/x"]


async def stored(store: PhotoStore, data: bytes = PHOTO) -> str:
    sha = sha256_of(data)
    assert await store.put(sha, write_temp(store, data)) is True
    return sha


async def test_a_new_photo_is_stored_and_can_be_read_back(store: PhotoStore) -> None:
    sha = sha256_of(PHOTO)
    assert not await store.exists(sha)

    assert await store.put(sha, write_temp(store, PHOTO)) is True

    assert await store.exists(sha)
    assert await store.size(sha) == len(PHOTO)
    stream = await store.open(sha)
    assert stream.size == len(PHOTO)
    assert await stream.read() == PHOTO


async def test_put_consumes_the_temp_file(store: PhotoStore) -> None:
    await stored(store)
    assert temp_files(store) == []


async def test_storing_a_stored_photo_again_answers_false_and_keeps_the_first(store: PhotoStore) -> None:
    sha = await stored(store)
    first_stored_at = await store.stored_at(sha)
    await asyncio.sleep(0.02)

    assert await store.put(sha, write_temp(store, PHOTO)) is False

    assert await (await store.open(sha)).read() == PHOTO
    assert await store.stored_at(sha) == first_stored_at
    assert temp_files(store) == []


async def test_concurrent_uploads_of_one_photo_store_it_exactly_once(store: PhotoStore) -> None:
    sha = sha256_of(PHOTO)
    results = await asyncio.gather(*(store.put(sha, write_temp(store, PHOTO)) for _ in range(8)))
    assert sorted(results) == [False] * 7 + [True]
    assert await (await store.open(sha)).read() == PHOTO
    assert temp_files(store) == []


async def test_a_large_photo_streams_in_several_chunks(store: PhotoStore) -> None:
    data = os.urandom(3 * CHUNK_SIZE + 17)
    sha = await stored(store, data)
    chunks = [chunk async for chunk in await store.open(sha)]
    assert len(chunks) > 1
    assert b"".join(chunks) == data


async def test_a_missing_photo_is_reported_before_any_byte_is_sent(store: PhotoStore) -> None:
    sha = sha256_of(b"never uploaded")
    assert not await store.exists(sha)
    with pytest.raises(PhotoNotFound) as raised:
        await store.open(sha)
    assert raised.value.detail == "未找到该照片"
    with pytest.raises(PhotoNotFound):
        await store.size(sha)
    with pytest.raises(PhotoNotFound):
        await store.stored_at(sha)


async def test_stored_at_is_the_time_of_storing(store: PhotoStore) -> None:
    sha = await stored(store)
    assert abs(await store.stored_at(sha) - datetime.now(timezone.utc)) < timedelta(minutes=1)


@pytest.mark.parametrize("name", NOT_HASHES)
async def test_a_name_that_is_not_a_sha256_is_refused_everywhere(store: PhotoStore, name: str) -> None:
    for call in (store.exists, store.open, store.size, store.delete, store.stored_at):
        with pytest.raises(InvalidHash):
            await call(name)
    with pytest.raises(InvalidHash):
        await store.put(name, write_temp(store, PHOTO))
    with pytest.raises(InvalidHash):
        await store.put_derived(name, "thumb", b"x")


async def test_an_upper_case_name_is_the_same_photo(store: PhotoStore) -> None:
    sha = await stored(store)
    assert await store.exists(sha.upper())
    assert await store.put(sha.upper(), write_temp(store, PHOTO)) is False


async def test_derived_images_are_stored_beside_the_photo_and_may_be_remade(store: PhotoStore) -> None:
    sha = await stored(store)
    assert not await store.exists_derived(sha, "thumb")

    await store.put_derived(sha, "thumb", b"first thumbnail")
    await store.put_derived(sha, "large", b"large image")
    await store.put_derived(sha, "thumb", b"remade thumbnail")

    assert await store.exists_derived(sha, "thumb")
    assert await (await store.open_derived(sha, "thumb")).read() == b"remade thumbnail"
    assert await (await store.open_derived(sha, "large")).read() == b"large image"
    assert await (await store.open(sha)).read() == PHOTO
    assert temp_files(store) == []


async def test_a_missing_derived_image_is_reported(store: PhotoStore) -> None:
    sha = await stored(store)
    with pytest.raises(PhotoNotFound):
        await store.open_derived(sha, "large")


@pytest.mark.parametrize("variant", ["small", "", "../thumb", "THUMB"])
async def test_an_unknown_variant_is_refused(store: PhotoStore, variant: str) -> None:
    sha = await stored(store)
    with pytest.raises(UnknownVariant):
        await store.put_derived(sha, variant, b"x")
    with pytest.raises(UnknownVariant):
        await store.exists_derived(sha, variant)


async def test_delete_removes_the_photo_and_its_derived_images(store: PhotoStore) -> None:
    sha = await stored(store)
    await store.put_derived(sha, "thumb", b"thumbnail")

    assert await store.delete(sha) is True

    assert not await store.exists(sha)
    assert not await store.exists_derived(sha, "thumb")
    assert await store.delete(sha) is False
    # Once deleted, the same photo can be uploaded again.
    assert await store.put(sha, write_temp(store, PHOTO)) is True


async def test_list_hashes_gives_every_stored_photo(store: PhotoStore) -> None:
    assert [sha async for sha in store.list_hashes()] == []
    shas = {await stored(store, PHOTO + bytes([i])) for i in range(20)}
    await store.put_derived(next(iter(shas)), "thumb", b"thumbnail")
    write_temp(store, b"an upload in progress")

    assert {sha async for sha in store.list_hashes()} == shas


async def test_list_hashes_is_in_ascending_order_and_starts_after_a_given_hash(store: PhotoStore) -> None:
    # 40 photos spread over many first characters: the local store's shards, the S3 listing's pages.
    shas = sorted([await stored(store, PHOTO + b"%d" % i) for i in range(40)])

    assert [sha async for sha in store.list_hashes()] == shas
    assert [sha async for sha in store.list_hashes(after=shas[16])] == shas[17:]
    assert [sha async for sha in store.list_hashes(after=shas[-1])] == []
    assert [sha async for sha in store.list_hashes(after="0" * 64)] == shas
    listed = [item async for item in store.list_stored(after=shas[37])]
    assert listed == [(sha, await store.stored_at(sha)) for sha in shas[38:]]


async def test_cleanup_temp_removes_what_a_crash_left_behind(store: PhotoStore) -> None:
    sha = await stored(store)
    for i in range(3):
        write_temp(store, b"half an upload %d" % i)

    assert await store.cleanup_temp() == 3

    assert temp_files(store) == []
    assert await store.exists(sha)


async def test_cleanup_temp_can_spare_uploads_still_in_progress(store: PhotoStore) -> None:
    old, fresh = write_temp(store, b"left by a crash"), write_temp(store, b"still arriving")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))

    assert await store.cleanup_temp(older_than=600) == 1

    assert temp_files(store) == [os.path.basename(fresh)]


async def test_check_passes_on_a_writable_store_and_leaves_nothing_behind(store: PhotoStore) -> None:
    await store.check()
    assert temp_files(store) == []
