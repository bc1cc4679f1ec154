"""Subsistence standards kept by the bureau, inherited by the areas below, and the built-in 家计调查 screening a
household's income per person against the standard in force on its survey date."""

import copy
import uuid
from datetime import date, timedelta

import pytest

from factories import (assert_problem, economic_survey, headers_for, make_field, make_form_version, make_user,
                       submission_body)
from forms import builtin_forms
from server.models import AuditEvent, Household, LedgerEntry, Submission


@pytest.fixture
async def station(client, settings):
    field = await make_field(client, settings)
    await make_form_version("economic_survey")
    bureau = await headers_for(settings, await make_user("bureau", field.district.county))
    return field, bureau


async def add(client, headers, area, kind, amount, effective_from):
    return await client.post(f"/api/v1/areas/{area.id}/standards", headers=headers,
                             json={"kind": kind, "amount": amount, "effective_from": effective_from})


async def test_standards_are_kept_by_the_bureau_inherited_below_and_audited(client, settings, station):
    field, bureau = station
    district = field.district
    county = await add(client, bureau, district.county, "subsistence", 650, "2024-01-01")
    assert county.status_code == 201, county.text
    assert county.json() | {"id": None, "created_at": None} == {
        "id": None, "area": str(district.county.id), "kind": "subsistence", "amount": 650,
        "effective_from": "2024-01-01", "created_at": None}
    assert (await add(client, bureau, district.east, "subsistence", 800, "2025-01-01")).status_code == 201

    seen = (await client.get(f"/api/v1/areas/{district.east_a.id}/standards", headers=field.headers)).json()
    assert seen["standards"] == []  # none of its own
    assert seen["in_force"]["subsistence"]["amount"] == 800 and seen["in_force"]["extreme_hardship"] is None
    west = (await client.get(f"/api/v1/areas/{district.west_a.id}/standards", headers=bureau)).json()
    assert west["in_force"]["subsistence"]["amount"] == 650
    events = await AuditEvent.filter(action="standard.set").count()
    assert events == 2


async def test_bad_standards_are_refused(client, settings, station):
    field, bureau = station
    district = field.district
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    assert_problem(await add(client, bureau, district.east, "subsistence", 800, tomorrow), 422, "/effective_from")
    assert (await add(client, bureau, district.east, "subsistence", 800, "2025-01-01")).status_code == 201
    assert_problem(await add(client, bureau, district.east, "subsistence", 820, "2025-01-01"), 409)
    assert_problem(await add(client, bureau, district.east, "subsistence", 0, "2025-02-01"), 422, "/amount")
    assert_problem(await add(client, bureau, district.east, "dibao", 800, "2025-02-01"), 422, "/kind")
    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    assert_problem(await add(client, supervisor, district.east, "subsistence", 800, "2025-03-01"), 403)
    # a worker reads the standards of their own areas only
    assert_problem(await client.get(f"/api/v1/areas/{district.west_a.id}/standards", headers=field.headers), 404)
    assert_problem(await client.get(f"/api/v1/areas/{uuid.uuid4()}/standards", headers=bureau), 404)
    assert await AuditEvent.filter(action="standard.set").count() == 1


async def survey(client, field, **changes):
    data = economic_survey(str(uuid.uuid4())) | {"house_photos": field.photos} | changes
    sid = uuid.uuid4()
    response = await client.put(f"/api/v1/submissions/{sid}", headers=field.headers,
                                json=submission_body(field.household, data, form="economic_survey"))
    assert response.status_code == 201, response.text
    return await Submission.get(id=sid)


async def test_the_survey_screens_income_per_person_against_the_standard_of_its_date(client, settings, station):
    field, bureau = station
    district = field.district
    await add(client, bureau, district.county, "subsistence", 650, "2024-01-01")
    await add(client, bureau, district.east, "subsistence", 200, "2025-01-01")
    await add(client, bureau, district.east, "subsistence", 100, "2025-06-01")  # later than the survey's date

    # (2100 + 780 + 1200) / 12 months / 2 members = 170 a person a month, against 200 from 2025-01-01
    stored = await survey(client, field)
    assert stored.data["income"]["per_capita_monthly"] == 170
    flag = next(f for f in stored.flags if f["kind"] == "screening")
    assert flag == {"kind": "screening", "pointer": "/data/income/per_capita_monthly", "standard": 200,
                    "below_by": 30, "detail": "低于低保标准 30.00 元（人均月收入 170 元，标准 200.00 元，2025-01-01 起），待人工复核"}
    household = await Household.get(id=field.household.id)
    assert household.situation["eligibility"].startswith("低于低保标准 30.00 元")
    ledger = (await client.get("/api/v1/ledgers/assistance", headers=field.headers)).json()["items"]
    assert ledger and ledger[0]["eligibility"].startswith("低于低保标准 30.00 元")

    # a survey of 2024 is screened against the county's standard then in force
    stored = await survey(client, field, survey_date="2024-05-01")
    flag = next(f for f in stored.flags if f["kind"] == "screening")
    assert flag["standard"] == 650 and flag["below_by"] == 480


async def test_no_standard_in_force_says_nothing(client, settings, station):
    field, bureau = station
    stored = await survey(client, field)
    assert [f for f in stored.flags if f["kind"] == "screening"] == []
    assert "eligibility" not in (await Household.get(id=field.household.id)).situation
    assert await LedgerEntry.filter(household_id=field.household.id, kind="assistance").exists()


async def test_an_income_beyond_any_standard_is_screened_not_a_server_error(client, settings):
    """A township's copy of the survey without an upper bound on incomes: an absurd one (1e300, a double JSON allows)
    is screened as not below the standard, as any income above it is."""
    field = await make_field(client, settings)
    schema = copy.deepcopy(next(f for f in builtin_forms() if f["slug"] == "economic_survey")["schema"])
    for question in ("wage", "total_annual", "per_capita_monthly"):
        schema["properties"]["income"]["properties"][question].pop("maximum", None)
    await make_form_version("economic_survey", schema=schema)
    bureau = await headers_for(settings, await make_user("bureau", field.district.county))
    await add(client, bureau, field.district.county, "subsistence", 650, "2024-01-01")
    data = economic_survey(str(uuid.uuid4())) | {"house_photos": field.photos}
    data["income"]["wage"] = 1e300
    stored = await survey(client, field, income=data["income"])
    flag = next(f for f in stored.flags if f["kind"] == "screening")
    assert flag["below_by"] == 0 and flag["detail"].startswith("不低于低保标准")
