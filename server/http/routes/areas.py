from starlette.requests import Request
from starlette.responses import Response

from server.http.bodies import obj, text, uuid_field
from server.http.responses import ApiResponse
from server.http.routes import accepts
from server.models import LEVELS
from server.people import areas

CODE = text("区域代码", 32, pattern=r"^[0-9A-Za-z_-]+$")
CREATE = obj(
    {
        "code": CODE,
        "name": text("区域名称", 100),
        "level": {"title": "层级", "enum": list(LEVELS)},
        "parent": {"anyOf": [uuid_field("上级区域"), {"type": "null"}], "title": "上级区域"},
    },
    ("code", "name", "level"),
)
UPDATE = obj({"name": text("区域名称", 100), "parent": uuid_field("上级区域")}, minProperties=1)


async def list_areas(request: Request) -> Response:
    """The areas the caller may see, parents before children."""
    page = await areas.list_areas(request.user, request.query_params.get("cursor"))
    return ApiResponse(page.as_api())


@accepts(CREATE)
async def create_area(request: Request, body: dict) -> Response:
    """Add a county, township or community."""
    area = await areas.create_area(request.user, body)
    return ApiResponse(areas.as_api(area), status_code=201)


async def get_area(request: Request) -> Response:
    """One area."""
    area = await areas.get_area(request.user, request.path_params["id"])
    return ApiResponse(areas.as_api(area))


@accepts(UPDATE)
async def update_area(request: Request, body: dict) -> Response:
    """Rename an area or move it under another parent."""
    area = await areas.update_area(request.user, request.path_params["id"], body)
    return ApiResponse(areas.as_api(area))
