"""Data for bench/households.py, written straight to the database in multi-row INSERTs (`core.sql.insert`), as the
app would have left it: one household file with hundreds of visits and photos, and a county of 100,000 households
with realistic names (polyphone surnames too), villages, addresses, phones and ID numbers, indexed for search as
`search.index` indexes them."""

from __future__ import annotations

import hashlib
import random
import sys
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [p for p in (str(ROOT), str(ROOT / "tests")) if p not in sys.path]

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
            "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱覃单解仇区查翟")
GIVEN = ("秀英桂兰建国志强小红军明华丽娟玉梅海燕平春花德胜淑芬凤永金家豪子涵雨轩思远晓东文静佳怡浩然欣妍俊杰"
         "宇航梓萱博文嘉懿芳敏婷伟刚勇毅磊超鹏辉涛斌亮成康福禄寿喜翠莲菊香桃杏荣贵富满田根生")
PLACES = ("白竹亭 凌云 楚江圩 凤凰 桃花 杨柳 石门 青山 黄土 新塘 枫树 荷塘 柏树 栗山 龙潭 马鞍 牛角 金盆 银杏 月亮 太阳 "
          "三合 五里 七星 九龙 十里 长岭 高桥 大坪 小河 东湖 西冲 南岳 北港 中洲 梅溪 兰田 竹山 松林 柳塘").split()
SEARCH_BATCH = 1000


def _stamp(rng: random.Random) -> datetime:
    return datetime(2024, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=rng.randrange(900_000))


def name_of(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice((1, 2, 2))))


def id_number_of(rng: random.Random, born: date) -> str:
    from form_samples import id_number

    return id_number(rng.choice(("430602", "430621", "430623", "430681")), born.strftime("%Y%m%d"),
                     f"{rng.randrange(1000):03d}")


async def seed_big_file(household, worker_id: uuid.UUID, form_version, visits: int, photos_each: int,
                        rng: random.Random, salt: str = "") -> None:
    """`visits` home visits of one household, each a submission with `photos_each` photos; one in ten raises a
    need, as the home-visit form binds them. Another file seeded in the same database needs another `salt` (its
    photos' hashes)."""
    from form_samples import sample
    from server.core import sql
    from server.models import Attachment, Need, Submission, SubmissionAttachment, Visit

    answers = sample("home_visit")
    for start in range(0, visits, 50):
        rows_v, rows_s, rows_a, rows_l, rows_n = [], [], [], [], []
        for n in range(start, min(start + 50, visits)):
            at = _stamp(rng)
            visit = Visit(id=uuid.uuid4(), household_id=household.id, worker_id=worker_id, started_at=at,
                          finished_at=at + timedelta(minutes=40), observed_at=at, created_at=at)
            shas = [hashlib.sha256(f"{salt}{n}-{i}".encode()).hexdigest() for i in range(photos_each)]
            sid = uuid.uuid4()
            needs = [{"pointer": "/services_needed/0", "item": "elderly.home_visit", "urgency": "normal",
                      "description": "需要定期上门", "member": None}] if n % 10 == 0 else []
            rows_v.append(visit)
            rows_s.append(Submission(
                id=sid, form_id=form_version.form_id, form_version_id=form_version.id, household_id=household.id,
                visit_id=visit.id, author_id=worker_id, data=answers | {"door_photo": shas[0], "photos": shas[1:]},
                changes={"situation": {"health": "partial"}, "members": [], "needs": needs}, flags=[],
                body_hash="0" * 64, started_at=at, finished_at=at + timedelta(minutes=40), observed_at=at,
                received_at=at + timedelta(hours=2), original_id=sid, review_state="approved"))
            rows_n += [Need(id=uuid.uuid4(), household_id=household.id, item=need["item"], category="elderly",
                            urgency=need["urgency"], description=need["description"], submission_id=sid,
                            pointer=need["pointer"], raised_by_id=worker_id, raised_at=at,
                            due_at=at + timedelta(days=30), status="done", updated_at=at) for need in needs]
            for i, sha in enumerate(shas):
                rows_a.append(Attachment(sha256=sha, media_type="image/jpeg", size=2_400_000, width=4000, height=3000,
                                         taken_at=at, uploaded_by_id=worker_id, created_at=at))
                rows_l.append(SubmissionAttachment(submission_id=sid, attachment_id=sha,
                                                   pointer="/door_photo" if i == 0 else f"/photos/{i - 1}"))
        for rows in (rows_v, rows_s, rows_a, rows_l, rows_n):
            if rows:
                await sql.insert(*rows)


async def make_villages(county, townships: int, villages_each: int) -> list:
    from factories import make_area

    villages = []
    for t in range(townships):
        township = await make_area("township", county, f"{PLACES[t]}镇")
        for v in range(villages_each):
            place = PLACES[(t * villages_each + v) % len(PLACES)]
            suffix = ("村", "社区", "湾村")[(t * villages_each + v) // len(PLACES) % 3]
            villages.append(await make_area("community", township, f"{place}{suffix}"))
    return villages


async def seed_county(villages: list, count: int, settings, rng: random.Random) -> list[dict]:
    """`count` households spread over the villages, one to four members each; returns every member as
    {"name", "id_number"} for the queries to be drawn from."""
    from server.core import sql
    from server.households import search
    from server.models import Household, Member

    people: list[dict] = []
    pinyin: dict[str, list[str]] = {}
    original = search.name_pinyin
    search.name_pinyin = lambda name: pinyin.setdefault(name, original(name))  # names repeat: read each once
    try:
        for start in range(0, count, SEARCH_BATCH):
            households, members = [], []
            for n in range(start, min(start + SEARCH_BATCH, count)):
                village = villages[n % len(villages)]
                at = _stamp(rng)
                household = Household(
                    id=uuid.uuid4(), community_id=village.id, head="",
                    address=f"{village.name} {rng.randrange(1, 16)} 组 {rng.randrange(1, 120)} 号",
                    phone=f"1{rng.choice('3578')}{rng.randrange(10**9):09d}", situation={}, situation_meta={},
                    body_hash="0" * 64, created_at=at, updated_at=at)
                living = []
                for i in range(rng.choice((1, 2, 2, 3, 3, 4))):
                    born = date(1935, 1, 1) + timedelta(days=rng.randrange(365 * 85))
                    data = {"name": name_of(rng), "birth_date": born.isoformat(), "id_number": id_number_of(rng, born),
                            "relation": "self" if i == 0 else rng.choice(("spouse", "child", "parent"))}
                    living.append(Member(id=uuid.uuid4(), household_id=household.id, data=data, meta={},
                                         id_number_key=search.id_number_key(settings, data["id_number"]),
                                         created_at=at, updated_at=at))
                    people.append({"name": data["name"], "id_number": data["id_number"]})
                household.head = living[0].data["name"]
                search.index(household, living)
                households.append(household)
                members += living
            await sql.insert(*households)
            for part in range(0, len(members), SEARCH_BATCH):
                await sql.insert(*members[part:part + SEARCH_BATCH])
    finally:
        search.name_pinyin = original
    return people
