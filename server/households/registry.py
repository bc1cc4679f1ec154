"""Households registered in the field, under ids the phones make, and the household as last seen (the head of
every reply about it; the whole file with its visits is `file`, corrections are `corrections`)."""

from __future__ import annotations


from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.core import audit, canonical
from server.core.caller import Caller
from server.core.clock import now
from server.core.ids import parse_id
from server.core.problems import HouseholdMerged, HouseholdNotFound, IdInUse
from server.core.scope import get_visible, visible
from server.households import lookalikes, search
from server.households.members import member_as_api
from server.models import Area, Household, Member


async def get_household(caller: Caller, household_id: str) -> Household:
    """A household of the communities in the caller's scope (a provider sees none here)."""
    return await get_visible(caller, Household, household_id, HouseholdNotFound)


async def get_living(caller: Caller, household_id: str) -> Household:
    """A household in the caller's scope that has not been merged into another (410 with the survivor if it has)."""
    household = await get_household(caller, household_id)
    if household.merged_into is not None:
        survivor = await (await visible(caller, Household)).filter(id=household.merged_into).exists()
        raise HouseholdMerged(str(household.merged_into) if survivor else None)
    return household


async def register_household(caller: Caller, household_id: str, body: dict) -> tuple[Household, bool]:
    """Create a household a phone met offline, or confirm it when the same body comes again (a retry).

    Returns (household, created). The primary key catches the retry: two phones racing with one id cannot both
    create it, and the loser is answered by comparing what it sent with what is stored.
    """
    hid = parse_id(household_id, HouseholdNotFound)
    community = await (await visible(caller, Area)).filter(id=parse_id(body["community"], pointer="/community")).first()
    if community is None or community.level != "community":
        # Outside the caller's areas is answered like a community that does not exist.
        raise HouseholdNotFound("该社区（村）不存在，或不在您的管辖范围内。")
    digest = canonical.digest(body)
    location = body.get("location") or {}
    stamp = now()
    household = Household(
        id=hid, community_id=community.id, address=body["address"], head=body["head"], phone=body.get("phone"),
        latitude=location.get("lat"), longitude=location.get("lon"), body_hash=digest, created_by_id=caller.id,
        created_at=stamp, updated_at=stamp,
    )
    household.address_key = lookalikes.address_key(household.address, community.name)
    search.index(household, [])
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


async def register_and_compare(caller: Caller, household_id: str, body: dict) -> tuple[Household, bool, list[dict]]:
    """Register (or confirm) a household, and say which files of the caller's areas it looks like."""
    household, created = await register_household(caller, household_id, body)
    return household, created, await lookalikes.for_registration(caller, household)


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
