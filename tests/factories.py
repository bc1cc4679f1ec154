"""Small factories for the HTTP tests: an area tree, users of each role, their bearer headers."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher

from server.areas import new_area
from server.auth import token_hash
from server.clock import now
from server.models import AccessToken, Area, Provider, User, UserArea

PASSWORD = "correct horse battery"
PASSWORD_HASH = PasswordHasher().hash(PASSWORD)  # hashed once: argon2 is slow on purpose
_numbers = itertools.count(1)


async def make_area(level: str, parent: Area | None = None, name: str | None = None) -> Area:
    n = next(_numbers)
    area = new_area(f"T{n:06d}", name or f"{level}-{n}", level, parent)
    await area.save()
    return area


@dataclass
class District:
    """One county; townships east and west; communities east_a, east_b under east and west_a under west."""

    county: Area
    east: Area
    west: Area
    east_a: Area
    east_b: Area
    west_a: Area


async def make_district() -> District:
    county = await make_area("county", name="巴陵区")
    east = await make_area("township", county, "城东街道")
    west = await make_area("township", county, "楚江街道")
    return District(
        county, east, west,
        await make_area("community", east, "白竹亭社区"),
        await make_area("community", east, "凌云社区"),
        await make_area("community", west, "楚江圩社区"),
    )


async def make_user(role: str, *areas: Area, username: str | None = None, provider: Provider | None = None, **fields) -> User:
    if role == "provider" and provider is None:
        provider = await Provider.create(name="阳光助老服务中心")
    user = await User.create(
        username=username or f"{role}{next(_numbers)}",
        password_hash=PASSWORD_HASH,
        display_name=f"{role} 测试",
        role=role,
        provider=provider,
        password_changed_at=now() - timedelta(seconds=1),
        **fields,
    )
    await UserArea.bulk_create([UserArea(user=user, area=a) for a in areas])
    return user


async def headers_for(settings, user: User) -> dict:
    """A bearer header for the user, as if they had logged in (the login route has tests of its own)."""
    token = secrets.token_urlsafe(32)
    issued = now()
    await AccessToken.create(
        token_hash=token_hash(settings, token), user=user, created_at=issued,
        expires_at=issued + timedelta(seconds=settings.token_ttl_seconds),
    )
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response, status: int, *pointers: str) -> dict:
    """The response is problem+json with the status, a zh-CN title, and (for bad fields) exactly these pointers."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    if pointers:
        assert sorted(e["pointer"] for e in body["errors"]) == sorted(pointers), body["errors"]
    return body
