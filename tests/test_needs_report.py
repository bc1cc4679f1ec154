"""The needs report of an area and a month, computed in the database: by the areas below, by category and provider."""

from datetime import datetime, timedelta, timezone

import openpyxl

from factories import assert_problem, headers_for, make_district, make_household, make_need, make_provider, make_user
from server.models import Need

MARCH = datetime(2025, 3, 10, 2, 0, tzinfo=timezone.utc)


async def test_a_months_report_counts_each_step_and_the_median_days_by_area_category_and_provider(
        client, settings, tmp_path):
    district = await make_district()
    provider = await make_provider(district.east, name="阳光助老服务中心")
    households = {"east_a": await make_household(district.east_a), "east_b": await make_household(district.east_b),
                  "west_a": await make_household(district.west_a)}
    made = [("east_a", "done", 2, 4), ("east_a", "done", 4, 10), ("east_a", "accepted", 1, None),
            ("east_b", "raised", None, None), ("west_a", "dispatched", None, None)]
    for community, status, accept_days, done_days in made:
        need = await make_need(households[community], status, provider=None if status == "raised" else provider,
                               item="elderly.cleaning" if community == "east_b" else "elderly.meal_shopping")
        dispatched = MARCH + timedelta(days=1)
        await Need.filter(id=need.id).update(
            raised_at=MARCH, due_at=MARCH + timedelta(days=7),
            dispatched_at=dispatched if status != "raised" else None,
            accepted_at=dispatched + timedelta(days=accept_days) if accept_days else None,
            done_at=MARCH + timedelta(days=done_days) if done_days else None)
    # Raised in April: not in March's report.
    await make_need(households["east_a"], "raised")
    bureau = await headers_for(settings, await make_user("bureau", district.county))
    response = await client.get("/api/v1/reports/needs", params={"area": str(district.county.id), "month": "2025-03"},
                                headers=bureau)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["totals"] == {"raised": 5, "dispatched": 4, "accepted": 3, "done": 2, "overdue": 3,
                                "median_days_to_accept": 2.0, "median_days_to_done": 7.0}
    by_area = {r["name"]: r for r in report["by_area"]}
    assert set(by_area) == {"城东街道", "楚江街道"} and by_area["城东街道"]["raised"] == 4
    assert {r["key"]: r["raised"] for r in report["by_category"]} == {"elderly": 5}
    assert {r["name"]: r["dispatched"] for r in report["by_provider"]} == {"阳光助老服务中心": 4, None: 0}

    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    east = (await client.get("/api/v1/reports/needs", params={"area": str(district.east.id), "month": "2025-03"},
                             headers=supervisor)).json()
    assert {r["name"]: r["raised"] for r in east["by_area"]} == {"白竹亭社区": 3, "凌云社区": 1}
    book = await client.get("/api/v1/reports/needs", params={"month": "2025-03", "format": "xlsx"}, headers=supervisor)
    assert book.status_code == 200
    (tmp_path / "r.xlsx").write_bytes(book.content)
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx")["按区域"]
    assert [c.value for c in sheet[1]][:3] == ["名称", "提出", "已派单"]
    assert sheet.cell(row=sheet.max_row, column=1).value == "合计" and sheet.cell(row=sheet.max_row, column=2).value == 4

    for month in ("2025-13", "03-2025", (datetime.now() + timedelta(days=62)).strftime("%Y-%m")):
        assert_problem(await client.get("/api/v1/reports/needs", params={"month": month}, headers=bureau), 422,
                       "/month")
    assert_problem(await client.get("/api/v1/reports/needs", params={"area": str(district.west.id),
                                                                       "month": "2025-03"}, headers=supervisor),
                   422, "/area")
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    assert_problem(await client.get("/api/v1/reports/needs", params={"month": "2025-03"}, headers=worker), 403)
