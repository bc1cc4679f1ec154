from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from server.households import export_jobs
from server.http.bodies import obj, uuid_field
from server.http.ranges import requested_range
from server.http.responses import ApiResponse
from server.http.routes import accepts, replies
from server.http.schemas import CURSOR, binary, header, query as param, reply

DAY = {"type": "string", "format": "date"}
START = obj({"area": uuid_field("区域"), "from": DAY | {"title": "开始日期"}, "to": DAY | {"title": "结束日期"}},
            ("area", "from", "to"))
LOCATION = {"Location": header("导出的地址：查看进度", {"type": "string", "pattern": "^/api/v1/exports/"})}
FILE_HEADERS = {
    "Content-Disposition": header("下载的文件名（filename* 为中文名）", {"type": "string", "pattern": "^attachment; filename="}),
    "Content-Length": header("本次发送的字节数", {"type": "integer", "minimum": 0}),
    "Accept-Ranges": header("可按字节范围续传", {"const": "bytes"}),
    "ETag": header("文件的标签（其 SHA-256）：续传时以 If-Range 发回", {"type": "string", "pattern": '^"[0-9a-f]{64}"$'}),
}
RANGE_PARAMS = (
    {"name": "Range", "in": "header", "required": False, "schema": {"type": "string"},
     "description": "只取一段字节，如 bytes=0-1023、bytes=1048576-、bytes=-500（续传）"},
    {"name": "If-Range", "in": "header", "required": False, "schema": {"type": "string"},
     "description": "文件的 ETag：文件已不是这个版本时发回整个文件"},
)


@replies({200: reply("ExportPage")}, params=(
    param("state", "只看此状态的导出", {"enum": ["queued", "running", "done", "failed", "expired"]},
          empty_is_absent=True),
    CURSOR,
))
async def list_exports(request: Request) -> Response:
    """辖区内的批量导出（新的在前）"""
    page = await export_jobs.find(request.user, request.query_params.get("state") or None,
                                  request.query_params.get("cursor"))
    return ApiResponse(page.as_api())


@replies({202: reply("Export", "已排队，后台进行", LOCATION)})
@accepts(START)
async def start_export(request: Request, body: dict) -> Response:
    """批量导出一个区域（含下属区域）在某期间内有走访记录的全部户档案：后台生成 ZIP，记入操作日志"""
    job = await export_jobs.start(request.user, body)
    return ApiResponse(export_jobs.as_api(job), status_code=202, headers={"Location": f"{export_jobs.API}/{job.id}"})


@replies({200: reply("Export")})
async def get_export(request: Request) -> Response:
    """查看批量导出的状态和进度：已完成的户数/总户数、已写入的字节数、时间、出错原因"""
    return ApiResponse(export_jobs.as_api(await export_jobs.get(request.user, request.path_params["id"])))


@replies({202: reply("Export", "已重新排队", LOCATION)})
async def restart_export(request: Request) -> Response:
    """重新开始失败或已过期的导出"""
    job = await export_jobs.restart(request.user, request.path_params["id"])
    return ApiResponse(export_jobs.as_api(job), status_code=202, headers={"Location": f"{export_jobs.API}/{job.id}"})


@replies({
    200: binary(("application/zip",), "ZIP：每户一个文件夹（PDF 摘要、household.json、照片原图、manifest.txt）",
                FILE_HEADERS),
    206: binary(("application/zip",), "所请求的一段字节", FILE_HEADERS | {
        "Content-Range": header("这一段在文件中的位置", {"type": "string", "pattern": r"^bytes \d+-\d+/\d+$"})}),
}, params=RANGE_PARAMS)
async def download_export(request: Request) -> Response:
    """下载批量导出的 ZIP（支持 Range 续传）；未完成答 409，已过期删除答 410；记入操作日志"""
    job = await export_jobs.downloadable(request.user, request.path_params["id"])
    etag = f'"{job.sha256}"'
    span = requested_range(request, job.size, etag)
    start, end = span or (0, job.size)
    headers = {"Content-Disposition": export_jobs.disposition(export_jobs.file_names(job)),
               "Content-Length": str(end - start), "Accept-Ranges": "bytes", "ETag": etag,
               "Cache-Control": "private, no-cache"}
    if span is not None:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{job.size}"
    status = 206 if span else 200
    if request.method == "HEAD":  # what a GET would answer, without reading (or auditing) the file
        return Response(status_code=status, headers=headers, media_type="application/zip")
    stream = await export_jobs.open_file(request.user, request.app.state.photos, job, start, end)
    return StreamingResponse(stream, status_code=status, media_type="application/zip", headers=headers)
