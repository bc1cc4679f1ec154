"""The field app's files at /app/: the shell, its modules and its service worker, and `/` that leads to a client.

No build step: the files under static/app/ are served as they are. Each carries a strong ETag (its content's hash),
so a phone revalidates with a 304 instead of downloading again. Every file is `no-cache` (revalidated each time):
the service worker, not the HTTP cache, is what keeps the app for offline use, and a module fresh from the HTTP
cache of an older deploy must never be cached by a newer worker. The worker's cache name is the hash of every file
of the app, so a deploy that changes any of them installs a new worker and replaces the cached shell.
"""

from __future__ import annotations

import gzip
import hashlib
from functools import lru_cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.core.problems import NotFound

STATIC = Path(__file__).parent.parent / "static"
APP = STATIC / "app"
# The expression evaluator is shared with the API page and the vector tests: the app serves the same file.
SHARED = {"logic.js": STATIC / "logic.js"}
TYPES = {
    ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
    ".webmanifest": "application/manifest+json", ".svg": "image/svg+xml", ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
}
# Only our own files; photos from the camera are shown from blob: URLs, the signature pad draws on a canvas.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
       "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")


def _files() -> dict[str, Path]:
    files = {p.relative_to(APP).as_posix(): p for p in sorted(APP.rglob("*")) if p.is_file() and p.suffix in TYPES}
    return files | SHARED


@lru_cache(maxsize=1)
def _bundle() -> tuple[dict[str, tuple[bytes, bytes, str]], str]:
    """Every file of the app with its ETag, and the version of the whole (read once per process: a deploy restarts)."""
    files = {name: path.read_bytes() for name, path in _files().items()}
    version = hashlib.sha256(b"".join(hashlib.sha256(files[n]).digest() for n in sorted(files))).hexdigest()[:12]
    # The worker learns the version and the list of files it caches from its own text.
    shell = sorted(n for n in files if n != "sw.js")
    files["sw.js"] = (files["sw.js"].decode().replace("__VERSION__", version)
                      .replace('"__SHELL__"', ", ".join(f'"/app/{n}"' for n in shell))).encode()
    tagged = {n: tag(body) for n, body in files.items()}  # phones on a weak network get the gzip
    return tagged, version


def first_load() -> dict[str, int]:
    """Each file a first visit downloads (the shell pulls every module, the worker caches them all) with its
    compressed size, as served."""
    return {name: len(packed) for name, (_, packed, _) in _bundle()[0].items()}


async def serve(request: Request) -> Response:
    name = request.path_params.get("path") or "index.html"
    files, _ = _bundle()
    if name not in files:
        raise NotFound("该地址不存在。")
    extra = {"Service-Worker-Allowed": "/app/"} if name == "sw.js" else {}
    return reply_file(request, name, files[name], extra)


def reply_file(request: Request, name: str, entry: tuple[bytes, bytes, str], extra: dict | None = None) -> Response:
    """One file of a client (the field app's or the console's): its ETag per encoding, revalidated every time."""
    body, packed, etag = entry
    if "gzip" in request.headers.get("accept-encoding", ""):  # each encoding its own tag (RFC 9110 8.8.3)
        body, etag = packed, etag[:-1] + '-gz"'
    headers = {
        "ETag": etag,
        "Cache-Control": "no-cache",
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Vary": "Accept-Encoding",
        **(extra or {}),
    }
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    if body is packed:
        headers["Content-Encoding"] = "gzip"
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(body))
        body = b""
    return Response(body, media_type=TYPES[Path(name).suffix], headers=headers)


def tag(body: bytes) -> tuple[bytes, bytes, str]:
    """A file as served: its bytes, compressed once here (no build step, no proxy assumed), and its strong ETag."""
    return body, gzip.compress(body, 9, mtime=0), '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


async def bare_app(request: Request) -> Response:
    return RedirectResponse("/app/", status_code=308)


async def root(request: Request) -> Response:
    """`/` leads to a client. The server does not know who opens `/` (a page load sends no token), so it leads to
    the field app, where phones start; the app's login hands a supervisor, the bureau or an admin on a wide screen
    over to the console (/console/), and the app sends there anyone already logged in to the console."""
    return RedirectResponse("/app/", status_code=302)
