"""Bulk export of an area's household files: a job queued over HTTP, run by the app's own export runner (one round
driven here with `run_once`, or the lifespan's background task), its ZIP downloaded whole and by ranges, opened
again and every photo checked against its hash; claims raced, dead instances noticed, files expired."""

import asyncio
import dataclasses
import hashlib
import io
import uuid
import zipfile
from datetime import timedelta
from urllib.parse import unquote

import pytest

from factories import (assert_problem, headers_for, home_visit, jpeg, make_district, make_form_version,
                       make_household, make_user, sha256_of, submission_body, upload)
from server.app import create_app
from server.core.clock import now
from server.households.export_runner import DIED, REQUESTER_GONE, Runner, claim
from server.models import AuditEvent, ExportJob

MARCH = {"from": "2025-03-01", "to": "2025-03-31"}
IN_MARCH = ("2025-03-18T09:30:00+08:00", "2025-03-18T10:10:00+08:00")
# 07:30 on 1 March in Changsha is still 28 February in UTC: the period's days are the station's.
FIRST_OF_MARCH = ("2025-03-01T07:30:00+08:00", "2025-03-01T08:00:00+08:00")
IN_APRIL = ("2025-04-02T09:30:00+08:00", "2025-04-02T10:00:00+08:00")


@pytest.fixture
def app_settings(either_store_settings):
    """The app's tests run on the local store and on S3: the export's ZIP is a blob, written and read by ranges."""
    return either_store_settings


@dataclasses.dataclass
class Township:
    district: object
    worker: dict
    supervisor: dict
    households: dict  # name → household
    photos: dict  # sha256 → bytes


async def visit(client, headers, household, photos: list[bytes], when) -> None:
    for data in photos:
        assert (await upload(client, headers, data)).status_code in (200, 201)
    shas = [sha256_of(p) for p in photos]
    body = submission_body(household, home_visit(shas[0], shas), started_at=when[0], finished_at=when[1])
    response = await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=headers)
    assert response.status_code == 201, response.text


async def make_township(client, settings) -> Township:
    """Township east: two households of east_a and one of east_b visited in March (one on the 1st, early in the
    morning), one of east_a visited only in April; and one of west_a visited in March, in the other township."""
    district = await make_district()
    await make_form_version("home_visit")
    worker = await headers_for(settings, await make_user("worker", district.east_a, district.east_b, district.west_a))
    households, photos = {}, {}
    plan = (("a1", district.east_a, 3, IN_MARCH), ("a2", district.east_a, 2, FIRST_OF_MARCH),
            ("b1", district.east_b, 1, IN_MARCH), ("april", district.east_a, 1, IN_APRIL),
            ("west", district.west_a, 1, IN_MARCH))
    for name, community, count, when in plan:
        household = households[name] = await make_household(community)
        taken = [jpeg() for _ in range(count)]
        photos |= {sha256_of(p): p for p in taken}
        await visit(client, worker, household, taken, when)
    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    return Township(district, worker, supervisor, households, photos)


async def start(client, headers, area, period=MARCH) -> dict:
    response = await client.post("/api/v1/exports", json={"area": str(area.id)} | period, headers=headers)
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["location"] == f"/api/v1/exports/{job['id']}" and job["state"] == "queued"
    return job


async def run_to_end(app, client, headers, job_id: str) -> dict:
    ran = await app.state.exports.run_once()
    assert ran is not None and str(ran.id) == job_id
    response = await client.get(f"/api/v1/exports/{job_id}", headers=headers)
    assert response.status_code == 200
    return response.json()


def sums(text: str) -> dict[str, str]:
    return {name: sha for sha, name in (line.split("  ", 1) for line in text.splitlines())}


async def test_an_area_export_runs_to_done_and_its_zip_holds_every_household_checked_by_its_sums(app, client,
                                                                                                 settings):
    town = await make_township(client, settings)
    job = await start(client, town.supervisor, town.district.east)

    done = await run_to_end(app, client, town.supervisor, job["id"])

    assert done["state"] == "done" and done["error"] is None and done["file"] == f"/api/v1/exports/{job['id']}/file"
    assert done["progress"] == {"households_done": 3, "households_total": 3, "bytes": done["size"]}
    assert done["expires_at"] and done["area_name"] == "城东街道"
    response = await client.get(done["file"], headers=town.supervisor)
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    assert int(response.headers["content-length"]) == done["size"] == len(response.content)
    assert response.headers["etag"] == f'"{done["sha256"]}"' == f'"{hashlib.sha256(response.content).hexdigest()}"'
    assert response.headers["accept-ranges"] == "bytes"
    title = unquote(response.headers["content-disposition"].split("filename*=UTF-8''")[1])
    assert title == "户档案导出_城东街道_20250301-20250331.zip"

    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert names[0] == "导出说明.txt" and names[-1] == "manifest.txt"
    assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
    folders = {name.rsplit("/", 1)[0] for name in names if name.endswith("/manifest.txt")}
    expected = {f"{community}/张秀英_{str(town.households[key].id)[:8]}"
                for key, community in (("a1", "白竹亭社区"), ("a2", "白竹亭社区"), ("b1", "凌云社区"))}
    assert folders == expected  # April's household and the other township's are not in it
    # The chain of sums: the top manifest checks the note and each household's manifest, which checks its files.
    top = sums(archive.read("manifest.txt").decode())
    assert set(top) == {"导出说明.txt"} | {f"{f}/manifest.txt" for f in folders}
    photos_seen = 0
    for name, sha in top.items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == sha, name
    for folder in folders:
        inner = sums(archive.read(f"{folder}/manifest.txt").decode())
        assert {"户档案摘要.pdf", "household.json"} <= set(inner)
        assert set(inner) == {n.removeprefix(folder + "/") for n in names if n.startswith(folder + "/")} - {
            "manifest.txt"}
        for name, sha in inner.items():
            data = archive.read(f"{folder}/{name}")
            assert hashlib.sha256(data).hexdigest() == sha, name
            if name.startswith("photos/"):
                assert town.photos[sha] == data
                photos_seen += 1
    assert photos_seen == 6
    note = archive.read("导出说明.txt").decode("utf-8-sig")
    assert "城东街道" in note and "2025-03-01 至 2025-03-31" in note and "户数：3" in note

    actions = [e.action for e in await AuditEvent.filter(action__startswith="export.").order_by("at")]
    assert actions == ["export.started", "export.downloaded"]


async def test_the_file_is_served_by_ranges_for_resuming(app, client, settings):
    town = await make_township(client, settings)
    queued = await start(client, town.supervisor, town.district.east_b)
    job = await run_to_end(app, client, town.supervisor, queued["id"])
    url, size, etag = job["file"], job["size"], f'"{job["sha256"]}"'
    whole = (await client.get(url, headers=town.supervisor)).content

    async def ranged(value: str, **extra) -> object:
        return await client.get(url, headers=town.supervisor | {"Range": value} | extra)

    first = await ranged("bytes=0-99")
    assert first.status_code == 206 and first.content == whole[:100]
    assert first.headers["content-range"] == f"bytes 0-99/{size}" and first.headers["content-length"] == "100"
    middle = await ranged(f"bytes=1000-{size // 2}")
    assert middle.status_code == 206 and middle.content == whole[1000:size // 2 + 1]
    suffix = await ranged("bytes=-500")
    assert suffix.status_code == 206 and suffix.content == whole[-500:]
    assert suffix.headers["content-range"] == f"bytes {size - 500}-{size - 1}/{size}"
    rest = await ranged("bytes=100-", **{"If-Range": etag})  # a resumed download of the same file
    assert rest.status_code == 206 and first.content + rest.content == whole
    stale = await ranged("bytes=100-", **{"If-Range": '"' + "0" * 64 + '"'})  # another file since: the whole
    assert stale.status_code == 200 and stale.content == whole
    past = await ranged(f"bytes={size}-")
    assert_problem(past, 416)
    assert past.headers["content-range"] == f"bytes */{size}"
    assert (await ranged("bytes=0-1,5-9")).content == whole  # several ranges: the whole file
    head = await client.head(url, headers=town.supervisor)
    assert head.status_code == 200 and head.headers["content-length"] == str(size)


async def test_of_two_runners_claiming_one_job_exactly_one_runs_it(app, client, settings):
    district = await make_district()
    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    jobs = [uuid.UUID((await start(client, supervisor, district.east))["id"]) for _ in range(3)]

    for job_id in jobs:
        claims = await asyncio.gather(*(claim(job_id, f"instance-{n}") for n in range(6)))
        assert claims.count(True) == 1
        row = await ExportJob.get(id=job_id)
        assert row.state == "running" and row.owner == f"instance-{claims.index(True)}" and row.attempt == 1

    # Whole runners racing: each job is run by one of them, once.
    for job_id in jobs:
        await ExportJob.filter(id=job_id).update(state="queued", owner=None)
    runners = [Runner(app.state.exports.context, f"runner-{n}") for n in range(3)]
    ran = await asyncio.gather(*(r.run_once() for r in runners))
    assert sorted(str(job.id) for job in ran if job) == sorted(map(str, jobs))
    assert {j.attempt for j in await ExportJob.all()} == {2} and {j.state for j in await ExportJob.all()} == {"done"}


async def test_a_job_whose_instance_died_is_failed_and_can_be_restarted(app, client, settings):
    town = await make_township(client, settings)
    job = await start(client, town.supervisor, town.district.east_a)
    assert await claim(uuid.UUID(job["id"]), "an-instance-that-died")
    stale = now() - timedelta(seconds=settings.export_stale_after_seconds + 1)
    await ExportJob.filter(id=job["id"]).update(heartbeat_at=stale)

    assert await app.state.exports.run_once() is None  # nothing queued; the dead instance's job noticed
    failed = (await client.get(f"/api/v1/exports/{job['id']}", headers=town.supervisor)).json()
    assert failed["state"] == "failed" and failed["error"] == DIED and failed["file"] is None
    assert_problem(await client.get(f"/api/v1/exports/{job['id']}/file", headers=town.supervisor), 409)

    restarted = await client.post(f"/api/v1/exports/{job['id']}/restart", headers=town.supervisor)
    assert restarted.status_code == 202 and restarted.json()["state"] == "queued"
    assert restarted.json()["error"] is None
    done = await run_to_end(app, client, town.supervisor, job["id"])
    assert done["state"] == "done" and done["attempt"] == 2 and done["progress"]["households_done"] == 2
    assert_problem(await client.post(f"/api/v1/exports/{job['id']}/restart", headers=town.supervisor), 409)


async def test_a_run_taken_over_meanwhile_stops_and_leaves_the_new_run_alone(app, client, settings):
    town = await make_township(client, settings)
    job = await start(client, town.supervisor, town.district.east_a)
    job_id = uuid.UUID(job["id"])
    assert await claim(job_id, "slow-instance")
    taken = await ExportJob.get(id=job_id)
    # Thought dead and failed; restarted by someone: its file-to-be belongs to the next run now.
    await ExportJob.filter(id=job_id).update(state="failed", error=DIED)
    slow = Runner(app.state.exports.context, "slow-instance")

    ended = await slow.run(taken)

    assert ended.state == "failed" and ended.error == DIED and ended.blob is None


async def test_an_export_whose_requester_was_disabled_meanwhile_fails_and_packs_nothing(app, client, settings):
    district = await make_district()
    supervisor = await make_user("supervisor", district.east)
    job = await start(client, await headers_for(settings, supervisor), district.east)
    supervisor.is_active = False
    await supervisor.save()

    ended = await app.state.exports.run_once()

    assert ended.state == "failed" and ended.error == REQUESTER_GONE and ended.blob is None
    assert str(ended.id) == job["id"]


async def test_an_instance_shut_down_mid_run_puts_its_export_back_in_the_queue(app, client, settings):
    town = await make_township(client, settings)
    job = await start(client, town.supervisor, town.district.east)
    running = asyncio.ensure_future(app.state.exports.run_once())
    while (await ExportJob.get(id=job["id"])).state != "running":
        await asyncio.sleep(0.001)

    running.cancel()
    await asyncio.wait([running])

    row = await ExportJob.get(id=job["id"])
    assert running.cancelled() and row.state == "queued" and row.owner is None and row.blob is None
    assert [p for p in app.state.photos.temp_dir.iterdir() if p.name.startswith("blob-")] == []  # half-made file gone
    done = await run_to_end(app, client, town.supervisor, job["id"])
    assert done["state"] == "done" and done["attempt"] == 2 and done["progress"]["households_done"] == 3


async def test_a_file_kept_past_its_time_is_removed_and_answered_410(app, client, settings):
    town = await make_township(client, settings)
    queued = await start(client, town.supervisor, town.district.east)
    job = await run_to_end(app, client, town.supervisor, queued["id"])
    row = await ExportJob.get(id=job["id"])
    assert (await app.state.photos.open_blob(row.blob)).size == job["size"]
    await ExportJob.filter(id=row.id).update(expires_at=now() - timedelta(seconds=1))

    assert_problem(await client.get(job["file"], headers=town.supervisor), 410)  # past its time, not yet removed
    await app.state.exports.run_once()

    expired = (await client.get(f"/api/v1/exports/{row.id}", headers=town.supervisor)).json()
    assert expired["state"] == "expired" and expired["file"] is None
    assert_problem(await client.get(job["file"], headers=town.supervisor), 410)
    assert not await app.state.photos.delete_blob(row.blob)  # already gone
    assert (await client.post(f"/api/v1/exports/{row.id}/restart", headers=town.supervisor)).status_code == 202


async def test_an_area_without_visits_in_the_period_gives_a_zip_that_says_so(app, client, settings):
    district = await make_district()
    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    job = await run_to_end(app, client, supervisor, (await start(client, supervisor, district.east_b))["id"])

    assert job["state"] == "done" and job["progress"]["households_total"] == 0
    archive = zipfile.ZipFile(io.BytesIO((await client.get(job["file"], headers=supervisor)).content))
    assert archive.namelist() == ["导出说明.txt", "manifest.txt"]
    assert "没有符合条件的户" in archive.read("导出说明.txt").decode("utf-8-sig")


@pytest.mark.parametrize(("body", "pointers"), [
    ({"from": "2025-03-01", "to": "2025-03-31"}, ["/area"]),
    ({"area": "east", "from": "2025-03-01", "to": "2025-03-31"}, ["/area"]),
    ({"area": None, "from": "2025-03-31", "to": "2025-03-01"}, ["/to"]),
    ({"area": None, "from": "2025-13-01", "to": "31/03/2025"}, ["/from", "/to"]),
    ({"area": None, "from": "2025-03-01"}, ["/to"]),
    ({"area": None, "from": "0001-01-01", "to": "9999-12-31"}, ["/from", "/to"]),
    ({"area": None, "from": "2025-03-01", "to": "2025-03-31", "format": "zip"}, ["/format"]),
])
async def test_bad_input_is_refused_with_the_pointer_of_each_field(client, settings, body, pointers):
    district = await make_district()
    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    if "area" in body and body["area"] is None:
        body = body | {"area": str(district.east.id)}
    assert_problem(await client.post("/api/v1/exports", json=body, headers=supervisor), 422, *pointers)
    assert await ExportJob.all().count() == 0


async def test_areas_and_jobs_outside_the_callers_scope_are_not_found(app, client, settings):
    district = await make_district()
    east = await headers_for(settings, await make_user("supervisor", district.east))
    west = await headers_for(settings, await make_user("supervisor", district.west))
    other_county = await make_district()
    stranger = await headers_for(settings, await make_user("bureau", other_county.county))
    bureau = await headers_for(settings, await make_user("bureau", district.county))
    worker = await headers_for(settings, await make_user("worker", district.east_a))

    for area in (district.west, district.west_a, district.county, other_county.east_a):
        body = {"area": str(area.id)} | MARCH
        assert_problem(await client.post("/api/v1/exports", json=body, headers=east), 404)
    body = {"area": str(uuid.uuid4())} | MARCH
    assert_problem(await client.post("/api/v1/exports", json=body, headers=east), 404)
    assert_problem(await client.post("/api/v1/exports", json={"area": str(district.east_a.id)} | MARCH,
                                      headers=worker), 403)

    job = await run_to_end(app, client, east, (await start(client, east, district.east_a))["id"])
    for headers in (west, stranger):
        for path in ("", "/file"):
            assert_problem(await client.get(f"/api/v1/exports/{job['id']}{path}", headers=headers), 404)
        assert_problem(await client.post(f"/api/v1/exports/{job['id']}/restart", headers=headers), 404)
        assert (await client.get("/api/v1/exports", headers=headers)).json()["items"] == []
    assert_problem(await client.get(f"/api/v1/exports/{uuid.uuid4()}", headers=east), 404)
    assert_problem(await client.get("/api/v1/exports/not-an-id/file", headers=east), 404)
    assert_problem(await client.get(f"/api/v1/exports/{job['id']}", headers=worker), 403)
    # The county's bureau sees the township's export, and may read it.
    listed = (await client.get("/api/v1/exports", headers=bureau)).json()["items"]
    assert [j["id"] for j in listed] == [job["id"]]
    assert (await client.get(job["file"], headers=bureau)).status_code == 200


async def test_an_export_not_made_yet_is_not_downloadable(client, settings):
    district = await make_district()
    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    job = await start(client, supervisor, district.east)
    body = assert_problem(await client.get(f"/api/v1/exports/{job['id']}/file", headers=supervisor), 409)
    assert body["type"] == "/problems/export-not-ready"
    assert_problem(await client.post(f"/api/v1/exports/{job['id']}/restart", headers=supervisor), 409)
    listed = (await client.get("/api/v1/exports", headers=supervisor, params={"state": "queued"})).json()
    assert [j["id"] for j in listed["items"]] == [job["id"]]


async def test_the_apps_background_runner_makes_a_queued_export(client, settings):
    town = await make_township(client, settings)
    job = await start(client, town.supervisor, town.district.east_b)
    app = create_app(dataclasses.replace(settings, export_poll_seconds=0.05), manage_database=False)

    async with app.router.lifespan_context(app):
        for _ in range(200):
            row = await ExportJob.get(id=job["id"])
            if row.state == "done":
                break
            await asyncio.sleep(0.05)

    assert row.state == "done" and row.households_done == 1 and row.size > 0


async def test_an_export_past_4_gb_is_written_as_zip64(tmp_path):
    """The ZIP machinery of exports (`core.zips`) past 4 GB: 4.1 GB of zeros, then a photo. Only the first and last
    64 KB of the stream are kept; laid into a sparse file, with the zeros as its hole, they are the whole ZIP."""
    from server.core import zips

    zeros, count = bytes(1024 * 1024), 4100
    photo = jpeg()

    async def big():
        for _ in range(count):
            yield zeros

    async def entries():
        yield zips.Entry("big.bin", len(zeros) * count, big())
        yield zips.Entry("photos/after.jpg", len(photo), zips.one_chunk(photo))

    head, tail, total = bytearray(), b"", 0
    async for chunk in zips.stream_zip(entries()):
        if len(head) < 65536:
            head += chunk[:65536 - len(head)]
        tail = (tail + chunk)[-65536:] if len(chunk) < 65536 else chunk[-65536:]
        total += len(chunk)
    assert total > 2**32
    path = tmp_path / "big.zip"
    with open(path, "wb") as f:
        f.write(head)
        f.seek(total - len(tail))
        f.write(tail)

    with zipfile.ZipFile(path) as archive:
        big_entry, after = archive.infolist()
        assert big_entry.file_size == len(zeros) * count and after.header_offset > 2**32
        assert archive.read("photos/after.jpg") == photo
