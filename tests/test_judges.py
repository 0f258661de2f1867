"""Judge records and round panels at the service layer, on SQLite and PostgreSQL.

The demo campaign: judges J01-J07 (J05-J07 work in units), round 2025 published and
2026 being scored, every judge on both panels and with scores in both.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select, update

from evalcore.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from evalcore.models import Assignment, AuditEvent, Judge, Round, RoundJudge, Score
from evalcore.permissions import Actor, Role
from evalcore.services import judges
from tests.account_support import fast_hashing  # noqa: F401

CLI = Actor.cli()
ADMIN = Actor("admin", Role.ADMIN, user_id=1)
EDIT = [*judges.FIELDS]


def audit(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(AuditEvent).order_by(AuditEvent.id))]


def revisions(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(select(Round.code, Round.revision)).all())


def grid(engine: Engine) -> pd.DataFrame:
    """What the page shows in its editor: id plus the editable fields."""
    return judges.list_judges(engine, actor=CLI)[["id", *EDIT]]


def edited(table: pd.DataFrame, changes: dict[str, dict[str, Any]]) -> pd.DataFrame:
    out = table.copy()
    for code, cells in changes.items():
        for field, value in cells.items():
            out.loc[out["code"] == code, field] = value
    return out


def with_new(table: pd.DataFrame, *rows: dict[str, Any]) -> pd.DataFrame:
    return pd.concat([table, pd.DataFrame([{"id": None, **r} for r in rows])], ignore_index=True)


def add_judge(engine: Engine, code: str, name: str, unit: str | None = None) -> None:
    judges.save_judges(
        engine,
        actor=CLI,
        before=grid(engine),
        after=with_new(grid(engine), {"code": code, "name": name, "unit": unit, "title": ""}),
    )


def test_list_judges(demo_engine: Engine) -> None:
    table = judges.list_judges(demo_engine, actor=CLI).set_index("code")
    assert list(table.columns) == judges.JUDGE_COLUMNS[:1] + judges.JUDGE_COLUMNS[2:]
    assert list(table.index) == [f"J0{i}" for i in range(1, 8)]
    assert table.loc["J01", "account"] == "judge"
    assert pd.isna(table.loc["J02", "account"])
    assert pd.isna(table.loc["J01", "unit"]) and not pd.isna(table.loc["J05", "unit"])
    assert table.loc["J01", "rounds"] == "2025、2026"
    with demo_engine.connect() as conn:
        j01 = conn.execute(
            select(func.count())
            .select_from(Score)
            .join(Judge, Judge.id == Score.judge_id)
            .where(Judge.code == "J01")
        ).scalar_one()
    assert table.loc["J01", "scores"] == j01 > 0
    assert judges.unit_names(demo_engine, actor=CLI)  # the units of the demo
    assert "王建华" not in judges.judges_without_account(demo_engine, actor=CLI)
    assert "李淑芬" in judges.judges_without_account(demo_engine, actor=CLI)


def test_add_edit_in_one_save_with_one_audit_row(demo_engine: Engine) -> None:
    engine = demo_engine
    before = grid(engine)
    unit = judges.unit_names(engine, actor=CLI)[0]
    after = with_new(
        edited(before, {"J02": {"title": "党校副校长", "name": "李淑芬 "}}),  # trailing space
        {"code": "J08", "name": "吴新", "unit": unit, "title": "特邀评委"},
        {"code": None, "name": None, "unit": None, "title": None},  # an empty added row
    )
    revs = revisions(engine)
    n_audit = len(audit(engine))
    changes = judges.save_judges(engine, actor=ADMIN, before=before, after=after)
    assert changes == judges.JudgeChanges(added=("J08",), updated=("J02",), removed=())
    assert changes.summary() == "新增 1 名，修改 1 名，删除 0 名"
    table = judges.list_judges(engine, actor=CLI).set_index("code")
    assert table.loc["J02", "title"] == "党校副校长"
    assert table.loc["J02", "name"] == "李淑芬"
    assert table.loc["J08", "unit"] == unit and table.loc["J08", "scores"] == 0
    events = audit(engine)
    assert len(events) == n_audit + 1
    event = events[-1]
    assert (event["action"], event["entity"], event["actor"], event["source"]) == (
        "judge.save",
        "judge",
        "admin",
        "web",
    )
    assert event["old"] == {"J02": {"title": "市委党校党建教研室教授"}}
    assert event["new"] == {
        "J02": {"title": "党校副校长"},
        "J08": {"code": "J08", "name": "吴新", "unit": unit, "title": "特邀评委"},
    }
    # Rounds on whose panel J02 sits are bumped: cached results show judge names.
    assert revisions(engine) == {code: rev + 1 for code, rev in revs.items()}
    # Saving the same table again changes nothing and records nothing.
    same = grid(engine)
    assert judges.save_judges(engine, actor=ADMIN, before=same, after=same).empty
    assert len(audit(engine)) == n_audit + 1


def test_codes_and_names_can_be_swapped(demo_engine: Engine) -> None:
    before = grid(demo_engine)
    after = before.copy()
    j3, j4 = (after.index[after["code"] == c][0] for c in ("J03", "J04"))
    after.loc[[j3, j4], ["code", "name"]] = after.loc[[j4, j3], ["code", "name"]].to_numpy()
    judges.save_judges(demo_engine, actor=CLI, before=before, after=after)
    table = judges.list_judges(demo_engine, actor=CLI).set_index("id")
    was_j3 = before.loc[j3, "id"]
    assert (table.loc[was_j3, "code"], table.loc[was_j3, "name"]) == ("J04", "孙德明")


def test_every_problem_is_reported_at_once_and_nothing_is_saved(demo_engine: Engine) -> None:
    before = grid(demo_engine)
    after = with_new(
        edited(before, {"J02": {"name": "王建华"}, "J03": {"code": ""}}),
        {"code": "J09", "name": "", "unit": "火星党委", "title": "x" * 129},
        {"code": "J01", "name": "新人", "unit": None, "title": ""},
    )
    n_audit = len(audit(demo_engine))
    with pytest.raises(InvalidInput) as failure:
        judges.save_judges(demo_engine, actor=CLI, before=before, after=after)
    problems = failure.value.fields["problems"]
    joined = "\n".join(problems)
    assert "编号不能为空" in joined  # J03 emptied
    assert "姓名不能为空" in joined  # J09
    assert "所在单位「火星党委」不存在" in joined
    assert "职务/职称最多 128 个字符" in joined
    assert "姓名「王建华」重复" in joined
    assert "编号「J01」重复" in joined
    assert len(problems) == 6
    assert grid(demo_engine).equals(before)
    assert len(audit(demo_engine)) == n_audit


def test_a_row_changed_by_someone_else_is_not_overwritten(demo_engine: Engine) -> None:
    before = grid(demo_engine)
    with demo_engine.begin() as conn:  # another admin renamed J02 meanwhile
        conn.execute(update(Judge).where(Judge.code == "J02").values(title="别人改的"))
    after = edited(before, {"J02": {"title": "我改的"}})
    with pytest.raises(Conflict, match="已被他人修改"):
        judges.save_judges(demo_engine, actor=CLI, before=before, after=after)
    # A row nobody else touched still saves.
    fresh = grid(demo_engine)
    judges.save_judges(
        demo_engine, actor=CLI, before=fresh, after=edited(fresh, {"J03": {"title": "新"}})
    )


def test_removal_rules(demo_engine: Engine) -> None:
    engine = demo_engine
    # Scores, an account, or a seat on a published round's panel: never removed.
    before = grid(engine)
    for code, reason in [("J02", "已有评分记录"), ("J01", "已有评分记录")]:
        with pytest.raises(Conflict, match=reason):
            judges.save_judges(
                engine, actor=CLI, before=before, after=before[before["code"] != code]
            )
    # A new judge with no scores but on the 2026 panel (being scored) with assignments
    # can go; their panel seat and assignments go with them, in one audit row.
    add_judge(engine, "J08", "吴新")
    judges.set_panel(
        engine,
        actor=CLI,
        round_code="2026",
        judge_codes=[*judges.panel_of(engine, actor=CLI, round_code="2026").members, "J08"],
    )
    with engine.begin() as conn:
        j8 = conn.execute(select(Judge.id).where(Judge.code == "J08")).scalar_one()
        r26 = conn.execute(select(Round.id).where(Round.code == "2026")).scalar_one()
        brand = conn.execute(select(Assignment.brand_id).limit(1)).scalar_one()
        conn.execute(
            Assignment.__table__.insert().values(round_id=r26, brand_id=brand, judge_id=j8)
        )
    n_audit = len(audit(engine))
    before = grid(engine)
    changes = judges.save_judges(
        engine, actor=CLI, before=before, after=before[before["code"] != "J08"]
    )
    assert changes.removed == ("J08",)
    assert len(audit(engine)) == n_audit + 1
    assert audit(engine)[-1]["old"]["J08"]["name"] == "吴新"
    with engine.connect() as conn:
        for table in (Judge, RoundJudge, Assignment):
            column = Judge.id if table is Judge else table.judge_id
            assert conn.execute(select(func.count()).where(column == j8)).scalar_one() == 0


def test_removal_refused_for_a_seat_on_a_locked_or_published_round(demo_engine: Engine) -> None:
    add_judge(demo_engine, "J08", "吴新")
    with demo_engine.begin() as conn:  # on the published 2025 panel, without scores
        j8 = conn.execute(select(Judge.id).where(Judge.code == "J08")).scalar_one()
        r25 = conn.execute(select(Round.id).where(Round.code == "2025")).scalar_one()
        conn.execute(RoundJudge.__table__.insert().values(round_id=r25, judge_id=j8))
    before = grid(demo_engine)
    with pytest.raises(Conflict, match="已锁定或已发布轮次 2025"):
        judges.save_judges(
            demo_engine, actor=CLI, before=before, after=before[before["code"] != "J08"]
        )


def test_unit_change_refused_when_it_would_rewrite_a_published_rounds_recusal(
    demo_engine: Engine,
) -> None:
    units = judges.unit_names(demo_engine, actor=CLI)
    before = grid(demo_engine)
    with pytest.raises(Conflict, match="不能再修改所在单位"):
        judges.save_judges(
            demo_engine, actor=CLI, before=before, after=edited(before, {"J01": {"unit": units[0]}})
        )
    # A judge on no frozen panel may move; by code as well as by name.
    add_judge(demo_engine, "J08", "吴新", unit=units[0])
    before = grid(demo_engine)
    judges.save_judges(
        demo_engine, actor=CLI, before=before, after=edited(before, {"J08": {"unit": None}})
    )
    assert pd.isna(judges.list_judges(demo_engine, actor=CLI).set_index("code").loc["J08", "unit"])


def test_panel_changes(demo_engine: Engine) -> None:
    engine = demo_engine
    panel = judges.panel_of(engine, actor=CLI, round_code="2026")
    assert panel.members == tuple(f"J0{i}" for i in range(1, 8))
    assert panel.editable and panel.status_label == "评分中"
    add_judge(engine, "J08", "吴新")
    revs, n_audit = revisions(engine), len(audit(engine))
    change = judges.set_panel(
        engine, actor=ADMIN, round_code="2026", judge_codes=[*panel.members, "J08", " J08 "]
    )
    assert change == judges.PanelChange("2026", added=("J08",), removed=())
    assert revisions(engine)["2026"] == revs["2026"] + 1
    assert revisions(engine)["2025"] == revs["2025"]
    event = audit(engine)[-1]
    assert len(audit(engine)) == n_audit + 1
    assert (event["action"], event["round_code"], event["entity_key"]) == (
        "round.panel",
        "2026",
        "2026",
    )
    assert event["new"]["judges"][-1] == "J08"
    # Unchanged: no audit row; removing J08 (no scores) is fine.
    assert judges.set_panel(
        engine, actor=ADMIN, round_code="2026", judge_codes=[*panel.members, "J08"]
    ).empty
    assert len(audit(engine)) == n_audit + 1
    removed = judges.set_panel(engine, actor=ADMIN, round_code="2026", judge_codes=panel.members)
    assert removed.removed == ("J08",)
    # A judge who scored stays; unknown codes and a frozen round are refused.
    n_audit = len(audit(engine))
    with pytest.raises(Conflict, match="J01 在轮次 2026 已有评分"):
        judges.set_panel(engine, actor=ADMIN, round_code="2026", judge_codes=panel.members[1:])
    with pytest.raises(NotFound, match="J99"):
        judges.set_panel(engine, actor=ADMIN, round_code="2026", judge_codes=["J99"])
    with pytest.raises(Conflict, match="已发布"):
        judges.set_panel(engine, actor=ADMIN, round_code="2025", judge_codes=panel.members)
    with pytest.raises(NotFound, match="找不到评审轮次"):
        judges.panel_of(engine, actor=CLI, round_code="1999")
    assert not judges.panel_of(engine, actor=CLI, round_code="2025").editable
    assert len(audit(engine)) == n_audit


CALLS = {
    "list_judges": lambda e, a: judges.list_judges(e, actor=a),
    "unit_names": lambda e, a: judges.unit_names(e, actor=a),
    "judges_without_account": lambda e, a: judges.judges_without_account(e, actor=a),
    "save_judges": lambda e, a: judges.save_judges(
        e, actor=a, before=[], after=[{"id": None, "code": "J66", "name": "某", "unit": ""}]
    ),
    "panel_of": lambda e, a: judges.panel_of(e, actor=a, round_code="2026"),
    "set_panel": lambda e, a: judges.set_panel(e, actor=a, round_code="2026", judge_codes=[]),
}


@pytest.mark.parametrize("call", list(CALLS))
@pytest.mark.parametrize(
    "actor",
    [Actor("judge", Role.JUDGE, user_id=2, judge_id=1), Actor("viewer", Role.VIEWER, user_id=3)],
    ids=["judge", "viewer"],
)
def test_judges_and_panels_are_admin_only(demo_engine: Engine, call: str, actor: Actor) -> None:
    n_audit = len(audit(demo_engine))
    with pytest.raises(PermissionDenied):
        CALLS[call](demo_engine, actor)
    assert len(audit(demo_engine)) == n_audit


@pytest.mark.parametrize("actor", [ADMIN, CLI], ids=["admin", "cli"])
def test_admins_and_the_cli_may_add_judges(demo_engine: Engine, actor: Actor) -> None:
    judges.save_judges(
        demo_engine,
        actor=actor,
        before=[],
        after=[{"id": None, "code": "J66", "name": "某", "unit": ""}],
    )
    assert audit(demo_engine)[-1]["source"] == actor.source
