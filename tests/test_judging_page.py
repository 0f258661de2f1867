"""The 评委打分 page through AppTest: fill, save a draft, submit, switch brands, conflicts.

The page is opened inside ``app.py`` as a logged-in judge. The demo judge (J01 王建华)
has submitted everything, so most tests log in as an account made for J05 刘志强, who
has brands not yet started (B014 first). Every claim about storage is checked in the
database, not only on screen.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col, select
from streamlit.testing.v1 import AppTest

from evalcore import db
from evalcore.db import transaction
from evalcore.models import Brand, Judge, Round, Score, ScoreSheet
from evalcore.permissions import Actor
from evalcore.rubric import default_rubric
from evalcore.services import accounts, judging
from tests.ui_support import APP, ROOT, SESSION_KEY, app_as, app_db, cookie_for  # noqa: F401
from ui import text

PAGE = "pages/judge_scoring.py"
ROUND = "2026"
RUBRIC = default_rubric()
FIRST_NEW = "B014"  # J05's first brand not started in the demo
OTHER_JUDGES = ("李淑芬", "陈国栋", "孙德明", "刘志强", "赵敏", "周海燕")


def key(brand: str, item: str) -> str:
    return f"score:{ROUND}:{brand}:{item}"


def comment_key(brand: str) -> str:
    return f"comment:{ROUND}:{brand}"


def open_as_j05(url: str) -> AppTest:
    accounts.create_user(
        db.get_engine(url),
        actor=Actor.cli(),
        username="liu",
        password="liu-pass-1",
        role="judge",
        judge="J05",
    )
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state[SESSION_KEY] = cookie_for(url, "liu", "liu-pass-1")
    at.run()
    assert not at.exception, at.exception
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def fill(at: AppTest, brand: str, values: dict[str, float]) -> AppTest:
    for item, value in values.items():
        at.number_input(key=key(brand, item)).set_value(value)
    at.run()
    assert not at.exception, at.exception
    return at


def click(at: AppTest, button_key: str) -> AppTest:
    at.button(key=button_key).click().run()
    assert not at.exception, at.exception
    return at


def stored(url: str, brand: str, judge: str = "J05") -> tuple[dict[str, Any], Any]:
    """The judge's cells (item -> (value, source)) and sheet row (comment, status)."""
    with transaction(db.get_engine(url)) as session:
        ids = (
            session.exec(select(Round.id).where(Round.code == ROUND)).one(),
            session.exec(select(Brand.id).where(Brand.code == brand)).one(),
            session.exec(select(Judge.id).where(Judge.code == judge)).one(),
        )
        rows = session.exec(
            select(Score.item, Score.value, Score.source).where(
                Score.round_id == ids[0], Score.brand_id == ids[1], Score.judge_id == ids[2]
            )
        ).all()
        sheet = session.get(ScoreSheet, ids)
        return {i: (v, s) for i, v, s in rows}, (
            None if sheet is None else (sheet.comment, sheet.status)
        )


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def texts(at: AppTest) -> str:
    """Everything the page says, to check what it must never show."""
    parts = [
        e.value
        for kind in ("markdown", "caption", "info", "success", "warning")
        for e in at.get(kind)
    ]
    parts += [e.label for e in at.expander] + [m.value for m in at.metric]
    parts += [str(o) for s in at.selectbox for o in s.options]
    parts += [d.value.to_string() for d in at.dataframe]
    return "\n".join(str(p) for p in parts)


def set_round(url: str, **values: Any) -> None:
    with transaction(db.get_engine(url)) as session:
        session.execute(update(Round).where(col(Round.code) == ROUND).values(**values))


# -- the journey ---------------------------------------------------------------------------
def test_fill_save_draft_then_submit(app_db: str) -> None:  # noqa: F811
    at = open_as_j05(app_db)
    assert at.title[0].value == text.SCORING_TITLE
    assert "刘志强" in at.caption[0].value
    assert at.selectbox(key=f"judging_brand:{ROUND}").value == FIRST_NEW
    progress = at.get("progress")[0].proto.text
    assert "已提交 18 / 21" in progress and "未开始 3" in progress
    assert metric(at, text.SCORING_TOTAL) == "0 / 105"
    # 评分标准 is shown with each sub-indicator.
    assert any("名称简洁凝练" in c.value for c in at.caption)
    assert at.number_input(key=key(FIRST_NEW, "name.concise")).max == 5.0

    fill(at, FIRST_NEW, {"name.concise": 4.5, "name.logo": 3.0, "bonus.award": 3.0})
    # Live subtotal and total, before anything is saved.
    assert metric(at, text.SCORING_TOTAL) == "10.5 / 105"
    assert any("品牌名称" in e.label and "小计 7.5 / 15" in e.label for e in at.expander)
    assert stored(app_db, FIRST_NEW) == ({}, None)

    click(at, "judging_save")
    assert any("已保存草稿（3 项评分有改动）" in s.value for s in at.success)
    cells, sheet = stored(app_db, FIRST_NEW)
    assert cells == {
        "name.concise": (4.5, "web"),
        "name.logo": (3.0, "web"),
        "bonus.award": (3.0, "web"),
    }
    assert sheet == ("", "draft")
    assert at.number_input(key=key(FIRST_NEW, "name.concise")).value == 4.5  # kept on screen

    # Submitting an incomplete sheet names what is missing; nothing changes.
    click(at, "judging_submit")
    assert any("尚未填写" in e.value and "品牌名称-名称与主责主业契合" in e.value for e in at.error)
    assert stored(app_db, FIRST_NEW)[1] == ("", "draft")

    fill(at, FIRST_NEW, {code: 4.0 for code in RUBRIC.criterion_item_codes})
    at.text_area(key=comment_key(FIRST_NEW)).input("特色鲜明，建议加强宣传。").run()
    click(at, "judging_submit")
    assert any("已提交" in s.value for s in at.success)
    cells, sheet = stored(app_db, FIRST_NEW)
    assert sheet == ("特色鲜明，建议加强宣传。", "submitted")
    assert len(cells) == 19 and cells["name.concise"] == (4.0, "web")
    # Now read-only, and the worklist moved on.
    assert at.number_input(key=key(FIRST_NEW, "name.fit")).disabled
    assert at.button(key="judging_save").disabled and at.button(key="judging_submit").disabled
    assert "已提交 19 / 21" in at.get("progress")[0].proto.text


def test_switching_brands_and_pages_loses_nothing(app_db: str) -> None:  # noqa: F811
    at = open_as_j05(app_db)
    fill(at, FIRST_NEW, {"name.concise": 2.5})
    at.text_area(key=comment_key(FIRST_NEW)).input("未完").run()
    # 下一个 goes to the next brand not yet submitted.
    click(at, "judging_next")
    picker = at.selectbox(key=f"judging_brand:{ROUND}")
    following = picker.value
    assert following != FIRST_NEW
    work = judging.worklist(
        db.get_engine(app_db),
        actor=accounts.login(db.get_engine(app_db), username="liu", password="liu-pass-1").actor,
        round_code=ROUND,
    )
    assert work.status_of(following) is not judging.SheetStatus.SUBMITTED
    assert any(f"有未保存修改的品牌：{FIRST_NEW}（" in c.value for c in at.caption)
    # Another page, and back: the typed value and comment are still there, unsaved.
    at.switch_page("pages/overview.py").run()
    at.switch_page(PAGE).run()
    at.selectbox(key=f"judging_brand:{ROUND}").set_value(FIRST_NEW).run()
    assert at.number_input(key=key(FIRST_NEW, "name.concise")).value == 2.5
    assert at.text_area(key=comment_key(FIRST_NEW)).value == "未完"
    assert stored(app_db, FIRST_NEW) == ({}, None)
    click(at, "judging_save")
    assert stored(app_db, FIRST_NEW) == ({"name.concise": (2.5, "web")}, ("未完", "draft"))


def test_a_low_total_asks_for_a_comment(app_db: str) -> None:  # noqa: F811
    with transaction(db.get_engine(app_db)) as session:
        rnd = session.exec(select(Round).where(Round.code == ROUND)).one()
        rnd.settings = {**rnd.settings, "comment_below": 60}
    at = open_as_j05(app_db)
    fill(at, FIRST_NEW, {code: 1.0 for code in RUBRIC.criterion_item_codes})
    assert any("当前总分 18 低于 60 分，提交前须填写评语" in w.value for w in at.warning)
    click(at, "judging_submit")
    assert any("总分 18 低于 60 分，提交前须填写评语" in e.value for e in at.error)
    assert stored(app_db, FIRST_NEW)[1] is None
    at.text_area(key=comment_key(FIRST_NEW)).input("材料不足").run()
    assert not at.warning
    click(at, "judging_submit")
    assert stored(app_db, FIRST_NEW)[1] == ("材料不足", "submitted")


def test_a_change_made_elsewhere_is_not_overwritten(app_db: str) -> None:  # noqa: F811
    at = open_as_j05(app_db)
    fill(at, FIRST_NEW, {"name.concise": 5.0})
    # Meanwhile an admin import writes the same cell.
    with transaction(db.get_engine(app_db)) as session:
        session.add(
            Score(
                round_id=session.exec(select(Round.id).where(Round.code == ROUND)).one(),
                brand_id=session.exec(select(Brand.id).where(Brand.code == FIRST_NEW)).one(),
                judge_id=session.exec(select(Judge.id).where(Judge.code == "J05")).one(),
                item="name.concise",
                value=1.5,
                source="import:1",
            )
        )
    click(at, "judging_save")
    assert [e.value for e in at.error] == [judging.CONFLICT]
    assert any(text.SCORING_STALE in w.value for w in at.warning)
    assert stored(app_db, FIRST_NEW)[0] == {"name.concise": (1.5, "import:1")}
    # 刷新 loads what is stored; then saving works again.
    click(at, "judging_refresh")
    assert at.number_input(key=key(FIRST_NEW, "name.concise")).value == 1.5
    assert not at.warning
    fill(at, FIRST_NEW, {"name.logo": 2.0})
    click(at, "judging_save")
    assert stored(app_db, FIRST_NEW)[0] == {
        "name.concise": (1.5, "import:1"),
        "name.logo": (2.0, "web"),
    }


def test_a_locked_round_is_read_only(app_db: str) -> None:  # noqa: F811
    at = open_as_j05(app_db)
    fill(at, FIRST_NEW, {"name.concise": 5.0})
    set_round(app_db, status="locked")
    at.run()
    notice = text.SCORING_READONLY.format(status="已锁定")
    assert any(i.value == notice for i in at.info)
    assert at.number_input(key=key(FIRST_NEW, "name.concise")).disabled
    assert at.number_input(key=key(FIRST_NEW, "name.concise")).value is None  # what is stored
    assert at.button(key="judging_save").disabled and at.button(key="judging_submit").disabled
    assert stored(app_db, FIRST_NEW) == ({}, None)


# -- blind judging and roles ---------------------------------------------------------------
def test_the_demo_judge_sees_only_their_own_scores(app_db: str) -> None:  # noqa: F811
    at = app_as(app_db, "judge", PAGE)
    assert "王建华" in at.caption[0].value
    brand = at.selectbox(key=f"judging_brand:{ROUND}").value  # B001: submitted in the demo
    own = stored(app_db, brand, "J01")[0]
    for item, (value, _) in own.items():
        field = at.number_input(key=key(brand, item))
        assert field.value == value and field.disabled
    shown = texts(at)
    assert not [name for name in OTHER_JUDGES if name in shown]


def test_viewer_and_admin_are_refused(app_db: str) -> None:  # noqa: F811
    # Not in their navigation at all...
    for who in ("viewer", "admin"):
        at = app_as(app_db, who)
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(PAGE)
    # ...and the page itself refuses when run directly.
    for who, message in (("viewer", text.ACCESS_DENIED), ("admin", text.SCORING_NOT_A_JUDGE)):
        at = AppTest.from_file(str(ROOT / PAGE), default_timeout=30)
        at.session_state[SESSION_KEY] = cookie_for(app_db, who)
        at.run()
        assert not at.exception, at.exception
        assert [e.value for e in at.error] == [message]
        assert not at.number_input and not at.selectbox
