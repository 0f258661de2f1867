"""Score-sheet templates: layout, assignments, validation, protection, metadata, readers."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import fastexcel
import openpyxl
import pandas as pd
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from python_calamine import CalamineWorkbook
from sqlalchemy import Engine, text

from evalcore import services
from evalcore.cli import main
from evalcore.db import transaction
from evalcore.errors import Conflict, NotFound
from evalcore.excel import layout
from evalcore.rubric import Rubric
from evalcore.services import exports
from evalcore.store import get_round, read_brands, read_judges, read_sheets
from tests.factories import OPERATOR

ROUND = "2026"


def load(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def panel(engine: Engine, round_code: str = ROUND) -> tuple[pd.DataFrame, pd.DataFrame]:
    with transaction(engine) as session:
        rnd = get_round(session, round_code)
        assert rnd.id is not None
        conn = session.connection()
        return read_brands(conn, rnd.id), read_judges(conn, rnd.id)


def data_rows(ws: Worksheet) -> list[tuple]:
    return [
        row
        for row in ws.iter_rows(min_row=layout.FIRST_DATA_ROW, values_only=True)
        if any(v is not None for v in row)
    ]


def expected_headers(rubric: Rubric) -> list[str]:
    return [
        layout.BRAND_CODE,
        layout.BRAND_NAME,
        *(layout.item_header(rubric, code) for code in rubric.item_codes),
        layout.TOTAL,
        layout.COMMENT,
    ]


@pytest.fixture
def template(sqlite_demo: Engine) -> bytes:
    return exports.score_template(sqlite_demo, actor=OPERATOR, round_code=ROUND)


@pytest.fixture
def rubric(sqlite_demo: Engine) -> Rubric:
    return services.round_results(sqlite_demo, actor=OPERATOR, round_code=ROUND).rubric


def test_one_sheet_per_judge_between_instructions_and_hidden_metadata(
    sqlite_demo: Engine, template: bytes
) -> None:
    _, judges = panel(sqlite_demo)
    wb = load(template)
    assert wb.sheetnames == [layout.INSTRUCTIONS_SHEET, *judges["judge"], layout.META_SHEET]
    assert wb[layout.META_SHEET].sheet_state == "veryHidden"
    assert all(wb[name].sheet_state == "visible" for name in wb.sheetnames[:-1])


def test_headers_and_title_exactly_as_layout_says(
    sqlite_demo: Engine, template: bytes, rubric: Rubric
) -> None:
    wb = load(template)
    for name in wb.sheetnames[1:-1]:
        ws = wb[name]
        header = [c.value for c in ws[layout.HEADER_ROW]]
        assert header == expected_headers(rubric)
        title = ws.cell(layout.TITLE_ROW, 1).value
        assert title == layout.sheet_title("2026年度“一支部一品牌”评审", name)


def test_each_judge_gets_every_brand_but_those_of_their_own_unit(
    sqlite_demo: Engine, template: bytes
) -> None:
    brands, judges = panel(sqlite_demo)
    wb = load(template)
    recused_somewhere = 0
    for _, judge in judges.iterrows():
        expected = sorted(brands.loc[brands["unit_id"] != judge["unit_id"], "brand_code"])
        codes = [row[0] for row in data_rows(wb[judge["judge"]])]
        assert codes == expected
        if pd.notna(judge["unit_id"]):
            own = set(brands.loc[brands["unit_id"] == judge["unit_id"], "brand_code"])
            assert own and not own & set(codes)
            assert len(codes) == len(brands) - len(own)
            recused_somewhere += 1
        else:
            assert len(codes) == len(brands)
    assert recused_somewhere == 3  # the demo's three judges who work in a unit


def test_every_score_cell_validates_zero_to_the_item_maximum(
    template: bytes, rubric: Rubric
) -> None:
    wb = load(template)
    ws = wb["王建华"]
    n = len(data_rows(ws))
    first, last = layout.FIRST_DATA_ROW, layout.FIRST_DATA_ROW + n - 1
    by_range = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    item_max = rubric.item_max()
    assert len(by_range) == len(rubric.item_codes)
    for offset, code in enumerate(rubric.item_codes):
        letter = openpyxl.utils.get_column_letter(3 + offset)
        dv = by_range[f"{letter}{first}:{letter}{last}"]
        # "between" and "stop" are the OOXML defaults, so the file may leave them out
        assert dv.type == "decimal"
        assert (dv.operator or "between", dv.errorStyle or "stop") == ("between", "stop")
        assert float(dv.formula1) == 0 and float(dv.formula2) == item_max[code]
        assert dv.showErrorMessage and dv.showInputMessage
        assert "只能填写 0 到" in dv.error and dv.prompt.startswith("满分")


def test_input_message_carries_the_scoring_guide(template: bytes, rubric: Rubric) -> None:
    ws = load(template)["李淑芬"]
    prompts = {dv.promptTitle: dv.prompt for dv in ws.data_validations.dataValidation}
    item = rubric.criterion("mechanism").items[1]
    prompt = prompts[f"创建机制-{item.label}"]
    assert item.guide in prompt and item.deductions in prompt


def test_sheet_is_protected_and_only_scores_and_comments_unlocked(
    template: bytes, rubric: Rubric
) -> None:
    ws = load(template)["陈国栋"]
    assert ws.protection.sheet and not ws.protection.password
    row = layout.FIRST_DATA_ROW
    n_items = len(rubric.item_codes)
    locked = [ws.cell(row, col).protection.locked for col in range(1, n_items + 5)]
    assert locked == [True, True, *[False] * n_items, True, False]
    assert ws.cell(layout.HEADER_ROW, 3).protection.locked


def test_total_is_a_live_formula_with_the_bonus_capped(template: bytes, rubric: Rubric) -> None:
    ws = load(template)["孙德明"]
    total_col = 3 + len(rubric.item_codes)
    assert ws.cell(layout.HEADER_ROW, total_col).value == layout.TOTAL
    formula = ws.cell(layout.FIRST_DATA_ROW, total_col).value
    assert formula == '=IF(COUNT(C3:V3)=0,"",SUM(C3:T3)+MIN(SUM(U3:V3),5))'
    last = layout.FIRST_DATA_ROW + len(data_rows(ws)) - 1
    assert ws.cell(last, total_col).value.startswith(f"=IF(COUNT(C{last}:V{last})=0")


def test_frozen_panes_and_a4_landscape_print_setup(template: bytes) -> None:
    ws = load(template)["赵敏"]
    assert ws.freeze_panes == "C3"
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    # one page wide (1 is the default and may be left out), as many pages tall as needed
    assert (ws.page_setup.fitToWidth or 1, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.print_title_rows == "$1:$2"
    assert ws.print_title_cols == "$A:$B"


def test_metadata_ties_each_sheet_to_its_judge(
    sqlite_demo: Engine, template: bytes, rubric: Rubric
) -> None:
    _, judges = panel(sqlite_demo)
    ws = load(template)[layout.META_SHEET]
    meta = layout.TemplateMeta.from_rows(ws.iter_rows(values_only=True))
    assert meta is not None
    assert (meta.round_code, meta.rubric_version) == (ROUND, rubric.version)
    assert meta.items == tuple(rubric.item_codes)
    assert {name: (m.judge_id, m.judge_code) for name, m in meta.sheets.items()} == {
        row.judge: (judge_id, row.judge_code) for judge_id, row in judges.iterrows()
    }


def test_calamine_readers_see_headers_values_and_the_hidden_metadata(
    template: bytes, rubric: Rubric
) -> None:
    reader = fastexcel.read_excel(template)
    assert layout.META_SHEET in reader.sheet_names
    sheet = reader.load_sheet("刘志强", header_row=layout.HEADER_ROW - 1)
    assert sheet.to_pandas().columns.tolist() == expected_headers(rubric)
    assert sheet.height == 21  # 26 brands, 5 of the judge's own unit recused

    book = CalamineWorkbook.from_filelike(io.BytesIO(template))
    meta_rows = book.get_sheet_by_name(layout.META_SHEET).to_python()
    meta = layout.TemplateMeta.from_rows(meta_rows)
    assert meta is not None and meta.sheets["刘志强"].judge_code == "J05"
    rows = book.get_sheet_by_name("刘志强").to_python()
    assert rows[layout.HEADER_ROW - 1] == expected_headers(rubric)


def test_instructions_list_the_whole_rubric(template: bytes, rubric: Rubric) -> None:
    ws = load(template)[layout.INSTRUCTIONS_SHEET]
    cells = [v for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    text_cells = " ".join(str(v) for v in cells)
    for _, item in rubric.scored_items():
        assert item.label in cells
        assert layout.item_header(rubric, item.code) in cells
        if item.guide:
            assert item.guide in cells
        if item.deductions:
            assert item.deductions in cells
    assert "加分合计最多 5 分" in text_cells
    assert "回避" in text_cells


@pytest.mark.parametrize("judge", ["李淑芬", "J02", "j02", " 李淑芬 "])
def test_a_single_judge_by_name_or_code(sqlite_demo: Engine, judge: str) -> None:
    wb = load(exports.score_template(sqlite_demo, actor=OPERATOR, round_code=ROUND, judge=judge))
    assert wb.sheetnames == [layout.INSTRUCTIONS_SHEET, "李淑芬", layout.META_SHEET]
    assert wb.active.title == "李淑芬"


def test_unknown_judge_or_round_is_not_found_in_chinese(sqlite_demo: Engine) -> None:
    with pytest.raises(NotFound, match=r"评委中没有“张三”.*王建华（J01）"):
        exports.score_template(sqlite_demo, actor=OPERATOR, round_code=ROUND, judge="张三")
    with pytest.raises(NotFound, match="找不到评审轮次 1999"):
        exports.score_template(sqlite_demo, actor=OPERATOR, round_code="1999")


def test_a_round_without_judges_cannot_have_templates(sqlite_demo: Engine) -> None:
    with transaction(sqlite_demo) as session:
        rid = get_round(session, ROUND).id
        session.connection().execute(text("DELETE FROM roundjudge WHERE round_id = :r"), {"r": rid})
    with pytest.raises(Conflict, match="还没有评委"):
        exports.score_template(sqlite_demo, actor=OPERATOR, round_code=ROUND)


def test_empty_by_default_prefilled_on_request(sqlite_demo: Engine, rubric: Rubric) -> None:
    n_items = len(rubric.item_codes)
    blank = load(
        exports.score_template(sqlite_demo, actor=OPERATOR, round_code=ROUND, judge="J03")
    )["陈国栋"]
    for row in data_rows(blank):
        assert row[2 : 2 + n_items] == (None,) * n_items and row[-1] is None

    results = services.round_results(sqlite_demo, actor=OPERATOR, round_code=ROUND)
    judge_id = int(results.judges.index[results.judges["judge_code"] == "J03"][0])
    mine = results.scores[results.scores["judge_id"] == judge_id]
    stored = mine.pivot(index="brand_id", columns="item", values="value")
    codes = results.brands["brand_code"]
    data = exports.score_template(
        sqlite_demo, actor=OPERATOR, round_code=ROUND, judge="J03", prefill=True
    )
    sheet = fastexcel.read_excel(data).load_sheet("陈国栋", header_row=1).to_pandas()
    sheet = sheet.set_index(layout.BRAND_CODE)
    totals = results.aggregation.judges.xs(judge_id, level="judge_id")["total"]
    for brand_id, values in stored.iterrows():
        row = sheet.loc[codes[brand_id]]
        for code in rubric.item_codes:
            assert row[layout.item_header(rubric, code)] == pytest.approx(values.get(code))
        assert row[layout.TOTAL] == pytest.approx(totals[brand_id])  # cached formula value
    with transaction(sqlite_demo) as session:
        stored_comments = read_sheets(session.connection(), results.round.id)
    stored_comments = stored_comments[stored_comments["judge_id"] == judge_id]
    written = sheet[layout.COMMENT]
    expected = {
        codes[b]: c
        for b, c in zip(stored_comments["brand_id"], stored_comments["comment"], strict=True)
        if c
    }
    assert expected and written.dropna().to_dict() == expected  # exactly, punctuation and all


def test_judge_names_become_legal_unique_sheet_names(sqlite_demo: Engine) -> None:
    with transaction(sqlite_demo) as session:
        conn = session.connection()
        conn.execute(
            text("UPDATE judge SET name = :n WHERE code = 'J01'"), {"n": "王[建]华/组长:*?"}
        )
        conn.execute(
            text("UPDATE judge SET name = :n WHERE code = 'J02'"), {"n": "王_建_华_组长___"}
        )
        conn.execute(text("UPDATE judge SET name = :n WHERE code = 'J03'"), {"n": "长" * 40})
    wb = load(exports.score_template(sqlite_demo, actor=OPERATOR, round_code=ROUND))
    names = wb.sheetnames[1:4]
    assert names == ["王_建_华_组长___", "王_建_华_组长___(2)", "长" * 31]
    meta = layout.TemplateMeta.from_rows(wb[layout.META_SHEET].iter_rows(values_only=True))
    assert meta is not None
    assert meta.sheets["王_建_华_组长___"].judge_name == "王[建]华/组长:*?"
    assert meta.sheets["王_建_华_组长___(2)"].judge_code == "J02"


@pytest.mark.parametrize(
    ("name", "taken", "expected"),
    [
        ("王建华", [], "王建华"),
        ("a[b]c:d*e?f/g\\h", [], "a_b_c_d_e_f_g_h"),
        ("x" * 40, [], "x" * 31),
        ("王建华", ["王建华"], "王建华(2)"),
        ("Ann", ["ann", "ANN(2)"], "Ann(3)"),
        ("y" * 31, ["y" * 31], "y" * 28 + "(2)"),
        ("History", [], "History(2)"),
        (layout.INSTRUCTIONS_SHEET, [], f"{layout.INSTRUCTIONS_SHEET}(2)"),
        (layout.META_SHEET, [], f"{layout.META_SHEET}(2)"),
        ("'引号'", [], "引号"),
        ("  ", [], "评委"),
    ],
)
def test_judge_sheet_name(name: str, taken: list[str], expected: str) -> None:
    assert layout.judge_sheet_name(name, taken) == expected


@pytest.mark.parametrize(
    ("title", "judge"),
    [
        (layout.sheet_title("2026年度评审", "王建华"), "王建华"),
        (layout.sheet_title("2026", "王（建）华"), "王（建）华"),
        ("2026 评分表 (评委: Ann Lee) ", "Ann Lee"),
        ("2026 评分表", None),
        ("评委：王建华", None),
        (None, None),
        (3.0, None),
    ],
)
def test_judge_from_title_inverts_sheet_title(title: object, judge: str | None) -> None:
    assert layout.judge_from_title(title) == judge


@pytest.mark.parametrize(
    "rows",
    [
        [],
        [("sheet", "key", "value"), ("", "round_code", "2026")],  # no format marker
        [("", "format", "something.else"), ("", "round_code", "2026")],
    ],
)
def test_metadata_that_is_not_ours_reads_as_none(rows: list[tuple]) -> None:
    assert layout.TemplateMeta.from_rows(rows) is None


def test_metadata_reads_numbers_typed_by_a_reader() -> None:
    rows = [
        ("sheet", "key", "value"),
        (None, "format", layout.META_FORMAT),
        (None, "round_code", 2026.0),
        (None, "rubric_version", 3.0),
        ("评委甲", "judge_id", 7.0),
        ("评委甲", "judge_code", "J07"),
        (None, "unknown_future_key", "ignored"),
    ]
    meta = layout.TemplateMeta.from_rows(rows)
    assert meta is not None
    assert (meta.round_code, meta.rubric_version) == ("2026", 3)
    assert meta.sheets == {"评委甲": layout.SheetMeta(7, "J07", "评委甲")}


def test_formula_like_brand_names_stay_text_in_templates(sqlite_demo: Engine) -> None:
    hostile = '=HYPERLINK("http://x","y")'
    with transaction(sqlite_demo) as session:
        session.connection().execute(
            text("UPDATE brand SET name = :n WHERE code = 'B001'"), {"n": hostile}
        )
    data = exports.score_template(sqlite_demo, actor=OPERATOR, round_code=ROUND, judge="J01")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        xml = zf.read("xl/worksheets/sheet2.xml").decode()
    formulas = re.findall(r"<f>(.*?)</f>", xml)
    assert formulas and all(f.startswith("IF(COUNT(") for f in formulas)
    assert load(data)["王建华"]["B3"].value == hostile


def test_cli_template(
    sqlite_url: str, sqlite_demo: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sheets" / "评分表.xlsx"
    assert main(["--db", sqlite_url, "template", "--round", ROUND, "-o", str(out)]) == 0
    assert len(load(out.read_bytes()).sheetnames) == 9
    assert "已生成评分表" in capsys.readouterr().out

    one = tmp_path / "one.xlsx"
    argv = ["--db", sqlite_url, "template", "--round", ROUND, "--judge", "J04", "--prefill"]
    assert main([*argv, "-o", str(one)]) == 0
    assert load(one.read_bytes()).sheetnames[1] == "孙德明"

    assert (
        main(["--db", sqlite_url, "template", "--round", ROUND, "--judge", "无名", "-o", str(one)])
        == 4
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("错误：") and "无名" in err[0]

    bad = tmp_path / "t.csv"
    assert main(["--db", sqlite_url, "template", "--round", ROUND, "-o", str(bad)]) == 2
    assert "只能保存为 .xlsx" in capsys.readouterr().err
    assert not bad.exists()


def test_a_prefilled_template_imports_back_without_changes(sqlite_demo: Engine) -> None:
    """Writer and reader as a pair: the current state, written and read back, is a no-op."""
    from evalcore.services import imports

    data = exports.score_template(sqlite_demo, actor=OPERATOR, round_code=ROUND, prefill=True)
    preview = imports.preview_import(
        sqlite_demo, round_code=ROUND, files=[("评分表.xlsx", data)], actor=OPERATOR
    )
    assert preview.ok, preview.issue_lines()[:5]
    counts = preview.counts
    assert (counts.scores_new, counts.scores_changed) == (0, 0)
    assert counts.scores_unchanged == len(
        services.round_results(sqlite_demo, actor=OPERATOR, round_code=ROUND).scores
    )
    # comments too: full-width punctuation (，。“”) is the judge's text, not noise to fold
    assert (counts.comments_new, counts.comments_changed) == (0, 0)
    assert counts.comments_unchanged > 0
