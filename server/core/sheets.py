"""Tables for people: the one writer of the CSV and XLSX files Doorstep makes (the form-data export today; ledgers,
reports and archives call the same functions), and the policy every cell of them follows.

A cell is empty (None), a number, text, yes/no, a date, a date-time, or a `Link`. Date-times are written as the
wall time of the station, since a supervisor reads "09:30" as the time on the station's clock; callers pass them
through `wall_time`. Numbers stay numbers, negative ones too.

Text is the answer of a worker or the title a designer gave, and a spreadsheet reads text that starts with `=`, `+`,
`-`, `@`, a tab, a carriage return or a line feed as a formula (OWASP, "CSV Injection"): `=HYPERLINK("http://…"&A1,
"点击")` would send the cells beside it away the moment a supervisor clicks. So such text is neutralised: in CSV,
which has no types, by a leading `'`, as OWASP advises; in XLSX it is written as a string cell (never through
xlsxwriter's guessing `write`) with Excel's own quote-prefix mark, so that it stays text even when a person edits the
cell, and reads back exactly as it was answered. The fullwidth ＝ ＋ － ＠ typed by a Chinese input method are
treated alike: Excel and WPS in a Chinese locale take a fullwidth ＝ typed into a cell for the start of a formula,
and marking a rare answer that begins with one costs nothing.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

import aiofiles
import xlsxwriter

from server.core.clock import parse_time

FORMULA_STARTS = frozenset("=+-@\t\r\n＝＋－＠")
BOM = "\ufeff".encode()  # so that Excel on the stations' PCs opens a CSV file as UTF-8 rather than GBK
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
# Excel counts days from 1900; earlier dates (a birth date mistyped as 1058) are written as text.
FIRST_EXCEL_YEAR = 1900
EXCEL_DIGITS = 10 ** 15  # a spreadsheet keeps 15 significant digits of a number
YES_NO = {True: "是", False: "否"}


@dataclass(frozen=True)
class Link:
    """A cell that opens another file: `target` is a path relative to the workbook (a photo beside it in a ZIP),
    never a URL of the API, which would answer 401 to a browser without the supervisor's token."""

    text: str
    target: str


def is_formula_like(text: str) -> bool:
    return bool(text) and text[0] in FORMULA_STARTS


def neutralised(text: str) -> str:
    """Text as CSV carries it: a leading `'` before what a spreadsheet would take for a formula."""
    return "'" + text if is_formula_like(text) else text


def wall_time(value: datetime, zone: tzinfo) -> datetime:
    """An aware time as the clock of the station in `zone` shows it, without an offset (Excel has none)."""
    if value.tzinfo is None:
        raise ValueError("a time without an offset cannot be placed on the station's clock")
    return value.astimezone(zone).replace(tzinfo=None)


def time_answer(text: str, fmt: str, zone: tzinfo) -> date | datetime | str:
    """The answer to a question of format `date` or `date-time` as a date, or a date-time on the station's clock (one
    sent without an offset is read as such); the text as sent when it does not read as one."""
    if fmt == "date":
        try:
            return date.fromisoformat(text)
        except ValueError:
            return text
    value = parse_time(text)
    if value is None:
        return text
    return wall_time(value if value.tzinfo else value.replace(tzinfo=zone), zone)


# --- CSV ------------------------------------------------------------------------------------------------------------

def csv_rows(rows: Iterable[Sequence[Any]]) -> bytes:
    """Rows encoded as CSV lines in UTF-8 (the caller sends `BOM` first, once)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows([csv_text(value) for value in row] for row in rows)
    return out.getvalue().encode()


def csv_text(value: Any) -> str:
    """One cell as CSV text. Times are written `2025-03-18 09:30:00`, which Excel reads as a date-time."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES_NO[value]
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat(" ", "seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Link):
        return neutralised(value.text)
    if isinstance(value, str):
        return neutralised(value)
    raise TypeError(f"no cell for {type(value).__name__}")


# --- XLSX -----------------------------------------------------------------------------------------------------------

# Every cell is written by type, so these only matter to a caller that reaches past Sheet to xlsxwriter's `write`.
OPTIONS = {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
           "strings_to_urls": False}
STYLES = {
    "text": {},
    "header": {"bold": True},
    "date": {"num_format": DATE_FORMAT},
    "datetime": {"num_format": DATETIME_FORMAT},
    "link": {"font_color": "blue", "underline": 1},
}
SHEET_NAME_UNITS = 31  # Excel's limit, counted in UTF-16 code units
SHEET_NAME_FORBIDDEN = set("[]:*?/\\")


class Book:
    """An XLSX workbook written row by row to `path` in xlsxwriter's constant-memory mode: a sheet holds one row in
    memory, whatever the number of rows. Blocking: run it in a worker thread."""

    def __init__(self, path: str):
        self._book = xlsxwriter.Workbook(path, OPTIONS)
        self._formats: dict[tuple[str, bool], Any] = {}
        self._names: set[str] = set()

    def add_sheet(self, title: str, header: Sequence[str]) -> Sheet:
        """A sheet named after `title` as Excel allows (31 units, no []:*?/\\, no ' at either end, unique in any
        case), its header row written."""
        sheet = Sheet(self, self._book.add_worksheet(self._sheet_name(title)))
        sheet.append(header, "header")
        return sheet

    def close(self) -> None:
        self._book.close()

    def discard(self) -> None:
        """Give the workbook up (the export failed, or was cancelled): constant-memory mode keeps each sheet's rows
        in a file of the temporary folder that xlsxwriter removes only when the workbook is closed."""
        for worksheet in self._book.worksheets():
            rows = getattr(worksheet, "row_data_fh", None)
            if rows is not None:
                rows.close()
            try:
                os.unlink(getattr(worksheet, "row_data_filename", None) or "")
            except FileNotFoundError:
                pass

    def format(self, style: str, guarded: bool = False):
        key = (style, guarded)
        if key not in self._formats:
            properties = STYLES[style] | ({"quote_prefix": True} if guarded else {})
            self._formats[key] = self._book.add_format(properties) if properties else None
        return self._formats[key]

    def _sheet_name(self, title: str) -> str:
        name = "".join(c for c in title if c not in SHEET_NAME_FORBIDDEN).strip("'")
        name = _clip(name, SHEET_NAME_UNITS - 3).strip("'") or "表"
        while name.lower() in self._names or name.lower() == "history":  # Excel reserves History
            name += "_"
        self._names.add(name.lower())
        return name


class Sheet:
    def __init__(self, book: Book, worksheet):
        self._book = book
        self._sheet = worksheet
        self.rows = 0

    def layout(self, widths: Sequence[float], freeze_header: bool = True) -> None:
        """Column widths in characters (Excel counts a Chinese character as two), and the header row kept in view
        while a long sheet is scrolled."""
        for col, width in enumerate(widths):
            self._sheet.set_column(col, col, width)
        if freeze_header:
            self._sheet.freeze_panes(1, 0)

    def append(self, values: Sequence[Any], style: str = "text") -> None:
        for col, value in enumerate(values):
            self._write(self.rows, col, value, style)
        self.rows += 1

    def _write(self, row: int, col: int, value: Any, style: str) -> None:
        sheet, book = self._sheet, self._book
        if value is None:
            return
        if isinstance(value, bool):
            value = YES_NO[value]
        elif isinstance(value, int) and not -EXCEL_DIGITS < value < EXCEL_DIGITS:
            value = str(value)  # more digits than a spreadsheet keeps (or than a double holds): text, every digit
        if isinstance(value, (int, float)):
            sheet.write_number(row, col, value)
        elif isinstance(value, (date, datetime)) and value.year >= FIRST_EXCEL_YEAR:
            if isinstance(value, datetime):
                sheet.write_datetime(row, col, value, book.format("datetime"))
            else:
                sheet.write_datetime(row, col, value, book.format("date"))
        elif isinstance(value, (date, datetime)):
            self._write(row, col, csv_text(value), style)
        elif isinstance(value, Link):
            guarded = is_formula_like(value.text)
            sheet.write_url(row, col, "external:" + value.target, book.format("link", guarded), value.text)
        elif isinstance(value, str):
            sheet.write_string(row, col, value, book.format(style, is_formula_like(value)))
        else:
            raise TypeError(f"no cell for {type(value).__name__}")


def _clip(text: str, units: int) -> str:
    """The longest start of `text` that fits in `units` UTF-16 code units (a character outside the BMP takes two)."""
    used = 0
    for i, c in enumerate(text):
        used += 2 if ord(c) > 0xFFFF else 1
        if used > units:
            return text[:i]
    return text


CHUNK = 256 * 1024  # what a finished file is read and sent in


async def read_then_remove(path: str, chunk: int = CHUNK) -> AsyncIterator[bytes]:
    """A finished workbook's bytes, then the file gone. Closing and removing are shielded: when the browser goes away
    mid-download the whole request is cancelled, these awaits too, and the file would stay in the temporary folder."""
    try:
        f = await aiofiles.open(path, "rb")
        try:
            while data := await f.read(chunk):
                yield data
        finally:
            await asyncio.shield(f.close())
    finally:
        await asyncio.shield(asyncio.to_thread(remove, path))


def give_up(book: Book | None, path: str) -> None:
    """A workbook that will not be finished: its sheets' temporary rows and its file go."""
    if book is not None:
        book.discard()
    remove(path)


def remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
