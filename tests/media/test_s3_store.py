"""What only the S3 store promises, against a real S3 server (SeaweedFS): its keys, prefixes that keep deployments
apart, large photos sent in parts, nothing sent again for a stored photo."""

from __future__ import annotations

import asyncio
import os

import obstore

from media.s3 import PART_BYTES, S3PhotoStore
from photo_factories import sha256_of, temp_files, write_temp

PHOTO = b"\xff\xd8\xff" + b"s3 photo " * 500


async def test_photos_derived_images_and_blobs_have_flat_keys_under_the_prefix(s3_server, tmp_path) -> None:
    store = s3_server.store(tmp_path / "tmp", prefix="north")
    sha = sha256_of(PHOTO)
    await store.put(sha, write_temp(store, PHOTO))
    await store.put_derived(sha, "thumb", b"thumbnail")
    await store.put_blob("exports/a.zip", _chunks(b"zip"))

    keys = sorted(meta["path"] for page in obstore.list(s3_server.client(s3_server.bucket), "north")
                  for meta in page)

    assert keys == ["north/blobs/exports/a.zip", f"north/derived/thumb/{sha}.jpg", f"north/originals/{sha}"]


async def test_two_prefixes_in_one_bucket_do_not_see_each_other(s3_server, tmp_path) -> None:
    north, south = s3_server.store(tmp_path / "n"), s3_server.store(tmp_path / "s")
    sha = sha256_of(PHOTO)
    await north.put(sha, write_temp(north, PHOTO))

    assert not await south.exists(sha)
    assert [s async for s in south.list_hashes()] == [] and [s async for s in north.list_hashes()] == [sha]
    assert await south.put(sha, write_temp(south, PHOTO)) is True


async def test_a_photo_larger_than_one_put_is_sent_in_parts(s3_server, tmp_path) -> None:
    store = s3_server.store(tmp_path / "tmp")
    small_puts = S3PhotoStore(bucket=store.bucket, temp_dir=tmp_path / "tmp", endpoint=s3_server.endpoint,
                              access_key_id=s3_server.access_key_id, secret_access_key=s3_server.secret_access_key,
                              prefix=store.prefix, single_put_bytes=1024 * 1024)
    data = os.urandom(PART_BYTES + 12345)
    sha = sha256_of(data)

    assert await small_puts.put(sha, write_temp(small_puts, data)) is True
    assert await small_puts.put(sha, write_temp(small_puts, data)) is False  # checked first: not sent again

    head = await obstore.head_async(s3_server.client(store.bucket), f"{store.prefix}/originals/{sha}")
    assert head["e_tag"].endswith('-2"')  # two parts
    assert await (await store.open(sha)).read() == data and temp_files(small_puts) == []


async def test_a_retry_of_a_stored_photo_does_not_rewrite_it(s3_server, tmp_path) -> None:
    store = s3_server.store(tmp_path / "tmp")
    sha = sha256_of(PHOTO)
    await store.put(sha, write_temp(store, PHOTO))
    key = f"{store.prefix}/originals/{sha}"
    before = await obstore.head_async(s3_server.client(store.bucket), key)
    await asyncio.sleep(1.1)  # S3 times are in whole seconds: a rewrite now would show in it

    assert await store.put(sha, write_temp(store, PHOTO)) is False

    after = await obstore.head_async(s3_server.client(store.bucket), key)
    assert (after["e_tag"], after["last_modified"]) == (before["e_tag"], before["last_modified"])


async def _chunks(data: bytes):
    yield data
