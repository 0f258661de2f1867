"""Result reports: every sheet, values equal to the meeting table, formats, text safety."""

from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from python_calamine import CalamineWorkbook
from sqlalchemy import Engine, text

from evalcore import services
from evalcore.cli import main
from evalcore.db import transaction
from evalcore.errors import InvalidInput, NotFound
from evalcore.excel import layout, report
from evalcore.excel.cells import csv_text, needs_escape, unescape_csv_text
from evalcore.rubric import METHODS
from evalcore.services import exports
from tests.factories import OPERATOR

ROUND = "2026"
#: Text that a spreadsheet would take for a formula (OWASP "CSV injection").
HOSTILE = [
    '=HYPERLINK("http://x","y")',
    "+1",
    "-1+2",
    "@SUM(A1)",
    "\tfoo",
    "\rbar",
    "\nbaz",
    "＝1+1",
]
#: Where each sheet's XML lives in the package (worksheets are numbered in order).
SHEET_XML = {
    report.RANKING_SHEET: "xl/worksheets/sheet1.xml",
    report.ITEMS_SHEET: "xl/worksheets/sheet2.xml",
    report.DETAIL_SHEET: "xl/worksheets/sheet3.xml",
    report.PUBLIC_SHEET: "xl/worksheets/sheet4.xml",
}


def load(data: bytes) -> openpyxl.Workbook:
    with warnings.catch_warnings():
        # openpyxl cannot keep the data bar's Excel 2010 extension; reading is fine.
        warnings.simplefilter("ignore", UserWarning)
        return openpyxl.load_workbook(io.BytesIO(data))


def rows(ws: Worksheet, min_row: int = 2) -> list[tuple]:
    return list(ws.iter_rows(min_row=min_row, values_only=True))


@pytest.fixture
def results(sqlite_demo: Engine) -> services.RoundResults:
    return services.round_results(sqlite_demo, actor=OPERATOR, round_code=ROUND)


@pytest.fixture
def workbook(sqlite_demo: Engine) -> bytes:
    return exports.results_workbook(sqlite_demo, actor=OPERATOR, round_code=ROUND)


def test_every_sheet_is_there_in_order(workbook: bytes) -> None:
    wb = load(workbook)
    assert wb.sheetnames == list(report.SHEETS)
    assert [cs.title for cs in wb.chartsheets] == [report.CHART_SHEET]


def test_ranking_sheet_equals_the_meeting_table(
    workbook: bytes, results: services.RoundResults
) -> None:
    ws = load(workbook)[report.RANKING_SHEET]
    header = [c.value for c in ws[1]]
    rubric = results.rubric
    assert header == [
        report.RANK,
        layout.BRAND_CODE,
        layout.BRAND_NAME,
        report.BRANCH,
        report.UNIT,
        report.CATEGORY,
        *(layout.criterion_header(rubric, c.code) for c in rubric.criteria),
        layout.bonus_header(rubric),
        report.TOTAL,
        report.GRADE,
        report.JUDGES_COUNTED,
        report.DROPPED_HIGH,
        report.DROPPED_LOW,
        report.NOTE,
    ]
    sheet = pd.DataFrame(rows(ws), columns=header)
    table = results.table
    assert len(sheet) == len(table) == 26
    assert sheet[report.RANK].tolist() == table["rank"].tolist()
    assert sheet[layout.BRAND_CODE].tolist() == table["brand_code"].tolist()
    assert sheet[report.BRANCH].tolist() == table["branch"].tolist()
    for c in rubric.criteria:
        got = sheet[layout.criterion_header(rubric, c.code)].to_numpy(dtype=float)
        np.testing.assert_allclose(got, table[c.code].round(2))
    np.testing.assert_allclose(sheet[report.TOTAL].to_numpy(dtype=float), table["total"].round(2))
    assert sheet[report.GRADE].tolist() == table["grade"].tolist()
    assert sheet[report.JUDGES_COUNTED].tolist() == table["judges_counted"].tolist()
    assert sheet[report.DROPPED_HIGH].tolist() == table["dropped_high_name"].tolist()
    assert sheet[report.DROPPED_LOW].tolist() == table["dropped_low_name"].tolist()


def test_note_flags_under_scored_and_plain_mean_brands(sqlite_demo: Engine) -> None:
    with transaction(sqlite_demo) as session:  # B010 keeps only 3 complete judges
        session.connection().execute(
            text(
                "DELETE FROM score WHERE brand_id = (SELECT id FROM brand WHERE code = 'B010') "
                "AND judge_id IN (SELECT id FROM judge WHERE code IN ('J01', 'J02', 'J03'))"
            )
        )
    results = services.round_results(sqlite_demo, actor=OPERATOR, round_code=ROUND)
    ws = load(exports.results_workbook(sqlite_demo, actor=OPERATOR, round_code=ROUND))[
        report.RANKING_SHEET
    ]
    notes = {row[1]: row[-1] for row in rows(ws)}
    table = results.table.set_index("brand_code")
    flagged = table["under_scored"] | (table["method_used"] == "mean")
    assert flagged.sum() >= 1 and flagged["B010"]
    assert {code for code, note in notes.items() if note} == set(table.index[flagged])
    assert notes["B010"] == "有效评委不足5人；未去最高最低分（按算术平均）"


def test_items_sheet_has_every_sub_indicator(
    workbook: bytes, results: services.RoundResults
) -> None:
    ws = load(workbook)[report.ITEMS_SHEET]
    rubric = results.rubric
    header = [c.value for c in ws[1]]
    item_headers = [layout.item_header(rubric, c) for c in rubric.item_codes]
    assert header[3 : 3 + len(item_headers)] == item_headers
    sheet = pd.DataFrame(rows(ws), columns=header)
    items = results.aggregation.items.reindex(results.table["brand_id"])
    for code, head in zip(rubric.item_codes, item_headers, strict=True):
        np.testing.assert_allclose(sheet[head].to_numpy(dtype=float), items[code].to_numpy())


def test_detail_sheet_has_every_raw_score_and_comment(
    sqlite_demo: Engine, workbook: bytes, results: services.RoundResults
) -> None:
    ws = load(workbook)[report.DETAIL_SHEET]
    rubric = results.rubric
    header = [c.value for c in ws[1]]
    sheet = pd.DataFrame(rows(ws), columns=header)
    judge_code = results.judges["judge_code"]
    brand_code = results.brands["brand_code"]
    raw = results.scores.assign(
        brand=results.scores["brand_id"].map(brand_code),
        judge=results.scores["judge_id"].map(judge_code),
        head=results.scores["item"].map(lambda c: layout.item_header(rubric, c)),
    )
    long = sheet.melt(
        id_vars=[layout.BRAND_CODE, report.JUDGE_CODE],
        value_vars=[layout.item_header(rubric, c) for c in rubric.item_codes],
        var_name="head",
    ).dropna(subset=["value"])
    assert len(long) == len(raw)  # every raw score, and nothing else
    merged = raw.merge(
        long,
        left_on=["brand", "judge", "head"],
        right_on=[layout.BRAND_CODE, report.JUDGE_CODE, "head"],
    )
    assert len(merged) == len(raw)
    np.testing.assert_allclose(merged["value_x"], merged["value_y"])

    with transaction(sqlite_demo) as session:
        sheets = (
            session.connection()
            .execute(
                text(
                    "SELECT b.code, j.code, s.comment FROM scoresheet s "
                    "JOIN brand b ON b.id = s.brand_id JOIN judge j ON j.id = s.judge_id "
                    "JOIN round r ON r.id = s.round_id WHERE r.code = :r AND s.comment <> ''"
                ),
                {"r": ROUND},
            )
            .all()
        )
    got = {
        (b, j): c
        for b, j, c in sheet[[layout.BRAND_CODE, report.JUDGE_CODE, layout.COMMENT]].itertuples(
            index=False
        )
        if isinstance(c, str) and c
    }
    assert got == {(b, j): c for b, j, c in sheets}

    # who was dropped agrees with the ranking table
    b = results.table.iloc[0]
    mine = sheet[sheet[layout.BRAND_CODE] == b["brand_code"]].set_index(layout.LONG_JUDGE)
    assert mine.loc[b["dropped_high_name"], report.COUNTED] == report.COUNTED_LABELS["high"]
    assert mine.loc[b["dropped_low_name"], report.COUNTED] == report.COUNTED_LABELS["low"]


def test_public_list_is_ready_to_print(workbook: bytes, results: services.RoundResults) -> None:
    ws = load(workbook)[report.PUBLIC_SHEET]
    assert ws["A1"].value == f"{results.round.name}结果公示名单"
    assert [c.value for c in ws[3]] == [
        report.RANK,
        layout.BRAND_NAME,
        report.BRANCH,
        report.UNIT,
        report.GRADE,
    ]
    body = rows(ws, min_row=4)
    ranked = results.scored
    assert [(r[0], r[1], r[2], r[4]) for r in body] == list(
        zip(ranked["rank"], ranked["brand"], ranked["branch"], ranked["grade"], strict=True)
    )
    assert ws.print_title_rows == "$1:$3"
    assert ws.page_setup.orientation == "portrait" and int(ws.page_setup.paperSize) == 9


def test_long_names_get_rows_tall_enough_to_print_whole(workbook: bytes) -> None:
    """Spreadsheets do not grow rows when they open a file: the report sets the height."""
    wb = load(workbook)
    two_lines = 2 * 11 * 1.2  # points: two lines of 11-point text, at the least
    for name, first, column in ((report.PUBLIC_SHEET, 4, 2), (report.RANKING_SHEET, 2, 3)):
        ws = wb[name]
        for r in range(first, ws.max_row + 1):
            brand = ws.cell(r, column).value
            height = ws.row_dimensions[r].height
            if len(brand) > 16:  # longer than the name column holds on one line
                assert height is not None and height >= two_lines, (name, brand, height)
            texts = [c.value for c in ws[r] if isinstance(c.value, str)]
            if all(len(t) <= 8 for t in texts):  # every text fits on one line
                assert height is None, (name, texts, height)


def test_number_formats_frozen_panes_autofilter(workbook: bytes) -> None:
    wb = load(workbook)
    ws = wb[report.RANKING_SHEET]
    header = [c.value for c in ws[1]]
    total = header.index(report.TOTAL) + 1
    assert ws.cell(2, total).number_format == "0.00"
    assert ws.cell(2, total).data_type == "n"
    assert ws.cell(2, 1).number_format == "0"
    assert ws.freeze_panes == "D2"
    assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(header))}27"
    assert wb[report.ITEMS_SHEET].freeze_panes == "D2"
    assert wb[report.DETAIL_SHEET].freeze_panes == "E2"
    assert wb[report.DETAIL_SHEET].auto_filter.ref.startswith("A1:")
    for name in (report.ITEMS_SHEET, report.DETAIL_SHEET):
        assert wb[name].cell(2, 5).number_format == "0.00"


def test_print_setup_is_a4_landscape_with_repeated_header(workbook: bytes) -> None:
    wb = load(workbook)
    for name in (report.RANKING_SHEET, report.ITEMS_SHEET, report.DETAIL_SHEET):
        ws = wb[name]
        assert ws.page_setup.orientation == "landscape"
        assert int(ws.page_setup.paperSize) == 9
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.page_setup.fitToHeight == 0
        assert ws.print_title_rows == "$1:$1"
        assert "&P" in ws.oddFooter.center.text


def test_totals_have_conditional_formatting_and_a_native_chart(workbook: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(workbook)) as zf:
        names = zf.namelist()
        ranking = zf.read(SHEET_XML[report.RANKING_SHEET]).decode()
        chart = zf.read("xl/charts/chart1.xml").decode()
    assert "xl/charts/chart1.xml" in names and "xl/chartsheets/sheet1.xml" in names
    assert re.search(r'<conditionalFormatting sqref="N2:N27"><cfRule type="dataBar"', ranking)
    assert "<c:barChart>" in chart
    assert "<c:f>排名!$C$2:$C$27</c:f>" in chart and "<c:f>排名!$N$2:$N$27</c:f>" in chart


@pytest.mark.parametrize("method", list(METHODS))
def test_method_changes_the_numbers_not_the_shape(sqlite_demo: Engine, method: str) -> None:
    data = exports.results_workbook(sqlite_demo, actor=OPERATOR, round_code=ROUND, method=method)
    expected = services.round_results(
        sqlite_demo, actor=OPERATOR, round_code=ROUND, method=method
    ).table
    ws = load(data)[report.RANKING_SHEET]
    header = [c.value for c in ws[1]]
    totals = [row[header.index(report.TOTAL)] for row in rows(ws)]
    np.testing.assert_allclose(totals, expected["total"].round(2))
    assert METHODS[method] in ws.oddHeader.right.text


def test_csv_has_bom_and_the_ranking_columns(
    sqlite_demo: Engine, results: services.RoundResults
) -> None:
    data = exports.results_csv(sqlite_demo, actor=OPERATOR, round_code=ROUND)
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    _, columns = report.ranking_frame(exports.report_data(results))
    assert parsed[0] == [c.header for c in columns]
    assert len(parsed) == 27
    total = parsed[0].index(report.TOTAL)
    assert [float(r[total]) for r in parsed[1:]] == pytest.approx(results.table["total"].round(2))
    assert [r[1] for r in parsed[1:]] == results.table["brand_code"].tolist()


# -- text that looks like a formula ----------------------------------------------------------
@pytest.fixture
def hostile_engine(sqlite_demo: Engine) -> Engine:
    """The demo with formula-like brand names, a branch, a judge and comments."""
    with transaction(sqlite_demo) as session:
        conn = session.connection()
        for n, name in enumerate(HOSTILE, start=1):
            code = f"B{n:03d}"
            conn.execute(text("UPDATE brand SET name = :v WHERE code = :c"), {"v": name, "c": code})
            conn.execute(
                text(
                    "UPDATE scoresheet SET comment = :v WHERE brand_id = "
                    "(SELECT id FROM brand WHERE code = :c) AND judge_id = "
                    "(SELECT id FROM judge WHERE code = 'J01')"
                ),
                {"v": name + " 评语", "c": code},
            )
        conn.execute(
            text(
                "UPDATE branch SET name = '-2+3' WHERE id = "
                "(SELECT branch_id FROM brand WHERE code = 'B009')"
            )
        )
        conn.execute(text("UPDATE judge SET name = '=1+2' WHERE code = 'J04'"))
    return sqlite_demo


def test_formula_like_text_is_never_a_formula_in_xlsx(hostile_engine: Engine) -> None:
    data = exports.results_workbook(hostile_engine, actor=OPERATOR, round_code=ROUND)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in SHEET_XML.values():
            xml = zf.read(name).decode()
            assert "<f>" not in xml and "<f " not in xml, name  # a report holds no formulas
    # Values as the importer's reader (calamine) sees them: exactly the original text.
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    ranking = book.get_sheet_by_name(report.RANKING_SHEET).to_python()
    header = ranking[0]
    name_at, total_at = header.index(layout.BRAND_NAME), header.index(report.TOTAL)
    by_code = {row[1]: row for row in ranking[1:]}
    for n, name in enumerate(HOSTILE, start=1):
        row = by_code[f"B{n:03d}"]
        assert row[name_at] == name
        assert isinstance(row[total_at], float)  # numbers stay numbers
    detail = book.get_sheet_by_name(report.DETAIL_SHEET).to_python()
    assert {name + " 评语" for name in HOSTILE} <= {row[-1] for row in detail}
    assert "=1+2" in {row[3] for row in detail}
    # Styles as Excel sees them: string cells with the quote prefix, so they stay text.
    wb = load(data)
    ws = wb[report.RANKING_SHEET]
    for r in range(2, ws.max_row + 1):
        cell = ws.cell(r, name_at + 1)
        assert cell.data_type == "s"
        assert cell.quotePrefix == needs_escape(str(cell.value).replace("_x000D_", "\r"))
        assert ws.cell(r, total_at + 1).data_type == "n"
    judges = [c for c in wb[report.DETAIL_SHEET]["D"] if c.value == "=1+2"]
    assert judges and all(c.data_type == "s" and c.quotePrefix for c in judges)


def test_formula_like_text_is_escaped_in_csv(hostile_engine: Engine) -> None:
    data = exports.results_csv(hostile_engine, actor=OPERATOR, round_code=ROUND)
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    header = parsed[0]
    by_code = {row[1]: row for row in parsed[1:]}
    name_col, branch_col = header.index(layout.BRAND_NAME), header.index(report.BRANCH)
    for n, name in enumerate(HOSTILE, start=1):
        cell = by_code[f"B{n:03d}"][name_col]
        assert cell == "'" + name
        assert unescape_csv_text(cell) == name
    assert by_code["B009"][branch_col] == "'-2+3"
    assert (
        by_code["B010"][name_col]
        == services.round_results(hostile_engine, actor=OPERATOR, round_code=ROUND)
        .table.set_index("brand_code")
        .loc["B010", "brand"]
    )
    for row in parsed[1:]:  # numbers stay plain numbers, negative-looking or not
        float(row[header.index(report.TOTAL)])
        assert not row[header.index(report.TOTAL)].startswith("'")


@pytest.mark.parametrize(
    ("value", "formula_like", "in_csv"),
    [
        ("=1+1", True, "'=1+1"),
        ("+1", True, "'+1"),
        ("-1", True, "'-1"),
        ("@A1", True, "'@A1"),
        ("\tx", True, "'\tx"),
        ("\rx", True, "'\rx"),
        ("\nx", True, "'\nx"),
        ("＝1", True, "'＝1"),
        ("a=1", False, "a=1"),
        ("品牌", False, "品牌"),
        ("", False, ""),
        ("'=1", False, "''=1"),  # a leading quote is doubled, so unescaping is exact
        ("'abc", False, "''abc"),
    ],
)
def test_csv_escape_rule(value: str, formula_like: bool, in_csv: str) -> None:
    assert needs_escape(value) is formula_like
    assert csv_text(value) == in_csv
    assert unescape_csv_text(in_csv) == value


def test_numbers_are_not_escaped_in_csv() -> None:
    assert csv_text(-1.5) == -1.5


@pytest.mark.parametrize(
    "comment",
    ["控制\x01字符", "_x0041_ 字面量", "a & b < c > d", "  前后空格  ", "多行\r\n评语"],
)
def test_awkward_text_round_trips(sqlite_demo: Engine, comment: str) -> None:
    with transaction(sqlite_demo) as session:
        session.connection().execute(
            text(
                "UPDATE scoresheet SET comment = :v WHERE brand_id = "
                "(SELECT id FROM brand WHERE code = 'B002') AND judge_id = "
                "(SELECT id FROM judge WHERE code = 'J01')"
            ),
            {"v": comment},
        )
        session.connection().execute(
            text("UPDATE brand SET name = :v WHERE code = 'B002'"), {"v": comment + "品牌"}
        )
    data = exports.results_workbook(sqlite_demo, actor=OPERATOR, round_code=ROUND)
    load(data)  # every part is well-formed XML (the chart caches brand names too)
    detail = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(report.DETAIL_SHEET)
    found = [
        (row[1], row[-1]) for row in detail.to_python() if row[0] == "B002" and row[2] == "J01"
    ]
    assert found == [(comment + "品牌", comment)]  # brand name and comment, unchanged


def test_a_round_nobody_has_scored_still_exports(sqlite_demo: Engine) -> None:
    with transaction(sqlite_demo) as session:
        conn = session.connection()
        for table in ("score", "scoresheet"):
            conn.execute(
                text(
                    f"DELETE FROM {table} WHERE round_id = (SELECT id FROM round WHERE code = :r)"
                ),
                {"r": ROUND},
            )
    wb = load(exports.results_workbook(sqlite_demo, actor=OPERATOR, round_code=ROUND))
    ranking = rows(wb[report.RANKING_SHEET])
    assert len(ranking) == 26
    assert {row[0] for row in ranking} == {None} and {row[-1] for row in ranking} == {
        "暂无完整评分"
    }
    assert rows(wb[report.DETAIL_SHEET]) == []
    assert wb[report.PUBLIC_SHEET]["A2"].value == "（暂无评审结果）"
    csv_rows = list(
        csv.reader(
            io.StringIO(
                exports.results_csv(sqlite_demo, actor=OPERATOR, round_code=ROUND).decode(
                    "utf-8-sig"
                )
            )
        )
    )
    assert len(csv_rows) == 27


def test_results_workbook_on_both_backends(demo_engine: Engine) -> None:
    expected = services.round_results(demo_engine, actor=OPERATOR, round_code="2025").table
    ws = load(exports.results_workbook(demo_engine, actor=OPERATOR, round_code="2025"))[
        report.RANKING_SHEET
    ]
    assert [row[1] for row in rows(ws)] == expected["brand_code"].tolist()


def test_cached_results_are_reused_and_checked(
    sqlite_demo: Engine, results: services.RoundResults
) -> None:
    data = exports.results_workbook(sqlite_demo, actor=OPERATOR, round_code=ROUND, results=results)
    assert load(data).sheetnames == list(report.SHEETS)
    assert exports.results_csv(
        sqlite_demo, actor=OPERATOR, round_code=ROUND, results=results
    ).startswith(b"\xef\xbb\xbf")
    with pytest.raises(InvalidInput, match="与要导出的轮次 2025"):
        exports.results_workbook(sqlite_demo, actor=OPERATOR, round_code="2025", results=results)
    with pytest.raises(InvalidInput):
        exports.results_csv(
            sqlite_demo, actor=OPERATOR, round_code=ROUND, method="median", results=results
        )


def test_unknown_round_is_not_found(sqlite_demo: Engine) -> None:
    with pytest.raises(NotFound, match="找不到评审轮次"):
        exports.results_workbook(sqlite_demo, actor=OPERATOR, round_code="1999")
    with pytest.raises(NotFound, match="找不到评审轮次"):
        exports.results_csv(sqlite_demo, actor=OPERATOR, round_code="1999")


def test_cli_export(
    sqlite_url: str, sqlite_demo: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    xlsx, csv_path = tmp_path / "结果.xlsx", tmp_path / "out" / "结果.CSV"
    assert main(["--db", sqlite_url, "export", "--round", ROUND, "-o", str(xlsx)]) == 0
    assert load(xlsx.read_bytes()).sheetnames == list(report.SHEETS)
    argv = ["--db", sqlite_url, "export", "--round", ROUND, "--method", "median"]
    assert main([*argv, "-o", str(csv_path)]) == 0
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert "已导出评审结果" in capsys.readouterr().out

    bad = tmp_path / "结果.txt"
    assert main(["--db", sqlite_url, "export", "--round", ROUND, "-o", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["错误：评审结果只能保存为 .xlsx 或 .csv 文件（当前：结果.txt）"]
    assert not bad.exists()

    argv = ["--db", sqlite_url, "export", "--round", ROUND, "--method", "best"]
    assert main([*argv, "-o", str(xlsx)]) == 2
    assert "未知的汇总方法" in capsys.readouterr().err
