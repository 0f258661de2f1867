"""Assignments, recusal, declared conflicts and the progress matrix, per role and backend.

Storage tests run on SQLite and the real PostgreSQL (``demo_engine``). The demo's 2026
round is 评分中 with every pair assigned; J05 works in U01 (brands B001-B005) and so
recuses from them. Tests that need a round without assignments get a 筹备 round 2027
with the same brands and panel (:func:`fresh_round`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, text

from evalcore import charts, services, store
from evalcore.db import transaction
from evalcore.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from evalcore.models import Brand, Judge
from evalcore.permissions import Actor, Role
from evalcore.services import assignments as A
from evalcore.services import audit

ADMIN = Actor("admin", Role.ADMIN, user_id=1)
JUDGE = Actor("judge", Role.JUDGE, user_id=2, judge_id=1)  # J01 王建华
VIEWER = Actor("viewer", Role.VIEWER, user_id=3)
CLI = Actor.cli()
N_BRANDS, N_JUDGES = 26, 7
RECUSED = 14  # J05: 5 brands of U01, J06: 4 of U05, J07: 5 of U06


# -- helpers ------------------------------------------------------------------------------------
def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def execute(engine: Engine, sql: str, **params: Any) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql), params)


def events(engine: Engine) -> pd.DataFrame:
    return audit.list_events(engine, actor=ADMIN)


def revision(engine: Engine, code: str = "2026") -> int:
    return int(scalar(engine, "SELECT revision FROM round WHERE code = :c", c=code))


def trace(engine: Engine, code: str = "2026") -> tuple[int, int]:
    """(audit rows, revision): both unchanged means nothing was written."""
    return len(events(engine)), revision(engine, code)


def round_id(engine: Engine, code: str) -> int:
    return int(scalar(engine, "SELECT id FROM round WHERE code = :c", c=code))


def pairs(engine: Engine, code: str) -> set[tuple[str, str]]:
    """The (brand_code, judge_code) pairs a judge must score: store.assigned_pairs."""
    with transaction(engine) as session:
        conn = session.connection()
        rid = round_id(engine, code)
        found = store.assigned_pairs(conn, rid)
        brands = store.id_map(conn, Brand)
        judges = store.id_map(conn, Judge)
    b = {v: k for k, v in brands.items()}
    j = {v: k for k, v in judges.items()}
    return {(b[x], j[y]) for x, y in found.itertuples(index=False)}


def assignment_rows(engine: Engine, code: str) -> int:
    return int(
        scalar(
            engine,
            "SELECT count(*) FROM assignment a JOIN round r ON r.id = a.round_id WHERE r.code = :c",
            c=code,
        )
    )


def fresh_round(engine: Engine, code: str = "2027") -> None:
    """A 筹备 round with 2026's rubric, brands and panel, and no assignments."""
    execute(
        engine,
        "INSERT INTO round (code, name, status, rubric, settings, revision, created_at, "
        "updated_at) SELECT :c, '2027年度评审', 'draft', rubric, settings, 1, created_at, "
        "updated_at FROM round WHERE code = '2026'",
        c=code,
    )
    for table in ("roundbrand", "roundjudge"):
        column = "brand_id" if table == "roundbrand" else "judge_id"
        execute(
            engine,
            f"INSERT INTO {table} (round_id, {column}) SELECT n.id, t.{column} "
            f"FROM {table} t JOIN round o ON o.id = t.round_id AND o.code = '2026' "
            "JOIN round n ON n.code = :c",
            c=code,
        )


def set_status(engine: Engine, status: str, code: str = "2026") -> None:
    execute(engine, "UPDATE round SET status = :s WHERE code = :c", s=status, c=code)


# -- permissions --------------------------------------------------------------------------------
ADMIN_CALLS: dict[str, Callable[[Engine, Actor], Any]] = {
    "matrix": lambda e, a: A.assignment_matrix(e, actor=a, round_code="2026"),
    "change": lambda e, a: A.change_assignments(
        e, actor=a, round_code="2026", remove=[("B006", "J01")]
    ),
    "set": lambda e, a: A.set_assignments(e, actor=a, round_code="2026", pairs=[]),
    "all": lambda e, a: A.assign_all(e, actor=a, round_code="2026"),
    "by_unit": lambda e, a: A.assign_by_unit(
        e, actor=a, round_code="2026", judge_codes=["J01"], unit_codes=["U02"]
    ),
    "withdraw": lambda e, a: A.withdraw_conflict(
        e, actor=a, round_code="2026", brand_code="B006", judge_code="J01"
    ),
}


@pytest.mark.parametrize("call", ADMIN_CALLS.values(), ids=list(ADMIN_CALLS))
@pytest.mark.parametrize("who", [JUDGE, VIEWER], ids=["judge", "viewer"])
def test_only_admins_manage_assignments(
    sqlite_demo: Engine, call: Callable[[Engine, Actor], Any], who: Actor
) -> None:
    before = (trace(sqlite_demo), assignment_rows(sqlite_demo, "2026"))
    with pytest.raises(PermissionDenied, match="无权分配评委"):
        call(sqlite_demo, who)
    assert (trace(sqlite_demo), assignment_rows(sqlite_demo, "2026")) == before


def test_viewer_cannot_declare_and_judge_only_for_themself(sqlite_demo: Engine) -> None:
    with pytest.raises(PermissionDenied):
        A.declare_conflict(
            sqlite_demo, actor=VIEWER, round_code="2026", brand_code="B006", reason="x"
        )
    with pytest.raises(PermissionDenied, match="评委只能为自己申报回避"):
        A.declare_conflict(
            sqlite_demo,
            actor=JUDGE,
            round_code="2026",
            brand_code="B006",
            reason="x",
            judge_code="J02",
        )
    unlinked = Actor("j", Role.JUDGE, user_id=9)
    with pytest.raises(PermissionDenied, match="没有关联评委"):
        A.declare_conflict(
            sqlite_demo, actor=unlinked, round_code="2026", brand_code="B006", reason="x"
        )
    assert scalar(sqlite_demo, "SELECT count(*) FROM conflictdeclaration") == 0


@pytest.mark.parametrize(
    "who", [ADMIN, VIEWER, JUDGE, CLI], ids=["admin", "viewer", "judge", "cli"]
)
def test_progress_is_readable_by_every_role_and_holds_no_scores(
    sqlite_demo: Engine, who: Actor
) -> None:
    """Action.VIEW_PROGRESS: how far scoring has come, never a score."""
    progress = A.progress_matrix(sqlite_demo, actor=who, round_code="2026")
    assert progress.totals()["done"] > 150
    assert list(progress.cells.columns) == ["brand_id", "judge_id", "state", "missing", "reason"]


# -- assigning ----------------------------------------------------------------------------------
def test_assign_all_skips_recused_pairs(demo_engine: Engine) -> None:
    fresh_round(demo_engine)
    before = len(events(demo_engine))
    rev = revision(demo_engine, "2027")
    change = A.assign_all(demo_engine, actor=ADMIN, round_code="2027")
    assert len(change.added) == N_BRANDS * N_JUDGES - RECUSED
    assert change.skipped_recused == RECUSED and change.removed == ()
    assert ("B001", "J05") not in change.added and ("B001", "J01") in change.added
    assert assignment_rows(demo_engine, "2027") == N_BRANDS * N_JUDGES - RECUSED
    assert pairs(demo_engine, "2027") == set(change.added)
    log = events(demo_engine)
    assert len(log) == before + 1
    row = log.iloc[0]
    assert (row["action"], row["entity"], row["round_code"]) == (
        "assignment.all",
        "assignment",
        "2027",
    )
    assert row["new"]["counts"] == {"added": 168, "removed": 0, "skipped_recused": RECUSED}
    assert ["B001", "J01"] in row["new"]["added"]
    assert revision(demo_engine, "2027") == rev + 1
    # Again: nothing to do, nothing recorded, revision untouched.
    again = A.assign_all(demo_engine, actor=ADMIN, round_code="2027")
    assert not again.changed
    assert trace(demo_engine, "2027") == (before + 1, rev + 1)


def test_assign_by_unit(demo_engine: Engine) -> None:
    fresh_round(demo_engine)
    change = A.assign_by_unit(
        demo_engine,
        actor=CLI,
        round_code="2027",
        judge_codes=["J01", "J05"],
        unit_codes=["U01", "U02"],
    )
    # J01 gets U01 (5) + U02 (4); J05 works in U01, so only U02's 4.
    assert len(change.added) == 13 and change.skipped_recused == 5
    assert {j for _, j in change.added} == {"J01", "J05"}
    assert not any(b <= "B005" and j == "J05" for b, j in change.added)
    row = events(demo_engine).iloc[0]
    assert (row["action"], row["source"]) == ("assignment.by_unit", "cli")
    assert row["new"]["units"] == ["U01", "U02"]
    with pytest.raises(NotFound, match="找不到单位编号：U99"):
        A.assign_by_unit(
            demo_engine, actor=ADMIN, round_code="2027", judge_codes=["J01"], unit_codes=["U99"]
        )
    with pytest.raises(InvalidInput, match="请至少选择一位评委和一个单位"):
        A.assign_by_unit(demo_engine, actor=ADMIN, round_code="2027", judge_codes=[], unit_codes=[])


def test_matrix_changes_refuse_recused_pairs(demo_engine: Engine) -> None:
    fresh_round(demo_engine)
    before = trace(demo_engine, "2027")
    with pytest.raises(InvalidInput, match=r"评委属于品牌所在单位，须回避：刘志强—B001"):
        A.change_assignments(
            demo_engine,
            actor=ADMIN,
            round_code="2027",
            add=[("B001", "J05"), ("B001", "J01")],
        )
    assert trace(demo_engine, "2027") == before and assignment_rows(demo_engine, "2027") == 0
    with pytest.raises(InvalidInput, match=r"B999 不在本轮参评品牌中.*J99 不在本轮评委名单中"):
        A.change_assignments(demo_engine, actor=ADMIN, round_code="2027", add=[("B999", "J99")])
    change = A.change_assignments(
        demo_engine, actor=ADMIN, round_code="2027", add=[("B001", "J01"), ("B006", "J05")]
    )
    assert change.added == (("B001", "J01"), ("B006", "J05"))
    change = A.change_assignments(
        demo_engine, actor=ADMIN, round_code="2027", remove=[("B001", "J01")]
    )
    assert change.removed == (("B001", "J01"),)
    assert pairs(demo_engine, "2027") == {("B006", "J05")}
    assert events(demo_engine).iloc[0]["new"]["removed"] == [["B001", "J01"]]


def test_set_assignments_to_the_wanted_set(demo_engine: Engine) -> None:
    fresh_round(demo_engine)
    A.set_assignments(
        demo_engine, actor=ADMIN, round_code="2027", pairs=[("B001", "J01"), ("B002", "J02")]
    )
    change = A.set_assignments(
        demo_engine, actor=ADMIN, round_code="2027", pairs=[("B002", "J02"), ("B003", "J03")]
    )
    assert change.added == (("B003", "J03"),) and change.removed == (("B001", "J01"),)
    assert pairs(demo_engine, "2027") == {("B002", "J02"), ("B003", "J03")}
    assert events(demo_engine).iloc[0]["action"] == "assignment.set"


def test_removing_a_scored_assignment_is_refused(demo_engine: Engine) -> None:
    before = trace(demo_engine)
    with pytest.raises(Conflict, match="已为这些品牌评分或填写评语，不能取消分配：王建华—B001"):
        A.change_assignments(demo_engine, actor=ADMIN, round_code="2026", remove=[("B001", "J01")])
    assert trace(demo_engine) == before
    assert ("B001", "J01") in pairs(demo_engine, "2026")


@pytest.mark.parametrize("status", ["locked", "published"])
def test_no_assignment_changes_once_locked(demo_engine: Engine, status: str) -> None:
    fresh_round(demo_engine)
    set_status(demo_engine, status, "2027")
    before = trace(demo_engine, "2027")
    for call in (
        lambda: A.assign_all(demo_engine, actor=ADMIN, round_code="2027"),
        lambda: A.change_assignments(
            demo_engine, actor=ADMIN, round_code="2027", add=[("B006", "J01")]
        ),
        lambda: A.declare_conflict(
            demo_engine, actor=JUDGE, round_code="2027", brand_code="B006", reason="亲属"
        ),
    ):
        with pytest.raises(Conflict, match="只有「筹备」或「评分中」的轮次可以"):
            call()
    assert trace(demo_engine, "2027") == before and assignment_rows(demo_engine, "2027") == 0


# -- declared conflicts -------------------------------------------------------------------------
def test_a_judge_declares_a_conflict_and_the_brand_leaves_their_list(demo_engine: Engine) -> None:
    execute(
        demo_engine,
        "DELETE FROM score WHERE judge_id = 1 AND brand_id = (SELECT id FROM brand WHERE code = "
        "'B006') AND round_id = (SELECT id FROM round WHERE code = '2026')",
    )
    execute(
        demo_engine,
        "DELETE FROM scoresheet WHERE judge_id = 1 AND brand_id = (SELECT id FROM brand WHERE "
        "code = 'B006') AND round_id = (SELECT id FROM round WHERE code = '2026')",
    )
    assert ("B006", "J01") in pairs(demo_engine, "2026")
    rev = revision(demo_engine)
    with pytest.raises(InvalidInput, match="请填写回避原因"):
        A.declare_conflict(
            demo_engine, actor=JUDGE, round_code="2026", brand_code="B006", reason=" "
        )
    A.declare_conflict(
        demo_engine, actor=JUDGE, round_code="2026", brand_code="B006", reason="配偶在该支部任职"
    )
    assert ("B006", "J01") not in pairs(demo_engine, "2026")
    row = events(demo_engine).iloc[0]
    assert (row["action"], row["actor"], row["role"], row["entity_key"]) == (
        "conflict.declare",
        "judge",
        "judge",
        "B006/J01",
    )
    assert row["reason"] == "配偶在该支部任职" and revision(demo_engine) == rev + 1
    with pytest.raises(Conflict, match="已申报对品牌 B006 回避"):
        A.declare_conflict(
            demo_engine, actor=JUDGE, round_code="2026", brand_code="B006", reason="x"
        )
    # The matrix shows it as blocked and refuses to assign it; progress shows 回避 + reason.
    matrix = A.assignment_matrix(demo_engine, actor=ADMIN, round_code="2026")
    assert matrix.summary()["conflicts"] == 1
    grid = matrix.grid().set_index("brand_code")
    assert pd.isna(grid.loc["B006", "J01"]) and "王建华（申报回避）" in grid.loc["B006", "blocked"]
    cells = A.progress_matrix(demo_engine, actor=VIEWER, round_code="2026").cells
    cell = cells[(cells["brand_id"] == 6) & (cells["judge_id"] == 1)].iloc[0]
    assert (cell["state"], cell["reason"]) == ("recused", "配偶在该支部任职")
    # Withdrawn by an admin: the assignment applies again.
    A.withdraw_conflict(
        demo_engine, actor=ADMIN, round_code="2026", brand_code="B006", judge_code="J01"
    )
    assert ("B006", "J01") in pairs(demo_engine, "2026")
    assert events(demo_engine).iloc[0]["old"]["reason"] == "配偶在该支部任职"
    with pytest.raises(NotFound):
        A.withdraw_conflict(
            demo_engine, actor=ADMIN, round_code="2026", brand_code="B006", judge_code="J01"
        )


def test_an_admin_declares_on_a_judges_behalf(demo_engine: Engine) -> None:
    fresh_round(demo_engine)
    A.assign_all(demo_engine, actor=ADMIN, round_code="2027")
    A.declare_conflict(
        demo_engine,
        actor=ADMIN,
        round_code="2027",
        brand_code="B010",
        reason="曾在该单位任职",
        judge_code="J03",
    )
    assert ("B010", "J03") not in pairs(demo_engine, "2027")
    assert scalar(demo_engine, "SELECT declared_by FROM conflictdeclaration") == "admin"
    A.change_assignments(demo_engine, actor=ADMIN, round_code="2027", remove=[("B010", "J03")])
    with pytest.raises(InvalidInput, match="已申报利益冲突回避：陈国栋—B010"):
        A.change_assignments(demo_engine, actor=ADMIN, round_code="2027", add=[("B010", "J03")])
    with pytest.raises(InvalidInput, match="请选择要登记回避的评委"):
        A.declare_conflict(
            demo_engine, actor=ADMIN, round_code="2027", brand_code="B010", reason="x"
        )


def test_a_conflict_over_scored_work_is_refused(demo_engine: Engine) -> None:
    before = trace(demo_engine)
    with pytest.raises(Conflict, match="已为品牌 B001 评分或填写评语，不能再申报回避"):
        A.declare_conflict(
            demo_engine, actor=JUDGE, round_code="2026", brand_code="B001", reason="x"
        )
    assert trace(demo_engine) == before


def test_my_conflicts(sqlite_demo: Engine) -> None:
    fresh_round(sqlite_demo)
    A.declare_conflict(
        sqlite_demo, actor=JUDGE, round_code="2027", brand_code="B007", reason="亲属"
    )
    A.declare_conflict(
        sqlite_demo, actor=ADMIN, round_code="2027", brand_code="B008", reason="x", judge_code="J02"
    )
    mine = A.my_conflicts(sqlite_demo, actor=JUDGE, round_code="2027")
    assert mine[["brand_code", "reason"]].values.tolist() == [["B007", "亲属"]]


# -- the matrix ---------------------------------------------------------------------------------
def test_matrix_grid_shows_recusal_and_turns_edits_into_pairs(sqlite_demo: Engine) -> None:
    matrix = A.assignment_matrix(sqlite_demo, actor=ADMIN, round_code="2026")
    assert matrix.editable
    assert matrix.summary() == {
        "assigned": N_BRANDS * N_JUDGES - RECUSED,
        "recused": RECUSED,
        "conflicts": 0,
        "brands_without": 0,
    }
    grid = matrix.grid()
    assert list(grid.columns) == [
        "brand_code",
        "brand",
        "unit",
        *[f"J0{i}" for i in range(1, 8)],
        "blocked",
    ]
    assert str(grid["J01"].dtype) == "boolean"
    b001 = grid.iloc[0]
    assert pd.isna(b001["J05"]) and bool(b001["J01"]) and b001["blocked"] == "刘志强（本单位）"
    add, remove = matrix.changes_from_editor(
        {"edited_rows": {0: {"J01": False}, 5: {"J02": True, "blocked": "x"}}}
    )
    assert add == [("B006", "J02")] and remove == [("B001", "J01")]
    assert matrix.judge_choices()["J05"] == "刘志强（市税务局机关党委）"
    assert matrix.unit_choices()["U01"] == "市税务局机关党委（5 个品牌）"
    locked = A.assignment_matrix(sqlite_demo, actor=ADMIN, round_code="2025")
    assert not locked.editable


# -- progress -----------------------------------------------------------------------------------
def test_progress_matrix_of_the_demo(demo_engine: Engine) -> None:
    progress = A.progress_matrix(demo_engine, actor=VIEWER, round_code="2026")
    totals = progress.totals()
    assert totals["expected"] == N_BRANDS * N_JUDGES - RECUSED
    assert (totals["recused"], totals["unassigned"]) == (RECUSED, 0)
    assert totals["done"] + totals["draft"] + totals["not_started"] == totals["expected"]
    assert progress.n_items == 18 and len(progress.cells) == N_BRANDS * N_JUDGES
    # The same expected/complete counts as the results' progress (one definition).
    results = services.round_results(demo_engine, actor=ADMIN, round_code="2026")
    assert results.progress.expected == totals["expected"]
    assert results.progress.complete == totals["done"]
    # The demo's gaps: J02 skipped one item of B014; J05 is behind on three brands.
    missing = progress.missing()
    owed = {
        (j, b): (s, n)
        for j, b, s, n in missing[["judge_code", "brand_code", "state", "missing"]].values
    }
    assert owed[("J02", "B014")] == ("draft", 1)
    assert {k: v for k, v in owed.items() if k[0] == "J05"} == {
        ("J05", "B014"): ("not_started", 18),
        ("J05", "B023"): ("not_started", 18),
        ("J05", "B025"): ("not_started", 18),
    }
    assert len(missing) == totals["draft"] + totals["not_started"]
    assert list(missing["judge_code"]) == sorted(missing["judge_code"])
    per_judge = progress.per_judge().set_index("judge_code")
    assert per_judge.loc["J05", ["expected", "done", "not_started"]].tolist() == [21, 18, 3]
    assert per_judge.loc["J03", "percent"] == 100.0
    assert per_judge["expected"].sum() == totals["expected"]


def test_progress_states_follow_sheets_assignments_and_conflicts(demo_engine: Engine) -> None:
    rid = round_id(demo_engine, "2026")
    # J01's complete B007 sheet held as a draft -> 草稿; J03 unassigned from B008 -> 未分配.
    execute(
        demo_engine,
        "UPDATE scoresheet SET status = 'draft' WHERE round_id = :r AND judge_id = 1 "
        "AND brand_id = 7",
        r=rid,
    )
    execute(
        demo_engine,
        "DELETE FROM assignment WHERE round_id = :r AND judge_id = 3 AND brand_id = 8",
        r=rid,
    )
    cells = A.progress_matrix(demo_engine, actor=ADMIN, round_code="2026").cells
    state = cells.set_index(["brand_id", "judge_id"])["state"]
    assert state[(7, 1)] == "draft" and state[(8, 3)] == "unassigned"
    assert state[(1, 5)] == "recused" and state[(1, 1)] == "done"


KEYS = ["brand_id", "judge_id"]


@pytest.mark.parametrize(
    ("recused", "assigned", "conflict", "n_crit", "n_any", "status", "state", "missing"),
    [
        (False, True, None, 4, 4, "submitted", "done", 0),
        (False, True, None, 4, 4, None, "done", 0),  # imported, no sheet row: final
        (False, True, None, 4, 5, "draft", "draft", 0),  # complete but held back
        (False, True, None, 3, 3, "submitted", "draft", 1),  # submitted yet incomplete
        (False, True, None, 0, 1, None, "draft", 4),  # only a bonus item
        (False, True, None, 0, 0, "draft", "draft", 4),  # a comment, no scores
        (False, True, None, 0, 0, None, "not_started", 4),
        (False, False, None, 4, 4, None, "unassigned", 0),
        (True, True, None, 0, 0, None, "recused", 0),
        (False, True, "亲属", 0, 0, None, "recused", 0),
    ],
)
def test_progress_cells_rules(
    recused: bool,
    assigned: bool,
    conflict: str | None,
    n_crit: int,
    n_any: int,
    status: str | None,
    state: str,
    missing: int,
) -> None:
    cross = pd.DataFrame({"brand_id": [1], "judge_id": [2], "recused": [recused]})
    due = not recused and conflict is None and assigned
    expected = pd.DataFrame({"brand_id": [1] if due else [], "judge_id": [2] if due else []})
    conflicts = pd.DataFrame(
        {"brand_id": [1], "judge_id": [2], "reason": [conflict]}
        if conflict
        else columns(KEYS, "reason")
    )
    filled = pd.DataFrame(
        {"brand_id": [1], "judge_id": [2], "n_criterion": [n_crit], "n_any": [n_any]}
    )
    drafts = pd.DataFrame(
        {"brand_id": [1], "judge_id": [2], "status": [status]}
        if status
        else columns(KEYS, "status")
    )
    cells = A.progress_cells(cross, expected, conflicts, filled, drafts, n_items=4)
    assert (cells["state"].iloc[0], int(cells["missing"].iloc[0])) == (state, missing)


def columns(keys: list[str], extra: str) -> dict[str, list[Any]]:
    return {k: [] for k in [*keys, extra]}


def test_progress_heatmap_figure(sqlite_demo: Engine) -> None:
    progress = A.progress_matrix(sqlite_demo, actor=ADMIN, round_code="2026")
    fig = charts.progress_heatmap(
        progress.cells, progress.brands, progress.judges, n_items=progress.n_items
    )
    heat = fig.data[0]
    assert fig.layout.title.text == "评分进度（评委 × 品牌）"
    assert list(heat.x) == progress.judges["judge"].tolist()
    assert len(heat.y) == N_BRANDS and heat.y[0].startswith("B001 ")
    labels = pd.DataFrame(heat.text)
    assert labels.iloc[0, 4] == "回避" and labels.iloc[13, 1] == "草稿"  # B001 x J05, B014 x J02
    totals = progress.totals()
    counts = labels.stack().value_counts().to_dict()
    assert counts == {
        charts.PROGRESS_LABELS[s]: totals[s] for s in ("done", "draft", "not_started", "recused")
    }
    assert list(heat.colorbar.ticktext) == ["未分配", "回避", "未开始", "草稿", "已提交"]
    detail = pd.DataFrame([[c[3] for c in row] for row in heat.customdata])
    assert detail.iloc[13, 1] == "（缺 1 / 18 项）" and detail.iloc[0, 4] == "（本单位）"
    view = charts.progress_missing_view(progress.missing(), progress.n_items)
    assert list(view.columns) == ["评委", "编号", "品牌", "单位", "状态", "未填指标"]
    row = view[(view["评委"] == "李淑芬") & (view["编号"] == "B014")].iloc[0]
    assert row.tolist()[-2:] == ["草稿", "1 / 18"]
    judges = charts.progress_judge_view(progress.per_judge())
    assert list(judges.columns) == ["编号", "评委", "应评", "已提交", "草稿", "未开始", "完成率"]


def test_progress_heatmap_scales_to_many_brands() -> None:
    n = 500
    brands = pd.DataFrame(
        {"brand_code": [f"B{i:04d}" for i in range(n)], "brand": "品牌", "unit": "单位"},
        index=pd.Index(range(n), name="brand_id"),
    )
    judges = pd.DataFrame({"judge": ["甲", "乙"]}, index=pd.Index([1, 2], name="judge_id"))
    cells = pd.DataFrame(
        {
            "brand_id": list(range(n)) * 2,
            "judge_id": [1] * n + [2] * n,
            "state": "done",
            "missing": 0,
            "reason": "",
        }
    )
    fig = charts.progress_heatmap(cells, brands, judges, n_items=18)
    assert fig.layout.height <= 3000 and fig.layout.yaxis.showticklabels is False
    assert "共 500 个品牌" in fig.layout.title.subtitle.text
