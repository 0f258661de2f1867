"""A real spreadsheet program opens what we write, and what it saves imports the same.

LibreOffice Calc (Debian's ``libreoffice-calc-nogui``), headless. The results workbook
(our own ZIP container, inline strings, escapes, row heights) converts to CSV with the
values openpyxl and calamine read; a score sheet re-saved by Calc as ``.xlsx`` or
``.ods`` (its own shared strings, styles and number formats) imports as a no-op.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import Engine, text

from evalcore.db import transaction
from evalcore.excel import report
from evalcore.services import exports, imports
from tests.conftest import require
from tests.factories import OPERATOR

pytestmark = pytest.mark.office

ROUND = "2026"
SOFFICE = shutil.which("soffice")
#: Calc's CSV export: comma, double quote, UTF-8, values rather than displayed text,
#: every sheet into its own file (``-1``).
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
AWKWARD_NAME = '=HYPERLINK("x") & <b>　全角空格'
AWKWARD_COMMENT = "控制\x01字符，_x0041_ 字面量\n第二行"
#: ODF cannot hold control characters: Calc drops them when it saves an .ods.
PRINTABLE_COMMENT = AWKWARD_COMMENT.replace("\x01", "")


def convert(source: Path, target: str, out: Path) -> Path:
    """``soffice --convert-to``, with a profile of its own so parallel runs don't clash."""
    require(SOFFICE is not None, "LibreOffice (soffice)")
    out.mkdir(exist_ok=True)
    profile = (source.parent / "lo-profile").resolve().as_uri()
    command = [str(SOFFICE), f"-env:UserInstallation={profile}", "--headless", "--convert-to"]
    subprocess.run(
        [*command, target, "--outdir", str(out), str(source)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return out


def make_awkward(sqlite_demo: Engine, comment: str) -> Engine:
    """The demo with a formula-like brand name and a comment full of escapes."""
    with transaction(sqlite_demo) as session:
        conn = session.connection()
        conn.execute(text("UPDATE brand SET name = :v WHERE code = 'B002'"), {"v": AWKWARD_NAME})
        conn.execute(
            text(
                "UPDATE scoresheet SET comment = :v WHERE brand_id = "
                "(SELECT id FROM brand WHERE code = 'B002') AND judge_id = "
                "(SELECT id FROM judge WHERE code = 'J01')"
            ),
            {"v": comment},
        )
    return sqlite_demo


def test_calc_reads_the_results_workbook_as_we_do(sqlite_demo: Engine, tmp_path: Path) -> None:
    awkward = make_awkward(sqlite_demo, AWKWARD_COMMENT)
    data = exports.results_workbook(awkward, actor=OPERATOR, round_code=ROUND)
    source = tmp_path / "结果.xlsx"
    source.write_bytes(data)
    out = convert(source, CSV_FILTER, tmp_path / "csv")
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    for sheet in (report.RANKING_SHEET, report.ITEMS_SHEET, report.DETAIL_SHEET):
        with open(out / f"结果-{sheet}.csv", encoding="utf-8", newline="") as fh:
            calc = list(csv.reader(fh))
        ours = book.get_sheet_by_name(sheet).to_python()
        assert len(calc) == len(ours), sheet
        for calc_row, our_row in zip(calc, ours, strict=True):
            assert [_plain(v) for v in our_row] == [_plain(v) for v in calc_row], sheet
    with open(out / f"结果-{report.DETAIL_SHEET}.csv", encoding="utf-8", newline="") as fh:
        detail = [row for row in csv.reader(fh) if row[0] == "B002" and row[2] == "J01"]
    assert [(row[1], row[-1]) for row in detail] == [(AWKWARD_NAME, AWKWARD_COMMENT)]


def _plain(value: object) -> str:
    """A cell as comparable text: numbers by value (Calc writes 4 for 4.0), else as is."""
    if value == "":
        return ""
    try:
        return repr(round(float(value), 9))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)


@pytest.mark.parametrize("target", ["xlsx:Calc MS Excel 2007 XML", "ods"])
def test_a_sheet_saved_by_calc_imports_as_a_no_op(
    sqlite_demo: Engine, tmp_path: Path, target: str
) -> None:
    awkward = make_awkward(sqlite_demo, PRINTABLE_COMMENT)
    data = exports.score_template(awkward, actor=OPERATOR, round_code=ROUND, prefill=True)
    source = tmp_path / "评分表.xlsx"
    source.write_bytes(data)
    saved = next(convert(source, target, tmp_path / "saved").iterdir())
    assert saved.read_bytes() != data  # Calc's own file, not ours
    preview = imports.preview_import(
        awkward, round_code=ROUND, files=[(saved.name, saved.read_bytes())], actor=OPERATOR
    )
    assert preview.ok, preview.issue_lines()[:5]
    ours = imports.preview_import(
        awkward, round_code=ROUND, files=[(source.name, data)], actor=OPERATOR
    )
    assert preview.counts == ours.counts
    counts = preview.counts
    assert (counts.scores_new, counts.scores_changed, counts.comments_changed) == (0, 0, 0)
    assert counts.scores_unchanged > 0 and counts.comments_unchanged > 0
