"""A need's life: consent, dispatch to a provider that serves the community and has capacity, accept or decline, start,
complete with a note, proof photos and the household's confirmation, evaluate; closed by a supervisor; reassigned
when overdue. Each action by the roles allowed, each recorded, a wrong one 409, and of two dispatchers one wins."""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

import forms
from factories import (assert_problem, headers_for, id_number, jpeg, make_district, make_household, make_provider,
                       make_user, sha256_of, upload)
from server.core.caller import Caller
from server.core.problems import WrongState
from server.models import CatalogueItem, Need, NeedEvent, Provider
from server.needs.lifecycle import take
from server.needs.reading import get_need
from server.surveys.catalogue import load_catalogue

ITEM = "elderly.meal_shopping"


@dataclass
class Desk:
    need: str
    worker: dict
    supervisor: dict
    provider: Provider
    provider_user: dict
    district: object


async def make_desk(client, settings, consent=True, capacity=5) -> Desk:
    await load_catalogue(forms.catalogue())
    district = await make_district()
    household = await make_household(district.east_a)
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    provider = await make_provider(district.east, offers={ITEM: capacity})
    provider_user = await headers_for(settings, await make_user("provider", provider=provider))
    body = {"household": str(household.id), "item": ITEM, "description": "腿脚不便，需要代买菜", "consent": consent}
    response = await client.post("/api/v1/needs", json=body, headers=worker)
    assert response.status_code == 201, response.text
    return Desk(response.json()["id"], worker, supervisor, provider, provider_user, district)


async def act(client, desk: Desk, action: str, headers: dict, body: dict | None = None):
    return await client.post(f"/api/v1/needs/{desk.need}/{action}", json=body or {}, headers=headers)


async def ok(client, desk, action, headers, body=None) -> dict:
    response = await act(client, desk, action, headers, body)
    assert response.status_code == 200, response.text
    return response.json()


async def proof(client, headers) -> str:
    data = jpeg()
    assert (await upload(client, headers, data)).status_code == 201
    return sha256_of(data)


async def test_a_need_goes_from_raised_to_evaluated_each_step_recorded(client, settings):
    desk = await make_desk(client, settings)
    dispatched = await ok(client, desk, "dispatch", desk.supervisor, {"provider": str(desk.provider.id)})
    assert dispatched["status"] == "dispatched" and dispatched["provider_name"] == "阳光助老服务中心"

    # The provider sees the need with the least household detail: no household, address, submission or who raised
    # it; names masked, and an ID number a worker typed into the description masked too.
    number = id_number("19580312", "124")
    await Need.filter(id=desk.need).update(member="李桂兰", description=f"身份证 {number}，腿脚不便")
    seen = (await client.get(f"/api/v1/needs/{desk.need}", headers=desk.provider_user)).json()
    assert seen["household"] is None and seen["address"] is None and seen["head"] == "张**"
    assert seen["submission"] is None and seen["raised_by"] is None and seen["member"] == "李**"
    assert number not in str(seen) and f"{number[:6]}********{number[-4:]}" in seen["description"]
    assert seen["contact"] == "13807312456" and seen["community_name"] == "白竹亭社区"
    listed = (await client.get("/api/v1/needs", headers=desk.provider_user)).json()["items"]
    assert [n["id"] for n in listed] == [desk.need]

    await ok(client, desk, "accept", desk.provider_user)
    await ok(client, desk, "start", desk.provider_user)
    photo = await proof(client, desk.provider_user)
    done = await ok(client, desk, "complete", desk.provider_user, {
        "note": "代买蔬菜和药品，已送到家", "attachments": [photo], "confirmation": {"by": "张秀英", "how": "signature"}})
    assert done["status"] == "done" and done["proofs"] == [photo] and done["done_at"]
    # The supervisor opens the proof; someone who may not see the need may not see it either.
    assert (await client.get(f"/api/v1/attachments/{photo}", headers=desk.supervisor)).status_code == 200
    west = await headers_for(settings, await make_user("supervisor", desk.district.west))
    assert_problem(await client.get(f"/api/v1/attachments/{photo}", headers=west), 404)
    evaluated = await ok(client, desk, "evaluate", desk.worker, {"rating": 5, "comment": "老人很满意"})
    assert evaluated["status"] == "evaluated" and evaluated["rating"] == 5
    assert [(e["action"], e["from_status"], e["to_status"]) for e in evaluated["events"]] == [
        ("raise", None, "raised"), ("dispatch", "raised", "dispatched"), ("accept", "dispatched", "accepted"),
        ("start", "accepted", "in_service"), ("complete", "in_service", "done"), ("evaluate", "done", "evaluated")]
    complete = evaluated["events"][4]
    assert complete["detail"]["confirmation"] == {"by": "张秀英", "how": "signature"}
    assert all(e["actor"] and e["at"] for e in evaluated["events"])
    # The household's file shows what became of it.
    household = (await Need.get(id=desk.need)).household_id
    file = (await client.get(f"/api/v1/households/{household}", headers=desk.worker)).json()
    [shown] = file["needs"]
    assert {k: shown["outcome"][k] for k in ("status", "provider_name", "rating")} == {
        "status": "evaluated", "provider_name": "阳光助老服务中心", "rating": 5}


async def test_no_consent_no_dispatch(client, settings):
    desk = await make_desk(client, settings, consent=False)
    body = {"provider": str(desk.provider.id)}
    problem = assert_problem(await act(client, desk, "dispatch", desk.supervisor, body), 409)
    assert problem["type"] == "/problems/no-consent" and "同意" in problem["detail"]
    assert_problem(await act(client, desk, "consent", desk.worker, {"consent": True}), 422, "/contact")
    await ok(client, desk, "consent", desk.worker, {"consent": True, "contact": "13907301234"})
    assert (await ok(client, desk, "dispatch", desk.supervisor, body))["contact"] == "13907301234"


async def test_dispatch_refuses_a_provider_outside_the_area_without_the_item_or_capacity(client, settings):
    desk = await make_desk(client, settings, capacity=1)
    west = await make_provider(desk.district.west, name="楚江志愿者协会", offers={ITEM: 10})
    other_item = await make_provider(desk.district.east_a, name="凌云康复站", offers={"affairs.rehabilitation": 10})
    for provider, says in ((west, "不服务"), (other_item, "没有该服务项目"), (uuid.uuid4(), "不存在")):
        problem = assert_problem(await act(client, desk, "dispatch", desk.supervisor,
                                           {"provider": str(getattr(provider, "id", provider))}), 422, "/provider")
        assert says in problem["errors"][0]["detail"]
    await ok(client, desk, "dispatch", desk.supervisor, {"provider": str(desk.provider.id)})
    # Its one place this month is taken: a second need cannot go to it.
    household = await make_household(desk.district.east_a)
    second = (await client.post("/api/v1/needs", json={"household": str(household.id), "item": ITEM, "consent": True},
                                headers=desk.worker)).json()["id"]
    problem = assert_problem(await client.post(f"/api/v1/needs/{second}/dispatch", json={
        "provider": str(desk.provider.id)}, headers=desk.supervisor), 422, "/provider")
    assert "名额已满" in problem["errors"][0]["detail"]
    assert (await Need.get(id=second)).status == "raised"


async def test_workers_do_not_dispatch_and_other_providers_do_not_accept(client, settings):
    desk = await make_desk(client, settings)
    assert_problem(await act(client, desk, "dispatch", desk.worker, {"provider": str(desk.provider.id)}), 403)
    await ok(client, desk, "dispatch", desk.supervisor, {"provider": str(desk.provider.id)})
    other = await headers_for(settings, await make_user("provider"))
    assert_problem(await act(client, desk, "accept", other), 404)
    assert_problem(await client.get(f"/api/v1/needs/{desk.need}", headers=other), 404)
    assert_problem(await act(client, desk, "accept", desk.supervisor), 403)


async def test_actions_out_of_order_are_conflicts(client, settings):
    desk = await make_desk(client, settings)
    for action, headers, body in (("accept", desk.provider_user, {}), ("evaluate", desk.worker, {"rating": 3})):
        assert_problem(await act(client, desk, action, headers, body), 404 if headers is desk.provider_user else 409)
    await ok(client, desk, "dispatch", desk.supervisor, {"provider": str(desk.provider.id)})
    problem = assert_problem(await act(client, desk, "start", desk.provider_user), 409)
    assert "已派单" in problem["detail"]
    assert_problem(await act(client, desk, "dispatch", desk.supervisor, {"provider": str(desk.provider.id)}), 409)
    await ok(client, desk, "close", desk.supervisor, {"reason": "住户已搬离"})
    assert_problem(await act(client, desk, "close", desk.supervisor, {"reason": "再关一次"}), 409)


async def test_a_decline_returns_the_need_with_its_reason_kept(client, settings):
    desk = await make_desk(client, settings)
    await ok(client, desk, "dispatch", desk.supervisor, {"provider": str(desk.provider.id)})
    offers = f"/api/v1/providers/{desk.provider.id}/offers"

    async def taken() -> int:
        [offer] = (await client.get(offers, headers=desk.provider_user)).json()["items"]
        return offer["taken_this_month"]

    assert await taken() == 1
    assert_problem(await act(client, desk, "decline", desk.provider_user), 422, "/reason")
    declined = await ok(client, desk, "decline", desk.provider_user, {"reason": "本周人手不足"})
    assert await taken() == 0  # a declined need takes no place
    assert declined["status"] == "raised" and declined["provider"] is None
    event = await NeedEvent.get(need_id=desk.need, action="decline")
    assert event.reason == "本周人手不足" and event.provider_id == desk.provider.id
    # Declined, it is no longer the provider's to see.
    assert_problem(await client.get(f"/api/v1/needs/{desk.need}", headers=desk.provider_user), 404)
    # The next provider sees that it was declined before, not by whom nor why.
    second = await make_provider(desk.district.east, name="凌云志愿服务队", offers={ITEM: 5})
    second_user = await headers_for(settings, await make_user("provider", provider=second))
    await ok(client, desk, "dispatch", desk.supervisor, {"provider": str(second.id)})
    events = (await client.get(f"/api/v1/needs/{desk.need}", headers=second_user)).json()["events"]
    assert [(e["action"], e["provider"], e["actor_name"], e["reason"]) for e in events[1:3]] == [
        ("dispatch", None, None, None), ("decline", None, None, None)]
    assert events[3]["action"] == "dispatch" and events[3]["provider"] == str(second.id) and events[3]["actor_name"]
    assert all(e["detail"] == {} for e in events)
    # The station sees it all.
    events = (await client.get(f"/api/v1/needs/{desk.need}", headers=desk.supervisor)).json()["events"]
    assert (events[2]["provider"], events[2]["reason"]) == (str(desk.provider.id), "本周人手不足")


async def test_complete_needs_proof_photos_the_caller_sent_and_a_confirmation(client, settings):
    desk = await make_desk(client, settings)
    await ok(client, desk, "dispatch", desk.supervisor, {"provider": str(desk.provider.id)})
    await ok(client, desk, "accept", desk.provider_user)
    await ok(client, desk, "start", desk.provider_user)
    full = {"note": "已送到", "attachments": [await proof(client, desk.worker)], "confirmation": {"by": "户主",
                                                                                                "how": "phone"}}
    assert_problem(await act(client, desk, "complete", desk.provider_user, {"note": "已送到"}), 422,
                   "/attachments", "/confirmation")
    assert_problem(await act(client, desk, "complete", desk.provider_user, full | {"attachments": []}), 422,
                   "/attachments")
    # A photo someone else sent: knowing its hash proves nothing.
    assert_problem(await act(client, desk, "complete", desk.provider_user, full), 422, "/attachments/0")
    assert (await Need.get(id=desk.need)).status == "in_service"


async def test_ratings_out_of_range_are_refused(client, settings):
    desk = await make_desk(client, settings)
    for rating in (0, 6, 4.5, "5"):
        assert_problem(await act(client, desk, "evaluate", desk.worker, {"rating": rating}), 422, "/rating")


async def test_of_two_dispatchers_at_once_exactly_one_wins(client, settings):
    desk = await make_desk(client, settings)
    second = await make_provider(desk.district.east_a, name="凌云志愿服务队", offers={ITEM: 5})
    other_supervisor = await headers_for(settings, await make_user("supervisor", desk.district.east))
    answers = await asyncio.gather(
        act(client, desk, "dispatch", desk.supervisor, {"provider": str(desk.provider.id)}),
        act(client, desk, "dispatch", other_supervisor, {"provider": str(second.id)}))
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    winner = next(a for a in answers if a.status_code == 200).json()
    need = await Need.get(id=desk.need)
    assert str(need.provider_id) == winner["provider"] and need.version == 2
    assert await NeedEvent.filter(need_id=desk.need, action="dispatch").count() == 1


async def test_an_action_on_a_need_read_before_another_changed_it_is_a_conflict_and_changes_nothing(
        client, settings):
    # Two requests in one process need not interleave; here the race is made: the need is read, another supervisor
    # dispatches it, then the first goes on with what it read (its status check passes: only the conditional write
    # can refuse it).
    desk = await make_desk(client, settings)
    second = await make_provider(desk.district.east_a, name="凌云志愿服务队", offers={ITEM: 5})
    late = Caller(await make_user("supervisor", desk.district.east), "test")
    read = await get_need(late, desk.need)
    await ok(client, desk, "dispatch", desk.supervisor, {"provider": str(desk.provider.id)})
    for action, body in (("dispatch", {"provider": str(second.id)}), ("close", {"reason": "重复登记"})):
        with pytest.raises(WrongState, match="刚被他人处理过"):
            await take(late, settings, read, action, body)
    need = await Need.get(id=desk.need)
    assert (need.status, need.provider_id, need.version) == ("dispatched", desk.provider.id, 2)
    assert [e.action for e in await NeedEvent.filter(need_id=desk.need).order_by("at", "id")] == ["raise", "dispatch"]


async def test_of_two_dispatches_at_once_for_a_last_place_one_is_refused(client, settings):
    # The lock that makes this hold under any interleaving is in supply.check_can_take; the requests here need not
    # interleave, so this shows the outcome, not the race.
    desk = await make_desk(client, settings, capacity=1)
    body = {"household": str((await Need.get(id=desk.need)).household_id), "item": ITEM, "consent": True,
            "description": "每周代买一次菜"}
    second = (await client.post("/api/v1/needs", json=body, headers=desk.worker)).json()["id"]
    other_supervisor = await headers_for(settings, await make_user("supervisor", desk.district.east))
    dispatch = {"provider": str(desk.provider.id)}
    answers = await asyncio.gather(
        client.post(f"/api/v1/needs/{desk.need}/dispatch", json=dispatch, headers=desk.supervisor),
        client.post(f"/api/v1/needs/{second}/dispatch", json=dispatch, headers=other_supervisor))
    assert sorted(a.status_code for a in answers) == [200, 422], [a.text for a in answers]
    refused = next(a for a in answers if a.status_code == 422)
    assert_problem(refused, 422, "/provider")
    assert await Need.filter(provider_id=desk.provider.id, status="dispatched").count() == 1


async def test_an_overdue_need_is_flagged_and_reassigned(client, settings):
    desk = await make_desk(client, settings)
    await ok(client, desk, "dispatch", desk.supervisor, {"provider": str(desk.provider.id)})
    second = await make_provider(desk.district.east_a, name="凌云志愿服务队", offers={ITEM: 5})
    body = {"provider": str(second.id), "reason": "逾期未接单"}
    assert_problem(await act(client, desk, "reassign", desk.supervisor, body), 409)  # not overdue yet
    need = await Need.get(id=desk.need)
    await Need.filter(id=need.id).update(due_at=need.raised_at.replace(year=need.raised_at.year - 1))
    shown = (await client.get(f"/api/v1/needs/{desk.need}", headers=desk.supervisor)).json()
    assert shown["overdue"] is True
    listed = (await client.get("/api/v1/needs", params={"status": "overdue"}, headers=desk.supervisor)).json()
    assert [n["id"] for n in listed["items"]] == [desk.need]
    moved = await ok(client, desk, "reassign", desk.supervisor, body)
    assert moved["provider"] == str(second.id) and moved["status"] == "dispatched"
    # The new provider is not overdue at once: the item's time for the urgency counts from the reassignment.
    item = await CatalogueItem.get(code=ITEM)
    reassigned = await Need.get(id=desk.need)
    assert reassigned.due_at - reassigned.dispatched_at == timedelta(days=getattr(item, f"days_{reassigned.urgency}"))
    assert moved["overdue"] is False and reassigned.dispatched_at > need.raised_at
    events = (await client.get(f"/api/v1/needs/{desk.need}", headers=desk.supervisor)).json()["events"]
    lapsed = need.raised_at.replace(year=need.raised_at.year - 1)
    assert datetime.fromisoformat(events[-1]["detail"]["due_before"]) == lapsed
    assert_problem(await client.get(f"/api/v1/needs/{desk.need}", headers=desk.provider_user), 404)
