"""Thumbnails after the answer: made in the background once uploads pause, or at once when asked for."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from media.errors import PhotoNotFound
from media.ingest import store_photo
from media.store import VARIANTS, PhotoStore
from media.thumbnails import QUIET, Thumbnails
from media.workers import ImageWorkers
from photo_factories import GPS_PHOTO, chunks_of, sha256_of


@pytest.fixture
async def thumbnails(store: PhotoStore) -> AsyncIterator[Thumbnails]:
    workers = ImageWorkers(1)
    made = Thumbnails(store, workers)
    yield made
    await made.close()
    workers.shutdown()


async def stored(store: PhotoStore, thumbnails: Thumbnails) -> str:
    photo = GPS_PHOTO.read_bytes()
    sha = sha256_of(photo)
    await store_photo(chunks_of(photo), store, expected_sha256=sha, declared_type="image/jpeg", max_bytes=10**7)
    return sha


async def made(store: PhotoStore, sha: str) -> list[bool]:
    return [await store.exists_derived(sha, v) for v in sorted(VARIANTS)]


async def test_background_thumbnails_wait_while_a_photo_is_being_received(
    store: PhotoStore, thumbnails: Thumbnails
) -> None:
    sha = await stored(store, thumbnails)
    with thumbnails.receiving():
        thumbnails.make_later(sha)
        await asyncio.sleep(QUIET * 2)
        assert await made(store, sha) == [False, False]
        assert thumbnails.waiting == 1  # what /metrics shows as thumbnail work waiting

    await thumbnails.settle()

    assert await made(store, sha) == [True, True]
    assert thumbnails.waiting == 0


async def test_a_thumbnail_asked_for_is_made_at_once_even_while_photos_arrive(
    store: PhotoStore, thumbnails: Thumbnails
) -> None:
    sha = await stored(store, thumbnails)
    with thumbnails.receiving():
        thumb = await asyncio.wait_for(thumbnails.open(sha, "thumb"), timeout=QUIET * 10)
        assert (await thumb.read())[:3] == b"\xff\xd8\xff"
        assert await made(store, sha) == [True, True]  # both from the one decoding


async def test_a_thumbnail_read_whole_is_made_on_first_read_and_the_same_after(
    store: PhotoStore, thumbnails: Thumbnails
) -> None:
    sha = await stored(store, thumbnails)

    first = await thumbnails.read(sha, "thumb")

    assert first[:3] == b"\xff\xd8\xff" and await made(store, sha) == [True, True]
    assert await thumbnails.read(sha, "thumb") == first == await (await thumbnails.open(sha, "thumb")).read()
    with pytest.raises(PhotoNotFound):
        await thumbnails.read("ab" * 32, "thumb")  # no such photo: nothing to make it from


async def test_closing_drops_what_waits_and_finishes_what_is_being_made(
    store: PhotoStore, thumbnails: Thumbnails
) -> None:
    waiting = await stored(store, thumbnails)
    with thumbnails.receiving():
        thumbnails.make_later(waiting)
        await thumbnails.close()
    await asyncio.sleep(QUIET * 2)
    assert await made(store, waiting) == [False, False]

    workers = ImageWorkers(1)
    fresh = Thumbnails(store, workers)
    fresh.make_later(waiting)
    while not fresh.being_made:  # past its quiet moment
        await asyncio.sleep(0.005)
    await fresh.close()
    workers.shutdown()
    assert await made(store, waiting) == [True, True] and not list(store.temp_dir.iterdir())
