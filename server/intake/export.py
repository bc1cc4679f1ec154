"""Data export of one form: every current submission across its versions, as XLSX, CSV, or a ZIP of the XLSX and
the photos its rows use; streamed.

Columns are the questions, titled as the form titles them, answers written as their choice labels; each repeated
group (family members, needs) is a table of its own joined by the submission id. The files are for people, opened
in Excel on a station's PC: times are date-times on the station's clock (`station_timezone`), dates are dates, ID
numbers are masked (`core.sensitive`), and every cell goes through `core.sheets`, which keeps an answer from becoming
a formula. A photo cell of the XLSX or CSV holds the photo's hash and no link, since a link to the API would only
answer 401 to Excel, which has no token; in the ZIP it links to the photo's file in the `photos/` folder beside it.

Rows are read in batches and written as they come: an export of a township's year holds one batch in memory, never
the whole of it (a ZIP also keeps the names of the photos to pack). XLSX is written in xlsxwriter's constant-memory
mode to a temporary file (a ZIP itself, it cannot be sent before it is finished), then streamed and removed; the
photos of a ZIP are read through the photo store as they are sent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import aiofiles
import aiofiles.os

import forms
from forms import pointers
from media.errors import PhotoNotFound
from media.store import PhotoStore
from server.core import audit, sensitive, sheets, zips
from server.core.caller import Caller
from server.core.ids import parse_slug
from server.core.pagination import batches
from server.core.problems import FormNotFound, invalid
from server.core.scope import forms_visible_to, visible
from server.models import Form, FormVersion, Submission, SubmissionAttachment
from server.settings import Settings
from server.surveys.versions import compiled

log = logging.getLogger("doorstep.export")

BATCH = 200
STATES = {"pending": "待审核", "approved": "已通过", "returned": "已退回", "replaced": "已更正"}
FIXED = ["提交编号", "户编号", "社区（村）", "户主", "社工", "表单版本", "走访开始", "走访结束", "接收时间", "审核状态",
         "证据提示"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PHOTO_FOLDER = "photos"
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/heic": "heic"}
# Windows opens a ZIP like a folder, and Excel a workbook in it from a temporary copy, whose links lead nowhere.
README = ("说明.txt", "\ufeff请先把这个压缩包全部解压，再打开其中的表格：表格里照片的链接指向同一文件夹下 photos 文件夹中的照片。\r\n")


@dataclass
class Table:
    """One sheet: the main table (group None) or the rows of one repeated group."""

    name: str
    group: str | None
    columns: list[tuple[str, str]] = field(default_factory=list)  # (template, title) of each question column

    @property
    def header(self) -> list[str]:
        return (FIXED if self.group is None else ["提交编号", "行号"]) + [title for _, title in self.columns]


@dataclass
class Export:
    filename: str
    media_type: str
    chunks: AsyncIterator[bytes]


@dataclass
class Version:
    """A form version as the export reads its answers."""

    row: FormVersion
    form: forms.CompiledForm
    photos: frozenset[str]
    labelled: frozenset[str]
    times: dict[str, str]  # template → "date" or "date-time", the questions whose answers become Excel dates

    @classmethod
    def of(cls, row: FormVersion) -> Version:
        form = compiled(row)
        times = {t: q.schema["format"] for t, q in form.questions.items()
                 if isinstance(q.schema, dict) and q.schema.get("format") in ("date", "date-time")}
        return cls(row, form, frozenset(form.photo_templates()), frozenset(form.choice_labels()), times)


async def export_submissions(caller: Caller, settings: Settings, store: PhotoStore, slug: str, fmt: str,
                             table: str | None) -> Export:
    """`fmt` is xlsx, csv (`table` names a group, or none for the main table) or zip (the XLSX and its photos)."""
    form = await Form.filter(await forms_visible_to(caller), slug=parse_slug(slug, FormNotFound)).first()
    if form is None or fmt not in ("xlsx", "csv", "zip"):
        raise FormNotFound()
    versions = {v.id: Version.of(v) for v in await FormVersion.filter(form_id=form.id).order_by("-version")}
    tables = _tables([v.form for v in versions.values()])
    if fmt == "csv":
        chosen = next((t for t in tables if (t.group or "").lstrip("/") == (table or "")), None)
        if chosen is None:
            names = "、".join(t.group.lstrip("/") for t in tables if t.group) or "无"
            raise invalid("/table", f"没有这张表；可选：{names}")
        tables = [chosen]
    query = (await visible(caller, Submission)).filter(form_id=form.id).exclude(review_state="replaced")
    photos = Photos(packed=fmt == "zip")
    rows = _rows(query, versions, tables, ZoneInfo(settings.station_timezone), photos)
    await audit.record(caller, "submissions.exported", "form", form.slug, format=fmt, table=table)
    stem = f"{form.slug}-submissions"
    if fmt == "csv":
        suffix = f"-{table}" if table else ""
        return Export(f"{stem}{suffix}.csv", "text/csv; charset=utf-8", _csv(tables[0], rows))
    path = await _xlsx(tables, rows)
    if fmt == "xlsx":
        return Export(f"{stem}.xlsx", XLSX, sheets.read_then_remove(path))
    return Export(f"{stem}.zip", "application/zip", zips.stream_zip(_archive(f"{stem}.xlsx", path, photos, store)))


def _tables(versions: list[forms.CompiledForm]) -> list[Table]:
    """The question columns of every version, the latest version's titles and order first."""
    titles: dict[str, str] = {}
    for form in versions:
        for template, title in form.question_titles().items():
            titles.setdefault(template, title)
    templates = list(titles)
    groups = [t for t in templates if "*" not in t and any(o.startswith(t + "/*/") for o in templates)]
    leaves = [t for t in templates if not any(o.startswith(t + "/") for o in templates)]
    result = [Table("提交", None, [(t, titles[t]) for t in leaves if "*" not in t])]
    for group in groups:
        columns = [(t, titles[t]) for t in leaves if t.startswith(group + "/*/") and "*" not in t[len(group) + 3:]]
        result.append(Table(titles[group], group, columns))  # the workbook makes a sheet name of the title
    return result


@dataclass
class Photos:
    """How photo cells are written: the hashes as text, or (`packed`, for the ZIP) a link to the files beside the
    workbook, whose names are kept to be packed: only the photos the exported rows use, as their submissions
    recorded them."""

    packed: bool
    files: dict[str, str] = field(default_factory=dict)  # sha256 → path in the archive
    _recorded: dict[tuple[str, str], str] = field(default_factory=dict)  # (submission, sha256) → media type

    async def learn(self, submissions: list[Submission]) -> None:
        if self.packed:
            links = await SubmissionAttachment.filter(submission_id__in=[s.id for s in submissions]).values_list(
                "submission_id", "attachment_id", "attachment__media_type")
            self._recorded = {(str(sid), sha): media_type for sid, sha, media_type in links}

    def cell(self, submission: Submission, shas: list[str]) -> Any:
        names = []
        for sha in shas:
            media_type = self._recorded.get((str(submission.id), sha))
            if media_type is not None:
                extension = EXTENSIONS.get(media_type, media_type.rpartition("/")[2])
                names.append(self.files.setdefault(sha, f"{PHOTO_FOLDER}/{sha}.{extension}"))
        if not names:
            return "\n".join(shas)
        return sheets.Link("\n".join(names), names[0])  # one link a cell: the first photo, the others listed


async def _rows(query, versions: dict[Any, Version], tables: list[Table], zone: tzinfo,
                photos: Photos) -> AsyncIterator[list[list[list[Any]]]]:
    """Batches of rows: for each submission, its rows in each table (one in the main table, n in each group)."""
    async for batch in batches(query.select_related("household__community", "author"), order=("received_at", "id"),
                               size=BATCH):
        await photos.learn(batch)
        yield [[_table_rows(t, s, versions[s.form_version_id], zone, photos) for t in tables] for s in batch]


def _table_rows(table: Table, s: Submission, version: Version, zone: tzinfo, photos: Photos) -> list[list[Any]]:
    data = sensitive.mask_answers(version.form, s.data)
    def cell(template: str, value: Any) -> Any:
        if value is None:
            return None
        if template in version.photos:
            return photos.cell(s, [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)])
        if isinstance(value, list):
            return "、".join(version.form.label_for(template, v) for v in value)
        if template in version.labelled:
            return version.form.label_for(template, value)
        if template in version.times and isinstance(value, str):
            return sheets.time_answer(value, version.times[template], zone)
        if isinstance(value, (bool, int, float, str)):
            return value
        return json.dumps(value, ensure_ascii=False)

    if table.group is None:
        fixed = [
            str(s.id), str(s.household_id), s.household.community.name, s.household.head,
            s.author.display_name if s.author else "", version.row.version, _clock(s.started_at, zone),
            _clock(s.finished_at, zone), _clock(s.received_at, zone), STATES.get(s.review_state, s.review_state),
            "；".join(f["detail"] for f in s.flags),  # exporters are supervisors and the bureau
        ]
        return [fixed + [cell(t, _lookup(data, t)) for t, _ in table.columns]]
    rows = _lookup(data, table.group)
    if not isinstance(rows, list):
        return []
    prefix = len(table.group) + 3
    return [
        [str(s.id), i + 1] + [cell(t, _lookup(row, "/" + t[prefix:])) for t, _ in table.columns]
        for i, row in enumerate(rows) if isinstance(row, dict)
    ]


def _lookup(data: Any, template: str) -> Any:
    for key in pointers.split(template):
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _clock(value: datetime | None, zone: tzinfo) -> datetime | None:
    return sheets.wall_time(value, zone) if value else None


async def _csv(table: Table, rows) -> AsyncIterator[bytes]:
    yield sheets.BOM + sheets.csv_rows([table.header])
    async for batch in rows:
        yield sheets.csv_rows(row for per_table in batch for row in per_table[0])


async def _xlsx(tables: list[Table], rows) -> str:
    fd, path = tempfile.mkstemp(prefix="doorstep-export-", suffix=".xlsx")
    os.close(fd)
    book = None
    try:
        book = sheets.Book(path)
        out = [book.add_sheet(t.name, t.header) for t in tables]
        async for batch in rows:
            await asyncio.to_thread(_write_batch, out, batch)
        await asyncio.to_thread(book.close)
    except BaseException:
        await asyncio.shield(asyncio.to_thread(sheets.give_up, book, path))  # shielded as in read_then_remove
        raise
    return path



def _write_batch(out: list[sheets.Sheet], batch) -> None:
    for per_table in batch:
        for sheet, rows in zip(out, per_table):
            for row in rows:
                sheet.append(row)


async def _archive(name: str, workbook: str, photos: Photos, store: PhotoStore) -> AsyncIterator[zips.Entry]:
    """The ZIP's entries: the note, the workbook (removed once sent), then each photo the rows use, once."""
    try:
        note = README[1].encode()
        yield zips.Entry(README[0], len(note), zips.one_chunk(note))
        size = (await aiofiles.os.stat(workbook)).st_size
        yield zips.Entry(name, size, sheets.read_then_remove(workbook))
    finally:
        # The workbook's stream removes it once read; if the download ends before it is read, nothing else would.
        await asyncio.shield(asyncio.to_thread(sheets.remove, workbook))
    for sha, path in photos.files.items():
        try:
            stream = await store.open(sha)
        except PhotoNotFound:
            # Recorded but gone from the store (a restore that missed it): the link leads nowhere, say so in the log.
            log.warning("photo %s of an export is missing from the store", sha)
            continue
        yield zips.Entry(path, stream.size, stream)
