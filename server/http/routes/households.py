from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from forms.bindings import MEMBER_FIELDS, MEMBER_TAGS, SITUATION_TARGETS
from server.households import archive, conflicts, corrections, file, history, members, prefill, registry, search
from server.households.corrections import MASKED_ID_NUMBER
from server.households.ledger_rules import KINDS
from server.http.bodies import PRINTABLE, obj, text, uuid_field
from server.http.responses import ApiResponse
from server.http.routes import accepts, query, replies
from server.http.schemas import CURSOR, CURSOR_TEXT, SLUG, UUID, binary, header, query as param, reply

LOCATION = {
    "type": ["object", "null"],
    "title": "位置",
    "properties": {
        "lat": {"type": "number", "title": "纬度", "minimum": -90, "maximum": 90},
        "lon": {"type": "number", "title": "经度", "minimum": -180, "maximum": 180},
    },
    "required": ["lat", "lon"],
    "additionalProperties": False,
}
REGISTER = obj(
    {
        "community": uuid_field("社区（村）"),
        "address": text("住址", 200),
        "head": text("户主", 50),
        "phone": {"anyOf": [text("联系电话", 20, 5, pattern=r"^[0-9+\- ]{5,20}$"), {"type": "null"}], "title": "联系电话"},
        "location": LOCATION,
    },
    ("community", "address", "head"),
)
RESOLVE = obj(
    {
        "keep": {"title": "保留", "enum": ["kept", "lost"]},
        "comment": text("说明", 500, 0),
    },
    ("keep",),
)


def _or_null(schema: dict) -> dict:
    """The value, or null to clear it."""
    return schema | {"type": [schema["type"], "null"]}


def _amount(title: str) -> dict:
    return {"type": ["number", "null"], "title": title, "minimum": 0, "maximum": 100_000_000}


PHONE = {"anyOf": [text("联系电话", 20, 5, pattern=r"^[0-9+\- ]{5,20}$"), {"type": "null"}], "title": "联系电话"}
# Situation and member fields hold the codes of whichever form bound them (forms differ): apart from the few with a
# shape of their own, they are short texts. Null clears one.
SITUATION = {target: _or_null(text(title, 100)) for target, title in SITUATION_TARGETS.items()} | {
    "address": _or_null(text("住址", 200)),
    "phone": PHONE,
    "household_size": {"type": ["integer", "null"], "title": "家庭人口数", "minimum": 1, "maximum": 50},
    "monthly_income": _amount("家庭月收入"),
}
MEMBER = {name: _or_null(text(title, 60)) for name, title in MEMBER_FIELDS.items()} | {
    "id": uuid_field("成员编号"),
    "remove": {"const": True, "title": "移除该成员"},
    "name": text("姓名", 50),
    "birth_date": _or_null({"type": "string", "title": "出生日期", "format": "date"}),
    # A phone sends back the masked number it was shown for a member whose number it did not change: the shape is
    # checked here, whether it stands for the member's stored number by corrections.py (else a 422 at its pointer).
    "id_number": {"type": ["string", "null"], "title": "身份证号", "if": {"type": "string", "pattern": r"\*"},
                  "then": {"title": "身份证号", "pattern": MASKED_ID_NUMBER},
                  "else": {"title": "身份证号", "format": "cn-id-number"}},
    "phone": PHONE,
    "tags": {"type": "array", "title": "标签", "items": {"enum": list(MEMBER_TAGS), "title": "标签"},
             "uniqueItems": True, "maxItems": len(MEMBER_TAGS)},
    "monthly_income": _amount("月收入"),
    "disability_level": {"type": ["string", "integer", "null"], "title": "残疾等级", "minLength": 1, "maxLength": 8,
                         "minimum": 1, "maximum": 4},
}
CORRECT = obj(
    {
        "reason": text("更正原因", 500),
        "address": text("住址", 200),
        "head": text("户主", 50),
        "phone": PHONE,
        "location": LOCATION,
        "community": uuid_field("社区（村）"),
        "situation": {"type": "object", "title": "情况", "properties": SITUATION, "additionalProperties": False},
        "members": {"type": "array", "title": "成员", "maxItems": 50, "items": {
            "type": "object", "title": "成员", "properties": MEMBER, "required": ["id"], "additionalProperties": False}},
    },
    ("reason",),
)


@replies({201: reply("RegisteredHousehold", "已登记（possible_duplicates 列出辖区内疑似重复的户）"),
          200: reply("RegisteredHousehold", "同一内容此前已登记，未重复写入")})
@accepts(REGISTER)
async def register_household(request: Request, body: dict) -> Response:
    """登记入户遇到的新户（编号由手机生成）；重发同一内容即确认；疑似重复的户随回复给出，不拒绝登记"""
    household, created, lookalikes = await registry.register_and_compare(request.user, request.path_params["id"],
                                                                          body)
    return ApiResponse(registry.as_api(household) | {"possible_duplicates": lookalikes},
                       status_code=201 if created else 200)


@replies({200: reply("HouseholdFile")}, params=(
    param("visits_cursor", "上一页回复中 visits 的 next_cursor，取下一页走访；不给或留空为第一页", CURSOR_TEXT,
          empty_is_absent=True),
    param("visits_limit", f"每页走访条数，默认 {file.VISITS_PER_PAGE}（手机离线保存整份档案时一次取 {file.MAX_VISITS_PER_PAGE} 条）",
          {"type": "integer", "minimum": 1, "maximum": file.MAX_VISITS_PER_PAGE}, empty_is_absent=True),
))
async def get_household(request: Request) -> Response:
    """查看户档案：成员、最近观察到的情况、走访（分页）、照片、需求和待处理的冲突"""
    limit = int(request.query_params.get("visits_limit") or file.VISITS_PER_PAGE)
    reply = await file.read_file(request.user, request.path_params["id"], request.query_params.get("visits_cursor"),
                                 thumbnail_url, limit)
    return ApiResponse(reply)


def thumbnail_url(sha256: str) -> str:
    return f"/api/v1/attachments/{sha256}?size=thumb"


@replies({200: reply("HouseholdPage")}, params=(
    param("area", "只看此区（县）、乡镇（街道）或社区（村）的户", UUID, empty_is_absent=True),
    param("q", "姓名或其一部分（也可用拼音全拼或首字母）、住址、电话，或完整的身份证号",
          {"type": "string", "maxLength": search.Q_LENGTH, "pattern": PRINTABLE}, empty_is_absent=True),
    param("ledger", "只看在此台账上的户：elderly（老年人）、children（儿童）、disability（残疾人）、"
          "assistance（低保、特困家庭）", {"enum": list(KINDS)}, empty_is_absent=True),
    param("tag", "只看带有每个所给标签的户（成员的标签，或户的救助类型低保 subsistence_allowance、特困 extreme_hardship）；"
          "可重复（tag=living_alone&tag=disability），也可用逗号分隔",
          {"type": "array", "items": {"enum": list(MEMBER_TAGS)}, "maxItems": len(MEMBER_TAGS)}, empty_is_absent=True),
    CURSOR,
))
async def find_households(request: Request) -> Response:
    """查找可见的户：按区域、台账、标签，按姓名（可用拼音）、住址、电话或身份证号

    A name or part of one (also as pinyin, full or initials), the address, the phone, or a full ID number."""
    filters = query(request, "area", "q", "ledger") | {"tags": request.query_params.getlist("tag")}
    page = await search.find(request.user, request.app.state.settings, filters, request.query_params.get("cursor"))
    return ApiResponse(page.as_api())


@replies({200: reply("ConflictPage")}, params=(
    param("state", "只看未处理（open）或已处理（resolved）的冲突", {"enum": ["open", "resolved"]}, empty_is_absent=True),
    CURSOR,
))
async def list_conflicts(request: Request) -> Response:
    """查看户档案的离线冲突：哪个值保留、哪个被覆盖，督导是否已处理"""
    page = await conflicts.list_conflicts(request.user, request.path_params["id"], **query(request, "state", "cursor"))
    return ApiResponse(page.as_api())


@replies({200: reply("Conflict", "已处理的冲突")})
@accepts(RESOLVE)
async def resolve_conflict(request: Request, body: dict) -> Response:
    """处理冲突：确认保留的值（kept），或恢复被覆盖的值（lost）"""
    conflict = await conflicts.resolve_conflict(request.user, request.app.state.settings, request.path_params["id"],
                                                body)
    return ApiResponse(conflicts.conflict_as_api(conflict))


@replies({200: reply("HouseholdWithMembers", "更正后的户及其成员")})
@accepts(CORRECT)
async def correct_household(request: Request, body: dict) -> Response:
    """更正户档案（须写明原因）：住址、户主、电话、位置、情况、成员；督导可把户迁到辖区内另一个社区（村）"""
    household, living, lookalikes = await corrections.correct(request.user, request.app.state.settings,
                                                              request.path_params["id"], body)
    return ApiResponse(registry.as_api(household, living) | {"possible_duplicates": lookalikes})


@replies({200: reply("HouseholdChangePage")}, params=(CURSOR,))
async def household_history(request: Request) -> Response:
    """户档案的变更历史（新的在前）：走访带来的、被覆盖的、撤回的、督导恢复的和人工更正的（含原因）"""
    page = await history.list_history(request.user, request.path_params["id"], request.query_params.get("cursor"))
    return ApiResponse(page.as_api())


@replies({200: reply("RevealedIdNumber", headers={"Cache-Control": header("不得缓存", {"const": "no-store"})})})
async def reveal_id_number(request: Request) -> Response:
    """查看成员完整的身份证号（督导、民政局；记入操作日志）"""
    member, number = await members.reveal_id_number(request.user, request.path_params["id"])
    return ApiResponse({"member": str(member.id), "household": str(member.household_id), "id_number": number},
                       headers={"Cache-Control": "no-store"})


ARCHIVED = {"Content-Disposition": header("下载的文件名（filename* 为中文名）",
                                          {"type": "string", "pattern": "^attachment; filename="})}


@replies({200: binary(("application/zip",), "ZIP：户档案摘要.pdf、household.json、照片原图和 SHA-256 清单 manifest.txt",
                      ARCHIVED)})
async def archive_household(request: Request) -> Response:
    """导出一户的档案包（ZIP）：可打印的 PDF 摘要、户档案数据、全部照片和校验清单；记入操作日志"""
    made = await archive.archive_household(request.user, request.app.state.archives, request.path_params["id"])
    disposition = f"attachment; filename=\"{made.filename}\"; filename*=UTF-8''{quote(made.title)}"
    return StreamingResponse(made.chunks, media_type="application/zip", headers={"Content-Disposition": disposition})


@replies({200: reply("Prefill")}, params=(
    param("form", "表单标识（slug）", SLUG, required=True),
    param("version", "表单版本号", {"type": "integer", "minimum": 1}, required=True),
))
async def prefill_household(request: Request) -> Response:
    """按表单的预填设置，从户档案生成该户的初始回答（成员带编号；身份证号不预填）"""
    reply = await prefill.prefill(request.user, request.app.state.settings, request.path_params["id"],
                                  request.query_params["form"], int(request.query_params["version"]))
    return ApiResponse(reply)
