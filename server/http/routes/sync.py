"""Offline sync for the field app: one page of changes, gzipped here when the phone accepts it.

Compressed by the handler rather than left to a proxy: the goal is bytes on a 64 kbit/s link, and a station may run
Doorstep without the nginx of deploy/. Household files are repetitive JSON (the same keys and times in every member),
which gzip takes to about a tenth.
"""

from __future__ import annotations

import gzip

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from server.households import sync
from server.http.responses import ApiResponse
from server.http.routes import query, replies
from server.http.schemas import header, query as param, reply

# Below this a reply is sent as it is: gzip's header and trailer would outweigh what it saves.
GZIP_MIN_BYTES = 512
# A first sync's page of 100 files is about 230 KB, which level 9 takes to 30 KB in ~10 ms (level 6: 3 % larger, a
# few ms faster; the link is what is scarce). Past this size it is compressed in a worker thread, off the event loop.
GZIP_IN_THREAD_BYTES = 64 * 1024
SINCE = param("since", "上次同步回复中的 next_cursor；不给或留空为首次同步（全部）",
              {"type": "string", "pattern": sync.CURSOR_PATTERN}, empty_is_absent=True)
LIMIT = param("limit", f"每页最多条数（户、离开的户、表单），默认 {sync.DEFAULT_LIMIT}",
              {"type": "integer", "minimum": 1, "maximum": sync.MAX_LIMIT}, empty_is_absent=True)
HEADERS = {"Vary": header("回复随 Accept-Encoding 而不同", {"const": "Accept-Encoding"}),
           "Content-Encoding": header("手机接受 gzip 时为 gzip", {"const": "gzip"}, required=False)}


@replies({200: reply("SyncPage", headers=HEADERS)}, params=(SINCE, LIMIT))
async def sync_changes(request: Request) -> Response:
    """离线同步：辖区内自上次同步以来变化的表单、户档案和服务项目目录，分页，可 gzip 压缩"""
    page = await sync.changes_since(request.user, **query(request, "since", "limit"))
    response = ApiResponse(page)
    response.headers["Vary"] = "Accept-Encoding"
    if len(response.body) >= GZIP_MIN_BYTES and accepts_gzip(request.headers.get("accept-encoding", "")):
        body = response.body
        if len(body) > GZIP_IN_THREAD_BYTES:
            response.body = await run_in_threadpool(_gzip, body)
        else:
            response.body = _gzip(body)
        response.headers["Content-Encoding"] = "gzip"
        response.headers["Content-Length"] = str(len(response.body))
    return response


def _gzip(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=9, mtime=0)


def accepts_gzip(header: str) -> bool:
    """Whether Accept-Encoding (RFC 9110 §12.5.3) takes gzip: named, or `*`, with a quality above 0."""
    qualities = {}
    for part in header.lower().split(","):
        name, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for option in params:
            if option.startswith("q="):
                try:
                    quality = float(option[2:])
                except ValueError:
                    quality = 0.0
        qualities[name] = quality
    return qualities.get("gzip", qualities.get("x-gzip", qualities.get("*", 0.0))) > 0
