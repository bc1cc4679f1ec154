"""The service catalogue (社会工作服务项目清单): categories of services that needs and offers refer to."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.core import audit
from server.core.caller import Caller
from server.core.clock import now
from server.core.problems import CatalogueItemNotFound, Conflict, invalid
from server.models import CatalogueCategory, CatalogueItem, Need, ProviderOffer

OPEN_NEEDS = ("raised", "dispatched", "accepted", "in_service")


async def get_catalogue() -> list[dict]:
    """Every category and item, retired ones too (marked): old needs, offers and forms still show their names."""
    categories = await CatalogueCategory.all().order_by("position").prefetch_related("items")
    return [
        {
            "code": category.code,
            "name": category.name,
            "items": [item_as_api(i) for i in sorted(category.items, key=lambda i: i.position)],
        }
        for category in categories
    ]


def item_as_api(item: CatalogueItem) -> dict:
    return {"code": item.code, "name": item.name, "category": item.category_id, "retired": item.retired_at is not None,
            "days": {"normal": item.days_normal, "high": item.days_high, "urgent": item.days_urgent}}


async def add_item(caller: Caller, body: dict) -> CatalogueItem:
    category = await CatalogueCategory.get_or_none(code=body["category"])
    if category is None:
        raise invalid("/category", "没有这个服务类别")
    position = await CatalogueItem.filter(category_id=category.code).count()
    item = CatalogueItem(code=body["code"], name=body["name"], category_id=category.code, position=position,
                         **{f"days_{k}": v for k, v in body.get("days", {}).items()})
    try:
        async with in_transaction():
            await item.save(force_create=True)
            await audit.record(caller, "catalogue.item_added", "catalogue_item", item.code, name=item.name)
    except IntegrityError:
        raise Conflict("该项目代号已被使用。") from None
    return item


async def change_item(caller: Caller, code: str, body: dict) -> CatalogueItem:
    """Rename an item, set its default deadlines, retire it or bring it back. An item is never deleted; one that
    open needs or current offers use is not retired (they would point at a service no one may choose)."""
    item = await CatalogueItem.get_or_none(code=code)
    if item is None:
        raise CatalogueItemNotFound()
    if body.get("retired") is True and item.retired_at is None:
        if await Need.filter(item=code, status__in=OPEN_NEEDS).exists():
            raise Conflict("仍有未办结的需求使用该项目，不能停用；请先办结或关闭这些需求。")
        if await ProviderOffer.filter(item=code).exists():
            raise Conflict("仍有服务机构的供给清单提供该项目，不能停用；请先请其更新供给清单。")
        item.retired_at = now()
    elif body.get("retired") is False:
        item.retired_at = None
    if "name" in body:
        item.name = body["name"]
    for urgency, days in body.get("days", {}).items():
        setattr(item, f"days_{urgency}", days)
    async with in_transaction():
        await item.save()
        await audit.record(caller, "catalogue.item_changed", "catalogue_item", item.code, **body)
    return item


async def load_catalogue(categories: list[dict]) -> int:
    """Add the categories and items that are missing, each after those already in its list; how many were added.

    What exists is left as it is: an admin may have renamed, retired or re-timed a built-in item, and loading the
    built-ins again after an upgrade (`doorstep load-builtins`) must not undo it. Nothing is deleted either, since
    needs and offers point at items."""
    added = 0
    async with in_transaction():
        known = set(await CatalogueCategory.all().values_list("code", flat=True))
        items = set(await CatalogueItem.all().values_list("code", flat=True))
        for data in categories:
            if data["code"] not in known:
                await CatalogueCategory.create(code=data["code"], name=data["name"],
                                               position=await CatalogueCategory.all().count())
                known.add(data["code"])
                added += 1
            position = await CatalogueItem.filter(category_id=data["code"]).count()
            for item in data["items"]:
                if item["code"] in items:
                    continue
                await CatalogueItem.create(code=item["code"], name=item["name"], category_id=data["code"],
                                           position=position)
                items.add(item["code"])
                position, added = position + 1, added + 1
    return added
