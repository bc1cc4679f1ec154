"""Needs reach the phones through offline sync: each household file carries its needs under way and those finished in
the last 90 days; a need raised, acted on or moved by a merge brings its file again at the next sync with the need as
it now stands; only the caller's communities' needs come, with no provider's detail and no ID number."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import asyncpg

import forms
from factories import (headers_for, home_visit, id_number, make_district, make_field, make_form_version,
                       make_household, make_need, make_provider, make_user, submission_body)
from server.core import sql
from server.core.clock import now
from server.core.sensitive import mask_id_number
from server.models import Need
from server.needs.offline import FINISHED_DAYS
from server.surveys.catalogue import load_catalogue

SYNC = "/api/v1/sync"
ITEM = "elderly.meal_shopping"
DATABASE_URL = os.environ.get("DOORSTEP_TEST_DATABASE_URL", "")
ON_POSTGRES = DATABASE_URL.startswith(("postgres://", "postgresql://"))
ROOT = Path(__file__).resolve().parent.parent
NEED_KEYS = {"id", "item", "urgency", "status", "description", "member", "raised_at", "due_at", "overdue"}


async def sync(client, headers: dict, since: str | None = None) -> dict:
    response = await client.get(SYNC, params={"since": since} if since else {}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def files(page: dict) -> dict[str, dict]:
    return {h["id"]: h for h in page["households"]}


def needs_in(page: dict, household) -> dict[str, dict]:
    return {n["id"]: n for n in files(page)[str(household.id)]["needs"]}


async def submit(client, headers: dict, body: dict) -> None:
    response = await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=headers)
    assert response.status_code == 201, response.text


async def test_a_need_raised_by_a_submission_comes_with_its_file_at_the_next_sync(client, settings):
    field = await make_field(client, settings)
    await load_catalogue(forms.catalogue())
    quiet = await make_household(field.district.east_a)
    first = await sync(client, field.headers)
    assert [f["needs"] for f in first["households"]] == [[], []]

    photo = field.photos[0]
    await submit(client, field.headers, submission_body(field.household, home_visit(photo, [photo])))
    later = await sync(client, field.headers, first["next_cursor"])
    assert set(files(later)) == {str(field.household.id)}  # the quiet household does not come again
    needs = sorted(needs_in(later, field.household).values(), key=lambda n: n["item"])
    stored = {str(n.id): n for n in await Need.filter(household_id=field.household.id)}
    assert [set(n) for n in needs] == [NEED_KEYS, NEED_KEYS] and {n["id"] for n in needs} == set(stored)
    comfort, safety = needs
    assert (safety["item"], safety["urgency"], safety["status"]) == ("elderly.safety_check", "high", "raised")
    assert safety["description"] == "请电工上门检查线路并加装卫生间扶手" and safety["member"] is None
    assert safety["raised_at"] == "2025-03-18T02:10:00+00:00"  # when the visit happened, to the second
    assert safety["due_at"] == "2025-03-25T02:10:00+00:00"  # 7 days for a high urgency
    assert safety["overdue"] is True and comfort["urgency"] == "normal"
    assert quiet.id not in {n.household_id for n in stored.values()}


async def test_each_action_on_a_need_brings_its_file_again_with_the_new_state(client, settings):
    await load_catalogue(forms.catalogue())
    district = await make_district()
    household = await make_household(district.east_a)
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    provider = await make_provider(district.east, offers={ITEM: 5})
    provider_user = await headers_for(settings, await make_user("provider", provider=provider))
    cursor = (await sync(client, worker))["next_cursor"]

    body = {"household": str(household.id), "item": ITEM, "description": "腿脚不便，需要代买菜", "consent": True}
    entered = await client.post("/api/v1/needs", json=body, headers=worker)
    assert entered.status_code == 201, entered.text
    need = entered.json()["id"]
    page = await sync(client, worker, cursor)
    assert needs_in(page, household)[need]["status"] == "raised"
    assert needs_in(page, household)[need]["overdue"] is False

    for action, headers, body, status in (("dispatch", supervisor, {"provider": str(provider.id)}, "dispatched"),
                                          ("accept", provider_user, {}, "accepted"),
                                          ("close", supervisor, {"reason": "住户已搬去子女家住"}, "closed")):
        response = await client.post(f"/api/v1/needs/{need}/{action}", json=body, headers=headers)
        assert response.status_code == 200, response.text
        page = await sync(client, worker, page["next_cursor"])
        assert set(files(page)) == {str(household.id)}, action
        assert needs_in(page, household)[need]["status"] == status
        # The provider's side stays at the station: its name, its contact, the household's consent to share one.
        assert provider.name not in str(page) and "0730-8221234" not in str(page)
    assert (await sync(client, worker, page["next_cursor"]))["households"] == []


async def test_a_merge_moves_the_needs_to_the_survivor_on_the_phone_and_its_undo_brings_them_back(client, settings):
    district = await make_district()
    survivor, duplicate = await make_household(district.east_a), await make_household(district.east_a)
    kept = await make_need(survivor, "raised")
    moved = await make_need(duplicate, "dispatched", description="每周送餐")
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    first = await sync(client, worker)
    assert set(needs_in(first, duplicate)) == {str(moved.id)}

    response = await client.post(f"/api/v1/households/{survivor.id}/merge", headers=supervisor,
                                 json={"duplicate": str(duplicate.id), "reason": "同一户登记了两次"})
    assert response.status_code == 201, response.text
    merged = await sync(client, worker, first["next_cursor"])
    assert set(files(merged)) == {str(survivor.id)} and merged["gone"] == [str(duplicate.id)]
    assert set(needs_in(merged, survivor)) == {str(kept.id), str(moved.id)}
    assert needs_in(merged, survivor)[str(moved.id)]["status"] == "dispatched"

    undo = await client.post(f"/api/v1/merges/{response.json()['id']}/undo", headers=supervisor,
                             json={"reason": "其实是两户"})
    assert undo.status_code == 200, undo.text
    undone = await sync(client, worker, merged["next_cursor"])
    assert set(files(undone)) == {str(survivor.id), str(duplicate.id)}
    assert set(needs_in(undone, survivor)) == {str(kept.id)}
    assert set(needs_in(undone, duplicate)) == {str(moved.id)}


async def test_only_the_needs_of_the_callers_communities_reach_the_phone(client, settings):
    district = await make_district()
    own, neighbour = await make_household(district.east_a), await make_household(district.east_b)
    provider = await make_provider(district.east, name="夕阳红助老服务社", offers={ITEM: 5})
    mine = await make_need(own, "accepted", provider=provider)
    theirs = await make_need(neighbour, "raised")
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    cursor = (await sync(client, worker))["next_cursor"]
    await Need.filter(id=theirs.id).update(status="closed", closed_at=now(), updated_at=now())

    response = await client.get(SYNC, headers=worker)
    assert set(files(response.json())) == {str(own.id)}
    assert [n["id"] for n in files(response.json())[str(own.id)]["needs"]] == [str(mine.id)]
    assert str(theirs.id) not in response.text and str(neighbour.id) not in response.text
    assert provider.name not in response.text and str(provider.id) not in response.text
    assert (await sync(client, worker, cursor))["households"] == []  # the neighbour's need changed, not ours
    # A provider's user does not sync at all: it reaches households only through the needs dispatched to it.
    provider_user = await headers_for(settings, await make_user("provider", provider=provider))
    assert (await client.get(SYNC, headers=provider_user)).status_code == 403


async def test_needs_finished_long_ago_stay_at_the_station(client, settings):
    district = await make_district()
    household = await make_household(district.east_a)
    long_ago = now() - timedelta(days=FINISHED_DAYS + 1)
    lately = now() - timedelta(days=FINISHED_DAYS - 1)
    carried = [await make_need(household, "raised", overdue=True), await make_need(household, "in_service"),
               await make_need(household, "done"), await make_need(household)]
    await Need.filter(id=carried[-1].id).update(status="closed", closed_at=lately, updated_at=lately)
    left = [await make_need(household, "evaluated"), await make_need(household), await make_need(household, "done")]
    await Need.filter(id=left[1].id).update(status="closed", closed_at=long_ago)
    await Need.filter(id__in=[n.id for n in left]).update(updated_at=long_ago)
    old_open = await make_need(household, "dispatched")
    await Need.filter(id=old_open.id).update(updated_at=long_ago, raised_at=long_ago)  # still under way: carried
    worker = await headers_for(settings, await make_user("worker", district.east_a))

    needs = needs_in(await sync(client, worker), household)
    assert set(needs) == {str(n.id) for n in [*carried, old_open]}
    assert [needs[str(n.id)]["overdue"] for n in carried] == [True, False, False, False]


async def test_id_numbers_never_reach_the_phone_in_a_need(client, settings):
    """A form's member field of a need is free text: an ID number typed there, or in the description, goes masked
    like every other (the members' own are masked already, tests/test_sync.py)."""
    field = await make_field(client, settings)
    await make_form_version("needs_survey")
    number, old = id_number("20150601", "213"), "430102650312123"
    data = {"respondent": "周建华", "phone": "13548716320", "survey_date": "2025-03-20", "has_other_need": False,
            "needs": [{"item": "child.after_school", "urgency": "high", "for_member": number,
                       "description": f"孩子（身份证 {number}）放学后无人看护；爷爷 {old}"}]}
    await submit(client, field.headers, submission_body(field.household, data, form="needs_survey"))

    response = await client.get(SYNC, headers=field.headers)
    assert number not in response.text and old not in response.text
    [need] = files(response.json())[str(field.household.id)]["needs"]
    assert need["member"] == mask_id_number(number)
    assert need["description"] == f"孩子（身份证 {mask_id_number(number)}）放学后无人看护；爷爷 {mask_id_number(old)}"


async def test_an_action_waits_for_the_household_before_it_holds_the_need(client, settings):
    """A submission under way (another server process, say) holds its household and has written it, which holds
    the sync counter; a correction then takes over the household's needs. An action on one of those needs waits for
    the household without having written anything, so the submission's write of the need does not wait for the
    action: no deadlock (migrations/0008_sync_changes.py). (SQLite writes one transaction at a time: there the
    submission simply comes first.)"""
    await load_catalogue(forms.catalogue())
    district = await make_district()
    household = await make_household(district.east_a)
    need = await make_need(household, "raised")
    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    provider = await make_provider(district.east, offers={ITEM: 5})
    statements = ("SELECT id FROM household WHERE id = $1 FOR UPDATE",
                  "UPDATE household SET phone = '13800000000' WHERE id = $1",
                  "UPDATE need SET description = '改为每天送餐' WHERE id = $1")

    async def dispatch():
        return await client.post(f"/api/v1/needs/{need.id}/dispatch", json={"provider": str(provider.id)},
                                 headers=supervisor)

    if ON_POSTGRES:
        conn = await asyncpg.connect(DATABASE_URL)
        transaction = conn.transaction()
        await transaction.start()
        await conn.execute(statements[0], str(household.id))
        await conn.execute(statements[1], str(household.id))
        dispatching = asyncio.create_task(dispatch())
        await asyncio.sleep(0.3)
        assert not dispatching.done()  # waiting for the household
        await asyncio.wait_for(conn.execute(statements[2], str(need.id)), timeout=5)
        await transaction.commit()
        await conn.close()
        response = await asyncio.wait_for(dispatching, timeout=30)
    else:
        for statement, row in zip(statements[1:], (household.id, need.id)):
            await sql.connection().execute_query(statement.replace("$1", "?"), [str(row)])
        response = await dispatch()
    assert response.status_code == 200, response.text
    stored = await Need.get(id=need.id)
    assert (stored.status, stored.description) == ("dispatched", "改为每天送餐")


MIGRATE_OLD_NEEDS = """
import asyncio, json, sys
from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate
from server.core.db import tortoise_config

async def main(url):
    config = tortoise_config(url)
    await migrate(config=config, target="models.0012_needs_months")
    await Tortoise.init(config=config)
    conn = connections.get("default")
    for statement in [
        "INSERT INTO area (id, code, name, level, county_id, created_at, updated_at) "
        "VALUES ('a1', 'C1', '巴陵区', 'county', 'a1', '2025-01-01', '2025-01-01')",
        *("INSERT INTO household (id, community_id, address, head, situation, situation_meta, body_hash, created_at, "
          f"updated_at) VALUES ('{h}', 'a1', '凌云社区 2 组', '曾国藩', '{{}}', '{{}}', '', '2025-01-01', '2025-01-01')"
          for h in ("h1", "h2")),
        "INSERT INTO need (id, household_id, item, urgency, raised_at, due_at, status, version, consent, updated_at) "
        "VALUES ('n1', 'h2', 'elderly.meal_shopping', 'normal', '2025-01-01', '2025-01-31', 'raised', 1, 0, "
        "'2025-01-01')",
    ]:
        await conn.execute_query(statement)
    query = "SELECT id, sync_seq FROM household ORDER BY id"
    before = await conn.execute_query_dict(query)
    await Tortoise.close_connections()
    await migrate(config=config)
    await Tortoise.init(config=config)
    print(json.dumps([before, await connections.get("default").execute_query_dict(query)]))
    await Tortoise.close_connections()

asyncio.run(main(sys.argv[1]))
"""


def test_the_households_that_had_needs_before_come_again_with_them(tmp_path):
    """Phones synced before needs were carried: the migration renumbers each household that has needs, so their next
    sync brings it with them, and only those (on SQLite: the PostgreSQL statement is the same)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")}
    done = subprocess.run([sys.executable, "-c", MIGRATE_OLD_NEEDS, f"sqlite://{tmp_path / 'old.sqlite3'}"], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    before, after = ({row["id"]: row["sync_seq"] for row in rows}
                     for rows in json.loads(done.stdout.strip().splitlines()[-1]))
    assert after["h1"] == before["h1"] and after["h2"] > max(before.values())
