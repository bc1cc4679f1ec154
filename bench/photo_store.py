"""The S3 photo store's throughput against the local store's, in the same run on the same machine:

(a) upload: a photo's bytes received in network-sized chunks into a temporary file while hashed (`media.upload`),
    then stored (`PhotoStore.put`: a rename on the local disk; a conditional PUT to the bucket on S3);
(b) put alone: a finished temporary file stored;
(c) read: a stored photo opened and streamed whole, as the server sends an original;
and the event loop's worst lag during each store's rounds (a ticker that asks to wake every 5 ms).

3 MB photos of random bytes (what a phone sends after its own compression, as far as a store can tell), 4 at a time,
in rounds alternating between the two stores, each round on a fresh folder or key prefix; the median round is
printed, in MB/s, with the ratio S3 / local. The S3 server is SeaweedFS on loopback, started here as the tests start
it (tests/s3_server.py): one machine, so the figures show the cost of the protocol and the object server, not of
a network.

Run: .venv/bin/python bench/photo_store.py [--photos N] [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from media.store import LocalPhotoStore, PhotoStore  # noqa: E402
from media.upload import receive  # noqa: E402
from s3_server import S3Server, running_s3_server  # noqa: E402

PHOTO_BYTES = 3 * 1024 * 1024
PHOTOS = 40
AT_ONCE = 4
ROUNDS = 3
NETWORK_CHUNK = 64 * 1024
KINDS = ("upload", "put", "read")


def photos_of(count: int, size: int) -> list[tuple[str, bytes]]:
    made = [os.urandom(size) for _ in range(count)]
    return [(hashlib.sha256(data).hexdigest(), data) for data in made]


async def chunks_of(data: bytes):
    view = memoryview(data)
    for at in range(0, len(data), NETWORK_CHUNK):
        yield bytes(view[at:at + NETWORK_CHUNK])


async def at_most(count: int, jobs) -> float:
    """Run the coroutines `count` at a time; the seconds they took together."""
    limit = asyncio.Semaphore(count)

    async def one(job):
        async with limit:
            await job

    started = time.perf_counter()
    await asyncio.gather(*(one(job) for job in jobs))
    return time.perf_counter() - started


async def read_whole(store: PhotoStore, sha256: str) -> None:
    async for _ in await store.open(sha256):
        pass


async def ticker(lags: list[float]) -> None:
    while True:
        asked = time.perf_counter()
        await asyncio.sleep(0.005)
        lags.append(time.perf_counter() - asked - 0.005)


async def one_round(store: PhotoStore, count: int, size: int) -> dict[str, float]:
    """MB/s of each kind of work on `store`, on photos of its own, and the loop's worst lag meanwhile (ms); the
    photos are made and written to temporary files before the clock and the ticker start."""
    megabytes = count * size / 1e6
    received = photos_of(count, size)
    ready = []
    for sha, data in photos_of(count, size):
        fd, path = store.make_temp()
        with open(fd, "wb") as f:
            f.write(data)
        ready.append((sha, path))
    lags: list[float] = []
    ticking = asyncio.ensure_future(ticker(lags))
    try:
        upload = await at_most(AT_ONCE, (_upload(store, sha, data) for sha, data in received))
        put = await at_most(AT_ONCE, (store.put(sha, path) for sha, path in ready))
        read = await at_most(AT_ONCE, (read_whole(store, sha) for sha, _ in received + ready))
    finally:
        ticking.cancel()
    return {"upload": megabytes / upload, "put": megabytes / put, "read": 2 * megabytes / read,
            "lag": 1000 * max(lags, default=0.0)}


async def _upload(store: PhotoStore, sha256: str, data: bytes) -> None:
    got = await receive(chunks_of(data), store, expected_sha256=sha256, max_bytes=len(data))
    async with got:
        assert await store.put(got.sha256, got.path)


async def measure(s3: S3Server, folder: Path, count: int, size: int, rounds: int) -> dict[str, dict[str, float]]:
    figures: dict[str, dict[str, list[float]]] = {name: {k: [] for k in (*KINDS, "lag")} for name in ("local", "s3")}
    for n in range(rounds):
        stores = {"local": LocalPhotoStore(folder / f"local-{n}"),
                  "s3": s3.store(folder / f"s3-temp-{n}", prefix=f"bench-{uuid.uuid4().hex}")}
        for name in (("local", "s3") if n % 2 == 0 else ("s3", "local")):  # neither always first
            for kind, value in (await one_round(stores[name], count, size)).items():
                figures[name][kind].append(value)
    return {name: {kind: max(values) if kind == "lag" else statistics.median(values) for kind, values in kinds.items()}
            for name, kinds in figures.items()}


def report(figures: dict[str, dict[str, float]], count: int, size: int, rounds: int) -> None:
    print(f"Photo store throughput: {count} photos of {size / 1e6:.1f} MB, {AT_ONCE} at a time, "
          f"median of {rounds} rounds (MB/s)")
    print(f"{'':8}{'local':>10}{'S3':>10}{'S3 / local':>12}")
    for kind in KINDS:
        local, s3 = figures["local"][kind], figures["s3"][kind]
        print(f"{kind:8}{local:>10.1f}{s3:>10.1f}{s3 / local:>12.2f}")
    print(f"worst event-loop lag (ms, any round): local {figures['local']['lag']:.1f}, S3 {figures['s3']['lag']:.1f}")


def main(photos: int = PHOTOS, rounds: int = ROUNDS, size: int = PHOTO_BYTES, server: S3Server | None = None) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-photo-store-") as folder:
        folder = Path(folder)
        if server is not None:
            figures = asyncio.run(measure(server, folder, photos, size, rounds))
        else:
            with running_s3_server(folder / "seaweedfs") as started:
                figures = asyncio.run(measure(started, folder, photos, size, rounds))
    report(figures, photos, size, rounds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=PHOTOS)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    main(args.photos, args.rounds)
