"""Corrections of a household file by the people who keep it (PATCH).

A worker or supervisor of the household's area corrects what a registration or a visit got wrong: the address, head
and phone registered, the location, a situation field, a member's fields; adds a member the visits missed, or removes
one who never lived there or has moved out. Each correction says why (`reason`) and goes to the history field by
field (kind `corrected`, with who and why) and to the audit log. A corrected value counts as observed when it was
corrected: a later visit overrides it as it would any value, and an earlier one that arrives late (a phone offline)
loses to it and, if it disagrees, is flagged as a conflict, as between two visits.

Moving a household to another community is a supervisor's act, within the supervisor's own areas. The household keeps
its id, and its visits, photos, history and conflicts follow it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from server.core import audit
from server.core.caller import Caller
from server.core.clock import now
from server.core.ids import parse_id
from server.core.permissions import allows
from server.core.problems import FieldProblem, Forbidden, InvalidInput, invalid
from server.core.scope import visible
from server.core.sensitive import mask_id_number
from server.households import ledgers, lookalikes, search
from server.households.history import MEMBER, pointer_of
from server.households.observations import Meta, box
from server.households.registry import get_living
from server.models import Area, Household, HouseholdChange, Member
from server.settings import Settings

# A number as replies mask it (core/sensitive.py), 18 or 15 characters: what a phone sends back unchanged.
MASKED_ID_NUMBER = r"^[0-9]{6}(\*{8}|\*{5})[0-9]{3}[0-9Xx]$"
COLUMNS = ("address", "head", "phone")  # the registration's own columns; `location` is two
CORRECTABLE = (*COLUMNS, "location", "community", "situation", "members")


class _Correction:
    """The history rows of one PATCH, all made at one time by one person for one reason."""

    def __init__(self, caller: Caller, household_id: uuid.UUID, reason: str, stamp: datetime):
        self.caller, self.household_id, self.stamp = caller, household_id, stamp
        self.meta = Meta(stamp, stamp, None, str(caller.id)).as_json() | {"reason": reason}
        self.changes: list[HouseholdChange] = []

    def record(self, member_id: uuid.UUID | None, field: str, old: Any, new: Any, old_meta: dict | None) -> None:
        self.changes.append(HouseholdChange(
            household_id=self.household_id, member_id=member_id, field=field, kind="corrected", old_value=box(old),
            old_meta=old_meta, new_value=box(new), new_meta=self.meta, submission_id=None, actor_id=self.caller.id,
            at=self.stamp))

    def set(self, member_id: uuid.UUID | None, values: dict, metas: dict, name: str, value: Any) -> None:
        """A situation or member field: its value, and its meta saying it was corrected now, by whom and why."""
        if name in values and values[name] == value or name not in values and value is None:
            return
        self.record(member_id, name, values.get(name), value, metas.get(name))
        values[name], metas[name] = value, self.meta

    @property
    def pointers(self) -> list[str]:
        return list(dict.fromkeys(pointer_of(c.field, c.member_id) for c in self.changes))


async def correct(caller: Caller, settings: Settings, household_id: str,
                  body: dict) -> tuple[Household, list[Member], list[dict]]:
    """Apply a checked PATCH body; returns the household, its living members and the files of the caller's areas
    that the members it named look like. Nothing is written unless all of it holds."""
    reason = body["reason"].strip()
    if not reason:
        raise invalid("/reason", "请写明更正的原因")
    if not any(name in body for name in CORRECTABLE):
        raise InvalidInput("请至少更正一项：住址、户主、电话、位置、社区（村）、情况或成员。")
    found = await get_living(caller, household_id)
    target = await _move_target(caller, found, body.get("community"))  # refused before anything is read for writing
    stamp = now()
    async with in_transaction():
        # One change at a time per household, as submissions merge (they lock the same row).
        household = await Household.filter(id=found.id).select_for_update().first()
        correction = _Correction(caller, household.id, reason, stamp)
        _correct_registration(correction, household, body, target)
        if "address" in body or target is not None:
            area = target or await Area.get(id=household.community_id)
            household.address_key = lookalikes.address_key(household.address, area.name)
        for name, value in body.get("situation", {}).items():
            correction.set(None, household.situation, household.situation_meta, name, value)
        await _correct_members(settings, correction, household.id, body.get("members", []))
        members = await Member.filter(household_id=household.id, removed_at__isnull=True).order_by("created_at", "id")
        if correction.changes:
            household.updated_at = stamp
            search.index(household, members)
            await household.save()
            await HouseholdChange.bulk_create(correction.changes)
            # A tag, a birth date, 救助类型 or a member gone: people move on or off the ledgers as on a visit.
            await ledgers.sync(settings, household, members)
            await _audit(caller, correction, found, target, reason)
    named = {uuid.UUID(row["id"]) for row in body.get("members", []) if not row.get("remove")}
    rows = [m.data | {"id": str(m.id)} for m in members if m.id in named]
    return household, members, await lookalikes.for_members(caller, settings, household, rows)


async def _move_target(caller: Caller, household: Household, raw: str | None) -> Area | None:
    """The community a household moves to, if it moves: a supervisor's act (403 for others), within their areas."""
    if raw is None or parse_id(raw, pointer="/community") == household.community_id:
        return None
    if not allows(caller, "household.move"):
        raise Forbidden("只有督导可以把户迁到另一个社区（村）。")
    area = await (await visible(caller, Area)).filter(id=parse_id(raw, pointer="/community"), level="community").first()
    if area is None:
        raise invalid("/community", "目标社区（村）不存在，或不在您的管辖范围内")
    return area


def _correct_registration(correction: _Correction, household: Household, body: dict, target: Area | None) -> None:
    for name in COLUMNS:
        if name in body and getattr(household, name) != body[name]:
            correction.record(None, f"/{name}", getattr(household, name), body[name], None)
            setattr(household, name, body[name])
    if "location" in body:
        old = {"lat": household.latitude, "lon": household.longitude} if household.latitude is not None else None
        new = body["location"]
        if old != new:
            correction.record(None, "/location", old, new, None)
            household.latitude, household.longitude = (new["lat"], new["lon"]) if new else (None, None)
    if target is not None:
        correction.record(None, "/community", str(household.community_id), str(target.id), None)
        household.community_id = target.id


async def _correct_members(settings: Settings, correction: _Correction, hid: uuid.UUID, rows: list[dict]) -> None:
    """Change, add (under the id the client made: a retry adds no second one) or remove members."""
    if not rows:
        return
    ids = [uuid.UUID(row["id"]) for row in rows]
    known = {m.id: m for m in await Member.filter(id__in=ids)}
    errors = []
    for i, (mid, row) in enumerate(zip(ids, rows)):
        member, fields = known.get(mid), _fields(row)
        if mid in ids[:i]:
            errors.append(FieldProblem(f"/members/{i}/id", "同一成员只能出现一次"))
        elif member is not None and member.household_id != hid:
            errors.append(FieldProblem(f"/members/{i}/id", "成员编号已属于另一户"))
        elif row.get("remove") and fields:
            errors.append(FieldProblem(f"/members/{i}/remove", "移除成员时不能同时更正其信息"))
        elif row.get("remove") and member is None:
            errors.append(FieldProblem(f"/members/{i}/id", "该户没有这个成员"))
        elif member is None and not fields.get("name"):
            errors.append(FieldProblem(f"/members/{i}/name", "新增成员须填写姓名"))
        elif _masked(row) and (member is None or mask_id_number(member.data.get("id_number")) != row["id_number"]):
            errors.append(FieldProblem(f"/members/{i}/id_number", "脱敏的身份证号与该成员登记的号码不符：如需更正，请填写完整号码"))
    if errors:
        raise InvalidInput(errors=errors)
    for mid, row in zip(ids, rows):
        member = known.get(mid)
        if row.get("remove"):
            if member.removed_at is None:
                correction.record(mid, MEMBER, member.data, None, None)
                member.removed_at = member.updated_at = correction.stamp
                await member.save(update_fields=("removed_at", "updated_at"))
            continue
        arriving = member is None or member.removed_at is not None
        if member is None:
            member = Member(id=mid, household_id=hid, data={}, meta={}, created_at=correction.stamp)
        before = dict(member.data)
        fields = _fields(row)
        if _masked(row):  # sent back as it was shown: the whole number it stands for, unchanged
            fields["id_number"] = member.data["id_number"]
        for name, value in fields.items():
            if arriving:  # one history row for the member as a whole
                member.data[name], member.meta[name] = value, correction.meta
            else:
                correction.set(mid, member.data, member.meta, name, value)
        if arriving:
            correction.record(mid, MEMBER, None, member.data, None)
        elif member.data == before:
            continue
        member.removed_at, member.updated_at = None, correction.stamp
        lookalikes.key_member(settings, member)
        await member.save()


def _masked(row: dict) -> bool:
    """A member row's ID number as a reply showed it (the schema let only that shape through with a star)."""
    return isinstance(row.get("id_number"), str) and "*" in row["id_number"]


def _fields(row: dict) -> dict:
    return {name: value for name, value in row.items() if name not in ("id", "remove")}


async def _audit(caller: Caller, correction: _Correction, before: Household, target: Area | None, reason: str) -> None:
    """What was corrected, by pointer, and why; never the values (an ID number must not reach the log in clear)."""
    if target is not None:
        await audit.record(caller, "household.moved", "household", before.id, household_id=before.id,
                           **{"from": str(before.community_id), "to": str(target.id)}, reason=reason)
    pointers = [p for p in correction.pointers if p != "/community"]
    if pointers:
        await audit.record(caller, "household.corrected", "household", before.id, household_id=before.id,
                           pointers=pointers, reason=reason)
