"""Closing a month of needs: once the month is over, the township approves its report, which freezes it; then the
county (the bureau) approves the frozen report. Each step is a conditional write (the month's row is unique per
township and month; the county's approval changes the row only while it awaits it), so two clicks at once give one
approval and one 409."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError

from server.core import audit
from server.core.caller import Caller
from server.core.clock import now
from server.core.ids import parse_id
from server.core.problems import Conflict, invalid
from server.core.scope import visible
from server.models import Area, NeedsMonth
from server.needs.reading import month_range
from server.needs.reports import needs_report
from server.settings import Settings

STATE_NAMES = {"township_approved": "乡镇（街道）已审核", "county_approved": "区（县）已审核"}


async def approve_month(caller: Caller, settings: Settings, body: dict) -> NeedsMonth:
    """The next approval of a township's month: the township's own (supervisors), then the county's (the bureau);
    an admin takes whichever step is next."""
    township = await (await visible(caller, Area)).filter(id=parse_id(body["area"], pointer="/area")).first()
    if township is None or township.level != "township":
        raise invalid("/area", "请选择辖区内的乡镇（街道）")
    _, end = month_range(settings, body["month"])
    if end > now():
        raise invalid("/month", "该月尚未结束，不能结账")
    existing = await NeedsMonth.get_or_none(area_id=township.id, month=body["month"])
    if caller.role == "supervisor" or (caller.role == "admin" and existing is None):
        if existing is not None:
            raise Conflict("该月的需求统计已由乡镇（街道）审核并冻结。")
        report = await needs_report(caller, settings, str(township.id), body["month"])
        row = NeedsMonth(area_id=township.id, month=body["month"], report=report, state="township_approved",
                         township_by_id=caller.id, township_at=now())
        try:
            await row.save(force_create=True)
        except IntegrityError:
            raise Conflict("该月的需求统计已由乡镇（街道）审核并冻结。") from None
        await audit.record(caller, "needs_month.township_approved", "needs_month", row.id, area=str(township.id),
                           month=body["month"])
        return row
    if existing is None:
        raise Conflict("该月的需求统计尚未经乡镇（街道）审核，区（县）不能审核。")
    stamp = now()
    changed = await NeedsMonth.filter(id=existing.id, state="township_approved").update(
        state="county_approved", county_by_id=caller.id, county_at=stamp)
    if not changed:
        raise Conflict("该月的需求统计已由区（县）审核。")
    await audit.record(caller, "needs_month.county_approved", "needs_month", existing.id, area=str(township.id),
                       month=body["month"])
    return await NeedsMonth.get(id=existing.id)


async def frozen(area_id: str | None, month: str) -> NeedsMonth | None:
    """The closed month of this township, if it is one."""
    if not area_id:
        return None
    return await NeedsMonth.get_or_none(area_id=parse_id(area_id, pointer="/area"), month=month)


def approval_as_api(row: NeedsMonth) -> dict:
    return {"state": row.state, "state_name": STATE_NAMES[row.state],
            "township_by": str(row.township_by_id) if row.township_by_id else None,
            "township_at": row.township_at.isoformat(),
            "county_by": str(row.county_by_id) if row.county_by_id else None,
            "county_at": row.county_at.isoformat() if row.county_at else None}


async def report_of(caller: Caller, settings: Settings, area: str | None, month: str) -> dict:
    """The report of a month: the frozen copy once the township closed it, computed afresh otherwise."""
    report = await needs_report(caller, settings, area, month)  # checks the area and month, scoped
    closed = await frozen(area, month)
    if closed is None:
        return report | {"approval": None}
    return closed.report | {"approval": approval_as_api(closed)}
