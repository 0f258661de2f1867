"""Files from other tools read the same as ours: xlsm, xls, ods and an xlsx written by hand
(shared and inline strings, number formats, trailing empty rows), plus reader quirks."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xlwt
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table, TableCell, TableRow
from odf.text import P
from sqlalchemy import Engine

from evalcore.excel import reader, validate
from evalcore.permissions import Actor, Role
from evalcore.services import imports
from tests.import_helpers import LONG_HEADERS, hand_xlsx, stored, xlsx

J = "王建华"
ADMIN = Actor(username="测试员", role=Role.ADMIN)
ROWS = [
    (J, "B006", "name.concise", 4.5),
    (J, "B006", "名称与主责主业契合", 3),
    ("J02", "B007", "品牌名称-标识设计规范", 2),
]
EXPECTED = {
    ("J01", "B006", "name.concise", 4.5),
    ("J01", "B006", "name.fit", 3.0),
    ("J02", "B007", "name.logo", 2.0),
}


def _xls(rows: list[list[object]], sheet: str = "评分", special: dict | None = None) -> bytes:
    wb = xlwt.Workbook()
    ws = wb.add_sheet(sheet)
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.datetime):
                ws.write(r, c, value, date_style)
            elif value is not None:
                ws.write(r, c, value)
    for (r, c), error in (special or {}).items():
        ws.row(r).set_cell_error(c, error)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _ods(rows: list[list[object]], sheet: str = "评分", formulas: dict | None = None) -> bytes:
    doc = OpenDocumentSpreadsheet()
    table = Table(name=sheet)
    for r, row in enumerate(rows):
        tr = TableRow()
        for c, value in enumerate(row):
            if (r, c) in (formulas or {}):
                formula, cached = formulas[(r, c)]
                cell = TableCell(formula=formula, valuetype="float", value=cached)
                cell.addElement(P(text=str(cached)))
            elif isinstance(value, bool):
                cell = TableCell(valuetype="boolean", booleanvalue=str(value).lower())
                cell.addElement(P(text=str(value).upper()))
            elif isinstance(value, (int, float)):
                cell = TableCell(valuetype="float", value=value)
                cell.addElement(P(text=str(value)))
            elif value is None:
                cell = TableCell()
            else:
                cell = TableCell(valuetype="string")
                cell.addElement(P(text=str(value)))
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _pandas_ods(rows: list[tuple]) -> bytes:
    out = io.BytesIO()
    pd.DataFrame(rows, columns=LONG_HEADERS).to_excel(
        out, engine="odf", index=False, sheet_name="评分"
    )
    return out.getvalue()


def _hand() -> bytes:
    s, inline, n = "s", "is", "n"
    return hand_xlsx(
        "评分",
        [
            [(s, h) for h in LONG_HEADERS],
            [(s, J), (inline, "B006"), (s, "name.concise"), ("n1", 4.5)],
            [(inline, J), (s, "B006"), (inline, "名称与主责主业契合"), ("n2", 3)],
            [(s, "J02"), (s, "B007"), (s, "品牌名称-标识设计规范"), (n, 2)],
        ],
        trailing_empty_rows=5,
    )


def _openpyxl(name_rows: list[list[object]]) -> bytes:
    return xlsx({"评分": name_rows})


FORMATS = {
    "xlsx (openpyxl)": lambda: ("a.xlsx", _openpyxl([LONG_HEADERS, *map(list, ROWS), [], []])),
    "xlsm": lambda: ("a.xlsm", _openpyxl([LONG_HEADERS, *map(list, ROWS)])),
    "xls (xlwt)": lambda: ("a.xls", _xls([LONG_HEADERS, *map(list, ROWS)])),
    "ods (pandas/odfpy)": lambda: ("a.ods", _pandas_ods(ROWS)),
    "ods (hand)": lambda: ("a.ods", _ods([LONG_HEADERS, *map(list, ROWS), [None] * 4])),
    "xlsx (hand-written XML)": lambda: ("a.xlsx", _hand()),
}


@pytest.mark.parametrize("make", FORMATS.values(), ids=FORMATS.keys())
def test_every_format_imports_the_same(sqlite_demo: Engine, make) -> None:  # type: ignore[no-untyped-def]
    name, data = make()
    p = imports.preview_import(sqlite_demo, round_code="2026", files=[(name, data)], actor=ADMIN)
    assert p.ok, p.issue_lines()
    assert p.files[0].format == name.rsplit(".", 1)[1]
    summary = imports.commit_import(sqlite_demo, preview=p)
    got = stored(sqlite_demo)
    got = got[got["source"] == imports.source_of(summary.id)]
    written = {
        (j, b, i, v)
        for j, b, i, v in got[["judge", "brand", "item", "value"]].itertuples(index=False)
    }
    unchanged = p.counts.scores_unchanged
    assert written <= EXPECTED and len(written) + unchanged == len(EXPECTED)


def test_xls_error_boolean_and_date_cells(sqlite_demo: Engine) -> None:
    rows = [
        LONG_HEADERS,
        [J, "B006", "name.concise", None],  # error cell set below
        [J, "B006", "name.logo", True],
        [J, "B006", "name.fit", dt.datetime(2026, 1, 2)],
        [J, "B006", "connotation.political", "八分"],
    ]
    data = _xls(rows, special={(1, 3): "#DIV/0!"})
    p = imports.preview_import(sqlite_demo, round_code="2026", files=[("x.xls", data)], actor=ADMIN)
    assert p.issues[["cell", "code"]].values.tolist() == [
        ["D2", "error_value"],
        ["D3", "boolean"],
        ["D4", "date"],
        ["D5", "not_a_number"],
    ]
    name, content = imports.annotated_workbook(p)
    assert name == "x_问题标注.xlsx"
    wb = openpyxl.load_workbook(io.BytesIO(content))
    assert wb["评分"]["D5"].comment is not None and wb["评分"]["D5"].value == "八分"
    assert wb["评分"]["A2"].value == J


def test_ods_formula_and_boolean(sqlite_demo: Engine) -> None:
    rows = [
        LONG_HEADERS,
        [J, "B006", "name.concise", None],
        [J, "B006", "name.logo", True],
        [J, "B006", "name.fit", 2],
    ]
    data = _ods(rows, formulas={(1, 3): ("of:=1+2", 3)})
    p = imports.preview_import(sqlite_demo, round_code="2026", files=[("x.ods", data)], actor=ADMIN)
    assert p.issues[["cell", "code"]].values.tolist() == [["D2", "formula"], ["D3", "boolean"]]
    _, content = imports.annotated_workbook(p)
    assert openpyxl.load_workbook(io.BytesIO(content))["评分"]["D2"].comment is not None


def test_xlsm_keeps_being_xlsm_when_annotated(sqlite_demo: Engine) -> None:
    data = _openpyxl([LONG_HEADERS, [J, "B006", "name.concise", 99]])
    p = imports.preview_import(
        sqlite_demo, round_code="2026", files=[("m.xlsm", data)], actor=ADMIN
    )
    name, _ = imports.annotated_workbook(p)
    assert name == "m_问题标注.xlsm"


def test_cells_keep_their_excel_address_when_the_sheet_starts_late() -> None:
    """A table starting at B3 (blank row 1-2, column A): D7 stays D7, not A1-relative."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    ws["B3"], ws["C3"] = "x", "y"
    ws["C7"] = "八分"
    ws["B9"] = 1
    out = io.BytesIO()
    wb.save(out)
    sheet = reader.read_workbook("s.xlsx", out.getvalue()).sheets[0]
    assert sheet.letters == ("B", "C")
    assert sheet.row_values(7) == [None, "八分"]
    assert sheet.row_values(3) == ["x", "y"]
    assert sheet.n_rows == 9


def test_formula_scan_finds_only_formula_cells() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    ws.append(["a", "b", "c"])
    ws.append([1, "=A2*2", "<f>not a formula</f>"])
    ws.append(["=SUM(A2:A2)", 3, None])
    out = io.BytesIO()
    wb.save(out)
    sheet = reader.read_workbook("f.xlsx", out.getvalue()).sheets[0]
    got = {k: v.tolist() for k, v in sheet.formulas.items()}
    assert got == {"B": [2], "A": [3]}
    assert sheet.errors == {}


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ("8", 8.0, validate.OK),
        (" 8.5 ", 8.5, validate.OK),
        ("８.５", 8.5, validate.OK),
        ("+3", 3.0, validate.OK),
        ("1e1", 10.0, validate.OK),
        ("", np.nan, validate.MISSING),
        ("   ", np.nan, validate.MISSING),
        (None, np.nan, validate.MISSING),
        ("八分", np.nan, validate.NOT_NUMBER),
        ("8,5", np.nan, validate.NOT_NUMBER),
        ("1_0", np.nan, validate.NOT_NUMBER),
        ("nan", np.nan, validate.NOT_NUMBER),
        ("inf", np.nan, validate.NOT_NUMBER),
        ("true", np.nan, validate.BOOLEAN),
        ("FALSE", np.nan, validate.BOOLEAN),
        ("2026-03-01 00:00:00", np.nan, validate.DATE),
        ("2026-03-01T00:00:00", np.nan, validate.DATE),
        ("12:30:00", np.nan, validate.DATE),
    ],
)
def test_parse_score(text: str | None, value: float, kind: int) -> None:
    got_value, got_kind = validate.parse_score(text)
    assert got_kind == kind
    if kind == validate.OK:
        assert got_value == value


def test_unreadable_and_encrypted_looking_files() -> None:
    with pytest.raises(reader.UnreadableFile):
        reader.read_workbook("a.xlsx", b"PK\x03\x04 broken zip")
    with pytest.raises(reader.UnreadableFile):
        reader.read_workbook("a.csv", b"a,b,c\n1,2,3\n")
