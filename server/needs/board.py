"""The monthly dispatch board (月调度): before the 25th of each month a township goes through the needs raised and not
yet dispatched, those due before the 25th, and the overdue ones by provider; the bureau sees the same rolled up by
township. Reminders are this data, which the console and the field app show: no mail server.

Counts come from GROUP BY statements; the lists are the oldest few of each kind, a page each.
"""

from __future__ import annotations

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

from tortoise.functions import Count

from server.core.caller import Caller
from server.core.clock import now
from server.core.ids import parse_id
from server.core.problems import invalid
from server.core.scope import under, visible
from server.models import Area, Need, Provider
from server.needs.reading import OPEN, shaped
from server.settings import Settings

DISPATCH_DAY = 25  # the monthly dispatch is held before the 25th
LISTED = 50
CHILD = {"county": "township_id", "township": "community_id", "community": "community_id"}


async def dispatch_board(caller: Caller, settings: Settings, area: str | None) -> dict:
    zone = ZoneInfo(settings.station_timezone)
    stamp = now()
    today = stamp.astimezone(zone).date()
    deadline = today.replace(day=DISPATCH_DAY) if today.day < DISPATCH_DAY else \
        today.replace(year=today.year + (today.month == 12), month=today.month % 12 + 1, day=DISPATCH_DAY)
    cutoff = datetime.combine(deadline, time(0), zone).astimezone(timezone.utc)
    query = await visible(caller, Need)
    level = None
    if area:
        found = await (await visible(caller, Area)).filter(id=parse_id(area, pointer="/area")).first()
        if found is None:
            raise invalid("/area", "该区域不存在或不在您的管辖范围内")
        query, level = query.filter(under(Need, found.id)), found.level
    open_needs = query.filter(status__in=OPEN)
    kinds = {
        "undispatched": query.filter(status="raised"),
        "due_before_dispatch_day": open_needs.filter(due_at__gte=stamp, due_at__lt=cutoff),
        "overdue": open_needs.filter(due_at__lt=stamp),
    }
    child = CHILD[level] if level else ("community_id" if caller.role == "supervisor" else "township_id")
    rows: dict[str, dict] = {}
    for kind, within in kinds.items():
        for row in await within.annotate(n=Count("id")).group_by(f"household__community__{child}").values(
                "n", key=f"household__community__{child}"):
            rows.setdefault(str(row["key"]), {k: 0 for k in kinds})[kind] = row["n"]
    names = {str(i): n for i, n in await Area.filter(id__in=list(rows)).values_list("id", "name")}
    by_provider = []
    overdue_by_provider = await kinds["overdue"].filter(provider_id__isnull=False).annotate(n=Count("id")).group_by(
        "provider_id").values("provider_id", "n")
    providers = dict(await Provider.filter(id__in=[r["provider_id"] for r in overdue_by_provider]).values_list(
        "id", "name"))
    for row in overdue_by_provider:
        by_provider.append({"provider": str(row["provider_id"]), "provider_name": providers.get(row["provider_id"]),
                            "overdue": row["n"]})
    return {
        "as_of": today.isoformat(),
        "dispatch_day": deadline.isoformat(),
        "totals": {kind: sum(r[kind] for r in rows.values()) for kind in kinds},
        "by_area": sorted(({"area": k, "name": names.get(k)} | v for k, v in rows.items()),
                          key=lambda r: (r["name"] or "", r["area"])),
        "overdue_by_provider": sorted(by_provider, key=lambda r: (-r["overdue"], r["provider_name"] or "")),
        **{kind: await shaped(caller, await within.order_by(*order).limit(LISTED))
           for kind, within, order in (("undispatched_needs", kinds["undispatched"], ("raised_at", "id")),
                                       ("due_needs", kinds["due_before_dispatch_day"], ("due_at", "id")),
                                       ("overdue_needs", kinds["overdue"], ("due_at", "id")))},
    }

