"""How the field app's files are served: types, caching, compression, the CSP, the service worker's version, and
the first load's weight."""

from __future__ import annotations

import gzip
import re

from server.http.routes import field_app

FIRST_LOAD_LIMIT = 300 * 1024


async def test_the_shell_is_served_with_its_type_a_csp_and_revalidation(client):
    reply = await client.get("/app/")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert reply.headers["cache-control"] == "no-cache"
    assert "default-src 'self'" in reply.headers["content-security-policy"]
    assert "script-src 'self';" in reply.headers["content-security-policy"]
    assert '<script type="module" src="/app/app.js">' in reply.text
    assert 'lang="zh-CN"' in reply.text
    again = await client.get("/app/", headers={"If-None-Match": reply.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


async def test_each_file_has_its_type_and_is_compressed_for_a_phone_that_accepts_gzip(client):
    for path, kind in [("/app/app.js", "text/javascript"), ("/app/styles.css", "text/css"),
                       ("/app/manifest.webmanifest", "application/manifest+json"), ("/app/logic.js", "text/javascript")]:
        reply = await client.get(path, headers={"Accept-Encoding": "gzip"})
        assert reply.status_code == 200 and reply.headers["content-type"].startswith(kind), path
        assert reply.headers["content-encoding"] == "gzip" and reply.headers["vary"] == "Accept-Encoding"
        plain = await client.get(path, headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers and plain.headers["etag"] != reply.headers["etag"]
    # The app's logic.js is the very evaluator the server's vectors test, not a copy.
    assert (await client.get("/app/logic.js", headers={"Accept-Encoding": "identity"})).content == (
        field_app.STATIC / "logic.js").read_bytes()


async def test_the_service_worker_caches_every_file_of_this_deploy_under_its_version(client):
    reply = await client.get("/app/sw.js", headers={"Accept-Encoding": "identity"})
    assert reply.headers["cache-control"] == "no-cache" and reply.headers["service-worker-allowed"] == "/app/"
    version = re.search(r'const VERSION = "([0-9a-f]{12})"', reply.text)[1]
    cached = set(re.findall(r'"(/app/[^"]*)"', reply.text.split("const SHELL =")[1].split(";")[0]))
    assert cached == {"/app/"} | {f"/app/{name}" for name in field_app.first_load() if name != "sw.js"}
    for path in cached:
        assert (await client.get(path)).status_code == 200, path
    assert version == field_app._bundle()[1]


async def test_the_root_leads_to_the_app_and_an_unknown_file_is_a_problem(client):
    assert (await client.get("/", follow_redirects=False)).headers["location"] == "/app/"
    assert (await client.get("/app", follow_redirects=False)).headers["location"] == "/app/"
    missing = await client.get("/app/nothing.js")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    assert (await client.get("/app/../pyproject.toml")).status_code == 404


def test_the_first_load_stays_under_300_kb_compressed():
    sizes = field_app.first_load()
    total = sum(sizes.values())
    assert total < FIRST_LOAD_LIMIT, sizes
    assert sizes["index.html"] == len(gzip.compress((field_app.APP / "index.html").read_bytes(), 9, mtime=0))
