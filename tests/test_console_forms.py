"""The station console (/console/): how its files are served, and, in a real browser (Debian's Chromium driven by
Playwright at a 1366×768 desktop) against a real server process, a supervisor who designs a form that the field app
then fills, and reviews what comes back. Screenshots go to test-artifacts/console/."""

from __future__ import annotations

from server.http.routes import console


async def test_the_console_is_served_with_its_type_a_csp_and_revalidation(client):
    assert (await client.get("/console", follow_redirects=False)).headers["location"] == "/console/"
    reply = await client.get("/console/")
    assert reply.status_code == 200 and reply.headers["content-type"] == "text/html; charset=utf-8"
    assert reply.headers["cache-control"] == "no-cache" and "script-src 'self';" in reply.headers["content-security-policy"]
    assert '<script type="module" src="/console/console.js">' in reply.text and 'lang="zh-CN"' in reply.text
    assert (await client.get("/console/", headers={"If-None-Match": reply.headers["etag"]})).status_code == 304
    for name in ("console.js", "api.js", "ui.js", "styles.css", "screens/forms.js", "screens/reviews.js"):
        packed = await client.get(f"/console/{name}", headers={"Accept-Encoding": "gzip"})
        assert packed.status_code == 200 and packed.headers["content-encoding"] == "gzip", name
    assert set(console.files()) >= {"index.html", "console.js", "api.js", "ui.js", "styles.css"}
    missing = await client.get("/console/screens/nothing.js")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    assert (await client.get("/console/../pyproject.toml")).status_code == 404


# The browser tests: a real server process seeded by tests/app_helper.py, Debian's Chromium at a desktop's size.
import os  # noqa: E402

import pytest  # noqa: E402
from playwright.async_api import async_playwright, expect  # noqa: E402

from factories import PASSWORD  # noqa: E402
from test_crash import REPO  # noqa: E402
from test_field_app import ARGS, CHROMIUM, TIMEOUT, helper, server  # noqa: E402,F401 (server: a fixture)

SHOTS = REPO / "test-artifacts" / "console"


@pytest.fixture
async def browser():
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        await launched.close()


async def open_page(browser, width: int, height: int, **options):
    context = await browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                        timezone_id="Asia/Shanghai", **options)
    context.set_default_timeout(TIMEOUT)
    page = await context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and "Failed to load resource" not in m.text
            and page.errors.append(m.text))
    # 422s are what the tests provoke; anything else at or over 400 is a fault.
    page.on("response", lambda r: r.status >= 400 and r.status != 422 and page.errors.append(
        f"{r.status} {r.request.method} {r.url}"))
    return context, page


async def shot(page, name: str) -> None:
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def test_a_supervisor_at_the_station_pc_is_led_from_the_root_to_the_console_and_back(server, browser):
    _, page = await open_page(browser, 1366, 768)
    await page.goto(f"{server.url}/")
    await page.fill("input[name=username]", "fieldsupervisor")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await expect(page).to_have_url(f"{server.url}/console/#/forms")
    nav = page.locator("#nav a")
    await expect(nav).to_have_text(["表单设计", "审核", "一户一档", "需求派单", "台账", "报表", "导出", "人员与区域"])
    await expect(page.locator("#bar")).to_contain_text("督导")
    # A screen that is not there says so in the main area; the nav still works.
    await page.goto(f"{server.url}/console/#/nothing")
    await expect(page.locator("#main")).to_contain_text("没有这一页")
    await page.click("#nav >> text=审核")
    await expect(page.locator("#nav a.on")).to_have_text("审核")
    # Opening the root again goes to the console, logged in; 外勤应用 opens the field app's login and stays there.
    await page.goto(f"{server.url}/")
    await expect(page.locator("#nav")).to_be_visible()
    await page.click("#bar >> text=外勤应用")
    await expect(page.locator("input[name=username]")).to_be_visible()
    assert page.url.startswith(f"{server.url}/app/?field")
    await page.goto(f"{server.url}/console/")
    await page.click("text=退出登录")
    await expect(page.locator("form.login")).to_be_visible()
    await shot(page, "01-login")
    # A worker who finds the console is sent to the field app.
    await page.fill("input[name=username]", "fieldworker")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await expect(page.get_by_text("打开外勤应用")).to_be_visible()
    assert page.errors == []
