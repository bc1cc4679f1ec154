"""Reading needs: the list by area, status, category and month, one need with its events and proofs, and what a
provider's user sees of them (only those dispatched to its organisation, with the least household detail)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from tortoise.queryset import QuerySet

from server.core.caller import Caller
from server.core.clock import now
from server.core.ids import parse_id
from server.core.pagination import Page, paginate
from server.core.problems import NeedNotFound, invalid
from server.core.scope import under, visible
from server.core.sensitive import mask_id_numbers_in, mask_name
from server.models import Area, CatalogueItem, Household, Need, NeedAttachment, NeedEvent, Provider
from server.models.needs import STATUSES
from server.settings import Settings

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
OPEN = ("raised", "dispatched", "accepted", "in_service")


async def visible_needs(caller: Caller) -> QuerySet[Need]:
    """Staff see the needs of the households in their areas; a provider's user those dispatched to its
    organisation (and still its own: a declined need leaves it)."""
    if caller.role == "provider":
        return Need.filter(provider_id=caller.user.provider_id) if caller.user.provider_id else Need.filter(id__in=[])
    return await visible(caller, Need)


async def get_need(caller: Caller, need_id: object) -> Need:
    found = await (await visible_needs(caller)).filter(id=parse_id(need_id, NeedNotFound)).first()
    if found is None:
        raise NeedNotFound()
    return found


def month_range(settings: Settings, month: str, pointer: str = "/month") -> tuple[datetime, datetime]:
    """The first instant of the month and of the next, on the stations' clock."""
    found = MONTH.match(month)
    if not found:
        raise invalid(pointer, "月份应写作 YYYY-MM，例如 2025-03")
    year, number = int(found.group(1)), int(found.group(2))
    zone = ZoneInfo(settings.station_timezone)
    start = datetime(year, number, 1, tzinfo=zone)
    end = datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=zone)
    return start, end


async def list_needs(caller: Caller, settings: Settings, filters: dict, cursor: str | None) -> Page:
    query = await visible_needs(caller)
    if area := filters.get("area"):
        area_id = parse_id(area, pointer="/area")
        if not await (await visible(caller, Area)).filter(id=area_id).exists() and caller.role != "provider":
            raise invalid("/area", "该区域不存在或不在您的管辖范围内")
        query = query.filter(under(Need, area_id))
    if status := filters.get("status"):
        if status == "overdue":
            query = query.filter(status__in=OPEN, due_at__lt=now())
        elif status == "open":  # every state still to be done, in one request (the phone's My work)
            query = query.filter(status__in=OPEN)
        elif status in STATUSES:
            query = query.filter(status=status)
        else:
            raise invalid("/status", "没有这种状态")
    if category := filters.get("category"):
        query = query.filter(category=category)
    if month := filters.get("month"):
        start, end = month_range(settings, month)
        query = query.filter(raised_at__gte=start, raised_at__lt=end)
    page = await paginate(query, cursor, order=("-raised_at", "-id"), shape=lambda n: n)
    page.items = await shaped(caller, page.items)
    return page


async def shaped(caller: Caller, needs: list[Need]) -> list[dict]:
    """The needs as the caller may see them, with the names they refer to: four queries whatever their number."""
    if not needs:
        return []
    households = {h.id: h for h in await Household.filter(id__in={n.household_id for n in needs})}
    communities = dict(await Area.filter(id__in={h.community_id for h in households.values()}).values_list(
        "id", "name"))
    items = dict(await CatalogueItem.filter(code__in={n.item for n in needs}).values_list("code", "name"))
    providers = dict(await Provider.filter(id__in={n.provider_id for n in needs if n.provider_id}).values_list(
        "id", "name"))
    as_provider = caller.role == "provider"
    return [as_api(n, households[n.household_id], communities.get(households[n.household_id].community_id),
                   items.get(n.item), providers.get(n.provider_id), as_provider) for n in needs]


def is_overdue(need: Need, at: datetime | None = None) -> bool:
    return need.status in OPEN and need.due_at < (at or now())


def as_api(need: Need, household: Household, community_name: str | None, item_name: str | None,
           provider_name: str | None, as_provider: bool) -> dict:
    member = mask_id_numbers_in(need.member)
    if as_provider:
        # The least the service needs: the community, masked names, the contact the household agreed to share.
        member = None if member is None or _is_uuid(member) else mask_name(member)
    return {
        "id": str(need.id),
        "household": None if as_provider else str(household.id),
        "head": mask_name(household.head) if as_provider else household.head,
        "address": None if as_provider else household.address,
        "community": str(household.community_id),
        "community_name": community_name,
        "member": member,
        "item": need.item,
        "item_name": item_name,
        "category": need.category,
        "urgency": need.urgency,
        "description": mask_id_numbers_in(need.description),  # whatever a worker typed into it
        "status": need.status,
        "version": need.version,
        "overdue": is_overdue(need),
        "consent": need.consent,
        "contact": need.contact if need.consent else None,
        "submission": None if as_provider or need.submission_id is None else str(need.submission_id),
        "raised_by": None if as_provider or need.raised_by_id is None else str(need.raised_by_id),
        "raised_at": need.raised_at.isoformat(),
        "due_at": need.due_at.isoformat(),
        "provider": str(need.provider_id) if need.provider_id else None,
        "provider_name": provider_name,
        **{f"{name}_at": _iso(getattr(need, f"{name}_at")) for name in ("dispatched", "accepted", "started", "done",
                                                                          "closed")},
        "rating": need.rating,
    }


async def need_detail(caller: Caller, need: Need) -> dict:
    """One need, with every action on it and its proof photos."""
    [reply] = await shaped(caller, [need])
    events = await NeedEvent.filter(need_id=need.id).order_by("at", "id")
    proofs = await NeedAttachment.filter(need_id=need.id).order_by("attachment_id").values_list(
        "attachment_id", flat=True)
    return reply | {"events": [_event_as_api(caller, e) for e in events], "proofs": list(proofs)}


def _event_as_api(caller: Caller, e: NeedEvent) -> dict:
    """An event as the caller may read it. A provider sees what happened and when; who acted only on its own steps,
    and nothing of another provider's (which one it was, who declined, why)."""
    if caller.role != "provider":
        return {"action": e.action, "from_status": e.from_status, "to_status": e.to_status, "actor": _str(e.actor_id),
                "actor_name": e.actor_name, "provider": _str(e.provider_id), "at": e.at.isoformat(),
                "reason": e.reason, "detail": e.detail}
    own = e.provider_id == caller.user.provider_id
    other = e.provider_id is not None and not own
    return {"action": e.action, "from_status": e.from_status, "to_status": e.to_status,
            "actor": _str(e.actor_id) if own else None, "actor_name": None if other else e.actor_name,
            "provider": _str(e.provider_id) if own else None, "at": e.at.isoformat(),
            "reason": None if other else e.reason, "detail": {}}


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _str(value) -> str | None:
    return None if value is None else str(value)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None

