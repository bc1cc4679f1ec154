"""Ingest from the field, each figure against a baseline measured in the same run on the same machine:

(a) home-visit submissions per second through the app, against a bare Starlette handler that inserts the same JSON
    with raw SQL on the same database connection (both in-process over ASGI, 8 at a time; goal >= 0.5); and, to show
    how much of that budget is the framework's, an authenticated request that does nothing, and how much the
    database's, a bare handler that runs as many statements as a submission does and nothing else;
(b) photo upload MB/s to a real `doorstep serve` process over loopback, against a bare uvicorn handler that writes
    the bytes to disk (12-megapixel camera-like JPEGs, 4 at a time, in rounds alternating between the two; goal >=
    0.8), and how long after the last answer the thumbnails made in the background are all there;
(c) peak memory of the server process during 50 concurrent 10 MB uploads, above its idle memory (goal < 100 MB);
(d) the event loop's worst lag while 8 photos of 12 megapixels are stored and their thumbnails made (goal < 50 ms).

Run: .venv/bin/python bench/ingest.py [--sqlite] [--postgres]
    (a throwaway database of each kind asked for, bench/_database.py; without either, SQLite, or the PostgreSQL
    database DOORSTEP_DATABASE_URL names)
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import httpx  # noqa: E402
from PIL import Image  # noqa: E402
from server_process import free_port  # noqa: E402

SUBMISSIONS = 400
CONCURRENCY = 8
UPLOADS = 24
UPLOAD_CONCURRENCY = 4
UPLOAD_ROUNDS = 7
BIG_UPLOADS = 50
SECRET = "bench-secret-" + "z" * 32


# --- photos ----------------------------------------------------------------------------------------------------


def camera_like(quality: int) -> bytes:
    """A 12-megapixel JPEG with detail in it (noise over a gradient), like a phone's photo."""
    noise = Image.effect_noise((4000, 3000), 40)
    gradient = Image.linear_gradient("L").resize((4000, 3000))
    out = io.BytesIO()
    Image.merge("RGB", (noise, gradient, noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT))).save(
        out, "JPEG", quality=quality)
    return out.getvalue()


def variant(jpeg: bytes, n: int, pad_to: int = 0) -> bytes:
    """The same picture under another hash: a JPEG comment segment (COM) after the start marker, padded if asked."""
    comment = f"doorstep bench {n}".encode()
    segments = b""
    filler = max(0, pad_to - len(jpeg))
    while True:
        body = comment + b" " * min(max(filler, 0), 60000)
        filler -= 60000
        segments += b"\xff\xfe" + (len(body) + 2).to_bytes(2, "big") + body
        if filler <= 0:
            break
    return jpeg[:2] + segments + jpeg[2:]


# --- servers in processes of their own ---------------------------------------------------------------------------


def bare_upload_app(folder: str):
    """The baseline for (b): stream the body to a file, nothing else."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def put(request):
        path = os.path.join(folder, request.path_params["name"])
        size = 0
        with open(path, "wb") as f:
            async for chunk in request.stream():
                f.write(chunk)
                size += len(chunk)
        return JSONResponse({"size": size}, status_code=201)

    return Starlette(routes=[Route("/api/v1/attachments/{name}", put, methods=["PUT"])])


def start(argv: list[str], env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


# --- (a) submissions ---------------------------------------------------------------------------------------------


async def bench_submissions(settings, total: int = SUBMISSIONS) -> tuple[float, float, float, float]:
    """(a) in requests per second: ours, the bare raw-SQL handler, the authenticated 404, the statements alone.
    tests/test_bench.py runs this with a tiny total so that it keeps running."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    from tortoise import connections
    from tortoise.transactions import in_transaction

    from factories import (headers_for, home_visit, jpeg, make_district, make_form_version, make_household,
                           make_user, sha256_of, submission_body, upload)
    from server.app import create_app

    app = create_app(settings, manage_database=False)
    district = await make_district()
    await make_form_version("home_visit")
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    households = [await make_household(district.east_a) for _ in range(CONCURRENCY)]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        photos = [jpeg(), jpeg()]
        for p in photos:
            await upload(client, worker, p)
        shas = [sha256_of(p) for p in photos]
        bodies = [submission_body(h, home_visit(shas[0], shas)) for h in households]

        async def ours(i: int) -> None:
            response = await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=bodies[i % CONCURRENCY],
                                        headers=worker)
            assert response.status_code == 201, response.text

        ours_rate = await rate(ours, total)

        async def floor(i: int) -> None:
            response = await client.get("/api/v1/no-such-thing", headers=worker)
            assert response.status_code == 404

        floor_rate = await rate(floor, total)
    await app.state.thumbnails.close()  # as the server does when it stops: no thumbnail is left half made
    app.state.image_workers.shutdown(wait=True)

    conn = connections.get("default")
    postgres = settings.resolved_database_url.startswith("postgres")
    await conn.execute_script("CREATE TABLE IF NOT EXISTS bench_raw (id VARCHAR(40) PRIMARY KEY, body TEXT NOT NULL)")
    insert = "INSERT INTO bench_raw (id, body) VALUES " + ("($1, $2)" if postgres else "(?, ?)")
    select = "SELECT id, body FROM bench_raw WHERE id = " + ("$1" if postgres else "?")

    async def put(request):
        body = await request.json()
        await conn.execute_query(insert, [request.path_params["id"], json.dumps(body, ensure_ascii=False)])
        return JSONResponse({"id": request.path_params["id"]}, status_code=201)

    async def statements_only(request):
        """As many statements as a submission runs, in the same shape, and nothing else: what is left of (a)'s
        budget once the database work the issue asks for (one transaction, merged into the household file, audited)
        is done one statement at a time."""
        sid, text = request.path_params["id"], json.dumps(await request.json(), ensure_ascii=False)
        for _ in range(4):  # the token with its user and areas; a retry?; the form version; the photos
            await conn.execute_query(select, [sid])
        async with in_transaction() as tx:  # the household locked; visit, submission, links, household, audit
            await tx.execute_query(select, [sid])
            for n in range(5):
                await tx.execute_query(insert, [f"{sid}-{n}", text])
        return JSONResponse({"id": sid}, status_code=201)

    rates = {}
    for name, handler in (("bare", put), ("statements", statements_only)):
        bare_app = Starlette(routes=[Route("/api/v1/submissions/{id}", handler, methods=["PUT"])])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bare_app), base_url="http://bench") as client:

            async def send(i: int) -> None:
                response = await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=bodies[i % CONCURRENCY])
                assert response.status_code == 201

            rates[name] = await rate(send, total)
    await conn.execute_script("DROP TABLE bench_raw")
    return ours_rate, rates["bare"], floor_rate, rates["statements"]


async def rate(one, total: int = SUBMISSIONS, concurrency: int = CONCURRENCY) -> float:
    queue = iter(range(total))

    async def runner() -> None:
        for i in queue:
            await one(i)

    for i in range(concurrency):  # warm-up: caches, compiled form, prepared statements
        await one(i)
    started = time.perf_counter()
    await asyncio.gather(*(runner() for _ in range(concurrency)))
    return total / (time.perf_counter() - started)


# --- (b) and (c) uploads to real servers ---------------------------------------------------------------------------


async def upload_all(url: str, headers: dict, photos: list[bytes], concurrency: int,
                     sample_pid: int | None = None) -> tuple[float, int]:
    """MB/s over the whole batch, and the peak RSS (kB) of `sample_pid` sampled meanwhile."""
    queue = iter(photos)
    peak = 0
    done = asyncio.Event()

    async def sampler() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_kb(sample_pid))
            await asyncio.sleep(0.005)

    async def runner(client: httpx.AsyncClient) -> None:
        for data in queue:
            sha = hashlib.sha256(data).hexdigest()
            response = await client.put(f"{url}/api/v1/attachments/{sha}", content=data,
                                        headers=headers | {"Content-Type": "image/jpeg"})
            assert response.status_code == 201, response.text

    sampling = asyncio.create_task(sampler()) if sample_pid else None
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=300, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(runner(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    done.set()
    if sampling:
        await sampling
    return sum(len(p) for p in photos) / elapsed / 1e6, peak


async def bench_uploads(folder: Path, env: dict, headers: dict) -> dict:
    """Both servers run side by side; rounds alternate between them so that the machine's other load falls on both
    alike, and each figure is the median of its rounds."""
    base = camera_like(90)
    big_base = camera_like(97)
    big = [variant(big_base, 1000 + n, pad_to=10 * 1024 * 1024) for n in range(BIG_UPLOADS)]
    derived = Path(env["DOORSTEP_DATA_DIR"]) / "media" / "derived"
    bare_dir = folder / "bare"
    bare_dir.mkdir()

    ours_port, bare_port = free_port(), free_port()
    code = (f"import sys; sys.path.insert(0, {str(ROOT / 'bench')!r}); import uvicorn, ingest; "
            f"uvicorn.run(ingest.bare_upload_app({str(bare_dir)!r}), host='127.0.0.1', port={bare_port}, "
            f"log_level='warning')")
    ours = start([sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(ours_port)], env,
                 ours_port)
    bare = start([sys.executable, "-c", code], env, bare_port)
    ours_rates, bare_rates, catch_ups = [], [], []
    try:
        await asyncio.sleep(0.5)
        idle = rss_kb(ours.pid)
        for round_ in range(UPLOAD_ROUNDS):
            photos = [variant(base, 100 * round_ + n) for n in range(UPLOADS)]
            # Each batch starts with no dirty pages left by the one before: the bare handler's writes (never synced)
            # would otherwise be flushed by the kernel during whichever batch comes next.
            os.sync()
            ours_rates.append((await upload_all(f"http://127.0.0.1:{ours_port}", headers, photos,
                                                UPLOAD_CONCURRENCY))[0])
            answered = time.perf_counter()
            # Thumbnails are made after the answers, in the background: how long until the last one is there.
            while sum(1 for _ in derived.rglob("*.jpg")) < 2 * len(photos) * (round_ + 1):
                await asyncio.sleep(0.02)
            catch_ups.append(time.perf_counter() - answered)
            os.sync()
            bare_rates.append((await upload_all(f"http://127.0.0.1:{bare_port}", {}, photos, UPLOAD_CONCURRENCY))[0])
        # Idle is measured after the first uploads, so that the image threads and allocator are warmed up alike.
        idle_after = rss_kb(ours.pid)
        _, peak = await upload_all(f"http://127.0.0.1:{ours_port}", headers, big, BIG_UPLOADS, sample_pid=ours.pid)
    finally:
        for process in (ours, bare):
            process.terminate()
            process.wait(10)
    ours_mbps, bare_mbps = statistics.median(ours_rates), statistics.median(bare_rates)
    return {"ours": ours_mbps, "bare": bare_mbps, "cold_kb": idle, "idle_kb": idle_after, "peak_kb": peak,
            "photo_mb": len(base) / 1e6, "big_mb": len(big[0]) / 1e6, "catch_up": statistics.median(catch_ups),
            "upload_s": len(base) * UPLOADS / ours_mbps / 1e6,
            "rounds": list(zip(ours_rates, bare_rates))}


# --- (d) event loop lag ------------------------------------------------------------------------------------------


async def bench_loop_lag(folder: Path) -> tuple[float, float]:
    """Worst lag of a 5 ms ticker while 8 photos of 12 MP are received and checked and their thumbnails made as the
    server makes them; and with no work."""
    from media.ingest import store_photo
    from media.store import LocalPhotoStore
    from media.thumbnails import Thumbnails
    from media.workers import ImageWorkers

    store = LocalPhotoStore(folder / "lag-store")
    workers = ImageWorkers(2)
    thumbnails = Thumbnails(store, workers)
    base = camera_like(90)
    photos = [variant(base, 2000 + n) for n in range(8)]

    async def worst_lag(work) -> float:
        worst = 0.0
        stop = False

        async def ticker() -> None:
            nonlocal worst
            while not stop:
                before = time.perf_counter()
                await asyncio.sleep(0.005)
                worst = max(worst, time.perf_counter() - before - 0.005)

        task = asyncio.create_task(ticker())
        await work()
        stop = True
        await task
        return worst * 1000

    async def chunks(data: bytes):
        for i in range(0, len(data), 64 * 1024):
            yield data[i:i + 64 * 1024]

    async def one(photo: bytes) -> None:
        sha = hashlib.sha256(photo).hexdigest()
        await store_photo(chunks(photo), store, expected_sha256=sha, declared_type="image/jpeg",
                          max_bytes=20 * 1024 * 1024, workers=workers)
        thumbnails.make_later(sha)

    async def photos_in() -> None:
        await asyncio.gather(*(one(p) for p in photos[:4]))
        # Half the thumbnails in the background, half asked for at once, as a supervisor opening a visit would.
        await asyncio.gather(*(one(p) for p in photos[4:]))
        await asyncio.gather(*(thumbnails.open(hashlib.sha256(p).hexdigest(), "large") for p in photos[4:]))
        await thumbnails.settle()

    idle = await worst_lag(lambda: asyncio.sleep(1))
    busy = await worst_lag(photos_in)
    await thumbnails.close()
    workers.shutdown()
    return busy, idle


# --- main --------------------------------------------------------------------------------------------------------


async def prepare(settings) -> dict:
    """The worker the upload benchmark logs in as, in the database the served process will use."""
    from factories import headers_for, make_district, make_user

    district = await make_district()
    return await headers_for(settings, await make_user("worker", district.east_a))


async def main() -> None:
    from _database import chosen, run_apart, throwaway
    from server.core import db

    kinds = chosen(sys.argv[1:])
    if run_apart(kinds):
        return
    for kind in kinds:
        async with throwaway(kind, SECRET) as database:
            ours_rate, bare_rate, floor_rate, statements_rate = await bench_submissions(database.settings)
            headers = await prepare(database.settings)
            await db.disconnect()  # the served process below is the only one using the database now
            env = os.environ | {"DOORSTEP_DATA_DIR": str(database.folder / "data"),
                                "DOORSTEP_DATABASE_URL": database.url, "DOORSTEP_SECRET": SECRET, "DOORSTEP_LOG_LEVEL": "WARNING",
                                "DOORSTEP_MAX_PHOTO_BYTES": str(12 * 1024 * 1024), "PYTHONPATH": str(ROOT)}
            up = await bench_uploads(database.folder, env, headers)
            busy, idle = await bench_loop_lag(database.folder)
        report(database.name, ours_rate, bare_rate, floor_rate, statements_rate, up, busy, idle)


def report(database: str, ours_rate: float, bare_rate: float, floor_rate: float, statements_rate: float, up: dict,
           busy: float, idle: float) -> None:
    print(f"Ingest benchmark ({database}, {os.cpu_count()} CPUs)")
    print(f"(a) home-visit submissions       {ours_rate:>9.0f} /s   bare raw-SQL handler {bare_rate:>7.0f} /s   "
          f"ratio {ours_rate / bare_rate:.2f} (goal >= 0.5)")
    print(f"    an authenticated request that does nothing (404) {floor_rate:>6.0f} /s = {floor_rate / bare_rate:.2f} of "
          f"the bare handler: the part of each request that is not the submission's")
    print(f"    a bare handler running a submission's 12 statements and nothing else {statements_rate:>6.0f} /s = "
          f"{statements_rate / bare_rate:.2f} of the bare handler: the ceiling for any code that runs them one by one")
    print(f"(b) photo uploads ({up['photo_mb']:.1f} MB, 12 MP) {up['ours']:>6.1f} MB/s   bare write handler "
          f"{up['bare']:>6.1f} MB/s   ratio {up['ours'] / up['bare']:.2f} (goal >= 0.8; medians of {UPLOAD_ROUNDS} "
          f"alternating rounds)")
    print("    rounds, ours / bare MB/s: " + ", ".join(f"{o:.0f}/{b:.0f}" for o, b in up["rounds"])
          + f"; median of the rounds' own ratios {statistics.median(o / b for o, b in up['rounds']):.2f}")
    print(f"    thumbnails of those {UPLOADS} photos all made {up['catch_up']:.1f} s after the last answer "
          f"(the uploads took {up['upload_s']:.1f} s)")
    print(f"(c) {BIG_UPLOADS} concurrent {up['big_mb']:.1f} MB uploads: peak RSS {up['peak_kb'] / 1024:.0f} MB, "
          f"idle {up['idle_kb'] / 1024:.0f} MB (at start {up['cold_kb'] / 1024:.0f} MB), above idle {(up['peak_kb'] - up['idle_kb']) / 1024:.0f} MB "
          f"(goal < 100 MB)")
    print(f"(d) worst event-loop lag, 8 photos of 12 MP stored, thumbnails made {busy:>5.1f} ms   idle loop {idle:.1f} ms "
          f"(goal < 50 ms)")


if __name__ == "__main__":
    asyncio.run(main())
