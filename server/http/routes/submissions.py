from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from server.core.ids import INT_MAX
from server.http.bodies import obj, text, uuid_field
from server.http.responses import ApiResponse
from server.http.routes import accepts, query
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


@accepts(PUT)
async def put_submission(request: Request, body: dict) -> Response:
    """Send a filled form for a household: 201 stored, 200 the same body again, 409 another body under this id."""
    reply, created = await store.put_submission(request.user, request.app.state.settings, request.path_params["id"], body)
    return ApiResponse(reply, status_code=201 if created else 200)


async def get_submission(request: Request) -> Response:
    """One submission; earlier versions of a corrected one stay readable."""
    return ApiResponse(await review.read_submission(request.user, request.path_params["id"]))


async def list_submissions(request: Request) -> Response:
    """Submissions the caller may see, filtered by form, household, area, review state or arrival time."""
    filters = query(request, "form", "household", "area", "since", "state")
    page = await review.list_submissions(request.user, filters, request.query_params.get("cursor"))
    return ApiResponse(page.as_api())


@accepts(REVIEW)
async def review_submission(request: Request, body: dict) -> Response:
    """A supervisor approves a submission or returns it to the worker with a comment."""
    return ApiResponse(await review.review(request.user, request.path_params["id"], body))


async def export_submissions(request: Request) -> Response:
    """Every current submission of a form across its versions, as XLSX (a sheet per repeated group) or CSV
    (`?table=members` for a group's rows), labelled by question titles and choice labels."""
    return await _export(request, request.path_params["format"])


async def export_submissions_with_photos(request: Request) -> Response:
    """The XLSX export in a ZIP, with the photos its rows use beside it; photo cells link to them."""
    return await _export(request, "zip")


async def _export(request: Request, fmt: str) -> Response:
    export = await submission_export.export_submissions(
        request.user, request.app.state.settings, request.app.state.photos, request.path_params["slug"], fmt,
        request.query_params.get("table"),
    )
    disposition = f'attachment; filename="{export.filename}"'
    return StreamingResponse(export.chunks, media_type=export.media_type, headers={"Content-Disposition": disposition})
