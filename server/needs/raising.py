"""Raising needs: from the needs bindings of a submission, in the submission's own transaction, or entered by a
worker; each with its due date from the catalogue item's default deadline for its urgency.

A retried submission never reaches here (its id is taken: the submission layer answers the first reply again), and
(submission, pointer) is unique besides. A correction that replaces a submission takes over the needs of the one it
replaces: a need at the same pointer for the same item stays the same need (its urgency and description corrected if
nobody acted on it yet); a need the correction no longer raises is withdrawn if nobody acted on it yet (status raised,
version 1: deleted with its one event), and kept as it is if someone did (a provider may already be on its way).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from server.core.caller import Caller
from server.core.clock import now
from server.core.ids import parse_id
from server.core.problems import HouseholdNotFound, invalid
from server.core.scope import get_visible
from server.models import CatalogueItem, Household, Member, Need, NeedEvent, Submission

URGENCIES = {"normal": "一般", "high": "较急", "urgent": "紧急"}
DEFAULT_DAYS = {"normal": 30, "high": 7, "urgent": 2}
ITEM_LENGTH = Need._meta.fields_map["item"].max_length
MEMBER_LENGTH = Need._meta.fields_map["member"].max_length


async def item_terms(codes: set[str]) -> dict[str, CatalogueItem]:
    return {i.code: i for i in await CatalogueItem.filter(code__in=list(codes))} if codes else {}


def due_at(raised_at: datetime, urgency: str, item: CatalogueItem | None) -> datetime:
    days = getattr(item, f"days_{urgency}") if item is not None else DEFAULT_DAYS[urgency]
    return raised_at + timedelta(days=days)


def event(need: Need, action: str, caller: Caller | None, from_status: str | None, at: datetime, *,
          reason: str | None = None, provider_id: uuid.UUID | None = None, **detail) -> NeedEvent:
    return NeedEvent(need_id=need.id, action=action, from_status=from_status, to_status=need.status,
                     actor_id=caller.id if caller else None, actor_name=caller.user.username if caller else "",
                     provider_id=provider_id, at=at, reason=reason, detail=detail)


def _bound(row: dict) -> dict | None:
    """A need the bindings found, as a need's fields; None for one whose item is no catalogue code at all."""
    item = row.get("item")
    if not isinstance(item, str) or not 0 < len(item) <= ITEM_LENGTH:
        return None
    urgency = row.get("urgency") if row.get("urgency") in URGENCIES else "normal"
    description = row.get("description") if isinstance(row.get("description"), str) else None
    member = row.get("member")
    member = str(member)[:MEMBER_LENGTH] if isinstance(member, (str, int)) and str(member).strip() else None
    return {"pointer": row["pointer"], "item": item, "urgency": urgency, "description": description,
            "member": member}


async def raise_from_submission(caller: Caller, household: Household, submission: Submission,
                                replaced: Submission | None) -> None:
    """Raise the needs the submission's bindings found, in the caller's transaction (the submission's)."""
    found = [n for n in map(_bound, submission.changes.get("needs", [])) if n is not None]
    stamp = now()
    kept: dict[str, Need] = {}
    if replaced is not None:
        kept = await _take_over(replaced, submission, found, stamp)
    terms = await item_terms({n["item"] for n in found})
    new, events = [], []
    for bound in found:
        if bound["pointer"] in kept:
            continue
        item = terms.get(bound["item"])
        need = Need(id=uuid.uuid4(), household_id=household.id, submission_id=submission.id,
                    raised_by_id=caller.id, raised_at=submission.observed_at,
                    due_at=due_at(submission.observed_at, bound["urgency"], item),
                    category=item.category_id if item else None, updated_at=stamp, **bound)
        new.append(need)
        events.append(event(need, "raise", caller, None, stamp, submission=str(submission.id)))
    if new:
        await Need.bulk_create(new)
        await NeedEvent.bulk_create(events)


async def _take_over(replaced: Submission, submission: Submission, found: list[dict],
                     stamp: datetime) -> dict[str, Need]:
    """Move the replaced submission's needs to its correction; the pointers of those that stay the same need."""
    by_pointer = {n["pointer"]: n for n in found}
    kept: dict[str, Need] = {}
    for need in await Need.filter(submission_id=replaced.id):
        bound = by_pointer.get(need.pointer)
        untouched = need.status == "raised" and need.version == 1
        if bound is not None and bound["item"] == need.item:
            kept[need.pointer] = need
            changes = {"submission_id": submission.id, "updated_at": stamp}
            if untouched:
                changes |= {"urgency": bound["urgency"], "description": bound["description"],
                            "member": bound["member"],
                            "due_at": due_at(need.raised_at, bound["urgency"],
                                             (await item_terms({need.item})).get(need.item))}
            await Need.filter(id=need.id).update(**changes)
        elif untouched:
            await NeedEvent.filter(need_id=need.id).delete()
            await Need.filter(id=need.id, status="raised", version=1).delete()
        else:
            # Someone acts on it: it stays, and moves to the correction (the replaced one is not shown any more).
            await Need.filter(id=need.id).update(submission_id=submission.id, pointer=None, updated_at=stamp)
    return kept


async def enter_need(caller: Caller, body: dict) -> Need:
    """A need a worker enters by hand (on the phone or at the station), for a household in the caller's scope."""
    household = await get_visible(caller, Household, body["household"], HouseholdNotFound)
    member = None
    if body.get("member"):
        member_id = parse_id(body["member"], pointer="/member")
        if not await Member.filter(id=member_id, household_id=household.id, removed_at__isnull=True).exists():
            raise invalid("/member", "该成员不属于这一户")
        member = str(member_id)
    terms = await item_terms({body["item"]})
    item = terms.get(body["item"])
    if item is None or item.retired_at is not None:
        raise invalid("/item", "服务项目不存在或已停用")
    urgency = body.get("urgency", "normal")
    stamp = now()
    consent = bool(body.get("consent"))
    contact = body.get("contact") or (household.phone if consent else None)
    if consent and not contact:
        raise invalid("/contact", "该户没有登记电话，请填写住户同意提供给服务机构的联系方式")
    need = Need(id=uuid.uuid4(), household_id=household.id, member=member, item=item.code,
                category=item.category_id, urgency=urgency, description=body.get("description"),
                raised_by_id=caller.id, raised_at=stamp, due_at=due_at(stamp, urgency, item), consent=consent,
                contact=contact if consent else None, updated_at=stamp)
    async with in_transaction():
        # The household first, as every writer of its file (migrations/0008_sync_changes.py): the need's write
        # touches it and takes the sync counter.
        await Household.filter(id=household.id).select_for_update().only("id").first()
        await need.save(force_create=True)
        await event(need, "raise", caller, None, stamp, consent=consent).save(force_create=True)
    return need
