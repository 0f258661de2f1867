"""AppTest for 组织与品牌, 评委分配 and 评分进度, for every role.

Journeys run the page file as the main script (see tests/test_round_pages.py for why):
logged in with a real session cookie, the sidebar's round set through its key. Grid
edits are injected the way a browser reports them (``edited_rows`` / ``added_rows`` /
``deleted_rows`` under the editor's key). Each page is also opened through ``app.py``.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, text
from streamlit.testing.v1 import AppTest

from evalcore import db
from evalcore.permissions import Actor, Role
from evalcore.services import assignments, audit
from tests.import_helpers import xlsx
from tests.ui_support import ROOT, SESSION_KEY, app_as, app_db, cookie_for  # noqa: F401
from ui import pickers
from ui import text as ui_text

ROSTER = "pages/admin_roster.py"
ASSIGN = "pages/admin_assignments.py"
PROGRESS = "pages/admin_progress.py"
TITLES = {
    ROSTER: ui_text.ROSTER_TITLE,
    ASSIGN: ui_text.ASSIGN_TITLE,
    PROGRESS: ui_text.PROGRESS_TITLE,
}
ADMIN = Actor("admin", Role.ADMIN, user_id=1)
ASSIGNED_2026 = (
    "SELECT count(*) FROM assignment WHERE round_id = (SELECT id FROM round WHERE code = '2026')"
)
MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def url(app_db: str) -> str:  # noqa: F811
    return app_db


def page(url: str, path: str, username: str | None = "admin", round_code: str = "2026") -> AppTest:
    at = AppTest.from_file(str(ROOT / path), default_timeout=30)
    if username is not None:
        at.session_state[SESSION_KEY] = cookie_for(url, username)
    at.session_state[pickers.ROUND_KEY] = round_code
    at.run()
    assert not at.exception, at.exception
    return at


def engine(url: str) -> Engine:
    return db.get_engine(url)


def scalar(url: str, sql: str, **params: Any) -> Any:
    with engine(url).connect() as conn:
        return conn.execute(text(sql), params).scalar()


def values(elements: Any) -> list[str]:
    return [str(e.value) for e in elements]


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def editor_key(prefix: str, generation: int = 0) -> str:
    """A grid's key: its name plus a generation, bumped after each save (0 on a new page)."""
    return f"{prefix}{generation}"


def edits(
    rows: dict[int, dict[str, Any]] | None = None,
    added: list[Any] | None = None,
    deleted: list[int] | None = None,
) -> dict[str, Any]:
    return {"edited_rows": rows or {}, "added_rows": added or [], "deleted_rows": deleted or []}


def table_with(at: AppTest, columns: list[str]) -> pd.DataFrame:
    """The one table on the page with these columns (grids of every tab render too)."""
    found = [d.value for d in at.dataframe if list(d.value.columns) == columns]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def events(url: str) -> list[dict[str, Any]]:
    return audit.list_events(engine(url), actor=ADMIN).to_dict("records")


# -- every page, every role ------------------------------------------------------------------------
@pytest.mark.parametrize("path", [ROSTER, ASSIGN, PROGRESS])
def test_admin_opens_each_page_through_the_app(url: str, path: str) -> None:
    at = app_as(url, "admin", path)
    assert values(at.title) == [TITLES[path]]
    assert ui_text.ACCESS_DENIED not in values(at.error)


@pytest.mark.parametrize("path", [ROSTER, ASSIGN])
@pytest.mark.parametrize("who", ["judge", "viewer"])
def test_judges_and_viewers_are_refused_roster_and_assignments(
    url: str, path: str, who: str
) -> None:
    at = app_as(url, who)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(path)
    at = page(url, path, who)
    assert values(at.error) == [ui_text.ACCESS_DENIED]
    assert not at.title and not at.button and not at.get("data_editor")
    assert not at.get("download_button")


@pytest.mark.parametrize("path", [ROSTER, ASSIGN, PROGRESS])
def test_logged_out_is_refused(url: str, path: str) -> None:
    at = page(url, path, None)
    assert values(at.error) == [ui_text.ACCESS_DENIED]


@pytest.mark.parametrize("who", ["admin", "viewer"])
def test_progress_page_shows_states_and_what_is_missing(url: str, who: str) -> None:
    at = page(url, PROGRESS, who)
    assert values(at.title) == [ui_text.PROGRESS_TITLE]
    progress = assignments.progress_matrix(engine(url), actor=ADMIN, round_code="2026")
    totals = progress.totals()
    assert metrics(at) == {
        "应评": "168",
        "已提交": str(totals["done"]),
        "草稿": str(totals["draft"]),
        "未开始": str(totals["not_started"]),
        "完成率": f"{progress.percent:.1f}%",
    }
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["title"]["text"] == "评分进度（评委 × 品牌）"
    assert spec["data"][0]["type"] == "heatmap" and len(spec["data"][0]["y"]) == 26
    per_judge, missing = (d.value for d in at.dataframe)
    assert list(per_judge["评委"])[:2] == ["王建华", "李淑芬"]
    owed = missing[["评委", "编号", "状态"]].values.tolist()
    assert len(owed) == totals["draft"] + totals["not_started"]
    assert ["李淑芬", "B014", "草稿"] in owed and ["刘志强", "B023", "未开始"] in owed
    # A viewer sees progress, never a score.
    assert not any("总分" in c for c in [*per_judge.columns, *missing.columns])


def test_progress_page_when_everyone_is_done(url: str) -> None:
    at = page(url, PROGRESS, round_code="2025")
    assert metrics(at)["完成率"] == "100.0%"
    assert ui_text.PROGRESS_ALL_DONE in values(at.success)


# -- 组织与品牌 ---------------------------------------------------------------------------------
def test_roster_page_adds_a_unit_through_the_grid(url: str) -> None:
    at = page(url, ROSTER)
    assert values(at.title) == [ui_text.ROSTER_TITLE]
    assert metrics(at) == {"单位": "6", "支部": "26", "品牌": "26"}
    key = editor_key("roster_units_")
    at.session_state[key] = edits(added=[{"code": "U07", "name": "市图书馆党委"}])
    at.run()
    at = click(at, "units_save")
    assert values(at.success) == ["已保存单位：新增 1，修改 0，删除 0。"]
    assert scalar(url, "SELECT name FROM unit WHERE code = 'U07'") == "市图书馆党委"
    assert metrics(at)["单位"] == "7"
    assert events(url)[0]["action"] == "unit.edit"


def test_roster_page_lists_every_problem_and_keeps_the_edits(url: str) -> None:
    at = page(url, ROSTER)
    key = editor_key("roster_brands_")
    at.session_state[key] = edits(
        rows={0: {"category": "奇怪型"}},
        deleted=[1],
        added=[
            {"code": "B001", "name": "新品牌", "unit": "市税务局机关党委", "branch": "办公室党支部"}
        ],
    )
    at.run()
    at = click(at, "brands_save")
    assert values(at.error) == [ui_text.ROSTER_ISSUES.format(what="品牌", n=4)]
    problems = table_with(at, ["行", "列", "说明"])
    assert problems[["行", "列"]].values.tolist() == [
        ["品牌 B001", "编号"],  # B001 was edited too, so its clash with the new row shows
        ["新增第 1 行", "编号"],
        ["品牌 B001", "类型"],
        ["品牌 B002", ""],
    ]
    assert "已有评分或评语，不能删除" in problems["说明"].iloc[3]
    assert at.session_state[key]["deleted_rows"] == [1]  # the grid keeps what was typed
    assert scalar(url, "SELECT category FROM brand WHERE code = 'B001'") == "优势资源开发型"


def test_roster_page_round_membership(url: str) -> None:
    with engine(url).begin() as conn:
        for table in ("assignment", "score", "scoresheet"):
            conn.execute(
                text(
                    f"DELETE FROM {table} WHERE brand_id = (SELECT id FROM brand WHERE code='B026')"
                )
            )
    at = page(url, ROSTER)
    key = editor_key("roster_round_2026_")
    at.session_state[key] = edits(rows={25: {"in_round": False}})
    at.run()
    at = click(at, "rb_save")
    assert values(at.success) == ["已更新轮次 2026 的参评品牌：加入 0 个，移出 1 个。"]
    assert (
        scalar(
            url,
            "SELECT count(*) FROM roundbrand rb JOIN round r ON r.id = rb.round_id "
            "WHERE r.code = '2026'",
        )
        == 25
    )
    at = click(at, "rb_all")
    assert values(at.success)[0].startswith("已更新轮次 2026 的参评品牌：加入 1 个，移出 0 个。")
    assert ui_text.ROSTER_ROUND_HINT in values(at.success)[0]


def test_roster_page_locked_round_is_read_only(url: str) -> None:
    at = page(url, ROSTER, round_code="2025")
    assert any("只能在「筹备」或「评分中」时调整" in v for v in values(at.info))
    assert "rb_save" not in [b.key for b in at.button]


def test_roster_page_imports_a_workbook(url: str) -> None:
    at = page(url, ROSTER)
    assert any(b.label == ui_text.ROSTER_IMPORT_TEMPLATE for b in at.get("download_button"))
    assert ui_text.ROSTER_IMPORT_EMPTY in values(at.info)
    data = xlsx(
        {
            "名册": [
                ["单位", "支部", "品牌编号", "品牌名称"],
                ["市图书馆党委", "阅读推广党支部", "B100", "书香党建"],
            ]
        }
    )
    uploader = editor_key("roster_upload_")
    at.file_uploader(key=uploader).set_value(("名册.xlsx", data, MIME)).run()
    assert not at.exception, at.exception
    shown = metrics(at)
    assert [shown[k] for k in ("新增单位", "新增支部", "新增品牌", "修改品牌")] == [
        "1",
        "1",
        "1",
        "0",
    ]
    at = click(at, "roster_import_confirm")
    assert values(at.success) == ["名册已导入：新增单位 1、支部 1、品牌 1，修改品牌 0。"]
    assert scalar(url, "SELECT name FROM brand WHERE code = 'B100'") == "书香党建"


def test_roster_page_import_problems(url: str) -> None:
    at = page(url, ROSTER)
    data = xlsx({"名册": [["单位", "支部", "品牌编号", "品牌名称"], ["U01", "", "B100", "税连心"]]})
    at.file_uploader(key=editor_key("roster_upload_")).set_value(("x.xlsx", data, MIME)).run()
    assert values(at.error) == [ui_text.ROSTER_IMPORT_ISSUES.format(n=2)]
    table = table_with(at, ["工作表", "单元格", "列", "说明"])
    assert table[["工作表", "单元格"]].values.tolist() == [["名册", "B2"], ["名册", "D2"]]
    assert "roster_import_confirm" not in [b.key for b in at.button]


# -- 评委分配 --------------------------------------------------------------------------------------
def test_assignment_page_shows_the_matrix_with_recusal(url: str) -> None:
    at = page(url, ASSIGN)
    assert values(at.title) == [ui_text.ASSIGN_TITLE]
    assert metrics(at) == {
        "有效分配": "168",
        "本单位回避": "14",
        "申报回避": "0",
        "无评委的品牌": "0",
    }
    grid = at.dataframe[0]
    assert grid.proto.editing_mode  # an editable grid
    assert pd.isna(grid.value.loc[0, "J05"]) and grid.value.loc[0, "blocked"] == "刘志强（本单位）"
    shown = json.loads(grid.proto.columns)
    assert shown["J05"]["label"] == "刘志强" and "市税务局机关党委" in shown["J05"]["help"]
    assert ui_text.ASSIGN_MATRIX_HELP in [c.value for c in at.caption]


def test_assignment_page_saves_matrix_edits(url: str) -> None:
    with engine(url).begin() as conn:  # B006 x J01 without scores, so it may be unassigned
        for table in ("score", "scoresheet"):
            conn.execute(text(f"DELETE FROM {table} WHERE brand_id = 6 AND judge_id = 1"))
    at = page(url, ASSIGN)
    key = editor_key("assign_matrix_2026_")
    at.session_state[key] = edits(rows={5: {"J01": False}})
    at.run()
    at = click(at, "assign_save")
    assert values(at.success) == ["已分配：新增 0 项，取消 1 项。"]
    assert scalar(url, f"{ASSIGNED_2026} AND brand_id = 6 AND judge_id = 1") == 0
    assert metrics(at)["有效分配"] == "167"
    at = click(at, "assign_all")
    assert values(at.success) == ["已分配：新增 1 项，取消 0 项。"]


def test_assignment_page_refuses_a_recused_cell(url: str) -> None:
    with engine(url).begin() as conn:  # the demo assigns recused pairs too; start clean
        conn.execute(text("DELETE FROM assignment WHERE brand_id = 1 AND judge_id = 5"))
    at = page(url, ASSIGN)
    key = editor_key("assign_matrix_2026_")
    at.session_state[key] = edits(rows={0: {"J05": True}})
    at.run()
    at = click(at, "assign_save")
    assert any("须回避：刘志强—B001" in e for e in values(at.error))
    assert scalar(url, f"{ASSIGNED_2026} AND brand_id = 1 AND judge_id = 5") == 0


def test_assignment_page_declares_and_withdraws_a_conflict(url: str) -> None:
    with engine(url).begin() as conn:
        for table in ("score", "scoresheet"):
            conn.execute(text(f"DELETE FROM {table} WHERE brand_id = 10 AND judge_id = 3"))
    at = page(url, ASSIGN)
    assert ui_text.ASSIGN_CONFLICTS_EMPTY in values(at.info)
    form = [
        s
        for s in at.selectbox
        if s.label in (ui_text.ASSIGN_DECLARE_JUDGE, ui_text.ASSIGN_DECLARE_BRAND)
    ]
    form[0].set_value("J03")
    form[1].set_value("B010")
    at.text_input[0].input("曾在该单位任职")
    at.button(key="FormSubmitter:assign_declare-登记回避").click().run()
    assert not at.exception, at.exception
    assert values(at.success) == ["已登记：陈国栋 对品牌 B010 回避。"]
    assert metrics(at)["申报回避"] == "1"
    at = click(at, "assign_withdraw")
    assert values(at.success)[0].startswith("已撤销 陈国栋 对品牌 B010 的回避申报")
    assert scalar(url, "SELECT count(*) FROM conflictdeclaration") == 0


def test_assignment_page_locked_round_is_read_only(url: str) -> None:
    at = page(url, ASSIGN, round_code="2025")
    assert any("以下仅供查看" in v for v in values(at.info))
    keys = [b.key for b in at.button]
    assert "assign_all" not in keys and "assign_save" not in keys
