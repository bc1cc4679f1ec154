"""The needs list (需求清单): listing, one need, entering one, its matches and every action of its lifecycle."""

from starlette.requests import Request
from starlette.responses import Response

from server.http.bodies import obj, text, uuid_field
from server.http.responses import ApiResponse
from server.http.routes import accepts, query, replies
from server.http.schemas import CURSOR, SHA256_PATTERN, UUID, reply
from server.http.schemas import query as param
from server.models.needs import STATUSES, URGENCIES
from server.needs import lifecycle, matching, raising, reading

URGENCY = {"title": "紧急程度", "enum": list(URGENCIES)}
CONTACT = text("住户同意提供的联系方式", 100)
ENTER = obj({
    "household": uuid_field("户"),
    "member": uuid_field("相关成员"),
    "item": text("服务项目", 64),
    "urgency": URGENCY,
    "description": text("需求描述", 500),
    "consent": {"type": "boolean", "title": "住户同意向服务机构提供服务所需的信息"},
    "contact": CONTACT,
}, ("household", "item"))
REASON = text("原因", 500)
BODIES = {
    "consent": obj({"consent": {"type": "boolean", "title": "住户是否同意"}, "contact": CONTACT}, ("consent",)),
    "dispatch": obj({"provider": uuid_field("服务机构")}, ("provider",)),
    "reassign": obj({"provider": uuid_field("服务机构"), "reason": REASON}, ("provider", "reason")),
    "accept": None,  # nothing to say: no body is read
    "decline": obj({"reason": REASON}, ("reason",)),
    "start": None,
    "complete": obj({
        "note": text("服务说明", 1000),
        "attachments": {"type": "array", "title": "服务照片", "minItems": 1, "maxItems": 20, "uniqueItems": True,
                        "items": {"type": "string", "title": "照片的 SHA-256", "pattern": SHA256_PATTERN}},
        "confirmation": {"type": "object", "title": "住户确认", "properties": {
            "by": text("确认人", 50),
            "how": {"title": "确认方式", "enum": ["signature", "in_person", "phone"]},
        }, "required": ["by", "how"], "additionalProperties": False},
    }, ("note", "attachments", "confirmation")),
    "evaluate": obj({"rating": {"type": "integer", "title": "评分", "minimum": 1, "maximum": 5},
                     "comment": text("评价", 500)}, ("rating",)),
    "close": obj({"reason": REASON}, ("reason",)),
}
SUMMARIES = {
    "consent": "记录住户是否同意向服务机构提供服务所需的信息和联系方式（派单前）",
    "dispatch": "派单给一家服务该社区（村）、提供该项目且本月尚有名额的服务机构（须住户同意）",
    "reassign": "把逾期的需求改派给另一家服务机构，写明原因",
    "accept": "服务机构接单",
    "decline": "服务机构拒单，写明原因；需求回到待派单",
    "start": "开始服务",
    "complete": "完成服务：服务说明、服务照片（已上传）和住户确认",
    "evaluate": "记录住户对服务的评分（1–5）和评价",
    "close": "写明原因关闭需求（评价前任何时候）",
}


@replies({200: reply("NeedPage")}, params=(
    param("area", "只看此区（县）、乡镇（街道）或社区（村）的需求", UUID, empty_is_absent=True),
    param("status", "只看此状态的需求；open 为未办结的（待派单、已派单、已接单、服务中），overdue 为逾期未办结的",
          {"enum": [*STATUSES, "open", "overdue"]}, empty_is_absent=True),
    param("category", "只看此服务类别的需求", {"type": "string", "minLength": 1, "maxLength": 64,
                                               "pattern": "^[a-z0-9_.-]+$"}, empty_is_absent=True),
    param("month", "只看此月（YYYY-MM，按站点时区）提出的需求", {"type": "string", "pattern": r"^\d{4}-\d{2}$"},
          empty_is_absent=True),
    CURSOR,
))
async def list_needs(request: Request) -> Response:
    """查看需求清单：按区域、状态、类别和月份筛选，新的在前"""
    page = await reading.list_needs(request.user, request.app.state.settings,
                                    query(request, "area", "status", "category", "month"),
                                    request.query_params.get("cursor"))
    return ApiResponse(page.as_api())


@replies({201: reply("NeedDetail", "已录入的需求")})
@accepts(ENTER)
async def enter_need(request: Request, body: dict) -> Response:
    """录入一户的需求（走访之外，如来电、来访）"""
    need = await raising.enter_need(request.user, body)
    return ApiResponse(await reading.need_detail(request.user, need), status_code=201)


@replies({200: reply("NeedDetail")})
async def get_need(request: Request) -> Response:
    """查看一条需求及其每一步操作和服务照片"""
    need = await reading.get_need(request.user, request.path_params["id"])
    return ApiResponse(await reading.need_detail(request.user, need))


@replies({200: reply("Matches")})
async def list_matches(request: Request) -> Response:
    """为需求排序的服务机构：提供该项目、服务该社区（村）、本月尚有名额，按接单率、办理速度和评分排序并说明理由"""
    return ApiResponse(await matching.matches(request.user, request.app.state.settings, request.path_params["id"]))


def _action_handler(action: str):
    async def handler(request: Request, body: dict | None = None) -> Response:
        need = await lifecycle.act(request.user, request.app.state.settings, request.path_params["id"], action,
                                   body or {})
        return ApiResponse(await reading.need_detail(request.user, need))

    handler.__name__ = handler.__qualname__ = f"{action}_need"
    if BODIES[action] is not None:
        handler = accepts(BODIES[action])(handler)
    handler = replies({200: reply("NeedDetail", "操作后的需求")})(handler)
    handler.__doc__ = SUMMARIES[action]
    return handler


ACTIONS = {action: _action_handler(action) for action in lifecycle.TRANSITIONS}
