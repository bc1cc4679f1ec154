"""Providers (社会组织) and their supply list (供给清单)."""

from starlette.requests import Request
from starlette.responses import Response

from server.http.bodies import obj, text, uuid_field
from server.http.responses import ApiResponse
from server.http.routes import accepts, replies
from server.http.schemas import CURSOR, reply
from server.needs import supply

CREATE = obj({
    "name": text("服务机构名称", 200),
    "areas": {"type": "array", "title": "服务区域", "minItems": 1, "maxItems": 500, "items": uuid_field("服务区域")},
}, ("name", "areas"))
OFFERS = obj({"offers": {"type": "array", "title": "供给清单", "maxItems": 200, "items": {
    "type": "object", "title": "供给的一项", "properties": {
        "item": text("服务项目", 64),
        "monthly_capacity": {"type": "integer", "title": "每月名额", "minimum": 0, "maximum": 100000},
        "free": {"type": "boolean", "title": "是否免费"},
        "price": text("价格", 100),
        "contact": text("联系方式", 100),
    }, "required": ["item", "monthly_capacity", "free", "contact"], "additionalProperties": False}}}, ("offers",))


@replies({200: reply("ProviderPage")}, params=(CURSOR,))
async def list_providers(request: Request) -> Response:
    """查看服务机构：服务区域和账号（服务机构只看本机构）"""
    page = await supply.list_providers(request.user, request.query_params.get("cursor"))
    return ApiResponse(page.as_api())


@replies({201: reply("Provider", "已新建的服务机构")})
@accepts(CREATE)
async def create_provider(request: Request, body: dict) -> Response:
    """新增服务机构并设定其服务区域（账号在用户管理中创建，角色为 provider）"""
    provider = await supply.create_provider(request.user, body)
    [shown] = await supply.as_api([provider])
    return ApiResponse(shown, status_code=201)


@replies({200: reply("OfferPage")})
async def read_offers(request: Request) -> Response:
    """查看服务机构的供给清单，及本月各项目已派的单数"""
    offers = await supply.read_offers(request.user, request.app.state.settings, request.path_params["id"])
    return ApiResponse({"items": offers, "next_cursor": None})


@replies({200: reply("OfferPage", "替换后的供给清单")})
@accepts(OFFERS)
async def replace_offers(request: Request, body: dict) -> Response:
    """替换服务机构的整份供给清单（由本机构的账号维护）"""
    offers = await supply.replace_offers(request.user, request.app.state.settings, request.path_params["id"], body)
    return ApiResponse({"items": offers, "next_cursor": None})
