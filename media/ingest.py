"""One uploaded photo from body to store: received, checked, thumbnails made, stored, in a crash-safe order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from media.images import DEFAULT_MAX_PIXELS, VARIANT_SIDES, ImageInfo, inspect, make_thumbnail, normalize_media_type
from media.store import PhotoStore
from media.upload import receive
from media.workers import ImageWorkers, run_image_job


@dataclass(frozen=True)
class StoredPhoto:
    sha256: str
    size: int
    created: bool  # False for a retry of a photo already stored: answer 200, not 201
    info: ImageInfo


async def store_photo(
    chunks: AsyncIterator[bytes],
    store: PhotoStore,
    *,
    expected_sha256: str,
    declared_type: str,
    max_bytes: int,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    workers: ImageWorkers | None = None,
) -> StoredPhoto:
    """Receive, check and store one photo with its derived images; raises the errors of `media.errors`.

    Derived images are stored before the original: once an original is in the store its thumbnails are too, so a
    crash between the two steps is repaired by the phone's retry, and a stored photo never lacks a thumbnail.
    A retry is checked again too, so that the caller can record the evidence if its first attempt never did.
    """
    media_type = normalize_media_type(declared_type)  # an unaccepted type is refused before a byte is read
    run = workers.run if workers is not None else run_image_job
    received = await receive(chunks, store, expected_sha256=expected_sha256, max_bytes=max_bytes)
    async with received:  # removes the temporary file unless `put` took it
        info = await run(inspect, received.path, media_type, max_pixels=max_pixels)
        for variant, side in VARIANT_SIDES.items():
            if not await store.exists_derived(received.sha256, variant):
                data = await run(make_thumbnail, received.path, side, max_pixels=max_pixels)
                await store.put_derived(received.sha256, variant, data)
        created = await store.put(received.sha256, received.path)
    return StoredPhoto(sha256=received.sha256, size=received.size, created=created, info=info)
