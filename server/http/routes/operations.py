from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from server.http import openapi
from server.http.responses import ApiResponse
from server.ops import readiness

STATIC = Path(__file__).parent.parent / "static"


async def healthz(request: Request) -> Response:
    """The process is alive."""
    return ApiResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """The database and the photo store are reachable."""
    return ApiResponse(await readiness.check(request.app.state))


async def openapi_json(request: Request) -> Response:
    """This API, described as OpenAPI 3.1."""
    return ApiResponse(openapi.describe(request.app.state.operations))


async def api_page(request: Request) -> Response:
    """A readable page of the API, served locally (stations are often offline)."""
    return FileResponse(STATIC / "api.html", media_type="text/html; charset=utf-8")


async def api_page_script(request: Request) -> Response:
    return FileResponse(STATIC / "api.js", media_type="text/javascript; charset=utf-8")
