"""The needs report of an area and a month, computed in the database: by the areas below, by category and provider."""

import random
import statistics
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import openpyxl

from factories import assert_problem, headers_for, make_district, make_household, make_need, make_provider, make_user
from server.models import AuditEvent, Need

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
    # Medians by group: an odd count (1, 2, 4 days to accept: 2), an even one (4, 10 days to done: the mean 7), none.
    assert [(by_area[n]["median_days_to_accept"], by_area[n]["median_days_to_done"]) for n in ("城东街道", "楚江街道")] \
        == [(2.0, 7.0), (None, None)]
    assert {r["name"]: (r["median_days_to_accept"], r["median_days_to_done"]) for r in report["by_provider"]} == {
        "阳光助老服务中心": (2.0, 7.0), None: (None, None)}
    assert {r["key"]: r["raised"] for r in report["by_category"]} == {"elderly": 5}
    assert {r["name"]: r["dispatched"] for r in report["by_provider"]} == {"阳光助老服务中心": 4, None: 0}

    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    east = (await client.get("/api/v1/reports/needs", params={"area": str(district.east.id), "month": "2025-03"},
                             headers=supervisor)).json()
    assert {r["name"]: r["raised"] for r in east["by_area"]} == {"白竹亭社区": 3, "凌云社区": 1}
    assert {r["name"]: r["median_days_to_done"] for r in east["by_area"]} == {"白竹亭社区": 7.0, "凌云社区": None}
    book = await client.get("/api/v1/reports/needs", params={"month": "2025-03", "format": "xlsx"}, headers=supervisor)
    assert book.status_code == 200
    (tmp_path / "r.xlsx").write_bytes(book.content)
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx")["按区域"]
    assert [c.value for c in sheet[1]][:3] == ["名称", "提出", "已派单"]
    assert sheet.cell(row=sheet.max_row, column=1).value == "合计" and sheet.cell(row=sheet.max_row, column=2).value == 4
    book = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert book.sheetnames == ["按区域", "按服务类别", "按服务机构"]
    assert [[c.value for c in row] for row in book["按服务机构"].iter_rows(min_row=2)] == [
        ["阳光助老服务中心", 3, 3, 3, 2, 1, 2, 7], ["（未指定）", 1, 0, 0, 0, 1, None, None],
        ["合计", 4, 3, 3, 2, 2, 2, 7]]
    assert await AuditEvent.filter(action="needs_report.exported").count() == 1

    for month in ("2025-13", "03-2025", (datetime.now() + timedelta(days=62)).strftime("%Y-%m")):
        assert_problem(await client.get("/api/v1/reports/needs", params={"month": month}, headers=bureau), 422,
                       "/month")
    assert_problem(await client.get("/api/v1/reports/needs", params={"area": str(district.west.id),
                                                                       "month": "2025-03"}, headers=supervisor),
                   422, "/area")
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    assert_problem(await client.get("/api/v1/reports/needs", params={"month": "2025-03"}, headers=worker), 403)


async def test_every_figure_of_a_random_month_is_what_python_counts_over_the_same_needs(client, settings):
    """60 needs at random steps over three communities, two categories and three providers (and none): each
    grouping's counts and medians, odd and even groups, ties and groups without a span, against Python's own. A need
    is overdue in March's report if it was open past its due date at the month's end, whatever became of it since."""
    rng = random.Random(1225)
    district = await make_district()
    providers = [await make_provider(district.east, name=f"机构{n}") for n in range(3)]
    households = [await make_household(c) for c in (district.east_a, district.east_b, district.west_a)]
    month_end = datetime(2025, 3, 31, 16, tzinfo=timezone.utc)  # midnight on the stations' clock
    expected: list[dict] = []
    for _ in range(60):
        household, item = rng.choice(households), rng.choice(("elderly.meal_shopping", "child.after_school"))
        step = rng.choice(("raised", "dispatched", "accepted", "done", "closed"))
        provider = None if step in ("raised", "closed") else rng.choice(providers)
        need = await make_need(household, "raised" if step == "closed" else step, item=item, provider=provider)
        raised = MARCH + timedelta(hours=rng.randrange(400))
        due = raised + timedelta(days=rng.choice((3, 10, 20)))
        dispatched = raised + timedelta(hours=rng.randrange(1, 60)) if provider else None
        accepted = dispatched + timedelta(hours=rng.choice((6, 12, 30, 30, 75))) if step in ("accepted", "done") \
            else None
        done = accepted + timedelta(hours=rng.randrange(1, 300)) if step == "done" else None  # some in April
        closed = raised + timedelta(hours=rng.randrange(1, 600)) if step == "closed" else None
        await Need.filter(id=need.id).update(raised_at=raised, due_at=due, dispatched_at=dispatched,
                                             accepted_at=accepted, done_at=done, closed_at=closed,
                                             status="closed" if closed else step)
        township = district.east if household.community_id != district.west_a.id else district.west
        ended = done or closed
        expected.append({"by_area": township.name, "by_category": item.split(".")[0],
                         "by_provider": provider.name if provider else None, "step": step,
                         "span_accept": accepted and (accepted - dispatched), "span_done": done and (done - raised),
                         "overdue": due < month_end and (ended is None or ended >= month_end)})
    assert any(n["overdue"] and n["step"] == "done" for n in expected)  # done in April, overdue in March
    assert any(n["overdue"] and n["step"] == "closed" for n in expected)

    def figures(needs: list[dict]) -> dict:
        def median(spans):
            days = [s.total_seconds() / 86400 for s in spans if s is not None]
            return round(statistics.median(days), 1) if days else None
        return {"raised": len(needs), "dispatched": sum(n["step"] not in ("raised", "closed") for n in needs),
                "accepted": sum(n["step"] in ("accepted", "done") for n in needs),
                "done": sum(n["step"] == "done" for n in needs), "overdue": sum(n["overdue"] for n in needs),
                "median_days_to_accept": median(n["span_accept"] for n in needs),
                "median_days_to_done": median(n["span_done"] for n in needs)}

    bureau = await headers_for(settings, await make_user("bureau", district.county))
    response = await client.get("/api/v1/reports/needs", params={"area": str(district.county.id), "month": "2025-03"},
                                headers=bureau)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["totals"] == figures(expected)
    for grouping in ("by_area", "by_category", "by_provider"):
        names = {n[grouping] for n in expected}
        want = {name: figures([n for n in expected if n[grouping] == name]) for name in names}
        name_of = (lambda r: r["key"]) if grouping == "by_category" else (lambda r: r["name"])
        assert {name_of(r): {m: r[m] for m in want[name_of(r)]} for r in report[grouping]} == want


async def test_the_dispatch_board_shows_what_awaits_the_25th_by_area_and_overdue_by_provider(client, settings):
    district = await make_district()
    provider = await make_provider(district.east, name="阳光助老服务中心")
    a, b = await make_household(district.east_a), await make_household(district.east_b)
    waiting = await make_need(a, "raised", consent=False)
    late = await make_need(b, "accepted", provider=provider, overdue=True)
    await make_need(a, "done", provider=provider, overdue=True)  # done: neither overdue nor waiting
    await make_need(await make_household(district.west_a), "raised")  # another township
    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    response = await client.get("/api/v1/dispatch-board", headers=supervisor)
    assert response.status_code == 200, response.text
    board = response.json()
    assert board["dispatch_day"].endswith("-25")
    assert board["totals"]["undispatched"] == 1 and board["totals"]["overdue"] == 1
    assert {r["name"]: (r["undispatched"], r["overdue"]) for r in board["by_area"]} == {
        "白竹亭社区": (1, 0), "凌云社区": (0, 1)}
    assert board["overdue_by_provider"] == [{"provider": str(provider.id), "provider_name": "阳光助老服务中心",
                                             "overdue": 1}]
    assert [n["id"] for n in board["undispatched_needs"]] == [str(waiting.id)]
    assert [n["id"] for n in board["overdue_needs"]] == [str(late.id)]
    bureau = await headers_for(settings, await make_user("bureau", district.county))
    rolled = (await client.get("/api/v1/dispatch-board", headers=bureau)).json()
    assert {r["name"]: r["undispatched"] for r in rolled["by_area"]} == {"城东街道": 1, "楚江街道": 1}
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    assert_problem(await client.get("/api/v1/dispatch-board", headers=worker), 403)


async def test_the_board_lists_what_falls_due_before_the_dispatch_day_and_narrows_to_an_area(client, settings):
    district = await make_district()
    provider = await make_provider(district.east, name="阳光助老服务中心")
    a, b = await make_household(district.east_a), await make_household(district.east_b)
    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    board = (await client.get("/api/v1/dispatch-board", headers=supervisor)).json()
    day = datetime.fromisoformat(board["dispatch_day"]).replace(tzinfo=ZoneInfo(settings.station_timezone))
    stamp = datetime.now(timezone.utc)
    assert day.day == 25 and stamp < day <= stamp + timedelta(days=32)
    before = stamp + (day - stamp) / 2  # after now, before the 25th, whatever the day the suite runs
    due = await make_need(a, "accepted", provider=provider, due_at=before)
    await make_need(b, "raised", due_at=before)
    await make_need(a, "raised", due_at=day + timedelta(hours=1))  # due after the 25th
    await make_need(b, "done", provider=provider, due_at=before)  # done: nothing to remind
    board = (await client.get("/api/v1/dispatch-board", headers=supervisor)).json()
    assert board["totals"] == {"undispatched": 2, "due_before_dispatch_day": 2, "overdue": 0}
    assert {r["name"]: r["due_before_dispatch_day"] for r in board["by_area"]} == {"白竹亭社区": 1, "凌云社区": 1}
    narrowed = (await client.get("/api/v1/dispatch-board", params={"area": str(district.east_a.id)},
                                 headers=supervisor)).json()
    assert narrowed["totals"] == {"undispatched": 1, "due_before_dispatch_day": 1, "overdue": 0}
    assert [n["id"] for n in narrowed["due_needs"]] == [str(due.id)]
    for area in (district.west.id, district.west_a.id, "不是编号"):
        assert_problem(await client.get("/api/v1/dispatch-board", params={"area": str(area)}, headers=supervisor),
                       422, "/area")


async def test_a_closed_month_is_frozen_by_the_township_then_approved_by_the_county(client, settings):
    district = await make_district()
    household = await make_household(district.east_a)
    first = await make_need(household)
    await Need.filter(id=first.id).update(raised_at=MARCH)
    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    bureau = await headers_for(settings, await make_user("bureau", district.county))
    url, body = "/api/v1/reports/needs/approvals", {"area": str(district.east.id), "month": "2025-03"}
    assert_problem(await client.post(url, json=body, headers=bureau), 409)  # the township first
    closed = await client.post(url, json=body, headers=supervisor)
    assert closed.status_code == 201, closed.text
    assert closed.json()["state"] == "township_approved"
    assert_problem(await client.post(url, json=body, headers=supervisor), 409)
    # A need entered late for March does not change the frozen report.
    late = await make_need(household)
    await Need.filter(id=late.id).update(raised_at=MARCH)
    query = {"area": str(district.east.id), "month": "2025-03"}
    report = (await client.get("/api/v1/reports/needs", params=query, headers=supervisor)).json()
    assert report["totals"]["raised"] == 1 and report["approval"]["state"] == "township_approved"
    approved = await client.post(url, json=body, headers=bureau)
    assert approved.status_code == 200 and approved.json()["state"] == "county_approved"
    assert approved.json()["county_at"]
    assert_problem(await client.post(url, json=body, headers=bureau), 409)
    open_month = {"area": str(district.east.id), "month": datetime.now().strftime("%Y-%m")}
    assert_problem(await client.post(url, json=open_month, headers=supervisor), 422, "/month")
    assert_problem(await client.post(url, json=body | {"area": str(district.east_a.id)}, headers=supervisor), 422,
                   "/area")
    assert_problem(await client.post(url, json=body | {"area": str(district.west.id)}, headers=supervisor), 422,
                   "/area")
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    assert_problem(await client.post(url, json=body, headers=worker), 403)
    fresh = (await client.get("/api/v1/reports/needs", params={"area": str(district.east_a.id), "month": "2025-03"},
                              headers=supervisor)).json()
    assert fresh["approval"] is None and fresh["totals"]["raised"] == 2
