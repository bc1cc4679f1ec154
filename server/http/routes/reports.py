"""Reports: the needs of an area and a month, as JSON or an XLSX workbook."""

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from server.core import sheets
from server.core.problems import invalid
from server.http.responses import ApiResponse
from server.http.routes import replies
from server.http.schemas import UUID, binary, header, reply
from server.http.schemas import query as param
from server.http.bodies import obj, uuid_field
from server.http.routes import accepts
from server.needs import board, closing, reports

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WORKBOOK = binary((XLSX,), "XLSX 工作簿：按区域、服务类别、服务机构各一张表", {
    "Content-Disposition": header("下载的文件名", {"type": "string", "pattern": "^attachment; filename="})})


@replies({200: reply("NeedsReport") | {"content": reply("NeedsReport")["content"] | WORKBOOK["content"]}}, params=(
    param("area", "统计此区（县）、乡镇（街道）或社区（村）；不给为辖区全部", UUID, empty_is_absent=True),
    param("month", "统计此月（YYYY-MM，按站点时区）提出的需求", {"type": "string", "pattern": r"^\d{4}-\d{2}$"}),
    param("format", "json（默认）或 xlsx 工作簿", {"enum": ["json", "xlsx"]}, empty_is_absent=True),
))
async def needs_report(request: Request) -> Response:
    """需求月度统计（已结账的月份为冻结的统计及其审核情况）：提出、派单、接单、完成、逾期，接单和办结的中位天数；按下一级区域、服务类别和服务机构"""
    area, month = request.query_params.get("area") or None, request.query_params.get("month")
    if not month:
        raise invalid("/month", "请给出要统计的月份（YYYY-MM）")
    report = await closing.report_of(request.user, request.app.state.settings, area, month)
    if request.query_params.get("format") == "xlsx":
        path = await reports.needs_workbook(report, request.user, area, month)
        return StreamingResponse(sheets.read_then_remove(path), media_type=XLSX,
                                 headers={"Content-Disposition": f'attachment; filename="needs-{month}.xlsx"'})
    return ApiResponse(report)


APPROVE = obj({"area": uuid_field("乡镇（街道）"),
               "month": {"type": "string", "title": "月份", "pattern": r"^\d{4}-\d{2}$"}}, ("area", "month"))


@replies({201: reply("NeedsMonth", "乡镇（街道）已审核并冻结"), 200: reply("NeedsMonth", "区（县）已审核")})
@accepts(APPROVE)
async def approve_month(request: Request, body: dict) -> Response:
    """月度结账：月份结束后，乡镇（街道）审核需求统计并冻结，再由区（县）审核"""
    row = await closing.approve_month(request.user, request.app.state.settings, body)
    reply_body = {"area": str(row.area_id), "month": row.month} | closing.approval_as_api(row)
    return ApiResponse(reply_body, status_code=201 if row.state == "township_approved" else 200)


@replies({200: reply("DispatchBoard")}, params=(
    param("area", "只看此区（县）、乡镇（街道）或社区（村）；不给为辖区全部", UUID, empty_is_absent=True),
))
async def dispatch_board(request: Request) -> Response:
    """月调度看板：待派单、调度日（每月 25 日）前到期、逾期的需求，按区域计数，逾期按服务机构计数，并列出最早的若干条"""
    return ApiResponse(await board.dispatch_board(request.user, request.app.state.settings,
                                                  request.query_params.get("area") or None))
