"""Visit plans over HTTP (助老敲门, 护童 follow-ups): each worker's list of who is due or overdue, and the overdue
counts supervisors see by community and by worker."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from factories import (District, assert_problem, headers_for, home_visit, jpeg, make_district, make_form_version,
                       make_household, make_user, sha256_of, upload)
from form_samples import id_number, sample
from server.models import Household
from test_ledgers import LEDGER_FORMS, ZONE, children, elderly, submit, survey


def days_ago(n: int) -> str:
    return (datetime.now(ZONE).date() - timedelta(days=n)).isoformat()


@dataclass
class Plans:
    """In east_a (worker wang): an elder at high risk visited 10 days ago (weekly: 3 days overdue), two left-behind
    children visited 40 days ago (monthly: 10 days overdue), an elder visited 5 days ago (monthly: not due), an
    elder living alone visited 7 days ago (due today). In east_b (worker li): a man with a severe mental disorder at
    risk level 1 visited 20 days ago (every two weeks: 6 days overdue). In west_a (worker zhao): a 低保 household
    with a disabled member, visited 100 days ago (both quarterly: 10 days overdue)."""

    district: District
    households: dict[str, Household]
    wang: dict
    li: dict
    zhao: dict
    supervisor: dict
    bureau: dict


@pytest.fixture
async def plans(client, settings) -> Plans:
    district = await make_district()
    for slug in LEDGER_FORMS:
        await make_form_version(slug)
    wang = await headers_for(settings, await make_user("worker", district.east_a, username="wang"))
    li = await headers_for(settings, await make_user("worker", district.east_b, username="li"))
    zhao = await headers_for(settings, await make_user("worker", district.west_a, username="zhao"))
    households = {name: await make_household(area) for name, area in (
        ("high_risk", district.east_a), ("children", district.east_a), ("not_due", district.east_a),
        ("due_today", district.east_a), ("mental", district.east_b), ("assistance", district.west_a))}
    await submit(client, wang, households["high_risk"], "elderly_ledger", elderly(), days_ago=10)
    await submit(client, wang, households["children"], "child_file", children(), days_ago=40)
    calm = elderly(risk_level="low", family_structure="couple", visit_frequency="monthly")
    calm["elders"][0] |= {"name": "刘桂芝", "tags": ["elderly"]}
    await submit(client, wang, households["not_due"], "elderly_ledger", calm, days_ago=5)
    alone = elderly(risk_level="medium")
    alone["elders"][0]["name"] = "周德明"
    await submit(client, wang, households["due_today"], "elderly_ledger", alone, days_ago=7)
    await submit(client, li, households["mental"], "disability_ledger", sample("disability_ledger"), days_ago=20)
    await submit(client, zhao, households["assistance"], "economic_survey", await survey(client, zhao), days_ago=100)
    return Plans(district, households, wang, li, zhao,
                 await headers_for(settings, await make_user("supervisor", district.east)),
                 await headers_for(settings, await make_user("bureau", district.county)))


async def due(client, headers: dict, **params) -> list[dict]:
    response = await client.get("/api/v1/visit-plans/due", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return response.json()["items"]


async def overdue(client, headers: dict, **params) -> dict:
    response = await client.get("/api/v1/visit-plans/overdue", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


# --- Who is due --------------------------------------------------------------------------------------------------

async def test_a_worker_gets_who_is_due_in_their_communities_most_overdue_first(client, plans):
    items = await due(client, plans.wang)
    assert [(i["kind"], i["days_overdue"]) for i in items] == [
        ("children", 10), ("children", 10), ("elderly", 3), ("elderly", 0)]
    assert {i["name"] for i in items[:2]} == {"陈思雨", "陈浩然"} and [i["name"] for i in items[2:]] == ["张秀英", "周德明"]
    elder = items[2]
    number = id_number("430121", "19400605", "046")
    assert elder["household"] == str(plans.households["high_risk"].id) and elder["member"]
    assert elder["community"] == str(plans.district.east_a.id) and elder["community_name"] == "白竹亭社区"
    assert elder["id_number"] == number[:6] + "********" + number[-4:]
    assert elder["plan"] == {"code": "high_risk", "reason": "高风险老人", "every_days": 7}
    assert elder["last_visit_on"] == days_ago(10) and elder["last_visit_at"] == f"{days_ago(10)}T09:40:00+08:00"
    assert elder["due_on"] == days_ago(3)
    assert items[3]["plan"]["reason"] == "独居老人" and items[3]["due_on"] == days_ago(0)


async def test_a_worker_never_sees_who_is_due_in_another_community(client, plans):
    assert [i["name"] for i in await due(client, plans.li)] == ["赵志强"]
    items = await due(client, plans.zhao)
    lines = sorted((i["name"], i["kind"], i["days_overdue"], i["member"] is None) for i in items)
    assert lines == [("李桂兰", "assistance", 10, True), ("王建国", "disability", 10, False)]
    response = await client.get("/api/v1/visit-plans/due", params={"area": str(plans.district.east_b.id)},
                                headers=plans.wang)
    assert_problem(response, 404)


async def test_a_visit_with_any_form_takes_the_household_off_the_due_list(client, plans):
    photo = jpeg()
    assert (await upload(client, plans.wang, photo)).status_code == 201
    sha = sha256_of(photo)
    await submit(client, plans.wang, plans.households["children"], "home_visit", home_visit(sha, [sha]), days_ago=1)
    assert [i["name"] for i in await due(client, plans.wang)] == ["张秀英", "周德明"]
    # A visit older than the last one, arriving late from an offline phone, does not bring them back.
    await submit(client, plans.wang, plans.households["children"], "home_visit", home_visit(sha, [sha]), days_ago=60)
    assert [i["name"] for i in await due(client, plans.wang)] == ["张秀英", "周德明"]


async def test_a_supervisor_and_the_bureau_see_the_due_lists_of_their_areas(client, plans):
    assert len(await due(client, plans.supervisor)) == 5
    assert [i["name"] for i in await due(client, plans.supervisor, kind="disability",
                                         area=str(plans.district.east_b.id))] == ["赵志强"]
    bureau = await client.get("/api/v1/visit-plans/due", headers=plans.bureau)
    assert_problem(bureau, 403)  # the bureau reads the counts, the stations keep the lists


async def test_the_due_list_refuses_bad_input(client, settings, plans):
    for params, pointer in (({"cursor": "nonsense"}, "/cursor"), ({"kind": "orphans"}, "/kind"),
                            ({"area": "east"}, "/area")):
        response = await client.get("/api/v1/visit-plans/due", params=params, headers=plans.wang)
        assert_problem(response, 422, pointer)
    provider = await headers_for(settings, await make_user("provider"))
    assert_problem(await client.get("/api/v1/visit-plans/due", headers=provider), 403)


async def test_the_due_list_pages_with_a_cursor(client, plans):
    for n in range(55):
        household = await make_household(plans.district.east_a)
        data = elderly()
        data["elders"][0] |= {"name": f"老人{n}", "id_number": id_number("430121", "19400605", f"{n:03d}")}
        data["elders"][0].pop("birth_date")
        data["elders"].append(data["elders"][0] | {"name": f"老伴{n}",
                                                   "id_number": id_number("430121", "19410605", f"{n:03d}")})
        await submit(client, plans.wang, household, "elderly_ledger", data, days_ago=8)
    seen, cursor = [], None
    while True:
        params = {"cursor": cursor} if cursor else {}
        page = (await client.get("/api/v1/visit-plans/due", params=params, headers=plans.wang)).json()
        seen += [(i["id"], i["days_overdue"]) for i in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert len({i for i, _ in seen}) == len(seen) == 114
    assert [d for _, d in seen] == sorted((d for _, d in seen), reverse=True)


# --- Overdue counts --------------------------------------------------------------------------------------------

async def test_a_supervisor_sees_overdue_counts_by_community_and_worker(client, settings, plans):
    both = await make_user("worker", plans.district.east_a, plans.district.east_b, username="chen")
    await make_user("worker", plans.district.east_a, username="gone", is_active=False)
    counts = await overdue(client, plans.supervisor)
    assert counts["as_of"] == days_ago(0) and (counts["overdue"], counts["due_today"]) == (4, 1)
    assert [(c["name"], c["overdue"], c["due_today"]) for c in counts["communities"]] == [
        ("白竹亭社区", 3, 1), ("凌云社区", 1, 0)]
    assert counts["communities"][0]["id"] == str(plans.district.east_a.id)
    assert [(w["username"], w["overdue"], w["due_today"]) for w in counts["workers"]] == [
        ("chen", 4, 1), ("wang", 3, 1), ("li", 1, 0)]
    chen = counts["workers"][0]
    assert chen["id"] == str(both.id) and set(chen["communities"]) == {str(plans.district.east_a.id),
                                                                       str(plans.district.east_b.id)}


async def test_the_bureau_counts_its_county_and_an_area_narrows_it(client, plans):
    counts = await overdue(client, plans.bureau)
    assert [(c["name"], c["overdue"]) for c in counts["communities"]] == [
        ("白竹亭社区", 3), ("凌云社区", 1), ("楚江圩社区", 2)]
    west = await overdue(client, plans.bureau, area=str(plans.district.west.id))
    assert [(c["name"], c["overdue"]) for c in west["communities"]] == [("楚江圩社区", 2)]
    assert [w["username"] for w in west["workers"]] == ["zhao"]


async def test_overdue_counts_are_for_supervisors_and_in_scope(client, settings, plans):
    response = await client.get("/api/v1/visit-plans/overdue", params={"area": str(plans.district.west.id)},
                                headers=plans.supervisor)
    assert_problem(response, 404)
    response = await client.get("/api/v1/visit-plans/overdue", params={"area": str(uuid.uuid4())},
                                headers=plans.bureau)
    assert_problem(response, 404)
    assert_problem(await client.get("/api/v1/visit-plans/overdue", params={"area": "x"}, headers=plans.bureau), 422,
                   "/area")
    assert_problem(await client.get("/api/v1/visit-plans/overdue", headers=plans.wang), 403)
    provider = await headers_for(settings, await make_user("provider"))
    assert_problem(await client.get("/api/v1/visit-plans/overdue", headers=provider), 403)
