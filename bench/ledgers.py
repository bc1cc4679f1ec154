"""Ledgers and visit plans of a township: 5,000 households with two elders each (10,000 lines on the elderly ledger).

(a) the elderly ledger as XLSX through the API (read in batches, written in a worker thread, streamed), against the
    same rows written straight to a workbook by the same writer (`core.sheets`) from memory, with no database and no
    HTTP (goal >= 0.5 of its rows/s);
(b) the export's peak Python memory (tracemalloc) for one of the township's four communities and for all of it
    (goal: grows less than 10 %);
(c) p95 of the first JSON page of the ledger, of a worker's due list and of a supervisor's overdue counts
    (goal < 150 ms each).

The households are made directly in the database as an elderly-ledger visit would have left them: situation, two
elders with names, ID numbers, birth dates and tags, a visit in the last 60 days, and their ledger lines.

Run: .venv/bin/python bench/ledgers.py [--sqlite] [--postgres]
    (a throwaway database of each kind asked for, bench/_database.py; without either, SQLite, or the PostgreSQL
    database DOORSTEP_DATABASE_URL names)
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import httpx  # noqa: E402

HOUSEHOLDS = 5000
ROUNDS = 20
SECRET = "bench-secret-" + "l" * 32
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "秀英桂兰建国志强明华丽娟玉梅海燕国平春花德胜淑芬凤英永红金华家豪文静"
TAGS = (["elderly"], ["elderly", "living_alone"], ["empty_nest"], ["elderly", "low_income"])


async def seed(communities: list, worker_id: uuid.UUID, count: int, rng: random.Random) -> None:
    """Households, members, a visit each and their ledger lines, as `ledgers.sync` would have left them."""
    from form_samples import id_number
    from server.core import sql
    from server.households import ledger_rules
    from server.models import Household, LedgerEntry, Member, Visit

    today = date.today()
    for start in range(0, count, 200):
        households, members, visits, lines = [], [], [], []
        for n in range(start, min(start + 200, count)):
            visited = datetime.now(timezone.utc) - timedelta(days=rng.randrange(60), minutes=rng.randrange(600))
            situation = {"income_source": rng.choice(("pension", "children", "farming")), "family_structure": "couple",
                         "health": rng.choice(("independent", "partial")), "care": rng.choice(("self", "spouse")),
                         "risk_level": rng.choice(("low", "medium", "high"))}
            name = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2))
            household = Household(id=uuid.uuid4(), community_id=communities[n % len(communities)].id,
                                  address=f"{n % 12 + 1} 组 {n % 80 + 1} 号", head=name, phone="13807312456",
                                  situation=situation, situation_meta={}, body_hash="0" * 64, created_at=visited,
                                  updated_at=visited, search_text="", search_pinyin="")
            households.append(household)
            visits.append(Visit(household_id=household.id, worker_id=worker_id, observed_at=visited,
                                created_at=visited))
            elders = []
            for i in range(2):
                born = date(1930, 1, 1) + timedelta(days=rng.randrange(365 * 30))
                data = {"name": name if i == 0 else rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2)),
                        "gender": rng.choice(("male", "female")), "birth_date": born.isoformat(),
                        "id_number": id_number("430602", born.strftime("%Y%m%d"), f"{rng.randrange(1000):03d}"),
                        "tags": rng.choice(TAGS)}
                member = Member(id=uuid.uuid4(), household_id=household.id, data=data, meta={}, created_at=visited,
                                updated_at=visited)
                members.append(member)
                elders.append((member.id, data))
            for line in ledger_rules.entries_for(situation, elders, today).values():
                lines.append(LedgerEntry(household_id=household.id, member_id=line.member, kind=line.kind,
                                         plan=line.plan.code, every_days=line.plan.every_days,
                                         birth_date=line.birth_date, last_visit_at=visited,
                                         due_at=visited + timedelta(days=line.plan.every_days), created_at=visited,
                                         updated_at=visited))
        for rows in (households, members, visits, lines):
            await sql.insert(*rows)


def baseline(rows: list[list], titles: list[str]) -> float:
    """Seconds to write the rows straight to a workbook with the same writer, from memory."""
    from server.core import sheets

    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    started = time.perf_counter()
    book = sheets.Book(path)
    sheet = book.add_sheet("台账", titles)
    for row in rows:
        sheet.append(row)
    book.close()
    seconds = time.perf_counter() - started
    os.unlink(path)
    return seconds


async def export(client, headers: dict, area: str | None = None) -> tuple[float, int]:
    """Seconds and bytes of one export, read as it streams (the client keeps none of it)."""
    started, size = time.perf_counter(), 0
    async with client.stream("GET", "/api/v1/ledgers/elderly.xlsx", params={"area": area} if area else {},
                             headers=headers) as response:
        assert response.status_code == 200
        async for chunk in response.aiter_raw():
            size += len(chunk)
    return time.perf_counter() - started, size


async def p95(client, path: str, headers: dict, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = await client.get(path, headers=headers)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
    return statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]


async def bench_ledgers(settings, households: int = HOUSEHOLDS, rounds: int = ROUNDS) -> dict:
    """The figures; tests/test_bench.py runs this with tiny counts so that it keeps running."""
    from factories import headers_for, make_area, make_district, make_user
    from server.app import create_app
    from server.households import ledger_columns
    from server.models import LedgerEntry

    app = create_app(settings, manage_database=False)
    district = await make_district()
    communities = [district.east_a, district.east_b] + [await make_area("community", district.east, f"社区{n}")
                                                        for n in range(2)]
    worker = await make_user("worker", district.east_a)
    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    rng = random.Random(20250318)
    await seed(communities, worker.id, households, rng)
    lines = await LedgerEntry.filter(kind="elderly").count()
    figures: dict = {"lines": lines}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        seconds, size = await export(client, supervisor)
        records = await LedgerEntry.filter(kind="elderly").values(*ledger_columns.FIELDS)
        zone = ZoneInfo(settings.station_timezone)
        rows = await ledger_columns.rows("elderly", records, date.today(), zone)
        rows = [[v.astimezone(zone).replace(tzinfo=None) if isinstance(v, datetime) else v for v in row]
                for row in rows]
        floor = baseline(rows, [c.title for c in ledger_columns.COLUMNS["elderly"]])
        figures["export"] = {"seconds": seconds, "bytes": size, "baseline": floor}
        peaks = {}
        for name, area in (("community", str(district.east_a.id)), ("township", None)):
            tracemalloc.start()
            await export(client, supervisor, area)
            peaks[name] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        figures["memory"] = peaks
        worker_headers = await headers_for(settings, worker)
        figures["p95"] = {
            "ledger page": await p95(client, "/api/v1/ledgers/elderly", supervisor, rounds),
            "due list": await p95(client, "/api/v1/visit-plans/due", worker_headers, rounds),
            "overdue counts": await p95(client, "/api/v1/visit-plans/overdue", supervisor, rounds),
        }
    await app.state.thumbnails.close()
    app.state.image_workers.shutdown(wait=True)
    return figures


def report(figures: dict) -> None:
    export, lines = figures["export"], figures["lines"]
    rate, floor = lines / export["seconds"], lines / export["baseline"]
    print(f"(a) XLSX of {lines} elderly-ledger lines: {export['seconds']:.2f} s, {rate:.0f} lines/s, "
          f"{export['bytes'] / 1024:.0f} KB; the same rows written from memory: {floor:.0f} rows/s; "
          f"ratio {rate / floor:.2f} (goal >= 0.5: {'meets' if rate / floor >= 0.5 else 'MISSES'})")
    memory = figures["memory"]
    growth = memory["township"] / memory["community"] - 1
    print(f"(b) peak Python memory of an export: {memory['community'] / 2**20:.1f} MB for one of the four "
          f"communities, {memory['township'] / 2**20:.1f} MB for the township ({growth:+.0%}; goal < +10 %: "
          f"{'meets' if growth < 0.10 else 'MISSES'})")
    for name, seconds in figures["p95"].items():
        print(f"(c) p95 {name}: {seconds * 1000:.1f} ms (goal < 150 ms: {'meets' if seconds < 0.15 else 'MISSES'})")


async def main() -> None:
    from _database import chosen, run_apart, throwaway

    kinds = chosen(sys.argv[1:])
    if run_apart(kinds):
        return
    for kind in kinds:
        async with throwaway(kind, SECRET) as database:
            print(f"== {database.name}")
            report(await bench_ledgers(database.settings))


if __name__ == "__main__":
    asyncio.run(main())
