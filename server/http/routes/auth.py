from starlette.requests import Request
from starlette.responses import Response

from server.http.bodies import obj, text
from server.http.responses import ApiResponse
from server.http.routes import accepts, query, replies
from server.http.schemas import NO_CONTENT, header, query as param, reply
from server.people import auth, throttle, users

LOGIN = obj({"username": text("用户名", 64), "password": text("密码", 128)}, ("username", "password"))


@replies({200: reply("Token", headers={"Cache-Control": header("凭据不得缓存", {"const": "no-store"})})})
@accepts(LOGIN)
async def issue_token(request: Request, body: dict) -> Response:
    """用用户名和密码登录，取得令牌"""
    settings = request.app.state.settings
    token, user = await auth.login(settings, body["username"], body["password"], request.state.address)
    await user.fetch_related("area_links")
    return ApiResponse(
        {"access_token": token, "token_type": "bearer", "expires_in": settings.token_ttl_seconds, "user": users.as_api(user)},
        headers={"Cache-Control": "no-store"},
    )


@replies({204: NO_CONTENT})
async def logout(request: Request) -> Response:
    """退出登录：本次请求所带的令牌作废"""
    await auth.logout(request.user)
    return Response(status_code=204)


@replies({200: reply("User", "当前登录的用户")})
async def me(request: Request) -> Response:
    """查看自己的账号：角色和负责的区域"""
    user = await users.get_user(request.user, str(request.user.id))
    return ApiResponse(users.as_api(user))


@replies({200: reply("ThrottleList")})
async def list_throttles(request: Request) -> Response:
    """查看登录限制：近期登录失败的用户名和地址，以及须等到何时"""
    items = await throttle.list_throttles(request.app.state.settings)
    return ApiResponse({"items": items, "next_cursor": None})


@replies({204: NO_CONTENT}, params=(
    param("username", "解除此用户名的限制（至少给出用户名和地址之一）", {"type": "string", "maxLength": 64},
          empty_is_absent=True),
    param("address", "解除此地址的限制", {"type": "string", "maxLength": 64}, empty_is_absent=True),
))
async def lift_throttle(request: Request) -> Response:
    """解除登录限制：某用户名、某地址或两者组合的失败记录一笔勾销"""
    await throttle.lift(request.user, **query(request, "username", "address"))
    return Response(status_code=204)
