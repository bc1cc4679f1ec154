from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from server.core.ids import INT_MAX
from server.http.bodies import obj, text, uuid_field
from server.http.responses import ApiResponse
from server.http.routes import accepts, query, replies
from server.http.schemas import CURSOR, REVIEW_STATES, SLUG, TIME, UUID, binary, header, reply
from server.http.schemas import query as param
from server.http.routes.households import LOCATION
from server.intake import export as submission_export
from server.intake import review, store

SHA256 = {"type": "string", "title": "照片 SHA-256", "pattern": "^[0-9a-f]{64}$"}
PUT = obj(
    {
        "form": text("表单", 64),
        "version": {"type": "integer", "title": "表单版本", "minimum": 1, "maximum": INT_MAX},
        "household": uuid_field("户"),
        "data": {"type": "object", "title": "填报内容"},
        "attachments": {
            "type": "array",
            "title": "照片",
            "maxItems": 500,
            "items": {
                "type": "object",
                "title": "照片",
                "properties": {"sha256": SHA256, "pointer": text("照片题目位置", 500, 0)},
                "required": ["sha256", "pointer"],
                "additionalProperties": False,
            },
        },
        "started_at": {"type": "string", "title": "开始时间", "format": "date-time"},
        "finished_at": {"type": "string", "title": "结束时间", "format": "date-time"},
        "location": LOCATION,
        "replaces": uuid_field("被更正的提交"),
    },
    ("form", "version", "household", "data"),
)
REVIEW = obj(
    {
        "state": {"title": "审核结果", "enum": ["approved", "returned"]},
        "comment": {"anyOf": [text("审核意见", 2000, 0), {"type": "null"}], "title": "审核意见"},
    },
    ("state",),
)
XLSX = submission_export.XLSX
EXPORTED = {"Content-Disposition": header("下载的文件名", {"type": "string", "pattern": "^attachment; filename="})}


@replies({201: reply("Submission", "已保存"), 200: reply("Submission", "同一内容此前已保存，未重复写入")})
@accepts(PUT)
async def put_submission(request: Request, body: dict) -> Response:
    """提交为某户填写的表单（编号由手机生成）：新存为 201，重发同一内容为 200"""
    answer, created = await store.put_submission(request.user, request.app.state.settings, request.path_params["id"],
                                                 body)
    return ApiResponse(answer, status_code=201 if created else 200)


@replies({200: reply("Submission")})
async def get_submission(request: Request) -> Response:
    """查看一份提交（被更正的旧版本仍可查看）"""
    return ApiResponse(await review.read_submission(request.user, request.path_params["id"]))


@replies({200: reply("SubmissionPage")}, params=(
    param("form", "只看此表单的提交", SLUG, empty_is_absent=True),
    param("household", "只看此户的提交", UUID, empty_is_absent=True),
    param("area", "只看此区（县）、乡镇（街道）或社区（村）的提交", UUID, empty_is_absent=True),
    param("author", "只看此社工（用户）的提交", UUID, empty_is_absent=True),
    param("flagged", "true 只看有证据提示的提交，false 只看没有的（督导、民政局和管理员）", {"enum": ["true", "false"]},
          empty_is_absent=True),
    param("since", "只看此时间（含）以后收到的提交，RFC 3339 带时区", TIME, empty_is_absent=True),
    param("state", "只看此审核状态的提交", {"enum": list(REVIEW_STATES)}, empty_is_absent=True),
    CURSOR,
))
async def list_submissions(request: Request) -> Response:
    """查看可见的提交（按收到的先后），可按表单、户、区域、社工、证据提示、审核状态或收到时间筛选"""
    filters = query(request, "form", "household", "area", "author", "flagged", "since", "state")
    page = await review.list_submissions(request.user, filters, request.query_params.get("cursor"))
    return ApiResponse(page.as_api())


@replies({200: reply("Submission", "审核后的提交")})
@accepts(REVIEW)
async def review_submission(request: Request, body: dict) -> Response:
    """审核提交：通过，或写明意见退回给社工"""
    return ApiResponse(await review.review(request.user, request.path_params["id"], body))


@replies({200: binary((XLSX, "text/csv"), "XLSX 工作簿（每个重复组一张表），或 CSV 的一张表", EXPORTED)}, params=(
    param("table", "CSV：重复组的名称（例如 members）只导出该组的行；不给或留空为主表", {"type": "string", "maxLength": 500},
          empty_is_absent=True),
))
async def export_submissions(request: Request) -> Response:
    """导出表单各版本的现行提交：XLSX 或 CSV（列名为题目，答案为选项文字）"""
    return await _export(request, request.path_params["format"])


@replies({200: binary(("application/zip",), "ZIP：说明、XLSX 工作簿及其引用的照片原图", EXPORTED)})
async def export_submissions_with_photos(request: Request) -> Response:
    """导出 XLSX 工作簿及其引用的照片，打包为 ZIP（照片单元格链接到包内文件）"""
    return await _export(request, "zip")


async def _export(request: Request, fmt: str) -> Response:
    export = await submission_export.export_submissions(
        request.user, request.app.state.settings, request.app.state.photos, request.path_params["slug"], fmt,
        request.query_params.get("table"),
    )
    disposition = f'attachment; filename="{export.filename}"'
    return StreamingResponse(export.chunks, media_type=export.media_type, headers={"Content-Disposition": disposition})
