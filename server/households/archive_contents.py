"""What the archive of one household holds, read once: the file, every visit and submission with its photos, the
needs the current submissions raised; and `household.json`, the file in the shape `GET /households/{id}` gives it
(ID numbers masked), with all its visits on one page and each submission whole, corrected ones included.

Photos are named for people unpacking the ZIP on a station's PC, by the day of the visit on the station's clock and
the form's title: `photos/2026-03-04_入户走访记录_1.jpg`, numbered within that day and form. A photo used by several
submissions (a correction keeps the original's photos) is packed once, under the name of its first use.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import forms
from server.core.caller import Caller
from server.households import registry
from server.households.conflicts import conflict_as_api
from server.households.file import visit_as_api
from server.households.file_needs import needs_by_household
from server.intake import replies
from server.intake.export import EXTENSIONS
from server.models import (Area, Attachment, FormVersion, Household, HouseholdConflict, Member,
                           Submission, SubmissionAttachment, User, Visit)
from server.surveys.versions import compiled_by_id

PHOTO_FOLDER = "photos"
# Characters Windows, macOS or an unzip tool refuse or read as folders in a file name.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
REPLY_CHUNK = 10  # households whose submissions' replies are made at once
NAME_LIMIT = 40  # characters of a title kept in a file name; paths stay well under Windows' 260


@dataclass
class Photo:
    sha256: str
    media_type: str
    size: int
    name: str  # its path in the ZIP


@dataclass
class Sheet:
    """One submission as the archive shows it."""

    submission: Submission
    title: str  # the title of its form version, as the worker saw it
    form: forms.CompiledForm
    worker: str  # the display name of the visit's worker (or of the author, when the visit has none)
    photos: list[str]  # sha256 of its photos, in the order of the form's questions

    @property
    def current(self) -> bool:
        return self.submission.review_state != "replaced"

    @property
    def started(self) -> datetime:
        """When the visit began, as people date it (the file orders by when it was observed, usually its end)."""
        return self.submission.started_at or self.submission.observed_at


@dataclass
class Contents:
    household: Household
    areas: list[str]  # county, township, community names
    members: list[Member]
    conflicts: list[HouseholdConflict]  # open ones
    visits: list[Visit]  # newest first
    sheets: list[Sheet]  # oldest first
    photos: dict[str, Photo] = field(default_factory=dict)  # by sha256, in the order they are packed
    needs: list[dict] = field(default_factory=list)  # as the file shows them, newest first


async def gather(households: list[Household], zone: ZoneInfo) -> list[Contents]:
    """Everything the archive shows of each household, in a handful of queries whatever their number and history
    (an area's export reads 50 households at a time; one household's archive is a batch of one)."""
    ids = [h.id for h in households]
    communities = {a.id: a for a in await Area.filter(id__in={h.community_id for h in households})}
    names = dict(await Area.filter(id__in={i for c in communities.values() for i in (c.county_id, c.township_id)})
                 .values_list("id", "name"))
    members = _by_household(await Member.filter(household_id__in=ids, removed_at__isnull=True)
                            .order_by("created_at", "id"))
    conflicts = _by_household(await HouseholdConflict.filter(household_id__in=ids, state="open")
                              .order_by("created_at", "id"))
    visits = await Visit.filter(household_id__in=ids).select_related("worker").order_by("-observed_at", "-id")
    submissions = await Submission.filter(household_id__in=ids).order_by("observed_at", "received_at", "id")
    sheets = _by_household(await _sheets(submissions, visits), lambda sheet: sheet.submission.household_id)
    visits_of = _by_household(visits)
    stored = await _stored_photos({sha for some in sheets.values() for sheet in some for sha in sheet.photos})
    needs = await needs_by_household(ids)
    gathered = []
    for h in households:
        community = communities[h.community_id]
        areas = [names.get(community.county_id, ""), names.get(community.township_id, ""), community.name]
        contents = Contents(h, areas, members.get(h.id, []), conflicts.get(h.id, []), visits_of.get(h.id, []),
                            sheets.get(h.id, []), needs=needs.get(h.id, []))
        _name_photos(contents, stored, zone)
        gathered.append(contents)
    return gathered


def _by_household(rows: list, key=lambda row: row.household_id) -> dict[uuid.UUID, list]:
    grouped: dict[uuid.UUID, list] = {}
    for row in rows:
        grouped.setdefault(key(row), []).append(row)
    return grouped


async def _sheets(submissions: list[Submission], visits: list[Visit]) -> list[Sheet]:
    titles = dict(await FormVersion.filter(id__in={s.form_version_id for s in submissions}).values_list("id", "title"))
    compiled = {vid: await compiled_by_id(vid) for vid in titles}
    workers = {v.id: v.worker.display_name for v in visits if v.worker}
    authors = dict(await User.filter(id__in={s.author_id for s in submissions if s.author_id}).values_list(
        "id", "display_name"))
    linked: dict[uuid.UUID, dict[str, str]] = {}
    for sid, pointer, sha in await SubmissionAttachment.filter(submission_id__in=[s.id for s in submissions]) \
            .values_list("submission_id", "pointer", "attachment_id"):
        linked.setdefault(sid, {})[pointer] = sha
    sheets = []
    for s in submissions:
        form = compiled[s.form_version_id]
        links = linked.get(s.id, {})
        # The form's question order first; a link no answer names any more (a form's later version) after them.
        order = [p for p, _ in form.photo_pointers(s.data) if p in links] + sorted(links)
        photos = list(dict.fromkeys(links[p] for p in order))
        worker = workers.get(s.visit_id) or authors.get(s.author_id) or ""
        sheets.append(Sheet(s, titles[s.form_version_id], form, worker, photos))
    return sheets


async def _stored_photos(shas: set[str]) -> dict[str, tuple[str, int]]:
    return {sha: (media_type, size) for sha, media_type, size in
            await Attachment.filter(sha256__in=shas).values_list("sha256", "media_type", "size")}


def _name_photos(contents: Contents, stored: dict[str, tuple[str, int]], zone: ZoneInfo) -> None:
    counts: dict[str, int] = {}
    for sheet in contents.sheets:
        day = sheet.started.astimezone(zone).strftime("%Y-%m-%d")
        for sha in sheet.photos:
            if sha in contents.photos or sha not in stored:
                continue
            media_type, size = stored[sha]
            stem = f"{day}_{safe_name(sheet.title)}"
            counts[stem] = counts.get(stem, 0) + 1
            extension = EXTENSIONS.get(media_type, media_type.rpartition("/")[2])
            contents.photos[sha] = Photo(sha, media_type, size, f"{PHOTO_FOLDER}/{stem}_{counts[stem]}.{extension}")


def safe_name(text: str) -> str:
    """A title as part of a file name: without the characters file systems refuse, and not too long."""
    cleaned = _UNSAFE.sub("_", text).strip(" .")[:NAME_LIMIT].strip(" .")
    return cleaned or "表单"


def needs(contents: Contents) -> list[dict]:
    """The household's needs and what became of each, newest first, as the file shows them."""
    return contents.needs


async def submission_replies(caller: Caller, gathered: list[Contents]) -> dict[str, dict]:
    """The submissions of these households as `GET /submissions/{id}` gives them to `caller`, by id: a few queries
    for the whole batch."""
    found: dict[str, dict] = {}
    for first in range(0, len(gathered), REPLY_CHUNK):  # the loop serves other requests between the chunks
        chunk = gathered[first:first + REPLY_CHUNK]
        submissions = [sheet.submission for contents in chunk for sheet in contents.sheets]
        found |= {reply["id"]: reply for reply in await replies.for_caller(caller, submissions)}
    return found


def as_json(contents: Contents, replies_by_id: dict[str, dict]) -> dict:
    """household.json: the file's reply, members and answers masked, with every visit on one page
    (`next_cursor` null); each visit's submissions newest first as `GET /submissions/{id}` gives them
    (`submission_replies`; a corrected one too, state `replaced`), with `form_title` and, for each photo, `file`,
    where it lies in the ZIP."""
    h = contents.household
    by_visit: dict[uuid.UUID, list[dict]] = {}
    visit_of: dict[str, str] = {}
    for sheet in reversed(contents.sheets):
        s = sheet.submission
        reply = replies_by_id.pop(str(s.id))  # one household's, taken: the batch's replies are let go as it goes
        reply["form_title"] = sheet.title
        reply["attachments"] = [a | {"file": contents.photos[a["sha256"]].name if a["sha256"] in contents.photos
                                     else None} for a in reply["attachments"]]
        by_visit.setdefault(s.visit_id, []).append(reply)
        visit_of[str(s.id)] = str(s.visit_id)
    return registry.as_api(h, contents.members, len(contents.conflicts)) | {
        "updated_at": h.updated_at.isoformat(),
        "area_names": contents.areas,
        "situation_sources": {
            target: {"observed_at": meta["at"], "visit": visit_of.get(meta.get("submission")),
                     "submission": meta.get("submission"), "by": meta.get("author"), "reason": meta.get("reason")}
            for target, meta in h.situation_meta.items()
        },
        "visits": {"items": [visit_as_api(v, by_visit.get(v.id, [])) for v in contents.visits], "next_cursor": None},
        "needs": needs(contents),
        "conflicts": [conflict_as_api(c) for c in contents.conflicts],
    }
