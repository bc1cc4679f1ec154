"""Offline conflicts: two workers edit one household without knowing of each other; the later visit wins each
field, the other value stays in the history, and the conflict waits for the supervisor."""

import asyncio
import uuid

import pytest

from factories import assert_problem, headers_for, home_visit, make_field, make_user, submission_body
from server.models import Household, HouseholdChange, HouseholdConflict

MONDAY = ("2025-03-17T09:00:00+08:00", "2025-03-17T09:40:00+08:00")
TUESDAY = ("2025-03-18T15:00:00+08:00", "2025-03-18T15:30:00+08:00")


@pytest.fixture
async def two_workers(client, settings):
    field = await make_field(client, settings)
    b = await headers_for(settings, await make_user("worker", field.district.east_a))
    await field.share_photos(client, b)
    return field.district, field.household, field.headers, b, field.photos[0]


async def send(client, headers, household, photo, when, **answers):
    body = submission_body(household, home_visit(photo, [photo], **answers), started_at=when[0], finished_at=when[1])
    sid = uuid.uuid4()
    response = await client.put(f"/api/v1/submissions/{sid}", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return sid


@pytest.mark.parametrize("order", ["late_visit_first", "early_visit_first"])
async def test_the_later_visit_wins_each_field_in_any_arrival_order_and_the_conflict_is_flagged(
        client, settings, two_workers, order):
    district, household, a, b, photo = two_workers
    sends = [(a, MONDAY, {"health": "poor", "care": "family"}), (b, TUESDAY, {"health": "good", "care": "family"})]
    if order == "late_visit_first":
        sends.reverse()
    ids = {}
    for headers, when, answers in sends:
        ids[when] = await send(client, headers, household, photo, when, **answers)

    fresh = await Household.get(id=household.id)
    assert fresh.situation == {"health": "good", "care": "family"}
    assert fresh.situation_meta["health"]["submission"] == str(ids[TUESDAY])
    # The value that lost is in the history, whichever way round it arrived.
    history = await HouseholdChange.filter(household_id=household.id, field="health").order_by("at")
    monday_first = order != "late_visit_first"
    assert [(h.kind, h.new_value["value"], str(h.submission_id)) for h in history] == (
        [("applied", "poor", str(ids[MONDAY])), ("applied", "good", str(ids[TUESDAY]))] if monday_first
        else [("applied", "good", str(ids[TUESDAY])), ("kept", "poor", str(ids[MONDAY]))])
    # Only the field they disagree on is a conflict; "care" agreed.
    conflicts = await HouseholdConflict.filter(household_id=household.id)
    assert [(c.field, c.kept_value["value"], c.lost_value["value"]) for c in conflicts] == [("health", "good", "poor")]

    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    listed = (await client.get(f"/api/v1/households/{household.id}/conflicts?state=open", headers=supervisor)).json()
    assert len(listed["items"]) == 1
    item = listed["items"][0]
    assert item["kept"]["value"] == "good" and item["lost"]["value"] == "poor"
    assert item["kept"]["submission"] == str(ids[TUESDAY]) and item["lost"]["submission"] == str(ids[MONDAY])
    file = (await client.get(f"/api/v1/households/{household.id}", headers=supervisor)).json()
    assert file["open_conflicts"] == 1


async def test_one_workers_own_visits_in_a_row_are_no_conflict(client, two_workers):
    district, household, a, b, photo = two_workers
    await send(client, a, household, photo, MONDAY, health="poor")
    await send(client, a, household, photo, TUESDAY, health="good")
    assert (await Household.get(id=household.id)).situation["health"] == "good"
    assert await HouseholdConflict.all().count() == 0


async def test_a_visit_made_after_the_value_was_known_is_no_conflict(client, two_workers):
    district, household, a, b, photo = two_workers
    await send(client, a, household, photo, MONDAY, health="poor")
    # As if A's phone had been online: its value reached the server on Monday, before B set out on Tuesday.
    fresh = await Household.get(id=household.id)
    fresh.situation_meta["health"]["received"] = "2025-03-17T02:00:00+00:00"
    await fresh.save()
    await send(client, b, household, photo, TUESDAY, health="good")
    assert (await Household.get(id=household.id)).situation["health"] == "good"
    assert await HouseholdConflict.all().count() == 0


async def test_a_supervisor_settles_a_conflict_by_putting_back_the_other_value(client, settings, two_workers):
    district, household, a, b, photo = two_workers
    await send(client, b, household, photo, TUESDAY, health="good")
    await send(client, a, household, photo, MONDAY, health="poor")
    conflict = await HouseholdConflict.get(household_id=household.id)
    worker = a
    assert_problem(await client.post(f"/api/v1/conflicts/{conflict.id}/resolve", json={"keep": "lost"},
                                     headers=worker), 403)
    outsider = await headers_for(settings, await make_user("supervisor", district.west))
    assert_problem(await client.post(f"/api/v1/conflicts/{conflict.id}/resolve", json={"keep": "lost"},
                                     headers=outsider), 404)
    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    response = await client.post(f"/api/v1/conflicts/{conflict.id}/resolve",
                                 json={"keep": "lost", "comment": "电话核实：老人近日病情加重"}, headers=supervisor)
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "resolved" and response.json()["resolution"] == "lost"
    assert (await Household.get(id=household.id)).situation["health"] == "poor"
    assert await HouseholdChange.filter(household_id=household.id, kind="resolved").count() == 1
    again = await client.post(f"/api/v1/conflicts/{conflict.id}/resolve", json={"keep": "kept"}, headers=supervisor)
    assert_problem(again, 409)
    assert_problem(await client.post(f"/api/v1/conflicts/{uuid.uuid4()}/resolve", json={"keep": "kept"},
                                     headers=supervisor), 404)


async def test_submissions_arriving_together_are_merged_one_at_a_time(client, two_workers):
    """The household row is locked while a submission is merged: none is merged into a file read before another's."""
    district, household, a, b, photo = two_workers
    days = list(range(6, 18))
    health = {day: ("good", "fair", "poor", "critical")[day % 4] for day in days}

    async def visit(day: int) -> uuid.UUID:
        when = (f"2025-03-{day:02}T09:00:00+08:00", f"2025-03-{day:02}T09:30:00+08:00")
        return await send(client, a, household, photo, when, health=health[day])

    # The latest visit first: each earlier one must then lose to it, not overwrite it.
    sids = dict(zip(reversed(days), await asyncio.gather(*(visit(day) for day in reversed(days)))))
    fresh = await Household.get(id=household.id)
    assert fresh.situation["health"] == health[days[-1]]
    assert fresh.situation_meta["health"]["submission"] == str(sids[days[-1]])
