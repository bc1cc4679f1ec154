"""Evidence warnings on a submission (绩效评价): what its photos say about the visit.

A photo is the evidence that a visit happened, there and then. A photo taken far from the household's known
location, outside the visit's time window, or already used in another household's visit is flagged on the
submission for the supervisor; the submission is still accepted (phones lose their GPS fix, clocks drift, and
the supervisor decides).
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta

import forms
from forms.messages import show
from server.core import sql
from server.core.caller import Caller
from server.core.scope import scope_of
from server.models import Attachment, Household
from server.settings import Settings

EARTH_RADIUS_M = 6_371_000


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine) in metres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))


async def usable_photos(caller: Caller, shas: list[str], household_id: uuid.UUID,
                        chain: set[uuid.UUID]) -> tuple[dict[str, Attachment], set[str]]:
    """The photos among `shas` the caller may use: stored, and either sent by the caller or used by a submission the
    caller may see (a correction's). Also those of them already used in another household's visit (not counting the
    submissions `chain` a correction replaces). One statement."""
    if not shas:
        return {}, set()
    params: list = [str(household_id), str(caller.id)]
    others = f"AND s.id NOT IN ({sql.placeholders(sorted(map(str, chain)), params)})" if chain else ""
    in_scope = (await scope_of(caller)).where("a", params)
    # The reuse check is not scoped on purpose: it spans the county, and the flag names no other household.
    rows = await sql.fetch(f"""
        SELECT {sql.columns(Attachment, "p")}, EXISTS (
            SELECT 1 FROM submission_attachment l JOIN submission s ON s.id = l.submission_id
            WHERE l.attachment_id = p.sha256 AND s.household_id <> $1 {others}
        ) AS reused
        FROM attachment p
        WHERE p.sha256 IN ({sql.placeholders(sorted(shas), params)}) AND (
            EXISTS (SELECT 1 FROM photo_holder k WHERE k.attachment_id = p.sha256 AND k.user_id = $2)
            OR EXISTS (SELECT 1 FROM submission_attachment l JOIN submission s ON s.id = l.submission_id
                       JOIN household h ON h.id = s.household_id JOIN area a ON a.id = h.community_id
                       WHERE l.attachment_id = p.sha256 AND {in_scope}))""", params)
    return ({row["sha256"]: sql.load(Attachment, row) for row in rows},
            {row["sha256"] for row in rows if row["reused"]})


def flags_for(
    settings: Settings,
    household: Household,
    photos: list[tuple[str, Attachment]],
    reused: set[str],
    started_at: datetime | None,
    finished_at: datetime | None,
) -> list[dict]:
    """Warnings for the photos (pointer, attachment) of one submission; `reused` as `usable_photos` found them."""
    flags: list[dict] = []
    seen: set[tuple[str, str]] = set()

    def flag(kind: str, pointer: str, sha256: str, detail: str, **extra) -> None:
        if (kind, sha256) not in seen:
            seen.add((kind, sha256))
            flags.append({"kind": kind, "pointer": f"/data{pointer}", "sha256": sha256, "detail": detail, **extra})

    home = (household.latitude, household.longitude) if household.latitude is not None else None
    start, end = started_at or finished_at, finished_at or started_at
    slack = timedelta(minutes=settings.evidence_time_slack_minutes)
    for pointer, photo in photos:
        if home is not None and photo.latitude is not None:
            metres = distance_m(home, (photo.latitude, photo.longitude))
            if metres > settings.evidence_max_distance_m:
                flag("far_from_household", pointer, photo.sha256,
                     f"照片拍摄地点距该户登记位置约 {_readable_distance(metres)}", distance_m=round(metres))
        if start is not None and photo.taken_at is not None:
            if photo.taken_at < start - slack or photo.taken_at > end + slack:
                flag("outside_visit_time", pointer, photo.sha256,
                     f"照片拍摄时间（{photo.taken_at.isoformat()}）不在本次走访时间内",
                     taken_at=photo.taken_at.isoformat())
    for pointer, photo in photos:
        if photo.sha256 in reused:
            flag("reused", pointer, photo.sha256, "该照片已用于另一户的走访记录")
    return flags


def _readable_distance(metres: float) -> str:
    return f"{metres / 1000:.1f} 公里" if metres >= 1000 else f"{round(metres)} 米"


def calculation_flags(differences: list[forms.Difference]) -> list[dict]:
    """A calculated answer the phone sent otherwise than the server computes it: the server's value is stored, the
    phone's kept here for the supervisor (an old form on the phone, or a tampered one)."""
    flags = []
    for d in differences:
        computed = "（无法计算，未填）" if d.as_flag()["computed"] is None else show(d.computed)
        flags.append({**d.as_flag(), "kind": "calculation_differs", "pointer": f"/data{d.pointer}",
                      "detail": f"手机计算的结果为 {show(d.sent)}，服务器计算为 {computed}，已按服务器结果保存"})
    return flags
