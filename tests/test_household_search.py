"""Finding households as workers type on phones: part of a name or a village, pinyin in full or initials (surnames
read as surnames), a full ID number by its keyed hash; scoped, paged."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from tortoise.transactions import in_transaction

from factories import (assert_problem, headers_for, make_district, make_form_version, make_user,
                       submission_body)
from form_samples import sample
from server.core import sql
from server.households import search
from server.households.search import id_number_key, name_pinyin
from server.core.clock import now
from server.models import Household, HouseholdTag, Member

ID_OF_WANG = "43060219530315003X"
ROOT = Path(__file__).resolve().parent.parent
ON_POSTGRES = os.environ.get("DOORSTEP_TEST_DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


async def register(client, headers, community, head, address, phone=None) -> str:
    hid = str(uuid.uuid4())
    body = {"community": str(community.id), "address": address, "head": head, "phone": phone}
    assert (await client.put(f"/api/v1/households/{hid}", json=body, headers=headers)).status_code == 201
    return hid


async def find(client, headers, **params) -> list[str]:
    response = await client.get("/api/v1/households", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [h["head"] for h in response.json()["items"]]


@pytest.fixture
async def village(client, settings):
    district = await make_district()
    worker = await headers_for(settings, await make_user("worker", district.east_a, district.east_b))
    await register(client, worker, district.east_a, "张三", "白竹亭社区 3 组 12 号", "13807312456")
    await register(client, worker, district.east_a, "单雄信", "白竹亭社区 5 组 2 号")
    await register(client, worker, district.east_b, "曾国藩", "凌云社区 1 组 8 号")
    wang = await register(client, worker, district.east_b, "李桂兰", "凌云社区 2 组 5 号")
    # A member comes from a visit: the elderly ledger lists the old people of the household with their ID numbers.
    await make_form_version("elderly_ledger")
    data = sample("elderly_ledger")
    data["elders"][0] |= {"id": str(uuid.uuid4()), "name": "王小明", "id_number": ID_OF_WANG}
    body = submission_body(await Household.get(id=wang), data, form="elderly_ledger")
    response = await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=worker)
    assert response.status_code == 201, response.text
    return district, worker


@pytest.mark.parametrize("q, heads", [
    ("张", ["张三"]),
    ("竹亭", ["张三", "单雄信"]),  # part of a village's name
    ("凌云社区 2 组", ["李桂兰"]),
    ("小明", ["李桂兰"]),  # a member's name
    ("zs", ["张三"]),
    ("zhangsan", ["张三"]),
    ("ZhangS", ["张三"]),
    ("shan", ["单雄信"]),  # 单 as a surname is shan, not dan
    ("dan", []),
    ("zgf", ["曾国藩"]),  # 曾 as a surname is zeng
    ("zeng", ["曾国藩"]),
    ("wxm", ["李桂兰"]),
    ("1380731", ["张三"]),
    (ID_OF_WANG, ["李桂兰"]),
    (ID_OF_WANG.lower(), ["李桂兰"]),
    ("430602195303150013", []),  # a valid number of nobody here
    ("%", []),
    ("_", []),
])
async def test_q_finds_what_a_worker_types(client, village, q, heads):
    district, worker = village
    assert sorted(await find(client, worker, q=q)) == sorted(heads)


async def test_the_id_number_is_not_stored_in_clear_in_the_index(client, settings, village):
    member = await Member.get(id_number_key=id_number_key(settings, ID_OF_WANG))
    assert member.id_number_key != ID_OF_WANG and ID_OF_WANG not in member.id_number_key
    household = await Household.get(id=member.household_id)
    assert ID_OF_WANG not in household.search_text and "430602" not in household.search_text


async def test_search_is_scoped_and_filtered_by_area(client, settings, village):
    district, worker = village
    assert sorted(await find(client, worker, area=str(district.east_a.id))) == ["单雄信", "张三"]
    other = await headers_for(settings, await make_user("worker", district.west_a))
    assert await find(client, other, q="张") == []
    assert await find(client, other, q=ID_OF_WANG) == []
    assert await find(client, other) == []
    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    assert len(await find(client, supervisor)) == 4
    provider = await headers_for(settings, await make_user("provider"))
    assert await find(client, provider) == []


async def test_the_list_holds_every_household_once(client, settings, village):
    # One page here (the route has no page size to ask for); test_filtered_pages_hold_every_household_once pages.
    district, worker = village
    page = (await client.get("/api/v1/households", headers=worker)).json()
    seen = [h["id"] for h in page["items"]]
    assert len(seen) == len(set(seen)) == 4 and page["next_cursor"] is None


@pytest.fixture
async def lane(client, settings):
    """Texts where the 2-character pieces of a query are found without the query itself (王秀兰 on 秀英路 holds 王秀
    and 秀英, not 王秀英), and an address with the LIKE wildcards in it."""
    district = await make_district()
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    await register(client, worker, district.east_a, "王秀英", "幸福里 B 栋 3 组 7 号", "13907300001")
    await register(client, worker, district.east_a, "王秀兰", "秀英路 8 号", "15873000002")
    await register(client, worker, district.east_a, "周百分", "百分百_50% 小区")
    return worker


@pytest.mark.parametrize("q, heads", [
    ("秀英", ["王秀英", "王秀兰"]),  # a name, and a street of the same name
    ("王秀英", ["王秀英"]),  # every piece of it in 王秀兰's file, not the name: the LIKE decides
    ("秀", ["王秀英", "王秀兰"]),  # one character: no pieces to look up
    ("英路 8", ["王秀兰"]),  # part of an address
    ("b 栋 3", ["王秀英"]),  # mixed text, the Latin letter in either case
    ("9073000", ["王秀英"]),  # digits of a phone
    ("73000", ["王秀英", "王秀兰"]),
    ("%", ["周百分"]), ("_", ["周百分"]), ("0%", ["周百分"]), ("_5", ["周百分"]), ("百_50%", ["周百分"]),
    ("%秀", []), ("王_英", []), ("秀%", []), ("王%", []),  # the wildcards stand for themselves
])
async def test_a_substring_finds_the_same_households_on_both_databases(client, lane, q, heads):
    assert sorted(await find(client, lane, q=q)) == sorted(heads)


async def test_a_substring_is_looked_up_in_the_bigram_index_on_postgresql(lane, settings):
    """On PostgreSQL the pieces of the query are looked up in the GIN index of migration 0018 (with sequential scans
    priced out: this table is too small for the planner to want an index); SQLite reads the rows as before."""
    query = Household.filter((await search._matching(settings, "王秀英")).q)
    assert [h.head for h in await query] == ["王秀英"]
    if not ON_POSTGRES:
        assert "doorstep_bigrams" not in query.sql()
        return
    assert await sql.fetch("SELECT 1 FROM pg_indexes WHERE indexname = 'idx_household_search_bigrams'")
    assert sorted((await sql.fetch("SELECT doorstep_bigrams('王秀英王秀') AS b"))[0]["b"]) == ["王秀", "秀英", "英王"]
    async with in_transaction() as conn:
        await conn.execute_script("SET LOCAL enable_seqscan = off")
        plan = await conn.execute_query_dict("EXPLAIN " + query.sql(params_inline=True))
    assert "idx_household_search_bigrams" in "\n".join(row["QUERY PLAN"] for row in plan)
    # One character has no pieces: the condition would hold for every row, so it is not sent.
    assert "doorstep_bigrams" not in Household.filter((await search._matching(settings, "秀")).q).sql()


@pytest.mark.parametrize("params, pointer", [
    ({"q": "张" * 51}, "/q"),
    ({"q": "张\x00"}, "/q"),
    ({"area": "not-an-id"}, "/area"),
    ({"cursor": "bm90IGEgY3Vyc29y"}, "/cursor"),
])
async def test_bad_filters_are_refused_at_their_parameter(client, village, params, pointer):
    district, worker = village
    assert_problem(await client.get("/api/v1/households", params=params, headers=worker), 422, pointer)


async def correct(client, headers, hid: str, **body) -> None:
    response = await client.patch(f"/api/v1/households/{hid}", json={"reason": "入户核实"} | body, headers=headers)
    assert response.status_code == 200, response.text


def person(name: str, born: str, *tags: str) -> dict:
    return {"id": str(uuid.uuid4()), "name": name, "birth_date": born, "tags": list(tags)}


@pytest.fixture
async def station(client, settings):
    """East township: an elder living alone (east_a), a left-behind child (east_a), a 低保 household with a disabled
    member (east_b), a household nobody tagged (east_b); in the west township, an elder living alone too."""
    district = await make_district()
    worker = await headers_for(settings, await make_user("worker", district.east_a, district.east_b))
    west = await headers_for(settings, await make_user("worker", district.west_a))
    zhang = await register(client, worker, district.east_a, "张三", "白竹亭社区 3 组 12 号")
    await correct(client, worker, zhang, members=[person("张大山", "1940-06-05", "elderly", "living_alone")])
    shan = await register(client, worker, district.east_a, "单雄信", "白竹亭社区 5 组 2 号")
    await correct(client, worker, shan, members=[person("单小雨", "2015-09-02", "left_behind")])
    zeng = await register(client, worker, district.east_b, "曾国藩", "凌云社区 1 组 8 号")
    await correct(client, worker, zeng, situation={"assistance_type": "subsistence_allowance"},
                  members=[person("曾纪泽", "1980-01-01", "disability")])
    await register(client, worker, district.east_b, "李桂兰", "凌云社区 2 组 5 号")
    far = await register(client, west, district.west_a, "张四", "楚江圩社区 1 组 1 号")
    await correct(client, west, far, members=[person("张老四", "1938-02-01", "elderly", "living_alone")])
    return district, worker, west, zhang


@pytest.mark.parametrize("params, heads", [
    ({"ledger": "elderly"}, ["张三"]),
    ({"ledger": "children"}, ["单雄信"]),
    ({"ledger": "disability"}, ["曾国藩"]),
    ({"ledger": "assistance"}, ["曾国藩"]),
    ({"ledger": ""}, ["张三", "单雄信", "曾国藩", "李桂兰"]),  # empty is no filter
    ({"tag": "living_alone"}, ["张三"]),
    ({"tag": "left_behind"}, ["单雄信"]),
    ({"tag": "disability"}, ["曾国藩"]),
    ({"tag": "subsistence_allowance"}, ["曾国藩"]),  # the household's 救助类型
    ({"tag": "extreme_hardship"}, []),
    ({"tag": ["elderly", "living_alone"]}, ["张三"]),  # every tag given
    ({"tag": "elderly,living_alone"}, ["张三"]),
    ({"tag": ["elderly", "left_behind"]}, []),
    ({"tag": ["disability,subsistence_allowance", ""]}, ["曾国藩"]),
    ({"tag": ""}, ["张三", "单雄信", "曾国藩", "李桂兰"]),
    ({"ledger": "assistance", "tag": "disability"}, ["曾国藩"]),
    ({"ledger": "elderly", "tag": "disability"}, []),
    ({"ledger": "elderly", "q": "zs"}, ["张三"]),
    ({"ledger": "elderly", "q": "张"}, ["张三"]),  # the west township's 张四 stays out of reach
    ({"tag": "living_alone", "q": "凌云"}, []),
    ({"tag": "disability", "q": "凌云"}, ["曾国藩"]),
    ({"ledger": "children", "area": "east_a"}, ["单雄信"]),
    ({"ledger": "children", "area": "east_b"}, []),
    ({"tag": "disability", "area": "east_b", "q": "zgf", "ledger": "disability"}, ["曾国藩"]),
])
async def test_ledger_and_tags_narrow_the_search(client, station, params, heads):
    district, worker, west, zhang = station
    if "area" in params:
        params = params | {"area": str(getattr(district, params["area"]).id)}
    assert sorted(await find(client, worker, **params)) == sorted(heads)


async def test_cross_community_households_never_appear_under_a_ledger_or_tag(client, settings, station):
    district, worker, west, zhang = station
    assert await find(client, west, tag="living_alone") == ["张四"]
    assert await find(client, west, ledger="elderly", area=str(district.west_a.id)) == ["张四"]
    assert await find(client, west, ledger="disability") == []
    assert await find(client, west, ledger="elderly", area=str(district.east_a.id)) == []
    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    assert await find(client, supervisor, tag="living_alone") == ["张三"]
    assert await find(client, supervisor, ledger="elderly") == ["张三"]
    bureau = await headers_for(settings, await make_user("bureau", district.county))
    assert sorted(await find(client, bureau, tag="living_alone")) == ["张三", "张四"]
    provider = await headers_for(settings, await make_user("provider"))
    assert await find(client, provider, ledger="elderly") == []


async def test_a_correction_that_drops_a_tag_drops_the_household_from_the_filter(client, station):
    district, worker, west, zhang = station
    member = (await client.get(f"/api/v1/households/{zhang}", headers=worker)).json()["members"][0]
    await correct(client, worker, zhang, members=[{"id": member["id"], "tags": ["elderly"]}])
    assert await find(client, worker, tag="living_alone") == []
    assert await find(client, worker, tag="elderly", ledger="elderly") == ["张三"]
    await correct(client, worker, zhang, members=[{"id": member["id"], "remove": True}])
    assert await find(client, worker, tag="elderly") == await find(client, worker, ledger="elderly") == []


async def test_filtered_pages_hold_every_household_once(client, station):
    """More households than a page holds (100), with and without the tag: the cursor walks the filtered ones."""
    district, worker, west, zhang = station
    stamp = now()
    made = [Household(id=uuid.uuid4(), community_id=district.east_a.id, address=f"{n} 号", head=f"户{n}",
                      body_hash="0" * 64, created_at=stamp, updated_at=stamp) for n in range(240)]
    await Household.bulk_create(made)
    await HouseholdTag.bulk_create([HouseholdTag(household_id=h.id, tag="living_alone") for h in made[::2]])
    seen, cursor, pages = [], None, 0
    while True:
        params = {"tag": "living_alone"} | ({"cursor": cursor} if cursor else {})
        response = await client.get("/api/v1/households", params=params, headers=worker)
        assert response.status_code == 200, response.text
        seen, pages = seen + [h["head"] for h in response.json()["items"]], pages + 1
        if not (cursor := response.json()["next_cursor"]):
            break
    assert pages == 2 and len(seen) == len(set(seen)) == 121 and "张三" in seen and "户1" not in seen


@pytest.mark.parametrize("params, pointer", [
    ({"ledger": "poor"}, "/ledger"),
    ({"ledger": "Elderly"}, "/ledger"),
    ({"tag": "rich"}, "/tag"),
    ({"tag": "living_alone,rich"}, "/tag"),
    ({"tag": ["living_alone", "独居"]}, "/tag"),
    ({"tag": ["living_alone"] * 15}, "/tag"),
])
async def test_an_unknown_ledger_or_tag_is_refused_at_its_parameter(client, station, params, pointer):
    district, worker, west, zhang = station
    assert_problem(await client.get("/api/v1/households", params=params, headers=worker), 422, pointer)


def test_surnames_are_read_as_surnames():
    assert name_pinyin("单雄信") == ["shanxiongxin", "sxx"]
    assert name_pinyin("长孙无忌") == ["zhangsunwuji", "zswj"]
    assert name_pinyin("解缙") == ["xiejin", "xj"]
    assert name_pinyin("吕 绿") == ["lvlv", "ll"]
    assert name_pinyin("Tom") == []


MIGRATE_OLD_DATA = """
import asyncio, json, sys, uuid
from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate
from server.core.db import tortoise_config

async def main(url):
    config = tortoise_config(url)
    await migrate(config=config, target="models.0005_photo_holders")
    await Tortoise.init(config=config)
    conn = connections.get("default")
    county = str(uuid.uuid4())
    await conn.execute_query(
        "INSERT INTO area (id, code, name, level, county_id, created_at, updated_at) "
        "VALUES (?, 'C1', '巴陵区', 'county', ?, '2025-01-01', '2025-01-01')", [county, county])
    await conn.execute_query(
        "INSERT INTO household (id, community_id, address, head, situation, situation_meta, body_hash, created_at, "
        "updated_at) VALUES ('h1', ?, '凌云社区 2 组', '曾国藩', ?, '{}', '', '2025-01-01', '2025-01-01')",
        [county, json.dumps({"assistance_type": "extreme_hardship"})])
    await conn.execute_query(
        "INSERT INTO member (id, household_id, data, meta, created_at, updated_at) "
        "VALUES ('m1', 'h1', ?, '{}', '2025-01-01', '2025-01-01')", [json.dumps({"name": "王小明", "id_number": "%s", "tags": ["living_alone", "elderly", "unknown"]})])
    await Tortoise.close_connections()
    await migrate(config=config)
    await Tortoise.init(config=config)
    conn = connections.get("default")
    print(json.dumps([await conn.execute_query_dict("SELECT search_text, search_pinyin FROM household"),
                      await conn.execute_query_dict("SELECT id_number_key FROM member"),
                      await conn.execute_query_dict("SELECT tag FROM household_tag ORDER BY tag")]))
    await Tortoise.close_connections()

asyncio.run(main(sys.argv[1]))
""" % ID_OF_WANG


def test_households_stored_before_search_are_indexed_by_the_migration(tmp_path, settings):
    """The migrations that add the search columns and the tags fill them for what is already stored (on SQLite: the
    migrations' SQL is the same on both)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")} | {"DOORSTEP_SECRET": settings.secret}
    done = subprocess.run([sys.executable, "-c", MIGRATE_OLD_DATA, f"sqlite://{tmp_path / 'old.sqlite3'}"], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    households, members, tags = json.loads(done.stdout.strip().splitlines()[-1])
    assert "王小明" in households[0]["search_text"] and "凌云社区" in households[0]["search_text"]
    assert " zengguofan zgf" in households[0]["search_pinyin"] and " wxm" in households[0]["search_pinyin"]
    assert members[0]["id_number_key"] == id_number_key(settings, ID_OF_WANG)
    assert [t["tag"] for t in tags] == ["elderly", "extreme_hardship", "living_alone"]  # the known ones
