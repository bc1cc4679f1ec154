"""People and their roles: who may create or change whom, and which areas each is assigned."""

from __future__ import annotations

import uuid

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.core import audit
from server.core.caller import Caller
from server.core.clock import now
from server.core.ids import parse_id
from server.core.pagination import Page, paginate
from server.core.problems import Conflict, FieldProblem, Forbidden, InvalidInput, UserNotFound, invalid
from server.core.permissions import ROLE_NAMES, allows
from server.core.scope import assigned_area_ids, scope_of, users_visible_to, visible
from server.models import Area, Provider, User, UserArea
from server.people.areas import LEVEL_NAMES
from server.people.auth import revoke_all_tokens
from server.people.passwords import hash_password, verify_password

# The level of area each role is assigned; admins and providers have none.
ROLE_LEVEL = {"admin": None, "bureau": "county", "supervisor": "township", "worker": "community", "provider": None}


async def list_users(caller: Caller, cursor: str | None) -> Page:
    query = User.filter(await users_visible_to(caller)).prefetch_related("area_links")
    return await paginate(query, cursor, order=("username", "id"), shape=as_api)


async def get_user(caller: Caller, user_id: str) -> User:
    user = await User.filter(await users_visible_to(caller), id=parse_id(user_id, UserNotFound)).first()
    if user is None:
        raise UserNotFound()
    await user.fetch_related("area_links")
    return user


async def create_user(caller: Caller, data: dict) -> User:
    """Admins create anyone; a supervisor creates the workers of its own township."""
    if data["role"] != "worker" and not allows(caller, "user.assign_roles"):
        raise Forbidden("督导只能创建社工账号。")
    areas = await _check_assignment(caller, data["role"], data.get("areas", []), data.get("provider"))
    user = User(
        id=uuid.uuid4(),
        username=data["username"],
        password_hash=await hash_password(data["password"]),
        display_name=data["display_name"],
        role=data["role"],
        provider_id=data.get("provider"),
        password_changed_at=now(),
    )
    try:
        async with in_transaction():
            await user.save()
            await UserArea.bulk_create([UserArea(user_id=user.id, area_id=a.id) for a in areas])
            await audit.record(caller, "user.created", "user", user.id, username=user.username, role=user.role)
    except IntegrityError:
        raise Conflict("该用户名已被使用。") from None
    await user.fetch_related("area_links")
    return user


async def update_user(caller: Caller, user_id: str, data: dict) -> User:
    user = await get_user(caller, user_id)
    await _check_may_change(caller, user, data)
    role = data.get("role", user.role)
    area_ids = data["areas"] if "areas" in data else [str(a) for a in await assigned_area_ids(user.id)]
    provider = data["provider"] if "provider" in data else (str(user.provider_id) if user.provider_id else None)
    areas = await _check_assignment(caller, role, area_ids, provider)

    changed = sorted(k for k in data if k not in ("password", "current_password"))
    async with in_transaction():
        for name in ("display_name", "role", "is_active"):
            if name in data:
                setattr(user, name, data[name])
        user.provider_id = provider
        if "password" in data:
            user.password_hash = await hash_password(data["password"])
            user.password_changed_at = now()
            changed.append("password")
        await user.save()
        if "areas" in data:
            await UserArea.filter(user_id=user.id).delete()
            await UserArea.bulk_create([UserArea(user_id=user.id, area_id=a.id) for a in areas])
        if "password" in data or data.get("is_active") is False:
            await revoke_all_tokens(user)
        await audit.record(caller, "user.updated", "user", user.id, fields=changed)
    await user.fetch_related("area_links")
    return user


async def _check_may_change(caller: Caller, user: User, data: dict) -> None:
    if allows(caller, "user.assign_roles"):
        return
    if user.id == caller.id:
        if set(data) - {"display_name", "password", "current_password"}:
            raise Forbidden("只能修改自己的姓名和密码。")
        if "password" in data and not await verify_password(user.password_hash, data.get("current_password", "")):
            raise invalid("/current_password", "当前密码不正确")
        return
    scope = await scope_of(caller)
    manages = allows(caller, "user.create") and user.role == "worker"  # a supervisor, the workers of its township
    if manages:
        assigned = await Area.filter(id__in=await assigned_area_ids(user.id))
        manages = all(scope.covers(area) for area in assigned)
    if not manages:
        raise Forbidden("您无权修改该用户。")
    if "role" in data or "provider" in data:
        raise Forbidden("督导不能修改用户的角色。")


async def _check_assignment(caller: Caller, role: str, area_ids: list[str], provider_id: str | None) -> list[Area]:
    """Each role is assigned areas of exactly one level, all inside what the acting user may see."""
    level = ROLE_LEVEL[role]
    errors: list[FieldProblem] = []
    if role == "provider":
        if provider_id is None or not await Provider.exists(id=parse_id(provider_id, pointer="/provider")):
            errors.append(FieldProblem("/provider", "服务机构账号必须关联一个存在的服务机构"))
    elif provider_id is not None:
        errors.append(FieldProblem("/provider", "只有服务机构账号可以关联服务机构"))
    if level is None and area_ids:
        errors.append(FieldProblem("/areas", f"{ROLE_NAMES[role]}账号不分配区域"))
    if level is not None and not area_ids:
        errors.append(FieldProblem("/areas", f"{ROLE_NAMES[role]}账号至少需要分配一个{LEVEL_NAMES[level]}"))
    found = {a.id: a for a in await (await visible(caller, Area)).filter(id__in=[parse_id(a, pointer="/areas") for a in area_ids])}
    areas = []
    for index, raw in enumerate(area_ids if level else []):
        area = found.get(uuid.UUID(raw))
        if area is None:
            errors.append(FieldProblem(f"/areas/{index}", "区域不存在或不在您的管辖范围内"))
        elif area.level != level:
            errors.append(FieldProblem(f"/areas/{index}", f"{ROLE_NAMES[role]}只能分配到{LEVEL_NAMES[level]}"))
        else:
            areas.append(area)
    if errors:
        raise InvalidInput(errors=errors)
    return areas


def as_api(user: User) -> dict:
    return {
        "id": str(user.id),
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "areas": [str(link.area_id) for link in user.area_links],
        "provider": str(user.provider_id) if user.provider_id else None,
        "is_active": user.is_active,
        "created_at": user.created_at.isoformat(),
    }
