"""Data export of one form: every current submission across its versions, as XLSX or CSV, streamed.

Columns are the questions, titled as the form titles them, answers written as their choice labels; each repeated
group (family members, needs) is a table of its own joined by the submission id; photos are links to the API.
Rows are read from the database in batches and written as they come: an export of a township's year holds one
batch in memory, never the whole of it. XLSX is written with xlsxwriter's constant-memory mode to a temporary
file (the format is a ZIP, it cannot be sent before it is finished), then streamed and removed.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiofiles
import xlsxwriter

import forms
from forms import pointers
from server.core import audit
from server.core.caller import Caller
from server.core.ids import parse_slug
from server.core.pagination import batches
from server.core.problems import FormNotFound, invalid
from server.core.scope import forms_visible_to, visible
from server.models import Form, FormVersion, Submission
from server.surveys.versions import compiled

BATCH = 200
STATES = {"pending": "待审核", "approved": "已通过", "returned": "已退回", "replaced": "已更正"}
FIXED = ["提交编号", "户编号", "社区（村）", "户主", "社工", "表单版本", "走访开始", "走访结束", "接收时间", "审核状态",
         "证据提示"]
CHUNK = 256 * 1024


@dataclass
class Table:
    """One sheet: the main table (group None) or the rows of one repeated group."""

    name: str
    group: str | None
    columns: list[tuple[str, str]] = field(default_factory=list)  # (template, title) of each question column

    @property
    def header(self) -> list[str]:
        fixed = FIXED if self.group is None else ["提交编号", "行号"]
        return fixed + [title for _, title in self.columns]


@dataclass
class Export:
    filename: str
    media_type: str
    chunks: AsyncIterator[bytes]


async def export_submissions(caller: Caller, slug: str, fmt: str, table: str | None,
                             photo_url: Callable[[str], str]) -> Export:
    """`photo_url` gives the address of a photo by its hash, as the HTTP layer serves it."""
    form = await Form.filter(await forms_visible_to(caller), slug=parse_slug(slug, FormNotFound)).first()
    if form is None or fmt not in ("xlsx", "csv"):
        raise FormNotFound()
    versions = {v.id: (v, compiled(v)) for v in await FormVersion.filter(form_id=form.id).order_by("-version")}
    tables = _tables([c for _, c in versions.values()])
    if fmt == "csv":
        chosen = next((t for t in tables if (t.group or "").lstrip("/") == (table or "")), None)
        if chosen is None:
            names = "、".join(t.group.lstrip("/") for t in tables if t.group) or "无"
            raise invalid("/table", f"没有这张表；可选：{names}")
        tables = [chosen]
    query = (await visible(caller, Submission)).filter(form_id=form.id).exclude(review_state="replaced")
    rows = _rows(query, versions, tables, photo_url)
    await audit.record(caller, "submissions.exported", "form", form.slug, format=fmt, table=table)
    stem = f"{form.slug}-submissions"
    if fmt == "csv":
        suffix = f"-{table}" if table else ""
        return Export(f"{stem}{suffix}.csv", "text/csv; charset=utf-8", _csv(tables[0], rows))
    path = await _xlsx(tables, rows)
    return Export(f"{stem}.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _stream(path))


def _tables(versions: list[forms.CompiledForm]) -> list[Table]:
    """The question columns of every version, the latest version's titles and order first."""
    titles: dict[str, str] = {}
    for form in versions:
        for template, title in form.question_titles().items():
            titles.setdefault(template, title)
    templates = list(titles)
    groups = [t for t in templates if "*" not in t and any(o.startswith(t + "/*/") for o in templates)]
    leaves = [t for t in templates if not any(o.startswith(t + "/") for o in templates)]
    main = Table("提交", None, [(t, titles[t]) for t in leaves if "*" not in t])
    result = [main]
    used = {main.name}
    for group in groups:
        name = _sheet_name(titles[group], used)
        columns = [(t, titles[t]) for t in leaves if t.startswith(group + "/*/") and "*" not in t[len(group) + 3:]]
        result.append(Table(name, group, columns))
    return result


def _sheet_name(title: str, used: set[str]) -> str:
    name = "".join(c for c in title if c not in "[]:*?/\\")[:28] or "表"
    while name in used:
        name += "_"
    used.add(name)
    return name


async def _rows(query, versions: dict, tables: list[Table],
                photo_url: Callable[[str], str]) -> AsyncIterator[list[list[list[Any]]]]:
    """Batches of rows: for each submission, its rows in each table (one in the main table, n in each group)."""
    async for batch in batches(query.select_related("household__community", "author"), order=("received_at", "id"),
                               size=BATCH):
        yield [[_table_rows(t, s, *versions[s.form_version_id], photo_url) for t in tables] for s in batch]


def _table_rows(table: Table, s: Submission, version: FormVersion, form: forms.CompiledForm,
                photo_url: Callable[[str], str]) -> list[list[Any]]:
    photos = set(form.photo_templates())

    labelled = form.choice_labels()

    def cell(template: str, value: Any) -> Any:
        if value is None:
            return None
        if template in photos:
            return Link([photo_url(sha) for sha in (value if isinstance(value, list) else [value])])
        if isinstance(value, list):
            return "、".join(form.label_for(template, v) for v in value)
        if template in labelled:
            return form.label_for(template, value)
        if isinstance(value, bool):
            return "是" if value else "否"
        if isinstance(value, (int, float, str)):
            return value
        return json.dumps(value, ensure_ascii=False)

    if table.group is None:
        fixed = [
            str(s.id), str(s.household_id), s.household.community.name, s.household.head,
            s.author.display_name if s.author else "", version.version, _iso(s.started_at), _iso(s.finished_at),
            _iso(s.received_at), STATES.get(s.review_state, s.review_state),
            "；".join(f["detail"] for f in s.flags),  # exporters are supervisors and the bureau
        ]
        return [fixed + [cell(t, _lookup(s.data, t)) for t, _ in table.columns]]
    rows = _lookup(s.data, table.group)
    if not isinstance(rows, list):
        return []
    prefix = len(table.group) + 3
    return [
        [str(s.id), i + 1] + [cell(t, _lookup(row, "/" + t[prefix:])) for t, _ in table.columns]
        for i, row in enumerate(rows) if isinstance(row, dict)
    ]


@dataclass(frozen=True)
class Link:
    urls: list[str]

    def __str__(self) -> str:
        return "\n".join(self.urls)


def _lookup(data: Any, template: str) -> Any:
    for key in pointers.split(template):
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def _csv(table: Table, rows) -> AsyncIterator[bytes]:
    # A BOM, so that Excel on the stations' PCs opens the file as UTF-8 rather than GBK.
    yield "\ufeff".encode() + _csv_line(table.header)
    async for batch in rows:
        yield b"".join(_csv_line([_text(v) for v in row]) for per_table in batch for row in per_table[0])


def _csv_line(values: list) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue().encode()


def _text(value: Any) -> Any:
    return "" if value is None else str(value)


async def _xlsx(tables: list[Table], rows) -> str:
    fd, path = tempfile.mkstemp(prefix="doorstep-export-", suffix=".xlsx")
    os.close(fd)
    try:
        book = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_urls": False})
        sheets = [book.add_worksheet(t.name) for t in tables]
        bold = book.add_format({"bold": True})
        for sheet, table in zip(sheets, tables):
            sheet.write_row(0, 0, table.header, bold)
        next_row = [1] * len(tables)
        async for batch in rows:
            await asyncio.to_thread(_write_batch, sheets, next_row, batch)
        await asyncio.to_thread(book.close)
    except BaseException:
        await asyncio.to_thread(_remove, path)
        raise
    return path


def _write_batch(sheets, next_row: list[int], batch) -> None:
    for per_table in batch:
        for i, rows in enumerate(per_table):
            for row in rows:
                for col, value in enumerate(row):
                    _write_cell(sheets[i], next_row[i], col, value)
                next_row[i] += 1


def _write_cell(sheet, row: int, col: int, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, Link):
        sheet.write_url(row, col, value.urls[0], string=str(value))
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        sheet.write_number(row, col, value)
    else:
        sheet.write_string(row, col, str(value))


async def _stream(path: str) -> AsyncIterator[bytes]:
    # Closing and removing are shielded: when the supervisor's browser goes away mid-download the whole request is
    # cancelled, these awaits too, and the file would be left in the temporary folder.
    try:
        f = await aiofiles.open(path, "rb")
        try:
            while chunk := await f.read(CHUNK):
                yield chunk
        finally:
            await asyncio.shield(f.close())
    finally:
        await asyncio.shield(asyncio.to_thread(_remove, path))


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass

