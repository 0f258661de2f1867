"""Round services on SQLite and PostgreSQL: lifecycle, new rounds, rubric, settings, roles.

Every change must leave exactly one audit row and bump the round's revision; every
refusal must leave the database as it was (no audit row, no revision bump).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, text

from evalcore import services
from evalcore.errors import Conflict, EvalcoreError, InvalidInput, NotFound, PermissionDenied
from evalcore.lifecycle import MOVES, RoundStatus, is_backward
from evalcore.permissions import Actor, Role
from evalcore.rubric import (
    GradeQuota,
    Item,
    RoundSettings,
    Rubric,
    VetoRule,
    default_rubric,
)
from evalcore.services import audit, rounds

ADMIN = Actor("admin", Role.ADMIN, user_id=1)
CLI = Actor.cli()
JUDGE = Actor("judge", Role.JUDGE, user_id=2, judge_id=1)
VIEWER = Actor("viewer", Role.VIEWER, user_id=3)


# -- helpers --------------------------------------------------------------------------------
def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def audit_rows(engine: Engine) -> list[dict[str, Any]]:
    return audit.list_events(engine, actor=ADMIN).to_dict("records")


def n_audit(engine: Engine) -> int:
    return int(scalar(engine, "SELECT count(*) FROM auditevent"))


def status(engine: Engine, code: str) -> str:
    return str(scalar(engine, "SELECT status FROM round WHERE code = :c", c=code))


def revision(engine: Engine, code: str) -> int:
    return int(scalar(engine, "SELECT revision FROM round WHERE code = :c", c=code))


def stored_rubric(engine: Engine, code: str) -> Rubric:
    return rounds.round_detail(engine, actor=ADMIN, round_code=code).rubric


def stored_settings(engine: Engine, code: str) -> RoundSettings:
    return rounds.round_detail(engine, actor=ADMIN, round_code=code).settings


def pairs(engine: Engine, table: str, code: str, columns: str) -> set[tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                f"SELECT {columns} FROM {table} t JOIN round r ON r.id = t.round_id "
                "WHERE r.code = :c"
            ),
            {"c": code},
        ).all()
    return {tuple(r) for r in rows}


def snapshot(engine: Engine) -> tuple[Any, ...]:
    """Everything a refused call must leave untouched."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT code, status, revision, rubric, settings FROM round ORDER BY code")
        ).all()
    return (n_audit(engine), [tuple(str(v) for v in r) for r in rows])


def put_in(engine: Engine, code: str, target: RoundStatus) -> None:
    """Move a round (from 筹备) forward to ``target`` through the service."""
    path = {
        RoundStatus.DRAFT: [],
        RoundStatus.SCORING: ["open"],
        RoundStatus.LOCKED: ["open", "lock"],
        RoundStatus.PUBLISHED: ["open", "lock", "publish"],
    }[target]
    for move in path:
        rounds.move_round(engine, actor=ADMIN, round_code=code, move=move)


@pytest.fixture
def draft(demo_engine: Engine) -> Engine:
    """The demo plus a round 2027 in 筹备, copied from 2026 (no scores)."""
    rounds.create_round(
        demo_engine, actor=ADMIN, code="2027", name="2027年度评审", copy_from="2026"
    )
    return demo_engine


# -- lifecycle ------------------------------------------------------------------------------
@pytest.mark.parametrize("actor", [ADMIN, CLI], ids=["admin", "cli"])
def test_full_lifecycle_and_back_each_move_audited_once(draft: Engine, actor: Actor) -> None:
    engine = draft
    steps = [
        ("open", None, "scoring"),
        ("lock", None, "locked"),
        ("publish", None, "published"),
        ("unpublish", "发现一处录入错误", "locked"),
        ("unlock", "补录遗漏的评分", "scoring"),
        ("reset", "细则需要调整", "draft"),
    ]
    for move, reason, expected in steps:
        before_status = status(engine, "2027")
        before_rev, before_n = revision(engine, "2027"), n_audit(engine)
        info = rounds.move_round(engine, actor=actor, round_code="2027", move=move, reason=reason)
        assert info.status == expected == status(engine, "2027")
        assert revision(engine, "2027") == info.revision == before_rev + 1
        assert n_audit(engine) == before_n + 1
        row = audit_rows(engine)[0]
        assert row["action"] == f"round.{move}"
        assert row["entity"] == "round" and row["entity_key"] == "2027"
        assert row["round_code"] == "2027"
        assert row["old"] == {"status": before_status}
        assert row["new"] == {"status": expected}
        assert row["reason"] == reason
        assert row["actor"] == actor.username and row["role"] == "admin"
        assert row["source"] == actor.source


BACKWARD = [m for m in MOVES if is_backward(m)]


@pytest.mark.parametrize("move", BACKWARD)
def test_a_move_back_needs_a_reason(draft: Engine, move: str) -> None:
    put_in(draft, "2027", MOVES[move][0])
    before = snapshot(draft)
    for reason in (None, "", "   "):
        with pytest.raises(InvalidInput, match="需要填写原因"):
            rounds.move_round(draft, actor=ADMIN, round_code="2027", move=move, reason=reason)
    assert snapshot(draft) == before


IMPOSSIBLE: dict[RoundStatus, list[tuple[str, type[EvalcoreError]]]] = {
    RoundStatus.DRAFT: [("lock", Conflict), ("publish", Conflict), ("delete", InvalidInput)],
    RoundStatus.SCORING: [("publish", Conflict), ("open", Conflict), ("unpublish", Conflict)],
    RoundStatus.LOCKED: [("reset", Conflict), ("lock", Conflict), ("open", Conflict)],
    RoundStatus.PUBLISHED: [("unlock", Conflict), ("publish", Conflict), ("reset", Conflict)],
}


@pytest.mark.parametrize("start", list(IMPOSSIBLE))
def test_impossible_moves_are_refused(draft: Engine, start: RoundStatus) -> None:
    put_in(draft, "2027", start)
    before = snapshot(draft)
    for move, error in IMPOSSIBLE[start]:
        with pytest.raises(error):
            rounds.move_round(draft, actor=ADMIN, round_code="2027", move=move, reason="原因")
    assert snapshot(draft) == before


def test_moving_an_unknown_round(demo_engine: Engine) -> None:
    before = snapshot(demo_engine)
    with pytest.raises(NotFound, match=r"2099.*现有轮次"):
        rounds.move_round(demo_engine, actor=ADMIN, round_code="2099", move="open")
    assert snapshot(demo_engine) == before


def test_two_admins_locking_at_once_lock_once(demo_engine: Engine) -> None:
    """The row lock serialises concurrent moves: one wins, the other sees 已锁定."""
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def lock() -> None:
        barrier.wait()
        try:
            rounds.move_round(demo_engine, actor=ADMIN, round_code="2026", move="lock")
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")

    before = n_audit(demo_engine)
    threads = [threading.Thread(target=lock) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["conflict", "ok"]
    assert status(demo_engine, "2026") == "locked"
    assert n_audit(demo_engine) == before + 1


# -- new rounds ----------------------------------------------------------------------------
def test_new_round_without_copy_has_defaults_and_no_panel(demo_engine: Engine) -> None:
    before = n_audit(demo_engine)
    info = rounds.create_round(demo_engine, actor=ADMIN, code="2027", name="  2027年度  ")
    assert (info.code, info.name, info.status) == ("2027", "2027年度", "draft")
    detail = rounds.round_detail(demo_engine, actor=ADMIN, round_code="2027")
    assert detail.rubric == default_rubric()
    assert detail.settings == RoundSettings()
    assert (detail.brands, detail.judges, detail.assignments, detail.scores) == (0, 0, 0, 0)
    assert detail.moves == ["open"]
    assert n_audit(demo_engine) == before + 1
    row = audit_rows(demo_engine)[0]
    assert row["action"] == "round.create" and row["round_code"] == "2027"
    assert row["new"] == {
        "name": "2027年度",
        "status": "draft",
        "copy_from": None,
        "brands": 0,
        "judges": 0,
        "assignments": 0,
    }


def test_new_round_copies_rubric_settings_panel_and_assignments(demo_engine: Engine) -> None:
    engine = demo_engine
    # Give 2026 a distinctive setup: a later rubric version, custom settings, one
    # assignment removed and a declared conflict (which is not copied).
    rubric = replace(stored_rubric(engine, "2026"), version=4)
    settings = RoundSettings(quotas=(GradeQuota("优秀", 0.15),), comment_below=70.0)
    rid = scalar(engine, "SELECT id FROM round WHERE code = '2026'")
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE round SET rubric = :r, settings = :s WHERE id = :i"),
            {
                "r": json.dumps(rubric.to_dict(), ensure_ascii=False),
                "s": json.dumps(settings.to_dict(), ensure_ascii=False),
                "i": rid,
            },
        )
        conn.execute(
            text("DELETE FROM assignment WHERE round_id = :i AND brand_id = 1 AND judge_id = 1"),
            {"i": rid},
        )
        conn.execute(
            text(
                "INSERT INTO conflictdeclaration (round_id, brand_id, judge_id, reason, "
                "declared_by, created_at) VALUES (:i, 2, 1, '亲属', 'judge', CURRENT_TIMESTAMP)"
            ),
            {"i": rid},
        )
    before = n_audit(engine)
    rounds.create_round(engine, actor=CLI, code="2027", name="2027年度", copy_from="2026")

    detail = rounds.round_detail(engine, actor=ADMIN, round_code="2027")
    assert detail.info.status == "draft"
    assert detail.rubric == replace(rubric, version=1)
    assert detail.settings == settings
    for table, columns in (
        ("roundbrand", "brand_id"),
        ("roundjudge", "judge_id"),
        ("assignment", "brand_id, judge_id"),
    ):
        assert pairs(engine, table, "2027", columns) == pairs(engine, table, "2026", columns)
    assert (1, 1) not in pairs(engine, "assignment", "2027", "brand_id, judge_id")
    assert detail.scores == 0
    assert pairs(engine, "conflictdeclaration", "2027", "brand_id") == set()
    assert pairs(engine, "scoresheet", "2027", "brand_id") == set()
    assert n_audit(engine) == before + 1
    row = audit_rows(engine)[0]
    assert row["source"] == "cli" and row["actor"] == CLI.username
    assert row["new"]["copy_from"] == "2026"
    assert row["new"]["brands"] == detail.brands == 26
    assert row["new"]["judges"] == detail.judges == 7
    assert row["new"]["assignments"] == detail.assignments == 26 * 7 - 1


REFUSED_ROUNDS: list[tuple[str, str, str | None, type[EvalcoreError]]] = [
    ("2026", "重复", None, Conflict),
    ("", "无编号", None, InvalidInput),
    ("20 27", "空格", None, InvalidInput),
    ("-2027", "开头", None, InvalidInput),
    ("x" * 33, "太长", None, InvalidInput),
    ("2027", "   ", None, InvalidInput),
    ("2027", "名" * 129, None, InvalidInput),
    ("2027", "复制", "1999", NotFound),
]


def test_new_round_is_refused_with_nothing_written(demo_engine: Engine) -> None:
    before = snapshot(demo_engine)
    for code, name, copy_from, error in REFUSED_ROUNDS:
        with pytest.raises(error):
            rounds.create_round(demo_engine, actor=ADMIN, code=code, name=name, copy_from=copy_from)
    assert snapshot(demo_engine) == before


def test_overview_lists_every_round_with_counts(draft: Engine) -> None:
    table = rounds.round_overview(draft, actor=ADMIN)
    assert list(table["code"]) == ["2027", "2026", "2025"]
    row = table.set_index("code").loc["2027"]
    assert (row["status_label"], row["brands"], row["judges"], row["scores"]) == (
        "筹备",
        26,
        7,
        0,
    )
    assert table.set_index("code").loc["2025", "scores"] > 0


# -- rubric ---------------------------------------------------------------------------------
def edited(rubric: Rubric) -> Rubric:
    """Rename one item, drop another, add a new one, raise the bonus cap."""
    name = rubric.criterion("name")
    items = (
        replace(name.items[0], label="名称响亮好记", guide="新的评分标准"),
        *name.items[2:],
        Item("name.new", "名称寓意", 4.0, "寓意积极（4分）", "无寓意扣2分"),
    )
    criteria = tuple(replace(c, items=items) if c.code == "name" else c for c in rubric.criteria)
    return replace(rubric, criteria=criteria, bonus_cap=4.0)


def test_rubric_edit_in_draft_bumps_version_and_audits_the_diff(draft: Engine) -> None:
    engine = draft
    current = stored_rubric(engine, "2027")
    rev, before = revision(engine, "2027"), n_audit(engine)
    saved = rounds.update_rubric(engine, actor=ADMIN, round_code="2027", rubric=edited(current))
    assert saved.version == current.version + 1
    assert stored_rubric(engine, "2027") == saved
    assert saved.criterion("name").max_points == 5 + 5 + 4  # computed, never typed
    assert revision(engine, "2027") == rev + 1
    assert n_audit(engine) == before + 1
    row = audit_rows(engine)[0]
    assert (row["action"], row["entity"], row["round_code"]) == ("rubric.update", "rubric", "2027")
    assert row["old"] == {
        "version": 1,
        "bonus_cap": 5.0,
        "items": {
            "name.concise": {
                "label": "名称凝练响亮",
                "guide": current.criterion("name").items[0].guide,
            },
            "name.logo": {
                "group": "name",
                "label": "标识设计规范",
                "max_points": 5.0,
                "guide": current.criterion("name").items[1].guide,
                "deductions": "",
            },
        },
    }
    assert row["new"] == {
        "version": 2,
        "bonus_cap": 4.0,
        "items": {
            "name.concise": {"label": "名称响亮好记", "guide": "新的评分标准"},
            "name.new": {
                "group": "name",
                "label": "名称寓意",
                "max_points": 4.0,
                "guide": "寓意积极（4分）",
                "deductions": "无寓意扣2分",
            },
        },
    }


def test_rubric_accepts_a_dict(draft: Engine) -> None:
    current = stored_rubric(draft, "2027")
    saved = rounds.update_rubric(
        draft, actor=ADMIN, round_code="2027", rubric=edited(current).to_dict()
    )
    assert saved.version == 2


@pytest.mark.parametrize("target", [RoundStatus.SCORING, RoundStatus.LOCKED, RoundStatus.PUBLISHED])
def test_rubric_is_frozen_once_scoring_started(draft: Engine, target: RoundStatus) -> None:
    put_in(draft, "2027", target)
    before = snapshot(draft)
    with pytest.raises(Conflict, match="评分细则已冻结"):
        rounds.update_rubric(
            draft, actor=ADMIN, round_code="2027", rubric=edited(stored_rubric(draft, "2027"))
        )
    assert snapshot(draft) == before


def test_rubric_save_from_a_stale_version_is_refused(draft: Engine) -> None:
    start = stored_rubric(draft, "2027")
    rounds.update_rubric(draft, actor=ADMIN, round_code="2027", rubric=edited(start))
    before = snapshot(draft)
    other = replace(start, bonus_cap=3.0)  # edited from version 1, which is gone
    with pytest.raises(Conflict, match="已被他人修改"):
        rounds.update_rubric(draft, actor=ADMIN, round_code="2027", rubric=other)
    assert snapshot(draft) == before


def test_invalid_rubric_is_refused(draft: Engine) -> None:
    current = stored_rubric(draft, "2027")
    name = current.criterion("name")
    broken = replace(
        current,
        criteria=tuple(
            replace(c, items=(replace(name.items[0], max_points=0),)) if c.code == "name" else c
            for c in current.criteria
        ),
    )
    before = snapshot(draft)
    with pytest.raises(InvalidInput, match="分值必须为正数"):
        rounds.update_rubric(draft, actor=ADMIN, round_code="2027", rubric=broken)
    assert snapshot(draft) == before


def test_saving_an_unchanged_rubric_writes_nothing(draft: Engine) -> None:
    before = snapshot(draft)
    saved = rounds.update_rubric(
        draft, actor=ADMIN, round_code="2027", rubric=stored_rubric(draft, "2027")
    )
    assert saved.version == 1
    assert snapshot(draft) == before


def test_rubric_edit_may_not_break_existing_scores(demo_engine: Engine) -> None:
    """After a reset to 筹备 the round keeps its scores; the rubric must still fit them."""
    engine = demo_engine
    rounds.move_round(engine, actor=ADMIN, round_code="2026", move="reset", reason="调整细则")
    current = stored_rubric(engine, "2026")
    name = current.criterion("name")
    lowered = replace(
        current,
        criteria=tuple(
            replace(c, items=(replace(name.items[0], max_points=0.5), *name.items[1:]))
            if c.code == "name"
            else c
            for c in current.criteria
        ),
    )
    removed = replace(
        current,
        criteria=tuple(
            replace(c, items=name.items[1:]) if c.code == "name" else c for c in current.criteria
        ),
    )
    before = snapshot(engine)
    with pytest.raises(Conflict, match="分值不能低于该分数"):
        rounds.update_rubric(engine, actor=ADMIN, round_code="2026", rubric=lowered)
    with pytest.raises(Conflict, match=r"name\.concise 已有 \d+ 条评分，不能删除"):
        rounds.update_rubric(engine, actor=ADMIN, round_code="2026", rubric=removed)
    assert snapshot(engine) == before
    raised = replace(
        current,
        criteria=tuple(
            replace(c, items=(replace(name.items[0], max_points=8), *name.items[1:]))
            if c.code == "name"
            else c
            for c in current.criteria
        ),
    )
    assert rounds.update_rubric(engine, actor=ADMIN, round_code="2026", rubric=raised).version == 2


# -- settings -------------------------------------------------------------------------------
def test_settings_change_is_stored_and_audited_with_changed_fields_only(
    demo_engine: Engine,
) -> None:
    engine = demo_engine
    current = stored_settings(engine, "2026")
    proposed = replace(
        current,
        min_judges=4,
        quotas=(GradeQuota("优秀", 0.15),),
        vetoes=(VetoRule("impact", 0.6, "合格"),),
        comment_below=70.0,
    )
    rev, before = revision(engine, "2026"), n_audit(engine)
    saved = rounds.update_settings(engine, actor=ADMIN, round_code="2026", settings=proposed)
    assert saved == proposed == stored_settings(engine, "2026")
    assert revision(engine, "2026") == rev + 1
    assert n_audit(engine) == before + 1
    row = audit_rows(engine)[0]
    assert (row["action"], row["entity"], row["round_code"]) == (
        "round.settings",
        "settings",
        "2026",
    )
    assert row["old"] == {"min_judges": 5, "quotas": [], "vetoes": [], "comment_below": None}
    assert row["new"] == {
        "min_judges": 4,
        "quotas": [{"label": "优秀", "max_share": 0.15}],
        "vetoes": [{"criterion": "impact", "min_share": 0.6, "max_grade": "合格"}],
        "comment_below": 70.0,
    }
    # the results use them at once (the revision moved)
    results = services.round_results(engine, actor=ADMIN, round_code="2026")
    assert results.settings == proposed


def test_settings_accept_a_dict_and_unchanged_writes_nothing(demo_engine: Engine) -> None:
    current = stored_settings(demo_engine, "2026")
    before = snapshot(demo_engine)
    rounds.update_settings(demo_engine, actor=ADMIN, round_code="2026", settings=current.to_dict())
    assert snapshot(demo_engine) == before


INVALID_SETTINGS: list[tuple[dict[str, Any], str]] = [
    ({"method": "max"}, "汇总方法"),
    ({"vetoes": [{"criterion": "nope", "min_share": 0.5, "max_grade": "合格"}]}, "不存在"),
    ({"quotas": [{"label": "特等", "max_share": 0.1}]}, "特等"),
    ({"tie_break": ["nope"]}, "并列"),
    ({"trim_min_judges": 2}, "至少需要 3 名评委"),
]


def test_invalid_settings_are_refused(demo_engine: Engine) -> None:
    before = snapshot(demo_engine)
    for settings, message in INVALID_SETTINGS:
        with pytest.raises(InvalidInput, match=message):
            rounds.update_settings(demo_engine, actor=ADMIN, round_code="2026", settings=settings)
    assert snapshot(demo_engine) == before


def test_settings_saved_by_someone_else_meanwhile_are_not_overwritten(demo_engine: Engine) -> None:
    opened = stored_settings(demo_engine, "2026")
    rounds.update_settings(
        demo_engine, actor=ADMIN, round_code="2026", settings=replace(opened, min_judges=4)
    )
    before = snapshot(demo_engine)
    with pytest.raises(Conflict, match="已被他人修改"):
        rounds.update_settings(
            demo_engine,
            actor=CLI,
            round_code="2026",
            settings=replace(opened, comment_below=60.0),
            expected=opened,
        )
    assert snapshot(demo_engine) == before
    saved = rounds.update_settings(
        demo_engine,
        actor=CLI,
        round_code="2026",
        settings=replace(opened, min_judges=4, comment_below=60.0),
        expected=replace(opened, min_judges=4),
    )
    assert stored_settings(demo_engine, "2026") == saved


def test_settings_are_frozen_once_published(demo_engine: Engine) -> None:
    before = snapshot(demo_engine)
    with pytest.raises(Conflict, match=r"已发布.*撤回发布"):
        rounds.update_settings(
            demo_engine, actor=ADMIN, round_code="2025", settings=RoundSettings(min_judges=3)
        )
    assert snapshot(demo_engine) == before
    rounds.move_round(demo_engine, actor=ADMIN, round_code="2025", move="unpublish", reason="复核")
    rounds.update_settings(
        demo_engine, actor=ADMIN, round_code="2025", settings=RoundSettings(min_judges=3)
    )
    assert stored_settings(demo_engine, "2025").min_judges == 3


# -- preview --------------------------------------------------------------------------------
def test_preview_counts_what_quotas_and_vetoes_change(demo_engine: Engine) -> None:
    """Expected counts worked out from the published ranking, independently of the preview."""
    engine = demo_engine
    results = services.round_results(engine, actor=ADMIN, round_code="2025")
    table = results.scored
    rubric, current = results.rubric, results.settings
    assert not current.quotas and not current.vetoes
    order = current.grade_labels
    level = table["grade"].map(order.index)
    # Veto: 群众影响 below 88% of its maximum caps the grade at 良好.
    floor = 0.88 * rubric.criterion_max()["impact"]
    vetoed = (table["impact"] < floor) & (level < order.index("良好"))
    # Quota: at most 10% 优秀 (of the ranked brands), counted after the veto.
    excellent = table[(level == 0) & ~vetoed]
    allowed = int(0.1 * len(table))
    cut = excellent["rank"].sort_values()
    demoted = (cut >= cut.iloc[allowed]).sum() if len(cut) > allowed else 0
    assert vetoed.sum() > 0 and demoted > 0  # the demo makes this a real test

    proposed = replace(
        current, quotas=(GradeQuota("优秀", 0.1),), vetoes=(VetoRule("impact", 0.88, "良好"),)
    )
    before = snapshot(engine)
    preview = rounds.preview_settings(
        engine, actor=ADMIN, round_code="2025", settings=proposed, results=results
    )
    assert snapshot(engine) == before  # a preview saves nothing
    assert preview.ranked == len(table)
    assert preview.vetoed == int(vetoed.sum())
    assert preview.by_quota == int(demoted)
    assert preview.by_rules == int(vetoed.sum() + demoted)
    assert preview.differs == preview.by_rules  # the saved settings have no rules
    grades = preview.grades.set_index("grade")
    assert grades["current"].sum() == grades["proposed"].sum() == len(table)
    assert grades.loc["优秀", "proposed"] <= allowed
    assert len(preview.changes) == preview.by_rules
    assert preview.changes["note"].str.len().gt(0).all()
    # Without ``results`` the service reads them itself, with the same answer.
    again = rounds.preview_settings(engine, actor=ADMIN, round_code="2025", settings=proposed)
    assert (again.vetoed, again.by_quota, again.differs) == (
        preview.vetoed,
        preview.by_quota,
        preview.differs,
    )


def test_preview_of_the_saved_settings_changes_nothing(demo_engine: Engine) -> None:
    current = stored_settings(demo_engine, "2025")
    preview = rounds.preview_settings(demo_engine, actor=ADMIN, round_code="2025", settings=current)
    assert (preview.by_rules, preview.differs) == (0, 0)
    assert preview.changes.empty


def test_preview_refuses_invalid_settings(demo_engine: Engine) -> None:
    with pytest.raises(InvalidInput):
        rounds.preview_settings(
            demo_engine,
            actor=ADMIN,
            round_code="2025",
            settings=RoundSettings(vetoes=(VetoRule("nope", 0.5, "合格"),)),
        )


# -- editor helpers (pure) ------------------------------------------------------------------
def test_rubric_tables_round_trip() -> None:
    rubric = default_rubric()
    tables = rounds.rubric_tables(rubric)
    assert set(tables) == {*(c.code for c in rubric.criteria), "bonus"}
    assert rounds.rubric_from_tables(rubric, tables, rubric.bonus_cap) == rubric


def test_rubric_from_tables_new_rows_get_fresh_codes_and_totals_follow() -> None:
    rubric = default_rubric()
    tables = rounds.rubric_tables(rubric)
    name = tables["name"]
    name = name[name["code"] != "name.fit"]  # removed
    name = pd.concat(
        [
            name,
            pd.DataFrame(
                [
                    {
                        "code": None,
                        "label": "新指标",
                        "max_points": 6.0,
                        "guide": "",
                        "deductions": "",
                    },
                    {
                        "code": None,
                        "label": None,
                        "max_points": None,
                        "guide": None,
                        "deductions": None,
                    },
                ]
            ),
        ],
        ignore_index=True,
    )
    draft = rounds.rubric_from_tables(rubric, {**tables, "name": name}, 5.0)
    codes = [i.code for i in draft.criterion("name").items]
    assert codes == ["name.concise", "name.logo", "name.1"]  # the empty row is ignored
    assert draft.criterion("name").max_points == 16
    assert draft.max_total == 100 - 15 + 16 + 5
    assert rounds.rubric_problems(draft) == []
    totals = rounds.rubric_totals(draft).set_index("group")["max_points"]
    assert totals["品牌名称"] == 16 and totals["总分"] == draft.max_total


def test_rubric_from_tables_never_reuses_a_code_of_the_saved_rubric() -> None:
    rubric = default_rubric()
    tables = rounds.rubric_tables(rubric)
    codes = {f"name.{n}" for n in (1, 2)}
    taken = replace(
        rubric,
        criteria=tuple(
            replace(c, items=(*c.items, *(Item(code, code, 1) for code in sorted(codes))))
            if c.code == "name"
            else c
            for c in rubric.criteria
        ),
    )
    new_row = pd.DataFrame([{"code": None, "label": "x", "max_points": 1.0}])
    draft = rounds.rubric_from_tables(
        taken, {**tables, "name": pd.concat([tables["name"], new_row])}, 5
    )
    assert draft.criterion("name").items[-1].code == "name.3"


def test_rubric_problems_lists_every_issue() -> None:
    rubric = default_rubric()
    tables = rounds.rubric_tables(rubric)
    bad = pd.DataFrame([{"code": None, "label": "", "max_points": 3.0}])
    draft = rounds.rubric_from_tables(
        rubric, {**tables, "impact": bad, "bonus": tables["bonus"]}, 0
    )
    problems = rounds.rubric_problems(draft)
    assert any("缺少名称" in p for p in problems)
    assert any("加分上限必须为正数" in p for p in problems)


def test_settings_tables_round_trip_and_half_filled_rows() -> None:
    rubric = default_rubric()
    settings = RoundSettings(
        tie_break=("impact",),
        quotas=(GradeQuota("优秀", 0.15),),
        vetoes=(VetoRule("impact", 0.6, "合格"),),
        comment_below=60.0,
    )
    tables = rounds.settings_tables(settings, rubric)
    assert tables.vetoes.iloc[0].tolist() == ["群众影响", 60.0, "合格"]
    back = rounds.settings_from_tables(
        rubric=rubric,
        method=settings.method,
        min_judges=settings.min_judges,
        trim_min_judges=settings.trim_min_judges,
        bands=tables.bands,
        tie_break=settings.tie_break,
        quotas=tables.quotas,
        vetoes=tables.vetoes,
        comment_below=settings.comment_below,
    )
    assert back == settings
    half = pd.concat([tables.quotas, pd.DataFrame([{"label": "良好", "percent": None}])])
    with pytest.raises(InvalidInput, match="等次名额第 2 行没有填写完整"):
        rounds.settings_from_tables(
            rubric=rubric,
            method="trimmed",
            min_judges=5,
            trim_min_judges=5,
            bands=tables.bands,
            tie_break=(),
            quotas=half,
            vetoes=tables.vetoes,
            comment_below=None,
        )


# -- permissions, per role, both backends ----------------------------------------------------
def _calls(engine: Engine) -> dict[str, Callable[[Actor], Any]]:
    rubric = default_rubric()
    return {
        "round_overview": lambda a: rounds.round_overview(engine, actor=a),
        "round_detail": lambda a: rounds.round_detail(engine, actor=a, round_code="2026"),
        "create_round": lambda a: rounds.create_round(engine, actor=a, code="2030", name="x"),
        "move_round": lambda a: rounds.move_round(engine, actor=a, round_code="2026", move="lock"),
        "update_rubric": lambda a: rounds.update_rubric(
            engine, actor=a, round_code="2026", rubric=rubric
        ),
        "update_settings": lambda a: rounds.update_settings(
            engine, actor=a, round_code="2026", settings=RoundSettings(min_judges=3)
        ),
        "preview_settings": lambda a: rounds.preview_settings(
            engine, actor=a, round_code="2025", settings=RoundSettings()
        ),
        "list_events": lambda a: audit.list_events(engine, actor=a),
        "audit_facets": lambda a: audit.audit_facets(engine, actor=a),
        "audit_workbook": lambda a: audit.audit_workbook(engine, actor=a),
    }


@pytest.mark.parametrize("actor", [JUDGE, VIEWER], ids=["judge", "viewer"])
def test_judges_and_viewers_may_not_manage_rounds_or_read_audit(
    demo_engine: Engine, actor: Actor
) -> None:
    before = snapshot(demo_engine)
    allowed = []
    for name, call in _calls(demo_engine).items():
        try:
            call(actor)
        except PermissionDenied as exc:
            assert actor.role.label in exc.message
        else:
            allowed.append(name)
    assert allowed == []
    assert snapshot(demo_engine) == before


@pytest.mark.parametrize("actor", [ADMIN, CLI], ids=["admin", "cli"])
def test_admins_and_the_cli_may(demo_engine: Engine, actor: Actor) -> None:
    refused = []
    for name, call in _calls(demo_engine).items():
        try:
            call(actor)
        except PermissionDenied:
            refused.append(name)
        except EvalcoreError:
            pass  # a rule of the round (e.g. the rubric is frozen), not the permission
    assert refused == []
