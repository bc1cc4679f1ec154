from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from server.http.conditional import not_modified
from server.http.responses import ApiResponse
from server.http.routes import replies
from server.http.schemas import (CURSOR, IF_NONE_MATCH, IMMUTABLE, NOT_MODIFIED, PHOTO_TYPES, SHA256_PATTERN, binary,
                                 header, query, reply)
from server.intake import photos


@replies({201: reply("Photo", "已保存"), 200: reply("Photo", "此前已保存；记下调用者也持有这些字节")}, takes=PHOTO_TYPES)
async def put_attachment(request: Request) -> Response:
    """按 SHA-256 上传照片原始字节：新存为 201，已有为 200"""
    settings = request.app.state.settings
    row, created = await photos.upload(
        request.user, settings, request.app.state.photos, request.app.state.image_workers, request.app.state.thumbnails,
        request.path_params["sha256"], request.headers.get("content-type", ""), request.headers.get("content-length"),
        request.stream(),
    )
    return ApiResponse(photos.as_api(row), status_code=201 if created else 200)


@replies({200: {"description": "调用者可以使用这张照片，无须重传", "headers": {
    "Content-Type": header("照片的类型", {"enum": list(PHOTO_TYPES)}),
    "Content-Length": header("照片的字节数", {"type": "integer", "minimum": 1}),
    "ETag": header("照片的标签", {"type": "string", "pattern": f'^"{SHA256_PATTERN[1:-1]}"$'}),
}}})
async def head_attachment(request: Request) -> Response:
    """照片是否已上传且可用（404 即须上传），供手机决定要补传什么"""
    row = await photos.recorded(request.user, request.app.state.photos, request.path_params["sha256"])
    return Response(status_code=200, headers={"Content-Length": str(row.size), "Content-Type": row.media_type,
                                              "ETag": etag(row.sha256, None)})


@replies({
    200: binary(PHOTO_TYPES, "原图（保留 EXIF），或缩略图（JPEG，去除 EXIF）", IMMUTABLE | {
        "X-Content-Type-Options": header("不让浏览器猜测类型", {"const": "nosniff"})}),
    304: NOT_MODIFIED,
}, params=(query("size", "缩略图：thumb 约 320 像素，large 约 1280 像素；不给则为原图", {"enum": ["thumb", "large"]}),
           IF_NONE_MATCH))
async def get_attachment(request: Request) -> Response:
    """查看照片原图或缩略图（仅限能看到使用它的提交的人）"""
    photo = await photos.find_photo(request.user, request.path_params["sha256"], request.query_params.get("size"))
    headers = {
        "ETag": etag(photo.sha256, photo.size),
        # Content never changes under its hash; "private" because who may see it depends on the caller.
        "Cache-Control": "private, max-age=31536000, immutable",
    }
    if not_modified(request, headers["ETag"]):
        # The phone has it: not a byte again over a weak signal, nor a read of the store.
        return Response(status_code=304, headers=headers)
    stream = await photos.open_photo(request.user, request.app.state.photos, request.app.state.thumbnails, photo)
    headers |= {"Content-Length": str(stream.size), "X-Content-Type-Options": "nosniff"}
    return StreamingResponse(stream, media_type=photo.media_type, headers=headers)


def etag(sha256: str, size: str | None) -> str:
    """The original's bytes are its hash. A thumbnail remade (after a crash, on another instance) may differ in its
    bytes but not in what it shows: a weak tag of its own."""
    return f'"{sha256}"' if size is None else f'W/"{sha256}-{size}"'


@replies({200: reply("OrphanPage")}, params=(
    query("hours", "只列出存入超过这么多小时的照片；不给则用服务器的设置",
          {"type": "integer", "minimum": 0, "maximum": photos.MAX_ORPHAN_HOURS}),
    CURSOR,
))
async def list_orphans(request: Request) -> Response:
    """（管理员）无提交引用的照片报告：只列出，不删除"""
    hours = request.query_params.get("hours")
    hours = request.app.state.settings.orphan_report_after_hours if hours is None else photos.orphan_hours(hours)
    items, next_cursor = await photos.orphans(request.app.state.photos, hours,
                                              request.query_params.get("cursor"), photos.ORPHAN_PAGE)
    return ApiResponse({"items": items, "next_cursor": next_cursor})
