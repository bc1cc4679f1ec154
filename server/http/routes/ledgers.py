from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from server.households import ledger_export, ledger_rules, ledgers, visit_plans
from server.http.responses import ApiResponse
from server.http.routes import query, replies
from server.http.schemas import CURSOR, UUID, binary, header, path, reply
from server.http.schemas import query as param

KIND = path("kind", "台账种类：elderly 老年人，children 儿童，disability 残疾人，assistance 低保、特困家庭",
            {"enum": list(ledger_rules.KINDS)})
AREA = param("area", "只看此区（县）、乡镇（街道）或社区（村）", UUID, empty_is_absent=True)
WORKBOOK = binary((ledger_export.XLSX,), "XLSX 工作簿：中文表头，首行冻结，身份证号脱敏", {
    "Content-Disposition": header("下载的文件名", {"type": "string", "pattern": "^attachment; filename="})})


@replies({200: reply("LedgerPage") | {"content": reply("LedgerPage")["content"] | WORKBOOK["content"]}}, params=(
    KIND, AREA,
    param("format", "json（默认）分页查看；xlsx 为整本台账的工作簿", {"enum": ["json", "xlsx"]}, empty_is_absent=True),
    CURSOR,
))
async def read_ledger(request: Request) -> Response:
    """查看台账（老年人、儿童、残疾人、低保和特困家庭）：辖区内或某区域，分页；`format=xlsx` 为工作簿"""
    if request.query_params.get("format") == "xlsx":
        return await _workbook(request)
    page = await ledgers.read_ledger(request.user, request.app.state.settings, request.path_params["kind"],
                                     request.query_params.get("area"), request.query_params.get("cursor"))
    return ApiResponse(page.as_api())


@replies({200: WORKBOOK}, params=(KIND, AREA))
async def export_ledger(request: Request) -> Response:
    """导出台账为 XLSX 工作簿：中文表头、首行冻结、日期为日期格式、身份证号脱敏"""
    return await _workbook(request)


async def _workbook(request: Request) -> Response:
    book = await ledger_export.export_ledger(request.user, request.app.state.settings, request.path_params["kind"],
                                             request.query_params.get("area"))
    disposition = f'attachment; filename="{book.filename}"'
    return StreamingResponse(book.chunks, media_type=book.media_type, headers={"Content-Disposition": disposition})


@replies({200: reply("DuePage")}, params=(
    AREA,
    param("kind", "只看此台账的对象", {"enum": list(ledger_rules.KINDS)}, empty_is_absent=True),
    CURSOR,
))
async def list_due_visits(request: Request) -> Response:
    """查看今天到期和逾期应探访的对象（辖区内，可按区域、台账筛选），逾期最久的在前"""
    page = await visit_plans.due(request.user, request.app.state.settings, query(request, "area", "kind"),
                                 request.query_params.get("cursor"))
    return ApiResponse(page.as_api())


@replies({200: reply("OverdueCounts")}, params=(AREA,))
async def count_overdue_visits(request: Request) -> Response:
    """按社区（村）和社工统计逾期和今天到期的探访"""
    return ApiResponse(await visit_plans.overdue(request.user, request.app.state.settings,
                                                 request.query_params.get("area")))
