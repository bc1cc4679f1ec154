"""A photo's whole way in, as the upload route drives it: what gets stored, what a retry does, what a refusal leaves."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from PIL import Image

from media.errors import HashMismatch, ImageRejected, TooLarge, UnsupportedType
from media.ingest import make_derived, store_photo
from media.store import VARIANTS, PhotoStore
from media.workers import ImageWorkers
from photo_factories import chunks_of, sha256_of, temp_files

MB = 1024 * 1024


@pytest.fixture
def workers() -> Iterator[ImageWorkers]:
    pool = ImageWorkers(max_workers=2)
    yield pool
    pool.shutdown()


async def upload(store: PhotoStore, workers: ImageWorkers, data: bytes, **overrides: object):
    args = {"expected_sha256": sha256_of(data), "declared_type": "image/jpeg", "max_bytes": MB} | overrides
    return await store_photo(chunks_of(data), store, workers=workers, **args)


async def nothing_stored(store: PhotoStore, sha: str) -> bool:
    exists = [await store.exists(sha)] + [await store.exists_derived(sha, v) for v in VARIANTS]
    return not any(exists) and temp_files(store) == []


async def test_a_photo_is_stored_with_its_evidence_and_its_thumbnails_are_made_after(
    store: PhotoStore, workers: ImageWorkers, camera_photo: bytes
) -> None:
    stored = await upload(store, workers, camera_photo)

    assert (stored.sha256, stored.size, stored.created) == (sha256_of(camera_photo), len(camera_photo), True)
    assert stored.info.gps is not None and stored.info.taken_at is not None
    assert await (await store.open(stored.sha256)).read() == camera_photo
    assert not any([await store.exists_derived(stored.sha256, v) for v in VARIANTS])
    assert temp_files(store) == []

    async with workers.slot() as run:
        await make_derived(store, stored.sha256, run)

    for variant, side in (("thumb", 320), ("large", 640)):
        thumbnail = Image.open(io.BytesIO(await (await store.open_derived(stored.sha256, variant)).read()))
        assert max(thumbnail.size) == side and len(thumbnail.getexif()) == 0
    assert temp_files(store) == []


async def test_only_missing_thumbnails_are_made(store: PhotoStore, workers: ImageWorkers, camera_photo: bytes) -> None:
    stored = await upload(store, workers, camera_photo)
    await store.put_derived(stored.sha256, "large", b"kept as it is")

    async with workers.slot() as run:
        await make_derived(store, stored.sha256, run)

    assert await (await store.open_derived(stored.sha256, "large")).read() == b"kept as it is"
    assert await store.exists_derived(stored.sha256, "thumb")


async def test_thumbnails_of_a_photo_that_cannot_be_decoded_are_refused(
    store: PhotoStore, workers: ImageWorkers, camera_photo: bytes
) -> None:
    # Whole in structure, so accepted at upload, but its scan names a colour component the frame lacks.
    damaged = bytearray(camera_photo)
    damaged[camera_photo.index(b"\xff\xda", 4 + int.from_bytes(camera_photo[4:6], "big")) + 5] = 9
    damaged = bytes(damaged)
    stored = await upload(store, workers, damaged)

    with pytest.raises(ImageRejected):
        async with workers.slot() as run:
            await make_derived(store, stored.sha256, run)
    assert not any([await store.exists_derived(stored.sha256, v) for v in VARIANTS])


async def test_a_retry_answers_not_created_and_changes_nothing(
    store: PhotoStore, workers: ImageWorkers, camera_photo: bytes
) -> None:
    first = await upload(store, workers, camera_photo)
    stored_at = await store.stored_at(first.sha256)

    again = await upload(store, workers, camera_photo)

    assert again.created is False and again.info == first.info
    assert await store.stored_at(first.sha256) == stored_at
    assert temp_files(store) == []


async def test_a_failure_while_storing_is_repaired_by_the_retry(
    store: PhotoStore, workers: ImageWorkers, camera_photo: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def disk_full(sha256: str, source_path: str) -> bool:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(store, "put", disk_full)
        with pytest.raises(OSError):
            await upload(store, workers, camera_photo)
    sha = sha256_of(camera_photo)
    assert not await store.exists(sha) and temp_files(store) == []

    stored = await upload(store, workers, camera_photo)

    assert stored.created is True and await store.exists(sha)


async def test_an_unaccepted_type_is_refused_before_reading_the_body(
    store: PhotoStore, workers: ImageWorkers, camera_photo: bytes
) -> None:
    read = False

    async def body() -> AsyncIterator[bytes]:
        nonlocal read
        read = True
        yield camera_photo

    with pytest.raises(UnsupportedType):
        await store_photo(
            body(), store, expected_sha256=sha256_of(camera_photo), declared_type="image/gif", max_bytes=MB,
            workers=workers,
        )
    assert not read


@pytest.mark.parametrize(
    "sent, overrides, error",
    [
        (lambda photo: photo, {"expected_sha256": sha256_of(b"another photo")}, HashMismatch),
        (lambda photo: photo, {"max_bytes": 100_000}, TooLarge),
        (lambda photo: photo[: len(photo) // 2], {}, ImageRejected),
        (lambda photo: photo, {"declared_type": "image/png"}, ImageRejected),
        (lambda photo: b"\x89PNG\r\n\x1a\n" + b"not really" * 100, {"declared_type": "image/png"}, ImageRejected),
    ],
    ids=["wrong-hash", "too-large", "truncated", "type-lies", "fake-png"],
)
async def test_a_refused_photo_leaves_nothing_behind(
    store: PhotoStore, workers: ImageWorkers, camera_photo: bytes, sent: Callable[[bytes], bytes], overrides: dict,
    error: type[Exception],
) -> None:
    data = sent(camera_photo)
    with pytest.raises(error):
        await upload(store, workers, data, **overrides)
    assert await nothing_stored(store, sha256_of(data))
