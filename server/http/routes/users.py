from starlette.requests import Request
from starlette.responses import Response

from server.http.bodies import obj, text, uuid_field
from server.http.responses import ApiResponse
from server.http.routes import accepts, replies
from server.http.schemas import CURSOR, reply
from server.core import permissions
from server.models import ROLES
from server.people import users

USERNAME = text("用户名", 64, 3, pattern=r"^[a-zA-Z0-9_.@-]+$")
PASSWORD = text("密码", 128, 8)
AREAS = {"type": "array", "title": "区域", "items": uuid_field("区域"), "maxItems": 200, "uniqueItems": True}
PROVIDER = {"anyOf": [uuid_field("服务机构"), {"type": "null"}], "title": "服务机构"}
CREATE = obj(
    {
        "username": USERNAME,
        "password": PASSWORD,
        "display_name": text("姓名", 100),
        "role": {"title": "角色", "enum": list(ROLES)},
        "areas": AREAS,
        "provider": PROVIDER,
    },
    ("username", "password", "display_name", "role"),
)
UPDATE = obj(
    {
        "display_name": text("姓名", 100),
        "password": PASSWORD,
        "current_password": text("当前密码", 128),
        "role": {"title": "角色", "enum": list(ROLES)},
        "areas": AREAS,
        "provider": PROVIDER,
        "is_active": {"type": "boolean", "title": "是否启用"},
    },
    minProperties=1,
)


@replies({200: reply("UserPage")}, params=(CURSOR,))
async def list_users(request: Request) -> Response:
    """查看可见的用户（按用户名排序）"""
    page = await users.list_users(request.user, request.query_params.get("cursor"))
    return ApiResponse(page.as_api())


@replies({201: reply("User", "已创建的用户")})
@accepts(CREATE)
async def create_user(request: Request, body: dict) -> Response:
    """创建用户，指定角色和负责的区域"""
    user = await users.create_user(request.user, body)
    return ApiResponse(users.as_api(user), status_code=201)


@replies({200: reply("User")})
async def get_user(request: Request) -> Response:
    """查看一个用户"""
    user = await users.get_user(request.user, request.path_params["id"])
    return ApiResponse(users.as_api(user))


@replies({200: reply("User", "修改后的用户")})
@accepts(UPDATE)
async def update_user(request: Request, body: dict) -> Response:
    """修改用户的姓名、密码、角色或区域，或停用该用户"""
    user = await users.update_user(request.user, request.path_params["id"], body)
    return ApiResponse(users.as_api(user))


@replies({200: reply("PermissionTable")})
async def list_permissions(request: Request) -> Response:
    """权限表：每项操作的含义，以及哪些角色可以做"""
    return ApiResponse(permissions.as_api())
