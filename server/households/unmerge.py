"""Undoing a merge of two household files: every row the merge moved goes back (its trail), the fields it filled on
the survivor are emptied again where nothing has changed them since, and the duplicate lives again.

What happened to the survivor after the merge stays with it: a visit made later, a value corrected later. A
correction of a moved submission follows its visit back. The merge and its undoing both stay in both histories.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from server.core import audit
from server.core.caller import Caller
from server.core.clock import now
from server.core.problems import Conflict, invalid
from server.households import ledgers, lookalikes, search
from server.households.history import MEMBER
from server.households.merges import MOVED, get_merge, lock
from server.households.observations import box
from server.models import Household, HouseholdChange, HouseholdMerge, HouseholdMergeMove, Member, Submission
from server.settings import Settings


async def undo(caller: Caller, settings: Settings, merge_id: str, body: dict) -> HouseholdMerge:
    reason = body["reason"].strip()
    if not reason:
        raise invalid("/reason", "请写明撤销合并的原因")
    found = await get_merge(caller, merge_id)
    stamp = now()
    async with in_transaction():
        locked = await lock(found.survivor_id, found.duplicate_id)
        survivor, duplicate = locked[found.survivor_id], locked[found.duplicate_id]
        done = await HouseholdMerge.get(id=found.id)  # read again under the locks: one undo at a time
        if done.undone_at is not None:
            raise Conflict("该合并已撤销。")
        if survivor.merged_into is not None:
            raise Conflict("保留的户此后又合并到了另一户，请先撤销那次合并。")
        moves: dict[str, list[HouseholdMergeMove]] = {}
        for move in await HouseholdMergeMove.filter(merge_id=done.id):
            moves.setdefault(move.kind, []).append(move)
        back = {kind: [m.row_id for m in moves.get(kind, [])] for kind in ("visit", "member", "pointer")}
        for kind, model in MOVED:
            ids = [m.row_id for m in moves.get(kind, [])]
            where = Q(id__in=ids) | Q(visit_id__in=back["visit"]) if model is Submission else Q(id__in=ids)
            if ids or model is Submission and back["visit"]:
                await model.filter(where).update(household_id=duplicate.id)
        if back["member"]:
            await Member.filter(id__in=back["member"]).update(household_id=duplicate.id)
        if back["pointer"]:
            await Household.filter(id__in=back["pointer"]).update(merged_into=duplicate.id)
        history = [_note(caller, hid, "/merged_from" if hid == survivor.id else "/merged_into", reason, done, stamp,
                         str(duplicate.id if hid == survivor.id else survivor.id)) for hid in (survivor.id, duplicate.id)]
        for move in moves.get("combined", []):
            history += await _separate(settings, caller, move, duplicate.id, reason, done, stamp)
        for target in done.before.get("situation", []):
            if _unchanged(survivor.situation, survivor.situation_meta, duplicate.situation,
                          duplicate.situation_meta, target):
                survivor.situation.pop(target, None)
                survivor.situation_meta.pop(target, None)
        if survivor.updated_at == done.at:  # nothing changed the survivor since: it is as it was
            survivor.updated_at = datetime.fromisoformat(done.before["updated_at"])
        else:
            survivor.updated_at = stamp
        duplicate.merged_into = duplicate.merged_at = None
        for household in (survivor, duplicate):
            members = await Member.filter(household_id=household.id, removed_at__isnull=True).order_by(
                "created_at", "id")
            search.index(household, members)
            await household.save()
            await ledgers.sync(settings, household, members)
        await HouseholdChange.bulk_create(history)
        done.undone_at, done.undone_by_id, done.undo_reason = stamp, caller.id, reason
        await done.save(update_fields=("undone_at", "undone_by_id", "undo_reason"))
    for household in (survivor, duplicate):
        await audit.record(caller, "household.unmerged", "household", household.id, household_id=household.id,
                           merge=str(done.id), reason=reason)
    return done


async def _separate(settings: Settings, caller: Caller, move: HouseholdMergeMove, duplicate_id: uuid.UUID,
                    reason: str, done: HouseholdMerge, stamp) -> list[HouseholdChange]:
    """A combined member: back to the duplicate, living; the fields it filled in the survivor's twin emptied again
    where nothing has changed them since."""
    member = await Member.get(id=move.row_id)
    member.household_id, member.removed_at, member.updated_at, member.merged_into = duplicate_id, None, stamp, None
    await member.save(update_fields=("household_id", "removed_at", "updated_at", "merged_into"))
    twin = await Member.get(id=uuid.UUID(move.detail["into"]))
    emptied = [name for name in move.detail["filled"] if _unchanged(twin.data, twin.meta, member.data, member.meta,
                                                                       name)]
    for name in emptied:
        twin.data.pop(name, None)
        twin.meta.pop(name, None)
    if emptied:
        lookalikes.key_member(settings, twin)
        await twin.save()
    return [_note(caller, duplicate_id, MEMBER, reason, done, stamp, None, member.data, member.id)]


def _unchanged(values: dict, metas: dict, source: dict, source_metas: dict, name: str) -> bool:
    return name in values and values[name] == source.get(name) and metas.get(name) == source_metas.get(name, metas.get(name))


def _note(caller: Caller, hid: uuid.UUID, field: str, reason: str, done: HouseholdMerge, stamp, old, new=None,
          member_id: uuid.UUID | None = None) -> HouseholdChange:
    meta = {"at": stamp.isoformat(), "received": stamp.isoformat(), "submission": None, "author": str(caller.id),
            "reason": reason, "merge": str(done.id)}
    return HouseholdChange(household_id=hid, member_id=member_id, field=field, kind="unmerged", old_value=box(old),
                           old_meta=None, new_value=box(new), new_meta=meta, submission_id=None, actor_id=caller.id,
                           at=stamp)
