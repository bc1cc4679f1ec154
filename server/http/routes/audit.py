from starlette.requests import Request
from starlette.responses import Response

from server.core import audit
from server.http.bodies import PRINTABLE
from server.http.responses import ApiResponse
from server.http.routes import query, replies
from server.http.schemas import CURSOR, UUID, query as param, reply

FILTERS = (
    param("actor", "只看此用户的操作", UUID, empty_is_absent=True),
    param("household", "只看涉及此户的操作", UUID, empty_is_absent=True),
    param("action", "只看此类操作，例如 household.read",
          {"type": "string", "maxLength": audit.ACTION_LENGTH, "pattern": PRINTABLE}, empty_is_absent=True),
    CURSOR,
)


@replies({200: reply("AuditPage")}, params=FILTERS)
async def list_events(request: Request) -> Response:
    """查看操作日志：谁查看、修改、披露或导出了什么（新的在前）"""
    filters = query(request, "actor", "household", "action")
    page = await audit.list_events(request.user, filters, request.query_params.get("cursor"))
    return ApiResponse(page.as_api())
