"""AppTest journeys through every page: real app.py, real services, a temporary SQLite file.

Expected values come from the services themselves, so a page that renders something
other than what the service computed fails here.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import Engine, text
from streamlit.testing.v1 import AppTest

from evalcore import charts, db, demo, services, store
from evalcore.models import Round, utcnow
from evalcore.rubric import RoundSettings, default_rubric
from tests.factories import OPERATOR
from tests.ui_support import SESSION_KEY, cookie_for
from ui import text as ui_text

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGES = {"overview": "pages/overview.py", "ranking": "pages/ranking.py", "brand": "pages/brand.py"}


@pytest.fixture(autouse=True)
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Each test gets its own database file and cold caches."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv(db.ENV_VAR, url)
    st.cache_data.clear()
    st.cache_resource.clear()
    db.dispose_engines()
    yield url
    st.cache_data.clear()
    st.cache_resource.clear()
    db.dispose_engines()


def run_app(page: str | None = None, user: str = "admin") -> AppTest:
    """The app logged in as a demo account (admin: every round's results are visible)."""
    at = logged_in(AppTest.from_file(APP, default_timeout=30), user).run()
    assert not at.exception, at.exception
    if page is not None:
        at.switch_page(PAGES[page]).run()
        assert not at.exception, at.exception
    return at


def logged_in(at: AppTest, user: str) -> AppTest:
    services.open_database(db.database_url())
    at.session_state[SESSION_KEY] = cookie_for(db.database_url(), user)
    return at


def results(url: str, round_code: str = "2026", method: str | None = None):
    return services.round_results(
        db.get_engine(url), actor=OPERATOR, round_code=round_code, method=method
    )


def figure_titles(at: AppTest) -> list[str]:
    return [
        json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in at.get("plotly_chart")
    ]


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def bump_revision(engine: Engine, round_code: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE round SET revision = revision + 1 WHERE code = :c"), {"c": round_code}
        )


def round_id(engine: Engine, round_code: str) -> int:
    with engine.begin() as conn:
        return int(
            conn.execute(text("SELECT id FROM round WHERE code = :c"), {"c": round_code}).scalar()
        )


# -- app.py: demo notice, round picker, errors ------------------------------------------------
def test_first_start_loads_demo_and_says_so(database):
    at = AppTest.from_file(APP, default_timeout=30).run()  # nobody logged in yet
    assert not at.exception
    notice = texts(at.info)
    assert ui_text.DEMO_LOADED_NOW in notice
    assert "演示数据" in notice
    assert [t.value for t in at.title] == [ui_text.LOGIN_TITLE]


def test_later_start_still_flags_demo_but_not_as_just_loaded(database):
    services.open_database(database)  # seeded by an earlier start
    db.dispose_engines()
    at = run_app()
    notice = texts(at.info)
    assert "演示数据" in notice
    assert ui_text.DEMO_LOADED_NOW not in notice


def test_round_picker_lists_rounds_with_status_and_keeps_choice_across_pages(database):
    at = run_app()
    picker = at.sidebar.selectbox(key="round_code")
    assert picker.options == ["2026 · 评分中", "2025 · 已发布"]
    assert picker.value == "2026"
    picker.set_value("2025").run()
    expected = results(database, "2025")
    for page in ("ranking", "brand", "overview"):
        at.switch_page(PAGES[page]).run()
        assert not at.exception
        assert at.sidebar.selectbox(key="round_code").value == "2025"
        assert expected.round.name in texts(at.caption)


def test_evalcore_errors_are_shown_as_messages_not_tracebacks(monkeypatch):
    monkeypatch.setenv(db.ENV_VAR, "mysql://user@host/evalcore")
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert "不支持的数据库类型" in texts(at.error)


@pytest.mark.parametrize("page", list(PAGES))
def test_a_page_run_as_main_script_renders_alone_without_looping(database, page):
    """The entrypoint guard must not reroute forever when there is no app.py around it."""
    at = logged_in(AppTest.from_file(str(ROOT / PAGES[page]), default_timeout=30), "admin").run()
    assert not at.exception
    assert at.title and at.get("plotly_chart")  # the newest round, drawn in full


# -- overview ------------------------------------------------------------------------------
def test_overview_kpis_match_the_service(database):
    at = run_app()
    expected = results(database)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        ui_text.KPI_BRANDS: str(len(expected.brands)),
        ui_text.KPI_JUDGES: str(len(expected.judges)),
        ui_text.KPI_PROGRESS: f"{expected.progress.percent:.1f}%",
    }
    assert metrics[ui_text.KPI_BRANDS] == "26"


def test_overview_shows_top10_and_both_distributions(database):
    at = run_app()
    expected = results(database)
    top10 = at.dataframe[0].value
    assert len(top10) == 10
    assert top10["品牌"].tolist() == expected.table["brand"].head(10).tolist()
    assert top10["总分"].tolist() == expected.table["total"].head(10).tolist()
    assert figure_titles(at) == ["等次分布", "总分分布"]


# -- ranking -------------------------------------------------------------------------------
def test_ranking_table_starts_with_the_rank_one_brand(database):
    at = run_app("ranking")
    expected = results(database)
    table = at.dataframe[0].value
    assert len(table) == len(expected.table) == 26
    first = table.iloc[0]
    top = expected.table.iloc[0]
    assert (first["名次"], first["品牌"], first["总分"], first["等次"]) == (
        1,
        top["brand"],
        top["total"],
        top["grade"],
    )
    assert first["去掉最高分"] == top["dropped_high_name"]
    assert first["去掉最低分"] == top["dropped_low_name"]
    assert first["计入评委数"] == top["judges_counted"]
    assert figure_titles(at) == ["总分排名", "各项指标得分率（%）"]


@pytest.mark.parametrize("method", ["median", "mean"])
def test_method_picker_changes_totals(database, method):
    at = run_app("ranking")
    trimmed = at.dataframe[0].value.set_index("编号")["总分"]
    at.segmented_control(key="method").set_value(method).run()
    assert not at.exception
    shown = at.dataframe[0].value.set_index("编号")["总分"]
    expected = results(database, method=method).table.set_index("brand_code")["total"]
    assert shown.to_dict() == expected.to_dict()
    assert not shown.sort_index().equals(trimmed.sort_index())
    assert ui_text.METHOD_LABELS[method] in texts(at.caption)


def test_method_choice_applies_on_other_pages(database):
    at = run_app("ranking")
    at.segmented_control(key="method").set_value("median").run()
    at.switch_page(PAGES["overview"]).run()
    expected = results(database, method="median")
    assert at.dataframe[0].value["总分"].tolist() == expected.table["total"].head(10).tolist()


def test_filters_reduce_rows(database):
    at = run_app("ranking")
    expected = results(database).table
    unit = "市中心医院党委"
    at.multiselect(key="filter_unit").set_value([unit]).run()
    table = at.dataframe[0].value
    assert len(table) == (expected["unit"] == unit).sum() < 26
    assert set(table["单位"]) == {unit}
    at.multiselect(key="filter_grade").set_value(["优秀"]).run()
    both = at.dataframe[0].value
    want = expected[(expected["unit"] == unit) & (expected["grade"] == "优秀")]
    assert both["品牌"].tolist() == want["brand"].tolist()
    at.multiselect(key="filter_category").set_value(["体系统摄型"]).run()
    assert len(at.dataframe[0].value) <= len(both)


def test_filters_with_no_match_say_what_to_do(database):
    at = run_app("ranking")
    table = results(database).table
    present = set(zip(table["unit"], table["grade"], strict=True))
    unit, grade = next(
        (u, g) for u in table["unit"] for g in table["grade"].unique() if (u, g) not in present
    )
    at.multiselect(key="filter_unit").set_value([unit]).run()
    at.multiselect(key="filter_grade").set_value([grade]).run()
    assert not at.exception
    assert not at.dataframe
    assert ui_text.NO_MATCH in texts(at.info)


def test_selecting_a_row_opens_brand_detail(database):
    at = run_app("ranking")
    third = at.dataframe[0].value.iloc[2]
    at.session_state["ranking_table"] = {"selection": {"rows": [2], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == [ui_text.BRAND_TITLE]
    assert at.selectbox(key="brand_code").value == third["编号"]
    at.switch_page(PAGES["ranking"]).run()  # coming back does not bounce to the brand again
    assert [t.value for t in at.title] == [ui_text.RANKING_TITLE]


def test_results_follow_the_round_revision(database):
    at = run_app("ranking")
    engine = db.get_engine(database)
    before = at.dataframe[0].value.iloc[0]
    with engine.begin() as conn:  # another session rescored the leader's brand low
        conn.execute(
            text(
                "UPDATE score SET value = 0 WHERE round_id = :r AND brand_id = "
                "(SELECT id FROM brand WHERE code = :b)"
            ),
            {"r": round_id(engine, "2026"), "b": before["编号"]},
        )
    at.run()
    assert at.dataframe[0].value.iloc[0]["编号"] == before["编号"]  # cached: revision unchanged
    bump_revision(engine, "2026")
    at.run()
    assert at.dataframe[0].value.iloc[0]["编号"] != before["编号"]
    assert results(database).table.iloc[0]["brand"] == at.dataframe[0].value.iloc[0]["品牌"]


# -- brand detail --------------------------------------------------------------------------
def test_brand_detail_shows_profile_dropped_judges_and_comments(database):
    at = run_app("brand")
    expected = results(database)
    top = expected.table.iloc[0]
    assert at.selectbox(key="brand_code").value == top["brand_code"]
    detail = services.brand_detail(
        expected, db.get_engine(database), actor=OPERATOR, brand_code=top["brand_code"]
    )
    assert top["brand"] in [s.value for s in at.subheader]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[ui_text.PROFILE_RANK] == "1"
    assert metrics[ui_text.PROFILE_TOTAL] == f"{top['total']:.2f}"
    assert metrics[ui_text.PROFILE_GRADE] == top["grade"]
    page_text = texts(at.markdown)
    for field in ("unit", "branch", "category", "slogan"):
        assert top[field] in page_text
    judges = at.dataframe[0].value
    status = dict(zip(judges["评委"], judges["状态"], strict=True))
    assert status[top["dropped_high_name"]] == "▲ 高分剔除"
    assert status[top["dropped_low_name"]] == "▼ 低分剔除"
    assert f"去掉最高分：{top['dropped_high_name']}" in texts(at.caption)
    for judge, comment in detail.comments.itertuples(index=False):
        assert f"**{judge}**：{comment}" in page_text
    assert figure_titles(at) == ["六项指标得分率对比", "各评委分项打分"]


def test_brand_picker_switches_brand(database):
    at = run_app("brand")
    last = results(database).table.iloc[-1]
    at.selectbox(key="brand_code").set_value(last["brand_code"]).run()
    assert not at.exception
    assert last["brand"] in [s.value for s in at.subheader]
    assert {m.label: m.value for m in at.metric}[ui_text.PROFILE_RANK] == str(last["rank"])


def test_incomplete_sheet_is_marked_in_the_judge_table(database):
    at = run_app("brand")
    expected = results(database)
    incomplete = expected.aggregation.judges.query("not complete").reset_index()
    assert len(incomplete) == 1  # the demo leaves one judge's sheet one item short
    brand_id, judge_id = incomplete.loc[0, ["brand_id", "judge_id"]]
    brand_code = expected.brands.loc[brand_id, "brand_code"]
    at.selectbox(key="brand_code").set_value(brand_code).run()
    status = dict(zip(at.dataframe[0].value["评委"], at.dataframe[0].value["状态"], strict=True))
    assert status[expected.judges.loc[judge_id, "judge"]] == "○ 未完成（不计入）"


# -- caveats and empty states --------------------------------------------------------------
def test_few_judges_are_flagged_not_silently_shown(database):
    engine = services.open_database(database, seed_demo=False).engine
    services.load_demo(engine, brands=12, judges=3)
    with engine.begin() as conn:  # nobody has scored one brand yet
        conn.execute(
            text(
                "DELETE FROM score WHERE round_id = :r AND brand_id = "
                "(SELECT id FROM brand WHERE code = 'B00005')"
            ),
            {"r": round_id(engine, "2025")},  # 2025 has no other gaps
        )
    bump_revision(engine, "2025")
    db.dispose_engines()

    at = run_app("ranking")
    at.sidebar.selectbox(key="round_code").set_value("2025").run()
    warnings = texts(at.warning)
    assert ui_text.FLAG_UNDER.format(n=11, min_judges=5) in warnings
    assert ui_text.FLAG_MEAN.format(n=11, trim=5) in warnings
    assert ui_text.FLAG_UNRANKED.format(n=1) in warnings
    assert "自动生成" in texts(at.info)
    table = at.dataframe[0].value
    assert table.iloc[0]["提示"] == "评委不足（3/5 人）；按算术平均（不足 5 人不去最高最低分）"
    last = table.iloc[-1]
    assert last["编号"] == "B00005"
    assert last["提示"] == "未排名：尚无完整评分"
    assert last["等次"] == charts.UNGRADED

    at.switch_page(PAGES["brand"]).run()
    assert "评委不足（3/5 人）" in texts(at.warning)
    at.selectbox(key="brand_code").set_value("B00005").run()
    assert not at.exception
    assert ui_text.BRAND_UNSCORED in texts(at.info)
    assert ui_text.BRAND_NO_JUDGES in texts(at.info)
    assert figure_titles(at) == []


def test_round_without_scores_says_what_to_do(database):
    engine = services.open_database(database).engine
    rid = round_id(engine, "2026")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM score WHERE round_id = :r"), {"r": rid})
        conn.execute(text("DELETE FROM scoresheet WHERE round_id = :r"), {"r": rid})
    bump_revision(engine, "2026")
    db.dispose_engines()

    at = run_app()
    assert ui_text.NO_SCORES in texts(at.info)
    assert {m.label: m.value for m in at.metric}[ui_text.KPI_PROGRESS] == "0.0%"
    assert figure_titles(at) == []
    at.switch_page(PAGES["ranking"]).run()
    assert ui_text.NO_SCORES in texts(at.info)
    assert not at.dataframe
    at.switch_page(PAGES["brand"]).run()
    assert ui_text.BRAND_UNSCORED in texts(at.info)
    assert not at.exception


def test_round_without_brands_says_what_to_do(database):
    engine = services.open_database(database).engine
    with engine.begin() as conn:  # a round just created, nothing imported yet
        store.insert_rows(
            conn,
            Round,
            [
                {
                    "code": "2027",
                    "name": "2027年度评审",
                    "status": "draft",
                    "rubric": default_rubric().to_dict(),
                    "settings": RoundSettings().to_dict(),
                    "revision": 0,
                    "created_at": utcnow(),
                    "updated_at": utcnow(),
                }
            ],
        )
    db.dispose_engines()
    at = run_app()
    picker = at.sidebar.selectbox(key="round_code")
    assert picker.options[0] == "2027 · 筹备"
    for page in PAGES.values():
        at.switch_page(page).run()
        assert not at.exception
        assert ui_text.NO_BRANDS in texts(at.info)


def test_database_without_rounds_says_what_to_do(database):
    at = run_app()
    engine = db.get_engine(database)
    with engine.begin() as conn:  # every round was removed while the app ran
        for table in demo.ALL_TABLES[: demo.ALL_TABLES.index(Round) + 1]:
            if table.__tablename__ not in ("user", "usersession", "loginattempt"):
                conn.execute(table.__table__.delete())
    for page in PAGES.values():
        at.switch_page(page).run()
        assert not at.exception
        assert ui_text.NO_ROUNDS in texts(at.info)
    assert ui_text.NO_ROUNDS_SHORT in texts(at.sidebar.caption)


# -- layering: pages describe the screen, services compute -----------------------------------
DASHBOARD_FILES = [ROOT / "app.py", *(ROOT / p for p in PAGES.values())]
ALLOWED_IMPORTS = {"streamlit", "evalcore", "evalcore.errors", "evalcore.permissions", "ui"}
REGISTERED = sorted(
    set(re.findall(r'"(pages/[\w/]+\.py)"', (ROOT / "ui" / "nav.py").read_text("utf-8")))
)


@pytest.mark.parametrize("path", sorted((ROOT / "pages").glob("*.py")), ids=lambda p: p.name)
def test_no_sql_or_pandas_arithmetic_in_pages(path: Path):
    source = path.read_text(encoding="utf-8")
    for forbidden in (r"(?<![\w.])select\(", r"session\.exec", r"\.groupby\("):
        assert not re.search(forbidden, source), f"{path.name} matches {forbidden!r}"


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda p: p.name)
def test_dashboard_pages_only_import_streamlit_charts_and_ui(path: Path):
    """Figures and derived tables come from evalcore.charts, data through ui.data."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            assert node.module in ALLOWED_IMPORTS, (path.name, node.module)
            if node.module == "evalcore":
                assert {a.name for a in node.names} <= {"charts"}, path.name
        elif isinstance(node, ast.Import):
            assert {a.name for a in node.names} <= {"streamlit"}, path.name


def test_navigation_registers_the_dashboard_pages():
    assert set(PAGES.values()) <= set(REGISTERED)


@pytest.mark.parametrize("page", REGISTERED)
def test_every_registered_page_starts_inside_app_py(page: str):
    """Streamlit's legacy pages/ mode may run a page alone; it must reroute via app.py."""
    body = ast.parse((ROOT / page).read_text(encoding="utf-8")).body
    calls = [n for n in body if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)]
    assert calls, page
    assert ast.unparse(calls[0]) == "shell.require_entrypoint()", page


# -- roles: results only once published, progress always ---------------------------------------
@pytest.mark.parametrize("user", ["viewer", "judge"])
def test_before_publication_others_see_progress_not_results(database, user):
    at = run_app("overview", user=user)  # newest round 2026 is 评分中
    assert "评审结果发布后方可查看" in texts(at.info)
    assert not at.get("plotly_chart") and not at.dataframe
    if user == "viewer":
        expected = results(database)
        metrics = {m.label: m.value for m in at.metric}
        assert metrics[ui_text.KPI_BRANDS] == str(len(expected.brands))
        assert metrics[ui_text.KPI_PROGRESS] == f"{expected.progress.percent:.1f}%"
    at.switch_page(PAGES["ranking"]).run()
    assert not at.exception
    assert "评审结果发布后方可查看" in texts(at.info)
    assert not at.dataframe


def test_after_publication_a_viewer_sees_the_ranking(database):
    at = run_app(user="viewer")
    at.sidebar.selectbox(key="round_code").set_value("2025").run()
    at.switch_page(PAGES["ranking"]).run()
    assert not at.exception
    leader = results(database, "2025").table.iloc[0]
    assert at.dataframe[0].value.iloc[0]["品牌"] == leader["brand"]


def test_a_judge_never_reaches_brand_detail(database):
    """Judging is blind: the page with every judge's scores is not registered for judges."""
    at = run_app(user="judge")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGES["brand"])


def test_editing_session_state_grants_nothing(database):
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["actor"] = {"username": "admin", "role": "admin"}
    at.session_state["role"] = "admin"
    at.session_state[SESSION_KEY] = "forged.value"
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == [ui_text.LOGIN_TITLE]
