"""Merging two files of one household: a supervisor's act, within one township, kept with who and why, and undone
by `unmerge`.

The survivor takes every visit (with its submissions, photos and the needs they raised), every history row, every
conflict and every member of the duplicate. A member of the duplicate with the ID number of a living member of the
survivor is the same person: the two are combined, the survivor's values win field by field, a field only the
duplicate knew fills the survivor's, and each value set aside is written to the survivor's history (`merge_kept`).
The same goes for the situation and the registration (address, head, phone). The ledgers are derived again.

The duplicate's row stays, marked `merged_into`: its GET answers 410 with the survivor's id; a submission a phone
sends to it later, having been offline, is stored on the survivor; its next sync drops it (`gone`), and the
survivor is sent again whole. Each row the merge moved is written to `household_merge_move` (the undo trail).

Locks (migrations/0008_sync_changes.py): every write of a file locks its household row, so both households are
locked, in the order of their ids, before anything is written; every other writer locks one household.
"""

from __future__ import annotations

import uuid
from typing import Any

from tortoise.transactions import in_transaction

from server.core import audit
from server.core.caller import Caller
from server.core.clock import now
from server.core.ids import parse_id
from server.core.problems import Conflict, FieldProblem, HouseholdNotFound, MergeNotFound, invalid
from server.core.scope import visible
from server.households import ledgers, lookalikes, search
from server.households.history import MEMBER
from server.households.observations import box
from server.households.registry import get_household
from server.models import (Area, Household, HouseholdChange, HouseholdConflict, HouseholdMerge, HouseholdMergeMove,
                           LedgerEntry, Member, Need, Submission, SubmissionAttachment, Visit)
from server.settings import Settings

MOVED = (("visit", Visit), ("submission", Submission), ("need", Need), ("change", HouseholdChange),
         ("conflict", HouseholdConflict))
COLUMNS = ("address", "head", "phone")


async def survivor_of(household_id: uuid.UUID) -> uuid.UUID:
    """The household a phone's submission goes to: the survivor of a merged file, or the file itself."""
    found = await Household.filter(id=household_id).values_list("merged_into", flat=True)
    return found[0] if found and found[0] is not None else household_id


async def lock(*ids: uuid.UUID) -> dict[uuid.UUID, Household]:
    """Lock the households, in one stable order, before anything is written (SQLite writes one at a time)."""
    return {hid: await Household.filter(id=hid).select_for_update().first() for hid in sorted(set(ids), key=str)}


async def merge(caller: Caller, settings: Settings, survivor_id: str, body: dict) -> HouseholdMerge:
    """Merge the household `body["duplicate"]` into `survivor_id`; nothing is written unless all of it holds."""
    reason = body["reason"].strip()
    if not reason:
        raise invalid("/reason", "请写明合并的原因")
    survivor = await get_household(caller, survivor_id)
    duplicate_id = parse_id(body["duplicate"], pointer="/duplicate")
    if duplicate_id == survivor.id:
        raise invalid("/duplicate", "不能把一户与它自己合并")
    duplicate = await (await visible(caller, Household)).filter(id=duplicate_id).first()
    if duplicate is None:
        raise HouseholdNotFound("要合并的户不存在，或不在您的管辖范围内。",
                                errors=[FieldProblem("/duplicate", "该户不存在，或不在您的管辖范围内")])
    townships = dict(await Area.filter(id__in=[survivor.community_id, duplicate.community_id]).values_list(
        "id", "township_id"))
    if townships[survivor.community_id] != townships[duplicate.community_id]:
        raise Conflict("两户不在同一个乡镇（街道），不能合并；请先把其中一户迁到同一乡镇（街道）。")
    stamp = now()
    async with in_transaction():
        locked = await lock(survivor.id, duplicate.id)
        for household in (survivor, duplicate):
            if locked[household.id].merged_into is not None:
                raise Conflict("其中一户已合并到另一户，不能再合并；如需调整请先撤销那次合并。")
            if locked[household.id].community_id != household.community_id:  # moved since it was read
                raise Conflict("其中一户刚刚迁到了另一个社区（村），请重新核对后再合并。")
        survivor, duplicate = locked[survivor.id], locked[duplicate.id]
        done = HouseholdMerge(id=uuid.uuid4(), survivor_id=survivor.id, duplicate_id=duplicate.id, reason=reason,
                              actor_id=caller.id, at=stamp, before={"updated_at": survivor.updated_at.isoformat()})
        await done.save(force_create=True)
        step = _Merging(caller, done, survivor, duplicate, reason, stamp)
        await step.move_rows()
        await step.combine_members(settings)
        step.take_situation()
        await step.finish(settings)
        done.before = done.before | {"situation": step.filled}
        await done.save(update_fields=("before",))
    for household in (survivor, duplicate):
        await audit.record(caller, "household.merged", "household", household.id, household_id=household.id,
                           merge=str(done.id), survivor=str(survivor.id), duplicate=str(duplicate.id), reason=reason)
    return done


class _Merging:
    """One merge under way: the rows it moves (the trail) and the history rows it writes."""

    def __init__(self, caller: Caller, done: HouseholdMerge, survivor: Household, duplicate: Household, reason: str,
                 stamp):
        self.caller, self.done, self.survivor, self.duplicate, self.stamp = caller, done, survivor, duplicate, stamp
        self.meta = {"at": stamp.isoformat(), "received": stamp.isoformat(), "submission": None,
                     "author": str(caller.id), "reason": reason, "merge": str(done.id)}
        self.trail: list[HouseholdMergeMove] = []
        self.history: list[HouseholdChange] = []
        self.filled: list[str] = []

    def note(self, hid: uuid.UUID, member_id: uuid.UUID | None, field: str, kind: str, old: Any, new: Any,
             old_meta: dict | None = None) -> None:
        self.history.append(HouseholdChange(
            household_id=hid, member_id=member_id, field=field, kind=kind, old_value=box(old), old_meta=old_meta,
            new_value=box(new), new_meta=self.meta, submission_id=None, actor_id=self.caller.id, at=self.stamp))

    def moved(self, kind: str, row_id: uuid.UUID, detail: dict | None = None) -> None:
        self.trail.append(HouseholdMergeMove(merge_id=self.done.id, kind=kind, row_id=row_id, detail=detail))

    async def move_rows(self) -> None:
        """Visits, submissions, needs, history rows and conflicts follow to the survivor; so do earlier merges' pointers."""
        for kind, model in MOVED:
            ids = await model.filter(household_id=self.duplicate.id).values_list("id", flat=True)
            if ids:
                await model.filter(id__in=ids).update(household_id=self.survivor.id)
            for row_id in ids:
                self.moved(kind, row_id)
        # Files merged into the duplicate earlier now point at the survivor: a pointer is never followed twice.
        earlier = await Household.filter(merged_into=self.duplicate.id).values_list("id", flat=True)
        if earlier:
            await Household.filter(id__in=earlier).update(merged_into=self.survivor.id)
        for row_id in earlier:
            self.moved("pointer", row_id)

    async def combine_members(self, settings: Settings) -> None:
        """Members move to the survivor; one with the ID number of a living member there is combined with it."""
        living = await Member.filter(household_id=self.survivor.id, removed_at__isnull=True).order_by("created_at")
        by_number = {m.id_number_key: m for m in living if m.id_number_key}
        moving = []
        for member in await Member.filter(household_id=self.duplicate.id).order_by("created_at", "id"):
            twin = by_number.get(member.id_number_key) if member.id_number_key and member.removed_at is None else None
            if twin is None:
                moving.append(member.id)
                self.moved("member", member.id)
                continue
            filled = []
            for name, value in member.data.items():
                if name not in twin.data:
                    twin.data[name], twin.meta[name] = value, member.meta.get(name, self.meta)
                    filled.append(name)
                    self.note(self.survivor.id, twin.id, name, "merged", None, value)
                elif twin.data[name] != value:
                    self.note(self.survivor.id, twin.id, name, "merge_kept", twin.data[name], value,
                              member.meta.get(name))
            lookalikes.key_member(settings, twin)
            twin.updated_at = self.stamp
            await twin.save()
            # The duplicate's row of the person stays, set aside in the survivor, so that an undo can bring it back.
            member.household_id, member.removed_at, member.updated_at = self.survivor.id, self.stamp, self.stamp
            member.merged_into = twin.id
            await member.save(update_fields=("household_id", "removed_at", "updated_at", "merged_into"))
            self.note(self.survivor.id, member.id, MEMBER, "merged", member.data, None)
            self.moved("combined", member.id, {"into": str(twin.id), "filled": filled})
        if moving:
            await Member.filter(id__in=moving).update(household_id=self.survivor.id)

    def take_situation(self) -> None:
        """The survivor's situation and registration win; what only the duplicate knew fills the gaps."""
        survivor, duplicate = self.survivor, self.duplicate
        for target, value in duplicate.situation.items():
            if target not in survivor.situation:
                survivor.situation[target] = value
                survivor.situation_meta[target] = duplicate.situation_meta.get(target, self.meta)
                self.filled.append(target)
                self.note(survivor.id, None, target, "merged", None, value)
            elif survivor.situation[target] != value:
                self.note(survivor.id, None, target, "merge_kept", survivor.situation[target], value,
                          duplicate.situation_meta.get(target))
        for name in COLUMNS:
            if getattr(duplicate, name) and getattr(duplicate, name) != getattr(survivor, name):
                self.note(survivor.id, None, f"/{name}", "merge_kept", getattr(survivor, name), getattr(duplicate, name))

    async def finish(self, settings: Settings) -> None:
        survivor, duplicate = self.survivor, self.duplicate
        self.note(survivor.id, None, "/merged_from", "merged", None, str(duplicate.id))
        self.note(duplicate.id, None, "/merged_into", "merged", None, str(survivor.id))
        duplicate.merged_into, duplicate.merged_at = survivor.id, self.stamp
        await duplicate.save(update_fields=("merged_into", "merged_at"))
        members = await Member.filter(household_id=survivor.id, removed_at__isnull=True).order_by("created_at", "id")
        search.index(survivor, members)
        survivor.updated_at = self.stamp
        await survivor.save()
        await LedgerEntry.filter(household_id=duplicate.id).delete()
        await ledgers.sync(settings, survivor, members)
        await HouseholdChange.bulk_create(self.history)
        if self.trail:
            await HouseholdMergeMove.bulk_create(self.trail)


async def get_merge(caller: Caller, merge_id: str) -> HouseholdMerge:
    """A merge of two files the caller may both see; any other is answered as one that does not exist."""
    found = await HouseholdMerge.filter(id=parse_id(merge_id, MergeNotFound)).first()
    if found is None or await (await visible(caller, Household)).filter(
            id__in=[found.survivor_id, found.duplicate_id]).count() != 2:
        raise MergeNotFound()
    return found


async def merge_as_api(done: HouseholdMerge) -> dict:
    kinds = dict.fromkeys(("visit", "submission", "need", "member", "combined", "conflict", "change"), 0)
    submissions = []
    for kind, row_id in await HouseholdMergeMove.filter(merge_id=done.id).values_list("kind", "row_id"):
        kinds[kind] = kinds.get(kind, 0) + 1
        if kind == "submission":
            submissions.append(row_id)
    photos = await SubmissionAttachment.filter(submission_id__in=submissions).count() if submissions else 0
    return {
        "id": str(done.id), "survivor": str(done.survivor_id), "duplicate": str(done.duplicate_id),
        "reason": done.reason, "by": str(done.actor_id) if done.actor_id else None, "at": done.at.isoformat(),
        "undone_at": done.undone_at.isoformat() if done.undone_at else None,
        "undone_by": str(done.undone_by_id) if done.undone_by_id else None, "undo_reason": done.undo_reason,
        "moved": {"visits": kinds["visit"], "submissions": kinds["submission"], "photos": photos,
                  "members": kinds["member"], "combined_members": kinds["combined"], "conflicts": kinds["conflict"],
                  "needs": kinds["need"], "changes": kinds["change"]},
    }
