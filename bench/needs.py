"""The needs report of a county's month: 1,000,000 needs over a county of 18 townships and 300 communities, raised
over twelve months (about 83,000 a month), most of them dispatched, accepted and done.

The report as the API computes it (`needs_report`: counts and the two medians by township, by category, by provider
and in total; one statement on either database) against the same figures written by hand in plain SQL over the same
tables in the same run: one GROUP BY per grouping, the medians by percentile_cont on PostgreSQL and, as SQLite has no
percentile, by ROW_NUMBER and COUNT over the grouping's partition (goal: within 1.5x, and under 1 s on PostgreSQL).
The floor's figures are checked against the report's.

For comparison, two hand-written statements that compute less: the counts by township (no medians), and the counts
with both medians by township only. A median is a sort of the month's spans per grouping, which a GROUP BY of counts
never does: the report's eight (two spans, four groupings) cost more than the whole counts statement.

Each figure is the median of 5 runs after one to warm the caches. Figures (2 shared CPUs, December 2026): SQLite, the
report 1,090 ms against 2,203 ms by hand (0.49x; township only with medians 563 ms, counts only 276 ms); PostgreSQL,
365 ms against 770 ms (0.47x; 203 ms, 105 ms).

Run: .venv/bin/python bench/needs.py [needs] [--sqlite] [--postgres]   (SQLite in a temporary folder; PostgreSQL a
database of the run's own on the local cluster, or the one DOORSTEP_DATABASE_URL names)
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


BASE = """FROM need n JOIN household h ON h.id = n.household_id JOIN area a ON a.id = h.community_id
          WHERE n.raised_at >= $1 AND n.raised_at < $2 AND a.county_id = $3"""
COUNTS = """COUNT(*) AS raised, COUNT(n.dispatched_at) AS dispatched, COUNT(n.accepted_at) AS accepted,
             COUNT(n.done_at) AS done,
             SUM(CASE WHEN n.due_at < $4 AND (n.done_at IS NULL OR n.done_at >= $4)
                      AND (n.closed_at IS NULL OR n.closed_at >= $4) THEN 1 ELSE 0 END) AS overdue"""
STEPS = "n.due_at, n.raised_at, n.dispatched_at, n.accepted_at, n.done_at, n.closed_at"


async def by_hand(params: list, key: str | None, medians: bool = True) -> list[dict]:
    """The month's counts (and the median days to accept and to done) by one grouping (`key`, or the whole), in
    the plain SQL a person writes for one table of a report."""
    from server.core import sql

    group = f" GROUP BY {key}" if key else ""
    if not medians:
        return await sql.fetch(f"SELECT {key or 'NULL'} AS k, {COUNTS} {BASE}{group}", params)
    if sql.is_postgres(sql.connection()):
        days = "EXTRACT(EPOCH FROM ({} - {})) / 86400.0"
        return await sql.fetch(f"""
            SELECT {key or 'NULL'} AS k, {COUNTS},
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY {days.format('n.accepted_at', 'n.dispatched_at')}) AS m0,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY {days.format('n.done_at', 'n.raised_at')}) AS m1
            {BASE}{group}""", params)
    part = "PARTITION BY k " if key else ""
    median = """(SELECT k, AVG(v) AS m FROM (
                     SELECT k, v, ROW_NUMBER() OVER w AS r, COUNT(*) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING
                                                                             AND UNBOUNDED FOLLOWING) AS c
                     FROM (SELECT k, julianday({0}) - julianday({1}) AS v FROM d WHERE {0} IS NOT NULL)
                     WINDOW w AS ({2}ORDER BY v))
                 WHERE r IN ((c + 1) / 2, (c + 2) / 2) GROUP BY k)"""
    return await sql.fetch(f"""
        WITH d AS MATERIALIZED (SELECT {key or 'NULL'} AS k, {STEPS} {BASE})
        SELECT c.*, m0.m AS m0, m1.m AS m1
        FROM (SELECT k, {COUNTS} FROM d n GROUP BY k) c
        LEFT JOIN {median.format('accepted_at', 'dispatched_at', part)} m0 ON m0.k IS c.k
        LEFT JOIN {median.format('done_at', 'raised_at', part)} m1 ON m1.k IS c.k""", params)


GROUPINGS = {"by_area": "a.township_id", "by_category": "n.category", "by_provider": "n.provider_id", "totals": None}


async def floor(params: list) -> dict:
    """The report's figures by hand: one statement per grouping."""
    return {name: await by_hand(params, key) for name, key in GROUPINGS.items()}


def agree(report: dict, floor: dict) -> None:
    """The floor computes the report's figures: every count and median of every grouping."""
    for name, rows in floor.items():
        mine = {None: report["totals"]} if name == "totals" else {r["key"]: r for r in report[name]}
        for row in rows:
            figures = mine[None if row["k"] is None else str(row["k"])]
            assert [int(row[m] or 0) for m in ("raised", "dispatched", "accepted", "done", "overdue")] == \
                [figures[m] for m in ("raised", "dispatched", "accepted", "done", "overdue")], name
            for m, metric in (("m0", "median_days_to_accept"), ("m1", "median_days_to_done")):
                assert (None if row[m] is None else round(float(row[m]), 1)) == figures[metric], (name, metric)


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
    rng = random.Random(20250318)
    started = time.perf_counter()
    county, bureau = await seed(needs, rng)
    loaded = time.perf_counter() - started
    return {"needs": needs, "load_seconds": loaded} | await measure(settings, county.id, bureau)


async def measure(settings, county_id: uuid.UUID, bureau) -> dict:
    """June's report of the county as its bureau asks for it, and the statements by hand beside it."""
    from server.core.caller import Caller
    from server.needs import reports
    from server.needs.reading import month_range

    caller = Caller(bureau, "bench")
    start, end = month_range(settings, "2025-06")
    params = [reports._at(start), reports._at(end), str(county_id), reports._at(end)]
    report = await reports.needs_report(caller, settings, str(county_id), "2025-06")
    agree(report, await floor(params))
    return {
        "month": report["totals"]["raised"],
        "report": await timed(lambda: reports.needs_report(caller, settings, str(county_id), "2025-06")),
        "floor": await timed(lambda: floor(params)),
        "township": await timed(lambda: by_hand(params, "a.township_id")),
        "counts": await timed(lambda: by_hand(params, "a.township_id", medians=False)),
    }


def report(figures: dict, database: str) -> None:
    print(f"{database}: {figures['needs']} needs loaded in {figures['load_seconds']:.0f} s; June: "
          f"{figures['month']} needs")
    ms, floor = figures["report"] * 1000, figures["floor"] * 1000
    ratio = ms / floor
    second = f"; under 1 s: {'meets' if ms < 1000 else 'MISSES'}" if database == "PostgreSQL" else ""
    print(f"the report (counts and medians by township, category, provider and in total): {ms:.0f} ms; the same "
          f"figures by hand (a GROUP BY per grouping): {floor:.0f} ms; {ratio:.2f}x (goal <= 1.5x: "
          f"{'meets' if ratio <= 1.5 else 'MISSES'}{second})")
    for name, what in (("township", "counts and medians by township only"), ("counts", "counts by township only")):
        print(f"  by hand, {what}: {figures[name] * 1000:.0f} ms (the report {ms / (figures[name] * 1000):.1f}x)")


async def main() -> None:
    from _database import chosen, run_apart, throwaway

    kinds = chosen(sys.argv[1:])  # --sqlite, --postgres; else the one DOORSTEP_DATABASE_URL names, or SQLite
    if run_apart(kinds):
        return
    counts = [int(arg) for arg in sys.argv[1:] if not arg.startswith("--")]
    async with throwaway(kinds[0], SECRET) as database:
        report(await bench_needs(database.settings, counts[0] if counts else NEEDS), database.name)


if __name__ == "__main__":
    asyncio.run(main())
