"""The bulk cell writer and the .xlsx container: what readers see, XML shape, row heights."""

from __future__ import annotations

import io
import re
import warnings
import xml.etree.ElementTree as ET
import zipfile

import numpy as np
import openpyxl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from evalcore.excel.cells import (
    FORMULA_TRIGGERS,
    MAX_TEXT,
    BookWriter,
    TextFormat,
    needs_escape,
    wrapped_lines,
)
from evalcore.excel.package import zip_parts

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def sheet_xml(data: bytes, n: int = 1) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.read(f"xl/worksheets/sheet{n}.xml").decode("utf-8")


def calamine_rows(data: bytes) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def openpyxl_rows(data: bytes) -> list[tuple]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ws = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    return list(ws.iter_rows(values_only=True))


def one_column(texts: list[object], *, wrap: bool = False, width: float | None = None) -> bytes:
    book = BookWriter()
    ws = book.workbook.add_worksheet("表")
    fmt = TextFormat.add(book.workbook, {"text_wrap": wrap})
    if width is not None:
        ws.set_column(0, 0, width)
    book.body(ws, 0, len(texts)).text(0, texts, fmt)
    return book.close()


# -- the container ------------------------------------------------------------------------
def test_zip_parts_round_trip_through_zipfile() -> None:
    parts = [
        ("[Content_Types].xml", b"<Types/>"),
        ("xl/worksheets/sheet1.xml", b"<row/>" * 100_000),
        ("empty.bin", b""),
        ("xl/media/图片.bin", bytes(range(256)) * 40),
    ]
    data = zip_parts(parts)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None  # every CRC checks out
        assert [(i.filename, zf.read(i)) for i in zf.infolist()] == parts
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_DEFLATED}
        assert zf.getinfo("xl/media/图片.bin").flag_bits & 0x800  # UTF-8 name flagged
        assert zf.getinfo("xl/worksheets/sheet1.xml").compress_size < 10_000
    assert zip_parts(parts) == data  # no time stamps of the moment: same input, same bytes


def test_every_reader_opens_a_book_written_this_way() -> None:
    data = one_column(["甲", "乙"])
    assert openpyxl_rows(data) == [("甲",), ("乙",)]
    assert calamine_rows(data) == [["甲"], ["乙"]]


# -- the body -----------------------------------------------------------------------------
def test_body_rows_follow_xlsxwriter_rows_once_each_and_in_order() -> None:
    book = BookWriter()
    wb = book.workbook
    ws = wb.add_worksheet("表")
    fmt = TextFormat.add(wb, {})
    ws.write_string(0, 0, "标题")
    ws.write_string(1, 0, "表头")
    ws.set_row(1, 30)
    ws.set_row(3, 50)  # a body row: the body writes it, XlsxWriter must not write it again
    body = book.body(ws, 2, 3)
    body.text(0, ["a", "b", "c"], fmt)
    body.numbers(1, [1.5, None, float("nan")], wb.add_format({}))
    xml = sheet_xml(book.close())
    root = ET.fromstring(xml)  # well-formed
    rows = [int(r.get("r")) for r in root.iterfind(".//m:sheetData/m:row", NS)]
    assert rows == [1, 2, 3, 4, 5]
    assert root.find(".//m:dimension", NS).get("ref") == "A1:B5"


def test_a_body_may_start_at_the_first_row_and_may_be_empty() -> None:
    assert openpyxl_rows(one_column(["x"])) == [("x",)]
    book = BookWriter()
    ws = book.workbook.add_worksheet("空")
    ws.write_string(0, 0, "表头")
    book.body(ws, 1, 0).text(0, [], TextFormat.add(book.workbook, {}))
    assert openpyxl_rows(book.close()) == [("表头",)]


def test_a_body_column_must_have_one_value_per_row() -> None:
    book = BookWriter()
    ws = book.workbook.add_worksheet("表")
    with pytest.raises(ValueError, match="2 values for 3 rows"):
        book.body(ws, 0, 3).text(0, ["a", "b"], TextFormat.add(book.workbook, {}))


def test_missing_values_are_blank_cells_that_keep_their_format() -> None:
    book = BookWriter()
    wb = book.workbook
    ws = wb.add_worksheet("表")
    border = wb.add_format({"border": 1})
    body = book.body(ws, 0, 4)
    body.numbers(0, [1.0, None, float("nan"), np.nan], border)
    body.text(1, ["a", None, "", float("nan")], TextFormat.add(wb, {"border": 1}))
    data = book.close()
    assert openpyxl_rows(data) == [(1, "a"), (None, None), (None, None), (None, None)]
    cells = re.findall(r'<c r="([A-Z]+\d+)" s="(\d+)"/>', sheet_xml(data))
    assert len(cells) == 6  # blank, yet styled


def test_a_text_column_may_hold_numbers_and_missing_values() -> None:
    data = one_column([7, 2.5, "七", None, np.nan, 7])
    assert calamine_rows(data) == [["7"], ["2.5"], ["七"], [""], [""], ["7"]]


@pytest.mark.parametrize("value", [0.1 + 0.2, -0.0, 1e-300, 123456789.125, -7.5, 2**53 + 0.0])
def test_numbers_are_written_exactly(value: float) -> None:
    book = BookWriter()
    ws = book.workbook.add_worksheet("表")
    book.body(ws, 0, 1).numbers(0, [value], book.workbook.add_format({}))
    assert openpyxl_rows(book.close()) == [(value,)]


# Text a reader must get back exactly: markup, Excel's own escape spelled out, control
# characters, edge spaces (full-width too), line breaks, astral characters.
AWKWARD = [
    "a & b < c > d",
    "_x0041_ 字面量",
    "控制\x01字符\x1f",
    "  前后空格  ",
    "\u3000全角空格\u3000",
    "多行\n评语",
    "😀 表情",
    "\"引号\" '单引号'",
]


@pytest.mark.parametrize("text", AWKWARD)
def test_awkward_text_reads_back_unchanged(text: str) -> None:
    # calamine reads ``_xHHHH_`` as Excel does; openpyxl leaves it spelled out, so it
    # only checks the texts without control characters or Excel's escape.
    data = one_column([text])
    assert calamine_rows(data) == [[text]]
    if not re.search(r"[\x00-\x1f]|_x[0-9A-Fa-f]{4}_", text.replace("\n", "")):
        assert openpyxl_rows(data) == [(text,)]


printable = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\ufffe\uffff"),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(printable, min_size=1, max_size=8))
def test_any_text_reads_back_unchanged_and_never_as_a_formula(texts: list[str]) -> None:
    data = one_column(list(texts))
    assert calamine_rows(data) == [[t] for t in texts]
    xml = sheet_xml(data)
    assert "<f>" not in xml and "<f " not in xml


def test_text_is_cut_at_excels_cell_limit() -> None:
    assert openpyxl_rows(one_column(["长" * (MAX_TEXT + 10)])) == [("长" * MAX_TEXT,)]


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_formula_like_text_gets_the_quote_prefix_style(trigger: str) -> None:
    text = trigger + "1+1"
    assert needs_escape(text)
    data = one_column([text, "1+1"])
    assert calamine_rows(data) == [[text], ["1+1"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ws = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    assert ws["A1"].data_type == "s"
    assert ws["A1"].quotePrefix and not ws["A2"].quotePrefix


# -- row heights --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "width", "font_size", "lines"),
    [
        ("", 20, 11, 1),
        ("双红", 20, 11, 1),
        ("守护群众生命安全 红十字“救”在身边", 20, 11, 2),  # 18 wide characters in 19 units
        ("守护群众生命安全 红十字“救”在身边", 40, 11, 1),
        ("守护群众生命安全 红十字“救”在身边", 28, 12, 2),  # bigger type, fewer per line
        ("x" * 60, 20, 11, 4),
        ("第一行\n第二行\n第三行", 40, 11, 3),
        ("很长的第一行很长的第一行很长的第一行\n短", 20, 11, 3),
    ],
)
def test_wrapped_lines(text: str, width: float, font_size: float, lines: int) -> None:
    got = wrapped_lines(pa.array([text], type=pa.large_string()), width, font_size)
    assert got.tolist() == [lines]


def heights(data: bytes) -> dict[int, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ws = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    return {r: d.height for r, d in ws.row_dimensions.items() if d.height}


def test_rows_grow_to_show_wrapped_text_and_only_then() -> None:
    texts = ["短", "守护群众生命安全 红十字“救”在身边", "一\n二\n三\n四", None]
    grown = heights(one_column(texts, wrap=True, width=20))
    assert set(grown) == {2, 3}
    assert grown[3] > grown[2] > 15  # four lines need more than two, both more than one
    assert heights(one_column(texts, wrap=False, width=20)) == {}  # no wrapping, no growth


def test_rows_never_shrink_below_the_sheets_default_height() -> None:
    book = BookWriter()
    ws = book.workbook.add_worksheet("表")
    ws.set_column(0, 0, 20)
    ws.set_default_row(40)
    fmt = TextFormat.add(book.workbook, {"text_wrap": True})
    book.body(ws, 0, 2).text(0, ["短", "守护群众生命安全 红十字“救”在身边"], fmt)
    assert 'customHeight="1"><c r="A' not in sheet_xml(book.close())  # 2 lines fit in 40 pt
