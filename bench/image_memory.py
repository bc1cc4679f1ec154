"""Memory of the server while large images are decoded, against its idle memory in the same run.

Eight 7000x7000 RGBA PNGs (a flat colour each: ~200 KB that decode to 196 MB apiece, under the pixel limit) are
uploaded at once to a real `doorstep serve` process, whose resident memory (VmRSS) is sampled every 50 ms: its peak
above idle (goal < 300 MB) and, once their thumbnails are made, what it keeps ten seconds after the last answer
(goal: within 50 MB of idle). The baseline is the same run with eight small photos (1000x1000 RGBA PNGs).

Run: .venv/bin/python bench/image_memory.py   (SQLite in a temporary folder; DOORSTEP_* variables reach the server,
e.g. DOORSTEP_IMAGE_MEMORY_MB=400 to try another budget)
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import struct
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

import httpx  # noqa: E402

from ingest import free_port, rss_kb, start  # noqa: E402

PHOTOS = 8
BIG_SIDE = 7000
SMALL_SIDE = 1000
SAMPLE_EVERY = 0.05
SETTLE_AFTER = 10.0
PEAK_GOAL_MB = 300
SETTLED_GOAL_MB = 50
SECRET = "bench-secret-" + "m" * 32
USERNAME = "memory-bench"


def flat_png(side: int, n: int) -> bytes:
    """A side x side RGBA PNG of one colour, written row by row (never the whole picture in this process): rows
    that repeat compress about 1000 to 1, so it is small to send and big to decode. `n` makes each one distinct."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\x00" + bytes((40 + 20 * n, 120, 200 - 10 * n, 255)) * side  # filter "none", then the pixels
    compressor = zlib.compressobj(6)
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0)  # 8 bits, colour type 6: RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


class Sampler:
    """VmRSS of one process every SAMPLE_EVERY seconds, in a thread of this process (the uploads' event loop must
    not delay a sample)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.samples: list[tuple[float, int]] = []
        self._stop = False

    async def run(self) -> None:
        await asyncio.to_thread(self._loop)

    def _loop(self) -> None:
        while not self._stop:
            self.samples.append((time.monotonic(), rss_kb(self.pid)))
            time.sleep(SAMPLE_EVERY)

    def stop(self) -> None:
        self._stop = True

    def peak_since(self, since: float) -> int:
        return max(kb for at, kb in self.samples if at >= since)


def idle_kb(pid: int, seconds: float = 1.0) -> int:
    """The median of a second of samples: a process at rest still moves by a few pages."""
    samples = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        samples.append(rss_kb(pid))
        time.sleep(SAMPLE_EVERY)
    return sorted(samples)[len(samples) // 2]


async def upload_at_once(url: str, headers: dict, photos: list[bytes]) -> float:
    """All photos sent at the same time; the moment the last answer arrived."""

    async def one(client: httpx.AsyncClient, data: bytes) -> None:
        sha = hashlib.sha256(data).hexdigest()
        response = await client.put(f"{url}/api/v1/attachments/{sha}", content=data,
                                    headers=headers | {"Content-Type": "image/png"})
        assert response.status_code == 201, response.text

    async with httpx.AsyncClient(timeout=600, limits=httpx.Limits(max_connections=len(photos))) as client:
        await asyncio.gather(*(one(client, data) for data in photos))
    return time.monotonic()


async def measure(url: str, headers: dict, pid: int, photos: list[bytes], derived: Path) -> dict:
    """Memory just before; its peak while the photos are received and checked and their thumbnails made; and
    SETTLE_AFTER seconds after the last answer, or once the thumbnails are all made if that is later."""
    expected = sum(1 for _ in derived.rglob("*.jpg")) + 2 * len(photos)
    idle = await asyncio.to_thread(idle_kb, pid)
    sampler = Sampler(pid)
    sampling = asyncio.create_task(sampler.run())
    started = time.monotonic()
    try:
        answered = await upload_at_once(url, headers, photos)
        while sum(1 for _ in derived.rglob("*.jpg")) < expected:
            await asyncio.sleep(0.05)
        thumbnails_done = time.monotonic()
        await asyncio.sleep(max(0.0, answered + SETTLE_AFTER - time.monotonic()))
        settled_at = time.monotonic()
        settled = rss_kb(pid)
    finally:
        sampler.stop()
        await sampling
    return {"idle": idle, "peak": sampler.peak_since(started), "settled": settled, "upload_s": answered - started,
            "thumbnails_s": thumbnails_done - answered, "settled_s": settled_at - answered}


async def prepare(settings) -> None:
    """The worker the benchmark logs in as, in the database the served process will use."""
    from factories import make_district, make_user

    district = await make_district()
    await make_user("worker", district.east_a, username=USERNAME)


async def log_in(url: str) -> dict:
    from factories import PASSWORD

    async with httpx.AsyncClient() as client:
        response = await client.post(f"{url}/api/v1/auth/token", json={"username": USERNAME, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


def report(name: str, m: dict, idle: int) -> None:
    """Figures against the server's idle memory at start, logged in, before any photo: the strictest reference, as
    what an earlier run kept counts against the next."""
    mb = lambda kb: kb / 1024  # noqa: E731
    peak, settled = mb(m["peak"] - idle), mb(m["settled"] - idle)
    print(f"{name}: peak {mb(m['peak']):.0f} MB = idle + {peak:.0f} MB ({peak / PEAK_GOAL_MB:.2f} of the "
          f"{PEAK_GOAL_MB} MB goal: {'met' if peak < PEAK_GOAL_MB else 'MISSED'}); settled {mb(m['settled']):.0f} MB = "
          f"idle + {settled:.0f} MB ({settled / SETTLED_GOAL_MB:.2f} of the {SETTLED_GOAL_MB} MB goal: "
          f"{'met' if settled < SETTLED_GOAL_MB else 'MISSED'})")
    print(f"    {mb(m['idle']):.0f} MB just before; uploads answered in {m['upload_s']:.1f} s; thumbnails all made "
          f"{m['thumbnails_s']:.1f} s after the last answer; settled measured {m['settled_s']:.1f} s after it")


async def main() -> None:
    from server.core import db
    from server.settings import load_settings

    big = [flat_png(BIG_SIDE, n) for n in range(PHOTOS)]
    small = [flat_png(SMALL_SIDE, n) for n in range(PHOTOS)]
    folder = Path(tempfile.mkdtemp(prefix="doorstep-bench-"))
    try:
        settings = load_settings({}, data_dir=folder / "data", database_url="", secret=SECRET)
        await db.migrate(settings)
        await db.connect(settings)
        try:
            await prepare(settings)
        finally:
            await db.disconnect()
        env = os.environ | {"DOORSTEP_DATA_DIR": str(folder / "data"), "DOORSTEP_DATABASE_URL": "",
                            "DOORSTEP_SECRET": SECRET, "DOORSTEP_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = start([sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(port)], env,
                       port)
        try:
            headers = await log_in(url)
            cold = await asyncio.to_thread(idle_kb, server.pid)
            derived = folder / "data" / "media" / "derived"
            baseline = await measure(url, headers, server.pid, small, derived)
            loaded = await measure(url, headers, server.pid, big, derived)
        finally:
            server.terminate()
            server.wait(10)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    print(f"Image memory benchmark ({os.cpu_count()} CPUs; {PHOTOS} RGBA PNGs uploaded at once; server RSS every "
          f"{SAMPLE_EVERY * 1000:.0f} ms; idle {cold / 1024:.0f} MB)")
    report(f"baseline, {SMALL_SIDE}x{SMALL_SIDE} ({len(small[0]) / 1024:.0f} KB each)", baseline, cold)
    report(f"{BIG_SIDE}x{BIG_SIDE} ({len(big[0]) / 1024:.0f} KB each)", loaded, cold)


if __name__ == "__main__":
    asyncio.run(main())
