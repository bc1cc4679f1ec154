"""Ledgers (台账): their lines kept in step with the household files, and read a page at a time.

Who is on which ledger is decided by `ledger_rules` from what the file holds; `sync` writes it down as
`LedgerEntry` rows whenever a file changes (a submission, a correction, a settled conflict), in the transaction
that changes it, with the household row locked. Each line carries the household's last visit and when the next one
is due, so the due lists (`visit_plans`) are one indexed query.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from forms.bindings import MEMBER_TAGS
from server.core import audit
from server.core.caller import Caller
from server.core.clock import now
from server.core.ids import parse_id
from server.core.pagination import Page, paginate
from server.core.problems import AreaNotFound, LedgerNotFound
from server.core.scope import get_visible, under, visible
from server.households import ledger_columns, ledger_rules
from server.models import Area, Household, HouseholdTag, LedgerEntry, Member, Visit
from server.settings import Settings


def station_today(settings: Settings) -> date:
    return now().astimezone(ZoneInfo(settings.station_timezone)).date()


async def sync(settings: Settings, household: Household, members: Iterable[Member] | None = None) -> None:
    """Rewrite the household's ledger lines and tags from its file as it now stands. `members` are its members, if
    the caller has them at hand (removed ones are skipped)."""
    hid = household.id
    if members is None:
        members = await Member.filter(household_id=hid, removed_at__isnull=True).order_by("created_at", "id")
    living = [(m.id, m.data) for m in members if m.removed_at is None]
    wanted = ledger_rules.entries_for(household.situation, living, station_today(settings))
    last = await Visit.filter(household_id=hid).order_by("-observed_at").first().values_list("observed_at", flat=True)
    existing = {(e.member_id, e.kind): e for e in await LedgerEntry.filter(household_id=hid)}
    stamp = now()
    new = []
    for key, line in wanted.items():
        due = (last or stamp) + timedelta(days=line.plan.every_days)  # never visited: due a plan's length from now
        values = {"plan": line.plan.code, "every_days": line.plan.every_days, "birth_date": line.birth_date,
                  "last_visit_at": last, "due_at": due}
        entry = existing.get(key)
        if entry is None:
            # Lines put on a ledger together keep the order of the members in the file (the form's rows).
            joined = stamp + timedelta(microseconds=len(new))
            new.append(LedgerEntry(household_id=hid, member_id=line.member, kind=line.kind, created_at=joined,
                                   updated_at=stamp, **values))
        elif any(getattr(entry, name) != value for name, value in values.items()):
            entry.update_from_dict(values | {"updated_at": stamp})
            await entry.save(update_fields=[*values, "updated_at"])
    gone = [e.id for key, e in existing.items() if key not in wanted]
    if gone:
        await LedgerEntry.filter(id__in=gone).delete()
    if new:
        await LedgerEntry.bulk_create(new)
    await _sync_tags(hid, tags_of(household.situation, [data for _, data in living]))


def tags_of(situation: dict, members: list[dict]) -> set[str]:
    """The tags a household is found by: its members' and its 救助类型 (`ledger_rules.household_tags`), the known
    ones only."""
    return ledger_rules.household_tags(situation, members) & MEMBER_TAGS.keys()


async def _sync_tags(hid, wanted: set[str]) -> None:
    existing = set(await HouseholdTag.filter(household_id=hid).values_list("tag", flat=True))
    if existing - wanted:
        await HouseholdTag.filter(household_id=hid, tag__in=sorted(existing - wanted)).delete()
    if wanted - existing:
        await HouseholdTag.bulk_create([HouseholdTag(household_id=hid, tag=t) for t in sorted(wanted - existing)])


def parse_kind(kind: str) -> str:
    if kind not in ledger_rules.KINDS:
        raise LedgerNotFound()
    return kind


async def lines(caller: Caller, kind: str | None, area: str | None, today: date) -> QuerySet[LedgerEntry]:
    """The ledger lines the caller may see, of one kind (or all), in an area of theirs (or all of them). An area
    outside the caller's scope is answered like one that does not exist; children of 18 are no longer listed."""
    query = (await visible(caller, LedgerEntry)).filter(current(today))
    if kind is not None:
        query = query.filter(kind=kind)
    if area:
        parse_id(area, pointer="/area")  # a malformed id is bad input (422); a well-formed one out of reach, 404
        found = await get_visible(caller, Area, area, AreaNotFound)
        query = query.filter(under(LedgerEntry, found.id))
    return query


def current(today: date) -> Q:
    """Lines still true today: a child's line ends on the 18th birthday (the birth date may be unknown)."""
    return Q(Q(kind__not="children"), Q(birth_date__isnull=True), Q(birth_date__gt=ledger_rules.adult_from(today)),
             join_type=Q.OR)


async def read_ledger(caller: Caller, settings: Settings, kind: str, area: str | None, cursor: str | None) -> Page:
    """One page of a ledger, in the order people were put on it; each line as the XLSX shows it."""
    kind = parse_kind(kind)
    today = station_today(settings)
    query = await lines(caller, kind, area, today)
    zone = ZoneInfo(settings.station_timezone)
    page = await paginate(query, cursor, order=("created_at", "id"), shape=lambda entry: entry.id)
    records = await LedgerEntry.filter(id__in=page.items).order_by("created_at", "id").values(*ledger_columns.FIELDS)
    rows = await ledger_columns.rows(kind, records, today, zone)
    page.items = [ledger_columns.as_api(kind, record, row) for record, row in zip(records, rows)]
    if not cursor:  # a reading, not each of its pages
        await audit.record(caller, "ledger.read", "ledger", kind, area=area)
    return page


def on_clock(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    return value.astimezone(zone) if value else None
