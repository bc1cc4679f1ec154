"""The printable summary of a household's archive (户档案摘要.pdf): A4, in Chinese, times on the station's clock.

typst renders it from `archive_summary.typ`, which reads every value from a `data.json` written beside it: names and
answers are data, never markup, so a name holding `#`, `*`, `[` or `$` prints as written. The thumbnails are written
to the same temporary folder; the rendering runs in a worker thread (about 0.1 s for a few pages; the event loop
keeps serving).

The font comes with the install, never from the system: Noto Sans CJK SC, from the `noto-cjk-sans-otc` package (the
full Noto Sans CJK collection, OFL). A font limited to GB 2312 would silently drop the rare characters of people's
names (喆 堃 珺), so no other font is looked for, and a missing one is an error, not a fallback. typst takes font
folders, not files: given a file it would quietly use a Latin font.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import noto_cjk_sans_otc
import typst

from forms.bindings import MEMBER_TAGS, SITUATION_TARGETS, URGENCIES
from forms.messages import show
from media.errors import MediaError
from media.thumbnails import Thumbnails
from server.core.sensitive import ID_NUMBER_FIELD, mask_id_number
from server.households.archive_contents import Contents, Sheet, needs

log = logging.getLogger("doorstep.archive")

TEMPLATE = Path(__file__).with_name("archive_summary.typ")
FONT = "Noto Sans CJK SC"
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
             "member": _member_name(members, n["member"]),
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


async def render(data: dict, thumbnails: Thumbnails, archived_at: datetime) -> bytes:
    """The PDF of `summary_data`, with the thumbnails it names (a photo without one shows a frame saying so)."""
    folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="doorstep-summary-"))
    try:
        written: dict[str, str | None] = {}
        for visit in data["visits"]:
            for thumb in visit["thumbs"]:
                sha = thumb["sha256"]
                if sha not in written:
                    written[sha] = await _write_thumbnail(thumbnails, sha, folder)
                thumb["file"] = written[sha]
        payload = json.dumps(data, ensure_ascii=False).encode()
        await asyncio.to_thread((folder / "data.json").write_bytes, payload)
        return await asyncio.to_thread(_compile, folder, int(archived_at.timestamp()))
    finally:
        # Shielded: an abandoned request is cancelled, and the folder would stay in the temporary directory.
        await asyncio.shield(asyncio.to_thread(shutil.rmtree, folder, True))


async def _write_thumbnail(thumbnails: Thumbnails, sha: str, folder: Path) -> str | None:
    try:
        stream = await thumbnails.open(sha, "thumb")
        image = await stream.read()  # 320 px, a few dozen KB
    except MediaError as e:  # undecodable pixels (kept as evidence) or gone from the store
        log.info("no thumbnail of %s for a household summary: %s", sha, e.detail)
        return None
    name = f"{sha}.jpg"
    await asyncio.to_thread((folder / name).write_bytes, image)
    return name


def _compile(folder: Path, timestamp: int) -> bytes:
    compiler = typst.Compiler(root=str(folder), font_paths=fonts(), ignore_system_fonts=True)
    pdf, warnings = compiler.compile_with_warnings(input=TEMPLATE.read_bytes(), format="pdf", timestamp=timestamp)
    for warning in warnings:
        log.warning("household summary: %s", warning.message)
    return pdf


@functools.cache
def fonts() -> typst.Fonts:
    """The installed CJK font, loaded once per process (about 50 ms) and shared by the rendering threads."""
    folder = Path(str(noto_cjk_sans_otc.FONT_PATH)).parent
    found = typst.Fonts(include_system_fonts=False, include_embedded_fonts=False, font_paths=[str(folder)])
    if FONT not in found.families():
        raise RuntimeError(f"{FONT} is missing from {folder}: reinstall the noto-cjk-sans-otc package")
    return found
