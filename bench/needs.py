"""The needs report of a county's month: 1,000,000 needs over a county of 18 townships and 300 communities, raised
over twelve months (about 83,000 a month), most of them dispatched, accepted and done.

(a) the report's counts (`server.needs.reports.counts`: every count by township, by category, by provider and in
    total, from one GROUP BY over (township, category, provider)), against a hand-written SQL GROUP BY of the counts
    by township over the same tables in the same run (goal: within 1.5x of it, and under 1 s on PostgreSQL);
(b) the whole area × month report as the API computes it (`needs_report`; on SQLite the counts and one median
    statement, one scan of the month materialised and each span ranked by four window functions; on PostgreSQL one statement of GROUPING SETS and
    percentile_cont) against the same hand-written GROUP BY, which has no medians.

Figures (2 shared CPUs, other test runs beside): PostgreSQL: counts 307 ms against 240 ms (1.28x), the whole report
569 ms (2.4x); SQLite: counts 350 ms against 279 ms (1.26x), the whole report 1.8 s in two statements (5.1 s
before in three; the median statement is one scan materialised, about the GROUP BY's time, and eight window sorts
over the month's ~80,000 needs, about three quarters of the rest).

Each figure is the median of 5 runs after one to warm the caches.

Run: .venv/bin/python bench/needs.py [needs]   (SQLite in a temporary folder; DOORSTEP_DATABASE_URL for PostgreSQL)
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

NEEDS = 1_000_000
TOWNSHIPS, COMMUNITIES = 18, 300
HOUSEHOLDS_PER_COMMUNITY = 40
RUNS = 5
SECRET = "bench-secret-" + "n" * 32
ITEMS = [("elderly.meal_shopping", "elderly"), ("elderly.cleaning", "elderly"), ("child.after_school", "child"),
         ("affairs.rehabilitation", "affairs"), ("assistance.policy_advice", "assistance")]
START = datetime(2025, 1, 1, tzinfo=timezone.utc)


async def seed(needs: int, rng: random.Random) -> tuple:
    """The county, its areas, households, providers and needs, written in batches of plain INSERTs."""
    from factories import make_area, make_provider, make_user
    from server.core import sql
    from server.models import Household, Need

    county = await make_area("county", name="巴陵区")
    townships = [await make_area("township", county, f"乡镇{n}") for n in range(TOWNSHIPS)]
    communities = [await make_area("community", townships[n % TOWNSHIPS], f"社区{n}") for n in range(COMMUNITIES)]
    providers = [await make_provider(townships[n % TOWNSHIPS], name=f"机构{n}") for n in range(40)]
    bureau = await make_user("bureau", county)
    households = []
    for community in communities:
        batch = [Household(id=uuid.uuid4(), community_id=community.id, address="1 组 1 号", head="张秀英",
                           body_hash="0" * 64, created_at=START, updated_at=START)
                 for _ in range(HOUSEHOLDS_PER_COMMUNITY)]
        await sql.insert(*batch)
        households += [h.id for h in batch]
    for start in range(0, needs, 1000):
        rows = []
        for _ in range(start, min(start + 1000, needs)):
            raised = START + timedelta(minutes=rng.randrange(365 * 24 * 60))
            step = rng.random()
            item, category = rng.choice(ITEMS)
            dispatched = raised + timedelta(hours=rng.randrange(1, 200)) if step > 0.15 else None
            accepted = dispatched + timedelta(hours=rng.randrange(1, 100)) if dispatched and step > 0.25 else None
            done = accepted + timedelta(hours=rng.randrange(1, 400)) if accepted and step > 0.4 else None
            status = ("done" if done else "accepted" if accepted else "dispatched" if dispatched else "raised")
            rows.append(Need(id=uuid.uuid4(), household_id=rng.choice(households), item=item, category=category,
                             urgency="normal", raised_at=raised, due_at=raised + timedelta(days=30), status=status,
                             consent=True, provider_id=rng.choice(providers).id if dispatched else None,
                             dispatched_at=dispatched, accepted_at=accepted, done_at=done, updated_at=raised))
        await sql.insert(*rows)
    return county, bureau


async def floor(county_id: uuid.UUID, start: datetime, end: datetime) -> list[dict]:
    """The hand-written GROUP BY: the month's counts by township, one statement."""
    from server.core import sql
    from server.needs.reports import _at

    return await sql.fetch("""
        SELECT a.township_id AS k, COUNT(*) AS raised, COUNT(n.dispatched_at) AS dispatched,
               COUNT(n.accepted_at) AS accepted, COUNT(n.done_at) AS done,
               SUM(CASE WHEN n.status IN ('raised', 'dispatched', 'accepted', 'in_service') AND n.due_at < $4
                   THEN 1 ELSE 0 END) AS overdue
        FROM need n JOIN household h ON h.id = n.household_id JOIN area a ON a.id = h.community_id
        WHERE n.raised_at >= $1 AND n.raised_at < $2 AND a.county_id = $3 GROUP BY a.township_id""",
                           [_at(start), _at(end), str(county_id), _at(end)])


async def timed(make) -> float:
    await make()  # warm
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        await make()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def bench_needs(settings, needs: int = NEEDS) -> dict:
    """The figures; tests/test_bench.py runs this with a tiny count so that it keeps running."""
    from server.core.caller import Caller
    from server.needs import reports
    from server.needs.reading import month_range

    rng = random.Random(20250318)
    started = time.perf_counter()
    county, bureau = await seed(needs, rng)
    loaded = time.perf_counter() - started
    caller = Caller(bureau, "bench")
    start, end = month_range(settings, "2025-06")
    report = await reports.needs_report(caller, settings, str(county.id), "2025-06")
    rows = await floor(county.id, start, end)
    assert sum(r["raised"] for r in rows) == report["totals"]["raised"], "the report and the floor disagree"
    params = [reports._at(start), reports._at(end), str(county.id)]
    where, cut = "a.county_id = $3", 4
    return {
        "needs": needs, "month": report["totals"]["raised"], "load_seconds": loaded,
        "report": await timed(lambda: reports.needs_report(caller, settings, str(county.id), "2025-06")),
        "counts": await timed(lambda: reports.counts("a.township_id", where, params + [params[1]], cut)),
        "floor": await timed(lambda: floor(county.id, start, end)),
    }


def report(figures: dict, database: str) -> None:
    print(f"{database}: {figures['needs']} needs loaded in {figures['load_seconds']:.0f} s; June: "
          f"{figures['month']} needs")
    floor = figures["floor"]
    ratio = figures["counts"] / floor
    print(f"(a) the report's counts (every grouping, one GROUP BY): {figures['counts'] * 1000:.0f} ms; the "
          f"hand-written GROUP BY by township: {floor * 1000:.0f} ms; {ratio:.2f}x (goal <= 1.5x: "
          f"{'meets' if ratio <= 1.5 else 'MISSES'}; under 1 s: {'meets' if figures['counts'] < 1 else 'MISSES'})")
    statements = "1 statement" if database.startswith("PostgreSQL") else "2 statements"
    print(f"(b) the whole report with its medians ({statements}): {figures['report'] * 1000:.0f} ms, "
          f"{figures['report'] / floor:.1f}x the hand-written GROUP BY (under 1 s: "
          f"{'meets' if figures['report'] < 1 else 'MISSES'})")


async def main() -> None:
    from _database import chosen, throwaway

    [kind] = chosen([])  # PostgreSQL when DOORSTEP_DATABASE_URL names it, else SQLite
    async with throwaway(kind, SECRET) as database:
        needs = int(sys.argv[1]) if len(sys.argv) > 1 else NEEDS
        report(await bench_needs(database.settings, needs), database.name)


if __name__ == "__main__":
    asyncio.run(main())
