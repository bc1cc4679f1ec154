from starlette.requests import Request
from starlette.responses import Response

from server.core.ids import SLUG_CHARACTERS, SLUG_LENGTH
from server.http.bodies import obj, text, uuid_field
from server.http.conditional import not_modified
from server.http.responses import ApiResponse
from server.http.routes import accepts
from server.surveys import catalogue, versions as form_versions

SLUG = text("表单代号", SLUG_LENGTH[1], SLUG_LENGTH[0], pattern=SLUG_CHARACTERS)
DEFINITION = {
    "title": text("表单标题", 200),
    "schema": {"type": "object", "title": "表单结构"},
    "ui": {"type": "object", "title": "界面提示"},
}
CREATE = obj({"slug": SLUG, "area": uuid_field("所属区域"), **DEFINITION}, ("slug", "title", "schema"))
DRAFT = obj(DEFINITION, ("title", "schema"))


async def get_catalogue(request: Request) -> Response:
    """The service catalogue: categories and their items."""
    return ApiResponse({"items": await catalogue.get_catalogue(), "next_cursor": None})


async def list_forms(request: Request) -> Response:
    """Forms the caller may fill or design."""
    page = await form_versions.list_forms(request.user, request.query_params.get("cursor"))
    return ApiResponse(page.as_api())


@accepts(CREATE)
async def create_form(request: Request, body: dict) -> Response:
    """Create a form with a draft."""
    form = await form_versions.create_form(request.user, body)
    return ApiResponse(form_versions.as_api(form, request.user), status_code=201)


async def get_form(request: Request) -> Response:
    """A form: its draft (for designers) and its latest version."""
    form = await form_versions.get_form(request.user, request.path_params["slug"])
    return ApiResponse(form_versions.as_api(form, request.user))


@accepts(DRAFT)
async def replace_draft(request: Request, body: dict) -> Response:
    """Replace the draft."""
    form = await form_versions.replace_draft(request.user, request.path_params["slug"], body)
    return ApiResponse(form_versions.as_api(form, request.user))


async def publish(request: Request) -> Response:
    """Publish the draft as the next version, which never changes again."""
    version = await form_versions.publish(request.user, request.path_params["slug"])
    return ApiResponse({"version": version.version}, status_code=201)


async def retire(request: Request) -> Response:
    """Retire a form: no new submissions, old ones stay readable."""
    form = await form_versions.retire(request.user, request.path_params["slug"])
    return ApiResponse(form_versions.as_api(form, request.user))


async def get_version(request: Request) -> Response:
    """One published version, with an ETag (a version never changes, so it may be cached for good)."""
    version = await form_versions.get_version(request.user, request.path_params["slug"], request.path_params["version"])
    etag = f'"{version.etag}"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=31536000, immutable"}
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    return ApiResponse(form_versions.version_as_api(version), headers=headers)
