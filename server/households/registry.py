"""Households registered in the field, under ids the phones make, and their offline conflicts.

The full household file (PATCH, ledgers, archive) belongs to the household-file work; this module owns what the
field needs now: registration that a retry confirms, the file as last seen, and the conflicts for supervisors.
"""

from __future__ import annotations

import uuid

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.core import audit
from server.core.caller import Caller
from server.core.canonical import body_hash
from server.core.clock import now
from server.core.ids import parse_id
from server.core.pagination import Page, paginate
from server.core.problems import Conflict, ConflictNotFound, HouseholdNotFound, IdInUse, invalid
from server.core.scope import require_role, scope_of
from server.households.observations import Meta, restore, unbox
from server.models import Area, Household, HouseholdChange, HouseholdConflict, Member

REGISTERING_ROLES = ("admin", "supervisor", "worker")
REVIEWING_ROLES = ("admin", "supervisor")


async def visible(caller: Caller):
    """Households the caller may see: those of the communities in its scope (a provider sees none here)."""
    scope = await scope_of(caller)
    return Household.filter(scope.areas("community__"))


async def get_household(caller: Caller, household_id: str) -> Household:
    household = await (await visible(caller)).filter(id=parse_id(household_id, HouseholdNotFound)).first()
    if household is None:
        raise HouseholdNotFound()
    return household


async def register_household(caller: Caller, household_id: str, body: dict) -> tuple[Household, bool]:
    """Create a household a phone met offline, or confirm it when the same body comes again (a retry).

    Returns (household, created). The primary key catches the retry: two phones racing with one id cannot both
    create it, and the loser is answered by comparing what it sent with what is stored.
    """
    require_role(caller, *REGISTERING_ROLES)
    hid = parse_id(household_id, HouseholdNotFound)
    scope = await scope_of(caller)
    community = await Area.filter(scope.areas(), id=parse_id(body["community"], pointer="/community")).first()
    if community is None or community.level != "community":
        # Outside the caller's areas is answered like a community that does not exist.
        raise HouseholdNotFound("该社区（村）不存在，或不在您的管辖范围内。")
    digest = body_hash(body)
    location = body.get("location") or {}
    stamp = now()
    household = Household(
        id=hid, community_id=community.id, address=body["address"], head=body["head"], phone=body.get("phone"),
        latitude=location.get("lat"), longitude=location.get("lon"), body_hash=digest, created_by_id=caller.id,
        created_at=stamp, updated_at=stamp,
    )
    try:
        async with in_transaction():
            await household.save(force_create=True)
            await audit.record(caller, "household.registered", "household", hid, household_id=hid)
    except IntegrityError:
        existing = await Household.get_or_none(id=hid)
        # A retry is the same body from the same person, as for submissions: anyone else is using a taken id.
        if existing is None or existing.body_hash != digest or existing.created_by_id != caller.id:
            raise IdInUse() from None
        return existing, False
    return household, True


async def read_file(caller: Caller, household_id: str) -> tuple[Household, list[Member], int]:
    household = await get_household(caller, household_id)
    members = await Member.filter(household_id=household.id, removed_at__isnull=True).order_by("created_at", "id")
    open_conflicts = await HouseholdConflict.filter(household_id=household.id, state="open").count()
    await audit.record(caller, "household.read", "household", household.id, household_id=household.id)
    return household, members, open_conflicts


async def list_conflicts(caller: Caller, household_id: str, state: str | None, cursor: str | None) -> Page:
    household = await get_household(caller, household_id)
    query = HouseholdConflict.filter(household_id=household.id)
    if state:
        if state not in ("open", "resolved"):
            raise invalid("/state", "应为 open 或 resolved")
        query = query.filter(state=state)
    return await paginate(query, cursor, order=("created_at", "id"), shape=conflict_as_api)


async def resolve_conflict(caller: Caller, conflict_id: str, body: dict) -> HouseholdConflict:
    """A supervisor confirms the value that won ("kept") or puts the other one back ("lost"); either way closed."""
    require_role(caller, *REVIEWING_ROLES)
    scope = await scope_of(caller)
    cid = parse_id(conflict_id, ConflictNotFound)
    if not await HouseholdConflict.filter(scope.areas("household__community__"), id=cid).exists():
        raise ConflictNotFound()
    async with in_transaction():
        # Locked by id alone: PostgreSQL refuses FOR UPDATE across the outer joins of the scope filter.
        conflict = await HouseholdConflict.filter(id=cid).select_for_update().first()
        if conflict.state != "open":
            raise Conflict("该冲突已处理。")
        if body["keep"] == "lost":
            await restore(caller, conflict.household_id, conflict.member_id, conflict.field, unbox(conflict.lost_value),
                          Meta.parse(conflict.lost_meta), conflict.id)
        conflict.state, conflict.resolution, conflict.comment = "resolved", body["keep"], body.get("comment")
        conflict.resolved_by_id, conflict.resolved_at = caller.id, now()
        await conflict.save()
        await audit.record(caller, "conflict.resolved", "household_conflict", conflict.id,
                           household_id=conflict.household_id, keep=body["keep"])
    return conflict


async def history(household_id: uuid.UUID) -> list[HouseholdChange]:
    return await HouseholdChange.filter(household_id=household_id).order_by("at", "id")


def as_api(household: Household, members: list[Member] | None = None, open_conflicts: int | None = None) -> dict:
    reply = {
        "id": str(household.id),
        "community": str(household.community_id),
        "address": household.address,
        "head": household.head,
        "phone": household.phone,
        "location": (
            {"lat": household.latitude, "lon": household.longitude} if household.latitude is not None else None
        ),
        "situation": household.situation,
        "situation_observed_at": {k: v["at"] for k, v in household.situation_meta.items()},
        "created_at": household.created_at.isoformat(),
    }
    if members is not None:
        reply["members"] = [member_as_api(m) for m in members]
    if open_conflicts is not None:
        reply["open_conflicts"] = open_conflicts
    return reply


def member_as_api(member: Member) -> dict:
    return {"id": str(member.id), **member.data, "observed_at": {k: v["at"] for k, v in member.meta.items()}}


def conflict_as_api(conflict: HouseholdConflict) -> dict:
    return {
        "id": str(conflict.id),
        "household": str(conflict.household_id),
        "member": str(conflict.member_id) if conflict.member_id else None,
        "field": conflict.field,
        "kept": {"value": unbox(conflict.kept_value), **Meta.parse(conflict.kept_meta).public()},
        "lost": {"value": unbox(conflict.lost_value), **Meta.parse(conflict.lost_meta).public()},
        "submission": str(conflict.submission_id),
        "state": conflict.state,
        "resolution": conflict.resolution,
        "comment": conflict.comment,
        "resolved_by": str(conflict.resolved_by_id) if conflict.resolved_by_id else None,
        "resolved_at": conflict.resolved_at.isoformat() if conflict.resolved_at else None,
        "created_at": conflict.created_at.isoformat(),
    }
