"""Logging in and out, bearer tokens and the login throttle. All state lives in the database,
so any number of app instances can share it."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from datetime import timedelta

from tortoise.transactions import in_transaction

from server.core import audit, sql
from server.core.caller import Caller
from server.core.clock import now
from server.core.problems import BadCredentials, NotAuthenticated
from server.core.scope import scope_from
from server.models import AccessToken, Area, User
from server.people import throttle
from server.people.passwords import verify_password
from server.settings import Settings


def token_hash(settings: Settings, token: str) -> str:
    return hmac.new(settings.secret.encode(), token.encode(), hashlib.sha256).hexdigest()


async def login(settings: Settings, username: str, password: str, address: str) -> tuple[str, User]:
    """Check the password and issue a token; repeated failures are throttled (see `throttle`)."""
    await throttle.refuse_if_throttled(settings, username, address)
    user = await User.get_or_none(username=username)
    ok = await verify_password(user.password_hash if user else None, password)
    if not (ok and user.is_active):
        await audit.record(None, "login.failed", "user", user.id if user else None, address=address, actor_name=username)
        await throttle.record_failure(settings, username, address)
        raise BadCredentials()
    async with in_transaction():
        token = await issue_token(settings, user)
        await throttle.clear(username, address)
        await audit.record(Caller(user, address), "login", "user", user.id)
    return token, user


async def issue_token(settings: Settings, user: User) -> str:
    """A new bearer token for the user; only its keyed hash is stored."""
    token = secrets.token_urlsafe(32)
    issued = now()
    await AccessToken.create(
        token_hash=token_hash(settings, token),
        user=user,
        created_at=issued,
        expires_at=issued + timedelta(seconds=settings.token_ttl_seconds),
    )
    return token



@functools.cache
def _token_statement() -> str:
    """The token, its user and the user's areas in one statement: every request asks this first."""
    return f"""
SELECT {sql.columns(AccessToken, "t", "token.")}, {sql.columns(User, "u", "user.")}, {sql.columns(Area, "a", "area.")}
FROM access_token t
JOIN app_user u ON u.id = t.user_id
LEFT JOIN user_area ua ON ua.user_id = u.id
LEFT JOIN area a ON a.id = ua.area_id
WHERE t.token_hash = $1
"""


async def authenticate(settings: Settings, authorization: str | None, address: str) -> Caller:
    """Resolve `Authorization: Bearer …` to a caller with their scope, or raise 401."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotAuthenticated("缺少登录凭证（Authorization: Bearer …）。")
    rows = await sql.fetch(_token_statement(), [token_hash(settings, token.strip())])
    if not rows:
        raise NotAuthenticated()
    record, user = sql.load(AccessToken, rows[0], "token."), sql.load(User, rows[0], "user.")
    if (
        record.revoked_at is not None
        or record.expires_at <= now()
        or not user.is_active
        or record.created_at < user.password_changed_at
    ):
        raise NotAuthenticated()
    areas = [sql.load(Area, row, "area.") for row in rows if row["area.id"] is not None]
    return Caller(user, address, token_id=record.id, _scope=scope_from(user.role, areas))


async def logout(caller: Caller) -> None:
    await AccessToken.filter(id=caller.token_id).update(revoked_at=now())
    await audit.record(caller, "logout", "user", caller.id)


async def revoke_all_tokens(user: User) -> None:
    await AccessToken.filter(user_id=user.id, revoked_at__isnull=True).update(revoked_at=now())
