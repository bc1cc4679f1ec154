"""Conflicts on a household file: two offline observations of one field that disagreed, made without knowledge of
each other. The later one won when it arrived (see `observations`); a supervisor confirms it or puts the other back."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from server.core import audit
from server.core.caller import Caller
from server.core.clock import now
from server.core.pagination import Page, paginate
from server.core.problems import Conflict, ConflictNotFound, invalid
from server.core.scope import get_visible
from server.households.members import masked_value
from server.households.observations import Meta, restore, unbox
from server.households.registry import get_household
from server.models import HouseholdConflict
from server.settings import Settings


async def list_conflicts(caller: Caller, household_id: str, state: str | None, cursor: str | None) -> Page:
    household = await get_household(caller, household_id)
    query = HouseholdConflict.filter(household_id=household.id)
    if state:
        if state not in ("open", "resolved"):
            raise invalid("/state", "应为 open 或 resolved")
        query = query.filter(state=state)
    return await paginate(query, cursor, order=("created_at", "id"), shape=conflict_as_api)


async def resolve_conflict(caller: Caller, settings: Settings, conflict_id: str, body: dict) -> HouseholdConflict:
    """A supervisor confirms the value that won ("kept") or puts the other one back ("lost"); either way closed."""
    cid = (await get_visible(caller, HouseholdConflict, conflict_id, ConflictNotFound)).id
    async with in_transaction():
        # Locked by id alone: PostgreSQL refuses FOR UPDATE across the outer joins of the scope filter.
        conflict = await HouseholdConflict.filter(id=cid).select_for_update().first()
        if conflict.state != "open":
            raise Conflict("该冲突已处理。")
        if body["keep"] == "lost":
            await restore(caller, settings, conflict.household_id, conflict.member_id, conflict.field, unbox(conflict.lost_value),
                          Meta.parse(conflict.lost_meta), conflict.id)
        conflict.state, conflict.resolution, conflict.comment = "resolved", body["keep"], body.get("comment")
        conflict.resolved_by_id, conflict.resolved_at = caller.id, now()
        await conflict.save()
        await audit.record(caller, "conflict.resolved", "household_conflict", conflict.id,
                           household_id=conflict.household_id, keep=body["keep"])
    return conflict


def conflict_as_api(conflict: HouseholdConflict) -> dict:
    def value(boxed: dict | None):
        return masked_value(conflict.field, conflict.member_id is not None, unbox(boxed))

    return {
        "id": str(conflict.id),
        "household": str(conflict.household_id),
        "member": str(conflict.member_id) if conflict.member_id else None,
        "field": conflict.field,
        "kept": {"value": value(conflict.kept_value), **Meta.parse(conflict.kept_meta).public()},
        "lost": {"value": value(conflict.lost_value), **Meta.parse(conflict.lost_meta).public()},
        "submission": str(conflict.submission_id),
        "state": conflict.state,
        "resolution": conflict.resolution,
        "comment": conflict.comment,
        "resolved_by": str(conflict.resolved_by_id) if conflict.resolved_by_id else None,
        "resolved_at": conflict.resolved_at.isoformat() if conflict.resolved_at else None,
        "created_at": conflict.created_at.isoformat(),
    }

