"""A province's morning: N simulated phones for D minutes against one `doorstep serve`, then against two, on one
PostgreSQL and one photo store, in the same run.

Each phone, per visit: syncs (following `more`), registers a household, uploads three ~1 MB photos (HEAD first, PUT
when missing, as the field app does) and sends the visit's submission; no pause between visits unless `--think`
gives one: the figures are what the instances can carry. Connections drop (`--drop`, per request): an upload is cut
halfway through its body, a registration or a submission loses its answer after the server wrote it; the phone
retries, as the field app does. Two instances: a client-side round robin (each request to the next), for nginx.

Printed: p50/p99 latency per kind of request (successful attempts), errors (answers no phone should get, failures
other than the simulated drops), visits/s per phase and the ratio two/one (issue 17's goals: >= 1.6, p99 < 1 s,
0 errors), the CPU each part used and PostgreSQL's lock waits; then every acknowledged household, submission and
photo is looked up in the database and the store: 0 duplicates, 0 missing, every photo matching its hash.

Run: .venv/bin/python bench/load.py [--phones 200] [--minutes 5] [--store local|s3] [--drop 0.03] [--think 0]
    (a throwaway PostgreSQL database, bench/_database.py, or DOORSTEP_DATABASE_URL's; the store: bench/_instances.py)
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import os
import random
import statistics
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

import httpx  # noqa: E402

from _database import throwaway  # noqa: E402
from _instances import (STORES, Instance, cpu_seconds, database_cpu_seconds, sample_lock_waits,  # noqa: E402
                        server_env, shared_store, store_settings)
from _photos import base_photo, variant  # noqa: E402

SECRET = "bench-load-secret-" + "q" * 32
PHONES_PER_COMMUNITY = 10
KINDS = ("sync", "household", "head", "photo", "submission")


class Dropped(Exception):  # the simulated loss of a connection
    pass


class Phone:
    def __init__(self, n: int, token: str, community: str, bases, stats: "Stats", drop: float, think: float,
                 photo: bytes) -> None:
        self.n, self.community, self.bases, self.stats = n, community, bases, stats
        self.headers = {"Authorization": f"Bearer {token}"}
        self.drop, self.think, self.photo = drop, think, photo
        self.cursor: str | None = None
        self.rng = random.Random(n)

    async def run(self, until: float, acked: dict) -> None:
        # Idle connections go before uvicorn's keep-alive (5 s) closes them: reusing one that the server is closing
        # fails, which browsers retry on their own; counted here it would be no error of the server's.
        limits = httpx.Limits(keepalive_expiry=4)
        async with httpx.AsyncClient(timeout=60, headers=self.headers, limits=limits) as client:
            self.client = client
            while time.monotonic() < until:
                await self.visit(acked)
                if self.think:
                    await asyncio.sleep(self.rng.uniform(0.5, 1.5) * self.think)

    async def visit(self, acked: dict) -> None:
        more = True
        while more:
            page = await self.send("sync", "GET", "/api/v1/sync", {200},
                                   params={"since": self.cursor} if self.cursor else None)
            self.cursor, more = page.json()["next_cursor"], page.json()["more"]
        household = str(uuid.uuid4())
        await self.send("household", "PUT", f"/api/v1/households/{household}", {200, 201}, json={
            "community": self.community, "address": f"{self.n} 号 {household[:4]}", "head": "张秀英",
            "phone": "13807312456", "location": {"lat": 28.1941, "lon": 112.9823}}, lose_answer=True)
        acked["households"].add(household)
        shas = []
        for i in range(3):
            data = variant(self.photo, f"{household}-{i}")
            sha = hashlib.sha256(data).hexdigest()
            await self.upload(sha, data)
            acked["photos"].add(sha)
            shas.append(sha)
        from factories import home_visit

        submission = str(uuid.uuid4())
        await self.send("submission", "PUT", f"/api/v1/submissions/{submission}", {200, 201}, json={
            "form": "home_visit", "version": 1, "household": household, "data": home_visit(shas[0], shas),
            "started_at": "2025-03-18T09:30:00+08:00", "finished_at": "2025-03-18T10:10:00+08:00"},
            lose_answer=True)
        acked["submissions"].add(submission)
        self.stats.visits += 1

    async def upload(self, sha: str, data: bytes) -> None:
        """The field app's way: HEAD first (a photo the server has is never sent again), then PUT."""
        while True:
            head = await self.send("head", "HEAD", f"/api/v1/attachments/{sha}", {200, 404})
            if head.status_code == 200:
                return
            try:
                await self.send("photo", "PUT", f"/api/v1/attachments/{sha}", {200, 201}, photo=data, retry=False)
                return
            except Dropped:
                continue  # back to HEAD, as a phone whose upload broke off does

    async def send(self, kind: str, method: str, path: str, expected: set[int], *, params=None, json=None,
                   photo: bytes | None = None, lose_answer: bool = False, retry: bool = True) -> httpx.Response:
        for attempt in itertools.count():
            base = next(self.bases)
            dropping = self.drop and self.rng.random() < self.drop and (photo is not None or lose_answer)
            started = time.monotonic()
            try:
                if photo is not None:
                    headers = {"Content-Type": "image/jpeg", "Content-Length": str(len(photo))}
                    content = _cut(photo) if dropping else photo
                    response = await self.client.request(method, base + path, content=content, headers=headers)
                elif dropping:  # the server does the work; the answer never reaches the phone
                    async with self.client.stream(method, base + path, params=params, json=json):
                        pass
                    raise Dropped()
                else:
                    response = await self.client.request(method, base + path, params=params, json=json)
            except Dropped:
                self.stats.drops[kind] += 1
                if not retry:
                    raise
                continue
            except httpx.TransportError as exc:
                if dropping and photo is not None:  # the cut body surfaces as a transport error on some versions
                    self.stats.drops[kind] += 1
                    if not retry:
                        raise Dropped() from exc
                    continue
                self.stats.errors[f"{kind}: {type(exc).__name__}"] += 1
                await asyncio.sleep(min(2.0, 0.1 * 2 ** attempt))
                continue
            if response.status_code not in expected:
                self.stats.errors[f"{kind}: {response.status_code} {response.text[:80]}"] += 1
                await asyncio.sleep(min(2.0, 0.1 * 2 ** attempt))
                continue
            self.stats.latency[kind].append(time.monotonic() - started)
            return response
        raise AssertionError("unreachable")


async def _cut(data: bytes):
    yield data[: len(data) // 2]
    raise Dropped()


class Stats:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.drops: dict[str, int] = defaultdict(int)
        self.visits = 0
        self.seconds = 0.0
        self.server_cpu = self.bench_cpu = self.database_cpu = 0.0  # CPU seconds used during the phase
        self.load = 0.0  # the machine's load average at the end
        self.locks: list[tuple[int, int]] = []  # (backends waiting for a lock, backends busy), sampled


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else float("nan")


async def seed(phones: int) -> tuple[list[str], list[str]]:
    """A county of communities (PHONES_PER_COMMUNITY phones each), the home-visit form, a worker per phone."""
    from factories import headers_for, make_area, make_form_version, make_user
    from server.settings import load_settings

    settings = load_settings({}, secret=SECRET)
    county = await make_area("county", name="巴陵区")
    township = await make_area("township", county, "城东街道")
    communities = [await make_area("community", township, f"社区{i}")
                   for i in range(max(1, -(-phones // PHONES_PER_COMMUNITY)))]
    await make_form_version("home_visit")
    tokens, where = [], []
    for n in range(phones):
        community = communities[n // PHONES_PER_COMMUNITY]
        worker = await make_user("worker", community, username=f"phone{n}")
        tokens.append((await headers_for(settings, worker))["Authorization"].removeprefix("Bearer "))
        where.append(str(community.id))
    return tokens, where


async def phase(instances: list[Instance], tokens, where, minutes: float, drop: float, think: float,
                photo: bytes, acked: dict, database_url: str) -> Stats:
    stats = Stats()
    bases = itertools.cycle([i.url for i in instances])  # the client-side round robin standing in for nginx
    phones = [Phone(n, t, c, bases, stats, drop, think, photo) for n, (t, c) in enumerate(zip(tokens, where))]
    pids = [i.process.pid for i in instances]
    server_cpu, bench_cpu = sum(map(cpu_seconds, pids)), cpu_seconds(os.getpid())
    database_name = database_url.rsplit("/", 1)[1].split("?")[0]
    database_cpu = database_cpu_seconds(database_name)
    sampler = asyncio.create_task(sample_lock_waits(database_url, stats.locks))
    started = time.monotonic()
    until = started + minutes * 60
    await asyncio.gather(*(p.run(until, acked) for p in phones))
    stats.seconds = time.monotonic() - started
    sampler.cancel()
    await asyncio.gather(sampler, return_exceptions=True)
    stats.server_cpu = sum(map(cpu_seconds, pids)) - server_cpu
    stats.bench_cpu = cpu_seconds(os.getpid()) - bench_cpu
    stats.database_cpu = database_cpu_seconds(database_name) - database_cpu
    stats.load = os.getloadavg()[0]
    return stats


async def check(settings, acked: dict) -> dict:
    """What the database and the store hold against what the phones were told: duplicates and missing."""
    from server.intake.photos import photo_store
    from server.models import Attachment, Household, Submission, Visit

    store = photo_store(settings)
    found = {
        "households": {str(i) for i in await Household.all().values_list("id", flat=True)},
        "submissions": {str(i) for i in await Submission.all().values_list("id", flat=True)},
        "photos": set(await Attachment.all().values_list("sha256", flat=True)),
    }
    visits = await Visit.all().count()
    bad_bytes = 0
    for sha in sorted(acked["photos"]):
        digest = hashlib.sha256()
        async for chunk in await store.open(sha):
            digest.update(chunk)
        bad_bytes += digest.hexdigest() != sha
    return {kind: {"acknowledged": len(acked[kind]), "missing": len(acked[kind] - found[kind]),
                   "duplicates": len(found[kind] - acked[kind])} for kind in found} | {
        "visits_beyond_submissions": visits - len(found["submissions"]), "photos_not_matching_hash": bad_bytes}


def report(name: str, stats: Stats) -> None:
    print(f"\n{name}: {stats.visits} visits in {stats.seconds:.0f} s = {stats.visits / stats.seconds:.2f} visits/s")
    print(f"  {'request':11} {'count':>7} {'p50 ms':>8} {'p99 ms':>8} {'drops':>6}")
    for kind in KINDS:
        times = stats.latency[kind]
        print(f"  {kind:11} {len(times):7} {percentile(times, 50) * 1000:8.0f} {percentile(times, 99) * 1000:8.0f}"
              f" {stats.drops[kind]:6}")
    print(f"  errors: {sum(stats.errors.values())}" + "".join(f"\n    {k}: {v}" for k, v in stats.errors.items()))
    cores = {"instances": stats.server_cpu, "PostgreSQL": stats.database_cpu, "this bench": stats.bench_cpu}
    print("  CPU: " + ", ".join(f"{k} {v / stats.seconds:.2f} cores" for k, v in cores.items())
          + f" of {os.cpu_count()}; instances {stats.server_cpu / max(stats.visits, 1) * 1000:.0f} ms per visit; "
          f"load average {stats.load:.1f}")
    waiting, busy = (statistics.fmean(c) for c in zip(*(stats.locks or [(0, 0)])))
    print(f"  PostgreSQL backends (mean of {len(stats.locks)} samples): {busy:.1f} busy, {waiting:.1f} waiting for a lock")


async def main(args) -> None:
    async with throwaway("postgres", SECRET) as database:
        with shared_store(args.store, database.folder) as store:
            await run(args, database, store)


async def run(args, database, store: dict[str, str]) -> None:
    from server.settings import load_settings

    env = server_env(database.url, database.folder, store, SECRET)
    tokens, where = await seed(args.phones)
    photo = base_photo()
    print(f"{args.phones} phones, {args.minutes} min per phase, photos {len(photo) / 1e6:.2f} MB, "
          f"drop {args.drop:.0%} of uploads/registrations/submissions, think {args.think} s, store {args.store}")
    acked = {"households": set(), "submissions": set(), "photos": set()}
    instances = [Instance(env), Instance(env)]
    figures = {}
    try:
        for count in (1, 2):
            await instances[count - 1].start()
            figures[count] = await phase(instances[:count], tokens, where, args.minutes, args.drop, args.think,
                                         photo, acked, database.url)
            report(f"{count} instance{'s' if count > 1 else ''}", figures[count])
    finally:
        for instance in instances:
            instance.stop()
    ratio = (figures[2].visits / figures[2].seconds) / (figures[1].visits / figures[1].seconds)
    print(f"\nthroughput two/one instances: {ratio:.2f} (goal >= 1.6)")
    settings = load_settings({}, data_dir=database.folder / "data", database_url=database.url, secret=SECRET,
                             **store_settings(store))
    result = await check(settings, acked)
    for kind in ("households", "submissions", "photos"):
        r = result[kind]
        print(f"{kind}: {r['acknowledged']} acknowledged, {r['duplicates']} duplicates, {r['missing']} missing")
    print(f"visits without a submission: {result['visits_beyond_submissions']}; "
          f"photos whose bytes do not match their hash: {result['photos_not_matching_hash']}")


def parse(argv: list[str]):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phones", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--store", choices=STORES, default="local")
    parser.add_argument("--drop", type=float, default=0.03, help="share of requests whose connection drops")
    parser.add_argument("--think", type=float, default=0.0, help="mean pause between a phone's visits, seconds")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse(sys.argv[1:])))
