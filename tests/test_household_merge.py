"""Merging two files of one household: the survivor keeps every visit, photo, need, conflict and member of the other
(one person in both is combined), the merged-away file points at the survivor, phones are told, and the merge can be
undone, leaving both files as they were. A supervisor's act within one township."""

import asyncio
import os
import uuid

import asyncpg
import pytest

from factories import (assert_problem, economic_survey, headers_for, home_visit, id_number, make_district,
                       make_field, make_form_version, make_household, make_need, make_user, submission_body)
from server.core import sql
from server.models import AuditEvent, Household, LedgerEntry, Member

DATABASE_URL = os.environ.get("DOORSTEP_TEST_DATABASE_URL", "")
ON_POSTGRES = DATABASE_URL.startswith(("postgres://", "postgresql://"))
NUMBER = id_number("19580312", "124")
SON = id_number("19800807", "135")
MONDAY = ("2025-03-17T09:00:00+08:00", "2025-03-17T09:40:00+08:00")
TUESDAY = ("2025-03-18T15:00:00+08:00", "2025-03-18T15:30:00+08:00")


@pytest.fixture
async def pair(client, settings):
    """Two files of one household in east_a: each with an economic survey binding 李桂兰 (one ID number) and
    another member, and home visits with photos; the duplicate with a conflict between two phones."""
    field = await make_field(client, settings, photos=3)
    await make_form_version("economic_survey")
    field.duplicate = await make_household(field.district.east_a)
    field.colleague = await headers_for(settings, await make_user("worker", field.district.east_a))
    await field.share_photos(client, field.colleague)
    field.supervisor = await headers_for(settings, await make_user("supervisor", field.district.east))
    a, b, c = field.photos
    survey = economic_survey(str(uuid.uuid4())) | {"house_photos": [a]}
    await submit(client, field.headers, field.household, survey, form="economic_survey")
    await submit(client, field.headers, field.household, home_visit(a, [a]), started_at=MONDAY[0],
                 finished_at=MONDAY[1])
    field.twin = str(uuid.uuid4())  # 李桂兰 as the duplicate's survey named her
    survey = economic_survey(field.twin) | {"house_photos": [b]}
    survey["members"][0] |= {"health": "healthy", "birth_date": "1958-03-12"}
    survey["members"][1] |= {"name": "王小明", "relation": "child", "id_number": SON}
    survey["housing"] = "rented"
    await submit(client, field.headers, field.duplicate, survey, form="economic_survey")
    await make_need(field.duplicate, "dispatched", description="每周送餐")  # entered by hand, already dispatched
    for headers, when, health, photo in ((field.headers, MONDAY, "poor", b), (field.colleague, TUESDAY, "good", c)):
        await submit(client, headers, field.duplicate, home_visit(photo, [photo, c], health=health),
                     started_at=when[0], finished_at=when[1])
    return field


async def submit(client, headers, household, data, **extra) -> dict:
    body = submission_body(household, data, **extra)
    response = await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def open_file(client, headers, household) -> dict:
    response = await client.get(f"/api/v1/households/{household.id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def history(client, headers, household) -> list[dict]:
    response = await client.get(f"/api/v1/households/{household.id}/history", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def merge(client, headers, survivor, duplicate, reason="同一户登记了两次，户主身份证号相同"):
    return await client.post(f"/api/v1/households/{survivor.id}/merge", headers=headers,
                             json={"duplicate": str(duplicate.id), "reason": reason})


def photos_of(file: dict) -> list[str]:
    return sorted(p["sha256"] for v in file["visits"]["items"] for s in v["submissions"] for p in s["photos"])


async def ledger_lines(household_ids) -> set[tuple]:
    lines = set()
    for entry in await LedgerEntry.filter(household_id__in=household_ids).select_related("member"):
        lines.add((entry.kind, entry.member.data.get("name") if entry.member else None))
    return lines


async def test_the_survivor_keeps_every_visit_photo_need_conflict_and_member_of_the_other(client, pair):
    survivor, duplicate = pair.household, pair.duplicate
    before = [await open_file(client, pair.supervisor, h) for h in (survivor, duplicate)]
    lines = await ledger_lines([survivor.id, duplicate.id])
    response = await merge(client, pair.supervisor, survivor, duplicate)
    assert response.status_code == 201, response.text
    done = response.json()
    assert done["survivor"] == str(survivor.id) and done["duplicate"] == str(duplicate.id) and done["undone_at"] is None
    assert done["moved"] | {"changes": 0} == {"visits": 3, "submissions": 3, "photos": 7, "members": 1,
                                             "combined_members": 1, "conflicts": 1, "needs": 5,
                                             "changes": 0}

    after = await open_file(client, pair.headers, survivor)
    visits = {v["id"] for f in before for v in f["visits"]["items"]}
    assert {v["id"] for v in after["visits"]["items"]} == visits
    assert photos_of(after) == sorted(photos_of(before[0]) + photos_of(before[1]))
    assert sorted((n["id"], n["status"]) for n in after["needs"]) == sorted(
        (n["id"], n["status"]) for f in before for n in f["needs"]) != []
    assert {c["id"] for c in after["conflicts"]} == {c["id"] for f in before for c in f["conflicts"]} != set()
    # 李桂兰 is in both files under one ID number: one person, the survivor's values kept, the gap filled.
    assert sorted(m["name"] for m in after["members"]) == ["李桂兰", "王小明", "王建国"]
    assert {m["name"] for f in before for m in f["members"]} == {"李桂兰", "王小明", "王建国"}
    [head] = [m for m in after["members"] if m["name"] == "李桂兰"]
    assert head["health"] == "chronic" and head["birth_date"] == "1958-03-12"
    assert head["id"] in {m["id"] for m in before[0]["members"]}
    assert after["situation"]["housing"] == before[0]["situation"]["housing"]
    assert await ledger_lines([survivor.id]) == lines and await ledger_lines([duplicate.id]) == set()

    # The merged-away file points at the survivor; its history and the survivor's keep who merged and why.
    gone = assert_problem(await client.get(f"/api/v1/households/{duplicate.id}", headers=pair.headers), 410)
    assert gone["merged_into"] == str(survivor.id)
    for household, pointer in ((survivor, "/merged_from"), (duplicate, "/merged_into")):
        [row] = [c for c in await history(client, pair.headers, household) if c["pointer"] == pointer]
        assert row["kind"] == "merged" and row["reason"].startswith("同一户登记了两次") and row["actor"]
    kept = [c for c in await history(client, pair.headers, survivor) if c["kind"] == "merge_kept"]
    assert {(c["pointer"].rsplit("/", 1)[-1], c["old_value"], c["new_value"]) for c in kept} >= {
        ("health", "chronic", "healthy"), ("housing", before[0]["situation"]["housing"], "rented")}
    events = await AuditEvent.filter(action="household.merged").values_list("household_id", flat=True)
    assert sorted(map(str, events)) == sorted([str(survivor.id), str(duplicate.id)])
    # Found no more, and no longer offered as a duplicate.
    page = (await client.get("/api/v1/households", headers=pair.headers)).json()
    assert [h["id"] for h in page["items"]] == [str(survivor.id)]
    merged = (await client.get(f"/api/v1/merges/{done['id']}", headers=pair.headers)).json()
    assert merged == done


async def test_the_photos_of_the_merged_away_file_are_still_read_by_those_who_read_them(client, settings, pair):
    only_duplicate = pair.photos[2]
    outsiders = [await headers_for(settings, await make_user("worker", pair.district.west_a)),
                 await headers_for(settings, await make_user("worker", pair.district.east_b))]
    assert (await merge(client, pair.supervisor, pair.household, pair.duplicate)).status_code == 201
    for headers in (pair.headers, pair.colleague, pair.supervisor):
        response = await client.get(f"/api/v1/attachments/{only_duplicate}", headers=headers)
        assert response.status_code == 200 and response.content == pair.photo_bytes[only_duplicate]
        thumb = await client.get(f"/api/v1/attachments/{only_duplicate}?size=thumb", headers=headers)
        assert thumb.status_code in (200, 202)
    for headers in outsiders:
        assert_problem(await client.get(f"/api/v1/attachments/{only_duplicate}", headers=headers), 404)


async def test_undoing_a_merge_leaves_both_files_as_they_were(client, pair):
    survivor, duplicate = pair.household, pair.duplicate
    files = [await open_file(client, pair.supervisor, h) for h in (survivor, duplicate)]
    histories = [await history(client, pair.supervisor, h) for h in (survivor, duplicate)]
    ledgers = [await ledger_lines([h.id]) for h in (survivor, duplicate)]
    done = (await merge(client, pair.supervisor, survivor, duplicate)).json()

    response = await client.post(f"/api/v1/merges/{done['id']}/undo", headers=pair.supervisor,
                                 json={"reason": "核实后是两户：母女同名同生日"})
    assert response.status_code == 200, response.text
    undone = response.json()
    assert undone["undone_at"] and undone["undo_reason"].startswith("核实后") and undone["moved"] == done["moved"]
    assert [await open_file(client, pair.supervisor, h) for h in (survivor, duplicate)] == files
    assert [await ledger_lines([h.id]) for h in (survivor, duplicate)] == ledgers
    merge_kinds = {"merged", "merge_kept", "unmerged"}
    for household, before in zip((survivor, duplicate), histories):
        now = await history(client, pair.supervisor, household)
        assert [c for c in now if c["kind"] not in merge_kinds] == before
        assert {c["kind"] for c in now if c["kind"] in merge_kinds} >= {"merged", "unmerged"}
    assert await AuditEvent.filter(action="household.unmerged").count() == 2
    again = await client.post(f"/api/v1/merges/{done['id']}/undo", headers=pair.supervisor, json={"reason": "再撤销"})
    assert_problem(again, 409)
    # Merged once more, the other way round: a file can be merged again once its merge is undone.
    assert (await merge(client, pair.supervisor, duplicate, survivor)).status_code == 201


async def test_phones_drop_the_merged_away_file_and_get_the_survivor_again(client, pair):
    first = (await client.get("/api/v1/sync", headers=pair.headers)).json()
    assert {h["id"] for h in first["households"]} == {str(pair.household.id), str(pair.duplicate.id)}
    done = (await merge(client, pair.supervisor, pair.household, pair.duplicate)).json()
    later = (await client.get("/api/v1/sync", params={"since": first["next_cursor"]}, headers=pair.headers)).json()
    assert later["gone"] == [str(pair.duplicate.id)]
    [survivor] = later["households"]
    assert survivor["id"] == str(pair.household.id) and len(survivor["members"]) == 3
    await client.post(f"/api/v1/merges/{done['id']}/undo", headers=pair.supervisor, json={"reason": "合并错了"})
    undone = (await client.get("/api/v1/sync", params={"since": later["next_cursor"]}, headers=pair.headers)).json()
    assert undone["gone"] == [] and {h["id"] for h in undone["households"]} == {
        str(pair.household.id), str(pair.duplicate.id)}
    fresh = (await client.get("/api/v1/sync", headers=pair.headers)).json()
    assert len(fresh["households"]) == 2


async def test_a_visit_sent_to_the_merged_away_file_goes_to_the_survivor(client, pair):
    await merge(client, pair.supervisor, pair.household, pair.duplicate)
    photo = pair.photos[0]
    reply = await submit(client, pair.colleague, pair.duplicate, home_visit(photo, [photo]))
    assert reply["household"] == str(pair.household.id)
    file = await open_file(client, pair.headers, pair.household)
    assert reply["visit"] in {v["id"] for v in file["visits"]["items"]}
    # A phone that still holds the merged-away file names 李桂兰 by the id it knew: she is not added a second time.
    survey = economic_survey(pair.twin) | {"house_photos": [photo], "survey_date": "2025-04-01"}
    survey["members"], survey["household_size"] = survey["members"][:1], 1
    survey["members"][0] |= {"health": "serious_illness"}
    await submit(client, pair.colleague, pair.duplicate, survey, form="economic_survey",
                 started_at="2025-04-01T09:00:00+08:00", finished_at="2025-04-01T09:30:00+08:00")
    members = (await open_file(client, pair.headers, pair.household))["members"]
    assert sorted(m["name"] for m in members) == ["李桂兰", "王小明", "王建国"]
    assert next(m for m in members if m["name"] == "李桂兰")["health"] == "serious_illness"
    corrected = await client.patch(f"/api/v1/households/{pair.duplicate.id}", headers=pair.headers,
                                   json={"reason": "更正", "phone": "13900000000"})
    assert assert_problem(corrected, 410)["merged_into"] == str(pair.household.id)
    archive = await client.get(f"/api/v1/households/{pair.duplicate.id}/archive", headers=pair.supervisor)
    assert assert_problem(archive, 410)["merged_into"] == str(pair.household.id)


async def test_a_merge_and_visits_at_the_same_time_neither_deadlock_nor_lose_anything(client, pair):
    """On PostgreSQL the three run at once (each its own connection); the merge locks both files in one order."""
    photo = pair.photos[0]

    async def visit(household, headers):
        body = submission_body(household, home_visit(photo, [photo]))
        return await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=headers)

    answers = await asyncio.wait_for(asyncio.gather(
        visit(pair.duplicate, pair.colleague), merge(client, pair.supervisor, pair.household, pair.duplicate),
        visit(pair.household, pair.headers), visit(pair.duplicate, pair.headers)), timeout=60)
    assert [a.status_code for a in answers[1:3]] == [201, 201], [a.text for a in answers]
    assert all(a.status_code in (201, 409) for a in answers), [a.text for a in answers]
    stored = sum(a.status_code == 201 for a in (answers[0], answers[2], answers[3]))
    file = await open_file(client, pair.headers, pair.household)
    assert len(file["visits"]["items"]) == 5 + stored
    assert await Household.filter(merged_into=pair.household.id).count() == 1


async def test_a_merge_waits_for_a_visit_holding_one_file_and_never_holds_what_the_visit_waits_for(client, pair):
    """A visit under way on the survivor (another server process, say) holds its file, then writes it, which takes
    the sync counter (migrations/0008_sync_changes.py). The merge waits for the file without having written
    anything, so the visit's write does not wait for the merge: no deadlock. (SQLite writes one transaction at a
    time: there the visit simply comes first.)"""
    statements = ("SELECT id FROM household WHERE id = $1 FOR UPDATE",
                  "UPDATE household SET phone = '13800000000' WHERE id = $1")
    if ON_POSTGRES:
        conn = await asyncpg.connect(DATABASE_URL)
        transaction = conn.transaction()
        await transaction.start()
        await conn.execute(statements[0], str(pair.household.id))
        merging = asyncio.create_task(merge(client, pair.supervisor, pair.household, pair.duplicate))
        await asyncio.sleep(0.3)
        assert not merging.done()  # waiting for the survivor's file
        await asyncio.wait_for(conn.execute(statements[1], str(pair.household.id)), timeout=5)
        await transaction.commit()
        await conn.close()
        response = await asyncio.wait_for(merging, timeout=30)
    else:
        conn = sql.connection()
        await conn.execute_query(statements[1].replace("$1", "?"), [str(pair.household.id)])
        response = await merge(client, pair.supervisor, pair.household, pair.duplicate)
    assert response.status_code == 201, response.text
    file = await open_file(client, pair.headers, pair.household)
    assert file["phone"] == "13800000000" and len(file["visits"]["items"]) == 5


async def test_bad_merges_are_refused_with_what_is_wrong(client, settings, pair):
    supervisor, survivor, duplicate = pair.supervisor, pair.household, pair.duplicate
    url = f"/api/v1/households/{survivor.id}/merge"
    assert_problem(await merge(client, pair.headers, survivor, duplicate), 403)
    assert_problem(await merge(client, supervisor, survivor, survivor), 422, "/duplicate")
    assert_problem(await client.post(url, headers=supervisor, json={"duplicate": "nope", "reason": "x"}), 422,
                   "/duplicate")
    assert_problem(await client.post(url, headers=supervisor, json={"duplicate": str(duplicate.id)}), 422, "/reason")
    assert_problem(await merge(client, supervisor, survivor, duplicate, reason="  "), 422, "/reason")
    # Nothing was written by any of them.
    assert await Household.filter(merged_into__isnull=False).count() == 0

    west = await make_household(pair.district.west_a)
    assert_problem(await merge(client, supervisor, survivor, west), 404, "/duplicate")
    assert_problem(await merge(client, supervisor, west, survivor), 404)
    admin = await headers_for(settings, await make_user("admin"))
    assert_problem(await merge(client, admin, survivor, west), 409)

    done = (await merge(client, supervisor, survivor, duplicate)).json()
    assert_problem(await merge(client, supervisor, survivor, duplicate), 409)
    assert_problem(await merge(client, supervisor, duplicate, survivor), 409)
    other = await make_household(pair.district.east_b)
    assert_problem(await merge(client, supervisor, other, duplicate), 409)

    west_supervisor = await headers_for(settings, await make_user("supervisor", pair.district.west))
    undo = f"/api/v1/merges/{done['id']}/undo"
    assert_problem(await client.post(undo, headers=west_supervisor, json={"reason": "撤销"}), 404)
    assert_problem(await client.get(f"/api/v1/merges/{done['id']}", headers=west_supervisor), 404)
    assert_problem(await client.post(undo, headers=pair.headers, json={"reason": "撤销"}), 403)
    assert_problem(await client.post(undo, headers=supervisor, json={}), 422, "/reason")
    assert_problem(await client.post(f"/api/v1/merges/{uuid.uuid4()}/undo", headers=supervisor,
                                     json={"reason": "撤销"}), 404)
    # The survivor merged on into a third file: that merge is undone first.
    assert (await merge(client, supervisor, other, survivor)).status_code == 201
    assert await Household.filter(merged_into=other.id).count() == 2  # the earlier pointer follows
    assert_problem(await client.post(undo, headers=supervisor, json={"reason": "撤销"}), 409)
    assert await Member.filter(household_id=duplicate.id).count() == 0


async def test_a_merge_of_files_without_needs_says_it_moved_none(client, settings):
    district = await make_district()
    survivor, duplicate = await make_household(district.east_a), await make_household(district.east_a)
    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    response = await merge(client, supervisor, survivor, duplicate)
    assert response.status_code == 201, response.text
    assert response.json()["moved"]["needs"] == 0
