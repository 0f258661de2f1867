"""Web scoring at the service layer, on SQLite and PostgreSQL, for every role.

The demo round 2026 is 评分中. The demo judge account (``judge``) is J01 王建华, who has
submitted every brand; J05 刘志强 works in unit U01, so B001-B005 are recused, and is
behind on a few brands (未开始) - the tests score those through an account made for J05.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, func, update
from sqlmodel import col, select

from evalcore.db import transaction
from evalcore.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from evalcore.models import (
    Assignment,
    AuditEvent,
    Brand,
    ConflictDeclaration,
    Judge,
    Round,
    Score,
    ScoreSheet,
)
from evalcore.permissions import Actor, Role
from evalcore.rubric import default_rubric
from evalcore.services import accounts, judging
from evalcore.services.judging import CONFLICT, SheetStatus
from evalcore.store import assigned_pairs

ROUND = "2026"
RUBRIC = default_rubric()
ITEMS = RUBRIC.item_codes
CRITERION_ITEMS = RUBRIC.criterion_item_codes
#: A complete sheet: every criterion item at 4 points, no bonus (total 72).
FULL = {code: 4.0 for code in CRITERION_ITEMS}


# -- helpers -------------------------------------------------------------------------------
def login(engine: Engine, username: str, password: str) -> Actor:
    return accounts.login(engine, username=username, password=password).actor


def j05(engine: Engine) -> Actor:
    """A judge account for J05 刘志强 (unit U01: recused from B001-B005)."""
    accounts.create_user(
        engine, actor=Actor.cli(), username="liu", password="liu-pass-1", role="judge", judge="J05"
    )
    return login(engine, "liu", "liu-pass-1")


def demo_judge(engine: Engine) -> Actor:
    return login(engine, "judge", "judge123")


def new_brand(engine: Engine, actor: Actor) -> str:
    """A brand the judge has not started."""
    entries = judging.worklist(engine, actor=actor, round_code=ROUND).entries
    return str(entries.loc[entries["status"] == "new", "brand_code"].iloc[0])


def cells(engine: Engine, brand: str, judge: str) -> pd.DataFrame:
    """The stored cells of one sheet, indexed by item."""
    with transaction(engine) as session:
        rows = session.exec(
            select(Score.item, Score.value, Score.version, Score.source, Score.updated_at)
            .join(Brand, col(Brand.id) == Score.brand_id)
            .join(Judge, col(Judge.id) == Score.judge_id)
            .join(Round, col(Round.id) == Score.round_id)
            .where(Round.code == ROUND, Brand.code == brand, Judge.code == judge)
        ).all()
    frame = pd.DataFrame(
        [tuple(r) for r in rows], columns=["item", "value", "version", "source", "updated_at"]
    )
    return frame.set_index("item")


def sheet_row(engine: Engine, brand: str, judge: str) -> tuple[str, str] | None:
    with transaction(engine) as session:
        row = session.exec(
            select(ScoreSheet.comment, ScoreSheet.status)
            .join(Brand, col(Brand.id) == ScoreSheet.brand_id)
            .join(Judge, col(Judge.id) == ScoreSheet.judge_id)
            .join(Round, col(Round.id) == ScoreSheet.round_id)
            .where(Round.code == ROUND, Brand.code == brand, Judge.code == judge)
        ).first()
    return None if row is None else (row[0], row[1])


def audit_rows(engine: Engine) -> list[AuditEvent]:
    with transaction(engine) as session:
        return list(session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all())


def revision(engine: Engine) -> int:
    with transaction(engine) as session:
        return session.exec(select(Round.revision).where(Round.code == ROUND)).one()


def n_scores(engine: Engine) -> int:
    with transaction(engine) as session:
        return session.exec(select(func.count()).select_from(Score)).one()


def set_round(engine: Engine, **values: Any) -> None:
    """Change the round behind the services' back (another admin, another replica)."""
    with transaction(engine) as session:
        session.execute(update(Round).where(col(Round.code) == ROUND).values(**values))


def snapshot(engine: Engine) -> tuple[Any, ...]:
    """Everything a refused save must leave untouched."""
    with transaction(engine) as session:
        scores = session.exec(
            select(Score.id, Score.value, Score.version).order_by(col(Score.id))
        ).all()
        sheets = session.exec(
            select(ScoreSheet.brand_id, ScoreSheet.judge_id, ScoreSheet.comment, ScoreSheet.status)
        ).all()
    return (
        [tuple(r) for r in scores],
        sorted(tuple(r) for r in sheets),
        len(audit_rows(engine)),
        revision(engine),
    )


def save(
    engine: Engine, actor: Actor, brand: str, sheet: judging.Sheet, **kwargs: Any
) -> judging.SaveResult:
    kwargs.setdefault("values", {})
    kwargs.setdefault("comment", sheet.comment)
    return judging.save_sheet(
        engine, actor=actor, round_code=ROUND, brand_code=brand, loaded=sheet.loaded, **kwargs
    )


# -- the worklist --------------------------------------------------------------------------
def test_worklist_is_assignment_minus_recusal_minus_conflicts(demo_engine: Engine) -> None:
    actor = j05(demo_engine)
    work = judging.worklist(demo_engine, actor=actor, round_code=ROUND)
    assert (work.judge_code, work.judge_name) == ("J05", "刘志强")
    assert work.round_open
    assert not {"B001", "B002", "B003", "B004", "B005"} & set(work.codes)  # U01: recused
    assert len(work.codes) == 21
    with transaction(demo_engine) as session:
        rnd = session.exec(select(Round).where(Round.code == ROUND)).one()
        pairs = assigned_pairs(session.connection(), rnd.id)
        brand_codes = dict(session.exec(select(Brand.id, Brand.code)).all())
    assert work.codes == sorted(
        brand_codes[b] for b in pairs.loc[pairs["judge_id"] == 5, "brand_id"]
    )
    # Progress: done / draft / not started add up; J05 is behind on a few brands.
    assert work.done + work.count(SheetStatus.DRAFT) + work.count(SheetStatus.NEW) == work.size
    assert work.count(SheetStatus.NEW) >= 1 and work.done >= 1
    assert set(work.entries["status_label"]) <= {"已提交", "草稿", "未开始"}
    assert math.isclose(work.fraction, work.done / work.size)

    # A declared conflict and a withdrawn assignment take brands off the list.
    with transaction(demo_engine) as session:
        ids = dict(session.exec(select(Brand.code, Brand.id)).all())
        session.add(
            ConflictDeclaration(
                round_id=rnd.id, brand_id=ids["B006"], judge_id=5, reason="亲属在该支部"
            )
        )
        session.execute(
            Assignment.__table__.delete().where(
                Assignment.round_id == rnd.id,
                Assignment.brand_id == ids["B007"],
                Assignment.judge_id == 5,
            )
        )
    codes = judging.worklist(demo_engine, actor=actor, round_code=ROUND).codes
    assert "B006" not in codes and "B007" not in codes and len(codes) == 19
    for gone in ("B006", "B007"):
        with pytest.raises(NotFound):
            judging.load_sheet(demo_engine, actor=actor, round_code=ROUND, brand_code=gone)


def test_demo_judge_has_the_last_three_brands_left_to_score(demo_engine: Engine) -> None:
    work = judging.worklist(demo_engine, actor=demo_judge(demo_engine), round_code=ROUND)
    assert (work.judge_code, work.judge_name, work.size) == ("J01", "王建华", 26)
    assert work.done == 23
    untouched = work.entries.loc[work.entries["filled"] == 0, "brand_code"]
    assert sorted(untouched) == ["B024", "B025", "B026"]


@pytest.mark.parametrize("brand", ["B001", "B005", "B999"])
def test_a_brand_that_is_not_yours_is_refused_and_reveals_nothing(
    demo_engine: Engine, brand: str
) -> None:
    """Recused (B001, B005) and nonexistent (B999) get the very same answer."""
    actor = j05(demo_engine)
    with pytest.raises(NotFound) as refused:
        judging.load_sheet(demo_engine, actor=actor, round_code=ROUND, brand_code=brand)
    assert refused.value.message == f"你的评分任务中没有编号为 {brand} 的品牌"
    # A forged token does not help either; nothing is written.
    before = snapshot(demo_engine)
    forged = judging.SheetToken(ROUND, brand, 5, (), None, None)
    with pytest.raises(NotFound) as again:
        judging.save_sheet(
            demo_engine,
            actor=actor,
            round_code=ROUND,
            brand_code=brand,
            values=FULL,
            comment="",
            loaded=forged,
            submit=True,
        )
    assert again.value.message == refused.value.message
    assert snapshot(demo_engine) == before


@pytest.mark.parametrize("who", ["admin", "viewer", "cli"])
def test_accounts_without_a_judge_cannot_score(demo_engine: Engine, who: str) -> None:
    actor = {
        "admin": lambda: login(demo_engine, "admin", "admin123"),
        "viewer": lambda: login(demo_engine, "viewer", "viewer123"),
        "cli": Actor.cli,
    }[who]()
    judge = j05(demo_engine)
    brand = new_brand(demo_engine, judge)
    sheet = judging.load_sheet(demo_engine, actor=judge, round_code=ROUND, brand_code=brand)
    before = snapshot(demo_engine)
    with pytest.raises(PermissionDenied):
        judging.worklist(demo_engine, actor=actor, round_code=ROUND)
    with pytest.raises(PermissionDenied):
        judging.load_sheet(demo_engine, actor=actor, round_code=ROUND, brand_code=brand)
    with pytest.raises(PermissionDenied) as denied:
        judging.save_sheet(
            demo_engine,
            actor=actor,
            round_code=ROUND,
            brand_code=brand,
            values=FULL,
            comment="",
            loaded=sheet.loaded,
            submit=True,
        )
    assert "评分" in denied.value.message
    assert snapshot(demo_engine) == before


def test_a_judge_role_without_a_judge_record_is_refused(demo_engine: Engine) -> None:
    ghost = Actor(username="ghost", role=Role.JUDGE, judge_id=None)
    with pytest.raises(PermissionDenied):
        judging.worklist(demo_engine, actor=ghost, round_code=ROUND)


# -- blind judging -------------------------------------------------------------------------
def test_a_sheet_holds_only_the_judges_own_scores(demo_engine: Engine) -> None:
    actor = demo_judge(demo_engine)
    sheet = judging.load_sheet(demo_engine, actor=actor, round_code=ROUND, brand_code="B010")
    own = cells(demo_engine, "B010", "J01")["value"].to_dict()
    assert {k: v for k, v in sheet.values.items() if v is not None} == own
    others = [cells(demo_engine, "B010", j)["value"].to_dict() for j in ("J02", "J03", "J04")]
    assert all(o != own for o in others)  # the demo's judges disagree: nothing leaked in
    assert sheet.status is SheetStatus.SUBMITTED and not sheet.writable
    assert (sheet.brand.name, sheet.brand.unit) == (
        "守护群众生命安全 红十字“救”在身边",
        "市红十字会党组",
    )
    assert sheet.brand.slogan and sheet.brand.description and sheet.brand.category
    assert sheet.rubric == RUBRIC
    assert sheet.rubric.criterion("mechanism").items[0].deductions  # 扣分规则 travel along
    work = judging.worklist(demo_engine, actor=actor, round_code=ROUND)
    mine = work.entries.set_index("brand_code").loc["B010", "total"]
    assert mine == pytest.approx(sheet.totals.total)


# -- saving --------------------------------------------------------------------------------
def test_draft_then_submit(demo_engine: Engine) -> None:
    actor = j05(demo_engine)
    brand = new_brand(demo_engine, actor)
    sheet = judging.load_sheet(demo_engine, actor=actor, round_code=ROUND, brand_code=brand)
    assert sheet.status is SheetStatus.NEW and sheet.writable and sheet.loaded.cells == ()
    audit0, rev0 = len(audit_rows(demo_engine)), revision(demo_engine)

    draft = {"name.concise": 4.5, "name.logo": 3.0, "bonus.award": 1.0}
    result = save(demo_engine, actor, brand, sheet, values=draft, comment="初评")
    assert result.saved and result.changed == 3 and not result.submitted
    stored = cells(demo_engine, brand, "J05")
    assert stored["value"].to_dict() == draft
    assert set(stored["source"]) == {"web"} and set(stored["version"]) == {1}
    assert stored["updated_at"].notna().all()
    assert sheet_row(demo_engine, brand, "J05") == ("初评", "draft")
    assert revision(demo_engine) == rev0 + 1
    events = audit_rows(demo_engine)[audit0:]
    assert len(events) == 1
    event = events[0]
    assert (event.action, event.entity, event.entity_key, event.round_code) == (
        "score.save",
        "score",
        f"{ROUND}/{brand}/J05",
        ROUND,
    )
    assert (event.actor, event.role, event.source) == ("liu", "judge", "web")
    assert event.old == {
        "cells": {"name.concise": None, "name.logo": None, "bonus.award": None},
        "comment": "",
        "status": None,
    }
    assert event.new["cells"] == draft and event.new["status"] == "draft"
    assert result.sheet.status is SheetStatus.DRAFT
    entries = judging.worklist(demo_engine, actor=actor, round_code=ROUND).entries
    assert entries.set_index("brand_code").loc[brand, "status_label"] == "草稿"

    # Change one cell: only it is written (version 2) and audited old -> new.
    sheet = result.sheet
    result = save(demo_engine, actor, brand, sheet, values={**sheet.values, "name.logo": 5.0})
    assert result.changed == 1
    stored = cells(demo_engine, brand, "J05")
    assert stored.loc["name.logo", ["value", "version"]].tolist() == [5.0, 2]
    assert stored.loc["name.concise", "version"] == 1
    event = audit_rows(demo_engine)[-1]
    assert event.old == {"cells": {"name.logo": 3.0}}
    assert event.new == {"cells": {"name.logo": 5.0}, "total": 10.5}

    # Submit the complete sheet; bonus.innovation stays blank (= 0).
    sheet = result.sheet
    result = save(
        demo_engine, actor, brand, sheet, values={**FULL, "bonus.award": 1.0}, submit=True
    )
    assert result.submitted and result.sheet.status is SheetStatus.SUBMITTED
    assert not result.sheet.writable
    assert result.sheet.totals.total == 73.0
    assert sheet_row(demo_engine, brand, "J05") == ("初评", "submitted")
    assert "bonus.innovation" not in cells(demo_engine, brand, "J05").index
    assert audit_rows(demo_engine)[-1].action == "score.submit"
    assert len(audit_rows(demo_engine)) == audit0 + 3
    assert revision(demo_engine) == rev0 + 3
    work = judging.worklist(demo_engine, actor=actor, round_code=ROUND)
    assert work.status_of(brand) is SheetStatus.SUBMITTED

    # Submitted: the judge cannot change it any more.
    before = snapshot(demo_engine)
    with pytest.raises(Conflict, match="已提交"):
        save(demo_engine, actor, brand, result.sheet, values={"name.fit": 1.0})
    assert snapshot(demo_engine) == before


def test_clearing_a_cell_of_a_draft_deletes_it(demo_engine: Engine) -> None:
    actor = j05(demo_engine)
    brand = new_brand(demo_engine, actor)
    sheet = judging.load_sheet(demo_engine, actor=actor, round_code=ROUND, brand_code=brand)
    sheet = save(demo_engine, actor, brand, sheet, values={"name.fit": 2.0, "name.logo": 1}).sheet
    result = save(demo_engine, actor, brand, sheet, values={"name.fit": None})
    assert result.changed == 1 and result.sheet.values["name.fit"] is None
    assert cells(demo_engine, brand, "J05").index.tolist() == ["name.logo"]
    assert audit_rows(demo_engine)[-1].old == {"cells": {"name.fit": 2.0}}


def test_saving_nothing_writes_nothing(demo_engine: Engine) -> None:
    actor = j05(demo_engine)
    brand = new_brand(demo_engine, actor)
    sheet = judging.load_sheet(demo_engine, actor=actor, round_code=ROUND, brand_code=brand)
    before = snapshot(demo_engine)
    result = save(demo_engine, actor, brand, sheet, values={"name.fit": None}, comment="  ")
    assert not result.saved and result.changed == 0
    assert snapshot(demo_engine) == before


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"name.concise": 5.5}, "「品牌名称-名称凝练响亮」的得分须在 0 到 5 分之间（当前 5.5）"),
        ({"mechanism.leadership": -1}, "「创建机制-组织领导与责任分工」的得分须在 0 到 7 分之间"),
        ({"bonus.award": 4}, "「加分项-上级表彰」的得分须在 0 到 3 分之间"),
        ({"impact.effect": float("nan")}, "「群众影响-服务成效」的得分须在 0 到 5 分之间"),
        ({"impact.effect": float("inf")}, "「群众影响-服务成效」的得分须在 0 到 5 分之间"),
        ({"name.fit": "五"}, "「品牌名称-名称与主责主业契合」的得分必须是数字"),
        ({"nope": 1}, "评分表中没有指标 nope"),
    ],
)
def test_values_are_bounded_server_side(
    sqlite_demo: Engine, values: dict[str, Any], expected: str
) -> None:
    """The rule table (not about storage: SQLite only; both backends just below)."""
    actor = j05(sqlite_demo)
    brand = new_brand(sqlite_demo, actor)
    sheet = judging.load_sheet(sqlite_demo, actor=actor, round_code=ROUND, brand_code=brand)
    before = snapshot(sqlite_demo)
    with pytest.raises(InvalidInput) as bad:
        save(sqlite_demo, actor, brand, sheet, values={"name.logo": 2.0, **values})
    assert expected in bad.value.message
    assert snapshot(sqlite_demo) == before


def test_out_of_range_writes_nothing_and_reports_every_problem(demo_engine: Engine) -> None:
    actor = j05(demo_engine)
    brand = new_brand(demo_engine, actor)
    sheet = judging.load_sheet(demo_engine, actor=actor, round_code=ROUND, brand_code=brand)
    before = snapshot(demo_engine)
    with pytest.raises(InvalidInput) as bad:
        save(demo_engine, actor, brand, sheet, values={"name.concise": 9, "name.logo": -2})
    assert bad.value.fields["problems"] == [
        "「品牌名称-名称凝练响亮」的得分须在 0 到 5 分之间（当前 9）",
        "「品牌名称-标识设计规范」的得分须在 0 到 5 分之间（当前 -2）",
    ]
    assert snapshot(demo_engine) == before  # not even the revision moved


def test_a_submitted_sheet_must_be_complete(demo_engine: Engine) -> None:
    actor = j05(demo_engine)
    brand = new_brand(demo_engine, actor)
    sheet = judging.load_sheet(demo_engine, actor=actor, round_code=ROUND, brand_code=brand)
    partial = {k: v for k, v in FULL.items() if k not in ("name.logo", "impact.publicity")}
    before = snapshot(demo_engine)
    with pytest.raises(InvalidInput) as bad:
        save(demo_engine, actor, brand, sheet, values=partial, submit=True)
    assert "品牌名称-标识设计规范" in bad.value.message
    assert "群众影响-宣传推广与示范辐射" in bad.value.message
    assert snapshot(demo_engine) == before
    # The same values save fine as a draft.
    assert save(demo_engine, actor, brand, sheet, values=partial).saved


def test_a_low_total_needs_a_comment_to_submit(demo_engine: Engine) -> None:
    with transaction(demo_engine) as session:
        rnd = session.exec(select(Round).where(Round.code == ROUND)).one()
        rnd.settings = {**rnd.settings, "comment_below": 80}
    actor = j05(demo_engine)
    brand = new_brand(demo_engine, actor)
    sheet = judging.load_sheet(demo_engine, actor=actor, round_code=ROUND, brand_code=brand)
    assert sheet.comment_below == 80 and sheet.comment_required(72.0)
    with pytest.raises(InvalidInput, match="总分 72 低于 80 分，提交前须填写评语"):
        save(demo_engine, actor, brand, sheet, values=FULL, comment=" ", submit=True)
    sheet = save(demo_engine, actor, brand, sheet, values=FULL, comment="").sheet  # a draft may
    result = save(demo_engine, actor, brand, sheet, comment="材料不全，机制待完善", submit=True)
    assert result.submitted
    assert sheet_row(demo_engine, brand, "J05") == ("材料不全，机制待完善", "submitted")
    # At or above the threshold no comment is needed.
    other = new_brand(demo_engine, actor)
    sheet = judging.load_sheet(demo_engine, actor=actor, round_code=ROUND, brand_code=other)
    high = {code: float(m) for code, m in RUBRIC.item_max().items()}
    assert save(demo_engine, actor, other, sheet, values=high, comment="", submit=True).submitted


# -- the round must be 评分中, checked in the writing transaction -----------------------------
@pytest.mark.parametrize("status", ["locked", "published", "draft"])
def test_locking_between_load_and_save_refuses_the_save(demo_engine: Engine, status: str) -> None:
    actor = j05(demo_engine)
    brand = new_brand(demo_engine, actor)
    sheet = judging.load_sheet(demo_engine, actor=actor, round_code=ROUND, brand_code=brand)
    set_round(demo_engine, status=status)
    before = snapshot(demo_engine)
    with pytest.raises(Conflict, match="只有「评分中」的轮次可以录入评分"):
        save(demo_engine, actor, brand, sheet, values=FULL, submit=True)
    assert snapshot(demo_engine) == before  # no score, no sheet, no audit row, same revision
    # Reading stays possible, read-only.
    again = judging.load_sheet(demo_engine, actor=actor, round_code=ROUND, brand_code=brand)
    assert not again.round_open and not again.writable
    assert not judging.worklist(demo_engine, actor=actor, round_code=ROUND).round_open


# -- optimistic concurrency ----------------------------------------------------------------
def test_two_tabs_the_second_save_is_refused(demo_engine: Engine) -> None:
    actor = j05(demo_engine)
    brand = new_brand(demo_engine, actor)
    sheet = judging.load_sheet(demo_engine, actor=actor, round_code=ROUND, brand_code=brand)
    sheet = save(demo_engine, actor, brand, sheet, values={"name.concise": 1.0}).sheet
    tab1 = judging.load_sheet(demo_engine, actor=actor, round_code=ROUND, brand_code=brand)
    tab2 = judging.load_sheet(demo_engine, actor=actor, round_code=ROUND, brand_code=brand)
    assert tab1.loaded == tab2.loaded
    save(demo_engine, actor, brand, tab1, values={"name.concise": 3.0})
    before = snapshot(demo_engine)
    with pytest.raises(Conflict) as clash:
        save(demo_engine, actor, brand, tab2, values={"name.concise": 4.0})
    assert clash.value.message == CONFLICT == "已被他人修改，请刷新"
    # Another cell, or only the comment: still refused - tab2 never saw the new 3.0.
    for change in ({"values": {"name.logo": 2.0}}, {"comment": "补充说明"}):
        with pytest.raises(Conflict, match=CONFLICT):
            save(demo_engine, actor, brand, tab2, **change)
    assert snapshot(demo_engine) == before
    assert cells(demo_engine, brand, "J05").loc["name.concise", "value"] == 3.0


def test_a_cell_created_meanwhile_is_not_overwritten(demo_engine: Engine) -> None:
    """An admin import creates the cell the judge is typing: the judge's save is refused."""
    actor = j05(demo_engine)
    brand = new_brand(demo_engine, actor)
    sheet = judging.load_sheet(demo_engine, actor=actor, round_code=ROUND, brand_code=brand)
    with transaction(demo_engine) as session:
        rnd = session.exec(select(Round).where(Round.code == ROUND)).one()
        brand_id = session.exec(select(Brand.id).where(Brand.code == brand)).one()
        session.add(
            Score(
                round_id=rnd.id,
                brand_id=brand_id,
                judge_id=5,
                item="name.concise",
                value=2.5,
                source="import:1",
            )
        )
    before = snapshot(demo_engine)
    with pytest.raises(Conflict, match=CONFLICT):
        save(demo_engine, actor, brand, sheet, values={"name.concise": 5.0})
    with pytest.raises(Conflict, match=CONFLICT):
        save(demo_engine, actor, brand, sheet, values={"name.logo": 5.0})
    assert snapshot(demo_engine) == before
    kept = cells(demo_engine, brand, "J05").loc["name.concise"]
    assert (kept["value"], kept["source"]) == (2.5, "import:1")


def test_a_value_changed_by_an_import_is_not_overwritten(demo_engine: Engine) -> None:
    actor = j05(demo_engine)
    brand = new_brand(demo_engine, actor)
    sheet = judging.load_sheet(demo_engine, actor=actor, round_code=ROUND, brand_code=brand)
    sheet = save(demo_engine, actor, brand, sheet, values={"name.concise": 1.0}).sheet
    with transaction(demo_engine) as session:  # what an import does to an existing cell
        session.execute(
            update(Score)
            .where(col(Score.judge_id) == 5, col(Score.item) == "name.concise")
            .values(value=2.0, version=Score.version + 1, source="import:7")
        )
    with pytest.raises(Conflict, match=CONFLICT):
        save(demo_engine, actor, brand, sheet, values={"name.concise": 5.0}, submit=False)
    assert cells(demo_engine, brand, "J05").loc["name.concise", "value"] == 2.0
    # After a refresh (a new load) the judge can save again.
    fresh = judging.load_sheet(demo_engine, actor=actor, round_code=ROUND, brand_code=brand)
    assert fresh.values["name.concise"] == 2.0
    save(demo_engine, actor, brand, fresh, values={"name.concise": 5.0})
    stored = cells(demo_engine, brand, "J05").loc["name.concise"]
    assert (stored["value"], stored["version"], stored["source"]) == (5.0, 3, "web")


def test_simultaneous_saves_one_wins(demo_engine: Engine) -> None:
    """Two saves with the same token at the same moment: exactly one is written."""
    actor = j05(demo_engine)
    brand = new_brand(demo_engine, actor)
    sheet = judging.load_sheet(demo_engine, actor=actor, round_code=ROUND, brand_code=brand)
    audit0 = len(audit_rows(demo_engine))
    barrier = threading.Barrier(2)
    outcomes: dict[float, str] = {}

    def attempt(value: float) -> None:
        barrier.wait()
        try:
            save(demo_engine, actor, brand, sheet, values={"name.concise": value})
            outcomes[value] = "saved"
        except Conflict as exc:
            outcomes[value] = exc.message

    threads = [threading.Thread(target=attempt, args=(v,)) for v in (1.0, 2.0)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes.values()) == sorted(["saved", CONFLICT])
    winner = next(v for v, outcome in outcomes.items() if outcome == "saved")
    stored = cells(demo_engine, brand, "J05").loc["name.concise"]
    assert (stored["value"], stored["version"]) == (winner, 1)
    assert len(audit_rows(demo_engine)) == audit0 + 1


def test_a_token_of_another_sheet_is_refused(sqlite_demo: Engine) -> None:
    actor = j05(sqlite_demo)
    work = judging.worklist(sqlite_demo, actor=actor, round_code=ROUND)
    a, b = work.codes[:2]
    sheet = judging.load_sheet(sqlite_demo, actor=actor, round_code=ROUND, brand_code=a)
    with pytest.raises(InvalidInput):
        save(sqlite_demo, actor, b, sheet, values={"name.concise": 1.0})


# -- reopening a submitted sheet -----------------------------------------------------------
def test_only_an_admin_reopens_a_submitted_sheet(demo_engine: Engine) -> None:
    judge = demo_judge(demo_engine)
    viewer = login(demo_engine, "viewer", "viewer123")
    admin = login(demo_engine, "admin", "admin123")
    sheet = judging.load_sheet(demo_engine, actor=judge, round_code=ROUND, brand_code="B003")
    assert sheet.status is SheetStatus.SUBMITTED
    before = snapshot(demo_engine)
    with pytest.raises(Conflict, match="已提交"):
        save(demo_engine, judge, "B003", sheet, values={"name.concise": 0.5})
    for who in (judge, viewer):
        with pytest.raises(PermissionDenied):
            judging.reopen_sheet(
                demo_engine,
                actor=who,
                round_code=ROUND,
                brand_code="B003",
                judge="J01",
                reason="自己想改",
            )
    with pytest.raises(InvalidInput, match="原因"):
        judging.reopen_sheet(
            demo_engine, actor=admin, round_code=ROUND, brand_code="B003", judge="J01", reason=" "
        )
    assert snapshot(demo_engine) == before

    judging.reopen_sheet(
        demo_engine,
        actor=admin,
        round_code=ROUND,
        brand_code="B003",
        judge="王建华",
        reason="评委申请更正笔误",
    )
    event = audit_rows(demo_engine)[-1]
    assert (event.action, event.entity, event.entity_key, event.reason, event.actor) == (
        "score.reopen",
        "score",
        f"{ROUND}/B003/J01",
        "评委申请更正笔误",
        "admin",
    )
    assert event.old == {"status": "submitted"} and event.new == {"status": "draft"}
    assert len(audit_rows(demo_engine)) == before[2] + 1
    assert revision(demo_engine) == before[3] + 1
    # The judge's old token is stale now; after a refresh they can correct and resubmit.
    with pytest.raises(Conflict, match=CONFLICT):
        save(demo_engine, judge, "B003", sheet, values={"name.concise": 0.5})
    fresh = judging.load_sheet(demo_engine, actor=judge, round_code=ROUND, brand_code="B003")
    assert fresh.status is SheetStatus.DRAFT and fresh.writable
    assert fresh.values == sheet.values and fresh.comment == sheet.comment
    result = save(demo_engine, judge, "B003", fresh, values={"name.concise": 0.5}, submit=True)
    assert result.sheet.status is SheetStatus.SUBMITTED
    # Only a submitted sheet can be reopened: one not started cannot.
    with pytest.raises(Conflict, match="只有已提交的评分表可以退回"):
        judging.reopen_sheet(
            demo_engine,
            actor=Actor.cli(),
            round_code=ROUND,
            brand_code=new_brand(demo_engine, j05(demo_engine)),
            judge="J05",
            reason="测试",
        )


def test_reopen_checks_round_and_assignment(demo_engine: Engine) -> None:
    admin = Actor.cli()
    with pytest.raises(NotFound, match="回避"):
        judging.reopen_sheet(
            demo_engine, actor=admin, round_code=ROUND, brand_code="B001", judge="J05", reason="x"
        )
    with pytest.raises(NotFound, match="找不到评委"):
        judging.reopen_sheet(
            demo_engine, actor=admin, round_code=ROUND, brand_code="B001", judge="无名", reason="x"
        )
    set_round(demo_engine, status="locked")
    before = snapshot(demo_engine)
    with pytest.raises(Conflict, match="评分中"):
        judging.reopen_sheet(
            demo_engine, actor=admin, round_code=ROUND, brand_code="B003", judge="J01", reason="x"
        )
    assert snapshot(demo_engine) == before
    # CLI reopen is recorded with source cli.
    set_round(demo_engine, status="scoring")
    judging.reopen_sheet(
        demo_engine,
        actor=admin,
        round_code=ROUND,
        brand_code="B003",
        judge="J01",
        reason="电话申请",
    )
    event = audit_rows(demo_engine)[-1]
    assert (event.source, event.role) == ("cli", "admin")


def test_unknown_round(sqlite_demo: Engine) -> None:
    with pytest.raises(NotFound, match="找不到评审轮次 1999"):
        judging.worklist(sqlite_demo, actor=j05(sqlite_demo), round_code="1999")


# -- pure helpers --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("row", "n_cells", "complete", "expected"),
    [
        (None, 0, False, SheetStatus.NEW),
        (None, 3, False, SheetStatus.DRAFT),
        (None, 18, True, SheetStatus.SUBMITTED),  # an import without comments
        ("draft", 0, False, SheetStatus.DRAFT),
        ("draft", 18, True, SheetStatus.DRAFT),
        ("submitted", 18, True, SheetStatus.SUBMITTED),
        ("submitted", 17, False, SheetStatus.DRAFT),  # a partial import: left to finish
    ],
)
def test_effective_status(
    row: str | None, n_cells: int, complete: bool, expected: SheetStatus
) -> None:
    assert judging.effective_status(row, n_cells, complete) is expected


def test_totals_cap_the_bonus_and_count_blanks_as_zero() -> None:
    values: dict[str, float | None] = {**FULL, "bonus.award": 3.0, "bonus.innovation": 2.0}
    totals = judging.sheet_totals(RUBRIC, values)
    assert totals.bonus_raw == 5.0 and totals.bonus == 5.0 and totals.total == 77.0
    assert totals.criteria["name"] == 12.0 and totals.complete
    values["name.fit"] = None
    totals = judging.sheet_totals(RUBRIC, values)
    assert totals.criteria["name"] == 8.0 and totals.filled == 17 and not totals.complete
    assert judging.sheet_totals(RUBRIC, {}).total == 0.0


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        (None, "B2"),  # start: the first not submitted
        ("B2", "B4"),
        ("B4", "B2"),  # wraps around
        ("B3", "B4"),
        ("zzz", "B2"),
    ],
)
def test_next_brand_skips_submitted(current: str | None, expected: str) -> None:
    entries = [("B1", "submitted"), ("B2", "new"), ("B3", "submitted"), ("B4", "draft")]
    assert judging.next_brand(entries, current) == expected


def test_next_brand_when_all_are_submitted() -> None:
    entries = [("B1", "submitted"), ("B2", "submitted")]
    assert judging.next_brand(entries, "B1") == "B2"
    assert judging.next_brand(entries, "B2") == "B1"
    assert judging.next_brand([], None) is None


def test_unsaved_compares_with_the_loaded_sheet() -> None:
    token = judging.SheetToken(ROUND, "B1", 1, (("a", 1.0, 1),), "好", "draft")
    assert not judging.unsaved(token, {"a": 1.0, "b": None}, "好")
    assert judging.unsaved(token, {"a": 1.5}, "好")
    assert judging.unsaved(token, {"a": None}, "好")
    assert judging.unsaved(token, {"b": 2.0}, "好")
    assert judging.unsaved(token, {}, "很好")
    blank = judging.SheetToken(ROUND, "B1", 1, (), None, None)
    assert not judging.unsaved(blank, {"a": None}, "")
