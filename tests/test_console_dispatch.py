"""The console's needs board, form retiring and month closing in a real browser (Debian's Chromium driven by
Playwright at a 1366×768 desktop) against a real server process: a supervisor finds an overdue need highlighted,
reassigns it to another provider and closes it (not without a reason), and retires the township's form, which the
field app then drops; the supervisor closes last month, which the bureau approves, while this month cannot be
closed yet. Each step is checked again through the API. Screenshots go to test-artifacts/console/."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import httpx
import pytest
from playwright.async_api import expect

import test_console_records
import test_field_app
from test_console_records import SHANGHAI, SHOTS, bearer, log_in
from test_field_app import helper

# The fixtures the tests request, as the records screens' tests have them: a real server process, a desktop page.
server, desk = test_field_app.server, test_console_records.desk

OVERDUE_BACKGROUND = "rgb(255, 244, 229)"  # tr.overdue in screens/records.css


@pytest.fixture
async def township(server):
    """The records screens' station (tests/app_helper.py console_b_seed) with two providers of 代买助餐 in 白竹亭社区, an
    overdue need of 李德明's, last month's needs of 城东街道 and the township's own form `east_visit`."""
    server.seed = helper(server.env, "console_d_seed")
    return server


async def shot(page, name: str) -> None:
    await page.screenshot(path=str(SHOTS / f"dispatch-{name}.png"), full_page=True)


async def test_an_overdue_need_is_reassigned_and_closed_with_a_reason_and_a_retired_form_leaves_the_field_app(
        township, desk):
    page, seed = desk, township.seed
    need, sunshine, kangle = seed["overdue"], seed["provider"], seed["other_provider"]
    async with httpx.AsyncClient(base_url=township.url) as client:
        worker = await bearer(client, "fieldworker")
        first_sync = (await client.get("/api/v1/sync", headers=worker)).json()
        assert "east_visit" in [f["slug"] for f in first_sync["forms"]]

    # The month's needs: the overdue one is marked and highlighted, on the list and on the dispatch board.
    await log_in(page, township.url, "fieldsupervisor")
    await page.click("#nav a[data-screen=needs]")
    listing = page.locator("section.card", has=page.locator("h2", has_text="需求清单"))
    late = listing.locator("tr.overdue")
    await expect(late).to_have_count(1)
    await expect(late).to_contain_text("李德明")
    await expect(late.locator(".badge.warn")).to_have_text("已接单·逾期")
    await expect(late.locator("td").first).to_have_css("background-color", OVERDUE_BACKGROUND)
    on_time = listing.locator("tr", has_text="张秀英")
    await expect(on_time.locator(".badge")).to_have_text("待派单")
    await expect(on_time.locator("td").first).not_to_have_css("background-color", OVERDUE_BACKGROUND)
    await expect(page.locator(".board")).to_contain_text("逾期的服务机构：阳光助老服务中心 1 件")
    await expect(page.locator(f".board tr.overdue:has(button[data-need='{need}'])")).to_have_count(1)
    await shot(page, "needs-overdue")

    # Opened: the providers able to take it, the current one not offered again, the one of another community absent.
    await listing.locator(f"button[data-need='{need}']").click()
    panel = page.locator(f".need[data-need='{need}']")
    await expect(panel.locator(".need-status")).to_have_text("已接单")
    await expect(panel.locator(".badge.warn")).to_have_text("逾期")
    await expect(panel.locator("tr", has_text="阳光助老服务中心")).to_contain_text("当前机构")
    await expect(panel.locator("button[data-provider]")).to_have_count(1)
    await expect(panel).not_to_contain_text("楚江助餐点")
    await panel.locator("input[name=reason]").fill("阳光助老服务中心逾期未送餐")
    await panel.locator(f"button[data-provider='{kangle}']").click()
    await expect(panel.locator(".need-status")).to_have_text("已派单")
    await expect(panel).to_contain_text("服务机构：康乐家政服务部")
    steps = panel.locator("table.list").first  # 经过: every step so far
    await expect(steps.locator("tr", has_text="改派")).to_contain_text("阳光助老服务中心逾期未送餐；原办理期限 ")
    await expect(panel.locator(".badge.warn")).to_have_count(0)  # the new provider has the item's time from now
    await shot(page, "need-reassigned")

    # Closing asks for a reason: refused at the field without one, then closed with it.
    await panel.locator("button:text('关闭需求')").click()
    await expect(panel.locator("[data-pointer='/reason'] .field-error")).to_have_text("「原因」至少要填 1 个字")
    await expect(panel.locator(".need-status")).to_have_text("已派单")
    assert page.errors == [f"422 POST {township.url}/api/v1/needs/{need}/close"]
    page.errors.clear()
    await shot(page, "need-close-refused")
    await panel.locator("input[name=reason]").fill("户主已随子女搬离，不再需要送餐")
    await panel.locator("button:text('关闭需求')").click()
    await expect(panel.locator(".need-status")).to_have_text("已关闭")
    await expect(panel.locator("button:text('关闭需求')")).to_have_count(0)
    await shot(page, "need-closed")

    async with httpx.AsyncClient(base_url=township.url) as client:
        supervisor = await bearer(client, "fieldsupervisor")
        held = (await client.get(f"/api/v1/needs/{need}", headers=supervisor)).json()
    assert (held["status"], held["provider"], held["closed_at"] is not None) == ("closed", kangle, True)
    reassign, close = held["events"]
    assert (reassign["action"], reassign["from_status"], reassign["to_status"], reassign["provider"]) == (
        "reassign", "accepted", "dispatched", kangle)
    assert reassign["detail"]["before"] == sunshine and reassign["reason"] == "阳光助老服务中心逾期未送餐"
    assert reassign["actor_name"] == "fieldsupervisor"
    assert (close["action"], close["from_status"], close["to_status"], close["reason"]) == (
        "close", "dispatched", "closed", "户主已随子女搬离，不再需要送餐")

    # The township's form retired: 停用 asks first; cancelled, nothing changes; confirmed, the form is read-only.
    await page.click("#nav a[data-screen=forms]")
    row = page.locator("tr[data-slug=east_visit]")
    await expect(row.locator(".badge")).to_have_text("已发布 第 1 版")
    await row.locator("a", has_text="城东街道入户走访").click()
    retire = page.locator("#main button.danger", has_text="停用")
    await retire.click()
    dialog = page.locator("dialog.confirm")
    await expect(dialog).to_contain_text("停用「城东街道入户走访」后不再接收新的提交")
    await shot(page, "form-retire-asked")
    await dialog.get_by_role("button", name="取消").click()
    await expect(dialog).to_have_count(0)
    async with httpx.AsyncClient(base_url=township.url) as client:
        assert (await client.get("/api/v1/forms/east_visit", headers=supervisor)).json()["retired"] is False
    await retire.click()
    await dialog.get_by_role("button", name="停用").click()
    await expect(page.locator(".toast")).to_contain_text("表单已停用")
    await expect(page.locator("#main .toolbar .badge")).to_have_text("已停用")
    await expect(page.locator("#main")).to_contain_text("此表单已停用，只能查看。")
    await expect(retire).to_have_count(0)
    await page.click("text=← 全部表单")
    await expect(row.locator(".badge")).to_have_text("已停用")
    await shot(page, "form-retired")
    assert page.errors == []

    # The API says so; the worker's phone drops it at its next sync, and a submission of it is refused at /form.
    async with httpx.AsyncClient(base_url=township.url) as client:
        assert (await client.get("/api/v1/forms/east_visit", headers=supervisor)).json()["retired"] is True
        offered = (await client.get("/api/v1/forms", headers=worker)).json()["items"]
        assert "east_visit" not in [f["slug"] for f in offered] and "home_visit" in [f["slug"] for f in offered]
        synced = (await client.get("/api/v1/sync", params={"since": first_sync["next_cursor"]}, headers=worker)).json()
        assert synced["retired_forms"] == ["east_visit"] and synced["forms"] == []
        started = datetime.now(SHANGHAI) - timedelta(minutes=20)
        body = {"form": "east_visit", "version": 1, "household": seed["household"], "data": {},
                "started_at": started.isoformat(), "finished_at": (started + timedelta(minutes=15)).isoformat()}
        refused = await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=worker)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"] == [{"pointer": "/form", "detail": "该表单已停用，不再接收新的提交"}]


async def test_last_month_is_closed_by_the_township_and_approved_by_the_county_while_this_month_waits(township, desk):
    page, seed = desk, township.seed
    last, this, area = seed["last_month"], seed["this_month"], seed["township"]
    await log_in(page, township.url, "fieldsupervisor")
    await page.click("#nav a[data-screen=reports]")
    await expect(page.locator(".chart canvas").first).to_be_visible()

    # This month, unfinished: the console offers no closing, and the server refuses it.
    await page.select_option("select[name=area]", label="　城东街道")
    await page.click("form.toolbar button[type=submit]")
    closing = page.locator(".closing")
    await expect(closing).to_contain_text(f"{this} 尚未结束，月末之后才能结账")
    await expect(closing.locator("button")).to_have_count(0)
    async with httpx.AsyncClient(base_url=township.url) as client:
        supervisor = await bearer(client, "fieldsupervisor")
        early = await client.post("/api/v1/reports/needs/approvals", json={"area": area, "month": this},
                                  headers=supervisor)
        assert early.status_code == 422 and early.json()["errors"][0]["pointer"] == "/month", early.text

    # Last month (Shanghai's calendar: the need raised 00:30 on this month's first day is not in it), closed.
    await page.select_option("select[name=month]", last)
    await page.click("form.toolbar button[type=submit]")
    await expect(closing).to_contain_text("该月统计尚未结账")
    totals = page.locator(".totals .figure")
    await expect(totals.nth(0)).to_have_text("2提出")
    await expect(totals.nth(3)).to_have_text("1已完成")
    await expect(totals.nth(4)).to_have_text("1逾期")
    by_provider = page.locator("section.card", has=page.locator("h2", has_text="按服务机构"))
    await expect(by_provider.locator("tbody td:first-child")).to_have_text(["阳光助老服务中心", "（未指定）"])
    await shot(page, "month-open")
    await closing.locator("button", has_text="乡镇（街道）审核并结账").click()
    await expect(page.locator(".toast")).to_contain_text("已审核结账")
    await expect(closing).to_contain_text("乡镇（街道）已审核：乡镇（街道）审核于")
    await expect(closing).to_contain_text("该月统计已冻结")
    await expect(closing.locator("button")).to_have_count(0)  # the county's step is the bureau's
    await shot(page, "month-closed")

    # The bureau approves it at the console.
    await page.click("#bar button:text('退出登录')")
    await log_in(page, township.url, "consolebureau")
    await page.click("#nav a[data-screen=reports]")
    await page.select_option("select[name=month]", last)
    await page.select_option("select[name=area]", label="　城东街道")
    await page.click("form.toolbar button[type=submit]")
    await expect(closing).to_contain_text("乡镇（街道）已审核")
    await closing.locator("button", has_text="区（县）审核").click()
    await expect(closing).to_contain_text("区（县）已审核：")
    await expect(closing).to_contain_text("区（县）审核于")
    await expect(closing.locator("button")).to_have_count(0)
    await shot(page, "month-approved")
    assert page.errors == []

    async with httpx.AsyncClient(base_url=township.url) as client:
        bureau = await bearer(client, "consolebureau")
        me = (await client.get("/api/v1/me", headers=bureau)).json()
        report = (await client.get("/api/v1/reports/needs", params={"month": last, "area": area},
                                   headers=supervisor)).json()
        current = (await client.get("/api/v1/reports/needs", params={"month": this, "area": area},
                                    headers=bureau)).json()
    assert report["approval"]["state"] == "county_approved" and report["approval"]["county_by"] == me["id"]
    assert (report["totals"]["raised"], report["totals"]["done"], report["totals"]["overdue"]) == (2, 1, 1)
    assert current["approval"] is None
