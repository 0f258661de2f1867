"""Excel import, end to end on SQLite and PostgreSQL: template and long format in, every
problem reported at once with its cell, nothing written while any remain, idempotent
re-import, whole-import revert, CLI exit codes."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import Engine, text

from evalcore import cli
from evalcore.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from evalcore.excel import layout
from evalcore.permissions import Actor, Role
from evalcore.services import exports, imports
from tests.import_helpers import (
    ITEMS,
    assert_same,
    dump,
    hand_xlsx,
    long_rows,
    set_cells,
    stored,
    template_sheet,
    value_of,
    xlsx,
)

ROUND = "2026"
J = "王建华"  # J01: outside every unit, scores every brand
RECUSED_JUDGE = "刘志强"  # J05: works in 市税务局机关党委, which owns B001-B005
ADMIN = Actor(username="测试员", role=Role.ADMIN)
OTHER_ADMIN = Actor(username="管理员", role=Role.ADMIN)


def preview(
    engine: Engine, *files: tuple[str, bytes], round_code: str = ROUND
) -> imports.ImportPreview:
    return imports.preview_import(engine, round_code=round_code, files=list(files), actor=ADMIN)


def commit(engine: Engine, *files: tuple[str, bytes]) -> imports.ImportSummary:
    p = preview(engine, *files)
    assert p.ok, p.issue_lines()
    return imports.commit_import(engine, preview=p)


def long_file(
    *rows: tuple, headers: list[str] | None = None, sheet: str = "评分"
) -> tuple[str, bytes]:
    kwargs = {"headers": headers} if headers else {}
    return ("long.xlsx", xlsx({sheet: long_rows(rows, **kwargs)}))


# -- the template round trip -----------------------------------------------------------------
def test_real_template_filled_imports_exactly_what_was_typed(demo_engine: Engine) -> None:
    template = exports.score_template(demo_engine, actor=ADMIN, round_code=ROUND, judge="J01")
    wb = openpyxl.load_workbook(io.BytesIO(template))
    ws = wb[J]
    typed: dict[tuple[str, str], float] = {}
    for r in range(layout.FIRST_DATA_ROW, ws.max_row + 1):
        brand = ws.cell(r, 1).value
        for offset, item in enumerate(ITEMS):
            value = ((r + offset) % 5) / 2  # 0..2, within every item's range
            ws.cell(r, 3 + offset).value = value
            typed[(brand, item)] = value
        ws.cell(r, 3 + len(ITEMS) + 1).value = f"评语{brand}"
    out = io.BytesIO()
    wb.save(out)

    p = preview(demo_engine, ("J01.xlsx", out.getvalue()))
    assert p.ok, p.issue_lines()
    summary = imports.commit_import(demo_engine, preview=p)
    mine = stored(demo_engine).query("judge == 'J01'")
    got = {(b, i): v for b, i, v in zip(mine["brand"], mine["item"], mine["value"], strict=True)}
    assert got == typed
    # Cells typed with the value already stored stay as they were (source "demo").
    assert set(mine["source"]) == {"demo", imports.source_of(summary.id)}
    counts = summary.counts
    assert counts.scores_changed + counts.scores_new == (mine["source"] != "demo").sum()
    with demo_engine.connect() as conn:
        comments = dict(
            conn.execute(
                text(
                    "SELECT b.code, s.comment FROM scoresheet s JOIN brand b ON b.id = s.brand_id "
                    "JOIN judge j ON j.id = s.judge_id JOIN round r ON r.id = s.round_id "
                    "WHERE r.code = '2026' AND j.code = 'J01'"
                )
            ).all()
        )
    assert all(comments[b] == f"评语{b}" for b, _ in typed)


def test_template_built_by_hand_without_metadata(demo_engine: Engine) -> None:
    """Judge from the sheet name (or code); several judge sheets in one workbook."""
    values = {("B006", "name.concise"): 4, ("B007", "bonus.award"): 2.5}
    data = xlsx(
        {
            layout.INSTRUCTIONS_SHEET: [["说明文字，不导入"]],
            J: template_sheet(J, [("B006", "阳光人社服务先锋"), ("B007", "社保暖心驿站")], values),
            "J02": template_sheet("李淑芬", [("B006", "")], {("B006", "impact.effect"): 3}),
        }
    )
    p = preview(demo_engine, ("hand.xlsx", data))
    assert p.ok, p.issue_lines()
    assert p.counts.scores_new + p.counts.scores_changed + p.counts.scores_unchanged == 3
    imports.commit_import(demo_engine, preview=p)
    assert value_of(demo_engine, "J01", "B006", "name.concise") == 4
    assert value_of(demo_engine, "J01", "B007", "bonus.award") == 2.5
    assert value_of(demo_engine, "J02", "B006", "impact.effect") == 3


def test_empty_cell_is_missing_not_zero(demo_engine: Engine) -> None:
    before = value_of(demo_engine, "J01", "B006", "name.logo")
    assert before is not None
    data = xlsx({J: template_sheet(J, [("B006", "")], {("B006", "name.concise"): 1})})
    commit(demo_engine, ("t.xlsx", data))
    assert value_of(demo_engine, "J01", "B006", "name.logo") == before  # untouched, not 0


# -- every validation rule: the exact cell, and the database unchanged -------------------------
LONG_CASES = [
    # (id, rows after the header, expected code, expected cell)
    ("unknown judge", [("无名氏", "B006", "name.concise", 3)], "unknown_judge", "A2"),
    ("empty judge", [(None, "B006", "name.concise", 3)], "unknown_judge", "A2"),
    ("unknown brand", [(J, "B999", "name.concise", 3)], "unknown_brand", "B2"),
    ("unknown item", [(J, "B006", "不存在的指标", 3)], "unknown_item", "C2"),
    ("above max", [(J, "B006", "name.concise", 5.5)], "out_of_range", "D2"),
    ("negative", [(J, "B006", "name.concise", -1)], "out_of_range", "D2"),
    ("chinese number", [(J, "B006", "name.concise", "八分")], "not_a_number", "D2"),
    ("decimal comma", [(J, "B006", "name.concise", "8,5")], "not_a_number", "D2"),
    ("text with unit", [(J, "B006", "name.concise", "3分")], "not_a_number", "D2"),
    ("boolean", [(J, "B006", "name.concise", True)], "boolean", "D2"),
    ("date", [(J, "B006", "name.concise", dt.datetime(2026, 3, 1))], "date", "D2"),
    ("formula", [(J, "B006", "name.concise", "=1+2")], "formula", "D2"),
    ("recused", [(RECUSED_JUDGE, "B001", "name.concise", 3)], "not_assigned", "D2"),
    (
        "duplicate",
        [(J, "B006", "name.concise", 3), (J, "B006", "品牌名称-名称凝练响亮", 4)],
        "duplicate",
        "D3",
    ),
]


@pytest.mark.parametrize(
    ("rows", "code", "cell"), [c[1:] for c in LONG_CASES], ids=[c[0] for c in LONG_CASES]
)
def test_each_problem_is_reported_at_its_cell_and_nothing_is_written(
    demo_engine: Engine, rows: list[tuple], code: str, cell: str
) -> None:
    before = dump(demo_engine)
    # A valid row first: the whole upload is refused, not just the bad row.
    good = (J, "B010", "impact.effect", 1)
    p = preview(demo_engine, long_file(good, *rows))
    shifted = cell[0] + str(int(cell[1:]) + 1)  # the good row pushed everything down one
    hits = p.issues[(p.issues["code"] == code) & (p.issues["cell"] == shifted)]
    assert not hits.empty, p.issue_lines()
    assert all(p.issues["sheet"] == "评分")
    assert f"评分!{shifted}: " in "\n".join(p.issue_lines())
    with pytest.raises(InvalidInput):
        imports.commit_import(demo_engine, preview=p)
    assert_same(before, dump(demo_engine))


def test_all_problems_at_once_in_sheet_order(demo_engine: Engine) -> None:
    rows = [row for case in LONG_CASES for row in case[1]]
    p = preview(demo_engine, long_file(*rows))
    found = set(p.issues["code"])
    assert {c[2] for c in LONG_CASES} <= found
    rows_of = p.issues["cell"].str[1:].astype(int)
    assert rows_of.is_monotonic_increasing
    assert set(p.issues.columns) >= {"file", "sheet", "cell", "brand", "item", "code", "message"}


def test_duplicate_reports_both_cells_and_across_files(demo_engine: Engine) -> None:
    a = ("a.xlsx", xlsx({"评分": long_rows([(J, "B006", "name.concise", 3)])}))
    b = ("b.xlsx", xlsx({"评分": long_rows([(J, "B006", "name.concise", 3)])}))
    p = preview(demo_engine, a, b)
    dups = p.issues[p.issues["code"] == "duplicate"]
    assert sorted(dups["file"]) == ["a.xlsx", "b.xlsx"]
    assert "b.xlsx 评分!D2" in dups.loc[dups["file"] == "a.xlsx", "message"].iloc[0]
    assert p.issue_lines()[0].startswith("a.xlsx 评分!D2: ")


def test_error_value_cells_are_caught(demo_engine: Engine) -> None:
    cells = [
        [("s", h) for h in ["评委", "品牌编号", "指标", "得分"]],
        [("s", J), ("s", "B006"), ("s", "name.concise"), ("e", "#DIV/0!")],
        [("s", J), ("s", "B006"), ("s", "name.logo"), ("f", ("1/0", "#DIV/0!"))],
        [("s", J), ("s", "B006"), ("s", "name.fit"), ("f", ("1+1", 2))],
    ]
    p = preview(demo_engine, ("err.xlsx", hand_xlsx("评分", cells)))
    got = dict(zip(p.issues["cell"], p.issues["code"], strict=True))
    assert got == {"D2": "error_value", "D3": "formula", "D4": "formula"}


def test_template_total_formula_is_expected_but_item_formulas_are_not(demo_engine: Engine) -> None:
    sheet = template_sheet(J, [("B006", "")], {("B006", "name.concise"): 2})
    sheet[2][3] = "=1+1"  # D3: name.logo as a formula
    p = preview(demo_engine, ("t.xlsx", xlsx({J: sheet})))
    assert p.issues[["cell", "code"]].values.tolist() == [["D3", "formula"]]


def test_brand_not_in_round_and_judge_not_on_panel(demo_engine: Engine) -> None:
    with demo_engine.begin() as conn:
        rid = conn.execute(text("SELECT id FROM round WHERE code = '2026'")).scalar_one()
        conn.execute(
            text(
                "DELETE FROM roundbrand WHERE round_id = :r AND brand_id = "
                "(SELECT id FROM brand WHERE code = 'B026')"
            ),
            {"r": rid},
        )
        conn.execute(
            text(
                "DELETE FROM roundjudge WHERE round_id = :r AND judge_id = "
                "(SELECT id FROM judge WHERE code = 'J07')"
            ),
            {"r": rid},
        )
    p = preview(
        demo_engine,
        long_file((J, "B026", "name.concise", 3), ("J07", "B006", "name.concise", 3)),
    )
    assert p.issues[["cell", "code"]].values.tolist() == [
        ["D2", "not_assigned"],
        ["D3", "not_assigned"],
    ]
    assert "不在轮次 2026 的参评名单中" in p.issues["message"].iloc[0]
    assert "不是轮次 2026 的评委" in p.issues["message"].iloc[1]


def test_recusal_message_names_the_unit(demo_engine: Engine) -> None:
    p = preview(demo_engine, long_file((RECUSED_JUDGE, "B001", "name.concise", 3)))
    assert "市税务局机关党委" in p.issues["message"].iloc[0]
    assert "回避" in p.issues["message"].iloc[0]


def test_round_not_open(demo_engine: Engine) -> None:
    before = dump(demo_engine)
    p = preview(demo_engine, long_file((J, "B006", "name.concise", 3)), round_code="2025")
    assert list(p.issues["code"]) == ["round_not_open"]
    assert "已发布" in p.issues["message"].iloc[0]
    with pytest.raises(InvalidInput):
        imports.commit_import(demo_engine, preview=p)
    assert_same(before, dump(demo_engine))


def test_round_closed_between_preview_and_commit(demo_engine: Engine) -> None:
    p = preview(demo_engine, long_file((J, "B006", "name.concise", 3)))
    assert p.ok
    with demo_engine.begin() as conn:
        conn.execute(text("UPDATE round SET status = 'locked' WHERE code = '2026'"))
    before = dump(demo_engine)
    with pytest.raises(Conflict, match="已锁定"):
        imports.commit_import(demo_engine, preview=p)
    assert_same(before, dump(demo_engine))


def test_scores_written_after_preview_refuse_the_commit(demo_engine: Engine) -> None:
    first = preview(demo_engine, long_file((J, "B006", "name.concise", 3)))
    commit(demo_engine, long_file((J, "B007", "name.concise", 2)))
    before = dump(demo_engine)
    with pytest.raises(Conflict, match="重新上传预览"):
        imports.commit_import(demo_engine, preview=first)
    assert_same(before, dump(demo_engine))


def test_rubric_version_and_round_from_template_metadata(demo_engine: Engine) -> None:
    template = exports.score_template(demo_engine, actor=ADMIN, round_code=ROUND, judge="J01")
    wb = openpyxl.load_workbook(io.BytesIO(template))
    meta = wb[layout.META_SHEET]
    for row in meta.iter_rows():
        if row[1].value == layout.MetaKey.RUBRIC_VERSION:
            row[2].value = "7"
        if row[1].value == layout.MetaKey.ROUND_CODE:
            row[2].value = "2024"
    wb[J]["C3"] = 3
    out = io.BytesIO()
    wb.save(out)
    p = preview(demo_engine, ("old.xlsx", out.getvalue()))
    assert set(p.issues["code"]) == {"rubric_version", "round_mismatch"}
    assert set(p.issues["sheet"]) == {layout.META_SHEET}


def test_brand_code_and_name_must_agree(demo_engine: Engine) -> None:
    sheet = template_sheet(J, [("B006", "社保暖心驿站")], {("B006", "name.concise"): 2})
    p = preview(demo_engine, ("t.xlsx", xlsx({J: sheet})))
    assert p.issues[["cell", "code"]].values.tolist() == [["A3", "brand_mismatch"]]


def test_unknown_sheet_judge_and_unreadable_file(demo_engine: Engine) -> None:
    sheet = template_sheet("外人", [("B006", "")], {("B006", "name.concise"): 2})
    p = preview(
        demo_engine,
        ("t.xlsx", xlsx({"外人": sheet, "备注": [["随手记的东西"]]})),
        ("bad.xlsx", b"not a workbook at all"),
    )
    got = p.issues[["file", "sheet", "code"]].values.tolist()
    assert ["bad.xlsx", "", "unreadable_file"] in got
    assert ["t.xlsx", "外人", "unknown_judge"] in got
    assert ["t.xlsx", "备注", "unrecognized_sheet"] in got


def test_unknown_item_header_with_values(demo_engine: Engine) -> None:
    sheet = template_sheet(J, [("B006", "")], {("B006", "name.concise"): 2})
    sheet[1].append("品牌名称-已删除的指标(5分)")
    sheet[2].append(3)
    p = preview(demo_engine, ("t.xlsx", xlsx({J: sheet})))
    assert p.issues[["cell", "code"]].values.tolist() == [["Y2", "unknown_item"]]


# -- normalisation ----------------------------------------------------------------------------
def test_full_width_digits_and_spaces_are_normalised(demo_engine: Engine) -> None:
    commit(
        demo_engine,
        long_file(
            (f" {J} ", " b006 ", " name.concise ", "４.５"),
            (J, "B006", "name.logo", "  3 "),
        ),
    )
    assert value_of(demo_engine, "J01", "B006", "name.concise") == 4.5
    assert value_of(demo_engine, "J01", "B006", "name.logo") == 3


@pytest.mark.parametrize(
    "item",
    [
        "名称凝练响亮",
        "品牌名称-名称凝练响亮",
        "品牌名称－名称凝练响亮（5分）",
        "name.concise",
        "NAME.CONCISE",
    ],
)
def test_long_format_item_by_name_label_or_code(demo_engine: Engine, item: str) -> None:
    commit(demo_engine, long_file((J, "B006", item, 1.5)))
    assert value_of(demo_engine, "J01", "B006", "name.concise") == 1.5


def test_long_format_tolerant_headers_brand_name_and_comment(demo_engine: Engine) -> None:
    headers = [" 评 委 ", "品牌名称", "指标（名称）", "得分(10分)", "评语"]
    headers[2] = "指标"
    rows = [
        (J, "阳光人社服务先锋", "名称凝练响亮", 2, "很好"),
        (J, "阳光人社服务先锋", "标识设计规范", 3, None),
        (None, None, None, None, None),  # a fully empty row inside
    ]
    data = xlsx({"Sheet1": [["2026 年评分汇总"], [], headers, *rows, [], []]})
    p = preview(demo_engine, ("long.xlsx", data))
    assert p.ok, p.issue_lines()
    assert p.counts.comments_new + p.counts.comments_changed == 1
    imports.commit_import(demo_engine, preview=p)
    assert value_of(demo_engine, "J01", "B006", "name.logo") == 3


def test_conflicting_comments_in_long_format(demo_engine: Engine) -> None:
    headers = [layout.LONG_JUDGE, layout.BRAND_CODE, layout.LONG_ITEM, layout.LONG_VALUE, "评语"]
    p = preview(
        demo_engine,
        long_file(
            (J, "B006", "name.concise", 2, "甲"),
            (J, "B006", "name.logo", 2, "乙"),
            headers=headers,
        ),
    )
    assert p.issues[["cell", "code"]].values.tolist() == [
        ["E2", "comment_conflict"],
        ["E3", "comment_conflict"],
    ]


# -- idempotence, history, revert ----------------------------------------------------------------
def _sample_upload() -> tuple[str, bytes]:
    headers = [layout.LONG_JUDGE, layout.BRAND_CODE, layout.LONG_ITEM, layout.LONG_VALUE, "评语"]
    return long_file(
        (J, "B006", "name.concise", 1),  # changes a demo score
        (J, "B006", "name.logo", 1, "导入的评语"),
        ("J03", "B012", "bonus.innovation", 2),
        headers=headers,
    )


def _drop_one_demo_score(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "DELETE FROM score WHERE item = 'bonus.innovation' AND judge_id = "
                "(SELECT id FROM judge WHERE code = 'J03') AND brand_id = "
                "(SELECT id FROM brand WHERE code = 'B012') AND round_id = "
                "(SELECT id FROM round WHERE code = '2026')"
            )
        )


def test_reimport_changes_nothing(demo_engine: Engine) -> None:
    _drop_one_demo_score(demo_engine)
    first = preview(demo_engine, _sample_upload())
    assert (first.counts.scores_new, first.counts.scores_changed) == (1, 2)
    assert len(first.changes) == 2 and set(first.changes.columns) >= {"原值", "新值"}
    imports.commit_import(demo_engine, preview=first)
    before = dump(demo_engine)
    again = preview(demo_engine, _sample_upload())
    assert (again.counts.scores_new, again.counts.scores_changed) == (0, 0)
    assert again.counts.scores_unchanged == 3
    assert (again.counts.comments_new, again.counts.comments_changed) == (0, 0)
    assert not again.has_changes
    summary = imports.commit_import(demo_engine, preview=again)  # recorded, writes nothing
    assert summary.counts.writes == 0
    assert_same(before, dump(demo_engine))  # revision included: nothing was written


def test_history_and_revert_restore_exactly(demo_engine: Engine) -> None:
    _drop_one_demo_score(demo_engine)
    before = dump(demo_engine)
    summary = commit(demo_engine, _sample_upload())
    history = imports.import_history(demo_engine, round_code=ROUND, actor=ADMIN)
    assert [h.id for h in history] == [summary.id]
    h = history[0]
    assert h.actor == "测试员" and h.files[0]["name"] == "long.xlsx"
    assert len(h.files[0]["sha256"]) == 64 and h.status == "applied"
    assert (h.counts.scores_new, h.counts.scores_changed) == (1, 2)
    assert (
        dump(demo_engine)["revision"]["revision"].tolist()
        != before["revision"]["revision"].tolist()
    )

    imports.revert_import(demo_engine, import_id=summary.id, actor=OTHER_ADMIN)
    after = dump(demo_engine)
    assert_same(before, after, revision=False)
    assert after["revision"]["revision"].iloc[1] == before["revision"]["revision"].iloc[1] + 2
    h = imports.import_history(demo_engine, round_code=ROUND, actor=ADMIN)[0]
    assert h.status == "reverted" and h.reverted_by == "管理员"
    with pytest.raises(Conflict, match="不能重复撤销"):
        imports.revert_import(demo_engine, import_id=summary.id, actor=OTHER_ADMIN)


@pytest.mark.parametrize("touched", ["created", "changed", "deleted", "comment"])
def test_revert_refused_after_a_later_change(demo_engine: Engine, touched: str) -> None:
    _drop_one_demo_score(demo_engine)
    summary = commit(demo_engine, _sample_upload())
    where = {
        "created": ("J03", "B012", "bonus.innovation"),
        "changed": ("J01", "B006", "name.concise"),
        "deleted": ("J01", "B006", "name.logo"),
    }
    with demo_engine.begin() as conn:
        if touched == "comment":
            conn.execute(
                text("UPDATE scoresheet SET comment = '后来改的' WHERE comment = '导入的评语'")
            )
        else:
            judge, brand, item = where[touched]
            match = (
                "judge_id = (SELECT id FROM judge WHERE code = :j) AND brand_id = "
                "(SELECT id FROM brand WHERE code = :b) AND item = :i"
            )
            change = "SET value = 0.5, version = version + 1, source = 'web'"
            sql = (
                f"DELETE FROM score WHERE {match}"
                if touched == "deleted"
                else f"UPDATE score {change} WHERE {match}"
            )
            conn.execute(text(sql), {"j": judge, "b": brand, "i": item})
    before = dump(demo_engine)
    with pytest.raises(Conflict, match="已被修改或删除") as err:
        imports.revert_import(demo_engine, import_id=summary.id, actor=OTHER_ADMIN)
    assert err.value.fields["count"] >= 1
    assert_same(before, dump(demo_engine))


def test_reverts_unwind_like_a_stack(demo_engine: Engine) -> None:
    before = dump(demo_engine)
    first = commit(demo_engine, long_file((J, "B006", "name.concise", 1)))
    second = commit(demo_engine, long_file((J, "B006", "name.concise", 2)))
    with pytest.raises(Conflict):
        imports.revert_import(demo_engine, import_id=first.id, actor=ADMIN)
    imports.revert_import(demo_engine, import_id=second.id, actor=ADMIN)
    assert value_of(demo_engine, "J01", "B006", "name.concise") == 1
    imports.revert_import(demo_engine, import_id=first.id, actor=ADMIN)
    assert_same(before, dump(demo_engine), revision=False)


def test_service_errors(demo_engine: Engine) -> None:
    with pytest.raises(NotFound):
        preview(demo_engine, long_file((J, "B006", "name.concise", 1)), round_code="1999")
    with pytest.raises(InvalidInput, match="至少"):
        imports.preview_import(demo_engine, round_code=ROUND, files=[], actor=ADMIN)
    with pytest.raises(NotFound):
        imports.revert_import(demo_engine, import_id=999, actor=ADMIN)


@pytest.mark.parametrize("role", [Role.JUDGE, Role.VIEWER])
def test_only_admins_import(demo_engine: Engine, role: Role) -> None:
    someone = Actor(username="某人", role=role)
    upload = [long_file((J, "B006", "name.concise", 1))]
    with pytest.raises(PermissionDenied):
        imports.preview_import(demo_engine, round_code=ROUND, files=upload, actor=someone)
    p = preview(demo_engine, *upload)
    before = dump(demo_engine)
    with pytest.raises(PermissionDenied):
        imports.commit_import(demo_engine, preview=p, actor=someone)
    with pytest.raises(PermissionDenied):
        imports.import_history(demo_engine, round_code=ROUND, actor=someone)
    summary = imports.commit_import(demo_engine, preview=p)
    with pytest.raises(PermissionDenied):
        imports.revert_import(demo_engine, import_id=summary.id, actor=someone)
    assert dump(demo_engine)["scores"].shape == before["scores"].shape


def test_commit_and_revert_are_audited(demo_engine: Engine) -> None:
    summary = commit(demo_engine, long_file((J, "B006", "name.concise", 1)))
    imports.revert_import(demo_engine, import_id=summary.id, actor=OTHER_ADMIN)
    with demo_engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT action, actor, entity_key, round_code, source FROM auditevent "
                "WHERE entity = 'import' ORDER BY id"
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("import.commit", "测试员", str(summary.id), ROUND, f"import:{summary.id}"),
        ("import.revert", "管理员", str(summary.id), ROUND, "web"),
    ]


def test_unassigned_pair_and_declared_conflict(demo_engine: Engine) -> None:
    with demo_engine.begin() as conn:
        ids = dict(
            conn.execute(
                text(
                    "SELECT 'r', id FROM round WHERE code = '2026' UNION ALL "
                    "SELECT code, id FROM brand WHERE code IN ('B006', 'B007') UNION ALL "
                    "SELECT code, id FROM judge WHERE code = 'J01'"
                )
            ).all()
        )
        conn.execute(
            text("DELETE FROM assignment WHERE round_id = :r AND brand_id = :b AND judge_id = :j"),
            {"r": ids["r"], "b": ids["B006"], "j": ids["J01"]},
        )
        conn.execute(
            text(
                "INSERT INTO conflictdeclaration (round_id, brand_id, judge_id, reason, "
                "declared_by, created_at) VALUES (:r, :b, :j, '亲属', 'J01', :t)"
            ),
            {"r": ids["r"], "b": ids["B007"], "j": ids["J01"], "t": dt.datetime.now(dt.UTC)},
        )
    p = preview(
        demo_engine,
        long_file((J, "B006", "name.concise", 1), (J, "B007", "name.concise", 1)),
    )
    assert p.issues[["cell", "code"]].values.tolist() == [
        ["D2", "not_assigned"],
        ["D3", "not_assigned"],
    ]
    assert "未分配给评委" in p.issues["message"].iloc[0]
    assert "利益冲突" in p.issues["message"].iloc[1]


def test_annotated_workbook_marks_the_bad_cells(demo_engine: Engine) -> None:
    data = set_cells(
        xlsx({J: template_sheet(J, [("B006", ""), ("B007", "")])}),
        {(J, "C3"): "八分", (J, "D4"): 9},
    )
    p = preview(demo_engine, ("mine.xlsx", data))
    name, content = imports.annotated_workbook(p)
    assert name == "mine_问题标注.xlsx"
    wb = openpyxl.load_workbook(io.BytesIO(content))
    assert wb.sheetnames[0] == "导入问题"
    for cell in ("C3", "D4"):
        assert wb[J][cell].comment is not None
        assert wb[J][cell].fill.fgColor.rgb.endswith("C7CE")
    assert wb[J]["C3"].value == "八分"  # the user's own content is kept
    assert wb[J]["E3"].comment is None


# -- CLI ------------------------------------------------------------------------------------------
def test_cli_import_ok_dry_run_and_issues(demo_engine: Engine, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    url = demo_engine.url.render_as_string(hide_password=False)
    good = tmp_path / "good.xlsx"
    good.write_bytes(long_file((J, "B006", "name.concise", 1))[1])
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(
        long_file((J, "B006", "name.concise", "八分"), ("无名氏", "B006", "name.logo", 1))[1]
    )

    before = dump(demo_engine)
    assert cli.main(["--db", url, "import", str(good), "--round", ROUND, "--dry-run"]) == 0
    assert "未写入" in capsys.readouterr().out
    assert_same(before, dump(demo_engine))

    assert cli.main(["--db", url, "import", str(bad), "--round", ROUND]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("评分!D2: ") and "八分" in err[0]
    assert err[1].startswith("评分!A3: ") and "无名氏" in err[1]
    assert "未写入任何数据" in err[2]
    assert_same(before, dump(demo_engine))

    assert cli.main(["--db", url, "import", str(good), "--round", ROUND]) == 0
    out = capsys.readouterr().out
    assert "修改 1" in out and "导入编号" in out
    assert imports.import_history(demo_engine, round_code=ROUND, actor=ADMIN)[0].actor == "命令行"
    assert value_of(demo_engine, "J01", "B006", "name.concise") == 1
    assert stored(demo_engine).query("source.str.startswith('import:')").shape[0] == 1

    assert cli.main(["--db", url, "import", str(tmp_path / "missing.xlsx"), "--round", ROUND]) == 2


def test_history_rows_for_display(demo_engine: Engine) -> None:
    summary = commit(demo_engine, long_file((J, "B006", "name.concise", 1)))
    row = imports.import_history(demo_engine, round_code=ROUND, actor=ADMIN)[0].row()
    assert row["编号"] == summary.id and row["状态"] == "已导入" and row["文件"] == "long.xlsx"
    assert isinstance(pd.Timestamp(row["时间"]), pd.Timestamp)
