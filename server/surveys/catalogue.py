"""The service catalogue (社会工作服务项目清单): categories of services that needs and offers refer to."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from server.models import CatalogueCategory, CatalogueItem


async def get_catalogue() -> list[dict]:
    categories = await CatalogueCategory.all().order_by("position").prefetch_related("items")
    return [
        {
            "code": category.code,
            "name": category.name,
            "items": [{"code": i.code, "name": i.name} for i in sorted(category.items, key=lambda i: i.position)],
        }
        for category in categories
    ]


async def load_catalogue(categories: list[dict]) -> int:
    """Add or rename categories and items; an item is never deleted, since needs and offers point at it."""
    changed = 0
    async with in_transaction():
        for position, data in enumerate(categories):
            category, created = await CatalogueCategory.get_or_create(
                code=data["code"], defaults={"name": data["name"], "position": position}
            )
            if not created and (category.name, category.position) != (data["name"], position):
                category.name, category.position = data["name"], position
                await category.save()
            changed += created
            for item_position, item_data in enumerate(data["items"]):
                item, created = await CatalogueItem.get_or_create(
                    code=item_data["code"], defaults={"name": item_data["name"], "category": category, "position": item_position}
                )
                if not created and (item.name, item.category_id, item.position) != (item_data["name"], category.code, item_position):
                    item.name, item.category_id, item.position = item_data["name"], category.code, item_position
                    await item.save()
                changed += created
    return changed
