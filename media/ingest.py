"""One uploaded photo from body to store: received, checked, stored in a crash-safe order; its thumbnails later."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from media.images import DEFAULT_MAX_PIXELS, ImageInfo, inspect, normalize_media_type
from media.shrinking import VARIANT_SIDES, make_thumbnails, thumbnails_cost
from media.store import PhotoStore
from media.upload import receive
from media.workers import ImageWorkers, Slot, default_image_workers


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
    """Receive, check and store one photo; raises the errors of `media.errors`.

    Its thumbnails are not made here (see `media.thumbnails`): decoding a 12 MP photo takes longer than receiving
    and storing it, and a phone in a weak signal should hear that its photo is safe as soon as it is.
    A retry is checked again too, so that the caller can record the evidence if its first attempt never did.
    """
    media_type = normalize_media_type(declared_type)  # an unaccepted type is refused before a byte is read
    workers = workers or default_image_workers()
    received = await receive(chunks, store, expected_sha256=expected_sha256, max_bytes=max_bytes)
    async with received:  # removes the temporary file unless `put` took it
        # The check decodes no pixel; it holds at most the file (the WebP and HEIC decoders read it all at opening).
        info = await workers.run_within(received.size, inspect, received.path, media_type, max_pixels=max_pixels)
        created = await store.put(received.sha256, received.path)
    return StoredPhoto(sha256=received.sha256, size=received.size, created=created, info=info)


async def make_derived(store: PhotoStore, sha256: str, slot: Slot, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
    """Make whichever derived images of a stored photo are missing, all from one decoding of it.

    `slot` is a place held in an image pool (`ImageWorkers.slot`), so that the photo's bytes count against the
    pool's bound; its pixels and the results are held within the memory budget, from what its header says they
    need. Raises ImageRejected when the photo cannot be decoded, PhotoNotFound when it is not stored.
    """
    missing = {v: side for v, side in VARIANT_SIDES.items() if not await store.exists_derived(sha256, v)}
    if not missing:
        return
    photo = await (await store.open(sha256)).read()
    cost = await slot(thumbnails_cost, photo, missing, max_pixels=max_pixels)
    async with slot.hold(cost):
        made = await slot(make_thumbnails, photo, missing, max_pixels=max_pixels)
    for variant, data in made.items():
        await store.put_derived(sha256, variant, data)
