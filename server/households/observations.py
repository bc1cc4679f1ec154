"""Applying what a visit observed to the household file, field by field, in the order the visits happened.

Phones stay offline for days, so submissions reach the server in any order. Each situation target and each member
field carries the time it was observed; a value observed later wins, whatever order it arrived in, and the value
that lost is written to the history. When two observations were made without knowledge of each other (the older
one arrived late, or the stored value reached the server after the phone had started its visit) and disagree,
a conflict is recorded for the supervisor (as ODK Central does for entities), never silently settled.

Called inside the submission's transaction, with the household row locked.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from server.core.caller import Caller
from server.core.clock import now
from server.households import ledgers, lookalikes, search
from server.models import Household, HouseholdChange, HouseholdConflict, Member
from server.settings import Settings

# Member ids of rows a phone sent without one: derived from the first submission of the chain and the row's
# pointer, so that a correction of that submission names the same member again instead of adding a new one.
# The situation targets that `q` searches besides the household's own columns and its members' names.
SEARCHED_TARGETS = {"head_name", "address", "phone"}
MEMBER_NAMESPACE = uuid.UUID("6f1c7a52-33c4-4c0e-9b7e-4a1f0d2c9e11")


def box(value: Any) -> dict:
    """JSON columns take objects and arrays only (a bare string would be read as JSON text), so values are boxed."""
    return {"value": value}


def unbox(raw: dict | None) -> Any:
    return raw["value"] if raw else None


def member_id_for(row: dict, original_id: uuid.UUID) -> uuid.UUID:
    if row.get("id"):
        return uuid.UUID(row["id"])
    return uuid.uuid5(MEMBER_NAMESPACE, f"{original_id}{row['pointer']}")


@dataclass(frozen=True)
class Meta:
    """When a value was observed, when it reached the server, and by which submission and author."""

    at: datetime
    received: datetime
    submission: str | None = None
    author: str | None = None

    def as_json(self) -> dict:
        return {"at": self.at.isoformat(), "received": self.received.isoformat(), "submission": self.submission,
                "author": self.author}

    @classmethod
    def parse(cls, raw: dict) -> Meta:
        return cls(datetime.fromisoformat(raw["at"]), datetime.fromisoformat(raw["received"]), raw.get("submission"),
                   raw.get("author"))

    def rank(self) -> tuple:
        # The submission id breaks ties, so the same set of submissions gives the same file in any arrival order.
        return (self.at, self.submission or "")

    def public(self) -> dict:
        return {"observed_at": self.at.isoformat(), "received_at": self.received.isoformat(),
                "submission": self.submission}


@dataclass(frozen=True)
class Observation:
    meta: Meta
    started: datetime  # the phone could not know of anything the server received after this
    replacing: frozenset[str] = frozenset()  # the submissions a correction replaces (its whole chain)


@dataclass
class Outcome:
    history: list[HouseholdChange] = field(default_factory=list)
    conflicts: list[HouseholdConflict] = field(default_factory=list)


class _Slot:
    """One field of the file: a situation target or one member's field, with its value and meta."""

    def __init__(self, values: dict, metas: dict, name: str, member_id: uuid.UUID | None):
        self.values, self.metas, self.name, self.member_id = values, metas, name, member_id

    @property
    def value(self) -> Any:
        return self.values.get(self.name)

    @property
    def meta(self) -> Meta | None:
        raw = self.metas.get(self.name)
        return Meta.parse(raw) if raw else None

    def set(self, value: Any, meta: Meta | None) -> None:
        if meta is None:
            self.values.pop(self.name, None)
            self.metas.pop(self.name, None)
        else:
            self.values[self.name] = value
            self.metas[self.name] = meta.as_json()


async def apply(caller: Caller, settings: Settings, household: Household, changes: dict, obs: Observation,
                original_id: uuid.UUID) -> Outcome:
    """Apply a submission's binding changes (situation, members) to the household and its members; saves them."""
    out = Outcome()
    stamp = now()
    hid = household.id
    for target, value in changes.get("situation", {}).items():
        _merge(out, hid, _Slot(household.situation, household.situation_meta, target, None), value, obs, caller, stamp)
    if obs.replacing:
        for target in list(household.situation_meta):
            if target not in changes.get("situation", {}):
                await _revert(out, hid, _Slot(household.situation, household.situation_meta, target, None), obs, caller, stamp)
    household.updated_at = stamp
    saved = ["situation", "situation_meta", "updated_at"]
    member_rows = changes.get("members", [])
    members = None
    if member_rows or obs.replacing:
        members = await _apply_members(caller, settings, hid, member_rows, obs, original_id, out, stamp)
        search.index(household, members)
        saved += ["search_text", "search_pinyin"]
    elif SEARCHED_TARGETS & set(changes.get("situation", {})):
        search.index(household, await Member.filter(household_id=hid, removed_at__isnull=True))
        saved += ["search_text", "search_pinyin"]
    await household.save(update_fields=saved)
    await _save_history(out)
    await ledgers.sync(settings, household, members)  # a visit, and maybe new tags or situation: the ledgers follow
    return out


async def _apply_members(caller: Caller, settings: Settings, hid: uuid.UUID, member_rows: list[dict],
                         obs: Observation, original_id: uuid.UUID, out: Outcome, stamp) -> list[Member]:
    """Merge the members' rows of a submission into the household's members and save them; returns them all."""
    members = {m.id: m for m in await Member.filter(household_id=hid)}
    seen: set[uuid.UUID] = set()
    for row in member_rows:
        mid = member_id_for(row, original_id)
        if mid in members and members[mid].merged_into in members:  # combined with a member by a merge
            mid = members[mid].merged_into
        seen.add(mid)
        member = members.get(mid)
        if member is None:
            member = members[mid] = Member(id=mid, household_id=hid, data={}, meta={},
                                           created_by_submission_id=obs.meta.submission, created_at=stamp)
        member.removed_at = None
        fields = {k: v for k, v in row.items() if k not in ("pointer", "id")}
        for name, value in fields.items():
            _merge(out, hid, _Slot(member.data, member.meta, name, mid), value, obs, caller, stamp)
        if obs.replacing:
            for name in list(member.meta):
                if name not in fields:
                    await _revert(out, hid, _Slot(member.data, member.meta, name, mid), obs, caller, stamp)
        member.updated_at = stamp
        _key_id_number(settings, member)
        await member.save()
    if obs.replacing:
        # A member only the replaced submissions brought in, and the correction no longer lists, goes away.
        for mid, member in members.items():
            if mid not in seen and str(member.created_by_submission_id) in obs.replacing and member.removed_at is None:
                member.removed_at = member.updated_at = stamp
                await member.save()
                out.history.append(_change(hid, mid, "member", "reverted", member.data, None, None, None, obs, caller,
                                           stamp))
    return list(members.values())


def _key_id_number(settings: Settings, member: Member) -> None:
    lookalikes.key_member(settings, member)


async def _save_history(out: Outcome) -> None:
    if out.history:
        await HouseholdChange.bulk_create(out.history)
    if out.conflicts:
        await HouseholdConflict.bulk_create(out.conflicts)


async def restore(caller: Caller, settings: Settings, household_id: uuid.UUID, member_id: uuid.UUID | None, name: str,
                  value: Any, meta: Meta, conflict_id: uuid.UUID) -> None:
    """Put back a value that lost a conflict, on a supervisor's decision (inside its transaction)."""
    stamp = now()
    household = await Household.filter(id=household_id).select_for_update().first()
    if member_id is None:
        owner = household
        slot = _Slot(owner.situation, owner.situation_meta, name, None)
    else:
        owner = await Member.filter(id=member_id).select_for_update().first()
        slot = _Slot(owner.data, owner.meta, name, member_id)
    old_value, old_meta = slot.value, slot.meta
    slot.set(value, meta)
    owner.updated_at = stamp
    if member_id is not None:
        _key_id_number(settings, owner)
    await owner.save()
    search.index(household, await Member.filter(household_id=household_id, removed_at__isnull=True))
    await household.save(update_fields=("search_text", "search_pinyin"))
    await ledgers.sync(settings, household)
    await HouseholdChange.create(
        household_id=household_id, member_id=member_id, field=name, kind="resolved", old_value=box(old_value),
        old_meta=old_meta.as_json() if old_meta else None, new_value=box(value), new_meta=meta.as_json(),
        submission_id=None, actor_id=caller.id, at=stamp,
    )


def _merge(out: Outcome, hid: uuid.UUID, slot: _Slot, value: Any, obs: Observation, caller: Caller, stamp) -> None:
    current, meta = slot.value, slot.meta
    new = obs.meta
    if meta is None or meta.submission in obs.replacing:
        # A first observation, or a correction taking the place of the value the replaced submission set.
        if meta is None or current != value:
            out.history.append(_change(hid, slot.member_id, slot.name, "applied", current, meta, value, new, obs, caller, stamp))
        slot.set(value, new)
        return
    if current == value:
        if new.rank() > meta.rank():
            slot.set(value, new)  # seen again, later: the value stands, its time moves on
        return
    unaware = meta.author != new.author and (new.rank() < meta.rank() or meta.received > obs.started)
    if new.rank() > meta.rank():
        out.history.append(_change(hid, slot.member_id, slot.name, "applied", current, meta, value, new, obs, caller, stamp))
        slot.set(value, new)
        kept, kept_meta, lost, lost_meta = value, new, current, meta
    else:
        out.history.append(_change(hid, slot.member_id, slot.name, "kept", current, meta, value, new, obs, caller, stamp))
        kept, kept_meta, lost, lost_meta = current, meta, value, new
    if unaware:
        out.conflicts.append(HouseholdConflict(
            household_id=hid, member_id=slot.member_id, field=slot.name, kept_value=box(kept),
            kept_meta=kept_meta.as_json(), lost_value=box(lost), lost_meta=lost_meta.as_json(),
            submission_id=uuid.UUID(new.submission), created_at=stamp,
        ))


async def _revert(out: Outcome, hid: uuid.UUID, slot: _Slot, obs: Observation, caller: Caller, stamp) -> None:
    """A field the replaced submissions set and the correction no longer does: back to the value before them."""
    meta = slot.meta
    if meta is None or meta.submission not in obs.replacing:
        return
    value, before = slot.value, meta
    while before is not None and before.submission in obs.replacing:
        applied = await HouseholdChange.filter(
            household_id=hid, member_id=slot.member_id, field=slot.name, kind="applied",
            submission_id=uuid.UUID(before.submission),
        ).order_by("-at", "-id").first()
        if applied is None:
            before, value = None, None
            break
        before = Meta.parse(applied.old_meta) if applied.old_meta else None
        value = unbox(applied.old_value)
    out.history.append(_change(hid, slot.member_id, slot.name, "reverted", slot.value, meta, value, before, obs, caller, stamp))
    slot.set(value, before)


def _change(hid, member_id, name, kind, old_value, old_meta, new_value, new_meta, obs: Observation, caller: Caller,
            stamp) -> HouseholdChange:
    return HouseholdChange(
        household_id=hid, member_id=member_id, field=name, kind=kind, old_value=box(old_value),
        old_meta=old_meta.as_json() if old_meta else None, new_value=box(new_value),
        new_meta=new_meta.as_json() if new_meta else None, submission_id=uuid.UUID(obs.meta.submission),
        actor_id=caller.id, at=stamp,
    )
