"""Possible duplicates: registering a household, or a member through a correction or a submission, that looks like a
file of the caller's areas is answered with the files it looks like, and is never refused; the same question can be
asked before registering. A warning tells only of files the caller may see."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from factories import (assert_problem, economic_survey, headers_for, id_number, make_district, make_field,
                       make_form_version, make_user, submission_body)
from server.households.lookalikes import address_key, name_birth_key

NUMBER = id_number("19580312", "124")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
async def station(client, settings):
    district = await make_district()
    people = {
        "east_a": await make_user("worker", district.east_a),
        "east_b": await make_user("worker", district.east_b),
        "west_a": await make_user("worker", district.west_a),
        "supervisor": await make_user("supervisor", district.east),
    }
    district.headers = {name: await headers_for(settings, user) for name, user in people.items()}
    return district


async def register(client, headers, community, address="白竹亭社区 3 组 12 号", head="张秀英", hid=None) -> dict:
    hid = hid or str(uuid.uuid4())
    body = {"community": str(community.id), "address": address, "head": head}
    response = await client.put(f"/api/v1/households/{hid}", json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def add_member(client, headers, household_id, **fields) -> dict:
    member = {"id": str(uuid.uuid4()), "name": "李桂兰", **fields}
    response = await client.patch(f"/api/v1/households/{household_id}", headers=headers,
                                  json={"reason": "入户核实家庭成员", "members": [member]})
    assert response.status_code == 200, response.text
    return response.json() | {"member": member["id"]}


def warned(reply: dict) -> dict[str, set[str]]:
    return {d["household"]: {r["rule"] for r in d["reasons"]} for d in reply["possible_duplicates"]}


@pytest.mark.parametrize(("one", "other", "same"), [
    ("白竹亭社区 3 组 12 号", "３组１２#", True),  # full-width, the community's own name, # for 号
    ("白竹亭社区3组12号", "白竹亭 3 组 12", True),
    ("人民路123弄4号", "人民路 123-4 号", True),
    ("人民路 123—4号", "人民路123－4", True),
    ("白竹亭社区 3 组 12 号", "白竹亭社区 3 组 13 号", False),  # neighbours
    ("人民路123弄4号", "人民路12弄34号", False),
])
def test_addresses_are_compared_once_normalised(one, other, same):
    assert (address_key(one, "白竹亭社区") == address_key(other, "白竹亭社区")) is same


def test_a_name_and_birth_date_are_compared_without_spaces_or_middle_dots():
    assert name_birth_key("买买提·艾力", "1960-01-02") == name_birth_key("买买提 艾力", "1960-01-02")
    assert name_birth_key("张三", "1960-01-02") != name_birth_key("张三", "1960-01-03")
    assert name_birth_key("张三", None) is None and name_birth_key("张三", "not a date") is None


async def test_a_household_registered_at_the_address_of_another_in_its_community_is_offered_it(client, station):
    worker = station.headers["east_a"]
    first = await register(client, worker, station.east_a)
    assert first["possible_duplicates"] == []
    second = await register(client, worker, station.east_a, address="３组１２#", head="张秀英")
    [offered] = second["possible_duplicates"]
    assert offered["household"] == first["id"] and offered["head"] == "张秀英"
    assert offered["address"] == "白竹亭社区 3 组 12 号" and offered["community"] == str(station.east_a.id)
    assert offered["community_name"] == "白竹亭社区" and [r["rule"] for r in offered["reasons"]] == ["address"]
    # Registered all the same, and a retry of the same body gives the same answer.
    assert (await client.get(f"/api/v1/households/{second['id']}", headers=worker)).status_code == 200
    again = await register(client, worker, station.east_a, address="３组１２#", hid=second["id"])
    assert again["possible_duplicates"] == second["possible_duplicates"]


async def test_a_neighbour_or_the_same_address_in_another_community_is_not_offered(client, station):
    await register(client, station.headers["east_a"], station.east_a)
    neighbour = await register(client, station.headers["east_a"], station.east_a, address="白竹亭社区 3 组 13 号")
    assert neighbour["possible_duplicates"] == []
    elsewhere = await register(client, station.headers["supervisor"], station.east_b, address="3 组 12 号")
    assert elsewhere["possible_duplicates"] == []


async def test_a_member_with_the_id_number_of_a_member_of_another_file_is_warned_of(client, station):
    worker = station.headers["east_a"]
    first = await register(client, worker, station.east_a)
    known = await add_member(client, worker, first["id"], id_number=NUMBER)
    assert known["possible_duplicates"] == []
    second = await register(client, worker, station.east_a, address="白竹亭社区 5 组 1 号", head="王建国")
    reply = await add_member(client, worker, second["id"], name="李桂兰", id_number=NUMBER)
    [offered] = reply["possible_duplicates"]
    [reason] = offered["reasons"]
    assert offered["household"] == first["id"] and reason["rule"] == "id_number"
    assert reason["member"] == known["member"] and reason["member_name"] == "李桂兰"
    assert reason["yours"] == reply["member"]
    assert NUMBER not in str(reply["possible_duplicates"])
    # Saved all the same.
    file = (await client.get(f"/api/v1/households/{second['id']}", headers=worker)).json()
    assert [m["id"] for m in file["members"]] == [reply["member"]]


async def test_the_same_id_number_is_found_across_the_communities_of_a_supervisor(client, station):
    first = await register(client, station.headers["east_a"], station.east_a)
    await add_member(client, station.headers["east_a"], first["id"], id_number=NUMBER)
    other = await register(client, station.headers["supervisor"], station.east_b, address="凌云社区 1 组 1 号")
    reply = await add_member(client, station.headers["supervisor"], other["id"], id_number=NUMBER)
    assert warned(reply) == {first["id"]: {"id_number"}}


async def test_a_worker_is_never_told_of_a_file_outside_their_communities(client, station):
    first = await register(client, station.headers["east_a"], station.east_a)
    await add_member(client, station.headers["east_a"], first["id"], name="王建国", birth_date="1955-08-07",
                     id_number=NUMBER)
    for name, community in (("east_b", station.east_b), ("west_a", station.west_a)):
        headers = station.headers[name]
        other = await register(client, headers, community, address="白竹亭社区 3 组 12 号")
        reply = await add_member(client, headers, other["id"], name="王建国", birth_date="1955-08-07",
                                 id_number=NUMBER)
        assert reply["possible_duplicates"] == [], name
        asked = await client.get("/api/v1/lookalikes", headers=headers, params={
            "community": str(community.id), "id_number": NUMBER, "address": "白竹亭社区 3 组 12 号"})
        assert [d["household"] for d in asked.json()["items"]] == [other["id"]], name
        # Asking about another community is asking about what does not exist.
        assert_problem(await client.get("/api/v1/lookalikes", headers=headers, params={
            "community": str(station.east_a.id), "id_number": NUMBER}), 404)


async def test_the_same_name_and_birth_date_in_the_same_community_is_warned_of(client, station):
    worker = station.headers["east_a"]
    first = await register(client, worker, station.east_a)
    await add_member(client, worker, first["id"], name="王建国", birth_date="1955-08-07")
    second = await register(client, worker, station.east_a, address="白竹亭社区 9 组 2 号")
    reply = await add_member(client, worker, second["id"], name="王 建国", birth_date="1955-08-07")
    assert warned(reply) == {first["id"]: {"name_birth"}}
    other_day = await add_member(client, worker, second["id"], name="王建国", birth_date="1955-08-08")
    assert other_day["possible_duplicates"] == []
    # The same person in another community of the supervisor is someone else (the rule holds within a community).
    elsewhere = await register(client, station.headers["supervisor"], station.east_b, address="凌云社区 1 组 1 号")
    reply = await add_member(client, station.headers["supervisor"], elsewhere["id"], name="王建国",
                             birth_date="1955-08-07")
    assert reply["possible_duplicates"] == []


async def test_a_submission_that_binds_a_known_person_in_another_file_is_warned_of(client, settings):
    field = await make_field(client, settings)
    await make_form_version("economic_survey")
    first = await register(client, field.headers, field.district.east_a, address="白竹亭社区 7 组 7 号")
    known = await add_member(client, field.headers, first["id"], id_number=NUMBER)
    data = economic_survey(str(uuid.uuid4())) | {"house_photos": [field.photos[0]]}
    sid = str(uuid.uuid4())
    body = submission_body(field.household, data, form="economic_survey")
    response = await client.put(f"/api/v1/submissions/{sid}", json=body, headers=field.headers)
    assert response.status_code == 201, response.text
    [offered] = response.json()["possible_duplicates"]
    assert offered["household"] == first["id"]
    assert [(r["rule"], r["member"]) for r in offered["reasons"]] == [("id_number", known["member"])]
    retry = await client.put(f"/api/v1/submissions/{sid}", json=body, headers=field.headers)
    assert retry.status_code == 200 and retry.json() == response.json()


async def test_asking_before_registering_finds_each_rule(client, station):
    worker = station.headers["east_a"]
    first = await register(client, worker, station.east_a)
    await add_member(client, worker, first["id"], name="王建国", birth_date="1955-08-07", id_number=NUMBER)

    async def ask(**params) -> dict:
        response = await client.get("/api/v1/lookalikes", headers=worker,
                                    params={"community": str(station.east_a.id)} | params)
        assert response.status_code == 200, response.text
        return {d["household"]: {r["rule"] for r in d["reasons"]} for d in response.json()["items"]}

    assert await ask(address="３组１２号") == {first["id"]: {"address"}}
    assert await ask(head="王建国", birth_date="1955-08-07") == {first["id"]: {"name_birth"}}
    assert await ask(id_number=NUMBER) == {first["id"]: {"id_number"}}
    assert await ask(head="王建国", birth_date="1955-08-07", id_number=NUMBER, address="3组12") == {
        first["id"]: {"id_number", "name_birth", "address"}}
    assert await ask(head="王建国", address="4 组 12 号", id_number=id_number("19550807", "131")) == {}
    assert await ask() == {}


@pytest.mark.parametrize(("params", "status", "pointer"), [
    ({}, 422, "/community"),
    ({"community": "east_a"}, 422, "/community"),
    ({"community": "<east>"}, 422, "/community"),
    ({"community": "<east_a>", "id_number": "430102195803121240"}, 422, "/id_number"),
    ({"community": "<east_a>", "birth_date": "1955-13-01", "head": "王建国"}, 422, "/birth_date"),
    ({"community": "<west_a>"}, 404, None),
    ({"community": str(uuid.uuid4())}, 404, None),
])
async def test_a_bad_question_is_answered_with_what_is_wrong(client, station, params, status, pointer):
    params = {k: str(getattr(station, v[1:-1]).id) if v.startswith("<") else v for k, v in params.items()}
    # Asked by the township's supervisor, who sees the township itself (not a community) and not the other one.
    response = await client.get("/api/v1/lookalikes", headers=station.headers["supervisor"], params=params)
    assert_problem(response, status, *([pointer] if pointer else []))


async def test_bureau_and_providers_may_not_ask(client, settings, station):
    for role, areas in (("bureau", (station.county,)), ("provider", ())):
        headers = await headers_for(settings, await make_user(role, *areas))
        response = await client.get("/api/v1/lookalikes", headers=headers,
                                    params={"community": str(station.east_a.id)})
        assert_problem(response, 403)


MIGRATE_OLD_DATA = """
import asyncio, json, sys
from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate
from server.core.db import tortoise_config

async def main(url):
    config = tortoise_config(url)
    await migrate(config=config, target="models.0008_sync_changes")
    await Tortoise.init(config=config)
    conn = connections.get("default")
    for statement in [
        "INSERT INTO area (id, code, name, level, county_id, created_at, updated_at) "
        "VALUES ('a1', 'C1', '凌云社区', 'community', 'a1', '2025-01-01', '2025-01-01')",
        "INSERT INTO household (id, community_id, address, head, situation, situation_meta, body_hash, created_at, "
        "updated_at) VALUES ('h1', 'a1', '凌云社区 ２组 ７#', '曾国藩', '{}', '{}', '', '2025-01-01', '2025-01-01')",
        "INSERT INTO member (id, household_id, data, meta, created_at, updated_at) VALUES ('m1', 'h1', "
        "'{\\"name\\": \\"曾 国藩\\", \\"birth_date\\": \\"1955-08-07\\"}', '{}', '2025-01-01', '2025-01-01')",
    ]:
        await conn.execute_query(statement)
    await Tortoise.close_connections()
    await migrate(config=config)
    await Tortoise.init(config=config)
    conn = connections.get("default")
    print(json.dumps([await conn.execute_query_dict("SELECT address_key, merged_into FROM household"),
                      await conn.execute_query_dict("SELECT name_birth_key FROM member")]))
    await Tortoise.close_connections()

asyncio.run(main(sys.argv[1]))
"""


def test_the_files_stored_before_the_keys_existed_get_them(tmp_path):
    """The migration keys the households and members already stored, so they are offered as duplicates too (on
    SQLite, in a process of its own as the sync migration's test does)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")}
    done = subprocess.run([sys.executable, "-c", MIGRATE_OLD_DATA, f"sqlite://{tmp_path / 'old.sqlite3'}"], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    households, members = json.loads(done.stdout.strip().splitlines()[-1])
    assert households == [{"address_key": address_key("2组7号", "凌云社区"), "merged_into": None}]
    assert members == [{"name_birth_key": name_birth_key("曾国藩", "1955-08-07")}]
