"""`doorstep check-store`: every recorded photo is in the store and its bytes still hash to its name; photos the
store holds that no row records are reported. It reads only: nothing is deleted, moved or repaired, because a photo
stored but not yet recorded may belong to an upload in progress, and a damaged one is for a person to look at.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from media.errors import PhotoNotFound
from media.store import PhotoStore
from server.models import Attachment

PAGE = 500
AT_ONCE = 4  # photos read at once: a bucket answers each with some delay, a disk does not mind
HASH_BATCH = 1024 * 1024

OK, MISSING, CORRUPT = "ok", "missing", "corrupt"


@dataclass
class StoreCheck:
    checked: int = 0
    missing: list[str] = field(default_factory=list)  # recorded, not in the store
    corrupt: list[str] = field(default_factory=list)  # in the store, bytes not hashing to their name
    unrecorded: list[str] = field(default_factory=list)  # in the store, no row

    @property
    def sound(self) -> bool:
        return not self.missing and not self.corrupt


async def check_store(store: PhotoStore, on_problem: Callable[[str, str], None] | None = None) -> StoreCheck:
    """Walk the recorded photos in hash order, a page at a time, reading each whole (streamed, hashed off the event
    loop); then walk the store's listing for photos without a row. `on_problem(kind, sha256)` hears of each problem
    as it is found (kind: missing, corrupt, unrecorded)."""
    report = StoreCheck()
    tell = on_problem or (lambda kind, sha256: None)
    limit = asyncio.Semaphore(AT_ONCE)

    async def verify(sha256: str) -> str:
        async with limit:
            return await _verify(store, sha256)

    after = ""
    while names := await Attachment.filter(sha256__gt=after).order_by("sha256").limit(PAGE).values_list(
            "sha256", flat=True):
        for sha256, verdict in zip(names, await asyncio.gather(*map(verify, names))):
            if verdict != OK:
                (report.missing if verdict == MISSING else report.corrupt).append(sha256)
                tell(verdict, sha256)
        report.checked += len(names)
        after = names[-1]

    listed: list[str] = []

    async def unrecorded() -> None:
        recorded = set(await Attachment.filter(sha256__in=listed).values_list("sha256", flat=True))
        for sha256 in listed:
            if sha256 not in recorded:
                report.unrecorded.append(sha256)
                tell("unrecorded", sha256)
        listed.clear()

    async for sha256 in store.list_hashes():
        listed.append(sha256)
        if len(listed) >= PAGE:
            await unrecorded()
    await unrecorded()
    return report


async def _verify(store: PhotoStore, sha256: str) -> str:
    try:
        stream = await store.open(sha256)
        digest = hashlib.sha256()
        batch = bytearray()
        async for chunk in stream:
            batch += chunk
            if len(batch) >= HASH_BATCH:
                await asyncio.to_thread(digest.update, batch)  # hashlib lets go of Python's lock meanwhile
                batch = bytearray()
        await asyncio.to_thread(digest.update, batch)
    except PhotoNotFound:
        return MISSING
    return OK if digest.hexdigest() == sha256 else CORRUPT
