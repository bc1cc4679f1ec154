"""Data export of one form: XLSX and CSV across its versions, labelled, members on their own sheet, scoped."""

import asyncio
import copy
import csv
import io
import os
import uuid

import anyio
import pytest
from openpyxl import load_workbook

import forms
from factories import (assert_problem, economic_survey, headers_for, home_visit, jpeg, make_district, make_field,
                       make_form_version, make_household, make_user, sha256_of, submission_body, upload)
from server.intake.export import BATCH, CHUNK, _stream


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


async def test_xlsx_has_titled_labelled_columns_across_versions_and_photo_links(client, exported):
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
    assert photo_cell.hyperlink.target.endswith(f"/api/v1/attachments/{sha}")
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
    assert len(b"".join([chunk async for chunk in _stream(sent)])) == 3 * CHUNK
    abandoned = _stream(finished("abandoned.xlsx"))
    assert len(await anext(abandoned)) == CHUNK
    await abandoned.aclose()
    with anyio.CancelScope() as download:
        async for _ in _stream(finished("cancelled.xlsx")):
            download.cancel()  # the browser went away: every await from here on is cancelled, clean-up's too
    assert download.cancelled_caught
    for _ in range(200):  # the shielded clean-up finishes on its own
        if not any(tmp_path.iterdir()):
            break
        await asyncio.sleep(0.01)
    assert list(tmp_path.iterdir()) == []
