"""The area tree: county → township → community, and who may add to or change it."""

from __future__ import annotations

import uuid

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.core import audit
from server.core.caller import Caller
from server.core.ids import parse_id
from server.core.pagination import Page, paginate
from server.core.problems import AreaNotFound, Conflict, Forbidden, invalid
from server.core.permissions import allows
from server.core.scope import get_visible, visible
from server.models import Area

PARENT_LEVEL = {"county": None, "township": "county", "community": "township"}
LEVEL_NAMES = {"county": "区（县）", "township": "乡镇（街道）", "community": "社区（村）"}


async def list_areas(caller: Caller, cursor: str | None) -> Page:
    """The tree the caller may see, in code order (GB/T 2260 codes sort parents before children)."""
    return await paginate(await visible(caller, Area), cursor, order=("code", "id"), shape=as_api, limit=1000)


async def get_area(caller: Caller, area_id: str) -> Area:
    return await get_visible(caller, Area, area_id, AreaNotFound)


async def create_area(caller: Caller, data: dict) -> Area:
    """Admins build the whole tree; a supervisor may add communities (villages split and merge) to its township."""
    level = data["level"]
    parent = await _parent_for(caller, level, data.get("parent"))
    if level != "community" and not allows(caller, "area.manage_tree"):
        raise Forbidden("督导只能在本乡镇（街道）下新增社区（村）。")
    area = new_area(data["code"], data["name"], level, parent)
    try:
        async with in_transaction():
            await area.save()
            await audit.record(caller, "area.created", "area", area.id, code=area.code, name=area.name)
    except IntegrityError:
        raise Conflict("该区域代码已被使用。") from None
    return area


async def update_area(caller: Caller, area_id: str, data: dict) -> Area:
    """Rename an area, or (admins only) move it under another parent of the right level."""
    area = await get_area(caller, area_id)
    if (area.level != "community" or "parent" in data) and not allows(caller, "area.manage_tree"):
        raise Forbidden("督导只能修改本乡镇（街道）下社区（村）的名称。")
    changes = {}
    async with in_transaction():
        if "name" in data and data["name"] != area.name:
            changes["name"] = [area.name, data["name"]]
            area.name = data["name"]
        if "parent" in data and str(area.parent_id) != data["parent"]:
            parent = await _parent_for(caller, area.level, data["parent"])
            changes["parent"] = [str(area.parent_id), str(parent.id)]
            area.parent = parent
            _place(area, parent)
            await _replace_descendants(area)
        await area.save()
        if changes:
            await audit.record(caller, "area.updated", "area", area.id, changes=changes)
    return area


async def _parent_for(caller: Caller, level: str, parent_id: str | None) -> Area | None:
    wanted = PARENT_LEVEL[level]
    if wanted is None:
        if parent_id is not None:
            raise invalid("/parent", "区（县）不能有上级区域")
        return None
    if parent_id is None:
        raise invalid("/parent", f"{LEVEL_NAMES[level]}必须指定上级区域")
    parent = await (await visible(caller, Area)).filter(id=parse_id(parent_id, pointer="/parent")).first()
    if parent is None:
        raise invalid("/parent", "上级区域不存在或不在您的管辖范围内")
    if parent.level != wanted:
        raise invalid("/parent", f"{LEVEL_NAMES[level]}的上级必须是{LEVEL_NAMES[wanted]}")
    return parent


def new_area(code: str, name: str, level: str, parent: Area | None) -> Area:
    """An unsaved area placed under its parent (whose level the caller has checked)."""
    area = Area(id=uuid.uuid4(), code=code, name=name, level=level, parent=parent)
    _place(area, parent)
    return area


def _place(area: Area, parent: Area | None) -> None:
    """Copy the ancestors' ids into the area's own columns; its own level's column points at itself."""
    area.county_id = parent.county_id if parent else area.id
    area.township_id = parent.township_id if parent else None
    area.community_id = None
    if area.level == "township":
        area.township_id = area.id
    elif area.level == "community":
        area.community_id = area.id


async def _replace_descendants(area: Area) -> None:
    # Only a township has descendants (communities); a county never moves.
    if area.level == "township":
        await Area.filter(parent_id=area.id).update(county_id=area.county_id)


def as_api(area: Area) -> dict:
    return {
        "id": str(area.id),
        "code": area.code,
        "name": area.name,
        "level": area.level,
        "parent": str(area.parent_id) if area.parent_id else None,
    }
