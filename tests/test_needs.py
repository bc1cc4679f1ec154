"""The needs list (需求清单): needs raised by a submission's bindings in its transaction, or entered by a worker; the
list and one need, scoped; the household file shows each need and what became of it."""

import uuid
from datetime import datetime, timedelta, timezone

import forms
from factories import (assert_problem, headers_for, home_visit, id_number, make_district, make_field, make_household,
                       make_need, make_provider, make_user, submission_body)
from server.models import Member, Need, NeedEvent
from server.surveys.catalogue import load_catalogue

MONDAY = ("2025-03-17T09:00:00+08:00", "2025-03-17T09:40:00+08:00")


async def send(client, field, data=None, sid=None, **extra):
    sid = sid or str(uuid.uuid4())
    body = submission_body(field.household, data or home_visit(field.photos[0], field.photos),
                           started_at=MONDAY[0], finished_at=MONDAY[1], **extra)
    response = await client.put(f"/api/v1/submissions/{sid}", json=body, headers=field.headers)
    assert response.status_code in (200, 201), response.text
    return sid, body


async def test_a_submission_raises_its_needs_once_with_due_dates_by_urgency(client, settings):
    field = await make_field(client, settings)
    await load_catalogue(forms.catalogue())
    sid, body = await send(client, field)
    # The phone did not hear the answer and sends it again: no second set of needs.
    again = await client.put(f"/api/v1/submissions/{sid}", json=body, headers=field.headers)
    assert again.status_code == 200
    page = (await client.get("/api/v1/needs", headers=field.headers)).json()
    assert page["next_cursor"] is None
    needs = {n["item"]: n for n in page["items"]}
    assert set(needs) == {"elderly.safety_check", "elderly.emotional_comfort"}
    safety = needs["elderly.safety_check"]
    assert safety["urgency"] == "high" and safety["status"] == "raised" and safety["submission"] == sid
    assert safety["item_name"] == "居家安全排查" and safety["category"] == "elderly"
    assert safety["raised_at"].startswith("2025-03-17T01:40:00")  # when the visit happened
    assert safety["due_at"].startswith("2025-03-24T01:40:00")  # 7 days for a high urgency
    assert needs["elderly.emotional_comfort"]["due_at"].startswith("2025-04-16")  # 30 for a normal one
    assert safety["consent"] is False and safety["contact"] is None
    detail = (await client.get(f"/api/v1/needs/{safety['id']}", headers=field.headers)).json()
    assert [(e["action"], e["to_status"]) for e in detail["events"]] == [("raise", "raised")]


async def test_a_submission_whose_needs_cannot_be_stored_stores_nothing(client, settings):
    """The needs are written in the submission's transaction: a refused submission leaves no need behind."""
    field = await make_field(client, settings)
    data = home_visit(field.photos[0], field.photos)
    data["needs"][0]["urgency"] = "whenever"  # not one of the form's choices
    body = submission_body(field.household, data, started_at=MONDAY[0], finished_at=MONDAY[1])
    response = await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=field.headers)
    assert_problem(response, 422, "/data/needs/0/urgency")
    assert await Need.all().count() == 0


async def test_a_correction_keeps_the_needs_it_still_raises_and_withdraws_the_others(client, settings):
    field = await make_field(client, settings)
    first, _ = await send(client, field)
    kept = await Need.get(submission_id=first, item="elderly.safety_check")
    data = home_visit(field.photos[0], field.photos)
    data["needs"] = [{"item": "elderly.safety_check", "urgency": "urgent", "description": "线路已冒烟"}]
    second, _ = await send(client, field, data, replaces=first)
    needs = await Need.all()
    assert [(n.id, n.submission_id, n.urgency) for n in needs] == [(kept.id, uuid.UUID(second), "urgent")]
    assert await NeedEvent.filter(need_id=kept.id).count() == 1


async def test_a_correction_keeps_a_need_someone_already_acts_on(client, settings):
    field = await make_field(client, settings)
    first, _ = await send(client, field)
    acted = await Need.get(submission_id=first, item="elderly.emotional_comfort")
    supervisor = await headers_for(settings, await make_user("supervisor", field.district.east))
    response = await client.post(f"/api/v1/needs/{acted.id}/close", json={"reason": "已由亲属照看"}, headers=supervisor)
    assert response.status_code == 200, response.text
    data = home_visit(field.photos[0], field.photos, has_needs=False)
    del data["needs"]
    second, _ = await send(client, field, data, replaces=first)
    assert [(n.id, n.status) for n in await Need.all()] == [(acted.id, "closed")]
    file = (await client.get(f"/api/v1/households/{field.household.id}", headers=field.headers)).json()
    [shown] = file["needs"]
    assert shown["status"] == "closed" and shown["outcome"]["reason"] == "已由亲属照看"


async def test_a_worker_enters_a_need_with_the_households_consent(client, settings):
    field = await make_field(client, settings)
    await load_catalogue(forms.catalogue())
    body = {"household": str(field.household.id), "item": "elderly.meal_shopping", "urgency": "urgent",
            "description": "腿脚不便，需要代买菜", "consent": True}
    response = await client.post("/api/v1/needs", json=body, headers=field.headers)
    assert response.status_code == 201, response.text
    need = response.json()
    assert need["consent"] is True and need["contact"] == "13807312456"  # the household's phone, as agreed
    assert need["submission"] is None and need["status"] == "raised"
    file = (await client.get(f"/api/v1/households/{field.household.id}", headers=field.headers)).json()
    assert [(n["id"], n["visit"], n["outcome"]) for n in file["needs"]] == [(need["id"], None, None)]
    # A need of one member: one of this household's, not a neighbour's.
    stamp = datetime.now(timezone.utc)
    grandma, neighbour = [await Member.create(id=uuid.uuid4(), household=h, data={"name": "李桂兰"}, meta={},
                                              created_at=stamp, updated_at=stamp)
                          for h in (field.household, await make_household(field.district.east_a))]
    for member, status in ((neighbour, 422), (grandma, 201)):
        response = await client.post("/api/v1/needs", json=body | {"member": str(member.id)}, headers=field.headers)
        assert response.status_code == status, response.text
    assert response.json()["member"] == str(grandma.id)
    assert await Need.filter(member=str(neighbour.id)).count() == 0


async def test_an_id_number_typed_into_a_need_is_masked_wherever_the_need_is_shown(client, settings):
    field = await make_field(client, settings)
    await load_catalogue(forms.catalogue())
    number = id_number("19580312", "124")
    body = {"household": str(field.household.id), "item": "elderly.meal_shopping", "consent": True,
            "description": f"老人身份证 {number}，需要代办"}
    response = await client.post("/api/v1/needs", json=body, headers=field.headers)
    assert response.status_code == 201, response.text
    need = response.json()
    masked = f"{number[:6]}********{number[-4:]}"
    file = (await client.get(f"/api/v1/households/{field.household.id}", headers=field.headers)).json()
    shown = [need, (await client.get(f"/api/v1/needs/{need['id']}", headers=field.headers)).json(),
             (await client.get("/api/v1/needs", headers=field.headers)).json()["items"][0], file["needs"][0]]
    for one in shown:
        assert one["description"] == f"老人身份证 {masked}，需要代办" and number not in str(one), one


async def test_entering_a_need_refuses_unknown_items_members_and_households_out_of_scope(client, settings):
    field = await make_field(client, settings)
    await load_catalogue(forms.catalogue())
    elsewhere = await make_household(field.district.west_a)
    base = {"household": str(field.household.id), "item": "elderly.meal_shopping"}
    assert_problem(await client.post("/api/v1/needs", json=base | {"item": "no.such"}, headers=field.headers),
                   422, "/item")
    assert_problem(await client.post("/api/v1/needs", json=base | {"member": str(uuid.uuid4())},
                                     headers=field.headers), 422, "/member")
    assert_problem(await client.post("/api/v1/needs", json=base | {"urgency": "now"}, headers=field.headers),
                   422, "/urgency")
    assert_problem(await client.post("/api/v1/needs", json=base | {"household": str(elsewhere.id)},
                                     headers=field.headers), 404)
    assert await Need.all().count() == 0


async def test_needs_outside_the_callers_areas_are_not_found_and_not_listed(client, settings):
    field = await make_field(client, settings)
    await send(client, field)
    need = await Need.first()
    west = await headers_for(settings, await make_user("worker", field.district.west_a))
    other_supervisor = await headers_for(settings, await make_user("supervisor", field.district.west))
    provider = await headers_for(settings, await make_user("provider"))
    for headers in (west, other_supervisor, provider):
        assert_problem(await client.get(f"/api/v1/needs/{need.id}", headers=headers), 404)
        assert (await client.get("/api/v1/needs", headers=headers)).json()["items"] == []
        assert_problem(await client.post(f"/api/v1/needs/{need.id}/evaluate", json={"rating": 5}, headers=headers),
                       403 if headers is provider else 404)
    # Nor can another township's supervisor act on it by its id: every action finds nothing.
    west_provider = await make_provider(field.district.west)
    for action, body in (("consent", {"consent": True, "contact": "13907301234"}), ("close", {"reason": "重复"}),
                         ("dispatch", {"provider": str(west_provider.id)})):
        assert_problem(await client.post(f"/api/v1/needs/{need.id}/{action}", json=body,
                                         headers=other_supervisor), 404)
    assert_problem(await client.get(f"/api/v1/needs/{need.id}/matches", headers=other_supervisor), 404)
    assert (await Need.get(id=need.id)).version == need.version
    assert await NeedEvent.filter(need_id=need.id).count() == 1
    assert_problem(await client.get("/api/v1/needs/not-an-id", headers=west), 404)
    bureau = await headers_for(settings, await make_user("bureau", field.district.county))
    assert len((await client.get("/api/v1/needs", headers=bureau)).json()["items"]) == 2


async def test_the_list_filters_by_area_status_category_and_month(client, settings):
    field = await make_field(client, settings)
    await load_catalogue(forms.catalogue())
    await send(client, field)
    supervisor = await headers_for(settings, await make_user("supervisor", field.district.east))

    async def items(**query):
        response = await client.get("/api/v1/needs", params=query, headers=supervisor)
        assert response.status_code == 200, response.text
        return sorted(n["item"] for n in response.json()["items"])

    both = ["elderly.emotional_comfort", "elderly.safety_check"]
    assert await items(area=str(field.district.east_a.id)) == both
    assert await items(area=str(field.district.east_b.id)) == []
    assert await items(status="raised", category="elderly") == both
    assert await items(status="dispatched") == [] and await items(category="child") == []
    assert await items(month="2025-03") == both and await items(month="2025-04") == []
    assert await items(status="overdue") == both  # raised in 2025, long due
    assert await items(status="open") == both  # every state still to be done, in one request
    closed = await Need.get(item="elderly.safety_check")
    response = await client.post(f"/api/v1/needs/{closed.id}/close", json={"reason": "住户已搬走"}, headers=supervisor)
    assert response.status_code == 200, response.text
    assert await items(status="open") == ["elderly.emotional_comfort"] and await items(status="closed") == [
        "elderly.safety_check"]
    for name, value in (("month", "2025-13"), ("status", "late"), ("area", str(field.district.west.id))):
        assert_problem(await client.get("/api/v1/needs", params={name: value}, headers=supervisor), 422, f"/{name}")
    first = await client.get("/api/v1/needs", params={"status": "raised"}, headers=supervisor)
    assert first.json()["next_cursor"] is None



async def test_the_list_walks_page_by_page_newest_first_every_need_once(client, settings):
    district = await make_district()
    households = [await make_household(district.east_a), await make_household(district.east_b)]
    start = datetime(2025, 3, 1, tzinfo=timezone.utc)
    made = []
    for n in range(230):  # in threes at the same minute: the cursor must break ties by id
        need = await make_need(households[n % 2], "raised", raised_at=start + timedelta(minutes=n // 3))
        made.append(need)
    await make_need(await make_household(district.west_a), "raised", raised_at=start)  # another township
    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    seen, cursor, sizes = [], None, []
    while True:
        response = await client.get("/api/v1/needs", params={"cursor": cursor} if cursor else {}, headers=supervisor)
        assert response.status_code == 200, response.text
        page = response.json()
        seen += page["items"]
        sizes.append(len(page["items"]))
        if len(sizes) == 1:  # a need raised while the worker pages is not met again, nor does it shift the pages
            await make_need(households[0], "raised", raised_at=start + timedelta(days=30))
        if not (cursor := page["next_cursor"]):
            break
    assert sizes == [100, 100, 30]
    assert [n["id"] for n in seen] == [str(n.id) for n in sorted(made, key=lambda n: (n.raised_at, n.id),
                                                                 reverse=True)]
    for cursor in ("不是游标", "e30", "W10=", "x" * 600):
        assert_problem(await client.get("/api/v1/needs", params={"cursor": cursor}, headers=supervisor), 422,
                       "/cursor")


async def test_consent_without_a_contact_to_share_is_refused(client, settings):
    field = await make_field(client, settings)
    await load_catalogue(forms.catalogue())
    field.household.phone = None
    await field.household.save()
    body = {"household": str(field.household.id), "item": "elderly.meal_shopping", "consent": True}
    assert_problem(await client.post("/api/v1/needs", json=body, headers=field.headers), 422, "/contact")
    response = await client.post("/api/v1/needs", json=body | {"contact": "女儿 13907301234"}, headers=field.headers)
    assert response.status_code == 201 and response.json()["contact"] == "女儿 13907301234"
