"""Photos from the field by content: upload (checked, synced, then recorded), presence for retries, scoped reading,
and the report of stored photos no submission refers to.

The order matters for a crash at any instant: the photo layer syncs the file into place under its hash, and only
then is the row written; a row therefore never points to a missing file, and a file without a row is simply
uploaded again by the phone (HEAD says it is not there) and recorded then.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError

from media import errors as media_errors
from media.ingest import store_photo
from media.store import LocalPhotoStore, PhotoStore, PhotoStream, normalize_sha256
from media.thumbnails import Thumbnails
from media.memory import MemoryBudget
from media.workers import ImageWorkers
from server.core import audit
from server.core.caller import Caller
from server.core.clock import now
from server.core.problems import (AttachmentNotFound, FieldProblem, PhotoRejected, ThumbnailUnavailable, TooLarge,
                                  UnsupportedMediaType, invalid)
from server.core.scope import visible
from server.needs.reading import visible_needs
from server.models import Attachment, NeedAttachment, PhotoHolder, SubmissionAttachment
from server.settings import Settings

SIZES = {"thumb": "thumb", "large": "large"}
MAX_ORPHAN_HOURS = 10 * 366 * 24  # ten years: far enough back for any report, and within what a date can hold


def photo_store(settings: Settings) -> PhotoStore:
    """The store the settings name: the one place that picks it, for the server and the command line alike."""
    if settings.photo_store == "s3":
        from media.s3 import S3PhotoStore  # its client loads only where it is used

        return S3PhotoStore(
            bucket=settings.s3_bucket, endpoint=settings.s3_endpoint, region=settings.s3_region,
            access_key_id=settings.s3_access_key_id, secret_access_key=settings.s3_secret_access_key,
            prefix=settings.s3_prefix, temp_dir=settings.resolved_media_dir / "tmp",
        )
    return LocalPhotoStore(settings.resolved_media_dir)


def image_workers(settings: Settings) -> ImageWorkers:
    """The threads that decode photos, within the memory budget the settings give, for the server and the command
    line alike."""
    return ImageWorkers(settings.image_workers, MemoryBudget.megabytes(settings.image_memory_mb))


def orphan_hours(text: str) -> int:
    """The report's age limit as written by a person: whole hours, 0 to ten years."""
    if not (text.isascii() and text.isdigit() and int(text) <= MAX_ORPHAN_HOURS):
        raise invalid("/hours", f"应为 0 到 {MAX_ORPHAN_HOURS} 之间的小时数")
    return int(text)


async def upload(caller: Caller, settings: Settings, store: PhotoStore, workers: ImageWorkers, thumbnails: Thumbnails,
                 name: str, content_type: str, declared_length: str | None,
                 chunks: AsyncIterator[bytes]) -> tuple[Attachment, bool]:
    """Store one photo and record it; returns (attachment, created). A retry of a stored photo is not rewritten.
    Its thumbnails are made after the answer."""
    try:
        sha256 = normalize_sha256(name)
    except media_errors.InvalidHash as e:
        raise invalid("/sha256", e.detail) from None
    if declared_length and declared_length.isdigit() and int(declared_length) > settings.max_photo_bytes:
        # Refused before a byte is read; the connection is closed rather than drained.
        raise _too_large(settings.max_photo_bytes)
    try:
        with thumbnails.receiving():
            stored = await store_photo(
                chunks, store, expected_sha256=sha256, declared_type=content_type or "",
                max_bytes=settings.max_photo_bytes, max_pixels=settings.max_image_pixels, workers=workers,
            )
    except media_errors.TooLarge:
        raise _too_large(settings.max_photo_bytes) from None
    except media_errors.UnsupportedType as e:
        raise UnsupportedMediaType(e.detail) from None
    except (media_errors.HashMismatch, media_errors.InvalidHash) as e:
        raise PhotoRejected(errors=[FieldProblem("/sha256", e.detail)]) from None
    except (media_errors.EmptyBody, media_errors.ImageRejected) as e:
        raise PhotoRejected(errors=[FieldProblem("", e.detail)]) from None
    info = stored.info
    taken_at = info.taken_at
    if taken_at is not None and taken_at.tzinfo is None:
        # Cameras mostly write local time without an offset: read it in the stations' time zone.
        taken_at = taken_at.replace(tzinfo=ZoneInfo(settings.station_timezone))
    row = Attachment(
        sha256=sha256, media_type=info.media_type, size=stored.size, width=info.width, height=info.height,
        taken_at=taken_at, latitude=info.gps[0] if info.gps else None, longitude=info.gps[1] if info.gps else None,
        uploaded_by_id=caller.id, created_at=now(),
    )
    thumbnails.make_later(sha256)  # a retry too: its first attempt may have ended before they were made
    try:
        await row.save(force_create=True)
        created = True
    except IntegrityError:
        row, created = await Attachment.get(sha256=sha256), False
    try:
        # The bytes prove possession: from now on this caller may use and open the photo, as its first sender may.
        await PhotoHolder.create(attachment_id=sha256, user_id=caller.id, at=now())
    except IntegrityError:
        pass  # held already
    return row, created


def _too_large(limit: int) -> TooLarge:
    return TooLarge(f"照片超过 {limit // (1024 * 1024)} MB 的上限。")


async def recorded(caller: Caller, store: PhotoStore, name: str) -> Attachment:
    """For HEAD: the photo is stored and this caller may use it in a submission (it sent the bytes, or may see a
    submission that uses it), so the phone need not send it again. Anyone else, who may know only the hash, gets
    AttachmentNotFound and sends the bytes."""
    row, household_id = await _known(caller, name)
    if household_id is None and not await PhotoHolder.exists(attachment_id=row.sha256, user_id=caller.id):
        raise AttachmentNotFound()
    if not await store.exists(row.sha256):
        raise AttachmentNotFound()
    return row


async def _known(caller: Caller, name: str) -> tuple[Attachment, uuid.UUID | None]:
    """The recorded photo, and the household of a submission or need using it that the caller may see (None if
    none)."""
    try:
        sha256 = normalize_sha256(name)
    except media_errors.InvalidHash:
        raise AttachmentNotFound() from None
    row = await Attachment.get_or_none(sha256=sha256)
    if row is None:
        raise AttachmentNotFound()
    used = (await visible(caller, SubmissionAttachment)).filter(attachment_id=sha256)
    household_id = await used.first().values_list("submission__household_id", flat=True)
    if household_id is None:  # a proof that a service was done, of a need the caller may see
        household_id = await (await visible_needs(caller)).filter(proofs__attachment_id=sha256).first().values_list(
            "household_id", flat=True)
    return row, household_id


@dataclass(frozen=True)
class Photo:
    """A recorded photo (or one of its thumbnails) that the caller may see."""

    sha256: str
    media_type: str
    household_id: uuid.UUID
    size: str | None = None  # a thumbnail's size, None for the original


async def find_photo(caller: Caller, name: str, size: str | None) -> Photo:
    """The original (or a thumbnail) for a caller who may see a submission that uses it; anyone else gets 404, its
    uploader too until a submission uses it (Doorstep keeps visit photos, not files). Nothing is read from the
    store yet: a phone that has the photo is answered 304 without it."""
    if size is not None and size not in SIZES:
        raise invalid("/size", "尺寸应为 thumb 或 large")
    row, household_id = await _known(caller, name)
    if household_id is None:
        raise AttachmentNotFound()
    return Photo(row.sha256, row.media_type if size is None else "image/jpeg", household_id, size)


async def open_photo(caller: Caller, store: PhotoStore, thumbnails: Thumbnails, photo: Photo) -> PhotoStream:
    try:
        if photo.size is None:
            stream = await store.open(photo.sha256)
            # The original keeps its EXIF, the family's home to the metre among it: who opened it is logged.
            await audit.record(caller, "attachment.read", "attachment", photo.sha256, household_id=photo.household_id)
            return stream
        return await thumbnails.open(photo.sha256, SIZES[photo.size])
    except media_errors.PhotoNotFound:
        raise AttachmentNotFound() from None
    except media_errors.ImageRejected:
        raise ThumbnailUnavailable() from None


ORPHAN_PAGE = 500


async def orphans(store: PhotoStore, older_than_hours: int, cursor: str | None = None,
                  limit: int | None = None) -> tuple[list[dict], str | None]:
    """Stored photos that no submission (nor need, as proof of a service) refers to, stored more than `older_than_hours` ago, by hash after `cursor`:
    (at most `limit` of them, the cursor of the next page). A report: nothing is deleted, because a phone may still
    be on its way with the submission that uses them."""
    after = _orphan_cursor(cursor) if cursor else ""
    cutoff = now() - timedelta(hours=older_than_hours)
    found: list[dict] = []
    candidates: dict[str, datetime] = {}
    # The store lists in hash order from the cursor on: a page stops reading the store once it is full.
    async for sha256, stored_at in store.list_stored(after):
        if stored_at <= cutoff:
            candidates[sha256] = stored_at
        if len(candidates) >= ORPHAN_PAGE:
            found += await _unused(candidates)
            candidates = {}
            if limit is not None and len(found) > limit:
                break
    found += await _unused(candidates)
    if limit is not None and len(found) > limit:
        return found[:limit], found[limit - 1]["sha256"]
    return found, None


async def _unused(candidates: dict[str, datetime]) -> list[dict]:
    """Those of the candidates (hash → stored at, in hash order) that no submission nor need refers to."""
    if not candidates:
        return []
    names = list(candidates)
    used = set(await SubmissionAttachment.filter(attachment_id__in=names).values_list("attachment_id", flat=True))
    used |= set(await NeedAttachment.filter(attachment_id__in=names).values_list("attachment_id", flat=True))
    recorded = {a.sha256: a for a in await Attachment.filter(sha256__in=names)}
    return [_orphan(sha256, candidates[sha256], recorded.get(sha256)) for sha256 in names if sha256 not in used]


def _orphan_cursor(cursor: str) -> str:
    try:
        return normalize_sha256(cursor)
    except media_errors.InvalidHash:
        raise invalid("/cursor", "分页游标无效") from None


def _orphan(sha256: str, stored_at: datetime, row: Attachment | None) -> dict:
    return {
        "id": sha256,
        "sha256": sha256,
        "stored_at": stored_at.isoformat(),
        "recorded": row is not None,
        "uploaded_by": str(row.uploaded_by_id) if row is not None and row.uploaded_by_id else None,
    }


def as_api(row: Attachment) -> dict:
    return {
        "id": row.sha256,  # a photo is named by its content
        "sha256": row.sha256,
        "media_type": row.media_type,
        "size": row.size,
        "width": row.width,
        "height": row.height,
        "taken_at": row.taken_at.isoformat() if row.taken_at else None,
        "location": {"lat": row.latitude, "lon": row.longitude} if row.latitude is not None else None,
        "created_at": row.created_at.isoformat(),
    }
