"""The console's record screens in a real browser (Debian's Chromium driven by Playwright at a 1366×768 desktop)
against a real server process: a supervisor dispatches a need that the provider's user then accepts, drills the
needs report down to a township, reads the permission table and disables a worker; downloads a
ledger that opens again; starts an area export, watches it reach 100 % and downloads it through a cut in the
network; reveals an ID number, which the bureau then finds in the audit log, and resolves a household's conflict;
an admin lifts a worker's login throttle. Screenshots go to test-artifacts/console/."""

from __future__ import annotations

import uuid
import zipfile
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import openpyxl
import pytest
from playwright.async_api import async_playwright, expect

from factories import PASSWORD, economic_survey, id_number, jpeg, sha256_of
from test_crash import REPO
import test_field_app
from test_field_app import ARGS, CHROMIUM, TIMEOUT, helper, open_page, shoot_if_failed

server = test_field_app.server  # the fixture: a real server process

SHOTS = REPO / "test-artifacts" / "console"
SHANGHAI = ZoneInfo("Asia/Shanghai")
expect.set_options(timeout=TIMEOUT)


@pytest.fixture
async def station(server):
    """The field app's district, plus the catalogue, a provider and its user, a need raised with consent, and an
    economic survey of 张秀英's household sent by its worker today (two members with ID numbers, a visit, a line
    on the 低保 ledger)."""
    server.seed = helper(server.env, "console_b_seed")
    async with httpx.AsyncClient(base_url=server.url) as client:
        worker = await bearer(client, "fieldworker")
        photo = jpeg()
        sha = sha256_of(photo)
        put = await client.put(f"/api/v1/attachments/{sha}", content=photo, headers=worker | {"Content-Type": "image/jpeg"})
        assert put.status_code == 201, put.text
        started = datetime.now(SHANGHAI) - timedelta(minutes=30)
        body = {"form": "economic_survey", "version": 1, "household": server.seed["household"],
                "data": economic_survey(str(uuid.uuid4())) | {"house_photos": [sha]},
                "started_at": started.isoformat(), "finished_at": (started + timedelta(minutes=20)).isoformat()}
        sent = await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=worker)
        assert sent.status_code == 201, sent.text
    return server


async def bearer(client: httpx.AsyncClient, username: str) -> dict:
    reply = await client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


@pytest.fixture
async def desk(request):
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        # The console answers its own screens' requests: any status at or over 400 is a fault here.
        _, page = await open_page(browser, 1366, 768, tolerate=lambda response: False, accept_downloads=True)
        yield page
        await shoot_if_failed(request, browser)
        await browser.close()


async def log_in(page, url: str, username: str) -> None:
    await page.goto(f"{url}/console/")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await expect(page.locator("#nav")).to_be_visible()


async def shot(page, name: str) -> None:
    await page.screenshot(path=str(SHOTS / f"records-{name}.png"), full_page=True)


async def test_a_need_dispatched_at_the_console_is_accepted_by_the_providers_user(station, desk):
    page, need = desk, station.seed["need"]
    await log_in(page, station.url, "fieldsupervisor")
    await page.click("#nav a[data-screen=needs]")
    await expect(page.locator(".board h2")).to_contain_text("25")  # the monthly dispatch before the 25th
    await page.locator(f"button[data-need='{need}']").first.click()
    panel = page.locator(f".need[data-need='{need}']")
    await expect(panel.locator(".need-status")).to_have_text("待派单")
    match = panel.locator(f"button[data-provider='{station.seed['provider']}']")
    await expect(panel.locator("ul.reasons li").first).to_contain_text("接单率")  # ranked, with the reasons
    await shot(page, "needs-matches")
    await match.click()
    await expect(page.locator(f".need[data-need='{need}'] .need-status")).to_have_text("已派单")
    assert helper(station.env, "console_b_need") == {"status": "dispatched", "provider": station.seed["provider"]}

    async with httpx.AsyncClient(base_url=station.url) as client:
        provider = await bearer(client, "consoleprovider")
        accepted = await client.post(f"/api/v1/needs/{need}/accept", headers=provider)
        assert accepted.status_code == 200, accepted.text
    await page.reload()
    await expect(page.locator(f".need[data-need='{need}'] .need-status")).to_have_text("已接单")
    await expect(page.locator(f".need[data-need='{need}']")).to_contain_text("阳光助老服务中心")
    await shot(page, "needs-accepted")

    # The month's report, drawn by ECharts, drilled from the supervisor's areas to the township's communities,
    # where the month is closed.
    await page.click("#nav a[data-screen=reports]")
    await expect(page.locator(".chart canvas").first).to_be_visible()
    await page.click("table.list a:text('城东街道')")
    await expect(page.locator("nav.crumbs")).to_contain_text("城东街道")
    await expect(page.locator("section h2", has_text="按社区（村）").first).to_be_visible()
    await expect(page.locator(".closing")).to_contain_text("尚未结账")
    await expect(page.locator(".totals")).to_contain_text("1提出")
    await shot(page, "report-township")

    # People: the permission table in words, and a worker disabled.
    await page.click("#nav a[data-screen=people]")
    await page.click("a:text('权限表')")
    reveal = page.locator("table.list tr", has_text="查看成员完整的身份证号（记入操作日志）")
    await expect(reveal.locator("td")).to_have_text(["查看成员完整的身份证号（记入操作日志）", "✓", "✓", "✓", "", ""])
    await page.click("a:text('用户')")
    await page.click("button[data-user=fieldworker]")
    await page.click("dialog button:text('确定')")
    await expect(page.locator("table.list tr", has_text="fieldworker")).to_contain_text("已停用")
    await shot(page, "people")
    assert page.errors == []


async def test_a_ledger_an_export_cut_and_resumed_and_a_revealed_id_number_the_audit_log_lists(station, desk, tmp_path):
    page = desk
    conflict = helper(station.env, "console_c_conflict")
    await log_in(page, station.url, "fieldsupervisor")

    # The 低保 ledger, downloaded and opened again.
    await page.goto(f"{station.url}/console/#/ledgers?kind=assistance")
    await expect(page.locator("table.list tbody tr")).to_have_count(1)
    async with page.expect_download() as info:
        await page.click("button.download")
    saved = tmp_path / "ledger.xlsx"
    await (await info.value).save_as(saved)
    sheet = openpyxl.load_workbook(saved).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("户主", "户主身份证号", "救助类型") and len(rows) == 2
    assert rows[1][2] == "最低生活保障（低保）" and rows[1][1].endswith("124" + id_number("19580312", "124")[-1])
    await shot(page, "ledger")

    # An export of the township for this month, watched to 100 %, its download cut once and resumed.
    await page.click("#nav a[data-screen=exports]")
    await page.select_option("select[name=area]", label="　城东街道")
    await page.click("form.toolbar button[type=submit]")
    await expect(page.locator(".export .percent")).to_have_text("100 %")
    await expect(page.locator(".export .state")).to_contain_text("已处理 1 / 1 户")
    cut = {"calls": 0}

    async def second_range_fails(route):
        cut["calls"] += 1
        await (route.abort() if cut["calls"] == 2 else route.continue_())
    await page.route("**/api/v1/exports/*/file", second_range_fails)
    await page.click(".export button.download")
    await expect(page.locator(".download-status")).to_contain_text("下载中断于")
    await expect(page.locator(".export button.download")).to_have_text("继续下载")
    await shot(page, "export-cut")
    async with page.expect_download() as info:
        await page.click(".export button.download")
    saved = tmp_path / "export.zip"
    await (await info.value).save_as(saved)
    await expect(page.locator(".download-status")).to_contain_text("SHA-256 校验一致（中断后续传 1 次）")
    assert cut["calls"] >= 4  # ranges, not one request
    with zipfile.ZipFile(saved) as archive:
        assert archive.testzip() is None and archive.namelist()[0] == "导出说明.txt"
        assert any(name.endswith("户档案摘要.pdf") for name in archive.namelist())
    await shot(page, "export-done")

    # A whole ID number revealed on the household file; the console says it is logged.
    await page.click("#nav a[data-screen=households]")
    await page.fill("input[name=q]", "张秀英")
    await page.click("form.toolbar button[type=submit]")
    await page.click("table.list a:text('张秀英')")
    whole = id_number("19580312", "124")
    row = page.locator("table.list tr", has_text="李桂兰")
    await expect(row.locator(".id-number")).to_have_text(whole[:6] + "*" * 8 + whole[-4:])
    await row.locator("button:text('查看完整号码')").click()
    await expect(row.locator(".id-number")).to_have_text(whole)
    await expect(page.locator("[data-role=reveal-note]")).to_contain_text("已记入操作日志")
    await shot(page, "household-reveal")

    # A conflict two offline phones left on the file, in the form's words, resolved: the earlier visit's value put back.
    pending = page.locator(f".conflict[data-conflict='{conflict['conflict']}']")
    await expect(pending).to_contain_text("住房情况：现值「自有住房」")
    await expect(pending).to_contain_text("另一次走访为「租房」")
    await pending.locator("input[name=comment]").fill("电话核实：已搬去租房")
    await pending.locator("button:text('改用另一值')").click()
    await expect(page.locator(".toast")).to_contain_text("住房情况已改用另一值")
    await expect(page.locator(".conflicts")).to_have_count(0)
    # The history says it in the form's words too, not in the stored codes (own → rented).
    put_back = page.locator(".history tr[data-kind=resolved][data-field='/situation/housing'] td")
    await expect(put_back.nth(1)).to_have_text("住房情况")
    await expect(put_back.nth(3)).to_have_text("自有住房")
    await expect(put_back.nth(4)).to_have_text("租房")
    async with httpx.AsyncClient(base_url=station.url) as client:
        supervisor = await bearer(client, "fieldsupervisor")
        household = f"/api/v1/households/{conflict['household']}"
        resolved = (await client.get(f"{household}/conflicts?state=resolved", headers=supervisor)).json()["items"]
        assert [(c["resolution"], c["comment"]) for c in resolved] == [("lost", "电话核实：已搬去租房")]
        assert (await client.get(household, headers=supervisor)).json()["situation"]["housing"] == "rented"

    # The bureau finds the reveal in the audit log.
    await page.click("#bar button:text('退出登录')")
    await expect(page.locator("input[name=username]")).to_be_visible()  # the token is gone
    await log_in(page, station.url, "consolebureau")
    await page.click("#nav a[data-screen=audit]")
    await page.select_option("select[name=action]", "household.id_revealed")
    await page.click("form.toolbar button[type=submit]")
    revealed = page.locator("table.list tbody tr")
    await expect(revealed).to_have_count(1)
    await expect(revealed).to_contain_text("查看完整身份证号")
    await expect(revealed).to_contain_text(station.seed["household"][:8])
    await shot(page, "audit")

    # A worker who mistyped the password five times waits; an admin (every screen in the nav) lifts the throttle.
    async with httpx.AsyncClient(base_url=station.url) as client:
        for _ in range(5):
            await client.post("/api/v1/auth/token", json={"username": "fieldworker", "password": "wrong password"})
        right = {"username": "fieldworker", "password": PASSWORD}
        assert (await client.post("/api/v1/auth/token", json=right)).status_code == 429
        await page.click("#bar button:text('退出登录')")
        await log_in(page, station.url, "consoleadmin")
        await expect(page.locator("#nav a")).to_have_text(
            ["表单设计", "审核", "一户一档", "需求派单", "台账", "报表", "导出", "人员与区域", "审计日志"])
        await page.click("#nav a[data-screen=people]")
        await page.click("a:text('登录限制')")
        await page.locator("table.list tr", has_text="fieldworker").locator("button:text('解除限制')").click()
        await expect(page.locator("#main section.card")).to_contain_text("没有登录限制")
        assert (await client.post("/api/v1/auth/token", json=right)).status_code == 200
    assert page.errors == []
