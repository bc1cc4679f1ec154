"""Submissions from the field, stored exactly once: checked against their form version, their photos present, then
stored with their visit and applied to the household file in one transaction.

Phones retry until they get an answer, maybe a day later. The submission's id (made by the phone) is the primary
key, so a retry racing its first attempt is caught by the database; the stored canonical hash of the body tells a
retry (200, the same answer) from another body under the same id (409).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.core import audit, canonical, sql
from server.core.caller import Caller
from server.core.clock import now
from server.core.ids import parse_id
from server.core.permissions import allows
from server.core.problems import Conflict, IdInUse, SubmissionNotFound, invalid
from server.core.scope import scope_of
from server.households import lookalikes, merges, observations
from server.intake import evidence, replies
from server.intake.checks import Checked, check, visit_times
from server.needs import raising
from server.models import Household, Submission, SubmissionAttachment, Visit
from server.settings import Settings
from server.surveys.versions import compiled_by_id


async def put_submission(caller: Caller, settings: Settings, submission_id: str, body: dict) -> tuple[dict, bool]:
    """Store a submission once; returns (its reply, created). Nothing is written unless everything holds."""
    sid = parse_id(submission_id, SubmissionNotFound)
    digest = canonical.digest(body)
    if await sql.fetch("SELECT 1 FROM submission WHERE id = $1", [str(sid)]):
        # The common retry, answered without checking anything again.
        return await _replay(caller, settings, await Submission.get(id=sid), digest), False

    started_at, finished_at = visit_times(settings, body)
    # Checked before the transaction, so that it holds the database (all of it, on SQLite) only to write: what is
    # read here does not change under it (a published version, a stored photo), or is guarded again inside.
    # A file merged into another while the phone was offline: its visit goes to the survivor.
    household_id = await merges.survivor_of(parse_id(body["household"], pointer="/household"))
    checked = await check(caller, sid, household_id, body)
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
        return await _replay(caller, settings, existing, digest), False
    # What the reply needs is at hand: no query to read back what was just written.
    context = replies.Context(body["form"], body["version"], [(sha, p, {}) for p, sha in checked.photos], None,
                              await compiled_by_id(checked.version_id))  # compiled by the checks: no query
    reply = replies.as_api(submission, context, allows(caller, "submission.see_flags"))
    return reply | await _duplicates(caller, settings, household, submission), True


async def _store(caller: Caller, settings: Settings, sid: uuid.UUID, digest: str, body: dict, checked: Checked,
                 household: Household, started_at: datetime | None, finished_at: datetime | None) -> Submission:
    """Write the checked submission with its visit and merge it into the household file, in the caller's
    transaction, the household locked."""
    original, changes, photos = checked.original, checked.changes, checked.photos
    flags = evidence.flags_for(settings, household, [(p, checked.stored[sha]) for p, sha in photos],
                               checked.reused, started_at, finished_at)
    flags += checked.flags
    stamp = now()
    observed_at = original.observed_at if original else (finished_at or started_at or stamp)
    original_id = original.original_id if original else sid
    location = body.get("location") or {}
    submission = Submission(
        id=sid, form_id=checked.form_id, form_version_id=checked.version_id, household_id=household.id,
        author_id=caller.id, data=checked.data,
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
    await observations.apply(caller, settings, household, submission.changes, observation, original_id)
    await raising.raise_from_submission(caller, household, submission, original)
    await audit.record(caller, "submission.created", "submission", sid, household_id=household.id,
                       form=body["form"], version=body["version"], replaces=body.get("replaces"))
    return submission


async def _replay(caller: Caller, settings: Settings, existing: Submission, digest: str) -> dict:
    if existing.author_id != caller.id or existing.body_hash != digest:
        raise IdInUse()
    reply = (await replies.for_caller(caller, [existing]))[0]
    return reply | await _duplicates(caller, settings, None, existing)


async def _duplicates(caller: Caller, settings: Settings, household: Household | None, submission: Submission) -> dict:
    """`possible_duplicates`, when there are any: files of the caller's areas with a member like one the submission
    carried (nothing is read for a submission without members)."""
    rows = (submission.changes or {}).get("members") or []
    if not rows:
        return {}
    household = household or await Household.get(id=submission.household_id)
    rows = [row | {"id": str(observations.member_id_for(row, submission.original_id))} for row in rows]
    found = await lookalikes.for_members(caller, settings, household, rows)
    return {"possible_duplicates": found} if found else {}


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
    household = sql.load(Household, rows[0])
    if household.merged_into is not None:  # merged in the instant since it was looked up: the phone sends again
        raise Conflict("该户刚刚被合并到另一户，请稍后重新发送。")
    return household
