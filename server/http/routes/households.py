from starlette.requests import Request
from starlette.responses import Response

from server.households import conflicts, registry, search
from server.http.bodies import obj, text, uuid_field
from server.http.responses import ApiResponse
from server.http.routes import accepts, query

LOCATION = {
    "type": ["object", "null"],
    "title": "位置",
    "properties": {
        "lat": {"type": "number", "title": "纬度", "minimum": -90, "maximum": 90},
        "lon": {"type": "number", "title": "经度", "minimum": -180, "maximum": 180},
    },
    "required": ["lat", "lon"],
    "additionalProperties": False,
}
REGISTER = obj(
    {
        "community": uuid_field("社区（村）"),
        "address": text("住址", 200),
        "head": text("户主", 50),
        "phone": {"anyOf": [text("联系电话", 20, 5, pattern=r"^[0-9+\- ]{5,20}$"), {"type": "null"}], "title": "联系电话"},
        "location": LOCATION,
    },
    ("community", "address", "head"),
)
RESOLVE = obj(
    {
        "keep": {"title": "保留", "enum": ["kept", "lost"]},
        "comment": text("说明", 500, 0),
    },
    ("keep",),
)


@accepts(REGISTER)
async def register_household(request: Request, body: dict) -> Response:
    """Register a household met in the field, under the id its phone made; the same body again confirms it."""
    household, created = await registry.register_household(request.user, request.path_params["id"], body)
    return ApiResponse(registry.as_api(household), status_code=201 if created else 200)


async def get_household(request: Request) -> Response:
    """A household: its situation as last seen and its members."""
    household, members, open_conflicts = await registry.read_file(request.user, request.path_params["id"])
    return ApiResponse(registry.as_api(household, members, open_conflicts))


async def find_households(request: Request) -> Response:
    """Households the caller may see, by area and by `q`: a name or part of one (also as pinyin, full or initials),
    the address, the phone, or a full ID number."""
    page = await search.find(request.user, request.app.state.settings, query(request, "area", "q"),
                             request.query_params.get("cursor"))
    return ApiResponse(page.as_api())


async def list_conflicts(request: Request) -> Response:
    """Offline conflicts on a household's file: which value won, which lost, and whether a supervisor settled it."""
    page = await conflicts.list_conflicts(request.user, request.path_params["id"], **query(request, "state", "cursor"))
    return ApiResponse(page.as_api())


@accepts(RESOLVE)
async def resolve_conflict(request: Request, body: dict) -> Response:
    """A supervisor confirms the value that won ("kept") or puts back the other one ("lost")."""
    conflict = await conflicts.resolve_conflict(request.user, request.app.state.settings, request.path_params["id"],
                                                body)
    return ApiResponse(conflicts.conflict_as_api(conflict))
