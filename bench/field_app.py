"""The field app's figures.

1. First-load weight: every file a first visit downloads (the shell imports every module at start, and the service
   worker caches them all), gzip-compressed as the server sends them, against the 300 KB goal; the same uncompressed
   as the baseline.
2. Opening a household file of 300 visits from IndexedDB (`--browser`): a real server (SQLite, a throwaway data
   folder) seeded by tests/app_helper.py, Debian's Chromium driven by Playwright at 360×740 as the tests drive it.
   The worker logs in and opens the file once online (the phone keeps it whole), then the network goes off and the
   file is opened again and again: each time a fresh navigation to `/app/#/household/{id}`, timed in the page with
   `performance.now()` from the navigation's start to the mark the app sets once the kept file is in the page. The
   baseline, in the same run: a file of one visit, opened the same way.

Run: .venv/bin/python bench/field_app.py [--browser] [--rounds 15]
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from server.http.routes import field_app  # noqa: E402

GOAL = 300 * 1024
CHROMIUM = "/usr/bin/chromium"
MARK = "doorstep:file-shown"  # set by screens/household.js


def weigh() -> dict:
    packed = field_app.first_load()
    plain = {name: len(body) for name, (body, _, _) in field_app._bundle()[0].items()}
    return {"files": len(packed), "gzip": sum(packed.values()), "identity": sum(plain.values()), "by_file": packed}


def helper(env: dict, command: str) -> dict:
    done = subprocess.run([sys.executable, str(ROOT / "tests" / "app_helper.py"), command], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=True)
    return json.loads(done.stdout)


async def until(page, js: str, arg=None) -> None:
    """Wait for the page to say yes (the app's CSP forbids the string evaluation wait_for_function does); the polling
    is outside the timing, which the page measures itself."""
    for _ in range(1000):
        if await page.evaluate(js, arg):
            return
        await asyncio.sleep(0.02)
    raise TimeoutError(js)


async def open_times(rounds: int) -> dict[str, list[float]]:
    from playwright.async_api import async_playwright

    from factories import PASSWORD
    from test_crash import Server

    with tempfile.TemporaryDirectory() as folder:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")} | {
            "DOORSTEP_DATA_DIR": str(Path(folder) / "data"), "DOORSTEP_DATABASE_URL": "",
            "DOORSTEP_SECRET": "field-app-bench-secret-" + "z" * 32, "DOORSTEP_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT)}
        helper(env, "setup")
        files = helper(env, "long_file")
        server = Server(env)
        await server.start()
        try:
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
                context = await browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN",
                                                    timezone_id="Asia/Shanghai")
                page = await context.new_page()
                await page.goto(f"{server.url}/app/")
                await page.fill("input[name=username]", "fieldworker")
                await page.fill("input[name=password]", PASSWORD)
                await page.click("button[type=submit]")
                await page.wait_for_selector("text=张秀英")
                await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
                for made in files.values():  # opened once online: kept whole
                    await page.goto(f"{server.url}/app/#/household/{made['household']}")
                    await page.wait_for_selector(f"[data-visit='{made['newest']}']")
                    await until(page, "id => import('/app/db.js').then(db => db.get('files', id)).then(f => !!f)",
                                made["household"])
                await context.set_offline(True)
                times: dict[str, list[float]] = {head: [] for head in files}
                for _ in range(rounds):
                    for head, made in files.items():
                        await page.goto("about:blank")
                        await page.goto(f"{server.url}/app/#/household/{made['household']}")
                        await until(page, f"() => performance.getEntriesByName('{MARK}').length > 0")
                        times[head].append(await page.evaluate(f"performance.getEntriesByName('{MARK}')[0].startTime"))
                        assert await page.locator(f"[data-visit='{made['newest']}']").count() == 1
                await browser.close()
        finally:
            server.stop()
    return times


def main() -> None:
    figures = weigh()
    for name, size in sorted(figures["by_file"].items(), key=lambda item: -item[1]):
        print(f"  {name:32} {size / 1024:6.1f} KB")
    print(f"首次加载：{figures['files']} 个文件，gzip 后 {figures['gzip'] / 1024:.1f} KB"
          f"（未压缩 {figures['identity'] / 1024:.1f} KB；目标 < {GOAL // 1024} KB）")
    if "--browser" not in sys.argv:
        return
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 15
    times = asyncio.run(open_times(rounds))
    labels = {"赵长档": "300 次走访的户档案", "钱一访": "1 次走访的户档案（基线）"}
    for head, values in times.items():
        values.sort()
        p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
        print(f"离线从 IndexedDB 打开{labels[head]}：中位数 {statistics.median(values):.0f} ms，"
              f"p95 {p95:.0f} ms，最快 {values[0]:.0f} ms（{len(values)} 次，自导航开始计）")


if __name__ == "__main__":
    main()
