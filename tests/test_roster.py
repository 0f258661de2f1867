"""The roster service: grid edits, round membership and the Excel roster import.

Every storage test runs on SQLite and the real PostgreSQL (``demo_engine``). What is
checked is what the issue asks: all problems reported at once and nothing written
while any remain, one transaction and exactly one audit row per change, revisions
bumped for the rounds a change touches, admins only.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import Engine, text

from evalcore.errors import Conflict, InvalidInput, PermissionDenied
from evalcore.permissions import Actor, Role
from evalcore.services import audit, roster
from evalcore.services.roster import TableEdit
from tests.import_helpers import xlsx

ADMIN = Actor("admin", Role.ADMIN, user_id=1)
JUDGE = Actor("judge", Role.JUDGE, user_id=2, judge_id=1)
VIEWER = Actor("viewer", Role.VIEWER, user_id=3)
CLI = Actor.cli()
HEADERS = ["单位", "支部", "品牌编号", "品牌名称", "口号", "简介", "类型"]


# -- helpers ------------------------------------------------------------------------------------
def events(engine: Engine) -> pd.DataFrame:
    return audit.list_events(engine, actor=ADMIN)


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def rows(engine: Engine, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def revisions(engine: Engine) -> dict[str, int]:
    return dict(rows(engine, "SELECT code, revision FROM round"))


def unit_id(engine: Engine, code: str) -> int:
    return int(scalar(engine, "SELECT id FROM unit WHERE code = :c", c=code))


def brand_id(engine: Engine, code: str) -> int:
    return int(scalar(engine, "SELECT id FROM brand WHERE code = :c", c=code))


def branch_id(engine: Engine, unit: str, name: str) -> int:
    return int(
        scalar(
            engine,
            "SELECT b.id FROM branch b JOIN unit u ON u.id = b.unit_id "
            "WHERE u.code = :u AND b.name = :n",
            u=unit,
            n=name,
        )
    )


def issues(exc: pytest.ExceptionInfo[InvalidInput]) -> list[dict[str, str]]:
    return exc.value.fields["issues"]


def new_unscored_brand(engine: Engine, code: str = "B900", name: str = "新品牌") -> int:
    """A brand in U01 with no scores, not in any round."""
    branch = roster.read_roster(engine, actor=ADMIN).branches
    first = branch[branch["unit"] == "市税务局机关党委"].iloc[0]
    roster.apply_brands(
        engine,
        actor=ADMIN,
        edit=TableEdit(
            added=[{"code": code, "name": name, "unit": "U01", "branch": first["name"]}]
        ),
    )
    return brand_id(engine, code)


# -- permissions --------------------------------------------------------------------------------
CALLS: dict[str, Callable[[Engine, Actor], Any]] = {
    "read_roster": lambda e, a: roster.read_roster(e, actor=a),
    "apply_units": lambda e, a: roster.apply_units(
        e, actor=a, edit=TableEdit(added=[{"code": "U77", "name": "x"}])
    ),
    "apply_branches": lambda e, a: roster.apply_branches(
        e, actor=a, edit=TableEdit(added=[{"unit": "U01", "name": "x"}])
    ),
    "apply_brands": lambda e, a: roster.apply_brands(e, actor=a, edit=TableEdit(deleted=[1])),
    "round_brands": lambda e, a: roster.round_brands(e, actor=a, round_code="2026"),
    "set_round_brands": lambda e, a: roster.set_round_brands(
        e, actor=a, round_code="2026", brand_codes=[]
    ),
    "roster_template": lambda e, a: roster.roster_template(e, actor=a),
    "preview": lambda e, a: roster.preview_roster_import(e, actor=a, file_name="x", data=b""),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=list(CALLS))
@pytest.mark.parametrize("who", [JUDGE, VIEWER], ids=["judge", "viewer"])
def test_only_admins_touch_the_roster(
    sqlite_demo: Engine, call: Callable[[Engine, Actor], Any], who: Actor
) -> None:
    before = (len(events(sqlite_demo)), revisions(sqlite_demo))
    with pytest.raises(PermissionDenied, match="无权管理单位、支部和品牌"):
        call(sqlite_demo, who)
    assert (len(events(sqlite_demo)), revisions(sqlite_demo)) == before


def test_commit_is_admin_only_too(sqlite_demo: Engine) -> None:
    preview = roster.preview_roster_import(
        sqlite_demo,
        actor=ADMIN,
        file_name="r.xlsx",
        data=xlsx({"名册": [HEADERS[:4], ["新单位", "新支部", "B901", "新品牌"]]}),
    )
    for who in (JUDGE, VIEWER):
        with pytest.raises(PermissionDenied):
            roster.commit_roster_import(sqlite_demo, actor=who, preview=preview)
    assert scalar(sqlite_demo, "SELECT count(*) FROM brand WHERE code = 'B901'") == 0


# -- reading ------------------------------------------------------------------------------------
def test_read_roster_counts_what_hangs_on_each_row(demo_engine: Engine) -> None:
    current = roster.read_roster(demo_engine, actor=ADMIN)
    assert len(current.units) == 6 and len(current.branches) == 26 and len(current.brands) == 26
    u01 = current.units.set_index("code").loc["U01"]
    assert (u01["branches"], u01["brands"], u01["judges"]) == (5, 5, 1)  # J05 works in U01
    b001 = current.brands.set_index("code").loc["B001"]
    assert b001["unit"] == "市税务局机关党委" and b001["rounds"] == "2025、2026"
    assert bool(b001["scored"])


# -- grid edits: units --------------------------------------------------------------------------
def test_units_add_and_rename_in_one_transaction_one_audit_row(demo_engine: Engine) -> None:
    before = len(events(demo_engine))
    revs = revisions(demo_engine)
    u01 = unit_id(demo_engine, "U01")
    result = roster.apply_units(
        demo_engine,
        actor=ADMIN,
        edit=TableEdit(
            changed={u01: {"name": "市税务局党委"}},
            added=[{"code": "U07", "name": "市图书馆党支部"}],
        ),
    )
    assert (result.added, result.changed, result.deleted) == (1, 1, 0)
    assert rows(
        demo_engine, "SELECT code, name FROM unit WHERE code IN ('U01','U07') ORDER BY code"
    ) == [
        ("U01", "市税务局党委"),
        ("U07", "市图书馆党支部"),
    ]
    log = events(demo_engine)
    assert len(log) == before + 1
    row = log.iloc[0]
    assert (row["action"], row["entity"], row["actor"], row["source"]) == (
        "unit.edit",
        "unit",
        "admin",
        "web",
    )
    assert row["old"] == {"changed": {"U01": {"name": "市税务局机关党委"}}, "deleted": []}
    assert row["new"]["added"] == ["U07"]
    assert row["new"]["changed"] == {"U01": {"name": "市税务局党委"}}
    # Renaming U01 changes how its brands show in both rounds: their caches must refresh.
    assert {k: v - revs[k] for k, v in revisions(demo_engine).items()} == {"2025": 1, "2026": 1}


def test_units_every_problem_at_once_nothing_written(demo_engine: Engine) -> None:
    before = (len(events(demo_engine)), revisions(demo_engine))
    u02 = unit_id(demo_engine, "U02")
    with pytest.raises(InvalidInput) as exc:
        roster.apply_units(
            demo_engine,
            actor=ADMIN,
            edit=TableEdit(
                changed={u02: {"code": "U01"}},
                added=[
                    {"code": "", "name": "无编号单位"},
                    {"code": "U08", "name": "市第一中学党委"},
                    {"code": "X" * 40, "name": "编号太长"},
                    {"code": "U09", "name": "好单位"},
                ],
            ),
        )
    found = {(i["where"], i["column"]) for i in issues(exc)}
    assert found == {
        ("单位 U02", "编号"),  # duplicates U01
        ("新增第 1 行", "编号"),  # empty
        ("新增第 2 行", "名称"),  # name of U05
        ("新增第 3 行", "编号"),  # too long
    }
    assert "单位未保存，共 4 处问题" in exc.value.message
    assert "编号不能为空" in exc.value.message and "最多 32 个字符" in exc.value.message
    assert scalar(demo_engine, "SELECT count(*) FROM unit WHERE code = 'U09'") == 0
    assert (len(events(demo_engine)), revisions(demo_engine)) == before


def test_units_with_branches_or_judges_cannot_be_deleted(demo_engine: Engine) -> None:
    with pytest.raises(InvalidInput) as exc:
        roster.apply_units(
            demo_engine, actor=ADMIN, edit=TableEdit(deleted=[unit_id(demo_engine, "U01")])
        )
    messages = [i["message"] for i in issues(exc)]
    assert any("下还有 5 个支部，不能删除" in m for m in messages)
    assert any("有 1 位评委登记在单位" in m for m in messages)
    roster.apply_units(
        demo_engine, actor=ADMIN, edit=TableEdit(added=[{"code": "U07", "name": "空"}])
    )
    roster.apply_units(
        demo_engine, actor=ADMIN, edit=TableEdit(deleted=[unit_id(demo_engine, "U07")])
    )
    assert scalar(demo_engine, "SELECT count(*) FROM unit WHERE code = 'U07'") == 0
    assert events(demo_engine).iloc[0]["new"]["deleted"] == ["U07"]


def test_swapping_two_codes_in_one_save_works(demo_engine: Engine) -> None:
    """A plain UPDATE would trip the unique index halfway through the swap."""
    u01, u02 = unit_id(demo_engine, "U01"), unit_id(demo_engine, "U02")
    roster.apply_units(
        demo_engine,
        actor=ADMIN,
        edit=TableEdit(changed={u01: {"code": "U02"}, u02: {"code": "U01"}}),
    )
    assert unit_id(demo_engine, "U01") == u02 and unit_id(demo_engine, "U02") == u01


def test_an_empty_or_unchanged_edit_writes_nothing(demo_engine: Engine) -> None:
    before = (len(events(demo_engine)), revisions(demo_engine))
    assert roster.apply_units(demo_engine, actor=ADMIN, edit=TableEdit()).total == 0
    u01 = unit_id(demo_engine, "U01")
    same = TableEdit(changed={u01: {"name": " 市税务局机关党委 "}})  # only spaces differ
    assert roster.apply_units(demo_engine, actor=ADMIN, edit=same).total == 0
    assert (len(events(demo_engine)), revisions(demo_engine)) == before


def test_a_row_deleted_meanwhile_is_reported(sqlite_demo: Engine) -> None:
    with pytest.raises(InvalidInput, match="已被他人删除"):
        roster.apply_units(sqlite_demo, actor=ADMIN, edit=TableEdit(changed={99999: {"name": "x"}}))


# -- grid edits: branches -----------------------------------------------------------------------
def test_branches_belong_to_an_existing_unit_and_are_unique_within_it(demo_engine: Engine) -> None:
    with pytest.raises(InvalidInput) as exc:
        roster.apply_branches(
            demo_engine,
            actor=ADMIN,
            edit=TableEdit(
                added=[
                    {"unit": "不存在的单位", "name": "一支部"},
                    {"unit": "U01", "name": "办公室党支部"},  # exists in U01 already
                    {"unit": "市税务局机关党委", "name": ""},
                ]
            ),
        )
    by_row = {i["where"]: i["message"] for i in issues(exc)}
    assert "单位「不存在的单位」不存在" in by_row["新增第 1 行"]
    assert by_row["新增第 2 行"].startswith("单位「U01」下已有支部「办公室党支部」")
    assert by_row["新增第 3 行"] == "名称不能为空"
    # The same name under another unit is fine, and a unit may be named by code or name.
    result = roster.apply_branches(
        demo_engine,
        actor=ADMIN,
        edit=TableEdit(
            added=[
                {"unit": "U02", "name": "办公室党支部"},
                {"unit": "市红十字会党组", "name": "新支部"},
            ]
        ),
    )
    assert result.added == 2
    assert branch_id(demo_engine, "U02", "办公室党支部") and branch_id(demo_engine, "U03", "新支部")


def test_branch_with_brands_cannot_be_deleted_but_an_empty_one_can(demo_engine: Engine) -> None:
    used = branch_id(demo_engine, "U01", "办公室党支部")
    with pytest.raises(InvalidInput, match="支部下还有 1 个品牌，不能删除"):
        roster.apply_branches(demo_engine, actor=ADMIN, edit=TableEdit(deleted=[used]))
    roster.apply_branches(
        demo_engine, actor=ADMIN, edit=TableEdit(added=[{"unit": "U01", "name": "空支部"}])
    )
    empty = branch_id(demo_engine, "U01", "空支部")
    roster.apply_branches(demo_engine, actor=ADMIN, edit=TableEdit(deleted=[empty]))
    assert scalar(demo_engine, "SELECT count(*) FROM branch WHERE id = :i", i=empty) == 0


def test_moving_a_branch_to_another_unit(demo_engine: Engine) -> None:
    office = branch_id(demo_engine, "U01", "办公室党支部")
    revs = revisions(demo_engine)
    roster.apply_branches(
        demo_engine, actor=ADMIN, edit=TableEdit(changed={office: {"unit": "U02"}})
    )
    assert scalar(demo_engine, "SELECT unit_id FROM branch WHERE id = :i", i=office) == unit_id(
        demo_engine, "U02"
    )
    row = events(demo_engine).iloc[0]
    assert row["new"]["changed"] == {"市税务局机关党委 / 办公室党支部": {"unit": "U02"}}
    assert revisions(demo_engine)["2026"] == revs["2026"] + 1


# -- grid edits: brands -------------------------------------------------------------------------
def test_brand_checks_category_unit_and_branch(sqlite_demo: Engine) -> None:
    b002 = brand_id(sqlite_demo, "B002")
    with pytest.raises(InvalidInput) as exc:
        roster.apply_brands(
            sqlite_demo,
            actor=ADMIN,
            edit=TableEdit(
                changed={b002: {"category": "创新型", "branch": "高一年级党支部"}},
                added=[{"code": "B001", "name": "税连心", "unit": "U01", "branch": "办公室党支部"}],
            ),
        )
    found = {(i["where"], i["column"]): i["message"] for i in issues(exc)}
    assert (
        "只能是 问题导向型、优势资源开发型、体系统摄型 之一，或留空" in found[("品牌 B002", "类型")]
    )
    assert "下没有支部「高一年级党支部」" in found[("品牌 B002", "支部")]  # that branch is in U05
    assert found[("新增第 1 行", "编号")] == "品牌编号「B001」与 品牌 B001 重复"
    assert found[("新增第 1 行", "名称")] == "品牌名称「税连心」与 品牌 B001 重复"


def test_brand_category_is_tolerant_and_a_move_is_audited_as_text(demo_engine: Engine) -> None:
    b002 = brand_id(demo_engine, "B002")
    revs = revisions(demo_engine)
    roster.apply_brands(
        demo_engine,
        actor=ADMIN,
        edit=TableEdit(
            changed={
                b002: {
                    "category": "体系统摄",
                    "unit": "市人力资源和社会保障局党委",
                    "branch": "就业促进科党支部",
                }
            }
        ),
    )
    assert rows(demo_engine, "SELECT category, branch_id FROM brand WHERE code = 'B002'") == [
        ("体系统摄型", branch_id(demo_engine, "U02", "就业促进科党支部"))
    ]
    new = events(demo_engine).iloc[0]["new"]["changed"]["B002"]
    assert new["category"] == "体系统摄型" and new["unit"] == "市人力资源和社会保障局党委"
    assert {k: v - revs[k] for k, v in revisions(demo_engine).items()} == {"2025": 1, "2026": 1}


def test_deleting_a_brand_with_scores_is_refused_in_chinese(demo_engine: Engine) -> None:
    before = (len(events(demo_engine)), revisions(demo_engine))
    with pytest.raises(InvalidInput) as exc:
        roster.apply_brands(
            demo_engine, actor=ADMIN, edit=TableEdit(deleted=[brand_id(demo_engine, "B001")])
        )
    assert "品牌「税连心」已有评分或评语，不能删除" in exc.value.message
    assert scalar(demo_engine, "SELECT count(*) FROM brand WHERE code = 'B001'") == 1
    assert (len(events(demo_engine)), revisions(demo_engine)) == before


def test_deleting_an_unscored_brand_takes_it_out_of_its_rounds(demo_engine: Engine) -> None:
    new = new_unscored_brand(demo_engine)
    roster.set_round_brands(
        demo_engine,
        actor=ADMIN,
        round_code="2026",
        brand_codes=[
            *roster.round_brands(demo_engine, actor=ADMIN, round_code="2026").members,
            "B900",
        ],
    )
    with demo_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO assignment (round_id, brand_id, judge_id, created_at) "
                "SELECT r.id, :b, 1, CURRENT_TIMESTAMP FROM round r WHERE r.code = '2026'"
            ),
            {"b": new},
        )
    revs = revisions(demo_engine)
    result = roster.apply_brands(demo_engine, actor=ADMIN, edit=TableEdit(deleted=[new]))
    assert result.deleted == 1
    for table in ("brand", "roundbrand", "assignment"):
        column = "id" if table == "brand" else "brand_id"
        assert scalar(demo_engine, f"SELECT count(*) FROM {table} WHERE {column} = :b", b=new) == 0
    assert revisions(demo_engine)["2026"] == revs["2026"] + 1


def test_a_brand_of_a_locked_round_cannot_be_deleted(demo_engine: Engine) -> None:
    new = new_unscored_brand(demo_engine)
    with demo_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO roundbrand (round_id, brand_id) "
                "SELECT id, :b FROM round WHERE code = '2025'"
            ),
            {"b": new},
        )
    with pytest.raises(InvalidInput, match="属于已锁定或已发布的轮次 2025"):
        roster.apply_brands(demo_engine, actor=ADMIN, edit=TableEdit(deleted=[new]))


def test_swapping_brand_names(demo_engine: Engine) -> None:
    b1, b2 = brand_id(demo_engine, "B001"), brand_id(demo_engine, "B002")
    roster.apply_brands(
        demo_engine,
        actor=ADMIN,
        edit=TableEdit(changed={b1: {"name": "心服务·行致远"}, b2: {"name": "税连心"}}),
    )
    assert dict(
        rows(demo_engine, "SELECT code, name FROM brand WHERE code IN ('B001','B002')")
    ) == {
        "B001": "心服务·行致远",
        "B002": "税连心",
    }


# -- TableEdit from the data editor -------------------------------------------------------------
def test_table_edit_from_editor_state_and_from_two_tables() -> None:
    shown = pd.DataFrame({"id": [10, 11, 12], "code": ["A", "B", "C"], "name": ["a", "b", "c"]})
    state = {
        "edited_rows": {0: {"name": "甲"}, "2": {"code": "D"}},
        "added_rows": [{"code": "E", "name": "e"}, {}],
        "deleted_rows": [1],
    }
    edit = TableEdit.from_editor(shown, state)
    assert edit.changed == {10: {"name": "甲"}, 12: {"code": "D"}}
    assert edit.added == [{"code": "E", "name": "e"}]  # the blank added row is ignored
    assert edit.deleted == [11]
    edited = pd.DataFrame({"id": [10, 12, None], "code": ["A", "D", "E"], "name": ["甲", "c", "e"]})
    assert TableEdit.between(shown, edited) == TableEdit(
        changed={10: {"name": "甲"}, 12: {"code": "D"}},
        added=[{"code": "E", "name": "e"}],
        deleted=[11],
    )
    assert TableEdit.from_editor(shown, {}).empty


# -- brands taking part in a round --------------------------------------------------------------
def test_round_membership_add_and_remove(demo_engine: Engine) -> None:
    new_unscored_brand(demo_engine)
    members = roster.round_brands(demo_engine, actor=ADMIN, round_code="2026")
    assert len(members.members) == 26 and members.editable
    revs = revisions(demo_engine)
    change = roster.set_round_brands(
        demo_engine, actor=CLI, round_code="2026", brand_codes=[*members.members, "B900"]
    )
    assert change.added == ("B900",) and change.removed == ()
    row = events(demo_engine).iloc[0]
    assert (row["action"], row["round_code"], row["source"]) == ("round.brands", "2026", "cli")
    assert row["new"]["added"] == ["B900"]
    assert revisions(demo_engine)["2026"] == revs["2026"] + 1
    change = roster.set_round_brands(
        demo_engine, actor=ADMIN, round_code="2026", brand_codes=members.members
    )
    assert change.removed == ("B900",)


def test_round_membership_refuses_scored_brands_and_closed_rounds(demo_engine: Engine) -> None:
    before = (len(events(demo_engine)), revisions(demo_engine))
    with pytest.raises(Conflict, match="B001 在轮次 2026 已有评分或评语，不能移出本轮"):
        roster.set_round_brands(
            demo_engine,
            actor=ADMIN,
            round_code="2026",
            brand_codes=[f"B{i:03d}" for i in range(2, 27)],
        )
    with pytest.raises(Conflict, match=r"当前为「已发布」.*只有「筹备」或「评分中」"):
        roster.set_round_brands(demo_engine, actor=ADMIN, round_code="2025", brand_codes=[])
    with pytest.raises(InvalidInput, match="找不到品牌编号：B999"):
        roster.set_round_brands(demo_engine, actor=ADMIN, round_code="2026", brand_codes=["B999"])
    assert (len(events(demo_engine)), revisions(demo_engine)) == before


def test_round_membership_no_change_leaves_no_trace(demo_engine: Engine) -> None:
    members = roster.round_brands(demo_engine, actor=ADMIN, round_code="2026").members
    before = (len(events(demo_engine)), revisions(demo_engine))
    change = roster.set_round_brands(
        demo_engine, actor=ADMIN, round_code="2026", brand_codes=members
    )
    assert not (change.added or change.removed)
    assert (len(events(demo_engine)), revisions(demo_engine)) == before


def test_codes_from_editor() -> None:
    frame = pd.DataFrame(
        {"code": ["B1", "B2", "B3"], "in_round": [True, False, True], "id": [1, 2, 3]}
    )
    members = roster.RoundBrands(round=None, brands=frame)  # type: ignore[arg-type]
    state = {"edited_rows": {1: {"in_round": True}, 2: {"in_round": False}}}
    assert members.codes_from_editor(state) == ["B1", "B2"]


# -- the Excel roster ---------------------------------------------------------------------------
def test_template_round_trips_with_nothing_to_write(demo_engine: Engine) -> None:
    data = roster.roster_template(demo_engine, actor=ADMIN)
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["品牌名册", "填表说明"]
    sheet = book["品牌名册"]
    assert [c.value for c in sheet[1]] == HEADERS
    assert sheet.max_row == 27
    preview = roster.preview_roster_import(
        demo_engine, actor=ADMIN, file_name="名册.xlsx", data=data
    )
    assert preview.ok and preview.counts.writes == 0
    assert preview.counts.brands_unchanged == 26


def test_import_previews_counts_then_commits_once(demo_engine: Engine) -> None:
    data = xlsx(
        {
            "名册": [
                [" 单 位 ", "党支部", "品牌代码", "品牌名称", "品牌口号", "类型"],  # tolerated
                ["U01", "办公室党支部", "B003", "红色引擎2.0", "新口号", "体系统摄"],
                ["市图书馆党委", "阅读推广党支部", "B100", "书香党建", "", "问题导向型"],
                ["市图书馆党委", "阅读推广党支部", "B101", "书香党建二", "", ""],
                ["市税务局机关党委", "新设党支部", "B102", "税务新品牌", "", ""],
                [None, None, None, None, None, None],  # blank rows are skipped
            ]
        }
    )
    before = len(events(demo_engine))
    revs = revisions(demo_engine)
    preview = roster.preview_roster_import(
        demo_engine, actor=ADMIN, file_name="名册.xlsx", data=data
    )
    assert preview.ok, preview.issues
    assert preview.counts == roster.RosterCounts(
        units_new=1, branches_new=2, brands_new=3, brands_changed=1, brands_unchanged=0
    )
    assert set(preview.changes["字段"]) == {"品牌名称", "口号"}  # 类型 already 体系统摄型
    assert len(events(demo_engine)) == before  # a preview writes nothing
    counts = roster.commit_roster_import(demo_engine, actor=ADMIN, preview=preview)
    assert counts == preview.counts
    assert rows(demo_engine, "SELECT code, name FROM unit WHERE code = 'U07'") == [
        ("U07", "市图书馆党委")
    ]
    assert rows(demo_engine, "SELECT name, slogan, category FROM brand WHERE code = 'B003'") == [
        ("红色引擎2.0", "新口号", "体系统摄型")
    ]
    # Columns the file lacks (简介) are kept; new brands get them empty.
    assert scalar(demo_engine, "SELECT description FROM brand WHERE code = 'B003'")
    assert scalar(demo_engine, "SELECT description FROM brand WHERE code = 'B100'") == ""
    log = events(demo_engine)
    assert len(log) == before + 1
    row = log.iloc[0]
    assert row["action"] == "roster.import" and row["new"]["brands_added"] == [
        "B100",
        "B101",
        "B102",
    ]
    assert row["new"]["brands_changed"] == ["B003"] and row["new"]["counts"]["units_new"] == 1
    assert revisions(demo_engine)["2026"] == revs["2026"] + 1  # B003 takes part in 2026


def test_import_reports_every_problem_with_its_cell(sqlite_demo: Engine) -> None:
    data = xlsx(
        {
            "说明": [["这里不是名册"]],
            "名册": [
                ["某某单位名册"],  # a title row above the header
                HEADERS,
                ["U01", "办公室党支部", "B200", "甲品牌", "", "", "奇怪型"],
                ["U01", "", "B200", "乙品牌", "", "", ""],
                ["", "办公室党支部", "B201", "税连心", "", "", ""],
                ["U01", "办公室党支部", "", "丙品牌", "x" * 300, "", ""],
            ],
        }
    )
    before = len(events(sqlite_demo))
    preview = roster.preview_roster_import(
        sqlite_demo, actor=ADMIN, file_name="名册.xlsx", data=data
    )
    assert not preview.ok
    found = {(i.sheet, i.where): i.message for i in preview.issues}
    assert found == {
        (
            "名册",
            "G3",
        ): "类型「奇怪型」无效，只能是 问题导向型、优势资源开发型、体系统摄型 之一，或留空",
        ("名册", "B4"): "支部不能为空",
        ("名册", "C4"): "品牌编号 B200 与 C3 重复",
        ("名册", "A5"): "单位不能为空",
        ("名册", "D5"): "品牌名称「税连心」与 已有品牌 B001 重复",
        ("名册", "C6"): "品牌编号不能为空",
        ("名册", "E6"): "口号最多 256 个字符（当前 300 个）",
    }
    table = preview.issue_table()
    assert list(table.columns) == ["工作表", "单元格", "列", "说明"] and len(table) == 7
    with pytest.raises(InvalidInput):
        roster.commit_roster_import(sqlite_demo, actor=ADMIN, preview=preview)
    assert scalar(sqlite_demo, "SELECT count(*) FROM brand WHERE code = 'B200'") == 0
    assert len(events(sqlite_demo)) == before


@pytest.mark.parametrize(
    ("sheets", "message"),
    [
        ({"名册": [["单位", "支部", "品牌名称"], ["U01", "x", "y"]]}, "表头缺少必填列：品牌编号"),
        ({"名册": [["随便", "什么"], ["1", "2"]]}, "没有找到品牌名册"),
        ({"名册": [HEADERS]}, "没有找到品牌名册"),
    ],
    ids=["missing-column", "no-header", "no-rows"],
)
def test_import_without_a_usable_roster(
    sqlite_demo: Engine, sheets: dict[str, list[list[Any]]], message: str
) -> None:
    preview = roster.preview_roster_import(
        sqlite_demo, actor=ADMIN, file_name="x.xlsx", data=xlsx(sheets)
    )
    assert not preview.ok and message in preview.issues[0].message


def test_unreadable_file_is_an_issue_not_a_crash(sqlite_demo: Engine) -> None:
    preview = roster.preview_roster_import(
        sqlite_demo, actor=ADMIN, file_name="x.xlsx", data=b"not a workbook"
    )
    assert not preview.ok and "无法识别的文件格式" in preview.issues[0].message


def test_commit_refuses_when_the_roster_moved_since_the_preview(demo_engine: Engine) -> None:
    data = xlsx({"名册": [HEADERS[:4], ["U01", "办公室党支部", "B300", "新名字"]]})
    preview = roster.preview_roster_import(demo_engine, actor=ADMIN, file_name="r.xlsx", data=data)
    assert preview.counts.brands_new == 1
    roster.apply_brands(
        demo_engine,
        actor=ADMIN,
        edit=TableEdit(
            added=[{"code": "B300", "name": "抢先", "unit": "U01", "branch": "办公室党支部"}]
        ),
    )
    before = len(events(demo_engine))
    with pytest.raises(Conflict, match="名册在预检之后已被修改"):
        roster.commit_roster_import(demo_engine, actor=ADMIN, preview=preview)
    assert scalar(demo_engine, "SELECT name FROM brand WHERE code = 'B300'") == "抢先"
    assert len(events(demo_engine)) == before


def test_new_unit_codes_skip_taken_ones() -> None:
    assert roster._next_codes(["U01", "U03"], 3) == ["U02", "U04", "U05"]


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("问题导向型", "问题导向型"),
        (" 问题导向 ", "问题导向型"),
        ("优势资源开发", "优势资源开发型"),
        ("体系统摄型", "体系统摄型"),
        ("", ""),
        (None, ""),
        ("创新型", None),
    ],
)
def test_category_of(typed: str | None, meant: str | None) -> None:
    assert roster.category_of(typed) == meant  # type: ignore[arg-type]
