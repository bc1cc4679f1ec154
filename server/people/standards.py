"""Subsistence standards (低保标准) and the extreme-hardship standard (特困供养标准) of the areas, kept by the bureau.

Each standard is an amount per person per month from the day it took effect; a new one is added, never edited, so
the standard in force on any past date can be read again (a survey is screened against the standard of its own
date). The areas below inherit it: on a date, the nearest area (community, township, county) with a standard of
the kind in force applies. Adding one is audited.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.core import audit
from server.core.caller import Caller
from server.core.clock import now
from server.core.problems import AreaNotFound, Conflict, invalid
from server.core.scope import get_visible
from server.models import Area, SubsistenceStandard
from server.settings import Settings

KINDS = {"subsistence": "低保标准", "extreme_hardship": "特困供养标准"}


def as_api(standard: SubsistenceStandard) -> dict:
    return {"id": str(standard.id), "area": str(standard.area_id), "kind": standard.kind,
            "amount": float(standard.amount), "effective_from": standard.effective_from.isoformat(),
            "created_at": standard.created_at.isoformat()}


def today(settings: Settings) -> date:
    return datetime.now(ZoneInfo(settings.station_timezone)).date()


async def list_standards(caller: Caller, settings: Settings, area_id: str) -> dict:
    """The area's own standards, newest first, and per kind the one in force today (its own or inherited)."""
    area = await get_visible(caller, Area, area_id, AreaNotFound)
    own = await SubsistenceStandard.filter(area_id=area.id).order_by("kind", "-effective_from")
    on = today(settings)
    return {"area": str(area.id), "standards": [as_api(s) for s in own],
            "in_force": {kind: _shown(await in_force(area, kind, on)) for kind in KINDS}}


def _shown(standard: SubsistenceStandard | None) -> dict | None:
    return as_api(standard) if standard is not None else None


async def set_standard(caller: Caller, settings: Settings, area_id: str, body: dict) -> SubsistenceStandard:
    """Add a standard to an area in the caller's scope: from a date not later than today, one per kind and date."""
    area = await get_visible(caller, Area, area_id, AreaNotFound)
    effective_from = date.fromisoformat(body["effective_from"])  # the body schema has checked it is a date
    if effective_from > today(settings):
        raise invalid("/effective_from", "生效日期不能晚于今天：标准生效之日再录入")
    standard = SubsistenceStandard(id=uuid.uuid4(), area_id=area.id, kind=body["kind"],
                                   amount=Decimal(str(body["amount"])), effective_from=effective_from,
                                   created_by_id=caller.id, created_at=now())
    try:
        async with in_transaction():
            await standard.save(force_create=True)
            await audit.record(caller, "standard.set", "area", area.id, kind=standard.kind,
                               amount=float(standard.amount), effective_from=effective_from.isoformat())
    except IntegrityError:
        raise Conflict(f"「{area.name}」在 {effective_from.isoformat()} 已有生效的{KINDS[standard.kind]}。") from None
    return standard


async def in_force(area: Area, kind: str, on: date) -> SubsistenceStandard | None:
    """The standard of `kind` that applies to `area` on `on`: the latest in force of the nearest area that has one."""
    for area_id in (area.community_id, area.township_id, area.county_id):
        if area_id is None:
            continue
        found = await SubsistenceStandard.filter(area_id=area_id, kind=kind, effective_from__lte=on).order_by(
            "-effective_from").first()
        if found is not None:
            return found
    return None
