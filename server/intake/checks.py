"""The checks a submission passes before anything is written: its visit times, the form version it names (or,
for a correction, the submission it replaces), its answers, its photos stored, and its members' ids."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import forms
from server.core.caller import Caller
from server.core.clock import now, parse_time
from server.core.ids import parse_id
from server.core.problems import AttachmentsMissing, Conflict, FieldProblem, InvalidInput, invalid
from server.core.scope import visible
from server.households import observations
from server.intake import evidence, screening, unmasking
from server.models import Attachment, FormVersion, Member, Submission
from server.settings import Settings
from server.surveys.versions import compiled_by_id, version_for_submission


@dataclass
class Checked:
    """What a submission's checks found, for storing it."""

    form_id: uuid.UUID
    version_id: uuid.UUID
    changes: forms.Changes
    photos: list[tuple[str, str]]  # (pointer, sha256)
    stored: dict[str, Attachment]
    reused: set[str]
    data: dict  # the answers as stored: every calculated answer the server's own (forms.compute)
    flags: list[dict]  # calculated answers the phone sent otherwise (evidence.calculation_flags), the screening
    original: Submission | None = None  # the submission a correction replaces
    chain: set[uuid.UUID] = field(default_factory=set)  # ... and every earlier version of it


async def check(caller: Caller, sid: uuid.UUID, household_id: uuid.UUID, body: dict) -> Checked:
    """Check the submission against its form version and the stored photos; raise the first refusal."""
    original, chain = None, set()
    if body.get("replaces"):
        original = await _replaceable(caller, body, household_id)
        # The original's version, even if the form moved on or was retired since.
        form_id, version_id = original.form_id, original.form_version_id
        form = await compiled_by_id(version_id)
        chain = set(await Submission.filter(original_id=original.original_id).values_list("id", flat=True))
    else:
        form_id, version_id, form = await version_for_submission(caller, body["form"], body["version"])

    sent = unmasking.restore(form, body["data"], original.data) if original else body["data"]
    computed = forms.compute(form, sent)
    data = computed.data
    errors = forms.check(form, data)
    if errors:
        raise InvalidInput(errors=[FieldProblem(f"/data{e.pointer}", e.detail) for e in errors])
    photos = _photos(form, data, body.get("attachments", []))
    stored, reused = await evidence.usable_photos(caller, sorted({sha for _, sha in photos}), household_id, chain)
    _require_stored(photos, stored, body.get("attachments", []))
    changes = forms.binding_changes(form, data)
    flags = evidence.calculation_flags(computed.differences)
    if (screened := await screening.screen(form, household_id, data)) is not None:
        changes.situation["eligibility"], flag = screened
        flags.append(flag)
    await _check_members(changes.members, household_id, original.original_id if original else sid)
    return Checked(form_id, version_id, changes, photos, stored, reused, data, flags, original, chain)


def visit_times(settings: Settings, body: dict) -> tuple[datetime | None, datetime | None]:
    # The body schema has checked both are RFC 3339 date-times.
    started = parse_time(body["started_at"]) if body.get("started_at") else None
    finished = parse_time(body["finished_at"]) if body.get("finished_at") else None
    latest = now() + timedelta(minutes=settings.visit_clock_skew_minutes)
    errors = []
    for name, value in (("started_at", started), ("finished_at", finished)):
        if value is not None and value.tzinfo is None:
            errors.append(FieldProblem(f"/{name}", "时间须带时区，例如 2025-03-18T09:42:10+08:00"))
        elif value is not None and value > latest:
            # A phone with a wrong clock would otherwise win every later conflict on the household file.
            errors.append(FieldProblem(f"/{name}", "时间晚于当前时间，请检查手机时钟"))
    if not errors and started and finished and finished < started:
        errors.append(FieldProblem("/finished_at", "结束时间早于开始时间"))
    if errors:
        raise InvalidInput(errors=errors)
    # In UTC from here on, as the database gives them back: a retry then gets exactly the first answer.
    return (started.astimezone(timezone.utc) if started else None,
            finished.astimezone(timezone.utc) if finished else None)


async def _replaceable(caller: Caller, body: dict, household_id: uuid.UUID) -> Submission:
    rid = parse_id(body["replaces"], pointer="/replaces")
    original = await (await visible(caller, Submission)).filter(id=rid).first()
    if original is None:
        raise invalid("/replaces", "要更正的提交不存在或不在您的管辖范围内")
    if original.review_state == "replaced":
        raise Conflict("要更正的提交已被更正，请在最新版本上更正。")
    if original.review_state == "approved":
        raise Conflict("已审核通过的提交不能更正。")
    version = await FormVersion.get(id=original.form_version_id).values("version", slug="form__slug")
    errors = []
    if original.household_id != household_id:
        errors.append(FieldProblem("/household", "更正必须针对原提交的同一户"))
    if body["form"] != version["slug"]:
        errors.append(FieldProblem("/form", f"更正必须使用原提交的表单「{version['slug']}」"))
    if body["version"] != version["version"]:
        errors.append(FieldProblem("/version", f"更正必须使用原提交的表单版本（第 {version['version']} 版）"))
    if errors:
        raise InvalidInput(errors=errors)
    return original


def _photos(form: forms.CompiledForm, data: dict, listed: list[dict]) -> list[tuple[str, str]]:
    """The photo answers in the data; each listed attachment must be one of them."""
    found = form.photo_pointers(data)
    by_pointer = dict(found)
    errors = []
    for i, item in enumerate(listed):
        pointer = item["pointer"]
        if pointer not in by_pointer:
            errors.append(FieldProblem(f"/attachments/{i}/pointer", "该位置不是照片题目的回答"))
        elif by_pointer[pointer] != item["sha256"]:
            errors.append(FieldProblem(f"/attachments/{i}/sha256", "与该照片题目的回答不一致"))
    if errors:
        raise InvalidInput(errors=errors)
    return found


def _require_stored(photos: list[tuple[str, str]], stored: dict, listed: list[dict]) -> None:
    listed_at = {item["pointer"]: i for i, item in enumerate(listed)}
    missing: list[str] = []
    errors = []
    for pointer, sha in photos:
        if sha not in stored:
            if sha not in missing:
                missing.append(sha)
            at = f"/attachments/{listed_at[pointer]}/sha256" if pointer in listed_at else f"/data{pointer}"
            errors.append(FieldProblem(at, f"照片尚未上传：{sha}"))
    if missing:
        raise AttachmentsMissing(missing, errors)


async def _check_members(rows: list[dict], household_id: uuid.UUID, original_id: uuid.UUID) -> None:
    if not rows:
        return
    ids = {observations.member_id_for(row, original_id): row["pointer"] for row in rows}
    taken = await Member.filter(id__in=list(ids)).exclude(household_id=household_id).values_list("id", flat=True)
    if taken:
        raise InvalidInput(errors=[FieldProblem(f"/data{ids[mid]}", "成员编号已属于另一户") for mid in taken])
