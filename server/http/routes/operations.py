from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from server.core.problems import NotFound
from server.http import metrics as figures
from server.http import openapi
from server.http.responses import ApiResponse
from server.http.routes import replies
from server.http.schemas import binary, reply
from server.ops import readiness

STATIC = Path(__file__).parent.parent / "static"
# The form-authoring guide lives in the repository's docs/, beside the server package, not inside it: found from a
# checkout or an editable install, absent from a wheel.
FORM_GUIDE = Path(__file__).resolve().parents[3] / "docs" / "forms.md"


@replies({200: reply("Health")})
async def healthz(request: Request) -> Response:
    """进程存活检查"""
    return ApiResponse({"status": "ok"})


@replies({200: reply("Ready")})
async def readyz(request: Request) -> Response:
    """就绪检查：数据库和照片存储均可访问（否则 503）"""
    return ApiResponse(await readiness.check(request.app.state))


@replies({200: binary(("text/plain",), "Prometheus 文本格式的本实例指标")})
async def metrics(request: Request) -> Response:
    """本实例的监控指标（Prometheus）：设了 DOORSTEP_METRICS_TOKEN 时凭该令牌读取，否则只答本机直连的请求"""
    figures.check_reader(request.app.state.settings.metrics_token, request.scope)
    body, media_type = await request.app.state.metrics.exposition(request.app.state)
    return Response(body, headers={"Content-Type": media_type, "Cache-Control": "no-store"})


async def openapi_json(request: Request) -> Response:
    """This API, described as OpenAPI 3.1."""
    return ApiResponse(openapi.describe(request.app.state.operations))


async def api_page(request: Request) -> Response:
    """A readable page of the API, served locally (stations are often offline)."""
    return FileResponse(STATIC / "api.html", media_type="text/html; charset=utf-8")


async def api_page_script(request: Request) -> Response:
    return FileResponse(STATIC / "api.js", media_type="text/javascript; charset=utf-8")


async def form_guide(request: Request) -> Response:
    """The form-authoring guide, linked from the API page (stations are often offline)."""
    if not FORM_GUIDE.is_file():
        raise NotFound("本安装未包含表单设计指南（docs/forms.md）。")
    return FileResponse(FORM_GUIDE, media_type="text/markdown; charset=utf-8")
