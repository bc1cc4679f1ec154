"""The printable summary of a household's archive (户档案摘要.pdf): A4, in Chinese, times on the station's clock.

typst renders it from `archive_summary.typ`, which reads every value from a `data.json` written beside it: names and
answers are data, never markup, so a name holding `#`, `*`, `[` or `$` prints as written. The thumbnails are written
to the same temporary folder; typst runs in worker processes of its own (`summary_render`, which also says where the
font comes from).
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from forms.bindings import MEMBER_TAGS, SITUATION_TARGETS, URGENCIES
from forms.messages import show
from media.errors import MediaError
from media.thumbnails import Thumbnails
from server.core.sensitive import ID_NUMBER_FIELD, mask_id_number
from server.households.archive_contents import Contents, Sheet, needs
from server.needs.lifecycle import STATUS_NAMES
from server.households.summary_render import FONT, SummaryRenderer

log = logging.getLogger("doorstep.archive")

TITLE = "户档案摘要"
THUMBS_PER_SHEET = 10  # two rows; the others are in the ZIP's photos folder
REVIEW_STATES = {"pending": "待审核", "approved": "已通过", "returned": "已退回", "replaced": "已更正"}
GENDERS = {"male": "男", "female": "女"}


def summary_data(contents: Contents, zone: ZoneInfo, archived_at: datetime, archived_by: str) -> dict:
    """What the template prints, every value a string (or a list of them) ready to show."""
    h = contents.household
    by_submission = {str(sheet.submission.id): sheet for sheet in contents.sheets}
    members = {str(m.id): m.data.get("name") for m in contents.members}
    current = [sheet for sheet in contents.sheets if sheet.current]
    place = " ".join(name for name in contents.areas if name)
    return {
        "title": TITLE,
        "font": FONT,
        "head": h.head,
        "archived_by": archived_by,
        "subtitle": f"一户一档 · {place}",
        "facts": [
            ["户主", h.head], ["联系电话", h.phone or "—"],
            ["住址", h.address], ["社区（村）", contents.areas[-1]],
            ["登记日期", _day(h.created_at, zone)], ["走访与照片", f"{len(current)} 份记录，{len(contents.photos)} 张照片"],
            ["档案编号", str(h.id)], ["待处理冲突", f"{len(contents.conflicts)} 项"],
        ],
        "members": [_member(m.data, m.meta, by_submission) for m in contents.members],
        "situation": [_situation(target, value, h.situation_meta.get(target), by_submission, zone)
                      for target, value in h.situation.items()],
        "visits": [_visit(sheet, zone) for sheet in current],
        "needs": [
            {"item": _text(n["item_name"]), "urgency": URGENCIES.get(n["urgency"], _text(n["urgency"])),
             "description": _text(n["description"]),
             "member": _member_name(members, n["member"]), "status": STATUS_NAMES.get(n["status"], n["status"]),
             "raised": _day(datetime.fromisoformat(n["raised_at"]), zone)}
            for n in needs(contents)
        ],
        "footer": f"{TITLE} · {h.head} · 导出于 {_minute(archived_at, zone)} · 身份证号已遮盖",
        "note": (f"本摘要由 Doorstep 根据户档案生成，{_minute(archived_at, zone)}（{zone.key} 时间）由 {archived_by} 导出。"
                 "时间均为工作站所在时区的时间。身份证号只显示前 6 位和后 4 位。完整数据见 household.json，照片原图见"
                 " photos 文件夹，各文件的 SHA-256 校验值见 manifest.txt。"),
    }


def _situation(target: str, value: Any, meta: dict | None, by_submission: dict[str, Sheet], zone: ZoneInfo) -> dict:
    return {"label": SITUATION_TARGETS.get(target, target),
            "value": _label(by_submission, meta, "situation", target, value),
            "observed": _day(datetime.fromisoformat(meta["at"]), zone) if meta else ""}


def _visit(sheet: Sheet, zone: ZoneInfo) -> dict:
    shown = sheet.photos[:THUMBS_PER_SHEET]
    return {
        "when": _span(sheet.started, sheet.submission.finished_at, zone), "form": sheet.title, "worker": sheet.worker,
        "review": REVIEW_STATES.get(sheet.submission.review_state, sheet.submission.review_state),
        "photo_count": str(len(sheet.photos)), "more": len(sheet.photos) - len(shown),
        "thumbs": [{"sha256": sha, "file": None} for sha in shown],
    }


def _member(data: dict, meta: dict, by_submission: dict[str, Sheet]) -> dict:
    def label(name: str) -> str:
        return _label(by_submission, meta.get(name), "member", name, data.get(name))

    tags = data.get("tags") if isinstance(data.get("tags"), list) else []
    number = data.get(ID_NUMBER_FIELD)
    return {"name": _text(data.get("name")), "relation": label("relation"),
            "gender": GENDERS.get(data.get("gender")) or label("gender"), "birth_date": _text(data.get("birth_date")),
            "id_number": _text(mask_id_number(number)) if number is not None else "",
            "tags": "、".join(MEMBER_TAGS.get(t) or _text(t) for t in tags)}


def _member_name(members: dict[str, Any], member: Any) -> str:
    """A need's member: the name of the file's member it names by id, or as answered."""
    return _text(members.get(member) or member if isinstance(member, str) else member)


def _label(by_submission: dict[str, Sheet], meta: dict | None, kind: str, target: str, value: Any) -> str:
    """A bound value as the form that observed it labels it (a choice's title), or as stored."""
    if value is None:
        return ""
    sheet = by_submission.get((meta or {}).get("submission") or "")
    if sheet is not None:
        bindings = sheet.form.bindings
        if kind == "situation":
            template = next((t for t, bound in bindings.situation.items() if bound == target), None)
        else:
            name = next((n for n, bound in bindings.member_fields.items() if bound == target), None)
            template = f"{bindings.members}/*/{name}" if name and bindings.members else None
        if template is not None:
            if isinstance(value, list):
                return "、".join(sheet.form.label_for(template, v) for v in value)
            return sheet.form.label_for(template, value)
    return _text(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "、".join(_text(v) for v in value)
    return show(value)


def _span(start: datetime, end: datetime | None, zone: ZoneInfo) -> str:
    """2025-03-04 07:30–08:10; the start alone when the end is unknown or on another day."""
    shown = _minute(start, zone)
    if end is not None and end > start and _day(end, zone) == _day(start, zone):
        shown += "–" + end.astimezone(zone).strftime("%H:%M")
    return shown


def _day(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d")


def _minute(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


async def render(data: dict, thumbnails: Thumbnails, renderer: SummaryRenderer, archived_at: datetime) -> bytes:
    """The PDF of `summary_data`, with the thumbnails it names (a photo without one shows a frame saying so),
    rendered in the renderer's worker processes."""
    images: dict[str, bytes] = {}
    shas = list(dict.fromkeys(thumb["sha256"] for visit in data["visits"] for thumb in visit["thumbs"]))
    # Read at once, not one after another: each is a few hops to the store's threads (or a request to S3).
    written = dict(zip(shas, await asyncio.gather(*(_thumbnail(thumbnails, sha, f"thumb-{n}.jpg", images)
                                                    for n, sha in enumerate(shas, 1)))))
    for visit in data["visits"]:
        for thumb in visit["thumbs"]:
            thumb["file"] = written[thumb["sha256"]]
    payload = json.dumps(data, ensure_ascii=False).encode()
    return await renderer.render(payload, images, int(archived_at.timestamp()))


async def _thumbnail(thumbnails: Thumbnails, sha: str, name: str, images: dict[str, bytes]) -> str | None:
    try:
        image = await thumbnails.read(sha, "thumb")  # 320 px, a few dozen KB
    except MediaError as e:  # undecodable pixels (kept as evidence) or gone from the store
        log.info("no thumbnail of %s for a household summary: %s", sha, e.detail)
        return None
    images[name] = image
    return name
