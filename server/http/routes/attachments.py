from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from server.http.conditional import not_modified
from server.http.responses import ApiResponse
from server.intake import photos


async def put_attachment(request: Request) -> Response:
    """Upload a photo under its sha256: 201 when stored, 200 when it was already there."""
    settings = request.app.state.settings
    row, created = await photos.upload(
        request.user, settings, request.app.state.photos, request.app.state.image_workers, request.app.state.thumbnails,
        request.path_params["sha256"], request.headers.get("content-type", ""), request.headers.get("content-length"),
        request.stream(),
    )
    return ApiResponse(photos.as_api(row), status_code=201 if created else 200)


async def head_attachment(request: Request) -> Response:
    """Whether the photo is stored, so that a phone knows what to send again."""
    row = await photos.recorded(request.user, request.app.state.photos, request.path_params["sha256"])
    return Response(status_code=200, headers={"Content-Length": str(row.size), "Content-Type": row.media_type,
                                              "ETag": etag(row.sha256, None)})


async def get_attachment(request: Request) -> Response:
    """A photo (`?size=thumb|large` for a thumbnail without EXIF), for callers who may see a submission using it."""
    photo = await photos.open_photo(request.user, request.app.state.photos, request.app.state.thumbnails,
                                    request.path_params["sha256"], request.query_params.get("size"))
    headers = {
        "ETag": etag(photo.sha256, photo.size),
        # Content never changes under its hash; "private" because who may see it depends on the caller.
        "Cache-Control": "private, max-age=31536000, immutable",
    }
    if not_modified(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)  # the phone has it: not a byte again over a weak signal
    headers |= {"Content-Length": str(photo.stream.size), "X-Content-Type-Options": "nosniff"}
    return StreamingResponse(photo.stream, media_type=photo.media_type, headers=headers)


def etag(sha256: str, size: str | None) -> str:
    """The original's bytes are its hash. A thumbnail remade (after a crash, on another instance) may differ in its
    bytes but not in what it shows: a weak tag of its own."""
    return f'"{sha256}"' if size is None else f'W/"{sha256}-{size}"'


async def list_orphans(request: Request) -> Response:
    """(Admins) stored photos that no submission refers to after the configured time: a report, nothing deleted."""
    hours = request.query_params.get("hours")
    hours = request.app.state.settings.orphan_report_after_hours if hours is None else photos.orphan_hours(hours)
    items, next_cursor = await photos.orphans(request.app.state.photos, hours,
                                              request.query_params.get("cursor"), photos.ORPHAN_PAGE)
    return ApiResponse({"items": items, "next_cursor": next_cursor})
