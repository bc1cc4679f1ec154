"""Reports: the needs of an area and a month, as JSON or an XLSX workbook."""

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from server.core import sheets
from server.core.problems import invalid
from server.http.responses import ApiResponse
from server.http.routes import replies
from server.http.schemas import UUID, binary, header, reply
from server.http.schemas import query as param
from server.needs import reports

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WORKBOOK = binary((XLSX,), "XLSX 工作簿：按区域、服务类别、服务机构各一张表", {
    "Content-Disposition": header("下载的文件名", {"type": "string", "pattern": "^attachment; filename="})})


@replies({200: reply("NeedsReport") | {"content": reply("NeedsReport")["content"] | WORKBOOK["content"]}}, params=(
    param("area", "统计此区（县）、乡镇（街道）或社区（村）；不给为辖区全部", UUID, empty_is_absent=True),
    param("month", "统计此月（YYYY-MM，按站点时区）提出的需求", {"type": "string", "pattern": r"^\d{4}-\d{2}$"}),
    param("format", "json（默认）或 xlsx 工作簿", {"enum": ["json", "xlsx"]}, empty_is_absent=True),
))
async def needs_report(request: Request) -> Response:
    """需求月度统计：提出、派单、接单、完成、逾期，接单和办结的中位天数；按下一级区域、服务类别和服务机构"""
    area, month = request.query_params.get("area") or None, request.query_params.get("month")
    if not month:
        raise invalid("/month", "请给出要统计的月份（YYYY-MM）")
    settings = request.app.state.settings
    if request.query_params.get("format") == "xlsx":
        path = await reports.needs_workbook(request.user, settings, area, month)
        return StreamingResponse(sheets.read_then_remove(path), media_type=XLSX,
                                 headers={"Content-Disposition": f'attachment; filename="needs-{month}.xlsx"'})
    return ApiResponse(await reports.needs_report(request.user, settings, area, month))
