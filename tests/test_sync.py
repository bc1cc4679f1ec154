"""Offline sync over HTTP: a phone's first sync brings the forms, the catalogue and the household files of its areas
and nothing else; later syncs bring only what changed, and what left its areas; a change committed behind a cursor
already handed out is never skipped."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import sqlite3
import uuid

import asyncpg
import pytest

import forms
from factories import (assert_problem, economic_survey, headers_for, home_visit, make_district, make_field,
                       make_form_version, make_household, make_user, submission_body)
from server.core import sql
from server.core.clock import now
from server.core.sensitive import mask_id_number
from server.models import AuditEvent, Form, Household, UserArea
from server.surveys.catalogue import load_catalogue

SYNC = "/api/v1/sync"
HEAD = "5b0c5a64-1f7e-4c53-9a51-0d3c8f1a2b10"
DATABASE_URL = os.environ.get("DOORSTEP_TEST_DATABASE_URL", "")
ON_POSTGRES = DATABASE_URL.startswith(("postgres://", "postgresql://"))


async def sync(client, headers: dict, since: str | None = None, **params) -> dict:
    response = await client.get(SYNC, params=({"since": since} if since else {}) | params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def sync_all(client, headers: dict, since: str | None = None, limit: int | None = None) -> tuple[list, str]:
    """Every page until `more` is false: the pages, and the cursor for the next sync."""
    pages = []
    while True:
        page = await sync(client, headers, since, **({"limit": limit} if limit else {}))
        pages.append(page)
        since = page["next_cursor"]
        if not page["more"]:
            return pages, since


def ids(page: dict) -> set[str]:
    return {h["id"] for h in page["households"]}


async def register(client, headers: dict, community) -> str:
    hid = str(uuid.uuid4())
    body = {"community": str(community.id), "address": "凌云社区 5 组 3 号", "head": "刘建华"}
    assert (await client.put(f"/api/v1/households/{hid}", json=body, headers=headers)).status_code == 201
    return hid


async def submit(client, headers: dict, body: dict) -> str:
    sid = str(uuid.uuid4())
    response = await client.put(f"/api/v1/submissions/{sid}", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return sid


async def test_the_first_sync_gives_the_forms_catalogue_and_files_of_the_callers_areas_and_nothing_else(
        client, settings):
    await load_catalogue(forms.catalogue())
    district = await make_district()
    await make_form_version("home_visit")
    await make_form_version("home_visit", as_slug="east_visit", area=district.east)
    await make_form_version("home_visit", as_slug="west_visit", area=district.west)
    await make_form_version("needs_survey")
    await Form.filter(slug="needs_survey").update(retired_at=now())
    own = [await make_household(district.east_a), await make_household(district.east_a)]
    neighbour = await make_household(district.east_b)
    await make_household(district.west_a)
    worker = await headers_for(settings, await make_user("worker", district.east_a))

    page = await sync(client, worker)
    assert ids(page) == {str(h.id) for h in own}
    assert [(f["slug"], f["version"]) for f in page["forms"]] == [("east_visit", 1), ("home_visit", 1)]
    assert page["catalogue"] == (await client.get("/api/v1/catalogue", headers=worker)).json()["items"]
    assert (page["gone"], page["retired_forms"], page["reset"], page["more"]) == ([], [], False, False)
    # Each file as the file reply gives it, with the words the server's pinyin search matches (for the phone's).
    for file in page["households"]:
        whole = (await client.get(f"/api/v1/households/{file['id']}", headers=worker)).json()
        assert file.pop("pinyin") == (await Household.get(id=file["id"])).search_pinyin.split()
        assert file == {key: whole[key] for key in file}
    version = (await client.get("/api/v1/forms/east_visit/versions/1", headers=worker)).json()
    assert next(f for f in page["forms"] if f["slug"] == "east_visit") == version
    assert await AuditEvent.filter(action="households.synced").count() == 1

    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    assert ids(await sync(client, supervisor)) == {str(h.id) for h in [*own, neighbour]}


async def test_a_synced_file_carries_the_pinyin_words_the_search_matches(client, settings):
    district = await make_district()
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    household = str(uuid.uuid4())
    body = {"community": str(district.east_a.id), "address": "凤凰村 1 组", "head": "曾小明"}
    assert (await client.put(f"/api/v1/households/{household}", json=body, headers=worker)).status_code == 201

    page = await sync(client, worker)
    assert [f["pinyin"] for f in page["households"] if f["id"] == household] == [["zengxiaoming", "zxm"]]


@pytest.mark.parametrize("role", ["bureau", "provider"])
async def test_the_bureau_and_providers_do_not_sync(client, settings, role):
    district = await make_district()
    await make_household(district.east_a)
    user = await make_user(role, *([district.county] if role == "bureau" else []))
    assert_problem(await client.get(SYNC, headers=await headers_for(settings, user)), 403)


async def test_a_later_sync_gives_only_what_changed(client, settings):
    field = await make_field(client, settings)
    quiet = await make_household(field.district.east_a)
    first = await sync(client, field.headers)
    assert ids(first) == {str(field.household.id), str(quiet.id)}
    nothing = await sync(client, field.headers, first["next_cursor"])
    assert (nothing["households"], nothing["forms"], nothing["catalogue"], nothing["gone"]) == ([], [], None, [])

    photo = field.photos[0]
    await submit(client, field.headers, submission_body(field.household, home_visit(photo, [photo], health="poor")))
    registered = await register(client, field.headers, field.district.east_a)
    await make_form_version("home_visit", version=2)

    later = await sync(client, field.headers, first["next_cursor"])
    assert ids(later) == {str(field.household.id), registered}
    visited = next(h for h in later["households"] if h["id"] == str(field.household.id))
    assert visited["situation"]["health"] == "poor"
    assert [(f["slug"], f["version"]) for f in later["forms"]] == [("home_visit", 2)]
    assert (later["catalogue"], later["gone"], later["reset"]) == (None, [], False)


async def test_a_member_removed_reaches_the_phone(client, settings):
    field = await make_field(client, settings)
    await make_form_version("economic_survey")
    photo = field.photos[0]
    data = economic_survey(HEAD) | {"house_photos": [photo]}
    original = await submit(client, field.headers, submission_body(field.household, data, form="economic_survey"))
    first = await sync(client, field.headers)
    [file] = first["households"]
    assert len(file["members"]) == 2

    # A correction that no longer lists the spouse takes back the member only the original brought in.
    data["members"] = data["members"][:1]
    data["household_size"] = 1  # the survey checks it against the members
    await submit(client, field.headers, submission_body(field.household, data, form="economic_survey",
                                                        replaces=original))
    [file] = (await sync(client, field.headers, first["next_cursor"]))["households"]
    assert [m["id"] for m in file["members"]] == [HEAD]


async def test_id_numbers_reach_the_phone_masked(client, settings):
    field = await make_field(client, settings)
    await make_form_version("economic_survey")
    data = economic_survey(HEAD) | {"house_photos": [field.photos[0]]}
    await submit(client, field.headers, submission_body(field.household, data, form="economic_survey"))
    response = await client.get(SYNC, headers=field.headers)
    numbers = [m["id_number"] for m in data["members"]]
    assert not any(number in response.text for number in numbers)
    [file] = response.json()["households"]
    assert sorted(m["id_number"] for m in file["members"]) == sorted(mask_id_number(n) for n in numbers)


async def test_a_synced_member_carries_its_fields_not_the_time_each_was_observed(client, settings):
    field = await make_field(client, settings)
    await make_form_version("economic_survey")
    data = economic_survey(HEAD) | {"house_photos": [field.photos[0]]}
    await submit(client, field.headers, submission_body(field.household, data, form="economic_survey"))

    [file] = (await client.get(SYNC, headers=field.headers)).json()["households"]
    online = (await client.get(f"/api/v1/households/{field.household.id}", headers=field.headers)).json()

    assert file["situation_observed_at"] == online["situation_observed_at"]
    by_id = {m["id"]: m for m in online["members"]}
    assert len(file["members"]) == len(by_id) == len(data["members"])
    for member in file["members"]:
        assert member == {k: v for k, v in by_id[member["id"]].items() if k != "observed_at"}
        assert by_id[member["id"]]["observed_at"]  # the file online has them


async def test_a_household_that_leaves_a_community_is_gone_from_its_phones_and_reaches_the_new_ones(
        client, settings):
    district = await make_district()
    moving, merged, staying = [await make_household(district.east_a) for _ in range(3)]
    phones = {name: await headers_for(settings, await make_user(role, area)) for name, role, area in (
        ("east_a", "worker", district.east_a), ("east_b", "worker", district.east_b),
        ("east", "supervisor", district.east))}
    cursors = {name: (await sync(client, headers))["next_cursor"] for name, headers in phones.items()}

    # A supervisor moves one household to the other community; another is merged into a file and deleted.
    await Household.filter(id=moving.id).update(community_id=district.east_b.id)
    await Household.filter(id=merged.id).delete()

    old = await sync(client, phones["east_a"], cursors["east_a"])
    assert (old["households"], sorted(old["gone"])) == ([], sorted([str(moving.id), str(merged.id)]))
    new = await sync(client, phones["east_b"], cursors["east_b"])
    assert (ids(new), new["gone"]) == ({str(moving.id)}, [])
    # Moved within the supervisor's township: still theirs, and never dropped.
    both = await sync(client, phones["east"], cursors["east"])
    assert (ids(both), both["gone"]) == ({str(moving.id)}, [str(merged.id)])
    assert str(staying.id) not in ids(old) | ids(new) | ids(both)


async def test_a_retired_form_is_named_for_the_phone_to_drop(client, settings):
    district = await make_district()
    await make_form_version("home_visit", as_slug="east_visit", area=district.east)
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    first = await sync(client, worker)
    assert [f["slug"] for f in first["forms"]] == ["east_visit"]

    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    assert (await client.post("/api/v1/forms/east_visit/retire", headers=supervisor)).status_code == 200
    later = await sync(client, worker, first["next_cursor"])
    assert (later["forms"], later["retired_forms"]) == ([], ["east_visit"])


async def test_a_worker_given_other_communities_starts_again(client, settings):
    district = await make_district()
    before, after = await make_household(district.east_a), await make_household(district.east_b)
    user = await make_user("worker", district.east_a)
    worker = await headers_for(settings, user)
    first = await sync(client, worker)
    assert ids(first) == {str(before.id)}

    await UserArea.filter(user_id=user.id).update(area_id=district.east_b.id)
    # Nothing in east_b changed since the cursor: only a reset brings its files.
    again = await sync(client, worker, first["next_cursor"])
    assert (again["reset"], ids(again), again["gone"]) == (True, {str(after.id)}, [])
    assert again["catalogue"] is not None


async def test_a_cursor_ahead_of_the_database_starts_again(client, settings):
    """A database restored from a backup stands behind the phones' cursors."""
    district = await make_district()
    household = await make_household(district.east_a)
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    seq, areas, catalogue = (await sync(client, worker))["next_cursor"].split(".")
    ahead = await sync(client, worker, f"{int(seq) + 1000}.{areas}.{catalogue}")
    assert (ahead["reset"], ids(ahead)) == (True, {str(household.id)})


async def _writer():
    """A second connection to the test database, as another server process would hold: (run, commit)."""
    if ON_POSTGRES:
        conn = await asyncpg.connect(DATABASE_URL)
        transaction = conn.transaction()
        await transaction.start()

        async def finish():
            await transaction.commit()
            await conn.close()

        return (lambda statement, *args: conn.execute(statement.replace("?", "$1"), *args)), finish
    conn = sqlite3.connect(sql.connection().filename, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")

    async def run(statement, *args):
        conn.execute(statement, args)

    async def finish():
        conn.execute("COMMIT")
        conn.close()

    return run, finish


async def test_a_change_committed_after_the_cursor_was_handed_out_is_not_missed(client, settings):
    district = await make_district()
    household = await make_household(district.east_a)
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    first = await sync(client, worker)

    run, commit = await _writer()
    await run("UPDATE household SET head = '王大伟' WHERE id = ?", str(household.id))
    during = await sync(client, worker, first["next_cursor"])  # the write has its number, but is not committed
    assert during["households"] == []
    await commit()

    after = await sync(client, worker, during["next_cursor"])
    assert [h["head"] for h in after["households"]] == ["王大伟"]


async def test_of_two_concurrent_writers_the_one_that_commits_later_takes_the_later_number(client, settings):
    district = await make_district()
    first_written, second_written = await make_household(district.east_a), await make_household(district.east_a)
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    cursor = (await sync(client, worker))["next_cursor"]

    run_first, commit_first = await _writer()
    await run_first("UPDATE household SET head = '甲' WHERE id = ?", str(first_written.id))
    if ON_POSTGRES:
        # A household takes its number at commit (migrations/0019_sync_stamp_at_commit.py): the second writer is
        # not held up by the first, which is still open, and commits first, with the earlier number.
        run_second, commit_second = await _writer()
        await asyncio.wait_for(run_second("UPDATE household SET head = '乙' WHERE id = ?", str(second_written.id)), 5)
        assert (await sync(client, worker, cursor))["households"] == []
        await asyncio.wait_for(commit_second(), 5)
        between = await sync(client, worker, cursor)
        assert [h["head"] for h in between["households"]] == ["乙"]
        await commit_first()
        later = await sync(client, worker, between["next_cursor"])
        assert [h["head"] for h in later["households"]] == ["甲"]
        return
    # SQLite runs one writing transaction at a time: a second cannot even begin before the first commits, so it
    # cannot take an earlier number either.
    blocked = sqlite3.connect(sql.connection().filename, timeout=0, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        blocked.execute("BEGIN IMMEDIATE")
    blocked.close()
    assert (await sync(client, worker, cursor))["households"] == []
    await commit_first()
    run_second, commit_second = await _writer()
    await run_second("UPDATE household SET head = '乙' WHERE id = ?", str(second_written.id))
    await commit_second()

    later = await sync(client, worker, cursor)
    assert [h["head"] for h in later["households"]] == ["甲", "乙"]


async def test_pages_follow_each_other_without_repeating_or_skipping(client, settings):
    district = await make_district()
    await make_form_version("home_visit")
    households = {str((await make_household(district.east_a)).id) for _ in range(5)}
    worker = await headers_for(settings, await make_user("worker", district.east_a))

    pages, cursor = [], None
    while True:
        page = await sync(client, worker, cursor, limit=2)
        pages.append(page)
        cursor = page["next_cursor"]
        if len(pages) == 1:  # registered while the phone pages: it comes in a later page
            households.add(await register(client, worker, district.east_a))
        if not page["more"]:
            break
    sent = [h["id"] for page in pages for h in page["households"]]
    assert sorted(sent) == sorted(households)
    assert all(len(page["households"]) + len(page["forms"]) <= 2 for page in pages)
    assert [page["catalogue"] is not None for page in pages] == [True] + [False] * (len(pages) - 1)
    assert (await sync(client, worker, cursor))["households"] == []


@pytest.mark.parametrize(("params", "pointer"), [
    ({"since": "yesterday"}, "/since"),
    ({"since": "12.abcdef01"}, "/since"),
    ({"since": "-1.abcdef01.abcdef01"}, "/since"),
    ({"since": "1" * 30 + ".abcdef01.abcdef01"}, "/since"),
    ({"limit": "0"}, "/limit"),
    ({"limit": "501"}, "/limit"),
    ({"limit": "ten"}, "/limit"),
])
async def test_a_malformed_cursor_or_limit_is_refused_with_its_pointer(client, settings, params, pointer):
    district = await make_district()
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    assert_problem(await client.get(SYNC, params=params, headers=worker), 422, pointer)


async def test_replies_are_gzipped_for_phones_that_accept_it(client, settings):
    district = await make_district()
    await make_form_version("home_visit")
    for _ in range(20):
        await make_household(district.east_a)
    worker = await headers_for(settings, await make_user("worker", district.east_a))

    async with client.stream("GET", SYNC, headers=worker | {"Accept-Encoding": "gzip"}) as response:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
    assert response.headers["content-encoding"] == "gzip" and "Accept-Encoding" in response.headers["vary"]
    assert int(response.headers["content-length"]) == len(raw)
    plain = gzip.decompress(raw)
    assert len(json.loads(plain)["households"]) == 20 and len(raw) < len(plain) / 3

    for refused in ("identity", "gzip;q=0, identity", "br"):
        async with client.stream("GET", SYNC, headers=worker | {"Accept-Encoding": refused}) as response:
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
        assert "content-encoding" not in response.headers
        assert len(json.loads(raw)["households"]) == 20
