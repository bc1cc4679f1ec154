"""Possible duplicates of a household before it is registered, and the merges of two files (and their undoing)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.core.problems import AreaNotFound, invalid
from server.core.scope import get_visible
from server.households import lookalikes, merges, unmerge
from server.http.bodies import PRINTABLE, obj, text, uuid_field
from server.http.responses import ApiResponse
from server.http.routes import accepts, query, replies
from server.http.schemas import DATE, UUID, query as param, reply
from server.models import Area

MERGE = obj({"duplicate": uuid_field("并入的户（合并后标记为已合并）"), "reason": text("合并原因", 500)},
            ("duplicate", "reason"))
UNDO = obj({"reason": text("撤销原因", 500)}, ("reason",))
ID_NUMBER = {"type": "string", "minLength": 18, "maxLength": 18, "format": "cn-id-number"}


@replies({200: reply("PossibleDuplicatePage")}, params=(
    param("community", "要登记的户所在的社区（村）", UUID),
    param("address", "住址", {"type": "string", "maxLength": 200, "pattern": PRINTABLE}, empty_is_absent=True),
    param("head", "户主或成员的姓名（与 birth_date 一起比对）", {"type": "string", "maxLength": 50, "pattern": PRINTABLE},
          empty_is_absent=True),
    param("birth_date", "其出生日期", DATE, empty_is_absent=True),
    param("id_number", "其身份证号（完整）", ID_NUMBER, empty_is_absent=True),
))
async def find_lookalikes(request: Request) -> Response:
    """登记前查找辖区内疑似重复的户：身份证号相同，同社区（村）姓名和出生日期相同，或同社区（村）住址相同"""
    filters = query(request, "community", "address", "head", "birth_date", "id_number")
    if not filters["community"]:
        raise invalid("/community", "请给出要登记的户所在的社区（村）")
    community = await get_visible(request.user, Area, filters["community"], AreaNotFound)
    if community.level != "community":
        raise invalid("/community", "应为社区（村）")
    found = await lookalikes.ask(request.user, request.app.state.settings, community, filters)
    return ApiResponse({"items": found, "next_cursor": None})


@replies({201: reply("Merge", "已合并")})
@accepts(MERGE)
async def merge_households(request: Request, body: dict) -> Response:
    """把同一户的另一份档案并入本户（督导）：走访、照片、需求、冲突和成员都移入本户，可撤销"""
    done = await merges.merge(request.user, request.app.state.settings, request.path_params["id"], body)
    return ApiResponse(await merges.merge_as_api(done), status_code=201)


@replies({200: reply("Merge")})
async def get_merge(request: Request) -> Response:
    """查看一次合并：哪两户、谁、为什么、移入了什么、是否已撤销"""
    return ApiResponse(await merges.merge_as_api(await merges.get_merge(request.user, request.path_params["id"])))


@replies({200: reply("Merge", "已撤销的合并")})
@accepts(UNDO)
async def undo_merge(request: Request, body: dict) -> Response:
    """撤销合并：移入的走访、提交、成员和冲突回到原来的户，两户恢复原样"""
    done = await unmerge.undo(request.user, request.app.state.settings, request.path_params["id"], body)
    return ApiResponse(await merges.merge_as_api(done))
