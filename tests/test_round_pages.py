"""AppTest for 轮次管理, 评分细则 and 操作日志, for every role.

Admin journeys run the page file as the main script (as ``tests/test_import_page.py``
does): AppTest's ``switch_page`` makes every later run start in Streamlit's legacy
page mode, where ``ui.shell`` reroutes through ``app.py`` and a form submit clicked in
the test is consumed by the rerouted run. The sidebar's round choice is set through
its session-state key instead. Each page is also opened once through ``app.py``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import Engine, text
from streamlit.testing.v1 import AppTest

from evalcore import db
from evalcore.permissions import Actor, Role
from evalcore.rubric import default_rubric
from evalcore.services import audit, rounds
from tests.ui_support import ROOT, SESSION_KEY, app_as, app_db, cookie_for  # noqa: F401
from ui import pickers
from ui import text as ui_text

ROUNDS = "pages/admin_rounds.py"
RUBRIC = "pages/admin_rubric.py"
AUDIT = "pages/admin_audit.py"
PAGES = (ROUNDS, RUBRIC, AUDIT)
TITLES = {ROUNDS: ui_text.ROUNDS_TITLE, RUBRIC: ui_text.RUBRIC_TITLE, AUDIT: ui_text.AUDIT_TITLE}
ADMIN = Actor("admin", Role.ADMIN, user_id=1)


def page(
    url: str, path: str, username: str | None = "admin", round_code: str | None = None
) -> AppTest:
    """The page file alone, logged in as ``username``, with ``round_code`` picked."""
    at = AppTest.from_file(str(ROOT / path), default_timeout=30)
    if username is not None:
        at.session_state[SESSION_KEY] = cookie_for(url, username)
    if round_code is not None:
        at.session_state[pickers.ROUND_KEY] = round_code
    at.run()
    assert not at.exception, at.exception
    return at


def engine(url: str) -> Engine:
    return db.get_engine(url)


def values(elements: Any) -> list[str]:
    return [str(e.value) for e in elements]


def button(at: AppTest, label: str) -> Any:
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r} in {[b.label for b in at.button]}"
    return found[0]


def click(at: AppTest, label: str) -> AppTest:
    button(at, label).click().run()
    assert not at.exception, at.exception
    return at


def status(url: str, code: str) -> str:
    with engine(url).connect() as conn:
        return str(
            conn.execute(text("SELECT status FROM round WHERE code = :c"), {"c": code}).scalar()
        )


def events(url: str) -> list[dict[str, Any]]:
    return audit.list_events(engine(url), actor=ADMIN).to_dict("records")


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def editor(
    delta_rows: dict[int, dict[str, Any]] | None = None,
    added: list | None = None,
    deleted: list | None = None,
) -> dict[str, Any]:
    return {
        "edited_rows": delta_rows or {},
        "added_rows": added or [],
        "deleted_rows": deleted or [],
    }


@pytest.fixture
def url(app_db: str) -> str:  # noqa: F811
    """The app's database (a fresh SQLite file with the demo), see tests/ui_support.py."""
    return app_db


# -- every page, every role ----------------------------------------------------------------------
@pytest.mark.parametrize("path", PAGES)
def test_admin_opens_each_page_through_the_app(url: str, path: str) -> None:
    at = app_as(url, "admin", path)
    assert values(at.title) == [TITLES[path]]
    assert ui_text.ACCESS_DENIED not in values(at.error)


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("who", ["judge", "viewer"])
def test_judges_and_viewers_have_no_way_in(url: str, path: str, who: str) -> None:
    """Not in their navigation, and the page itself refuses when run directly."""
    at = app_as(url, who)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(path)
    at = page(url, path, who)
    assert values(at.error) == [ui_text.ACCESS_DENIED]
    assert not at.title and not at.dataframe and not at.button
    assert not at.get("data_editor") and not at.get("download_button")


@pytest.mark.parametrize("path", PAGES)
def test_logged_out_is_refused(url: str, path: str) -> None:
    at = page(url, path, None)
    assert values(at.error) == [ui_text.ACCESS_DENIED]


# -- 轮次管理 -------------------------------------------------------------------------------------
def test_rounds_page_shows_every_round_and_the_lifecycle(url: str) -> None:
    at = page(url, ROUNDS, round_code="2026")
    table = at.dataframe[0].value
    assert list(table["code"]) == ["2026", "2025"]
    assert list(table["status_label"]) == ["评分中", "已发布"]
    assert any("**:blue[评分中]**" in m for m in values(at.markdown))
    labels = [b.label for b in at.button]
    assert "锁定" in labels and "退回筹备" in labels
    assert "发布" not in labels and "开始评分" not in labels


def test_lock_publish_and_unlock_with_reason_from_the_page(url: str) -> None:
    at = page(url, ROUNDS, round_code="2026")
    click(at, "锁定")
    assert status(url, "2026") == "locked"
    assert values(at.success) == ["轮次 2026 已从「评分中」改为「已锁定」。"]
    assert [b.label for b in at.button][:2] == ["发布", "解锁（退回评分中）"]

    click(at, "解锁（退回评分中）")  # no reason: refused, page still usable
    assert status(url, "2026") == "locked"
    assert any("需要填写原因" in e for e in values(at.error))
    assert at.dataframe  # the rest of the page is still there

    at.text_input(key="move_reason_2026").input("补录遗漏的评分")
    click(at, "解锁（退回评分中）")
    assert status(url, "2026") == "scoring"
    recorded = events(url)
    assert [(e["action"], e["source"], e["actor"]) for e in recorded] == [
        ("round.unlock", "web", "admin"),
        ("round.lock", "web", "admin"),
    ]
    assert recorded[0]["reason"] == "补录遗漏的评分"
    assert at.text_input(key="move_reason_2026").value == ""  # never reused by accident


def test_an_empty_new_round_says_what_to_do_before_opening(url: str) -> None:
    rounds.create_round(engine(url), actor=ADMIN, code="2027", name="空白轮次")
    at = page(url, ROUNDS, round_code="2027")
    assert ui_text.ROUND_EMPTY_PANEL.format(brands=0, judges=0) in values(at.warning)
    assert any(ui_text.PREVIEW_NO_SCORES in i for i in values(at.info))


def test_settings_quota_preview_and_save(url: str) -> None:
    at = page(url, ROUNDS, round_code="2025")
    # published: settings are frozen and described, not editable
    assert any("设置已冻结" in i for i in values(at.info))
    assert not at.get("data_editor")
    rounds.move_round(engine(url), actor=ADMIN, round_code="2025", move="unpublish", reason="复核")
    at.run()
    assert len(at.get("data_editor")) == 3
    assert metrics(at)[ui_text.PREVIEW_QUOTA] == "0"
    key = "settings_2025_0"
    at.session_state[f"{key}_quotas"] = editor(added=[{"label": "优秀", "percent": 10.0}])
    click(at, ui_text.SETTINGS_PREVIEW)
    shown = metrics(at)
    assert shown[ui_text.PREVIEW_QUOTA] == "4"  # six 优秀 in the demo, at most 2 (10% of 26)
    assert shown[ui_text.PREVIEW_DIFFERS] == "4"
    assert any(ui_text.PREVIEW_PROPOSED in c for c in values(at.caption))
    assert rounds.round_detail(engine(url), actor=ADMIN, round_code="2025").settings.quotas == ()

    at.session_state[f"{key}_quotas"] = editor(added=[{"label": "优秀", "percent": 10.0}])
    click(at, ui_text.SETTINGS_SAVE)
    saved = rounds.round_detail(engine(url), actor=ADMIN, round_code="2025").settings
    assert [(q.label, q.max_share) for q in saved.quotas] == [("优秀", 0.1)]
    assert values(at.success) == [ui_text.SETTINGS_SAVED.format(code="2025")]
    assert events(url)[0]["action"] == "round.settings"
    # the form now shows the saved quota, and the preview of the saved settings
    assert at.get("data_editor")[1].value.to_dict("records") == [{"label": "优秀", "percent": 10.0}]
    assert metrics(at)[ui_text.PREVIEW_QUOTA] == "4"
    assert metrics(at)[ui_text.PREVIEW_DIFFERS] == "0"


def test_settings_errors_are_shown_and_nothing_saved(url: str) -> None:
    at = page(url, ROUNDS, round_code="2026")
    before = rounds.round_detail(engine(url), actor=ADMIN, round_code="2026").settings
    at.session_state["settings_2026_0_vetoes"] = editor(
        added=[{"criterion": "群众影响", "percent": 60.0}]  # no grade chosen
    )
    click(at, ui_text.SETTINGS_SAVE)
    assert any("否决规则第 1 行没有填写完整" in e for e in values(at.error))
    assert rounds.round_detail(engine(url), actor=ADMIN, round_code="2026").settings == before
    assert events(url) == []


def test_new_round_from_the_page_is_selected(url: str) -> None:
    at = page(url, ROUNDS, round_code="2026")
    at.text_input(key="new_round_code").input("2027")
    at.text_input(key="new_round_name").input("2027年度评审")
    at.selectbox(key="new_round_copy").set_value("2026")
    click(at, ui_text.NEW_ROUND_BUTTON)
    assert values(at.success) == [ui_text.NEW_ROUND_DONE.format(code="2027")]
    assert at.session_state[pickers.ROUND_KEY] == "2027"
    assert status(url, "2027") == "draft"
    assert list(at.dataframe[0].value["code"]) == ["2027", "2026", "2025"]
    assert at.button[0].label == "开始评分"
    assert any(ui_text.PREVIEW_NO_SCORES in i for i in values(at.info))
    # the inputs were cleared; a duplicate is an error shown in place
    assert at.text_input(key="new_round_code").value == ""
    at.text_input(key="new_round_code").input("2027")
    at.text_input(key="new_round_name").input("重复")
    click(at, ui_text.NEW_ROUND_BUTTON)
    assert any("已存在" in e for e in values(at.error))
    assert [e["action"] for e in events(url)] == ["round.create"]


# -- 评分细则 -------------------------------------------------------------------------------------
@pytest.fixture
def draft_round(url: str) -> str:
    rounds.create_round(engine(url), actor=ADMIN, code="2027", name="2027年度", copy_from="2026")
    return url


def test_rubric_is_read_only_once_scoring_started(url: str) -> None:
    at = page(url, RUBRIC, round_code="2026")
    assert values(at.info)[-1] == ui_text.RUBRIC_FROZEN["scoring"]
    assert not at.get("data_editor")
    assert [b.label for b in at.button] == []
    assert metrics(at)[ui_text.RUBRIC_MAX_TOTAL] == "105"
    assert len(at.dataframe) == 1 + 6 + 1  # totals, six criteria, bonus


def test_rubric_editor_totals_follow_the_edits_and_save(draft_round: str) -> None:
    url = draft_round
    at = page(url, RUBRIC, round_code="2027")
    assert len(at.get("data_editor")) == 7
    assert metrics(at) == {
        ui_text.RUBRIC_CRITERIA_TOTAL: "100",
        ui_text.RUBRIC_BONUS_TOTAL: "5",
        ui_text.RUBRIC_MAX_TOTAL: "105",
    }
    key = "rubric_2027_1_0"
    # edit a maximum, add an item, remove one: totals are recomputed, not typed
    at.session_state[f"{key}_name"] = editor(
        {0: {"max_points": 8.0}},
        added=[{"label": "名称寓意", "max_points": 4.0, "guide": "寓意积极（4分）"}],
        deleted=[2],
    )
    at.run()
    # 品牌名称: 8 + 5 + 4 = 17 instead of 15, so the criteria sum to 102
    assert metrics(at)[ui_text.RUBRIC_CRITERIA_TOTAL] == "102"
    assert ui_text.RUBRIC_SUBTOTAL.format(points=17, n=3) in values(at.caption)
    assert metrics(at)[ui_text.RUBRIC_MAX_TOTAL] == "107"
    click(at, ui_text.RUBRIC_SAVE)
    assert values(at.success) == [ui_text.RUBRIC_SAVED.format(version=2)]
    stored = rounds.round_detail(engine(url), actor=ADMIN, round_code="2027").rubric
    name = stored.criterion("name")
    assert [(i.code, i.label, i.max_points) for i in name.items] == [
        ("name.concise", "名称凝练响亮", 8.0),
        ("name.logo", "标识设计规范", 5.0),
        ("name.1", "名称寓意", 4.0),
    ]
    assert stored.version == 2 and stored.max_total == 107
    recorded = events(url)[0]
    assert recorded["action"] == "rubric.update" and recorded["new"]["version"] == 2
    # the editor now starts from version 2
    assert metrics(at)[ui_text.RUBRIC_MAX_TOTAL] == "107"


def test_rubric_problems_block_the_save(draft_round: str) -> None:
    url = draft_round
    at = page(url, RUBRIC, round_code="2027")
    at.session_state["rubric_2027_1_0_impact"] = editor({0: {"label": "", "max_points": 0.0}})
    at.run()
    warning = "\n".join(values(at.warning))
    assert ui_text.RUBRIC_PROBLEMS in warning and "缺少名称" in warning and "必须为正数" in warning
    assert button(at, ui_text.RUBRIC_SAVE).disabled
    # the copied 2026 rubric (the default one, version 1) is untouched
    assert rounds.round_detail(engine(url), actor=ADMIN, round_code="2027").rubric == (
        default_rubric()
    )


def test_rubric_discard_and_unchanged_save(draft_round: str) -> None:
    url = draft_round
    at = page(url, RUBRIC, round_code="2027")
    click(at, ui_text.RUBRIC_SAVE)
    assert values(at.success) == [ui_text.RUBRIC_UNCHANGED]
    assert events(url)[0]["action"] == "round.create"  # nothing recorded for the no-op
    at.session_state["rubric_2027_1_1_name"] = editor({0: {"max_points": 9.0}})
    at.run()
    assert metrics(at)[ui_text.RUBRIC_MAX_TOTAL] == "109"
    click(at, ui_text.RUBRIC_DISCARD)
    assert metrics(at)[ui_text.RUBRIC_MAX_TOTAL] == "105"


def test_rubric_save_after_someone_else_saved_is_refused(draft_round: str) -> None:
    url = draft_round
    at = page(url, RUBRIC, round_code="2027")
    other = rounds.round_detail(engine(url), actor=ADMIN, round_code="2027").rubric
    rounds.update_rubric(
        engine(url), actor=ADMIN, round_code="2027", rubric=replace(other, bonus_cap=4.0)
    )
    at.session_state["rubric_2027_1_0_name"] = editor({0: {"max_points": 9.0}})
    click(at, ui_text.RUBRIC_SAVE)
    assert any("已被他人修改" in e for e in values(at.error))
    assert rounds.round_detail(engine(url), actor=ADMIN, round_code="2027").rubric.bonus_cap == 4.0


# -- 操作日志 -------------------------------------------------------------------------------------
def test_audit_page_empty_state(url: str) -> None:
    at = page(url, AUDIT)
    assert values(at.info)[-1] == ui_text.AUDIT_EMPTY
    assert not at.dataframe


def test_audit_page_filters_and_export(url: str) -> None:
    e = engine(url)
    rounds.create_round(e, actor=ADMIN, code="2027", name="x")
    rounds.move_round(e, actor=Actor.cli(), round_code="2025", move="unpublish", reason="复核")
    at = page(url, AUDIT)
    table = at.dataframe[0].value
    assert list(table["操作"]) == ["撤回发布", "新建轮次"]
    assert list(table["原因"]) == ["复核", ""]
    assert [b.label for b in at.get("download_button")] == [ui_text.AUDIT_EXPORT]
    assert any("共 2 条记录" in c for c in values(at.caption))
    assert at.selectbox(key="audit_round").options == [ui_text.AUDIT_ALL, "2027", "2025"]

    at.selectbox(key="audit_round").set_value("2025").run()
    assert list(at.dataframe[0].value["操作"]) == ["撤回发布"]
    at.selectbox(key="audit_round").set_value(None)
    at.selectbox(key="audit_user").set_value("admin").run()
    assert list(at.dataframe[0].value["操作"]) == ["新建轮次"]
    assert at.selectbox(key="audit_entity").options == [ui_text.AUDIT_ALL, "轮次"]
    at.selectbox(key="audit_round").set_value("2025").run()  # 2025 was changed by the CLI
    assert values(at.info)[-1] == ui_text.AUDIT_NO_MATCH
    assert not at.dataframe
