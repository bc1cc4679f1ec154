"""Photos in an S3-compatible bucket (AWS S3, SeaweedFS, MinIO, a cloud's object storage): the `PhotoStore`
interface over obstore, whose requests run on its own Rust threads, so the event loop only awaits them.

Keys, under an optional prefix: `originals/<sha256>`, `derived/<variant>/<sha256>.jpg`, `blobs/<key>`. Originals
are not sharded: a bucket has no folders to keep small, and one flat level lists in hash order (ListObjectsV2 is
lexicographic), which is the order `list_hashes` promises.

An upload is still received into a local temporary file while it is hashed and checked (`media.upload`); only a
whole, checked photo is sent to the bucket. It is sent with `If-None-Match: *`, so of two uploads of one photo at
once exactly one stores it, and a stored original is never rewritten.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import obstore
from obstore.exceptions import AlreadyExistsError, PreconditionError
from obstore.store import S3Store

from media import blobs
from media.blobs import BATCH_BYTES, BlobInfo
from media.errors import BlobNotFound, MediaError, PhotoNotFound
from media.store import CHUNK_SIZE, VARIANTS, PhotoStore, PhotoStream, check_variant, normalize_sha256

# Photos up to this size go in one conditional PUT (held in memory by the client while sent, off the event loop);
# a larger one (only if an operator raised the upload limit this far) goes in parts after an existence check, and
# two uploads of it at the very same moment may then both answer "newly stored", with the same bytes.
SINGLE_PUT_BYTES = 64 * 1024 * 1024
PART_BYTES = 8 * 1024 * 1024
PARTS_AT_ONCE = 4  # parts in flight per upload: PART_BYTES × this is what one blob upload may hold
LIST_PAGE = 1000
CHECK_SECONDS = 10


class S3PhotoStore(PhotoStore):
    def __init__(self, *, bucket: str, temp_dir: str | os.PathLike[str], endpoint: str = "", region: str = "",
                 access_key_id: str = "", secret_access_key: str = "", prefix: str = "",
                 single_put_bytes: int = SINGLE_PUT_BYTES) -> None:
        """Credentials left empty are taken from the environment by the client (AWS_ACCESS_KEY_ID, …, or an
        instance role). `endpoint` empty means AWS itself; any other endpoint is addressed path-style
        (http://host/bucket/key), which every S3-compatible server understands."""
        config: dict = {}
        if endpoint:
            config |= {"endpoint": endpoint, "virtual_hosted_style_request": False}
        if region:
            config["region"] = region
        if access_key_id or secret_access_key:
            config |= {"access_key_id": access_key_id, "secret_access_key": secret_access_key}
        self.bucket = bucket
        self.single_put_bytes = single_put_bytes
        self.prefix = prefix.strip("/")
        self._s3 = S3Store(
            bucket, prefix=self.prefix or None, **config,
            # The timeout bounds a request until its answer's headers and a body sent; a body read is paced by
            # its reader (a phone on 2G, a PC fetching an export) and is not cut off by it (measured: a stream
            # read for 20 s under a 2 s timeout, the client holding no more than it was asked for).
            client_options={"allow_http": endpoint.startswith("http://"), "connect_timeout": timedelta(seconds=5),
                            "timeout": timedelta(minutes=10)},
            retry_config={"max_retries": 3, "retry_timeout": timedelta(seconds=60)},
        )
        self.temp_dir = Path(temp_dir)
        # Done once at start-up, before the store serves anything, so a blocking mkdir is harmless here.
        self.temp_dir.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"S3PhotoStore(bucket={self.bucket!r}, prefix={self.prefix!r})"

    async def check(self) -> None:
        fd, path = await asyncio.to_thread(self.make_temp, "probe-")  # uploads arrive there first
        os.close(fd)
        await asyncio.to_thread(os.unlink, path)
        key = f"probe/{uuid.uuid4()}"
        async with asyncio.timeout(CHECK_SECONDS):  # a probe answers soon or says "not ready", not after retries
            await obstore.put_async(self._s3, key, b"")
            await obstore.delete_async(self._s3, key)

    # Originals

    async def put(self, sha256: str, source_path: str) -> bool:
        key = _original(sha256)
        try:
            if await self._exists(key):
                return False  # a retry: the bytes are not sent again
            source = Path(source_path)
            if (await asyncio.to_thread(os.path.getsize, source)) <= self.single_put_bytes:
                data = await asyncio.to_thread(source.read_bytes)  # read here, in a thread: never on the loop
                try:
                    await obstore.put_async(self._s3, key, data, mode="create")
                except (AlreadyExistsError, PreconditionError):
                    return False  # another upload of the same photo stored it a moment ago
            else:
                await obstore.put_async(self._s3, key, _read_in_parts(source), use_multipart=True,
                                        chunk_size=PART_BYTES, max_concurrency=PARTS_AT_ONCE)
            return True
        finally:
            await asyncio.shield(asyncio.to_thread(Path(source_path).unlink, missing_ok=True))

    async def open(self, sha256: str) -> PhotoStream:
        return await self._open(_original(sha256), PhotoNotFound)

    async def exists(self, sha256: str) -> bool:
        return await self._exists(_original(sha256))

    async def size(self, sha256: str) -> int:
        return (await self._head(_original(sha256), PhotoNotFound))["size"]

    async def stored_at(self, sha256: str) -> datetime:
        return (await self._head(_original(sha256), PhotoNotFound))["last_modified"]

    async def delete(self, sha256: str) -> bool:
        keys = [_original(sha256)] + [_derived(sha256, v) for v in sorted(VARIANTS)]
        present = [key for key, there in zip(keys, await asyncio.gather(*map(self._exists, keys))) if there]
        if present:
            await obstore.delete_async(self._s3, present)
        return bool(present)

    async def list_hashes(self, after: str = "") -> AsyncIterator[str]:
        async for sha256, _ in self.list_stored(after):
            yield sha256

    async def list_stored(self, after: str = "") -> AsyncIterator[tuple[str, datetime]]:
        # The listing carries each object's time already: no request per photo, as stored_at would take.
        offset = _original(after) if after else None
        async for page in obstore.list(self._s3, "originals", offset=offset, chunk_size=LIST_PAGE):
            for meta in page:
                name = meta["path"].rpartition("/")[2]
                try:
                    yield normalize_sha256(name), meta["last_modified"]
                except MediaError:
                    continue  # not a photo of ours

    # Derived images

    async def put_derived(self, sha256: str, variant: str, data: bytes) -> None:
        await obstore.put_async(self._s3, _derived(sha256, variant), data)

    async def open_derived(self, sha256: str, variant: str) -> PhotoStream:
        return await self._open(_derived(sha256, variant), PhotoNotFound)

    async def exists_derived(self, sha256: str, variant: str) -> bool:
        return await self._exists(_derived(sha256, variant))

    # Blobs

    async def put_blob(self, key: str, chunks: AsyncIterable[bytes]) -> BlobInfo:
        path = _blob(key)
        digest = hashlib.sha256()
        size = 0

        async def hashed() -> AsyncIterator[bytes]:
            # Hashed a batch at a time in a worker thread (hashlib lets go of Python's lock), then handed on.
            nonlocal size
            batch: list[bytes] = []
            batched = 0
            async for chunk in chunks:
                batch.append(chunk)
                batched += len(chunk)
                if batched >= BATCH_BYTES:
                    await asyncio.to_thread(_update, digest, batch)
                    size += batched
                    for part in batch:
                        yield part
                    batch, batched = [], 0
            await asyncio.to_thread(_update, digest, batch)
            size += batched
            for part in batch:
                yield part

        stream = hashed()
        first = await anext(stream, None)
        if first is None:  # a multipart upload needs one part at least
            await obstore.put_async(self._s3, path, b"")
        else:
            # A multipart upload that fails is aborted by the client: the blob appears whole or not at all.
            await obstore.put_async(self._s3, path, _prepend(first, stream), use_multipart=True,
                                    chunk_size=PART_BYTES, max_concurrency=PARTS_AT_ONCE)
        return BlobInfo(size, digest.hexdigest())

    async def open_blob(self, key: str, start: int = 0, end: int | None = None) -> PhotoStream:
        path = _blob(key)
        total = (await self._head(path, BlobNotFound))["size"]
        end = total if end is None else min(end, total)
        start = min(max(start, 0), end)
        if start == end:
            return PhotoStream(size=0, chunks=_nothing)

        async def chunks() -> AsyncIterator[bytes]:
            try:
                result = await obstore.get_async(self._s3, path, options={"range": (start, end)})
            except FileNotFoundError:
                raise BlobNotFound() from None
            async for chunk in result.stream(min_chunk_size=CHUNK_SIZE):
                yield bytes(chunk)

        return PhotoStream(size=end - start, chunks=chunks)

    async def delete_blob(self, key: str) -> bool:
        path = _blob(key)
        if not await self._exists(path):
            return False
        await obstore.delete_async(self._s3, path)
        return True

    # Requests

    async def _exists(self, key: str) -> bool:
        try:
            await obstore.head_async(self._s3, key)
        except FileNotFoundError:
            return False
        return True

    async def _head(self, key: str, missing: type[MediaError]):
        try:
            return await obstore.head_async(self._s3, key)
        except FileNotFoundError:
            raise missing() from None

    async def _open(self, key: str, missing: type[MediaError]) -> PhotoStream:
        # One GET: its answer says the size (or that there is nothing, before any byte is sent), and its body is
        # streamed when first iterated; iterating again asks again.
        try:
            first = await obstore.get_async(self._s3, key)
        except FileNotFoundError:
            raise missing() from None
        opened = [first]

        async def chunks() -> AsyncIterator[bytes]:
            if opened:
                result = opened.pop()
            else:
                try:
                    result = await obstore.get_async(self._s3, key)
                except FileNotFoundError:
                    raise missing() from None
            async for chunk in result.stream(min_chunk_size=CHUNK_SIZE):
                yield bytes(chunk)

        return PhotoStream(size=first.meta["size"], chunks=chunks)


def _original(sha256: str) -> str:
    return f"originals/{normalize_sha256(sha256)}"


def _derived(sha256: str, variant: str) -> str:
    sha256 = normalize_sha256(sha256)
    return f"derived/{check_variant(variant)}/{sha256}.jpg"


def _blob(key: str) -> str:
    return f"blobs/{blobs.check_key(key)}"


def _update(digest, batch: list[bytes]) -> None:
    for chunk in batch:
        digest.update(chunk)


async def _read_in_parts(path: Path) -> AsyncIterator[bytes]:
    with open(path, "rb") as f:  # opening a local file does not wait on anything worth a thread
        while part := await asyncio.to_thread(f.read, PART_BYTES):
            yield part


async def _prepend(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest:
        yield chunk


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield
