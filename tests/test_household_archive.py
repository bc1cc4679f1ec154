"""The archive of one household (`/archive`): a ZIP with a printable Chinese summary, household.json, every photo named
by day and form on the station's clock, and a manifest of SHA-256 sums; opened again here and checked entry by
entry, the PDF's text read back."""

import hashlib
import io
import json
import uuid
import zipfile
from urllib.parse import unquote

import pypdf

import forms
from factories import (assert_problem, economic_survey, headers_for, home_visit, make_district, make_field,
                       make_form_version, make_household, make_need, make_user, submission_body)
from server.models import AuditEvent
from server.surveys.catalogue import load_catalogue

MEMBER = "5b0c5a64-1f7e-4c53-9a51-0d3c8f1a2b10"
# 07:30 in Changsha is 23:30 the day before in UTC: the archive's days are the station's.
EARLY = ("2025-03-04T07:30:00+08:00", "2025-03-04T08:10:00+08:00")
LATER = ("2025-03-18T15:00:00+08:00", "2025-03-18T15:30:00+08:00")
SURVEY = ("2025-03-10T09:00:00+08:00", "2025-03-10T10:00:00+08:00")


async def send(client, headers, household, data, when, form="home_visit") -> str:
    sid = str(uuid.uuid4())
    body = submission_body(household, data, form=form, started_at=when[0], finished_at=when[1])
    response = await client.put(f"/api/v1/submissions/{sid}", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return sid


async def fetch_archive(client, household, headers) -> tuple[zipfile.ZipFile, dict]:
    response = await client.get(f"/api/v1/households/{household.id}/archive", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.content)), dict(response.headers)


def pdf_text(archive: zipfile.ZipFile) -> str:
    reader = pypdf.PdfReader(io.BytesIO(archive.read("户档案摘要.pdf")))
    box = reader.pages[0].mediabox
    assert (round(box.width), round(box.height)) == (595, 842)  # A4, in points
    return "\n".join(page.extract_text() for page in reader.pages)


def manifest(archive: zipfile.ZipFile) -> dict[str, str]:
    lines = archive.read("manifest.txt").decode().splitlines()
    return {name: sha for sha, name in (line.split("  ", 1) for line in lines)}


async def test_the_archive_holds_the_summary_the_file_every_photo_and_their_sums(client, settings):
    field = await make_field(client, settings, photos=3)
    await load_catalogue(forms.catalogue())
    await make_form_version("economic_survey")
    household, worker, photos = field.household, field.headers, field.photos
    household.head = "王喆"
    await household.save()
    survey = economic_survey(MEMBER) | {"house_photos": [photos[2]]}
    survey["members"][0] |= {"name": "王喆", "birth_date": "1958-03-12"}
    survey["members"][1] |= {"name": "李堃珺"}
    numbers = [m["id_number"] for m in survey["members"]]
    await send(client, worker, household, survey, SURVEY, "economic_survey")
    early = await send(client, worker, household, home_visit(photos[0], photos[:2], health="poor"), EARLY)
    await send(client, worker, household, home_visit(photos[1], [photos[1]], health="fair"), LATER)
    supervisor = await headers_for(settings, await make_user("supervisor", field.district.east))

    archive, headers = await fetch_archive(client, household, supervisor)

    names = archive.namelist()
    assert names[:2] == ["户档案摘要.pdf", "household.json"] and names[-1] == "manifest.txt"
    assert names[2:-1] == ["photos/2025-03-04_入户走访记录_1.jpg", "photos/2025-03-04_入户走访记录_2.jpg",
                           "photos/2025-03-10_家计调查_1.jpg"]  # each photo once, by its first use
    assert unquote(headers["content-disposition"].split("filename*=UTF-8''")[1]).startswith("户档案_王喆_")
    assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())

    # Every photo is the phone's bytes, and the manifest holds the sum of every entry.
    sums = manifest(archive)
    assert set(sums) == set(names) - {"manifest.txt"}
    for name in names[:-1]:
        assert hashlib.sha256(archive.read(name)).hexdigest() == sums[name], name
    assert [sums[n] for n in names[2:-1]] == photos[:2] + [photos[2]]
    assert [archive.read(n) for n in names[2:-1]] == [field.photo_bytes[sha] for sha in photos]

    # household.json: the file as the API gives it, ID numbers masked, every visit, where each photo lies.
    document = json.loads(archive.read("household.json"))
    assert document["id"] == str(household.id) and document["head"] == "王喆"
    assert document["visits"]["next_cursor"] is None and len(document["visits"]["items"]) == 3
    newest = document["visits"]["items"][0]["submissions"][0]
    assert newest["form_title"] == "入户走访记录" and newest["review"]["state"] == "pending"
    early_reply = next(s for v in document["visits"]["items"] for s in v["submissions"] if s["id"] == early)
    assert {(a["pointer"], a["file"]) for a in early_reply["attachments"]} >= {
        ("/door_photo", names[2]), ("/photos/1", names[3])}
    by_name = {m["name"]: m for m in document["members"]}
    assert by_name["王喆"]["id_number"] == numbers[0][:6] + "********" + numbers[0][-4:]
    assert {n["item_name"] for n in document["needs"]} >= {"居家安全排查"}
    assert document["timezone"] == "Asia/Shanghai" and document["archived_at"].endswith("+08:00")
    raw = archive.read("household.json").decode()
    assert all(number not in raw for number in numbers)

    # The summary: Chinese, the rare characters of names kept, days on the station's clock, numbers masked.
    text = pdf_text(archive)
    for expected in ("户档案摘要", "王喆", "李堃珺", "白竹亭社区", "家庭成员", "最近情况", "走访记录", "需求",
                     "2025-03-04 07:30–08:10", "2025-03-18 15:00", "2025-03-10", "入户走访记录", "家计调查",
                     "一般", "待审核", "居家安全排查", numbers[0][:6] + "********" + numbers[0][-4:]):
        assert expected in text, expected
    assert "2025-03-03" not in text  # the UTC day of the early visit
    assert all(number not in text for number in numbers)

    [event] = await AuditEvent.filter(action="household.archived")
    assert event.household_id == household.id and event.detail == {"photos": 3}


async def test_a_household_with_no_visits_archives_and_its_markup_like_names_print_as_written(client, settings):
    district = await make_district()
    household = await make_household(district.east_a, head="珺#堃 *a* _b_ [c] $d$ @e `f` \\g <h>", address="三组 #12 //号")
    bureau = await headers_for(settings, await make_user("bureau", district.county))

    archive, _ = await fetch_archive(client, household, bureau)

    assert archive.namelist() == ["户档案摘要.pdf", "household.json", "manifest.txt"]
    assert set(manifest(archive)) == {"户档案摘要.pdf", "household.json"}
    text = pdf_text(archive)
    # typst sets a little space between Chinese and Latin characters: compare without spaces.
    squeezed = "".join(text.split())
    assert "".join(household.head.split()) in squeezed and "".join(household.address.split()) in squeezed
    assert "尚无走访记录" in text
    document = json.loads(archive.read("household.json"))
    assert document["visits"] == {"items": [], "next_cursor": None} and document["needs"] == []


async def test_the_archive_shows_each_need_and_what_became_of_it(client, settings):
    await load_catalogue(forms.catalogue())
    district = await make_district()
    household = await make_household(district.east_a)
    entered = await make_need(household, "done", description="每周代买一次菜")  # entered at the station, served
    bureau = await headers_for(settings, await make_user("bureau", district.county))

    archive, _ = await fetch_archive(client, household, bureau)

    squeezed = "".join(pdf_text(archive).split())
    assert "每周代买一次菜" in squeezed and "已完成" in squeezed and "尚无提出的需求" not in squeezed
    [need] = json.loads(archive.read("household.json"))["needs"]
    assert need["id"] == str(entered.id) and need["status"] == "done" and need["visit"] is None


async def test_a_photo_gone_from_the_store_is_named_and_left_out_of_the_sums(client, settings, app):
    field = await make_field(client, settings, photos=2)
    await send(client, field.headers, field.household, home_visit(field.photos[0], field.photos), EARLY)
    await app.state.thumbnails.settle()
    assert await app.state.photos.delete(field.photos[1])
    supervisor = await headers_for(settings, await make_user("supervisor", field.district.east))

    archive, _ = await fetch_archive(client, field.household, supervisor)

    assert "photos/2025-03-04_入户走访记录_2.jpg" not in archive.namelist()
    assert field.photos[1] in archive.read("缺失照片.txt").decode("utf-8-sig")
    sums = manifest(archive)
    assert set(sums) == set(archive.namelist()) - {"manifest.txt"}
    assert sums["photos/2025-03-04_入户走访记录_1.jpg"] == field.photos[0]


async def test_no_one_outside_the_households_areas_gets_its_archive_and_workers_and_providers_none(client, settings):
    field = await make_field(client, settings)
    district = field.district
    expected = {
        await make_user("supervisor", district.west): 404,
        await make_user("bureau", (await make_district()).county): 404,
        await make_user("worker", district.west_a): 403,
        field.worker: 403,  # even in its own community: an archive leaves the system, supervisors make them
        await make_user("provider"): 403,
    }
    for user, status in expected.items():
        response = await client.get(f"/api/v1/households/{field.household.id}/archive",
                                    headers=await headers_for(settings, user))
        body = assert_problem(response, status)
        if status == 404:
            assert body["type"] == "/problems/household-not-found"
    admin = await headers_for(settings, await make_user("admin"))
    assert_problem(await client.get(f"/api/v1/households/{uuid.uuid4()}/archive", headers=admin), 404)
    assert not await AuditEvent.filter(action="household.archived").exists()

