from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from server import attachments
from server.responses import ApiResponse


async def put_attachment(request: Request) -> Response:
    """Upload a photo under its sha256: 201 when stored, 200 when it was already there."""
    settings = request.app.state.settings
    row, created = await attachments.upload(
        request.user, settings, request.app.state.photos, request.app.state.image_workers, request.app.state.thumbnails,
        request.path_params["sha256"], request.headers.get("content-type", ""), request.headers.get("content-length"),
        request.stream(),
    )
    return ApiResponse(attachments.as_api(row), status_code=201 if created else 200)


async def get_attachment(request: Request) -> Response:
    """A photo (`?size=thumb|large` for a thumbnail without EXIF), for callers who may see a submission using it.
    HEAD says whether the photo is stored, so a phone knows what to send again."""
    store = request.app.state.photos
    if request.method == "HEAD":
        row = await attachments.recorded(request.user, store, request.path_params["sha256"])
        return Response(status_code=200, headers={"Content-Length": str(row.size), "Content-Type": row.media_type,
                                                  "ETag": f'"{row.sha256}"'})
    photo = await attachments.open_photo(request.user, store, request.app.state.thumbnails,
                                         request.path_params["sha256"], request.query_params.get("size"))
    headers = {
        "Content-Length": str(photo.stream.size),
        "ETag": f'"{photo.sha256}"',
        # Content never changes under its hash; "private" because who may see it depends on the caller.
        "Cache-Control": "private, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
    }
    return StreamingResponse(photo.stream, media_type=photo.media_type, headers=headers)


async def list_orphans(request: Request) -> Response:
    """(Admins) stored photos that no submission refers to after the configured time: a report, nothing deleted."""
    hours = request.query_params.get("hours")
    hours = request.app.state.settings.orphan_report_after_hours if hours is None else attachments.orphan_hours(hours)
    items = await attachments.orphans(request.user, request.app.state.photos, hours)
    return ApiResponse({"items": items, "next_cursor": None})
