"""The console's 一户一档 screen in a real browser (Debian's Chromium driven by Playwright at a 1366×768 desktop)
against a real server process: a supervisor corrects a household file (refused without a reason, at the reason's
field), finds the second file another worker registered for the same household, merges it and undoes the merge;
prints the file's PDF summary, which the console takes out of the archive in the browser, downloads the archive and
resolves a conflict on a member's field.
Each step is checked again through the API or the files. Screenshots go to test-artifacts/console/."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import httpx
import pypdf
import pytest
from playwright.async_api import expect

# desk, server and station are fixtures: pytest finds them by these names, which the tests then take as arguments.
from test_console_records import bearer, desk, log_in, shot, station  # noqa: F401
from test_field_app import helper, server  # noqa: F401

KEEP_BLOBS = """window.keptBlobs = new Map();
const made = URL.createObjectURL;
URL.createObjectURL = (blob) => { const url = made(blob); window.keptBlobs.set(url, blob); return url; };"""


@pytest.fixture
async def lookalike(server):  # noqa: F811
    """The field app's district, with 张秀英 a head member of her file and a second file of her household."""
    server.seed = helper(server.env, "console_h_seed")
    return server


async def test_a_file_corrected_with_a_reason_and_a_lookalike_merged_into_it_and_undone(lookalike, desk):  # noqa: F811
    page, url = desk, lookalike.url
    household, duplicate = lookalike.seed["household"], lookalike.seed["duplicate"]
    await log_in(page, url, "fieldsupervisor")
    await page.goto(f"{url}/console/#/households?id={household}")
    await expect(page.locator("#main h1")).to_have_text("张秀英 户")

    # A correction without a reason is refused by the server; its 422 is shown at the reason.
    correction = page.locator("form.correction")
    await correction.locator("input[name=phone]").fill("13907315678")
    await correction.locator("button[type=submit]").click()
    await expect(correction.locator("label.field[data-pointer='/reason'] .field-error")).to_be_visible()
    await expect(correction.locator("label.field[data-pointer='/phone'] .field-error")).to_have_count(0)
    await shot(page, "households-correction-refused")
    await correction.locator("input[name=reason]").fill("户主本人来电，电话已换号")
    await correction.locator("button[type=submit]").click()
    await expect(page.locator(".toast")).to_contain_text("已更正")
    changed = page.locator(".history tr[data-field='/phone']")
    await expect(changed.locator("td").nth(1)).to_have_text("电话")
    await expect(changed.locator("td").nth(2)).to_have_text("人工更正")
    await expect(changed.locator("td").nth(3)).to_have_text("13807312456")
    await expect(changed.locator("td").nth(4)).to_have_text("13907315678")
    await expect(changed.locator("td").nth(5)).to_have_text("王芳")
    await expect(changed.locator("td").nth(6)).to_have_text("户主本人来电，电话已换号")
    await shot(page, "households-corrected")
    async with httpx.AsyncClient(base_url=url) as client:
        supervisor = await bearer(client, "fieldsupervisor")
        history = (await client.get(f"/api/v1/households/{household}/history", headers=supervisor)).json()
        assert [(c["kind"], c["pointer"], c["old_value"], c["new_value"], c["actor_name"], c["reason"])
                for c in history["items"]] == [
            ("corrected", "/phone", "13807312456", "13907315678", "王芳", "户主本人来电，电话已换号")]
        assert (await client.get(f"/api/v1/households/{household}", headers=supervisor)).json()["phone"] == "13907315678"

    # The second file is found from this one, by the same person born the same day and the same address, and merged.
    duplicates = page.locator("section.duplicates")
    await duplicates.locator("button:text('查找相似档案')").click()
    found = duplicates.locator("table.list tbody tr")
    await expect(found).to_have_count(1)
    await expect(found).to_contain_text("白竹亭社区3组12号")
    await expect(found).to_contain_text("同一社区（村）内住址相同")
    await expect(found).to_contain_text("张秀英")
    await duplicates.locator("input[name=reason]").fill("同一户登记了两次")
    await found.locator("button:text('合并到本档案')").click()
    done = duplicates.locator("p[data-merge]")
    await expect(done).to_contain_text("原因：同一户登记了两次")
    await expect(page.locator("h2:text('成员（2）')")).to_be_visible()  # 张小军 moved in; 张秀英 is one person
    await expect(page.locator(".history tr[data-field='/merged_from'] td").nth(5)).to_have_text("王芳")
    await shot(page, "households-merged")
    merge = await done.get_attribute("data-merge")
    async with httpx.AsyncClient(base_url=url) as client:
        supervisor = await bearer(client, "fieldsupervisor")
        gone = await client.get(f"/api/v1/households/{duplicate}", headers=supervisor)
        assert gone.status_code == 410 and gone.headers["content-type"] == "application/problem+json", gone.text

        # Undone at the console, with a reason: the merged-away file answers again, as it was.
        await duplicates.locator("input[name=reason]").fill("核实后是两户：户主同名同生日")
        await duplicates.locator("button:text('撤销合并')").click()
        await expect(page.locator(".toast")).to_contain_text("已撤销合并")
        await expect(page.locator("h2:text('成员（1）')")).to_be_visible()
        await expect(page.locator(".history tr[data-kind=unmerged]").first).to_contain_text("核实后是两户：户主同名同生日")
        await shot(page, "households-merge-undone")
        back = await client.get(f"/api/v1/households/{duplicate}", headers=supervisor)
        assert back.status_code == 200 and sorted(m["name"] for m in back.json()["members"]) == ["张小军", "张秀英"]
        undone = (await client.get(f"/api/v1/merges/{merge}", headers=supervisor)).json()
        assert undone["undone_at"] and undone["reason"] == "同一户登记了两次"
    # The one refusal the console met is the correction without a reason.
    assert page.errors == [f"422 PATCH {url}/api/v1/households/{household}"]


async def test_the_pdf_summary_printed_from_a_file_and_its_archive_downloaded(station, desk, tmp_path):  # noqa: F811
    page, url, household = desk, station.url, station.seed["household"]
    conflict = helper(station.env, "console_m_conflict")
    # The console's CSP lets the page fetch nothing but its own origin, not even its blobs: the page keeps each
    # blob it makes an address for, and the test reads the summary's bytes from there.
    await page.add_init_script(KEEP_BLOBS)
    await log_in(page, url, "fieldsupervisor")
    await page.goto(f"{url}/console/#/households?id={household}")
    await expect(page.locator("#main h1")).to_have_text("张秀英 户")

    # The summary is taken out of the archive in the page and opened in a tab of its own, a blob of the console's.
    await page.click("button:text('打印摘要（PDF）')")
    async with page.context.expect_page() as opened:
        await page.click("dialog button:text('确定')")
    tab = await opened.value
    await expect(page.locator(".toast")).to_contain_text("摘要已在新标签页打开")
    assert tab.url.startswith(f"blob:{url}/")
    pdf = bytes(json.loads(await page.evaluate(
        "async (url) => JSON.stringify([...new Uint8Array(await window.keptBlobs.get(url).arrayBuffer())])", tab.url)))
    assert pdf.startswith(b"%PDF-")
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "张秀英" in text and "李桂兰" in text
    await tab.close()
    await shot(page, "households-summary-printed")

    # The archive, downloaded: a sound ZIP holding the same summary, the file as JSON and a manifest that matches.
    async with page.expect_download() as info:
        await page.click("button:text('下载档案包')")
    download = await info.value
    assert download.suggested_filename.startswith("户档案_张秀英_") and download.suggested_filename.endswith(".zip")
    saved = tmp_path / "archive.zip"
    await download.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert {"户档案摘要.pdf", "household.json", "manifest.txt"} <= set(names)
        assert any(name.startswith("photos/") for name in names)  # the survey's house photo
        sums = dict(reversed(line.split("  ", 1)) for line in archive.read("manifest.txt").decode().splitlines())
        assert set(sums) == set(names) - {"manifest.txt"}
        for name, sha in sums.items():
            assert hashlib.sha256(archive.read(name)).hexdigest() == sha, name
        assert archive.read("户档案摘要.pdf").startswith(b"%PDF-")
        assert json.loads(archive.read("household.json"))["head"] == "张秀英"

    # A conflict on a member's field, in the words of the form that bound it, resolved: the other value put back.
    pending = page.locator(f".conflict[data-conflict='{conflict['conflict']}']")
    await expect(pending).to_contain_text("李桂兰的健康状况：现值「慢性病」")
    await expect(pending).to_contain_text("另一次走访为「健康」")
    await pending.locator("button:text('改用另一值')").click()
    await expect(page.locator(".toast")).to_contain_text("李桂兰的健康状况已改用另一值")
    await expect(page.locator(".conflicts")).to_have_count(0)
    async with httpx.AsyncClient(base_url=url) as client:
        file = (await client.get(f"/api/v1/households/{household}", headers=await bearer(client, "fieldsupervisor"))).json()
        assert next(m for m in file["members"] if m["id"] == conflict["member"])["health"] == "healthy"
    assert page.errors == []
