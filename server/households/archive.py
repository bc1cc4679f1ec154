"""The archive of one household file (一户一档), as a station keeps it or hands it to the bureau: one ZIP holding

- 户档案摘要.pdf: the printable summary in Chinese (`archive_summary`);
- household.json: the file as the API gives it, with its visits, submissions and needs (`archive_contents`);
- photos/: every photo of its visits, the originals as the phones sent them, named by day and form;
- manifest.txt: the SHA-256 of every other entry, in `sha256sum` format (`sha256sum -c manifest.txt` checks them).

The PDF and the JSON are made before the first byte is sent, so that a failure is an honest error and not a cut
download; the photos are then read through the photo store as they are sent, a few MB ahead at most (`_read_ahead`:
a large one a chunk at a time), stored and not compressed again. A photo's line in the manifest is its name, the hash of the bytes the phone sent: a photo the
store has damaged since fails the check (and `doorstep check-store` on the server). A photo recorded but gone from the store
is left out, logged, and named in 缺失照片.txt. ID numbers are masked throughout (`core.sensitive`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections import deque
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from media.errors import PhotoNotFound
from media.store import PhotoStore, PhotoStream
from media.thumbnails import Thumbnails
from server.core import audit, zips
from server.core.caller import Caller
from server.core.clock import now
from server.households import archive_contents, archive_summary
from server.households.archive_contents import Contents, Photo, safe_name
from server.households.registry import get_living
from server.households.summary_render import SummaryRenderer
from server.models import Household
from server.settings import Settings

log = logging.getLogger("doorstep.archive")

SUMMARY = "户档案摘要.pdf"
DOCUMENT = "household.json"
MANIFEST = "manifest.txt"
MISSING = "缺失照片.txt"
WHOLE_LIMIT = 8 * 1024 * 1024  # a photo up to this size is read whole, ahead of its turn; a larger one streamed
AHEAD_BYTES = 8 * 1024 * 1024  # photos read ahead of the one being written, at most (at least the next one)


@dataclass
class Context:
    """What archives are made with: the settings, the photo store, its thumbnails and the summaries' renderer."""

    settings: Settings
    store: PhotoStore
    thumbnails: Thumbnails
    renderer: SummaryRenderer


@dataclass
class Archive:
    filename: str  # in ASCII, for clients that read no other
    title: str  # the name a person sees: 户档案_王喆_20260305.zip
    chunks: AsyncIterator[bytes]


@dataclass
class Gathered:
    """A household read with its batch: its contents, and the batch's submission replies (each household takes its
    own out as it is prepared)."""

    contents: Contents
    replies: dict[str, dict]


@dataclass
class Prepared:
    """What the archive of one household holds apart from its photos' bytes, made before the first byte is sent."""

    household: Household
    pdf: bytes
    document: bytes  # household.json
    photos: list[Photo]


async def archive_household(caller: Caller, context: Context, household_id: str) -> Archive:
    """The archive of a household the caller may see (404 otherwise), recorded in the audit log."""
    household = await get_living(caller, household_id)
    archived_at = now()
    [gathered] = await gather(caller, context, [household])
    prepared = await prepare(caller, context, gathered, archived_at)
    await audit.record(caller, "household.archived", "household", household.id, household_id=household.id,
                       photos=len(prepared.photos))
    day = archived_at.astimezone(ZoneInfo(context.settings.station_timezone)).strftime("%Y%m%d")
    return Archive(f"household-{household.id}-{day}.zip", f"户档案_{safe_name(household.head)}_{day}.zip",
                   zips.stream_zip(entries(prepared, context.store)))


async def gather(caller: Caller, context: Context, households: list[Household]) -> list[Gathered]:
    """A batch of households read from the database in a few queries, in their order."""
    contents = await archive_contents.gather(households, ZoneInfo(context.settings.station_timezone))
    replies = await archive_contents.submission_replies(caller, contents)
    return [Gathered(one, replies) for one in contents]


async def prepare(caller: Caller, context: Context, gathered: Gathered, archived_at: datetime) -> Prepared:
    """The summary PDF and household.json of a gathered household, as `caller` may see them, and the photos to
    pack. The PDF is rendered in the renderer's processes: the event loop serves on meanwhile."""
    contents = gathered.contents
    zone = ZoneInfo(context.settings.station_timezone)
    archived_by = caller.user.display_name
    summary = archive_summary.summary_data(contents, zone, archived_at, archived_by)
    pdf = await archive_summary.render(summary, context.thumbnails, context.renderer, archived_at)
    document = archive_contents.as_json(contents, gathered.replies)
    document |= {"archived_at": archived_at.astimezone(zone).isoformat(), "archived_by": archived_by,
                 "timezone": zone.key}
    payload = json.dumps(document, ensure_ascii=False, indent=2).encode()
    return Prepared(contents.household, pdf, payload, list(contents.photos.values()))


def entries(prepared: Prepared, store: PhotoStore, folder: str = "") -> AsyncIterator[zips.Entry]:
    """The archive's entries, under `folder/` when given (an area's export); the manifest names them relative to
    it, so `sha256sum -c manifest.txt` run in the folder checks them."""
    return _entries(prepared.pdf, prepared.document, prepared.photos, store, f"{folder}/" if folder else "")


async def _entries(pdf: bytes, document: bytes, photos: list[Photo], store: PhotoStore,
                   folder: str) -> AsyncIterator[zips.Entry]:
    sums: list[tuple[str, str]] = []  # (sha256, name) of each entry sent
    for name, data in ((SUMMARY, pdf), (DOCUMENT, document)):
        sums.append((hashlib.sha256(data).hexdigest(), name))
        yield zips.Entry(folder + name, len(data), zips.one_chunk(data))
    missing = []
    async with aclosing(_read_ahead(photos, store)) as fetched:
        async for photo, stream, data in fetched:
            if stream is None and data is None:
                # Recorded but gone from the store (a restore that missed it): say so in the log and in the archive.
                log.warning("photo %s of a household archive is missing from the store", photo.sha256)
                missing.append(photo)
                continue
            if data is None:
                yield zips.Entry(folder + photo.name, stream.size, _checked(stream, photo.sha256))
            else:
                yield zips.Entry(folder + photo.name, len(data), zips.one_chunk(data))
            del data
            sums.append((photo.sha256, photo.name))
    if missing:
        note = ("\ufeff以下照片已登记，但在照片存储中找不到，未能放入本档案包：\r\n"
                + "".join(f"{p.name}  SHA-256 {p.sha256}\r\n" for p in missing)).encode()
        sums.append((hashlib.sha256(note).hexdigest(), MISSING))
        yield zips.Entry(folder + MISSING, len(note), zips.one_chunk(note))
    manifest = "".join(f"{sha}  {name}\n" for sha, name in sums).encode()
    yield zips.Entry(folder + MANIFEST, len(manifest), zips.one_chunk(manifest))


async def _read_ahead(photos: list[Photo], store: PhotoStore) -> AsyncIterator[tuple[Photo, PhotoStream | None,
                                                                                     bytes | None]]:
    """The photos in order, each with its bytes if it is recorded as up to `WHOLE_LIMIT` (read in one go), else its
    stream (both None if it is gone from the store): read in worker threads while the ones before it are written, never more than `AHEAD_BYTES`
    ahead (a household of large photos is held one photo at a time)."""
    ahead: deque[tuple[Photo, asyncio.Future]] = deque()
    queued = taken = 0
    try:
        while taken < len(photos) or ahead:
            while taken < len(photos) and (not ahead or queued + photos[taken].size <= AHEAD_BYTES):
                ahead.append((photos[taken], asyncio.ensure_future(_fetch(photos[taken], store))))
                queued += photos[taken].size
                taken += 1
            photo, fetching = ahead.popleft()
            queued -= photo.size
            try:
                stream, data = await fetching
            except PhotoNotFound:
                stream, data = None, None
            yield photo, stream, data
            del data
    finally:
        for _, fetching in ahead:
            fetching.cancel()
        await asyncio.gather(*(fetching for _, fetching in ahead), return_exceptions=True)


async def _fetch(photo: Photo, store: PhotoStore) -> tuple[PhotoStream | None, bytes | None]:
    if photo.size > WHOLE_LIMIT:  # as recorded: streamed a chunk at a time as it is written, hashed on the way
        return await store.open(photo.sha256), None
    # Not hashed again here: the manifest names the photo by the hash it was received with (its name in the store),
    # so the station's `sha256sum -c` checks the bytes written against what the phone sent, and a photo the store
    # damaged fails there; `doorstep check-store` finds it on the server. Hashing every photo again would cost the
    # export a third of its CPU (SHA-256 runs at about 1.3 GB/s here, the whole export at about 0.3) to add only a
    # log line. A photo too large to read whole is still hashed on the way (`_checked`): it is streamed anyway.
    return None, await store.read(photo.sha256)


async def _checked(stream: PhotoStream, sha256: str) -> AsyncIterator[bytes]:
    """The photo's bytes as they pass, hashed on the way: a photo the store damaged is logged (the manifest keeps the
    hash it was received with, so the station's check finds it too)."""
    digest = hashlib.sha256()
    chunks = aiter(stream)
    async with aclosing(chunks):
        async for chunk in chunks:
            digest.update(chunk)
            yield chunk
    if digest.hexdigest() != sha256:
        log.error("photo %s in the store no longer hashes to its name", sha256)
