"""Household files (issue 13): opening one, finding one among 100,000, and a phone's sync, on SQLite and PostgreSQL.

(a) p95 time to open a household file with 300 visits and 1,500 photos (`GET /api/v1/households/{id}` through the
    ASGI app, as its worker): goal < 100 ms;
(b) p95 of a household search over 100,000 households of a county, as the county's bureau (who sees them all), by a
    name (a substring of the names column), pinyin initials, full pinyin and a full ID number: goal < 150 ms each;
    and the first page of the list with no filter at all, as the bureau first opens it;
(c) the first sync of a worker with 500 households of 3 members each (goal <= 200 KB on the wire) and a later one
    after 10 households changed (goal <= 10 KB): bench/sync.py's measurement, run here;
(d) the bulk export of an area as bench/area_export.py measures it: against `zip -0`, with its memory.

Baseline of (a) and (b), from the same run and database: the p95 of a request that does nothing but authenticate
(`GET /api/v1/me`), the part of every request that is not the file's or the search's.

Run: .venv/bin/python bench/households.py [--sqlite] [--postgres]   (both, each in a throwaway database, unless one
    is named: bench/_database.py)
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

import httpx  # noqa: E402

VISITS, PHOTOS_EACH = 300, 5
HOUSEHOLDS, TOWNSHIPS, VILLAGES_EACH = 100_000, 4, 25
ROUNDS = 40
FILE_GOAL, SEARCH_GOAL = 0.100, 0.150
SECRET = "bench-secret-" + "h" * 32


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]


async def timed(client, path: str, headers: dict, params: dict | None = None) -> float:
    started = time.perf_counter()
    response = await client.get(path, params=params, headers=headers)
    seconds = time.perf_counter() - started
    assert response.status_code == 200, response.text[:500]
    return seconds


async def baseline(client, headers: dict, rounds: int) -> float:
    return p95([await timed(client, "/api/v1/me", headers) for _ in range(rounds)])


def app_for(settings):
    from server.app import create_app

    return create_app(settings, manage_database=False)


async def close(app) -> None:
    await app.state.thumbnails.close()
    app.state.image_workers.shutdown(wait=True)


async def bench_file(settings, visits: int = VISITS, photos_each: int = PHOTOS_EACH, rounds: int = ROUNDS) -> dict:
    """(a): p95 seconds of opening the file, and of the baseline; tests/test_bench.py runs it with tiny counts."""
    from _household_data import seed_big_file
    from factories import headers_for, make_district, make_form_version, make_household, make_user

    app = app_for(settings)
    district = await make_district()
    user = await make_user("worker", district.east_a)
    worker = await headers_for(settings, user)
    household = await make_household(district.east_a)
    await seed_big_file(household, user.id, await make_form_version("home_visit"), visits, photos_each,
                        random.Random(20250318))
    path = f"/api/v1/households/{household.id}"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        response = await client.get(path, headers=worker)
        shown = response.json()
        assert len(shown["visits"]["items"]) == min(visits, 20) and shown["needs"], response.text[:500]
        figures = {"file": p95([await timed(client, path, worker) for _ in range(rounds)]),
                   "baseline": await baseline(client, worker, rounds), "bytes": len(response.content)}
    await close(app)
    return figures


def queries(people: list[dict], rounds: int, rng: random.Random) -> dict[str, list[str]]:
    """What workers type, drawn from the people stored: a name (rarely shared, so the search reads the whole
    county to fill a page), its pinyin initials and in full, and an ID number."""
    from server.households.search import name_pinyin

    drawn = rng.sample(people, rounds)
    return {
        "name": [p["name"] for p in drawn],
        "pinyin initials": [name_pinyin(p["name"])[1] for p in drawn],
        "full pinyin": [name_pinyin(p["name"])[0] for p in drawn],
        "ID number": [p["id_number"] for p in drawn],
    }


async def bench_search(settings, households: int = HOUSEHOLDS, rounds: int = ROUNDS,
                       villages: tuple[int, int] = (TOWNSHIPS, VILLAGES_EACH)) -> dict:
    """(b): p95 seconds per kind of query, the baseline, and the seconds the households took to store."""
    from _household_data import make_villages, seed_county
    from factories import headers_for, make_area, make_user
    from server.core import sql

    app = app_for(settings)
    county = await make_area("county", name="巴陵区")
    rng = random.Random(20250318)
    started = time.perf_counter()
    people = await seed_county(await make_villages(county, *villages), households, settings, rng)
    seeded = time.perf_counter() - started
    if sql.is_postgres(sql.connection()):
        await sql.execute("ANALYZE")  # what autovacuum does after a load this size
    bureau = await headers_for(settings, await make_user("bureau", county))
    figures: dict = {"households": households, "seeded": seeded, "people": len(people), "p95": {}, "found": {}}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        for kind, typed in queries(people, rounds, rng).items():
            times, found = [], 0
            for q in typed:
                started = time.perf_counter()
                response = await client.get("/api/v1/households", params={"q": q}, headers=bureau)
                times.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text[:500]
                found += bool(response.json()["items"])
            figures["p95"][kind], figures["found"][kind] = p95(times), found / len(typed)
        times = []  # the list as the bureau first opens it: every household of the county, oldest first
        for _ in range(rounds):
            started = time.perf_counter()
            response = await client.get("/api/v1/households", headers=bureau)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200 and response.json()["items"], response.text[:500]
        figures["p95"]["no filter"], figures["found"]["no filter"] = p95(times), 1.0
        figures["baseline"] = await baseline(client, bureau, rounds)
    await close(app)
    return figures


def verdict(seconds: float, goal: float) -> str:
    return f"goal < {goal * 1000:.0f} ms: {'meets' if seconds < goal else 'MISSES'}"


def report_file(f: dict) -> None:
    print(f"(a) open a household file of {VISITS} visits, {VISITS * PHOTOS_EACH} photos ({f['bytes'] / 1024:.0f} KB, "
          f"first page of visits): p95 {f['file'] * 1000:.1f} ms ({verdict(f['file'], FILE_GOAL)}); "
          f"baseline GET /api/v1/me p95 {f['baseline'] * 1000:.1f} ms")


def report_search(f: dict) -> None:
    print(f"(b) search over {f['households']:,} households, {f['people']:,} people (stored in {f['seeded']:.0f} s), "
          f"as the county's bureau; baseline GET /api/v1/me p95 {f['baseline'] * 1000:.1f} ms")
    for kind, seconds in f["p95"].items():
        print(f"    {kind:<16} p95 {seconds * 1000:6.1f} ms ({verdict(seconds, SEARCH_GOAL)}; "
              f"found in {f['found'][kind]:.0%} of the searches)")


async def main() -> None:
    import area_export as export_bench
    import sync as sync_bench
    from _database import chosen, run_apart, throwaway

    kinds = chosen(sys.argv[1:], default=("sqlite", "postgres"))
    if run_apart(kinds):
        return
    for kind in kinds:
        # Each part in a database of its own: one's rows do not weigh on another's figures.
        async with throwaway(kind, SECRET) as database:
            print(f"== {database.name}")
            report_file(await bench_file(database.settings))
        async with throwaway(kind, SECRET) as database:
            report_search(await bench_search(database.settings))
        async with throwaway(kind, SECRET) as database:
            print("(c) offline sync (bench/sync.py):")
            sync_bench.report(await sync_bench.bench_sync(database.settings))
        async with throwaway(kind, SECRET) as database:
            print("(d) bulk export of an area (bench/area_export.py):")
            export_bench.report(await export_bench.bench_export(database.settings, folder=database.folder / "work"))


if __name__ == "__main__":
    asyncio.run(main())
