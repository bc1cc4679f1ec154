"""Visit plans (助老敲门, 护童 follow-ups): who is due a visit, and how far behind each community and worker is.

Each ledger line carries its plan (`ledger_rules.PLANS`: weekly for elders living alone, monthly for other elders
and for children in difficulty, …) and the date its next visit is due: the household's last visit plus the plan's
days. Any submission for the household is a visit, whoever made it and whatever form it was. Days are counted on
the station's calendar: a line due today is due (0 days overdue), one due yesterday is 1 day overdue.

A worker is counted for each community assigned to them; a community shared by two workers counts for both, and a
community without a worker shows only in the community counts, which is where a supervisor needs to see it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from tortoise.functions import Count

from server.core.caller import Caller
from server.core.ids import parse_id
from server.core.pagination import Page, paginate
from server.core.problems import invalid
from server.core.scope import under, visible
from server.core.sensitive import mask_id_number
from server.households import ledger_rules
from server.households.ledgers import lines, on_clock, station_today
from server.models import Area, LedgerEntry, UserArea
from server.settings import Settings


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    """The start of a day on the station's calendar, in UTC as times are stored (SQLite compares them as text)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc)


def _kind(kind: str | None) -> str | None:
    if kind and kind not in ledger_rules.KINDS:
        raise invalid("/kind", "台账种类应为 " + "、".join(ledger_rules.KINDS))
    return kind or None


async def due(caller: Caller, settings: Settings, filters: dict, cursor: str | None) -> Page:
    """The lines whose visit is due today or overdue, in the caller's areas (or `area`), most overdue first."""
    today, zone = station_today(settings), ZoneInfo(settings.station_timezone)
    query = (await lines(caller, _kind(filters.get("kind")), filters.get("area"), today)).filter(
        due_at__lt=_midnight(today + timedelta(days=1), zone))
    return await paginate(query.select_related("household__community", "member"), cursor, order=("due_at", "id"),
                          shape=lambda entry: due_as_api(entry, today, zone))


def due_as_api(entry: LedgerEntry, today: date, zone: ZoneInfo) -> dict:
    household = entry.household
    member = entry.member.data if entry.member_id and entry.member else {}
    plan = next((p for p in ledger_rules.PLANS if p.kind == entry.kind and p.code == entry.plan), None)
    last = on_clock(entry.last_visit_at, zone)
    due_on = entry.due_at.astimezone(zone).date()
    return {
        "id": str(entry.id),
        "kind": entry.kind,
        "household": str(entry.household_id),
        "member": str(entry.member_id) if entry.member_id else None,
        "name": member.get("name") if entry.member_id else (household.situation.get("head_name") or household.head),
        "id_number": mask_id_number(member.get("id_number")),
        "community": str(household.community_id),
        "community_name": household.community.name,
        "address": household.situation.get("address") or household.address,
        "phone": member.get("phone") or household.situation.get("phone") or household.phone,
        "plan": {"code": entry.plan, "reason": plan.reason if plan else None, "every_days": entry.every_days},
        "last_visit_at": last.isoformat() if last else None,
        "last_visit_on": last.date().isoformat() if last else None,
        "due_on": due_on.isoformat(),
        "days_overdue": (today - due_on).days,
    }


async def overdue(caller: Caller, settings: Settings, area: str | None) -> dict:
    """Counts of lines overdue and due today, by community (every community in reach, in the order of their codes)
    and by worker (each active worker assigned to one of them, most overdue first)."""
    today, zone = station_today(settings), ZoneInfo(settings.station_timezone)
    query = await lines(caller, None, area, today)
    start, end = _midnight(today, zone), _midnight(today + timedelta(days=1), zone)
    late = await _by_community(query.filter(due_at__lt=start))
    due_today = await _by_community(query.filter(due_at__gte=start, due_at__lt=end))

    communities = (await visible(caller, Area)).filter(level="community")
    if area:  # `lines` has checked it is in the caller's reach
        communities = communities.filter(under(Area, parse_id(area, pointer="/area")))
    communities = await communities.order_by("code")
    counted = [{"id": str(c.id), "code": c.code, "name": c.name, "township": str(c.township_id),
                "overdue": late.get(c.id, 0), "due_today": due_today.get(c.id, 0)} for c in communities]

    workers: dict = {}
    links = UserArea.filter(area_id__in=[c.id for c in communities], user__role="worker", user__is_active=True)
    for user_id, username, name, area_id in await links.order_by("area__code").values_list(
            "user_id", "user__username", "user__display_name", "area_id"):
        worker = workers.setdefault(user_id, {"id": str(user_id), "username": username, "display_name": name,
                                              "communities": [], "overdue": 0, "due_today": 0})
        worker["communities"].append(str(area_id))
        worker["overdue"] += late.get(area_id, 0)
        worker["due_today"] += due_today.get(area_id, 0)
    return {
        "as_of": today.isoformat(),
        "overdue": sum(late.values()),
        "due_today": sum(due_today.values()),
        "communities": counted,
        "workers": sorted(workers.values(), key=lambda w: (-w["overdue"], -w["due_today"], w["username"])),
    }


async def _by_community(query) -> dict:
    rows = await query.annotate(n=Count("id")).group_by("household__community_id").values_list(
        "household__community_id", "n")
    return {community: n for community, n in rows}
