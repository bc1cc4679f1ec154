from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from server.http.responses import ApiResponse
from server.intake import photos as attachments


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
        "ETag": photo.etag,
        # Content never changes under its hash; "private" because who may see it depends on the caller.
        "Cache-Control": "private, max-age=31536000, immutable",
    }
    if _matches(photo.etag, request.headers.get("if-none-match", "")):
        return Response(status_code=304, headers=headers)  # the phone has it: not a byte again over a weak signal
    headers |= {"Content-Length": str(photo.stream.size), "X-Content-Type-Options": "nosniff"}
    return StreamingResponse(photo.stream, media_type=photo.media_type, headers=headers)


def _matches(etag: str, if_none_match: str) -> bool:
    # Compared weakly, as RFC 9110 asks for If-None-Match: W/"x" matches "x".
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag.removeprefix("W/") in tags


async def list_orphans(request: Request) -> Response:
    """(Admins) stored photos that no submission refers to after the configured time: a report, nothing deleted."""
    hours = request.query_params.get("hours")
    hours = request.app.state.settings.orphan_report_after_hours if hours is None else attachments.orphan_hours(hours)
    items, next_cursor = await attachments.orphans(request.user, request.app.state.photos, hours,
                                                   request.query_params.get("cursor"), attachments.ORPHAN_PAGE)
    return ApiResponse({"items": items, "next_cursor": next_cursor})
