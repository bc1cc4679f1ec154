"""The station console (/console/): how its files are served, and, in a real browser (Debian's Chromium driven by
Playwright at a 1366×768 desktop) against a real server process, a supervisor who designs a form that the field app
then fills, and reviews what comes back. Screenshots go to test-artifacts/console/."""

from __future__ import annotations

import re

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


def test_the_fields_the_console_names_are_the_servers():
    """The designer's binding targets and the file's field names (screens/_labels.js) are one copy in forms/model.js,
    which must say what forms/bindings.py says."""
    from forms.bindings import MEMBER_FIELDS, MEMBER_TAGS, SITUATION_TARGETS

    model = (console.CONSOLE / "forms" / "model.js").read_text()

    def declared(name: str) -> dict:
        body = re.search(rf"export const {name} = \{{(.*?)\}};", model, re.S).group(1)
        return dict(re.findall(r'(\w+): "([^"]+)"', body))
    assert declared("SITUATION") == SITUATION_TARGETS
    assert declared("MEMBER_FIELDS") == MEMBER_FIELDS
    assert declared("MEMBER_TAGS") == MEMBER_TAGS


# The browser tests: a real server process seeded by tests/app_helper.py, Debian's Chromium at a desktop's size.
import pytest  # noqa: E402
from playwright.async_api import async_playwright, expect  # noqa: E402

from factories import PASSWORD  # noqa: E402
from test_crash import REPO  # noqa: E402
import test_field_app  # noqa: E402
from test_field_app import ARGS, CHROMIUM, PHOTOS, choose, helper, log_in, open_page, shoot_if_failed  # noqa: E402

server = test_field_app.server  # the fixture: a real server process

SHOTS = REPO / "test-artifacts" / "console"


@pytest.fixture
async def browser(request):
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        await shoot_if_failed(request, launched)
        await launched.close()


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
    await expect(page.locator("#main h1")).to_have_text("表单设计")
    await page.click("text=退出登录")
    await expect(page.locator("form.login")).to_be_visible()
    await shot(page, "01-login")
    # A worker who finds the console is sent to the field app.
    await page.fill("input[name=username]", "fieldworker")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await expect(page.get_by_text("打开外勤应用")).to_be_visible()
    assert page.errors == []


async def console_log_in(page, base: str, username: str = "fieldsupervisor") -> None:
    await page.goto(f"{base}/console/")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await expect(page.locator("#nav")).to_be_visible()


async def add_question(page, kind: str, name: str, title: str) -> str:
    """Adds a question of a kind at the end of the form, renames it and titles it; → its template."""
    before = await page.locator(".editor > div > .question").count()
    await page.locator(".editor > .toolbar select").select_option(label=kind)
    await page.click(".editor > .toolbar >> text=添加题目")
    card = page.locator(".editor > div > .question").nth(before)
    await card.locator("input[name$=':name']").fill(name)
    await card.locator("input[name$=':name']").press("Tab")
    await page.fill(f"input[name='/{name}:title']", title)
    return f"/{name}"


async def design_elder_check(page) -> None:
    """A form of four questions: the door photo shown for visits on site, health bound to the household's
    situation, and meal help that raises a need (its catalogue code mistyped)."""
    await page.click("#nav >> text=表单设计")
    await page.fill("input[name=slug]", "elder_check")
    await page.fill("input[name=title]", "独居老人探访")
    await page.click("form.card button[type=submit]")
    await expect(page.locator("h1")).to_have_text("独居老人探访")

    await add_question(page, "单选", "visit_mode", "走访方式")
    await page.fill("textarea[name='/visit_mode:choices']", "onsite 入户\nphone 电话")
    await page.locator("textarea[name='/visit_mode:choices']").press("Tab")
    await page.check("input[name='/visit_mode:required']")
    await add_question(page, "照片（一张）", "door_photo", "门牌照片")
    await page.check("input[name='/door_photo:required']")
    await page.select_option("select[name='/door_photo:show-q']", "/visit_mode")
    await page.fill("input[name='/door_photo:show-value']", "onsite")
    await page.locator("input[name='/door_photo:show-value']").press("Tab")
    await add_question(page, "单选", "health", "健康状况")
    await page.fill("textarea[name='/health:choices']", "good 良好\nfair 一般\npoor 较差")
    await page.locator("textarea[name='/health:choices']").press("Tab")
    await page.select_option("select[name='/schema/properties/health:binding']", label="户情况：健康状况")
    await add_question(page, "是/否", "wants_meals", "需要助餐")
    await page.select_option("select[name='/schema/properties/wants_meals:binding']", label="为“是”时提出需求（服务项目代号）")
    await page.fill("input[name='/schema/properties/wants_meals:binding-value']", "elderly.meal")
    await page.locator("input[name='/schema/properties/wants_meals:binding-value']").press("Tab")

    # The preview is the field app's renderer: the door photo appears once the visit is on site.
    preview = page.locator("#preview")
    await expect(preview.locator("[data-pointer='/visit_mode']")).to_be_visible()
    await expect(preview.locator("[data-pointer='/door_photo']")).to_be_hidden()
    await preview.locator("[data-pointer='/visit_mode']").get_by_label("入户", exact=True).check()
    await expect(preview.locator("[data-pointer='/door_photo']")).to_be_visible()
    await shot(page, "02-designer")


async def test_a_supervisor_designs_a_form_the_field_app_fills_and_reviews_the_visit_and_its_correction(server, browser):
    helper(server.env, "console_a_catalogue")
    _, page = await open_page(browser, 1366, 768)
    await console_log_in(page, server.url)
    await design_elder_check(page)

    # The server refuses the mistyped code: its message is at the question's binding, in the editor.
    await page.get_by_role("button", name="发布", exact=True).click()
    refusal = page.locator(".question[data-template='/wants_meals'] .field-error")
    await expect(refusal).to_contain_text("elderly.meal")
    await expect(page.locator(".problem-summary")).to_be_visible()
    await shot(page, "03-publish-refused")
    await page.fill("input[name='/schema/properties/wants_meals:binding-value']", "elderly.meal_shopping")
    await page.locator("input[name='/schema/properties/wants_meals:binding-value']").press("Tab")
    await page.get_by_role("button", name="发布", exact=True).click()
    await expect(page.locator("h1")).to_have_text("独居老人探访：版本对比")
    await expect(page.locator("table.diff tbody tr")).to_have_count(4)

    # A second version: 健康状况 becomes required; the versions side by side say what changed.
    await page.click("text=← 编辑草稿")
    await page.check("input[name='/health:required']")
    await page.get_by_role("button", name="发布", exact=True).click()
    await expect(page.locator("select[name=right]")).to_have_value("2")
    await expect(page.locator("tr[data-state=changed]")).to_have_attribute("data-template", "/health")
    await expect(page.locator("tr[data-state=changed] td").nth(2).locator("dd.changed")).to_have_text("是")
    await expect(page.locator("tr[data-state=same]")).to_have_count(3)
    await shot(page, "04-versions-compared")
    assert page.errors == []

    # The field app, on a worker's phone, gets the new form with its next sync and fills it.
    _, phone = await open_page(browser, 360, 740, permissions=["geolocation"],
                               geolocation={"latitude": 28.1941, "longitude": 112.9823, "accuracy": 20})
    await log_in(phone, server.url)
    await phone.click("a.card:has-text('张秀英')")
    await phone.click("text=独居老人探访")
    await expect(phone.locator("[data-pointer='/door_photo']")).to_be_hidden()
    await choose(phone, "/visit_mode", "入户")
    await phone.set_input_files("input[name='/door_photo']", str(PHOTOS / "DSCN0010.jpg"))
    await expect(phone.locator("[data-pointer='/door_photo'] img")).to_have_count(1)
    await choose(phone, "/health", "较差")
    await choose(phone, "/wants_meals", "否")
    await phone.get_by_role("button", name="提交", exact=True).click()
    await expect(phone.locator("#main .card[data-kind=submission][data-state=sent]")).to_have_count(1)

    # The supervisor finds it in the queue with its evidence: the door photo was taken far from the home.
    await page.click("#nav >> text=审核")
    rows = page.locator("table.list tr[data-submission]")
    await expect(rows).to_have_count(1)
    await page.check("input[name=flagged]")
    await expect(rows).to_have_count(1)
    await rows.first.locator("a").click()
    figure = page.locator("#detail figure")
    await expect(figure).to_contain_text("门牌照片")
    await expect(figure).to_contain_text("公里")
    await expect(figure).to_contain_text("拍摄于 2008")
    await expect(page.locator("#flags")).to_contain_text("照片拍摄地点距该户登记位置")
    await expect(figure.locator("img")).to_have_attribute("src", re.compile("^blob:"))
    await shot(page, "05-review")
    await page.click("#detail >> button:has-text('退回')")
    await expect(page.locator("#detail .field-error")).to_contain_text("退回时请写明")
    await page.fill("textarea[name=comment]", "健康状况请再核实")
    await page.click("#detail >> button:has-text('退回')")
    await expect(page.locator("#detail .badge")).to_have_text("已退回")

    # The worker corrects it from the app; the console shows the correction against the submission it replaces.
    await phone.click("#tabs >> text=我的工作")
    await expect(phone.get_by_text("退回意见：健康状况请再核实")).to_be_visible()
    await phone.click("text=更正后重新提交")
    await choose(phone, "/health", "一般")
    await phone.get_by_role("button", name="提交", exact=True).click()
    await expect(phone.locator("#main .card[data-kind=submission][data-state=sent]")).to_have_count(1)
    await page.goto(f"{server.url}/console/#/reviews")
    await expect(rows).to_have_count(1)
    await rows.first.locator("a").click()
    await expect(page.locator("#detail")).to_contain_text("答案（与被更正的提交对照）")
    changed = page.locator("#detail tr[data-question='/health']")
    await expect(changed).to_have_class(re.compile("warn"))
    await expect(changed.locator("td")).to_have_text(["健康状况", "较差", "一般"])
    await expect(page.locator("#detail tr[data-question='/visit_mode'] td")).to_have_text(["走访方式", "入户", "入户"])
    await shot(page, "06-correction-against-original")
    await page.select_option("select[name=state]", "all")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0).locator(".badge").first).to_have_text("已被更正")  # in order of arrival
    assert page.errors == [] and phone.errors == []
    held = helper(server.env, "verify")
    assert [(s["review"], s["data"]["health"]) for s in held["submissions"]] == [("replaced", "poor"), ("pending", "fair")]
