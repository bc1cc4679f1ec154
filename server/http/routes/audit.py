from starlette.requests import Request
from starlette.responses import Response

from server.core import audit
from server.http.responses import ApiResponse
from server.http.routes import query


async def list_events(request: Request) -> Response:
    """Who read, changed, revealed or exported what (admin and bureau)."""
    filters = query(request, "actor", "household", "action")
    page = await audit.list_events(request.user, filters, request.query_params.get("cursor"))
    return ApiResponse(page.as_api())
