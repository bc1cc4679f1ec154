"""The change sequence offline sync reads: every write of a household file (its needs included), of a published version
and of a form's retirement takes the next number of one counter, by database trigger, and a household leaving its
community leaves a departure behind (migrations/0008_sync_changes.py, 0013_need_sync.py)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from factories import make_district, make_form_version, make_household, make_need
from server.core import sql
from server.core.clock import now
from server.models import Form, FormVersion, Household, HouseholdConflict, HouseholdDeparture, Member, Need

MIGRATION = importlib.import_module("migrations.0008_sync_changes")
NEEDS = importlib.import_module("migrations.0013_need_sync")
AT_COMMIT = importlib.import_module("migrations.0019_sync_stamp_at_commit")
ROOT = Path(__file__).resolve().parent.parent
ON_POSTGRES = os.environ.get("DOORSTEP_TEST_DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


async def seq_of(household: Household) -> int:
    return (await Household.get(id=household.id)).sync_seq


async def test_every_write_of_a_household_file_takes_a_later_number(clean_database):
    district = await make_district()
    household = await make_household(district.east_a)
    seen = [await seq_of(household)]

    async def changed() -> None:
        seen.append(await seq_of(household))
        assert seen[-1] > seen[-2], seen

    household.phone = "13900000000"
    await household.save()
    await changed()
    stamp = now()
    member = await Member.create(id=uuid.uuid4(), household=household, data={"name": "王秀英"}, meta={},
                                 created_at=stamp, updated_at=stamp)
    await changed()
    await Member.filter(id=member.id).update(removed_at=stamp)
    await changed()
    meta = {"at": stamp.isoformat(), "received": stamp.isoformat()}
    conflict = await HouseholdConflict.create(household=household, field="health", kept_value={"value": "good"},
                                              kept_meta=meta, lost_value={"value": "poor"}, lost_meta=meta,
                                              submission_id=uuid.uuid4(), created_at=stamp)
    await changed()
    await HouseholdConflict.filter(id=conflict.id).update(state="resolved")
    await changed()
    await Member.filter(id=member.id).delete()
    await changed()
    need = await make_need(household)
    await changed()
    await Need.filter(id=need.id).update(status="dispatched", version=2)
    await changed()
    await Need.filter(id=need.id).delete()
    await changed()


async def test_a_need_moved_to_another_household_renumbers_both(clean_database):
    district = await make_district()
    survivor, duplicate = await make_household(district.east_a), await make_household(district.east_a)
    need = await make_need(duplicate)
    before = {h.id: await seq_of(h) for h in (survivor, duplicate)}
    await Need.filter(id=need.id).update(household_id=survivor.id)
    after = {h.id: await seq_of(h) for h in (survivor, duplicate)}
    assert all(after[i] > before[i] for i in before), (before, after)


async def test_a_household_leaving_its_community_leaves_a_departure(clean_database):
    district = await make_district()
    moving, deleted = await make_household(district.east_a), await make_household(district.east_a)
    before = await seq_of(moving)
    await Household.filter(id=moving.id).update(community_id=district.east_b.id)
    await Household.filter(id=deleted.id).delete()
    departures = await HouseholdDeparture.all().order_by("seq")
    assert [(d.household_id, d.community_id) for d in departures] == [
        (moving.id, district.east_a.id), (deleted.id, district.east_a.id)]
    assert departures[0].seq > before
    await Household.filter(id=moving.id).update(address="凌云社区 1 组 1 号")  # not a move: no departure
    assert await HouseholdDeparture.all().count() == 2


async def test_publishing_and_retiring_forms_take_numbers(clean_database):
    first = await make_form_version("home_visit")
    second = await make_form_version("home_visit", version=2)
    numbers = [(await FormVersion.get(id=v.id)).sync_seq for v in (first, second)]
    assert 0 < numbers[0] < numbers[1]
    assert (await Form.get(slug="home_visit")).sync_seq == 0  # a form in use has no number of its own
    await Form.filter(slug="home_visit").update(retired_at=now())
    assert (await Form.get(slug="home_visit")).sync_seq > numbers[1]


async def test_every_sync_trigger_is_in_place(database):
    """A later migration that makes SQLite rebuild one of these tables drops its triggers: install them again."""
    if ON_POSTGRES:
        rows = await sql.fetch("SELECT tgname AS name FROM pg_trigger WHERE NOT tgisinternal")
        expected = AT_COMMIT.POSTGRES_TRIGGERS
        deferred = await sql.fetch("SELECT tgname AS name FROM pg_trigger WHERE tgdeferrable AND tginitdeferred")
        assert {row["name"] for row in deferred} == AT_COMMIT.DEFERRED  # the household is stamped at commit
    else:
        rows = await sql.fetch("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        expected = set(MIGRATION.SQLITE_TRIGGERS) | set(NEEDS.SQLITE_TRIGGERS)
    assert expected <= {row["name"] for row in rows}


MIGRATE_OLD_DATA = """
import asyncio, json, sys
from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate
from server.core.db import tortoise_config

async def main(url):
    config = tortoise_config(url)
    await migrate(config=config, target="models.0007_ledger_entries")
    await Tortoise.init(config=config)
    conn = connections.get("default")
    for statement in [
        "INSERT INTO area (id, code, name, level, county_id, created_at, updated_at) "
        "VALUES ('a1', 'C1', '巴陵区', 'county', 'a1', '2025-01-01', '2025-01-01')",
        "INSERT INTO household (id, community_id, address, head, situation, situation_meta, body_hash, created_at, "
        "updated_at) VALUES ('h1', 'a1', '凌云社区 2 组', '曾国藩', '{}', '{}', '', '2025-01-01', '2025-01-01')",
        "INSERT INTO form (id, slug, draft_title, draft_schema, draft_ui, draft_updated_at, latest_version, "
        "created_at) VALUES ('f1', 'visit', '走访', '{}', '{}', '2025-01-01', 2, '2025-01-01')",
        *("INSERT INTO form_version (id, form_id, version, title, schema, ui, etag, published_at) "
          f"VALUES ('v{n}', 'f1', {n}, '走访', '{{}}', '{{}}', 'e{n}', '2025-0{n}-01')" for n in (2, 1)),
    ]:
        await conn.execute_query(statement)
    await Tortoise.close_connections()
    await migrate(config=config)
    await Tortoise.init(config=config)
    conn = connections.get("default")
    print(json.dumps([await conn.execute_query_dict("SELECT sync_seq FROM household"),
                      await conn.execute_query_dict("SELECT id, sync_seq FROM form_version ORDER BY sync_seq")]))
    await Tortoise.close_connections()

asyncio.run(main(sys.argv[1]))
"""


def test_what_was_stored_before_sync_gets_its_place_in_the_sequence(tmp_path):
    """The migration numbers the households and versions already stored, so a first sync brings them (on SQLite:
    the PostgreSQL numbering runs through the same trigger function the suite exercises)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")}
    done = subprocess.run([sys.executable, "-c", MIGRATE_OLD_DATA, f"sqlite://{tmp_path / 'old.sqlite3'}"], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    households, versions = json.loads(done.stdout.strip().splitlines()[-1])
    assert households[0]["sync_seq"] > 0
    assert [v["id"] for v in versions] == ["v1", "v2"] and versions[0]["sync_seq"] > 0
