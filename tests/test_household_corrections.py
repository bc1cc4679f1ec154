"""Corrections of a household file (PATCH) by the workers and supervisors of its area, each with its reason, kept in
the history and the audit log; moving a household is a supervisor's act within their own areas."""

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from factories import (assert_problem, economic_survey, headers_for, home_visit, id_number, make_field, make_form_version, make_household, make_user, submission_body)
from server.households.search import id_number_key
from server.models import AuditEvent, Household, HouseholdChange, HouseholdConflict, LedgerEntry, Member

HEAD = "5b0c5a64-1f7e-4c53-9a51-0d3c8f1a2b10"
NEW_NUMBER = id_number("19580312", "228")


@pytest.fixture
async def surveyed(client, settings):
    """A household of east_a whose economic survey bound two members; its worker and its township's supervisor."""
    field = await make_field(client, settings)
    await make_form_version("economic_survey")
    data = economic_survey(HEAD) | {"house_photos": [field.photos[0]]}
    body = submission_body(field.household, data, form="economic_survey")
    response = await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=field.headers)
    assert response.status_code == 201, response.text
    field.supervisor = await headers_for(settings, await make_user("supervisor", field.district.east))
    return field


async def patch(client, household, headers, **body):
    return await client.patch(f"/api/v1/households/{household.id}", json=body, headers=headers)


async def nothing_changed(household) -> bool:
    return (await HouseholdChange.filter(household_id=household.id, kind="corrected").count() == 0
            and await AuditEvent.filter(action__in=("household.corrected", "household.moved")).count() == 0)


async def test_a_worker_corrects_the_registration_the_situation_and_a_member_with_a_reason(client, settings, surveyed):
    household = surveyed.household
    response = await patch(client, household, surveyed.headers, reason="户主口述更正：门牌号登记错误，身份证号抄错一位",
                           address="白竹亭社区 3 组 21 号", phone="13807312999", location={"lat": 28.2, "lon": 112.98},
                           situation={"housing": "rented", "health": None},
                           members=[{"id": HEAD, "name": "李桂兰", "id_number": NEW_NUMBER, "tags": ["elderly"]}])
    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["address"] == "白竹亭社区 3 组 21 号" and reply["location"] == {"lat": 28.2, "lon": 112.98}
    assert reply["situation"]["housing"] == "rented"
    head = next(m for m in reply["members"] if m["id"] == HEAD)
    assert head["id_number"] == NEW_NUMBER[:6] + "********" + NEW_NUMBER[-4:] and head["tags"] == ["elderly"]

    member = await Member.get(id=HEAD)
    assert member.data["id_number"] == NEW_NUMBER and member.id_number_key == id_number_key(settings, NEW_NUMBER)
    changes = await HouseholdChange.filter(household_id=household.id, kind="corrected")
    assert sorted((c.field, str(c.member_id) if c.member_id else None) for c in changes) == sorted([
        ("/address", None), ("/phone", None), ("/location", None), ("housing", None),
        ("id_number", HEAD), ("tags", HEAD)])  # the name was the same; health was never observed
    assert all(c.actor_id == surveyed.worker.id and c.new_meta["reason"].startswith("户主口述") for c in changes)
    [event] = await AuditEvent.filter(action="household.corrected")
    assert event.detail["reason"].startswith("户主口述") and f"/members/{HEAD}/id_number" in event.detail["pointers"]
    assert NEW_NUMBER not in str(event.detail)

    # Search follows: the new number and address find it, the old number no longer does.
    old_number = economic_survey(HEAD)["members"][0]["id_number"]
    for q, found in ((NEW_NUMBER, True), (old_number, False), ("3 组 21", True)):
        page = (await client.get("/api/v1/households", params={"q": q}, headers=surveyed.headers)).json()
        assert bool(page["items"]) is found, q


async def test_the_history_shows_every_change_newest_first_with_who_and_why(client, settings, surveyed):
    household = surveyed.household
    await patch(client, household, surveyed.supervisor, reason="核实", head="李桂兰",
                members=[{"id": HEAD, "id_number": NEW_NUMBER}])
    response = await client.get(f"/api/v1/households/{household.id}/history", headers=surveyed.headers)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [i["at"] for i in items] == sorted((i["at"] for i in items), reverse=True)
    corrected = {i["pointer"]: i for i in items if i["kind"] == "corrected"}
    assert set(corrected) == {"/head", f"/members/{HEAD}/id_number"}
    head = corrected["/head"]
    assert head["old_value"] == "张秀英" and head["new_value"] == "李桂兰" and head["reason"] == "核实"
    assert head["actor_name"] == "supervisor 测试" and head["submission"] is None
    number = corrected[f"/members/{HEAD}/id_number"]
    assert number["new_value"] == NEW_NUMBER[:6] + "********" + NEW_NUMBER[-4:]
    assert "*" in number["old_value"] and NEW_NUMBER not in response.text
    applied = [i for i in items if i["kind"] == "applied"]
    assert applied and all(i["submission"] and i["reason"] is None for i in applied)
    assert any(i["pointer"] == "/situation/housing" for i in applied)
    assert response.json()["next_cursor"] is None
    assert_problem(await client.get(f"/api/v1/households/{household.id}/history", params={"cursor": "eA"},
                                    headers=surveyed.headers), 422, "/cursor")


async def test_members_are_added_and_removed_and_a_retried_add_adds_none(client, settings, surveyed):
    household = surveyed.household
    newborn = str(uuid.uuid4())
    spouse = next(m for m in await Member.filter(household_id=household.id) if str(m.id) != HEAD)
    body = {"reason": "新生儿落户；配偶已迁出", "members": [
        {"id": newborn, "name": "王小宝", "relation": "grandchild", "gender": "male", "birth_date": "2025-01-02"},
        {"id": str(spouse.id), "remove": True}]}
    for _ in range(2):
        response = await client.patch(f"/api/v1/households/{household.id}", json=body, headers=surveyed.headers)
        assert response.status_code == 200, response.text
        assert sorted(m["name"] for m in response.json()["members"]) == ["李桂兰", "王小宝"]
    assert await Member.filter(household_id=household.id).count() == 3  # the removed one is kept, as removed
    rows = await HouseholdChange.filter(household_id=household.id, field="member").order_by("at")
    assert [(str(r.member_id), r.old_value["value"] is None, r.new_value["value"] is None) for r in rows] == [
        (newborn, True, False), (str(spouse.id), False, True)]
    # The removed spouse is no longer found by name.
    page = (await client.get("/api/v1/households", params={"q": "王建国"}, headers=surveyed.headers)).json()
    assert page["items"] == []


async def test_a_phone_sends_back_the_masked_numbers_it_was_shown_and_they_stand_for_the_whole_ones(
        client, settings, surveyed):
    """A phone correcting members has only the file's masked numbers: one sent back unchanged keeps the stored
    number; a masked number that is not the member's own mask is a 422 at its pointer, and nothing is written."""
    household = surveyed.household
    file = (await client.get(f"/api/v1/households/{household.id}", headers=surveyed.headers)).json()
    head, spouse = sorted(file["members"], key=lambda m: m["id"] != HEAD)
    assert "*" in head["id_number"] and "*" in spouse["id_number"]
    stored = {str(m.id): m.data["id_number"] for m in await Member.filter(household_id=household.id)}

    for rows, pointers in (
        ([{"id": HEAD, "id_number": spouse["id_number"]}], ["/members/0/id_number"]),  # another member's mask
        ([{"id": HEAD, "tags": ["elderly"]}, {"id": spouse["id"], "id_number": "430102********0000"}],
         ["/members/1/id_number"]),
        ([{"id": str(uuid.uuid4()), "name": "王小宝", "id_number": head["id_number"]}], ["/members/0/id_number"]),
        ([{"id": HEAD, "id_number": "430102**1246"}], ["/members/0/id_number"]),  # not a mask's shape
    ):
        response = await patch(client, household, surveyed.headers, reason="核实", members=rows)
        assert_problem(response, 422, *pointers)
        assert await nothing_changed(household)

    response = await patch(client, household, surveyed.headers, reason="核实成员标签", members=[
        {"id": HEAD, "name": head["name"], "id_number": head["id_number"], "tags": ["elderly", "living_alone"]},
        {"id": spouse["id"], "id_number": spouse["id_number"], "phone": "13807312456"}])
    assert response.status_code == 200, response.text
    assert {m["id"]: m["id_number"] for m in response.json()["members"]} == {
        HEAD: head["id_number"], spouse["id"]: spouse["id_number"]}
    members = {str(m.id): m for m in await Member.filter(household_id=household.id)}
    assert {mid: m.data["id_number"] for mid, m in members.items()} == stored
    assert members[HEAD].id_number_key == id_number_key(settings, stored[HEAD])
    changes = await HouseholdChange.filter(household_id=household.id, kind="corrected")
    assert sorted((c.field, str(c.member_id)) for c in changes) == sorted([("tags", HEAD), ("phone", spouse["id"])])
    # Still found by the whole number.
    page = (await client.get("/api/v1/households", params={"q": stored[HEAD]}, headers=surveyed.headers)).json()
    assert [h["id"] for h in page["items"]] == [str(household.id)]


async def test_a_correction_moves_people_on_and_off_the_ledgers(client, settings, surveyed):
    household, child = surveyed.household, str(uuid.uuid4())
    body = {"reason": "孙女父母外出务工", "members": [
        {"id": child, "name": "王小红", "relation": "grandchild", "birth_date": "2015-04-15", "tags": ["left_behind"]}]}
    assert (await patch(client, household, surveyed.headers, **body)).status_code == 200
    assert await LedgerEntry.filter(household_id=household.id, member_id=child, kind="children").exists()
    await patch(client, household, surveyed.headers, reason="已随父母迁出", members=[{"id": child, "remove": True}])
    assert not await LedgerEntry.filter(household_id=household.id, member_id=child).exists()


@pytest.mark.parametrize("body, pointers", [
    ({"reason": "核实", "colour": "red"}, ["/colour"]),
    ({"reason": "核实", "situation": {"colour": "red"}}, ["/situation/colour"]),
    ({"reason": "核实", "members": [{"id": HEAD, "id_number": "430102195803121234"}]}, ["/members/0/id_number"]),
    ({"reason": "核实", "members": [{"id": HEAD, "id_number": "430102********1245"}]}, ["/members/0/id_number"]),
    ({"reason": "核实", "members": [{"id": HEAD, "tags": ["vip"]}]}, ["/members/0/tags/0"]),
    ({"reason": "核实", "members": [{"name": "无编号"}]}, ["/members/0/id"]),
    ({"address": "白竹亭社区 3 组 21 号"}, ["/reason"]),
    ({"reason": "   ", "address": "白竹亭社区 3 组 21 号"}, ["/reason"]),
    ({"reason": "核实", "members": [{"id": str(uuid.uuid4()), "relation": "self"}]}, ["/members/0/name"]),
    ({"reason": "核实", "members": [{"id": str(uuid.uuid4()), "remove": True}]}, ["/members/0/id"]),
    ({"reason": "核实", "members": [{"id": HEAD, "remove": True, "name": "李桂兰"}]}, ["/members/0/remove"]),
    ({"reason": "核实", "members": [{"id": HEAD, "name": "甲"}, {"id": HEAD, "name": "乙"}]}, ["/members/1/id"]),
    ({"reason": "核实", "location": {"lat": 95, "lon": 0}}, ["/location/lat"]),
])
async def test_bad_corrections_are_refused_with_pointers_and_change_nothing(client, surveyed, body, pointers):
    response = await client.patch(f"/api/v1/households/{surveyed.household.id}", json=body, headers=surveyed.headers)
    problem = assert_problem(response, 422, *pointers)
    assert "430102195803121234" not in response.text
    if "id_number" in str(body) and "*" not in str(body):
        assert problem["errors"][0]["detail"] == "「身份证号」校验位错误"
    assert await nothing_changed(surveyed.household)


async def test_a_correction_with_nothing_to_correct_is_refused(client, surveyed):
    assert_problem(await patch(client, surveyed.household, surveyed.headers, reason="核实"), 422)


async def test_a_member_of_another_household_cannot_be_corrected_from_this_one(client, settings, surveyed):
    other = await make_household(surveyed.district.east_a)
    response = await patch(client, other, surveyed.headers, reason="核实", members=[{"id": HEAD, "name": "冒名"}])
    assert_problem(response, 422, "/members/0/id")
    assert (await Member.get(id=HEAD)).household_id == surveyed.household.id
    assert await nothing_changed(other)


async def test_a_supervisor_moves_a_household_within_the_township_and_its_file_follows(client, settings, surveyed):
    district, household = surveyed.district, surveyed.household
    response = await patch(client, household, surveyed.supervisor, reason="村组合并，划入凌云社区",
                           community=str(district.east_b.id))
    assert response.status_code == 200, response.text
    assert response.json()["community"] == str(district.east_b.id)
    [moved] = await HouseholdChange.filter(household_id=household.id, field="/community")
    assert moved.old_value["value"] == str(district.east_a.id) and moved.new_value["value"] == str(district.east_b.id)
    [event] = await AuditEvent.filter(action="household.moved")
    assert event.detail == {"from": str(district.east_a.id), "to": str(district.east_b.id),
                            "reason": "村组合并，划入凌云社区"}
    # The old community's worker loses it; the new community's worker finds it with its visits and history.
    assert_problem(await client.get(f"/api/v1/households/{household.id}", headers=surveyed.headers), 404)
    there = await headers_for(settings, await make_user("worker", district.east_b))
    file = (await client.get(f"/api/v1/households/{household.id}", headers=there)).json()
    assert len(file["visits"]["items"]) == 1 and len(file["members"]) == 2
    history = (await client.get(f"/api/v1/households/{household.id}/history", headers=there)).json()
    assert any(i["pointer"] == "/community" for i in history["items"])


async def test_a_supervisor_cannot_move_a_household_out_of_their_township(client, surveyed):
    district, household = surveyed.district, surveyed.household
    for target in (district.west_a, district.east, uuid.uuid4()):
        response = await patch(client, household, surveyed.supervisor, reason="迁出", community=str(target.id)
                               if not isinstance(target, uuid.UUID) else str(target))
        assert_problem(response, 422, "/community")
    assert (await Household.get(id=household.id)).community_id == district.east_a.id
    assert await nothing_changed(household)


async def test_a_worker_may_not_move_a_household(client, surveyed):
    district, household = surveyed.district, surveyed.household
    response = await patch(client, household, surveyed.headers, reason="迁入凌云", community=str(district.east_b.id))
    assert_problem(response, 403)
    # Sending the community it is in is no move.
    response = await patch(client, household, surveyed.headers, reason="核实", community=str(district.east_a.id),
                           head="张秀英")
    assert response.status_code == 200, response.text
    assert await nothing_changed(household)


async def test_no_one_outside_the_households_areas_corrects_it_or_reads_its_history(client, settings, surveyed):
    district, household = surveyed.district, surveyed.household
    for user in (await make_user("worker", district.east_b), await make_user("supervisor", district.west)):
        headers = await headers_for(settings, user)
        assert_problem(await patch(client, household, headers, reason="猜编号", head="冒名"), 404)
        assert_problem(await client.get(f"/api/v1/households/{household.id}/history", headers=headers), 404)
    for user in (await make_user("bureau", district.county), await make_user("provider")):
        assert_problem(await patch(client, household, await headers_for(settings, user), reason="核实", head="x"), 403)
    assert_problem(await client.get(f"/api/v1/households/{uuid.uuid4()}/history", headers=surveyed.headers), 404)
    assert_problem(await patch(client, household.__class__(id=uuid.uuid4()), surveyed.headers, reason="核实",
                               head="x"), 404)
    assert await nothing_changed(household)


async def test_a_later_visit_overrides_a_correction_and_an_earlier_one_arriving_late_is_a_conflict(
        client, settings):
    field = await make_field(client, settings)
    household, photo = field.household, field.photos[0]
    await patch(client, household, field.headers, reason="电话回访：老人身体好转", situation={"health": "fair"})

    def visit(day: str, health: str) -> dict:  # in the station's time zone
        return submission_body(household, home_visit(photo, [photo], health=health),
                               started_at=f"{day}T09:00:00+08:00", finished_at=f"{day}T09:30:00+08:00")

    colleague = await headers_for(settings, await make_user("worker", field.district.east_a))
    await field.share_photos(client, colleague)
    # A phone offline since last year sends what it saw then: the correction, made later, stands.
    response = await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=visit("2025-03-17", "poor"),
                                headers=colleague)
    assert response.status_code == 201, response.text
    assert (await Household.get(id=household.id)).situation["health"] == "fair"
    [conflict] = await HouseholdConflict.filter(household_id=household.id)
    assert conflict.kept_value["value"] == "fair" and conflict.kept_meta["submission"] is None
    file = (await client.get(f"/api/v1/households/{household.id}", headers=field.headers)).json()
    assert file["situation_sources"]["health"]["reason"] == "电话回访：老人身体好转"
    assert file["situation_sources"]["health"]["visit"] is None
    # A visit made after the correction overrides it.
    soon = datetime.now(timezone.utc) + timedelta(minutes=30)
    body = submission_body(household, home_visit(photo, [photo], health="poor"), started_at=soon.isoformat(),
                           finished_at=(soon + timedelta(minutes=20)).isoformat())
    response = await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=field.headers)
    assert response.status_code == 201, response.text
    assert (await Household.get(id=household.id)).situation["health"] == "poor"
    assert await HouseholdConflict.filter(household_id=household.id).count() == 1
