"""The reply shape of a submission, built from its row and the data around it (form, version, photo links, the
correction that replaced it), read for a whole page at once. The answers to ID-number questions are masked."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import forms
from server.core import sensitive
from server.core.caller import Caller
from server.core.permissions import allows
from server.intake.evidence import distance_m
from server.models import FormVersion, Household, Submission, SubmissionAttachment
from server.surveys.versions import compiled_by_id


@dataclass(frozen=True)
class Context:
    """What a reply shows beyond the submission's own row."""

    form: str  # the form's slug
    version: int
    photos: list[tuple[str, str, dict]]  # (sha256, pointer, evidence: taken_at and distance_m)
    replaced_by: uuid.UUID | None
    compiled: forms.CompiledForm  # the version, which knows its ID-number questions


async def for_caller(caller: Caller, submissions: list[Submission]) -> list[dict]:
    """The replies for these submissions, in three queries whatever their number (four for those who see the
    evidence, and one for each version not compiled yet)."""
    ids = [s.id for s in submissions]
    versions = {row["id"]: row for row in await FormVersion.filter(
        id__in={s.form_version_id for s in submissions}).values("id", "version", slug="form__slug")}
    show_flags = allows(caller, "submission.see_flags")
    homes = {hid: (lat, lon) for hid, lat, lon in await Household.filter(
        id__in={s.household_id for s in submissions}, latitude__isnull=False).values_list(
            "id", "latitude", "longitude")} if show_flags and submissions else {}
    household_of = {s.id: s.household_id for s in submissions}
    photos: dict[uuid.UUID, list[tuple[str, str, dict]]] = {}
    for sid, sha, pointer, taken_at, lat, lon in await SubmissionAttachment.filter(submission_id__in=ids).values_list(
            "submission_id", "attachment_id", "pointer", "attachment__taken_at", "attachment__latitude",
            "attachment__longitude"):
        evidence = {}
        if show_flags:  # the evidence is the evaluators' to see, as the warnings are
            home = homes.get(household_of[sid])
            evidence = {"taken_at": _iso(taken_at), "distance_m": round(distance_m(home, (lat, lon)))
                        if home is not None and lat is not None else None}
        photos.setdefault(sid, []).append((sha, pointer, evidence))
    replaced = dict(await Submission.filter(replaces_id__in=ids).values_list("replaces_id", "id"))
    compiled = {vid: await compiled_by_id(vid) for vid in versions}
    return [as_api(s, Context(versions[s.form_version_id]["slug"], versions[s.form_version_id]["version"],
                              photos.get(s.id, []), replaced.get(s.id), compiled[s.form_version_id]), show_flags)
            for s in submissions]


def as_api(s: Submission, context: Context, show_flags: bool) -> dict:
    reply = {
        "id": str(s.id),
        "form": context.form,
        "version": context.version,
        "household": str(s.household_id),
        "visit": str(s.visit_id),
        "author": str(s.author_id) if s.author_id else None,
        "data": _in_key_order(sensitive.mask_answers(context.compiled, s.data)),
        "attachments": [{"sha256": sha, "pointer": pointer, **evidence}
                        for sha, pointer, evidence in sorted(context.photos, key=lambda x: x[1])],
        "started_at": _iso(s.started_at),
        "finished_at": _iso(s.finished_at),
        "observed_at": _iso(s.observed_at),
        "received_at": _iso(s.received_at),
        "location": {"lat": s.latitude, "lon": s.longitude} if s.latitude is not None else None,
        "original": str(s.original_id),
        "replaces": str(s.replaces_id) if s.replaces_id else None,
        "replaced_by": str(context.replaced_by) if context.replaced_by else None,
        "review": {
            "state": s.review_state,
            "comment": s.review_comment,
            "by": str(s.reviewed_by_id) if s.reviewed_by_id else None,
            "at": _iso(s.reviewed_at),
        },
    }
    if show_flags:  # the evaluators see the evidence warnings, not those being evaluated
        reply["flags"] = s.flags
    return reply


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _in_key_order(value: Any) -> Any:
    """The answers with their keys sorted at every level. PostgreSQL's jsonb keeps keys in an order of its own, so the
    answers read back for a retry would otherwise differ, byte for byte, from the first reply built from the body."""
    if isinstance(value, dict):
        return {key: _in_key_order(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_in_key_order(item) for item in value]
    return value
