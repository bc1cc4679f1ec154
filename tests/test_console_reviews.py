"""The console's review queue in a real browser (Debian's Chromium driven by Playwright at a 1366×768 desktop) against a
real server process: more submissions than a page, read page by page with 更多, each once, the longest waiting
first; narrowed by worker, community and form; one approved in place while the pages already read stay. Screenshots
go to test-artifacts/console/."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

import httpx
import pytest
from playwright.async_api import expect

import test_console_records
import test_field_app
from factories import economic_survey, home_visit, jpeg, sha256_of
from test_console_records import SHANGHAI, SHOTS, bearer, log_in
from test_field_app import helper

server, desk = test_field_app.server, test_console_records.desk  # the fixtures, as the records screens' tests have them

PAGE = 100  # the API's page of submissions, which the console asks for one at a time


@pytest.fixture
async def queue(server):
    """105 submissions waiting in 城东街道, in a known order of arrival: 100 home visits of 张秀英's household by the
    worker of 白竹亭社区, then 4 of 王桂芝's by the worker of 凌云社区, then one 家计调查 of 张秀英's."""
    seed = helper(server.env, "console_r_seed")
    started = datetime.now(SHANGHAI) - timedelta(hours=1)
    times = {"started_at": started.isoformat(), "finished_at": (started + timedelta(minutes=30)).isoformat()}
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        sent: list[str] = []

        async def send(headers: dict, household: str, form: str, data: dict, count: int) -> None:
            ids = [str(uuid.uuid4()) for _ in range(count)]
            for start in range(0, count, 10):  # ten at a time, a batch after the other: the order of arrival is known
                batch = ids[start:start + 10]
                replies = await asyncio.gather(*(client.put(
                    f"/api/v1/submissions/{sid}", headers=headers,
                    json={"form": form, "version": 1, "household": household, "data": data} | times) for sid in batch))
                assert [r.status_code for r in replies] == [201] * len(batch), replies[0].text
                sent.extend(batch)

        photos = {}
        for username, household, count in (("fieldworker", seed["zhang"], PAGE), ("lingyunworker", seed["household"], 4)):
            headers = await bearer(client, username)
            photo = jpeg()
            photos[username] = sha256_of(photo)
            put = await client.put(f"/api/v1/attachments/{photos[username]}", content=photo,
                                   headers=headers | {"Content-Type": "image/jpeg"})
            assert put.status_code == 201, put.text
            await send(headers, household, "home_visit", home_visit(photos[username], [photos[username]]), count)
        await send(await bearer(client, "fieldworker"), seed["zhang"], "economic_survey",
                   economic_survey(str(uuid.uuid4())) | {"house_photos": [photos["fieldworker"]]}, 1)
        arrived = await waiting(client, await bearer(client, "fieldsupervisor"))
    server.seed = seed | {"arrived": arrived, "sent": sent}
    return server


async def test_a_queue_longer_than_a_page_is_read_page_by_page_narrowed_and_reviewed_in_place(queue, desk):
    page, seed = desk, queue.seed
    assert sorted(seed["arrived"]) == sorted(seed["sent"]) and len(seed["arrived"]) == PAGE + 5
    await log_in(page, queue.url, "fieldsupervisor")
    await page.click("#nav a[data-screen=reviews]")
    rows = page.locator("table.list tr[data-submission]")
    await expect(rows).to_have_count(PAGE)
    await expect(page.get_by_text(f"已列出 {PAGE} 份，还有更多")).to_be_visible()
    await page.get_by_role("button", name="更多").click()
    await expect(rows).to_have_count(PAGE + 5)
    await expect(page.get_by_text(f"已列出 {PAGE + 5} 份，已全部列出")).to_be_visible()
    await expect(page.get_by_role("button", name="更多")).to_be_hidden()
    listed = await rows.evaluate_all("rows => rows.map((row) => row.dataset.submission)")
    assert listed == seed["arrived"]  # each once, in the order they arrived, the longest waiting first
    await expect(rows.last).to_contain_text("家计调查")
    await shot(page, "paged")

    # Narrowed: by the worker of 凌云社区, then by the community alone, then by the form alone.
    await page.select_option("select[name=author]", label="凌云社工")
    await expect(rows).to_have_count(4)
    await expect(page.get_by_text("已列出 4 份，已全部列出")).to_be_visible()
    await page.select_option("select[name=author]", label="全部")
    await page.select_option("select[name=area]", label="凌云社区")
    await expect(rows).to_have_count(4)
    assert await rows.evaluate_all("rows => rows.map((row) => row.dataset.submission)") == seed["arrived"][PAGE:PAGE + 4]
    await page.select_option("select[name=area]", label="全部")
    await page.select_option("select[name=form]", label="家计调查")
    await expect(rows).to_have_count(1)
    await page.select_option("select[name=form]", label="全部")
    await expect(rows).to_have_count(PAGE)

    # One of the second page approved: it changes in place, and the two pages read stay.
    await page.get_by_role("button", name="更多").click()
    await expect(rows).to_have_count(PAGE + 5)
    chosen = seed["arrived"][PAGE + 2]
    await page.locator(f"tr[data-submission='{chosen}'] a").click()
    await expect(page.locator("#detail")).to_contain_text("王桂芝")
    await page.locator("#detail").get_by_role("button", name="通过").click()
    await expect(page.locator(f"tr[data-submission='{chosen}'] .badge")).to_have_text("已通过")
    await expect(rows).to_have_count(PAGE + 5)
    await shot(page, "approved-in-place")
    async with httpx.AsyncClient(base_url=queue.url) as client:
        supervisor = await bearer(client, "fieldsupervisor")
        reply = (await client.get(f"/api/v1/submissions/{chosen}", headers=supervisor)).json()
        assert reply["review"]["state"] == "approved"
        pending = await waiting(client, supervisor)
        assert len(pending) == PAGE + 4 and chosen not in pending
    assert page.errors == []


async def waiting(client: httpx.AsyncClient, supervisor: dict) -> list[str]:
    """The ids of the township's submissions waiting for review, every page, as the API orders them."""
    ids, cursor = [], None
    while True:
        page = (await client.get("/api/v1/submissions", headers=supervisor,
                                 params={"state": "pending"} | ({"cursor": cursor} if cursor else {}))).json()
        ids += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


async def shot(page, name: str) -> None:
    await page.screenshot(path=str(SHOTS / f"reviews-{name}.png"), full_page=True)
