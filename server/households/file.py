"""The household file (一户一档) as one reply: who lives there, the situation as last seen and the visit each field
came from, the visits newest first with their submissions, photos and evidence warnings, the needs raised, and the
conflicts awaiting a supervisor.

A worker opens the file on the doorstep, on a cheap phone, and some households have hundreds of visits: the file is
read from what each visit and submission stored when it arrived (the merged situation and members, each
submission's review state, photo links and flags) and from the needs list, never by reading and checking every submission's
answers again; visits come a page at a time, and a page costs the same number of queries whatever its size.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from server.core import audit
from server.core.caller import Caller
from server.core.pagination import paginate
from server.core.permissions import allows
from server.core.problems import InvalidInput, invalid
from server.households import registry
from server.households.conflicts import conflict_as_api
from server.households.file_needs import needs_by_household
from server.models import Household, HouseholdConflict, Member, Submission, SubmissionAttachment, Visit

VISITS_PER_PAGE = 20
MAX_VISITS_PER_PAGE = 100  # a phone keeping a whole file offline: a 300-visit file in three requests

Thumbnail = Callable[[str], str]  # sha256 → where the HTTP layer serves its thumbnail


async def read_file(caller: Caller, household_id: str, visits_cursor: str | None, thumbnail: Thumbnail,
                    visits_limit: int = VISITS_PER_PAGE) -> dict:
    """The file of a household in the caller's scope, with one page of its visits; reading it is audited."""
    household = await registry.get_living(caller, household_id)
    hid = household.id
    members = await Member.filter(household_id=hid, removed_at__isnull=True).order_by("created_at", "id")
    visits, next_cursor = await _visits(caller, hid, visits_cursor, thumbnail, visits_limit)
    conflicts = await HouseholdConflict.filter(household_id=hid, state="open").order_by("created_at", "id")
    reply = registry.as_api(household, members, len(conflicts)) | {
        "updated_at": household.updated_at.isoformat(),
        "situation_sources": await _situation_sources(household),
        "visits": {"items": visits, "next_cursor": next_cursor},
        "needs": (await needs_by_household([hid])).get(hid, []),
        "conflicts": [conflict_as_api(c) for c in conflicts],
    }
    await audit.record(caller, "household.read", "household", hid, household_id=hid)
    return reply


async def _situation_sources(household: Household) -> dict:
    """Per situation field: when it was observed, by which visit and submission, by whom; a correction has no
    visit, and says why it was made."""
    metas = household.situation_meta
    submissions = {m["submission"] for m in metas.values() if m.get("submission")}
    visit_of = {}
    if submissions:
        visit_of = {str(sid): str(vid) for sid, vid in await Submission.filter(
            id__in=[uuid.UUID(s) for s in submissions]).values_list("id", "visit_id")}
    return {
        target: {"observed_at": meta["at"], "visit": visit_of.get(meta.get("submission")),
                 "submission": meta.get("submission"), "by": meta.get("author"), "reason": meta.get("reason")}
        for target, meta in metas.items()
    }


async def _visits(caller: Caller, hid: uuid.UUID, cursor: str | None, thumbnail: Thumbnail,
                  limit: int) -> tuple[list, str | None]:
    """One page of visits, newest first (by when they happened), each with its current submissions: three queries."""
    try:
        page = await paginate(Visit.filter(household_id=hid).select_related("worker"), cursor,
                              order=("-observed_at", "-id"), shape=lambda v: v, limit=limit)
    except InvalidInput:
        raise invalid("/visits_cursor", "分页游标无效，请从第一页重新获取") from None
    show_flags = allows(caller, "submission.see_flags")  # the evaluators see the warnings, those evaluated do not
    columns = ["id", "visit_id", "review_state", "received_at"] + (["flags"] if show_flags else [])
    submissions = await Submission.filter(visit_id__in=[v.id for v in page.items]).exclude(
        review_state="replaced").order_by("received_at", "id").values(
        *columns, form="form__slug", version="form_version__version")
    photos: dict[uuid.UUID, list[dict]] = {}
    for link in await SubmissionAttachment.filter(submission_id__in=[s["id"] for s in submissions]).order_by(
            "pointer").values("submission_id", "attachment_id", "pointer", taken_at="attachment__taken_at"):
        photos.setdefault(link["submission_id"], []).append({
            "sha256": link["attachment_id"], "pointer": link["pointer"], "taken_at": _iso(link["taken_at"]),
            "thumbnail": thumbnail(link["attachment_id"])})
    by_visit: dict[uuid.UUID, list[dict]] = {}
    for s in submissions:
        shown = {"id": str(s["id"]), "form": s["form"], "version": s["version"], "review_state": s["review_state"],
                 "received_at": _iso(s["received_at"]), "photos": photos.get(s["id"], [])}
        if show_flags:
            shown["flags"] = s["flags"]
        by_visit.setdefault(s["visit_id"], []).append(shown)
    return [visit_as_api(v, by_visit.get(v.id, [])) for v in page.items], page.next_cursor


def visit_as_api(visit: Visit, submissions: list[dict]) -> dict:
    return {
        "id": str(visit.id),
        "observed_at": _iso(visit.observed_at),
        "started_at": _iso(visit.started_at),
        "finished_at": _iso(visit.finished_at),
        "worker": str(visit.worker_id) if visit.worker_id else None,
        "worker_name": visit.worker.display_name if visit.worker else None,
        "submissions": submissions,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
