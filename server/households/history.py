"""The history of a household file, newest first: every value a visit set, lost to a later visit, took back, a
supervisor restored, or a person corrected (with who and why). Nothing a phone or a person changed is dropped.

Each change names the place in the file it concerns as a pointer: `/address` (the registration's own columns,
stored with the `/` of a pointer as their field), `/situation/health`, `/members/{id}/name`, or `/members/{id}` for
a member added or removed. ID numbers are masked here as everywhere.
"""

from __future__ import annotations

from server.core import audit
from server.core.caller import Caller
from server.core.pagination import Page, paginate
from server.households.members import masked_value
from server.households.observations import unbox
from server.households.registry import get_household
from server.models import HouseholdChange

MEMBER = "member"  # the field of a change that added or removed a whole member


async def list_history(caller: Caller, household_id: str, cursor: str | None) -> Page:
    household = await get_household(caller, household_id)
    query = HouseholdChange.filter(household_id=household.id).select_related("actor")
    page = await paginate(query, cursor, order=("-at", "-id"), shape=change_as_api)
    await audit.record(caller, "household.read", "household", household.id, household_id=household.id,
                       part="history")
    return page


def pointer_of(field: str, member_id: object | None) -> str:
    if member_id is not None:
        return f"/members/{member_id}" if field == MEMBER else f"/members/{member_id}/{field}"
    return field if field.startswith("/") else f"/situation/{field}"


def change_as_api(change: HouseholdChange) -> dict:
    member_bound = change.member_id is not None
    new_meta = change.new_meta or {}
    return {
        "id": str(change.id),
        "at": change.at.isoformat(),
        "kind": change.kind,
        "pointer": pointer_of(change.field, change.member_id),
        "member": str(change.member_id) if member_bound else None,
        "old_value": masked_value(change.field, member_bound, unbox(change.old_value)),
        "new_value": masked_value(change.field, member_bound, unbox(change.new_value)),
        "observed_at": new_meta.get("at"),
        "submission": str(change.submission_id) if change.submission_id else None,
        "actor": str(change.actor_id) if change.actor_id else None,
        "actor_name": change.actor.display_name if change.actor else None,
        "reason": new_meta.get("reason"),
    }
