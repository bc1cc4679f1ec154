from starlette.requests import Request
from starlette.responses import Response

from server.http.bodies import obj, text
from server.http.responses import ApiResponse
from server.http.routes import accepts, query
from server.people import auth, throttle, users

LOGIN = obj({"username": text("用户名", 64), "password": text("密码", 128)}, ("username", "password"))


@accepts(LOGIN)
async def issue_token(request: Request, body: dict) -> Response:
    """Log in with username and password; answers a bearer token."""
    settings = request.app.state.settings
    token, user = await auth.login(settings, body["username"], body["password"], request.state.address)
    await user.fetch_related("area_links")
    return ApiResponse(
        {"access_token": token, "token_type": "bearer", "expires_in": settings.token_ttl_seconds, "user": users.as_api(user)},
        headers={"Cache-Control": "no-store"},
    )


async def logout(request: Request) -> Response:
    """Revoke the token this request carries."""
    await auth.logout(request.user)
    return Response(status_code=204)


async def me(request: Request) -> Response:
    """The logged-in user, with role and assigned areas."""
    user = await users.get_user(request.user, str(request.user.id))
    return ApiResponse(users.as_api(user))


async def list_throttles(request: Request) -> Response:
    """Login throttles: each username and address with recent failed logins, and until when it must wait."""
    items = await throttle.list_throttles(request.app.state.settings)
    return ApiResponse({"items": items, "next_cursor": None})


async def lift_throttle(request: Request) -> Response:
    """Lift a login throttle: the failures of `?username=`, of `?address=`, or of the pair are forgiven."""
    await throttle.lift(request.user, **query(request, "username", "address"))
    return Response(status_code=204)
