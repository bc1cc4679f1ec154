"""Offline sync on a cheap phone's link: bytes on the wire for a worker with 500 households of 3 members each, and
their needs: 0 to 6 raised in the last year, 1.5 on average (one town's 42 social workers served about 14,000
person-times a year: ~330 each, under one per household of a 500-household caseload), each as far along as its age
says; those finished more than 90 days ago stay at the station (server.needs.offline).

(a) the first sync (every page, at the default page size), gzipped as a phone asks for it: goal <= 200 KB, which
    is 25 s of a 64 kbit/s link;
(b) a later sync after 10 of those households were visited (home-visit submissions through the API): goal <= 10 KB.

Each figure is the response as it travels (status line, headers and body), beside the same replies uncompressed
(Accept-Encoding: identity) as the baseline, and the server's time for each sync.

The households are made directly in the database, each as an economic survey and a home visit would have left it
(the situation and three members with names, ID numbers, birth dates, observation times), with the needs a needs
survey raised over the last year; the built-in forms and the service catalogue are loaded as
`doorstep load-builtins` loads them.

Run: .venv/bin/python bench/sync.py [--sqlite] [--postgres] [--needs=N]
     (N: needs raised per household in a year, 1.5 unless given; a throwaway database of each kind asked for,
     bench/_database.py; without either, SQLite, or the PostgreSQL database DOORSTEP_DATABASE_URL names)
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import httpx  # noqa: E402

HOUSEHOLDS = 500
MEMBERS = 3
NEEDS = 1.5  # per household on average
CHANGED = 10
FIRST_GOAL = 200 * 1024
LATER_GOAL = 10 * 1024
SECRET = "bench-secret-" + "s" * 32

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "秀英桂兰建国志强小红小军明华丽娟玉梅海燕国平春花德胜淑芬凤英永红金华家豪子涵雨轩思远晓东文静"
RELATIONS = ("self", "spouse", "child", "grandchild", "parent")
HEALTH = ("healthy", "chronic", "disabled", "poor")
WANTS = ("腿脚不便，需要代买菜", "独居，希望每周有人上门看看", "孩子放学后无人照看", "想了解低保申请的政策",
         "家里电线老化，需要排查", "需要陪同去医院复查", "希望参加技能培训找工作")
# A need's state after so many days, as a station works through them: (days since raised, states to pick from).
STAGES = ((7, ("raised", "dispatched")), (30, ("dispatched", "accepted", "in_service")),
          (90, ("in_service", "done", "evaluated", "closed")), (365, ("done", "evaluated", "evaluated", "closed")))


def _id_number(rng: random.Random, born: datetime) -> str:
    from form_samples import id_number

    return id_number("430602", born.strftime("%Y%m%d"), f"{rng.randrange(1000):03d}")


def _household(rng: random.Random, community_id: uuid.UUID, worker_id: uuid.UUID, n: int):
    """A household and its members as an economic survey, then a home visit, left them in the file."""
    from server.models import Household, Member

    surveyed = datetime(2025, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=rng.randrange(300_000))
    visited = surveyed + timedelta(days=rng.randrange(1, 60), minutes=rng.randrange(600))

    def meta(at: datetime) -> dict:
        return {"at": at.isoformat(), "received": (at + timedelta(hours=rng.randrange(1, 48))).isoformat(),
                "submission": str(uuid.uuid4()), "author": str(worker_id)}

    survey, visit = meta(surveyed), meta(visited)
    names = [rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice((1, 2)))) for _ in range(MEMBERS)]
    phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
    address = f"白竹亭社区 {rng.randrange(1, 12)} 组 {n % 80 + 1} 号"
    situation = {"assistance_type": rng.choice(("subsistence_allowance", "extreme_hardship", "none")),
                 "head_name": names[0], "phone": phone, "address": address, "household_size": MEMBERS,
                 "housing": rng.choice(("own", "rented", "relatives")), "income_source": "farming",
                 "monthly_income": rng.randrange(200, 3000), "health": rng.choice(HEALTH),
                 "care": rng.choice(("self", "family", "none"))}
    metas = {key: visit if key in ("health", "care") else survey for key in situation}
    household = Household(
        id=uuid.uuid4(), community_id=community_id, address=address, head=names[0], phone=phone,
        latitude=28.19 + rng.random() / 100, longitude=112.98 + rng.random() / 100, situation=situation,
        situation_meta=metas, body_hash="0" * 64, created_by_id=worker_id, created_at=surveyed, updated_at=visited,
        search_text="", search_pinyin="")
    members = []
    for i, name in enumerate(names):
        born = datetime(1940, 1, 1) + timedelta(days=rng.randrange(365 * 75))
        data = {"name": name, "relation": RELATIONS[min(i, 4)] if i else "self",
                "gender": rng.choice(("male", "female")), "id_number": _id_number(rng, born),
                "birth_date": born.date().isoformat(), "health": rng.choice(HEALTH),
                "occupation": rng.choice(("farming", "retired", "student", "unable")),
                "monthly_income": rng.randrange(0, 2000)}
        if born.year < 1960:
            data["tags"] = ["elderly"] + (["living_alone"] if rng.random() < 0.2 else [])
        members.append(Member(id=uuid.uuid4(), household_id=household.id, data=data, meta={k: survey for k in data},
                              created_at=surveyed, updated_at=surveyed))
    return household, members


def _needs(rng: random.Random, household, members: list, worker_id: uuid.UUID, items: list[str], average: float,
           at: datetime) -> list:
    """The needs a needs survey raised for the household over the last year, each as far along as its age says."""
    from server.models import Need

    needs = []
    for _ in range(sum(rng.random() < average / 6 for _ in range(6))):  # 0 to 6, `average` on average
        age = rng.randrange(365)
        status = rng.choice(next(states for days, states in STAGES if age < days))
        urgency = rng.choice(("normal", "normal", "normal", "high", "urgent"))
        # A phone's clock in milliseconds, the station's in microseconds.
        raised = at - timedelta(days=age, seconds=rng.randrange(86400), microseconds=rng.randrange(1000) * 1000)
        changed = raised + timedelta(days=rng.randrange(min(age, 60) + 1))  # deadlines are 2 to 30 days
        needs.append(Need(
            id=uuid.uuid4(), household_id=household.id, item=rng.choice(items), urgency=urgency,
            category=None, description=rng.choice(WANTS) if rng.random() < 0.5 else None,
            member=str(rng.choice(members).id) if rng.random() < 0.4 else None, raised_by_id=worker_id,
            raised_at=raised, due_at=raised + timedelta(days={"normal": 30, "high": 7, "urgent": 2}[urgency]),
            status=status, updated_at=changed, closed_at=changed if status == "closed" else None,
            done_at=changed if status in ("done", "evaluated") else None))
    return needs


async def seed(worker_id: uuid.UUID, community_id: uuid.UUID, count: int, needs: float = NEEDS) -> list:
    import forms
    from server.core import sql

    rng = random.Random(20250318)
    items = [item["code"] for category in forms.catalogue() for item in category["items"]]
    at = datetime.now(timezone.utc)
    households = []
    for start in range(0, count, 100):
        made = [_household(rng, community_id, worker_id, n) for n in range(start, min(start + 100, count))]
        await sql.insert(*(h for h, _ in made))
        await sql.insert(*(m for _, members in made for m in members))
        raised = [n for h, members in made for n in _needs(rng, h, members, worker_id, items, needs, at)]
        if raised:
            await sql.insert(*raised)
        households += [h for h, _ in made]
    return households


def wire_bytes(response: httpx.Response, body: bytes) -> int:
    """The response as HTTP/1.1 sends it: status line, headers, blank line, body."""
    head = f"HTTP/1.1 {response.status_code} {response.reason_phrase}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in response.headers.multi_items()) + "\r\n"
    return len(head.encode("latin-1")) + len(body)


async def sync_run(client, headers: dict, since: str | None, encoding: str) -> tuple[int, int, float, str, int, int]:
    """Every page of one sync: (bytes on the wire, pages, seconds, the next cursor, households and needs received)."""
    total = pages = households = needs = 0
    elapsed = 0.0
    while True:
        started = time.perf_counter()
        async with client.stream("GET", "/api/v1/sync", params={"since": since} if since else {},
                                 headers=headers | {"Accept-Encoding": encoding}) as response:
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
            elapsed += time.perf_counter() - started
            assert response.status_code == 200, raw[:500]
        page = httpx.Response(200, content=raw, headers=response.headers).json()
        total, pages, households = total + wire_bytes(response, raw), pages + 1, households + len(page["households"])
        needs += sum(len(h["needs"]) for h in page["households"])
        since = page["next_cursor"]
        if not page["more"]:
            return total, pages, elapsed, since, households, needs


async def bench_sync(settings, households: int = HOUSEHOLDS, changed: int = CHANGED, needs: float = NEEDS) -> dict:
    """The figures, in bytes and seconds; tests/test_bench.py runs this with tiny counts so that it keeps running."""
    from factories import (headers_for, home_visit, jpeg, make_district, make_user, sha256_of, submission_body,
                           upload)
    from server.app import create_app
    from server.ops.builtins import publish_builtins

    app = create_app(settings, manage_database=False)
    await publish_builtins()
    district = await make_district()
    user = await make_user("worker", district.east_a)
    worker = await headers_for(settings, user)
    stored = await seed(user.id, district.east_a.id, households, needs)
    figures = {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        gz, pages, seconds, cursor, received, carried = await sync_run(client, worker, None, "gzip")
        assert received == households, received
        plain, *_ = await sync_run(client, worker, None, "identity")
        figures["first"] = {"gzip": gz, "identity": plain, "pages": pages, "seconds": seconds, "needs": carried}

        photo = jpeg()
        await upload(client, worker, photo)
        sha = sha256_of(photo)
        for household in stored[:changed]:
            body = submission_body(household, home_visit(sha, [sha], health="poor", care="none"))
            response = await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=worker)
            assert response.status_code == 201, response.text
        gz, pages, seconds, _, received, carried = await sync_run(client, worker, cursor, "gzip")
        assert received == changed, received
        plain, *_ = await sync_run(client, worker, cursor, "identity")
        figures["later"] = {"gzip": gz, "identity": plain, "pages": pages, "seconds": seconds, "needs": carried}
    await app.state.thumbnails.close()
    app.state.image_workers.shutdown(wait=True)
    return figures


def report(figures: dict) -> None:
    for key, title, goal in (("first", f"first sync, {HOUSEHOLDS} households x {MEMBERS} members", FIRST_GOAL),
                             ("later", f"later sync, {CHANGED} households visited", LATER_GOAL)):
        f = figures[key]
        verdict = "meets" if f["gzip"] <= goal else "MISSES"
        print(f"{title}, {f['needs']} needs carried: {f['gzip'] / 1024:.1f} KB on the wire gzipped in "
              f"{f['pages']} page(s) (uncompressed {f['identity'] / 1024:.1f} KB, {f['identity'] / f['gzip']:.1f}x); "
              f"server {f['seconds'] * 1000:.0f} ms; goal <= {goal // 1024} KB: {verdict}")
        print(f"    at 64 kbit/s: {f['gzip'] * 8 / 64000:.1f} s")


async def main(needs: float) -> None:
    from _database import chosen, run_apart, throwaway

    kinds = chosen(sys.argv[1:])
    if run_apart(kinds):
        return
    for kind in kinds:
        async with throwaway(kind, SECRET) as database:
            print(f"== {database.name}")
            report(await bench_sync(database.settings, needs=needs))


if __name__ == "__main__":
    given = [arg.removeprefix("--needs=") for arg in sys.argv[1:] if arg.startswith("--needs=")]
    asyncio.run(main(float(given[0]) if given else NEEDS))
