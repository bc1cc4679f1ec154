"""Providers and the supply list (供给清单): the organisations, their users, the areas they serve, and their offers
(item, monthly capacity, free or priced, contact), which their own users keep current; and whether a provider can
take a need (serves its community, offers its item, has capacity left this month)."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from tortoise.expressions import F, Q
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from server.core import audit
from server.core.caller import Caller
from server.core.clock import now
from server.core.ids import parse_id
from server.core.pagination import Page, paginate
from server.core.problems import FieldProblem, InvalidInput, ProviderNotFound, invalid
from server.core.scope import scope_of, visible
from server.models import Area, CatalogueItem, Household, Need, Provider, ProviderArea, ProviderOffer, User
from server.settings import Settings


async def visible_providers(caller: Caller) -> Q:
    """Admins see every provider; a provider's user its own; others those serving an area that meets theirs."""
    if caller.role == "admin":
        return Q()
    if caller.role == "provider":
        return Q(id=caller.user.provider_id)
    scope = await scope_of(caller)
    below = ProviderArea.filter(scope.areas("area__")).values_list("provider_id", flat=True)
    above = ProviderArea.filter(area_id__in=list(scope.above)).values_list("provider_id", flat=True)
    return Q(id__in=list({*await below, *await above}))


async def list_providers(caller: Caller, cursor: str | None) -> Page:
    page = await paginate(Provider.filter(await visible_providers(caller)), cursor, order=("name", "id"),
                          shape=lambda p: p)
    page.items = await as_api(page.items)
    return page


async def get_provider(caller: Caller, provider_id: str) -> Provider:
    found = await Provider.filter(await visible_providers(caller), id=parse_id(provider_id, ProviderNotFound)).first()
    if found is None:
        raise ProviderNotFound()
    return found


async def create_provider(caller: Caller, body: dict) -> Provider:
    """A provider and the areas it serves (communities, townships or a county)."""
    area_ids = [parse_id(a, pointer=f"/areas/{i}") for i, a in enumerate(body["areas"])]
    known = set(await (await visible(caller, Area)).filter(id__in=area_ids).values_list("id", flat=True))
    errors = [FieldProblem(f"/areas/{i}", "该区域不存在或不在您的管辖范围内") for i, a in enumerate(area_ids)
              if a not in known]
    if errors:
        raise InvalidInput(errors=errors)
    provider = Provider(id=uuid.uuid4(), name=body["name"])
    async with in_transaction():
        await provider.save(force_create=True)
        await ProviderArea.bulk_create([ProviderArea(provider_id=provider.id, area_id=a) for a in dict.fromkeys(area_ids)])
        await audit.record(caller, "provider.created", "provider", provider.id, name=provider.name)
    return provider


async def as_api(providers: list[Provider]) -> list[dict]:
    ids = [p.id for p in providers]
    areas: dict[uuid.UUID, list[str]] = {}
    for provider_id, area_id in await ProviderArea.filter(provider_id__in=ids).order_by("area_id").values_list(
            "provider_id", "area_id"):
        areas.setdefault(provider_id, []).append(str(area_id))
    users: dict[uuid.UUID, list[dict]] = {}
    for user in await User.filter(provider_id__in=ids).order_by("username").values(
            "id", "username", "display_name", "is_active", "provider_id"):
        users.setdefault(user["provider_id"], []).append(
            {"id": str(user["id"]), "username": user["username"], "display_name": user["display_name"],
             "is_active": user["is_active"]})
    return [{"id": str(p.id), "name": p.name, "areas": areas.get(p.id, []), "users": users.get(p.id, []),
             "created_at": p.created_at.isoformat()} for p in providers]


# --- Offers -------------------------------------------------------------------------------------------------------

def month_start(settings: Settings, at: datetime) -> tuple[datetime, datetime]:
    """This month on the stations' clock: its first instant and the next month's."""
    local = at.astimezone(ZoneInfo(settings.station_timezone))
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)
    return start, end


async def taken_this_month(settings: Settings, provider_ids: list[uuid.UUID], items: list[str], at: datetime,
                           besides: uuid.UUID | None = None) -> dict[tuple[uuid.UUID, str], int]:
    """(provider, item) → needs dispatched to it this month (and not declined since): one GROUP BY."""
    start, end = month_start(settings, at)
    query = Need.filter(provider_id__in=provider_ids, item__in=items, dispatched_at__gte=start, dispatched_at__lt=end)
    if besides is not None:
        query = query.exclude(id=besides)
    rows = await query.annotate(n=Count("id")).group_by("provider_id", "item").values("provider_id", "item", "n")
    return {(r["provider_id"], r["item"]): r["n"] for r in rows}


async def read_offers(caller: Caller, settings: Settings, provider_id: str) -> list[dict]:
    provider = await get_provider(caller, provider_id)
    offers = await ProviderOffer.filter(provider_id=provider.id).order_by("item")
    names = dict(await CatalogueItem.filter(code__in=[o.item for o in offers]).values_list("code", "name"))
    taken = await taken_this_month(settings, [provider.id], [o.item for o in offers], now())
    return [{"item": o.item, "item_name": names.get(o.item), "monthly_capacity": o.monthly_capacity,
             "taken_this_month": taken.get((provider.id, o.item), 0), "free": o.free, "price": o.price,
             "contact": o.contact, "updated_at": o.updated_at.isoformat()} for o in offers]


async def replace_offers(caller: Caller, settings: Settings, provider_id: str, body: dict) -> list[dict]:
    """The provider's whole supply list, as its own user (or an admin) keeps it."""
    provider = await get_provider(caller, provider_id)
    if caller.role == "provider" and caller.user.provider_id != provider.id:
        raise ProviderNotFound()
    lines = body["offers"]
    current = set(await ProviderOffer.filter(provider_id=provider.id).values_list("item", flat=True))
    items = {i.code: i for i in await CatalogueItem.filter(code__in=[o["item"] for o in lines])}
    errors = []
    for i, line in enumerate(lines):
        item = items.get(line["item"])
        if item is None or (item.retired_at is not None and line["item"] not in current):
            errors.append(FieldProblem(f"/offers/{i}/item", "服务项目不存在或已停用"))
        if not line["free"] and not line.get("price"):
            errors.append(FieldProblem(f"/offers/{i}/price", "收费的服务请写明价格"))
    seen: dict[str, int] = {}
    for i, line in enumerate(lines):
        if line["item"] in seen:
            errors.append(FieldProblem(f"/offers/{i}/item", f"与第 {seen[line['item']] + 1} 行的服务项目重复"))
        seen.setdefault(line["item"], i)
    if errors:
        raise InvalidInput(errors=errors)
    stamp = now()
    async with in_transaction():
        await ProviderOffer.filter(provider_id=provider.id).delete()
        await ProviderOffer.bulk_create([ProviderOffer(
            provider_id=provider.id, item=line["item"], monthly_capacity=line["monthly_capacity"], free=line["free"],
            price=None if line["free"] else line.get("price"), contact=line["contact"], updated_at=stamp)
            for line in lines])
        await audit.record(caller, "provider.offers", "provider", provider.id, items=[o["item"] for o in lines])
    return await read_offers(caller, settings, provider_id)


async def serves(provider_ids: list[uuid.UUID], community: Area) -> set[uuid.UUID]:
    """Those of the providers that serve the community (it, its township or its county)."""
    areas = [a for a in (community.id, community.township_id, community.county_id) if a]
    return set(await ProviderArea.filter(provider_id__in=provider_ids, area_id__in=areas).values_list(
        "provider_id", flat=True))


async def check_can_take(settings: Settings, need: Need, raw_provider: str, at: datetime) -> Provider:
    """The provider a need is dispatched to, if it serves the need's community, offers its item and has capacity
    left this month; a 422 at /provider saying which it lacks otherwise."""
    provider = await Provider.get_or_none(id=parse_id(raw_provider, pointer="/provider"))
    if provider is None:
        raise invalid("/provider", "该服务机构不存在")
    household = await Household.get(id=need.household_id)
    community = await Area.get(id=household.community_id)
    if not await serves([provider.id], community):
        raise invalid("/provider", f"「{provider.name}」不服务该户所在的社区（村）")
    offer = await ProviderOffer.get_or_none(provider_id=provider.id, item=need.item)
    if offer is None:
        raise invalid("/provider", f"「{provider.name}」的供给清单中没有该服务项目")
    # A row lock on the offer until the dispatch commits (an UPDATE that changes nothing; SQLite writes one at a
    # time anyway): a second dispatch to it waits here, then counts the place the first one took.
    await ProviderOffer.filter(id=offer.id).update(monthly_capacity=F("monthly_capacity"))
    taken = (await taken_this_month(settings, [provider.id], [need.item], at, besides=need.id)).get(
        (provider.id, need.item), 0)
    if taken >= offer.monthly_capacity:
        raise invalid("/provider", f"「{provider.name}」本月该项目的 {offer.monthly_capacity} 个名额已满")
    return provider
