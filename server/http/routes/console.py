"""The station console's files at /console/: the shell, its screens and its vendored libraries, served as they are.

Served as the field app's files are (field_app.reply_file): a strong ETag per file, `no-cache` so a deploy is seen
at the next load, gzip when the browser takes it, the same CSP. No service worker: the console runs at a station's
PC with the network there. The console also loads the field app's form renderer (/app/form/*.js) for its preview.
"""

from __future__ import annotations

from functools import lru_cache

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.core.problems import NotFound
from server.http.routes.field_app import STATIC, TYPES, reply_file, tag

CONSOLE = STATIC / "console"


@lru_cache(maxsize=1)
def _bundle() -> dict[str, tuple[bytes, bytes, str]]:
    """Every file of the console, read once per process (a deploy restarts)."""
    files = (p for p in sorted(CONSOLE.rglob("*")) if p.is_file() and p.suffix in TYPES)
    return {p.relative_to(CONSOLE).as_posix(): tag(p.read_bytes()) for p in files}


def files() -> dict[str, int]:
    """Each file with its compressed size, as served."""
    return {name: len(packed) for name, (_, packed, _) in _bundle().items()}


async def serve(request: Request) -> Response:
    name = request.path_params.get("path") or "index.html"
    bundle = _bundle()
    if name not in bundle:
        raise NotFound("该地址不存在。")
    return reply_file(request, name, bundle[name])


async def bare_console(request: Request) -> Response:
    return RedirectResponse("/console/", status_code=308)
