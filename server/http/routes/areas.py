from starlette.requests import Request
from starlette.responses import Response

from server.http.bodies import obj, text, uuid_field
from server.http.responses import ApiResponse
from server.http.routes import accepts, replies
from server.http.schemas import CURSOR, reply
from server.models import LEVELS
from server.people import areas, standards

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
STANDARD = obj(
    {
        "kind": {"title": "标准类别", "enum": list(standards.KINDS)},
        "amount": {"type": "number", "title": "每人每月金额（元）", "exclusiveMinimum": 0, "maximum": 100000,
                   "multipleOf": 0.01},
        "effective_from": {"type": "string", "format": "date", "title": "生效日期"},
    },
    ("kind", "amount", "effective_from"),
)
UPDATE = obj({"name": text("区域名称", 100), "parent": uuid_field("上级区域")}, minProperties=1)


@replies({200: reply("AreaPage")}, params=(CURSOR,))
async def list_areas(request: Request) -> Response:
    """查看可见的区域（按代码排序，上级在前）"""
    page = await areas.list_areas(request.user, request.query_params.get("cursor"))
    return ApiResponse(page.as_api())


@replies({201: reply("Area", "已新增的区域")})
@accepts(CREATE)
async def create_area(request: Request, body: dict) -> Response:
    """新增区（县）、乡镇（街道）或社区（村）"""
    area = await areas.create_area(request.user, body)
    return ApiResponse(areas.as_api(area), status_code=201)


@replies({200: reply("Area")})
async def get_area(request: Request) -> Response:
    """查看一个区域"""
    area = await areas.get_area(request.user, request.path_params["id"])
    return ApiResponse(areas.as_api(area))


@replies({200: reply("Area", "修改后的区域")})
@accepts(UPDATE)
async def update_area(request: Request, body: dict) -> Response:
    """改名区域，或调整其上级"""
    area = await areas.update_area(request.user, request.path_params["id"], body)
    return ApiResponse(areas.as_api(area))


@replies({200: reply("AreaStandards")})
async def list_standards(request: Request) -> Response:
    """查看区域的低保、特困供养标准：本区域录入的，以及今天对本区域生效的（含从上级继承的）"""
    found = await standards.list_standards(request.user, request.app.state.settings, request.path_params["id"])
    return ApiResponse(found)


@replies({201: reply("Standard", "已录入的标准")})
@accepts(STANDARD)
async def set_standard(request: Request, body: dict) -> Response:
    """录入区域的一项新标准（每人每月，自生效日期起；下级区域继承；记入操作日志）"""
    standard = await standards.set_standard(request.user, request.app.state.settings, request.path_params["id"],
                                            body)
    return ApiResponse(standards.as_api(standard), status_code=201)
