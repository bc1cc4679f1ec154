"""The field app in a real browser (Debian's Chromium driven by Playwright) against a real server process: a phone
that logs in, syncs, loses the network, finds a household, fills a home visit with photos, and sends it all once the
network is back. Screenshots go to test-artifacts/field-app/."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import os
import re
import subprocess
import sys

import httpx
import pytest
from PIL import Image
from playwright.async_api import Error as PlaywrightError, async_playwright, expect

from factories import PASSWORD, economic_survey, id_number
from forms.library import builtin_forms
from test_crash import DATABASE_URL, ON_POSTGRES, REPO, Server

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
PHOTOS = REPO.parent / "shared" / "photos" / "gps"
SHOTS = REPO / "test-artifacts" / "field-app"
FAILURES = REPO / "test-artifacts" / "failures"
TIMEOUT = 20_000
HOME_VISIT_PAGES = next(f for f in builtin_forms() if f["slug"] == "home_visit")["ui"]["pages"]
expect.set_options(timeout=TIMEOUT)


async def vector_table(page, server, name: str) -> dict:
    """A table of tests/forms that the server's tests also run, with the app open so that its modules import."""
    await page.goto(f"{server.url}/app/")
    return json.loads((REPO / "tests" / "forms" / name).read_text())


def helper(env: dict, command: str) -> dict:
    done = subprocess.run([sys.executable, str(REPO / "tests" / "app_helper.py"), command], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
async def server(tmp_path, clean_database):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")} | {
        "DOORSTEP_DATA_DIR": str(tmp_path / "data"),
        "DOORSTEP_DATABASE_URL": DATABASE_URL if ON_POSTGRES else "",
        "DOORSTEP_SECRET": "field-app-test-secret-" + "z" * 32,
        "DOORSTEP_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(REPO),
    }
    running = Server(env)
    running.setup = helper(env, "setup")
    running.env_dir = tmp_path / "data"
    await running.start()
    yield running
    running.stop()


def provoked(response) -> bool:
    """What the tests provoke on purpose: a 422, and the 404 of a HEAD asking whether a photo is there yet."""
    return response.status == 422 or response.request.method == "HEAD"


async def open_page(browser, width: int, height: int, tolerate=provoked, **options):
    """A zh-CN page on Shanghai's time at the given viewport. `page.errors` collects every script error, every error
    the page logs (but failed loads: offline fetches are judged by their responses) and every response at or over
    400 that is not tolerated: any of them is a fault."""
    context = await browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                        timezone_id="Asia/Shanghai", **options)
    context.set_default_timeout(TIMEOUT)
    page = await context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and "Failed to load resource" not in m.text
            and page.errors.append(m.text))
    page.on("response", lambda r: r.status >= 400 and not tolerate(r)
            and page.errors.append(f"{r.status} {r.request.method} {r.url}"))
    return context, page


async def shoot_if_failed(request, browser) -> None:
    """A test that failed leaves a screenshot of every page it had open, in test-artifacts/failures/."""
    report = getattr(request.node, "report_call", None)
    if report is None or not report.failed:
        return
    FAILURES.mkdir(parents=True, exist_ok=True)
    pages = [page for context in browser.contexts for page in context.pages]
    for i, page in enumerate(pages):
        try:
            await page.screenshot(path=str(FAILURES / f"{request.node.name[:150]}-{i}.png"), full_page=True)
        except PlaywrightError:  # a page the test closed or crashed: nothing to show
            pass


@pytest.fixture
async def phone(server, request):
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield await open_page(browser, 360, 740, permissions=["geolocation"],
                              geolocation={"latitude": 28.1941, "longitude": 112.9823, "accuracy": 20})
        await shoot_if_failed(request, browser)
        await browser.close()


async def shot(page, name: str) -> None:
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def choose(page, pointer: str, label: str) -> None:
    await page.locator(f"[data-pointer='{pointer}']").get_by_label(label, exact=True).check()


async def log_in(page, base: str) -> None:
    await page.goto(f"{base}/app/")
    await page.fill("input[name=username]", "fieldworker")
    await page.fill("input[name=password]", PASSWORD)
    await shot(page, "01-login")
    await page.click("button[type=submit]")
    await expect(page.get_by_text("张秀英")).to_be_visible()
    await page.evaluate("navigator.serviceWorker.ready.then(() => true)")


async def test_a_home_visit_filled_offline_is_sent_once_with_its_photos_when_the_network_returns(server, phone):
    context, page = phone
    await log_in(page, server.url)
    await shot(page, "02-households")

    # Offline: the app reloads from its service worker and finds a household by its pinyin initials.
    await context.set_offline(True)
    await page.reload()
    await page.fill("input[type=search]", "zxy")
    await expect(page.locator("a.card")).to_have_count(1)
    await expect(page.locator("a.card")).to_contain_text("张秀英")
    await shot(page, "03-search-offline")
    await page.click("a.card")
    await expect(page.get_by_text("离线：联网后可查看走访记录。")).to_be_visible()
    await shot(page, "04-household-offline")

    # The home visit, page 1: the photo questions appear only for a visit on site.
    await page.click("text=入户走访记录")
    await expect(page.locator("[data-pointer='/door_photo']")).to_be_hidden()
    await choose(page, "/visit_type", "常规走访")
    await choose(page, "/visit_mode", "入户")
    await expect(page.locator("[data-pointer='/door_photo']")).to_be_visible()
    await page.fill("input[name='/visited_at']", "2025-03-18T09:40")
    await page.click("text=获取定位")
    await expect(page.get_by_text("已定位")).to_be_visible()
    photos = [PHOTOS / "DSCN0010.jpg", PHOTOS / "DSCN0012.jpg"]
    await page.set_input_files("input[name='/door_photo']", str(photos[0]))
    await page.set_input_files("input[name='/photos']", [str(p) for p in photos])
    await expect(page.locator("[data-pointer='/photos'] img")).to_have_count(2)
    await expect(page.locator("[data-pointer='/met_relation']")).to_be_hidden()
    await page.fill("input[name='/met_person']", "张秀英")
    await expect(page.locator("[data-pointer='/met_relation']")).to_be_visible()
    await choose(page, "/met_relation", "本人")
    await shot(page, "05-fill-page-1")
    await page.click("text=下一页")

    # Page 2: a required question left empty is refused at its field, in Chinese, before anything is sent.
    await choose(page, "/living_condition", "良好")
    await choose(page, "/health", "良好")
    await choose(page, "/care", "生活自理")
    await page.fill("textarea[name='/observations']", "太短")
    await page.click("text=下一页")
    await expect(page.locator("[data-pointer='/observations'] .err")).to_have_text("至少填写 10 个字")
    await shot(page, "06-fill-error-at-field")
    await page.fill("textarea[name='/observations']", "老人独居，身体尚可，屋内整洁，用电安全。")
    await page.click("text=下一页")

    # Page 3: the needs stay hidden while no need is raised.
    await choose(page, "/has_needs", "否")
    await expect(page.locator("[data-pointer='/needs']")).to_be_hidden()
    await choose(page, "/follow_up", "是")
    await page.fill("input[name='/next_visit_date']", "2025-04-18")
    await page.fill("input[name='/left_at']", "10:25")  # a time, sent with the phone's offset
    await shot(page, "07-fill-page-3")
    await page.get_by_role("button", name="提交", exact=True).click()

    # Pending in the outbox, and still there after a reload without network.
    await expect(page.locator("#main .card[data-state=pending]")).to_have_count(3)
    await page.reload()
    await expect(page.locator("#main .card[data-state=pending]")).to_have_count(3)
    await expect(page.locator("#pending")).to_have_text("3")
    await shot(page, "08-outbox-pending")

    # Back online: everything goes, photos first, and is acknowledged.
    await context.set_offline(False)
    await expect(page.locator("#main .card[data-state=sent]")).to_have_count(3)
    await expect(page.locator("#pending")).to_have_text("")
    await shot(page, "09-outbox-sent")
    await page.click("text=立即发送")  # sending again sends nothing twice
    await page.reload()
    await expect(page.locator("#main .card[data-state=sent]")).to_have_count(3)

    # The file, synced again, shows what the visit observed in the form's words, and the visit itself.
    await page.click("#tabs >> text=走访对象")
    await page.click("a.card:has-text('张秀英')")
    await expect(page.locator("dl.kv")).to_contain_text("健康状况良好")
    await expect(page.get_by_text("走访记录（1）")).to_be_visible()
    await expect(page.locator("#main .card:has-text('待审核')")).to_contain_text("照片 2 张")
    await shot(page, "10-household-after-visit")
    assert page.errors == []

    held = helper(server.env, "verify")
    assert len(held["submissions"]) == 1
    data = held["submissions"][0]["data"]
    assert data["met_person"] == "张秀英" and "needs" not in data and data["next_visit_date"] == "2025-04-18"
    assert data["left_at"] == "10:25:00+08:00"
    assert set(held["attachments"]) == {data["door_photo"], *data["photos"]} and len(held["attachments"]) == 2
    # The stored photos are the phone's re-encoded files, which kept the camera's time and position.
    for sha in held["attachments"]:
        stored = next((server.env_dir / "media" / "originals").rglob(sha)).read_bytes()
        assert hashlib.sha256(stored).hexdigest() == sha
        assert sha not in {hashlib.sha256(p.read_bytes()).hexdigest() for p in photos}
        exif = Image.open(io.BytesIO(stored)).getexif()
        assert exif.get_ifd(0x8769).get(36867, "").startswith("2008:10:22")
        assert exif.get_ifd(0x8825)

    # A supervisor returns it; the worker sees it returned and sends a correction from the app.
    original = held["submissions"][0]["id"]
    async with httpx.AsyncClient(base_url=server.url) as api:
        token = (await api.post("/api/v1/auth/token", json={"username": "fieldsupervisor", "password": PASSWORD})
                 ).json()["access_token"]
        review = await api.post(f"/api/v1/submissions/{original}/review", headers={"Authorization": f"Bearer {token}"},
                                json={"state": "returned", "comment": "请补充接待人的联系方式"})
        assert review.status_code == 200, review.text
    await page.click("#tabs >> text=我的工作")
    await expect(page.get_by_text("退回意见：请补充接待人的联系方式")).to_be_visible()
    await shot(page, "14-work-returned")
    await page.click("#tabs >> text=待发送")
    await expect(page.locator("#main .card[data-kind=submission][data-state=returned]")).to_have_count(1)
    await page.click("#tabs >> text=我的工作")
    await page.click("text=更正后重新提交")
    await expect(page.locator("input[name='/met_person']")).to_have_value("张秀英")
    await page.click("text=下一页")
    await page.fill("textarea[name='/services_given']", "已留下接待人电话：13807312456。")
    await page.click("text=下一页")
    await page.get_by_role("button", name="提交", exact=True).click()
    await expect(page.locator("#main .card[data-kind=submission][data-state=sent]")).to_have_count(1)
    assert page.errors == []
    held = helper(server.env, "verify")
    assert [(s["review"], s["replaces"]) for s in held["submissions"]] == [("replaced", None), ("pending", original)]
    assert held["submissions"][1]["data"]["services_given"].startswith("已留下")


async def fill_phone_visit(page, met_person: str) -> None:
    """The home visit of a visit made by phone: no photo questions."""
    await page.click("text=入户走访记录")
    await choose(page, "/visit_type", "随访")
    await choose(page, "/visit_mode", "电话")
    await expect(page.locator("[data-pointer='/photos']")).to_be_hidden()
    await page.fill("input[name='/visited_at']", "2025-03-18T10:00")
    await page.fill("input[name='/met_person']", met_person)
    await choose(page, "/met_relation", "本人")
    await page.click("text=下一页")
    await choose(page, "/living_condition", "一般")
    await choose(page, "/health", "一般")
    await choose(page, "/care", "家人照料")
    await page.fill("textarea[name='/observations']", "电话随访，老人说近来身体尚可。")
    await page.click("text=下一页")
    # A repeated group, shown once a need is raised: one row, its choice from a list.
    await expect(page.locator("[data-pointer='/needs']")).to_be_hidden()
    await choose(page, "/has_needs", "是")
    await page.click("text=添加需求")
    await page.select_option("select[name='/needs/0/item']", label="养老服务·代买助餐")
    await choose(page, "/needs/0/urgency", "一般")
    await choose(page, "/follow_up", "否")
    await page.get_by_role("button", name="提交", exact=True).click()


async def test_a_household_registered_offline_goes_first_and_a_refusal_is_shown_at_its_field(server, phone):
    context, page = phone
    await log_in(page, server.url)
    await context.set_offline(True)

    await page.click("text=登记新户")
    await page.fill("input[name=head]", "王五")
    await page.fill("input[name=address]", "白竹亭社区 8 组 1 号")
    await shot(page, "11-register-offline")
    await page.click("text=保存")
    await expect(page.locator("h1")).to_have_text("王五")
    # 接待人 in Latin letters: this form's `anyOf` is a rule only the server checks.
    await fill_phone_visit(page, "Wang")
    await expect(page.locator("#main .card[data-state=pending]")).to_have_count(2)

    await context.set_offline(False)
    await expect(page.locator("#main .card[data-kind=household][data-state=sent]")).to_have_count(1)
    refused = page.locator("#main .card[data-kind=submission][data-state=refused]")
    await expect(refused).to_contain_text("/data/met_person")
    await shot(page, "12-outbox-refused")

    # The correction starts at the page and the field the server named, with its message.
    await refused.get_by_text("修改后重发").click()
    field = page.locator("[data-pointer='/met_person']")
    await expect(field).to_have_class(re.compile("bad"))
    assert await field.locator(".err").inner_text()
    await shot(page, "13-refusal-at-field")
    await page.fill("input[name='/met_person']", "王五")
    await expect(field.locator(".err")).to_have_text("")
    for _ in range(2):
        await page.click("text=下一页")
    await page.get_by_role("button", name="提交", exact=True).click()
    await expect(page.locator("#main .card[data-kind=submission][data-state=sent]")).to_have_count(1)
    assert page.errors == []

    held = helper(server.env, "verify")
    registered = [i for i, head in held["households"].items() if head == "王五"]
    assert len(registered) == 1 and len(held["households"]) == 3
    assert [(s["household"], s["data"]["met_person"]) for s in held["submissions"]] == [(registered[0], "王五")]
    assert held["submissions"][0]["data"]["needs"] == [{"item": "elderly.meal_shopping", "urgency": "normal"}]

    # A shared phone: logging out with something unsent asks first; told no, nothing goes; told yes, the phone
    # keeps nothing of this worker (households, files, forms, drafts, outbox, photos, the token).
    await context.set_offline(True)
    await page.click("#tabs >> text=走访对象")
    await page.click("text=登记新户")
    await page.fill("input[name=head]", "赵六")
    await page.fill("input[name=address]", "白竹亭社区 8 组 2 号")
    await page.click("text=保存")
    await expect(page.locator("#pending")).to_have_text("1")
    asked = []

    async def answer(dialog):
        asked.append(dialog.message)
        await (dialog.accept() if len(asked) > 1 else dialog.dismiss())

    page.on("dialog", answer)
    await page.locator("#tabs").get_by_role("link", name="我的", exact=True).click()
    await page.get_by_role("button", name="退出登录").click()
    for _ in range(200):  # the question comes once the phone has tried to send
        if asked:
            break
        await asyncio.sleep(0.05)
    assert asked == ["还有 1 项未发送，退出将从本机删除它们。确定退出吗？"]
    await expect(page.locator("#pending")).to_have_text("1")
    async with page.expect_event("load"):  # logging out wipes, then reloads: read the page after the reload
        await page.get_by_role("button", name="退出登录").click()
    await expect(page.locator("input[name=username]")).to_be_visible()
    left = await page.evaluate("""async () => {
      const db = await import("/app/db.js");
      const left = {};
      for (const name of ["kv", "forms", "households", "files", "drafts", "outbox", "blobs"]) left[name] = (await db.all(name)).length;
      return left;
    }""")
    assert left == dict.fromkeys(["kv", "forms", "households", "files", "drafts", "outbox", "blobs"], 0), left
    assert len(asked) == 2 and page.errors == []


async def test_the_expression_vectors_hold_in_this_browser(server, phone):
    _, page = phone
    table = await vector_table(page, server, "logic_vectors.json")
    failed = await page.evaluate("""async (table) => {
      const { evaluate, jsonEqual } = await import("/app/logic.js");
      const failed = [];
      for (const v of table.vectors) {
        let got;
        try { got = evaluate(v.logic, v.data ?? table.household, v.rows || [], v.context || {}, v.owner || ""); }
        catch (e) { got = `error: ${e.message}`; }
        if (!jsonEqual(got, v.result)) failed.push([v.name, v.result, got]);
      }
      return failed;
    }""", table)
    assert len(table["vectors"]) > 50 and failed == []


async def test_the_format_vectors_hold_in_this_browser_and_the_phone_checks_answers_with_them(server, phone):
    _, page = phone
    table = await vector_table(page, server, "format_vectors.json")
    failed = await page.evaluate("""async (table) => {
      const { formatProblem } = await import("/app/form/formats.js");
      return table.vectors.filter((v) => (formatProblem(v.format, v.value) === null) !== v.valid)
        .map((v) => [v.format, v.value, v.valid]);
    }""", table)
    assert len(table["vectors"]) > 40 and failed == []

    # The phone's check of one answer uses them, and patterns and exclusive bounds, in the server's words.
    schema = {"type": "object", "properties": {
        "id_number": {"type": "string", "format": "cn-id-number", "title": "身份证号"},
        "phone": {"type": "string", "format": "cn-mobile", "title": "联系电话"},
        "code": {"type": "string", "pattern": "^[A-Z]{2}[0-9]{4}$", "title": "编码"},
        "area": {"type": "number", "exclusiveMinimum": 0, "title": "住房面积"}}}
    found = await page.evaluate("""async (schema) => {
      const { checkQuestion } = await import("/app/form/check.js");
      const answers = [["/id_number", "430102195803121230"], ["/id_number", "430102********1238"],
        ["/phone", "１３８０７３１２４５６"], ["/phone", "13807312456"], ["/code", "ab1234"], ["/code", "AB1234"],
        ["/area", 0], ["/area", 0.5]];
      return answers.map(([q, value]) => checkQuestion({}, schema, q, [], { [q.slice(1)]: value }));
    }""", schema)
    assert found == ["身份证号校验位错误", None, "不是有效的手机号码", None, "填写格式不正确", None, "应大于 0", None]


async def test_the_schema_vectors_hold_in_this_browser_and_the_phone_checks_a_whole_form_with_them(server, phone):
    _, page = phone
    table = await vector_table(page, server, "schema_vectors.json")
    failed = await page.evaluate("""async (table) => {
      const { schemaProblems } = await import("/app/form/schema.js");
      const failed = [];
      for (const v of table.vectors) {
        const got = schemaProblems(v.schema, v.data);
        if (JSON.stringify(got) !== JSON.stringify(v.errors)) failed.push([v.name, v.errors, got]);
      }
      return failed;
    }""", table)
    assert len(table["vectors"]) >= 20 and failed == []

    # Before sending, the whole form is checked with them: the missing employer lands on its page and field.
    version = {"schema": table["vectors"][0]["schema"], "ui": {}}
    errors = await page.evaluate("""async (version) => {
      const { checkAll } = await import("/app/form/check.js");
      const pages = [{ questions: ["/has_job"] }, { questions: ["/employer"] }];
      return [checkAll(version, pages, { has_job: true }, true), checkAll(version, pages, { has_job: true }, false)];
    }""", version)
    assert errors == [[{"pointer": "/employer", "detail": "缺少必填项「工作单位」", "page": 1}], []]


async def test_the_prefill_vectors_hold_in_this_browser(server, phone):
    _, page = phone
    table = await vector_table(page, server, "prefill_vectors.json")
    builtin = {form["slug"]: form for form in builtin_forms()}
    failed = await page.evaluate("""async ([table, builtin]) => {
      const { prefill } = await import("/app/form/prefill.js");
      const { jsonEqual } = await import("/app/logic.js");
      const failed = [];
      for (const v of table.vectors) {
        const form = v.form ? builtin[v.form] : { schema: v.schema, ui: v.ui };
        let got;
        try { got = prefill(form, table.households[v.household], table.today); } catch (e) { got = `error: ${e.message}`; }
        if (!jsonEqual(got, v.result)) failed.push([v.name, v.result, got]);
      }
      return failed;
    }""", [table, builtin])
    assert len(table["vectors"]) >= 30 and failed == []


async def test_a_shrunk_photo_is_upright_and_says_so_in_its_exif(server, phone):
    _, page = phone
    await page.goto(f"{server.url}/app/")
    folder = REPO.parent / "shared" / "photos" / "orientation"
    upright = Image.open(folder / "landscape_1.jpg").convert("L").resize((60, 45)).tobytes()
    for turned in (3, 6, 8):
        shrunk = await page.evaluate("""async (b64) => {
          const { shrink } = await import("/app/photo.js");
          const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
          const out = new Uint8Array(await (await shrink(new File([bytes], "p.jpg", { type: "image/jpeg" }))).arrayBuffer());
          let s = ""; for (const b of out) s += String.fromCharCode(b);
          return btoa(s);
        }""", base64.b64encode((folder / f"landscape_{turned}.jpg").read_bytes()).decode())
        image = Image.open(io.BytesIO(base64.b64decode(shrunk)))
        assert image.size == (600, 450) and image.getexif().get(0x0112) == 1, turned
        # It looks as the upright original does.
        pixels = zip(image.convert("L").resize((60, 45)).tobytes(), upright)
        assert sum(abs(a - b) for a, b in pixels) / (60 * 45) < 12, turned


async def open_draft_page(page, number: int) -> None:
    """The draft being filled, shown at its page `number` (the pages before it are not filled here)."""
    await page.evaluate("""async (number) => {
      const db = await import("/app/db.js");
      const draft = (await db.all("drafts")).sort((a, b) => a.started_at.localeCompare(b.started_at)).at(-1);
      await db.put("drafts", { ...draft, page: number });
      location.hash = "#/";
      location.hash = `#/fill/${draft.id}`;
    }""", number)


async def test_a_follow_up_visit_offline_starts_from_the_file_on_the_phone(server, phone):
    context, page = phone
    seeded = helper(server.env, "follow_up_seed")
    await log_in(page, server.url)
    await context.set_offline(True)
    await page.click("text=张秀英")
    await page.click("text=家计调查")
    await expect(page.locator("h1")).to_have_text("家计调查")

    # The household's own address, phone and head, where the file's situation has none of them yet.
    await expect(page.locator("input[name='/address']")).to_have_value("白竹亭社区 3 组 12 号")
    await expect(page.locator("input[name='/head_name']")).to_have_value("张秀英")
    await expect(page.locator("input[name='/phone']")).to_have_value("13807312456")
    # Each member a row with its id, so that the survey updates the same member; the ID number is left to type
    # (the phone holds it masked).
    draft = await page.evaluate("""async () => (await (await import("/app/db.js")).all("drafts"))[0].data""")
    assert [(m["id"], m["name"], m.get("id_number")) for m in draft["members"]] == [
        (seeded["members"][0], "张秀英", None), (seeded["members"][1], "张小军", None)]
    await open_draft_page(page, 1)
    await expect(page.locator("input[name='/members/1/name']")).to_have_value("张小军")
    await expect(page.locator("input[name='/members/0/id_number']")).to_have_value("")
    await expect(page.locator("[data-template='/members/*/id']")).to_have_count(0)  # the link, not a question
    await page.fill("input[name='/members/1/name']", "张小俊")  # a name corrected on the doorstep
    draft = await page.evaluate("""async () => (await (await import("/app/db.js")).all("drafts"))[0].data""")
    assert [(m["id"], m["name"]) for m in draft["members"]] == [
        (seeded["members"][0], "张秀英"), (seeded["members"][1], "张小俊")]
    await shot(page, "28-members-prefilled")

    # The home visit starts from the situation as last seen: 健康状况 较差, 照料情况 as the file has it.
    await page.goto(f"{server.url}/app/#/household/{seeded['household']}")
    await page.click("text=入户走访")
    await open_draft_page(page, next(i for i, p in enumerate(HOME_VISIT_PAGES) if "/health" in p["questions"]))
    await expect(page.locator("[data-pointer='/health']").get_by_label("较差", exact=True)).to_be_checked()

    # 儿童一人一档: 父亲情况 is written as a $ref to a definition of the form; its choices are offered all the same.
    await page.goto(f"{server.url}/app/#/household/{seeded['household']}")
    await page.click("text=儿童一人一档")
    await expect(page.locator("input[name='/children/0/name']")).to_have_value("张小军")  # she is 80: not a child
    await expect(page.locator("input[name='/children/1/name']")).to_have_count(0)
    await open_draft_page(page, 1)
    options = page.locator("select[name='/father_status'] option")
    await expect(options).to_have_count(8)  # 请选择 and the seven of the definition
    await page.select_option("select[name='/father_status']", label="外出务工")
    await expect(page.locator("[data-pointer='/father_work_place']")).to_be_visible()  # its show condition holds
    assert page.errors == []


async def test_the_economic_survey_computes_on_the_phone_checks_across_questions_and_the_server_agrees(server, phone):
    context, page = phone
    await log_in(page, server.url)
    await page.click("text=张秀英")
    await page.click("text=家计调查")
    await expect(page.locator("h1")).to_have_text("家计调查")
    # The answers of the first pages as a worker would have left them, household size 3 for 2 members; then the
    # income page, typed here.
    data = economic_survey("") | {"household_size": 3}
    for member in data["members"]:
        member.pop("id", None)
    del data["income"]["per_capita_monthly"]
    await page.evaluate("""async (data) => {
      const db = await import("/app/db.js");
      const draft = (await db.all("drafts"))[0];
      await db.put("drafts", { ...draft, data, page: 2 });
      location.hash = "#/";
      location.hash = `#/fill/${draft.id}`;
    }""", data)
    per_person = page.locator("[data-pointer='/income/per_capita_monthly'] output.calc")
    await expect(per_person).to_have_text("170")  # (2100 + 780 + 1200) / 12 / 2
    await page.fill("input[name='/income/wage']", "1200")
    await expect(per_person).to_have_text("220")
    await expect(page.locator("[data-pointer='/income/total_annual'] output.calc")).to_have_text("5280")
    await shot(page, "21-income-computed")
    for _ in range(2):
        await page.click("text=下一页")
    await page.set_input_files("input[name='/house_photos']", str(PHOTOS / "DSCN0010.jpg"))
    await expect(page.locator("[data-pointer='/house_photos'] img")).to_have_count(1)

    # The designer's check across questions, at its field on the first page, before anything is sent.
    await page.get_by_role("button", name="提交", exact=True).click()
    size = page.locator("[data-pointer='/household_size']")
    await expect(size.locator(".err")).to_have_text("家庭人口数应与成员人数一致")
    await shot(page, "22-check-across-questions")
    # A number past its bound, refused at its field in Chinese before the page can be left.
    await page.fill("input[name='/household_size']", "25")
    await page.click("text=下一页")
    await expect(size.locator(".err")).to_have_text("不能大于 20")
    await page.fill("input[name='/household_size']", "2")
    await expect(size.locator(".err")).to_have_text("")
    for _ in range(3):
        await page.click("text=下一页")
    await page.locator("[data-pointer='/poverty_reasons']").get_by_label("因灾", exact=True).check()  # a checkbox more
    await page.click("text=下一页")

    # The applicant signs on the canvas with a finger (here the mouse): kept as a PNG, sent as an attachment.
    pad = page.locator("[data-pointer='/applicant_signature'] canvas")
    await pad.scroll_into_view_if_needed()
    box = await pad.bounding_box()
    await page.mouse.move(box["x"] + 20, box["y"] + 40)
    await page.mouse.down()
    for i in range(1, 13):
        await page.mouse.move(box["x"] + 20 + i * 22, box["y"] + 40 + (i % 3) * 25, steps=3)
    await page.mouse.up()
    await expect(page.locator("[data-pointer='/applicant_signature']")).to_contain_text("已签名")
    await shot(page, "24-signature")

    # On a slow uplink each photo shows how far its upload has gone (CDP throttles the page's uploads).
    network = await context.new_cdp_session(page)
    await network.send("Network.enable")
    await network.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                            "uploadThroughput": 16 * 1024})
    await page.get_by_role("button", name="提交", exact=True).click()
    await expect(page.locator("#main .card[data-kind=photo][data-state=pending] progress").first).to_have_attribute(
        "value", re.compile(r"^0\.[0-9]*[1-9]"))
    await shot(page, "25-upload-progress")
    await network.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                            "uploadThroughput": -1})
    await expect(page.locator("#main .card[data-kind=submission][data-state=sent]")).to_have_count(1)
    assert page.errors == []

    [stored] = helper(server.env, "verify")["submissions"]
    assert stored["data"]["poverty_reasons"] == ["illness", "disaster"]
    signature = next((server.env_dir / "media" / "originals").rglob(stored["data"]["applicant_signature"])).read_bytes()
    drawn = Image.open(io.BytesIO(signature))
    assert drawn.format == "PNG" and drawn.size == (600, 300)
    assert drawn.convert("RGBA").getextrema()[3][1] == 255  # strokes on a clear canvas
    assert stored["data"]["income"]["per_capita_monthly"] == 220
    assert stored["data"]["income"]["total_annual"] == 5280
    assert not [f for f in stored["flags"] if f.get("kind") == "calculation_differs"], stored["flags"]

    # Returned, then corrected from the reply, whose ID numbers are masked: the head's is left as it is (the server
    # keeps the whole number), a member's is retyped in full.
    async with httpx.AsyncClient(base_url=server.url) as api:
        token = (await api.post("/api/v1/auth/token", json={"username": "fieldsupervisor", "password": PASSWORD})
                 ).json()["access_token"]
        review = await api.post(f"/api/v1/submissions/{stored['id']}/review", json={"state": "returned", "comment": "请核对"},
                                headers={"Authorization": f"Bearer {token}"})
        assert review.status_code == 200, review.text
    await page.click("#tabs >> text=我的工作")
    await page.click("text=更正后重新提交")
    head_number = page.locator("[data-pointer='/head_id_number'] [data-masked]")
    await expect(head_number).to_contain_text("430102********")
    await shot(page, "23-masked-id-number")
    await page.click("text=下一页")
    retyped = id_number("19550807", "140")
    await page.locator("[data-pointer='/members/1/id_number']").get_by_text("重新填写").click()
    # One digit mistyped at the doorstep: the check digit refuses it there, not at upload back in town.
    await page.fill("input[name='/members/1/id_number']", retyped[:16] + str((int(retyped[16]) + 1) % 10) + retyped[17])
    await page.click("text=下一页")
    await expect(page.locator("[data-pointer='/members/1/id_number'] .err")).to_have_text("身份证号校验位错误")
    await shot(page, "23b-id-number-check-digit")
    await page.fill("input[name='/members/1/id_number']", retyped)
    for _ in range(3):
        await page.click("text=下一页")
    await page.get_by_role("button", name="提交", exact=True).click()
    await expect(page.locator("#main .card[data-kind=submission][data-state=sent]")).to_have_count(1)
    assert page.errors == []
    held = helper(server.env, "verify")["submissions"]
    assert [s["review"] for s in held] == ["replaced", "pending"]
    assert held[1]["data"]["head_id_number"] == data["head_id_number"]
    assert [m["id_number"] for m in held[1]["data"]["members"]] == [data["members"][0]["id_number"], retyped]

    # The file's members corrected on the phone: a phone number changed, the masked ID numbers left as shown go back
    # masked (PATCH), and the server keeps the whole ones.
    await page.reload()  # a sync brings the members the survey bound
    await page.goto(f"{server.url}/app/#/households")
    await page.click("a.card:has-text('张秀英')")
    await expect(page.get_by_text("成员（2）")).to_be_visible()
    await page.get_by_role("link", name="更正成员").click()
    spouse = page.locator("#main .card:has(input[name=name][value='王建国'])")
    await expect(spouse.locator("[data-masked]")).to_contain_text("430102********")
    await spouse.locator("input[name=phone]").fill("13807312999")
    await page.fill("textarea[name=reason]", "户主口述：配偶换了手机号")
    await shot(page, "26-correct-members")
    await page.get_by_role("button", name="保存更正").click()
    await page.click("#tabs >> text=待发送")
    await expect(page.locator("#main .card[data-kind=correction][data-state=sent]")).to_have_count(1)
    assert page.errors == []
    stored = helper(server.env, "members")
    assert stored["王建国"]["phone"] == "13807312999" and stored["王建国"]["id_number"] == retyped
    assert stored["李桂兰"]["id_number"] == data["members"][0]["id_number"]


async def test_a_choice_filter_narrows_and_clears_on_the_phone(server, phone):
    _, page = phone
    await page.goto(f"{server.url}/app/")
    got = await page.evaluate("""async () => {
      const { compute, allowed, failedChecks } = await import("/app/form/rules.js");
      const ui = { questions: { "/members/*/level": { filter: { if: [
        { "==": [{ var: "/members/*/type" }, "visual"] }, ["1", "2"], null] } } },
        checks: [{ rule: { "==": [{ var: "/size" }, { count: { var: "/members" } }] }, pointer: "/size", message: "人数不一致" }] };
      const data = { size: 2, members: [{ type: "visual", level: "3" }, { type: "hearing", level: "3" }] };
      return { narrowed: allowed(ui, "/members/*/level", [0], data), open: allowed(ui, "/members/*/level", [1], data),
               computed: compute(ui, data), failed: failedChecks(ui, { size: 3, members: [{}] }) };
    }""")
    assert got["narrowed"] == ["1", "2"] and got["open"] is None
    assert got["computed"]["members"] == [{"type": "visual"}, {"type": "hearing", "level": "3"}]
    assert got["failed"] == [{"pointer": "/size", "template": "/size", "detail": "人数不一致"}]


async def test_my_work_holds_every_open_need_past_the_first_page_of_the_list(server, phone):
    context, page = phone
    oldest = helper(server.env, "many_needs")["oldest"]
    await log_in(page, server.url)
    await page.goto(f"{server.url}/app/#/work")
    cards = page.locator("#main [data-need]")
    await expect(cards).to_have_count(131)
    await expect(cards.nth(0)).to_have_attribute("data-need", oldest)  # on the list's second page; overdue, first
    await context.set_offline(True)
    await page.reload()
    await expect(cards).to_have_count(131)


async def test_needs_are_shown_with_status_and_due_date_on_the_file_and_in_my_work_offline_too(server, phone):
    context, page = phone
    made = helper(server.env, "needs")
    accepted, overdue, done = made["needs"]
    seeded = helper(server.env, "long_file")
    long, due = seeded["赵长档"], seeded["钱一访"]
    await log_in(page, server.url)
    # A file of 300 visits, opened once online, is kept whole on the phone (three pages of 100).
    await page.goto(f"{server.url}/app/#/household/{long['household']}")
    await expect(page.get_by_text("走访记录（300）")).to_be_visible()
    await expect(page.locator("[data-visit]")).to_have_count(30)  # into the page a part at a time
    await page.goto(f"{server.url}/app/#/work")
    cards = page.locator("#main [data-need]")
    await expect(cards).to_have_count(2)  # the open ones only, the overdue one first
    await expect(cards.nth(0)).to_have_attribute("data-need", overdue)
    await expect(cards.nth(0)).to_contain_text("待派单 · 已逾期")
    await expect(cards.nth(1)).to_have_attribute("data-need", accepted)
    await expect(cards.nth(1)).to_contain_text("已接单")
    await expect(cards.nth(1)).to_contain_text("张秀英")
    await shot(page, "31-work-needs")
    await cards.nth(0).click()
    await expect(page.locator("h1")).to_have_text("张秀英")
    await expect(cards).to_have_count(3)
    await expect(page.locator(f"[data-need='{done}']")).to_contain_text("已完成")
    await expect(page.locator(f"[data-need='{overdue}']")).to_contain_text(re.compile(r"应于 \d{4}-\d{2}-\d{2} 前办结"))
    await shot(page, "32-file-needs")

    await context.set_offline(True)
    await page.reload()
    await expect(cards).to_have_count(3)
    await page.goto(f"{server.url}/app/#/work")
    await expect(page.get_by_text("离线：显示上次联网时的内容。")).to_be_visible()
    await expect(cards).to_have_count(2)

    # Offline, the long file shows every visit: the newest at once, the oldest once the list is read to its end.
    await page.goto(f"{server.url}/app/#/household/{long['household']}")
    await expect(page.get_by_text("走访记录（300）")).to_be_visible()
    await expect(page.locator(f"[data-visit='{long['newest']}']")).to_contain_text("2019/10/28")  # day 300
    oldest = page.locator(f"[data-visit='{long['oldest']}']")
    for _ in range(12):
        if await oldest.count():
            break
        # A tap (dispatched: the list grows under the pointer as it scrolls, the observer adding visits too).
        await page.get_by_role("button", name=re.compile("显示更早的走访")).dispatch_event("click")
    await expect(oldest).to_contain_text("2019/1/2")  # day 1
    await expect(page.locator("[data-visit]")).to_have_count(300)
    await expect(page.get_by_role("button", name=re.compile("显示更早的走访"))).to_be_hidden()
    await oldest.scroll_into_view_if_needed()
    await page.screenshot(path=str(SHOTS / "33-long-file-offline.png"))  # the screen, not 300 cards long
    # A household due a visit, never opened: its file was kept ahead after the sync.
    await page.goto(f"{server.url}/app/#/household/{due['household']}")
    await expect(page.get_by_text("走访记录（1）")).to_be_visible()
    await expect(page.locator(f"[data-visit='{due['newest']}']")).to_be_visible()
    assert page.errors == []


async def log_in_as(page, base: str, username: str) -> None:
    await page.goto(f"{base}/app/")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await expect(page.locator("h1")).to_have_text("我的订单")


async def test_a_provider_takes_a_dispatched_need_through_to_done_with_proof_photos(server, phone):
    context, page = phone
    need = helper(server.env, "dispatched")["need"]
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    await log_in_as(page, server.url, "provideruser")
    card = page.locator(f"[data-job='{need}']")
    await expect(card).to_contain_text("已派单")
    await expect(card).to_contain_text("张**")  # masked, and no address
    await expect(card).to_contain_text("13807312456")
    await expect(page.locator("#main")).not_to_contain_text("张秀英")
    await expect(page.locator("#main")).not_to_contain_text("组")
    await expect(page.get_by_role("link", name="走访对象")).to_be_hidden()
    await shot(page, "41-provider-jobs")

    # Offline: the list comes from the phone, the action waits in the outbox.
    await context.set_offline(True)
    await page.reload()
    await expect(card).to_be_visible()
    await card.click()
    await page.get_by_role("button", name="接单").click()
    await expect(page.locator("[data-act=accept]")).to_contain_text("接单：待发送")
    await expect(page.locator("#pending")).to_have_text("1")

    # Back online, the accept reaches the server but its reply is lost: sent again, it is a 409, and the phone reads
    # the need, finds its own accept as the last event, and counts it sent, not refused.
    reached = []

    async def lose_the_reply(route):
        reached.append((await route.fetch()).status)
        await route.abort()

    await page.route("**/api/v1/needs/*/accept", lose_the_reply, times=1)
    await context.set_offline(False)
    await page.evaluate("window.dispatchEvent(new Event('online'))")
    await expect(page.locator("#pending")).to_have_text("", timeout=TIMEOUT)
    assert reached == [200]
    await page.reload()
    await expect(page.locator("[data-act=accept]")).to_contain_text("接单：已发送")
    await page.get_by_role("button", name="开始服务").click()
    await expect(page.locator("[data-act=start]")).to_be_visible()  # queued: only now does an empty count mean sent
    await expect(page.locator("#pending")).to_have_text("")
    await page.goto(f"{server.url}/app/#/jobs")
    await expect(card).to_have_attribute("data-status", "in_service")
    await card.click()

    photo = PHOTOS / "DSCN0010.jpg"
    await page.fill("textarea[name=note]", "已陪同买菜，并整理冰箱")
    await page.fill("input[name=by]", "张秀英")
    await page.select_option("select[name=how]", "in_person")
    await page.set_input_files("input[name=proof]", str(photo))
    await expect(page.locator("form img")).to_have_count(1)
    await shot(page, "42-provider-complete")
    await page.get_by_role("button", name="完成服务").last.click()
    await expect(page.locator("#pending")).to_have_text("")
    await page.goto(f"{server.url}/app/#/outbox")
    await expect(page.locator("[data-kind=need][data-state=sent]")).to_have_count(3)
    await expect(page.locator("[data-kind=photo][data-state=sent]")).to_have_count(1)
    await shot(page, "43-provider-outbox")

    state = helper(server.env, "needs_state")[need]
    assert state["status"] == "done" and len(state["proofs"]) == 1
    # The shrunk photo went up, not the original.
    assert state["proofs"][0] != hashlib.sha256(photo.read_bytes()).hexdigest()
    assert not any("/api/v1/sync" in u or "/api/v1/areas" in u or "/api/v1/households" in u for u in requests)
    assert page.errors == [f"409 POST {server.url}/api/v1/needs/{need}/accept"]  # the resent accept's answer


async def test_a_second_providers_user_sees_nothing_and_a_409_shows_its_reason(server, phone):
    context, page = phone
    need = helper(server.env, "dispatched")["need"]
    await log_in_as(page, server.url, "otherprovider")
    await expect(page.get_by_text("没有派给本机构的需求")).to_be_visible()
    await page.goto(f"{server.url}/app/#/me")
    await expect(page.get_by_role("button", name="立即同步")).to_have_count(0)
    await page.get_by_role("button", name="退出登录").click()
    assert page.errors == []
    async with httpx.AsyncClient(base_url=server.url) as http:
        token = (await http.post("/api/v1/auth/token", json={"username": "provideruser", "password": PASSWORD})).json()
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        assert (await http.get(f"/api/v1/needs/{need}", headers=auth)).status_code == 200

    # The right provider's phone, offline, declines while a colleague online accepts first: the 409's reason shows.
    await page.fill("input[name=username]", "provideruser")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.locator(f"[data-job='{need}']").click()
    await context.set_offline(True)
    await page.fill("textarea[name=reason]", "本周人手不足")
    await page.get_by_role("button", name="拒单").click()
    async with httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.post(f"/api/v1/needs/{need}/accept", headers=auth)).status_code == 200
    await context.set_offline(False)
    await page.evaluate("window.dispatchEvent(new Event('online'))")
    await expect(page.locator("[data-act=decline]")).to_contain_text("被拒绝：该需求当前为「已接单」，不能拒单。")
    await shot(page, "44-provider-409")
    assert [e for e in page.errors if not e.startswith("409 ")] == []
