"""Submissions from the field, stored exactly once: checked against their form version, their photos present, then
stored with their visit and applied to the household file in one transaction; reviewed and corrected later.

Phones retry until they get an answer, maybe a day later. The submission's id (made by the phone) is the primary
key, so a retry racing its first attempt is caught by the database; the stored canonical hash of the body tells a
retry (200, the same answer) from another body under the same id (409).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

import forms
from server.core import audit, sql
from server.core.caller import Caller
from server.core.canonical import body_hash
from server.core.clock import now, parse_time
from server.core.ids import parse_id, parse_slug
from server.core.pagination import Page, paginate
from server.core.problems import (AttachmentsMissing, Conflict, FieldProblem, IdInUse, InvalidInput,
                                  SubmissionNotFound, invalid)
from server.core.scope import require_role, scope_of
from server.households import observations
from server.intake import evidence
from server.models import Attachment, FormVersion, Household, Member, Review, Submission, SubmissionAttachment, Visit
from server.settings import Settings
from server.surveys.versions import compiled_by_id, version_for_submission

SUBMITTING_ROLES = ("admin", "supervisor", "worker")
REVIEWING_ROLES = ("admin", "supervisor")
# Who sees the evidence warnings: those who evaluate the work, not those being evaluated.
EVALUATING_ROLES = ("admin", "supervisor", "bureau")
STATES = ("pending", "approved", "returned", "replaced")


async def visible(caller: Caller):
    scope = await scope_of(caller)
    return Submission.filter(scope.areas("household__community__"))


async def get_submission(caller: Caller, submission_id: str) -> Submission:
    found = await (await visible(caller)).filter(id=parse_id(submission_id, SubmissionNotFound)).first()
    if found is None:
        raise SubmissionNotFound()
    return found


async def put_submission(caller: Caller, settings: Settings, submission_id: str, body: dict) -> tuple[Submission, bool]:
    """Store a submission once; returns (submission, created). Nothing is written unless everything holds."""
    require_role(caller, *SUBMITTING_ROLES)
    sid = parse_id(submission_id, SubmissionNotFound)
    digest = body_hash(body)
    if await sql.fetch("SELECT 1 FROM submission WHERE id = $1", [str(sid)]):
        # The common retry, answered without checking anything again.
        return _replay(caller, await Submission.get(id=sid), digest), False

    started_at, finished_at = _visit_times(settings, body)
    # Checked before the transaction, so that it holds the database (all of it, on SQLite) only to write: what is
    # read here does not change under it (a published version, a stored photo), or is guarded again inside.
    household_id = parse_id(body["household"], pointer="/household")
    checked = await _check(caller, sid, household_id, body)
    try:
        async with in_transaction():
            # One submission at a time per household: the file is merged field by field.
            household = await _locked_household(caller, household_id)
            submission = await _store(caller, settings, sid, digest, body, checked, household, started_at,
                                      finished_at)
    except IntegrityError:
        existing = await Submission.get_or_none(id=sid)
        if existing is None:  # the unique `replaces`: another correction of the same submission won the race
            raise Conflict("要更正的提交已被更正，请在最新版本上更正。") from None
        return _replay(caller, existing, digest), False
    # What the reply needs is at hand: no query to read back what was just written.
    submission._known = (body["form"], body["version"], [(sha, p) for p, sha in checked.photos], None)
    return submission, True


@dataclass
class _Checked:
    """What a submission's checks found, for storing it."""

    form_id: uuid.UUID
    version_id: uuid.UUID
    changes: forms.Changes
    photos: list[tuple[str, str]]  # (pointer, sha256)
    stored: dict[str, Attachment]
    reused: set[str]
    original: Submission | None = None  # the submission a correction replaces
    chain: set[uuid.UUID] = field(default_factory=set)  # ... and every earlier version of it


async def _check(caller: Caller, sid: uuid.UUID, household_id: uuid.UUID, body: dict) -> _Checked:
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

    data = body["data"]
    errors = forms.check(form, data)
    if errors:
        raise InvalidInput(errors=[FieldProblem(f"/data{e.pointer}", e.detail) for e in errors])
    photos = _photos(form, data, body.get("attachments", []))
    stored, reused = await evidence.stored_photos(sorted({sha for _, sha in photos}), household_id, chain)
    _require_stored(photos, stored, body.get("attachments", []))
    changes = forms.binding_changes(form, data)
    await _check_members(changes.members, household_id, original.original_id if original else sid)
    return _Checked(form_id, version_id, changes, photos, stored, reused, original, chain)


async def _store(caller: Caller, settings: Settings, sid: uuid.UUID, digest: str, body: dict, checked: _Checked,
                 household: Household, started_at: datetime | None, finished_at: datetime | None) -> Submission:
    """Write the checked submission with its visit and merge it into the household file, in the caller's
    transaction, the household locked."""
    original, changes, photos = checked.original, checked.changes, checked.photos
    flags = evidence.flags_for(settings, household, [(p, checked.stored[sha]) for p, sha in photos],
                               checked.reused, started_at, finished_at)
    stamp = now()
    observed_at = original.observed_at if original else (finished_at or started_at or stamp)
    original_id = original.original_id if original else sid
    location = body.get("location") or {}
    submission = Submission(
        id=sid, form_id=checked.form_id, form_version_id=checked.version_id, household_id=household.id,
        author_id=caller.id, data=body["data"],
        changes={"situation": changes.situation, "members": changes.members, "needs": changes.needs},
        flags=flags, body_hash=digest, started_at=started_at, finished_at=finished_at, observed_at=observed_at,
        latitude=location.get("lat"), longitude=location.get("lon"), received_at=stamp, original_id=original_id,
        replaces_id=original.id if original else None,
    )
    links = [SubmissionAttachment(submission_id=sid, attachment_id=sha, pointer=p) for p, sha in photos]
    if original is not None:
        submission.visit_id = original.visit_id
    else:
        visit = Visit(household_id=household.id, worker_id=caller.id, started_at=started_at, finished_at=finished_at,
                      observed_at=observed_at, created_at=stamp)
        submission.visit_id = visit.id
        await sql.insert(visit)
    await sql.insert(submission)
    if links:
        await sql.insert(*links)
    if original is not None:
        replaced = await Submission.filter(id=original.id, review_state__in=("pending", "returned")).update(
            review_state="replaced")
        if not replaced:
            raise Conflict("要更正的提交已被审核通过或已被更正。")
    meta = observations.Meta(observed_at, stamp, str(sid), str(caller.id))
    observation = observations.Observation(meta, started_at or observed_at, frozenset(str(i) for i in checked.chain))
    await observations.apply(caller, household, submission.changes, observation, original_id)
    await audit.record(caller, "submission.created", "submission", sid, household_id=household.id,
                       form=body["form"], version=body["version"], replaces=body.get("replaces"))
    return submission


def _replay(caller: Caller, existing: Submission, digest: str) -> Submission:
    if existing.author_id != caller.id or existing.body_hash != digest:
        raise IdInUse()
    return existing


def _visit_times(settings: Settings, body: dict) -> tuple[datetime | None, datetime | None]:
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


async def _locked_household(caller: Caller, household_id: uuid.UUID) -> Household:
    """The household, if in the caller's scope, locked until the end of the transaction."""
    params: list = [str(household_id)]
    in_scope = (await scope_of(caller)).where("a", params)
    conn = sql.connection()
    # Of the household row only; SQLite has no row locks, and its transactions run one at a time.
    lock = " FOR UPDATE OF h" if sql.is_postgres(conn) else ""
    rows = await sql.fetch(f"""
        SELECT {sql.columns(Household, "h")} FROM household h JOIN area a ON a.id = h.community_id
        WHERE h.id = $1 AND {in_scope}{lock}""", params, conn)
    if not rows:
        raise invalid("/household", "该户不存在或不在您的管辖范围内；离线登记的户请先发送登记")
    return sql.load(Household, rows[0])


async def _replaceable(caller: Caller, body: dict, household_id: uuid.UUID) -> Submission:
    scope = await scope_of(caller)
    rid = parse_id(body["replaces"], pointer="/replaces")
    original = await Submission.filter(scope.areas("household__community__"), id=rid).first()
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


async def list_submissions(caller: Caller, filters: dict, cursor: str | None) -> Page:
    query = await visible(caller)
    if filters.get("form"):
        query = query.filter(form__slug=parse_slug(filters["form"]))
    if filters.get("household"):
        query = query.filter(household_id=parse_id(filters["household"], pointer="/household"))
    if filters.get("area"):
        area_id = parse_id(filters["area"], pointer="/area")
        query = query.filter(Q(household__community__county_id=area_id) | Q(household__community__township_id=area_id)
                             | Q(household__community_id=area_id))
    if filters.get("since"):
        since = parse_time(filters["since"])
        if since is None:
            raise invalid("/since", "时间格式不正确，应为 RFC 3339，例如 2025-03-18T09:00:00+08:00")
        if since.tzinfo is None:
            raise invalid("/since", "时间须带时区")
        query = query.filter(received_at__gte=since)
    if filters.get("state"):
        if filters["state"] not in STATES:
            raise invalid("/state", f"应为 {'、'.join(STATES)} 之一")
        query = query.filter(review_state=filters["state"])
    query = query.select_related("form", "form_version").prefetch_related("attachment_links")
    page = await paginate(query, cursor, order=("received_at", "id"), shape=lambda s: s)
    await _note_replacements(page.items)
    page.items = [as_api(s, caller) for s in page.items]
    return page


async def _note_replacements(submissions: list[Submission]) -> None:
    """Note on each submission the id of the correction that replaced it, if any, for `as_api`: one query for them
    all. (Not in `_replaced_by`: that is where the ORM keeps the reverse relation `replaced_by` once fetched.)"""
    replaced = dict(await Submission.filter(replaces_id__in=[s.id for s in submissions])
                    .values_list("replaces_id", "id"))
    for s in submissions:
        s._replacement_id = replaced.get(s.id)


async def read_submission(caller: Caller, submission_id: str) -> Submission:
    found = await get_submission(caller, submission_id)
    await found.fetch_related("form", "form_version", "attachment_links")
    await _note_replacements([found])
    return found


async def review(caller: Caller, submission_id: str, body: dict) -> Submission:
    """A supervisor of the township approves a submission or returns it to the worker with a comment."""
    require_role(caller, *REVIEWING_ROLES)
    found = await get_submission(caller, submission_id)
    if body["state"] == "returned" and not (body.get("comment") or "").strip():
        raise invalid("/comment", "退回时请写明需要修改的地方")
    stamp = now()
    async with in_transaction():
        updated = await Submission.filter(id=found.id, review_state__in=("pending", "approved", "returned")).update(
            review_state=body["state"], review_comment=body.get("comment"), reviewed_by_id=caller.id, reviewed_at=stamp)
        if not updated:
            raise Conflict("该提交已被更正，请审核最新版本。")
        await Review.create(submission_id=found.id, reviewer_id=caller.id, state=body["state"],
                            comment=body.get("comment"), at=stamp)
        await audit.record(caller, f"submission.{body['state']}", "submission", found.id,
                           household_id=found.household_id)
    return await read_submission(caller, str(found.id))


async def prepare_reply(caller: Caller, submission: Submission) -> dict:
    if hasattr(submission, "_known"):
        return as_api(submission, caller)
    await submission.fetch_related("form", "form_version", "attachment_links")
    await _note_replacements([submission])
    return as_api(submission, caller)


def as_api(s: Submission, caller: Caller) -> dict:
    if hasattr(s, "_known"):
        slug, number, links, replaced_by = s._known
    else:
        slug, number = s.form.slug, s.form_version.version
        links = [(link.attachment_id, link.pointer) for link in s.attachment_links]
        replaced_by = s._replacement_id
    reply = {
        "id": str(s.id),
        "form": slug,
        "version": number,
        "household": str(s.household_id),
        "visit": str(s.visit_id),
        "author": str(s.author_id) if s.author_id else None,
        "data": s.data,
        "attachments": [{"sha256": sha, "pointer": pointer} for sha, pointer in sorted(links, key=lambda x: x[1])],
        "started_at": _iso(s.started_at),
        "finished_at": _iso(s.finished_at),
        "observed_at": _iso(s.observed_at),
        "received_at": _iso(s.received_at),
        "location": {"lat": s.latitude, "lon": s.longitude} if s.latitude is not None else None,
        "original": str(s.original_id),
        "replaces": str(s.replaces_id) if s.replaces_id else None,
        "replaced_by": str(replaced_by) if replaced_by else None,
        "review": {
            "state": s.review_state,
            "comment": s.review_comment,
            "by": str(s.reviewed_by_id) if s.reviewed_by_id else None,
            "at": _iso(s.reviewed_at),
        },
    }
    if caller.role in EVALUATING_ROLES:
        reply["flags"] = s.flags
    return reply


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
