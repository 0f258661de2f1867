"""The roster: units (上级党组织), branches (党支部) and brands, and who takes part in a round.

Admins edit each table in a grid. A save is one :class:`TableEdit` (rows changed,
added, deleted, keyed by id), applied in ONE transaction after the whole resulting
table was checked: unique codes and names, a branch under an existing unit, a brand
under an existing branch of its unit, a known category. Every problem is reported at
once (:class:`Issue`) and nothing is written while any remain. Deleting what others
hang on is refused with a message saying what to do first (a unit with branches or
judges, a branch with brands, a brand with scores).

A roster can also come from Excel (columns 单位, 支部, 品牌编号, 品牌名称, 口号, 简介,
类型, headers tolerated as :func:`evalcore.excel.layout.normalize_header` folds them):
:func:`preview_roster_import` validates every cell and counts what would change;
:func:`commit_roster_import` re-plans inside the transaction and refuses if the
roster moved since the preview, so what the admin confirmed is what gets written.
An import adds and updates; it never deletes. :func:`roster_template` writes the
current roster in the import layout, so export, edit and re-import round-trip.

Roster rows are shared by every round: a change bumps the revision of each round
whose brands it touches, so cached results of those rounds are recomputed.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col
from xlsxwriter.workbook import Workbook

from evalcore.db import transaction
from evalcore.errors import Conflict, InvalidInput
from evalcore.excel import layout
from evalcore.excel.cells import TextFormat, write_header, write_text
from evalcore.excel.reader import RawSheet, UnreadableFile, read_workbook
from evalcore.lifecycle import RoundStatus
from evalcore.models import (
    Assignment,
    Branch,
    Brand,
    ConflictDeclaration,
    ImportChange,
    Judge,
    Round,
    RoundBrand,
    Score,
    ScoreSheet,
    Unit,
    table_of,
    utcnow,
)
from evalcore.permissions import Action, Actor, require
from evalcore.services.audit import record
from evalcore.services.results import RoundInfo
from evalcore.store import get_round

#: The brand types of the campaign; a brand may also leave it empty.
CATEGORIES = ("问题导向型", "优势资源开发型", "体系统摄型")
#: Column limits of the tables (models.py); checked here so the message can be Chinese.
MAX_LEN = {"code": 32, "name": 128, "branch": 128, "unit": 128, "slogan": 256}
FIELD_LABELS = {
    "code": "编号",
    "name": "名称",
    "unit": "单位",
    "branch": "支部",
    "slogan": "口号",
    "description": "简介",
    "category": "类型",
}
UNIT_FIELDS = ("code", "name")
BRANCH_FIELDS = ("unit", "name")
BRAND_FIELDS = ("code", "name", "unit", "branch", "slogan", "description", "category")
#: Rounds in these states may change which brands take part.
OPEN_STATES = (RoundStatus.DRAFT.value, RoundStatus.SCORING.value)
#: Messages list this many problems; the rest are counted (all are in ``fields``).
_LISTED = 20


# -- value objects ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Issue:
    """One problem: where (a grid row or an Excel cell), which column, what is wrong."""

    where: str
    column: str
    message: str
    sheet: str = ""

    def line(self) -> str:
        place = f"{self.sheet}!{self.where}" if self.sheet else self.where
        return (
            f"{place}「{self.column}」：{self.message}"
            if self.column
            else f"{place}：{self.message}"
        )

    def as_dict(self) -> dict[str, str]:
        return {
            "sheet": self.sheet,
            "where": self.where,
            "column": self.column,
            "message": self.message,
        }


def issue_table(issues: Sequence[Issue], *, cells: bool = False) -> pd.DataFrame:
    """Issues as a table to show: grid problems by row, import problems by sheet and cell."""
    if cells:
        by_cell = [(i.sheet, i.where, i.column, i.message) for i in issues]
        return pd.DataFrame(by_cell, columns=["工作表", "单元格", "列", "说明"])
    by_row = [(i.where, i.column, i.message) for i in issues]
    return pd.DataFrame(by_row, columns=["行", "列", "说明"])


def issues_of(exc: Exception, *, cells: bool = False) -> pd.DataFrame | None:
    """The issue table carried by a refusal from this module, if it carries one."""
    found = getattr(exc, "fields", {}).get("issues")
    if not isinstance(found, list) or not found:
        return None
    return issue_table([Issue(**i) for i in found], cells=cells)


def _refuse(issues: Sequence[Issue], what: str) -> InvalidInput:
    """One InvalidInput carrying every issue; the message lists the first ones."""
    lines = [i.line() for i in issues[:_LISTED]]
    more = f"；另有 {len(issues) - _LISTED} 处" if len(issues) > _LISTED else ""
    return InvalidInput(
        f"{what}未保存，共 {len(issues)} 处问题：" + "；".join(lines) + more,
        issues=[i.as_dict() for i in issues],
    )


@dataclass(frozen=True)
class TableEdit:
    """What a grid save changes: cells of existing rows by id, new rows, deleted ids.

    Built from ``st.data_editor``'s state with :meth:`from_editor`, or by comparing the
    shown table with the edited one (:meth:`between`). Only the table's own fields are
    taken; read-only columns (counts, flags) are ignored.
    """

    changed: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    added: Sequence[Mapping[str, Any]] = ()
    deleted: Sequence[int] = ()

    @property
    def empty(self) -> bool:
        return not (self.changed or self.added or self.deleted)

    @classmethod
    def from_editor(cls, original: pd.DataFrame, state: Mapping[str, Any]) -> TableEdit:
        """From ``st.session_state[key]`` of a data_editor showing ``original``.

        ``original`` must have an ``id`` column and be shown in its row order (the
        editor reports edited and deleted rows by position).
        """
        ids = [int(i) for i in original["id"].tolist()]
        changed: dict[int, dict[str, Any]] = {}
        for pos, cells in (state.get("edited_rows") or {}).items():
            changed.setdefault(ids[int(pos)], {}).update(cells)
        deleted = [ids[int(pos)] for pos in state.get("deleted_rows") or ()]
        added = [dict(row) for row in state.get("added_rows") or () if _has_values(row)]
        return cls(
            changed={i: c for i, c in changed.items() if i not in deleted},
            added=added,
            deleted=deleted,
        )

    @classmethod
    def between(cls, original: pd.DataFrame, edited: pd.DataFrame) -> TableEdit:
        """From the table shown and the table as edited (rows without an id are new)."""
        before = {int(r["id"]): r for r in original.to_dict("records")}
        changed: dict[int, dict[str, Any]] = {}
        added: list[dict[str, Any]] = []
        seen: set[int] = set()
        for row in edited.to_dict("records"):
            rid = row.get("id")
            if _blank(rid):
                if _has_values({k: v for k, v in row.items() if k != "id"}):
                    added.append({k: v for k, v in row.items() if k != "id"})
                continue
            rid = int(rid)
            seen.add(rid)
            old = before.get(rid, {})
            diff = {k: v for k, v in row.items() if k != "id" and _text(v) != _text(old.get(k))}
            if diff:
                changed[rid] = diff
        return cls(changed=changed, added=added, deleted=[i for i in before if i not in seen])


@dataclass(frozen=True)
class EditResult:
    """How many rows a save added, changed and deleted."""

    added: int = 0
    changed: int = 0
    deleted: int = 0

    @property
    def total(self) -> int:
        return self.added + self.changed + self.deleted


@dataclass(frozen=True)
class Roster:
    """The roster as the admin grids show it.

    ``units``: id, code, name, branches, brands, judges (counts of what hangs on each);
    ``branches``: id, unit, name, brands; ``brands``: id, code, name, unit, branch,
    slogan, description, category, rounds (codes it takes part in), scored (it has
    scores or comments, so it cannot be deleted).
    """

    units: pd.DataFrame
    branches: pd.DataFrame
    brands: pd.DataFrame


@dataclass(frozen=True)
class RoundBrands:
    """Every brand with whether it takes part in one round (and has data there)."""

    round: RoundInfo
    brands: pd.DataFrame  # id, code, name, unit, branch, category, in_round, scored

    @property
    def editable(self) -> bool:
        return self.round.status in OPEN_STATES

    @property
    def members(self) -> list[str]:
        return self.brands.loc[self.brands["in_round"], "code"].tolist()

    @property
    def all_codes(self) -> list[str]:
        return self.brands["code"].tolist()

    def codes_from_editor(self, state: Mapping[str, Any]) -> list[str]:
        """The brand codes ticked 参评 after the edits in a data editor's state."""
        ticked = dict(zip(self.brands["code"], self.brands["in_round"], strict=True))
        codes = self.brands["code"].tolist()
        for pos, cells in (state.get("edited_rows") or {}).items():
            if "in_round" in cells:
                ticked[codes[int(pos)]] = bool(cells["in_round"])
        return [c for c, on in ticked.items() if on]


@dataclass(frozen=True)
class RoundBrandChange:
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


# -- small helpers -------------------------------------------------------------------------------
def _blank(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _text(value: Any) -> str:
    """A cell as trimmed text; empty, None and NaN are ``""``."""
    return "" if _blank(value) else str(value).strip()


def _has_values(row: Mapping[str, Any]) -> bool:
    return any(_text(v) for v in row.values())


def _read(conn: Connection, stmt: Any, columns: Sequence[str]) -> pd.DataFrame:
    rows = [tuple(r) for r in conn.execute(stmt)]
    return pd.DataFrame.from_records(rows, columns=list(columns))


def _fold(text: str) -> str:
    """How names are compared for duplicates: width and spaces folded (NFKC)."""
    return unicodedata.normalize("NFKC", text).replace(" ", "").casefold()


def category_of(text: str) -> str | None:
    """The category ``text`` means (``问题导向`` -> ``问题导向型``); "" none, None unknown."""
    folded = unicodedata.normalize("NFKC", _text(text)).replace(" ", "")
    if not folded:
        return ""
    for category in CATEGORIES:
        if folded in (category, category.removesuffix("型")):
            return category
    return None


def _category_message(value: str) -> str:
    return f"类型「{value}」无效，只能是 {'、'.join(CATEGORIES)} 之一，或留空"


def _length_issue(value: str, name: str) -> str | None:
    limit = MAX_LEN.get(name)
    if limit and len(value) > limit:
        return f"{FIELD_LABELS[name]}最多 {limit} 个字符（当前 {len(value)} 个）"
    return None


def _bump_rounds(conn: Connection, brand_ids: Iterable[int]) -> None:
    """Bump the revision of every round that includes one of ``brand_ids``."""
    ids = sorted({int(i) for i in brand_ids})
    if not ids:
        return
    rounds = select(col(RoundBrand.round_id)).where(col(RoundBrand.brand_id).in_(ids))
    conn.execute(
        update(Round)
        .where(col(Round.id).in_(rounds))
        .values(revision=Round.revision + 1, updated_at=utcnow())
    )


def _two_phase_update(
    conn: Connection, table: type[SQLModel], rows: list[dict[str, Any]], unique: Sequence[str]
) -> None:
    """Update rows by id with executemany, parking changed unique values first.

    Swapping two names (A<->B) in one save would trip the unique index halfway through a
    plain update; writing a placeholder for every changed unique value first avoids it.
    """
    if not rows:
        return
    t = table_of(table)
    parked = [
        {"b_id": r["id"], **{k: f"~{r['id']}~{k}~" for k in unique if k in r}}
        for r in rows
        if any(k in r for k in unique)
    ]
    by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in parked:
        by_keys.setdefault(tuple(k for k in unique if k in row), []).append(row)
    for keys, batch in by_keys.items():
        stmt = update(t).where(t.c.id == bindparam("b_id")).values({k: bindparam(k) for k in keys})
        conn.execute(stmt, batch)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for r in rows:
        keys = tuple(sorted(k for k in r if k != "id"))
        groups.setdefault(keys, []).append({"b_id": r["id"], **{k: r[k] for k in keys}})
    for keys, batch in groups.items():
        stmt = update(t).where(t.c.id == bindparam("b_id")).values({k: bindparam(k) for k in keys})
        conn.execute(stmt, batch)


def _integrity() -> Conflict:
    return Conflict("保存失败：数据已被他人同时修改（编号或名称重复），请刷新页面后重试")


# -- reading -------------------------------------------------------------------------------------
def _units(conn: Connection) -> pd.DataFrame:
    return _read(
        conn, select(col(Unit.id), col(Unit.code), col(Unit.name)).order_by(Unit.code), UNIT_COLS
    )


UNIT_COLS = ["id", "code", "name"]
BRANCH_COLS = ["id", "unit_id", "unit", "name"]
BRAND_COLS = [
    "id",
    "code",
    "name",
    "branch_id",
    "unit_id",
    "unit",
    "branch",
    "slogan",
    "description",
    "category",
]


def _branches(conn: Connection) -> pd.DataFrame:
    stmt = (
        select(col(Branch.id), col(Branch.unit_id), col(Unit.name), col(Branch.name))
        .join(Unit, col(Unit.id) == Branch.unit_id)
        .order_by(Unit.code, Branch.name)
    )
    return _read(conn, stmt, BRANCH_COLS)


def _brands(conn: Connection) -> pd.DataFrame:
    stmt = (
        select(
            col(Brand.id),
            col(Brand.code),
            col(Brand.name),
            col(Brand.branch_id),
            col(Branch.unit_id),
            col(Unit.name),
            col(Branch.name),
            col(Brand.slogan),
            col(Brand.description),
            col(Brand.category),
        )
        .join(Branch, col(Branch.id) == Brand.branch_id)
        .join(Unit, col(Unit.id) == Branch.unit_id)
        .order_by(Brand.code)
    )
    return _read(conn, stmt, BRAND_COLS)


def _scored_brands(conn: Connection, round_id: int | None = None) -> set[int]:
    """Brands with scores, sheets (comments) or import history, optionally in one round."""
    found: set[int] = set()
    for table in (Score, ScoreSheet):
        stmt = select(col(table.brand_id)).distinct()
        if round_id is not None:
            stmt = stmt.where(col(table.round_id) == round_id)
        found.update(int(b) for (b,) in conn.execute(stmt))
    if round_id is None:
        found.update(int(b) for (b,) in conn.execute(select(col(ImportChange.brand_id)).distinct()))
    return found


def _counts(conn: Connection, column: Any, group: Any) -> dict[int, int]:
    return {
        int(k): int(n)
        for k, n in conn.execute(select(group, func.count(column)).group_by(group))
        if k is not None
    }


def read_roster(engine: Engine, *, actor: Actor) -> Roster:
    """Units, branches and brands with what hangs on each (for the admin grids)."""
    require(actor, Action.MANAGE_ROSTER)
    with transaction(engine) as session:
        conn = session.connection()
        units, branches, brands = _units(conn), _branches(conn), _brands(conn)
        branch_count = _counts(conn, Branch.id, Branch.unit_id)
        judge_count = _counts(conn, Judge.id, Judge.unit_id)
        in_rounds = _read(
            conn,
            select(col(RoundBrand.brand_id), col(Round.code))
            .join(Round, col(Round.id) == RoundBrand.round_id)
            .order_by(Round.code),
            ["brand_id", "round"],
        )
        scored = _scored_brands(conn)
    brand_count = brands.groupby("unit_id").size()
    units["branches"] = units["id"].map(branch_count).fillna(0).astype(int)
    units["brands"] = units["id"].map(brand_count).fillna(0).astype(int)
    units["judges"] = units["id"].map(judge_count).fillna(0).astype(int)
    branches["brands"] = branches["id"].map(brands.groupby("branch_id").size()).fillna(0)
    branches["brands"] = branches["brands"].astype(int)
    rounds = in_rounds.groupby("brand_id")["round"].agg("、".join)
    brands["rounds"] = brands["id"].map(rounds).fillna("")
    brands["scored"] = brands["id"].isin(scored)
    return Roster(
        units=units.reset_index(drop=True),
        branches=branches.drop(columns="unit_id").reset_index(drop=True),
        brands=brands.drop(columns=["branch_id", "unit_id"]).reset_index(drop=True),
    )


# -- applying grid edits -------------------------------------------------------------------------
@dataclass
class _Planned:
    """A grid edit checked against the current table: the rows to write and the audit."""

    updates: list[dict[str, Any]] = field(default_factory=list)
    inserts: list[dict[str, Any]] = field(default_factory=list)
    deletes: list[int] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    old: dict[str, Any] = field(default_factory=dict)
    new: dict[str, Any] = field(default_factory=dict)


def _merged(
    current: pd.DataFrame, edit: TableEdit, fields: Sequence[str], label: Callable[[Any], str]
) -> tuple[pd.DataFrame, list[Issue]]:
    """The table after ``edit``, as text: one row per kept or new row.

    Adds ``state`` (``same``, ``changed`` or ``added``) and ``where`` (how messages name
    the row: its current key, or 新增第 n 行).
    """
    issues: list[Issue] = []
    changes = {int(k): v for k, v in edit.changed.items()}
    deleted = {int(i) for i in edit.deleted}
    known = set(current["id"].astype(int))
    for rid in sorted((set(changes) | deleted) - known):
        issues.append(Issue(f"ID {rid}", "", "该行已被他人删除，请刷新页面后重试"))
    out: list[dict[str, Any]] = []
    for row in current.to_dict("records"):
        rid = int(row["id"])
        if rid in deleted:
            continue
        values = {f: _text(row[f]) for f in fields}
        state = "same"
        for name, value in changes.get(rid, {}).items():
            if name in values and _text(value) != values[name]:
                values[name] = _text(value)
                state = "changed"
        out.append({"id": rid, "where": label(row), "state": state, **values})
    for n, row in enumerate(edit.added, start=1):
        values = {f: _text(row.get(f)) for f in fields}
        out.append({"id": None, "where": f"新增第 {n} 行", "state": "added", **values})
    return pd.DataFrame(out, columns=["id", "where", "state", *fields]), issues


def _check_rows(frame: pd.DataFrame, issues: list[Issue], required: Sequence[str]) -> None:
    """Required fields and lengths, on the rows the edit touched."""
    touched = frame[frame["state"] != "same"]
    for name in required:
        for where in touched.loc[touched[name] == "", "where"]:
            issues.append(Issue(where, FIELD_LABELS[name], f"{FIELD_LABELS[name]}不能为空"))
    for name in [c for c in touched.columns if c in MAX_LEN and c in FIELD_LABELS]:
        for where, value in touched[["where", name]].itertuples(index=False):
            if problem := _length_issue(value, name):
                issues.append(Issue(where, FIELD_LABELS[name], problem))


def _check_unique(
    frame: pd.DataFrame,
    issues: list[Issue],
    keys: Sequence[str],
    message: Callable[[Mapping[str, Any], str], str],
) -> None:
    """Rows the edit touched whose ``keys`` (folded) equal another row's."""
    filled = frame[list(keys)].ne("").all(axis=1)
    folded = frame[list(keys)].apply(lambda r: "\x1f".join(_fold(str(v)) for v in r), axis=1)
    dup = folded.duplicated(keep=False) & filled
    for idx in frame.index[dup & (frame["state"] != "same")]:
        others = frame.loc[dup & (folded == folded[idx]) & (frame.index != idx), "where"]
        row = frame.loc[idx]
        issues.append(Issue(row["where"], FIELD_LABELS[keys[-1]], message(row, "、".join(others))))


def _fill_plan(
    plan: _Planned,
    current: pd.DataFrame,
    frame: pd.DataFrame,
    *,
    shown: Sequence[str],
    stored: Sequence[str],
    key: Callable[[Mapping[str, Any]], str],
) -> None:
    """Rows to write (``stored`` table columns) and the audit's old/new (``shown`` text).

    ``current`` and ``frame`` both carry the shown fields (what people see, e.g. a unit
    name) and the stored columns (what the table holds, e.g. unit_id).
    """
    before = current.set_index("id")
    old_rows: dict[str, Any] = {}
    new_rows: dict[str, Any] = {}
    for row in frame[frame["state"] == "changed"].to_dict("records"):
        old = before.loc[row["id"]]
        write = {c: row[c] for c in stored if _text(old[c]) != _text(row[c])}
        if not write:
            continue
        seen = [f for f in shown if _text(old[f]) != _text(row[f])]
        name = key(old)
        old_rows[name] = {f: _text(old[f]) for f in seen}
        new_rows[name] = {f: row[f] for f in seen}
        plan.updates.append({"id": int(row["id"]), **write})
    added = frame[frame["state"] == "added"].to_dict("records")
    plan.inserts = [{c: row[c] for c in stored} for row in added]
    deleted = [key(before.loc[i]) for i in plan.deletes]
    if old_rows or deleted:
        plan.old = {"changed": old_rows, "deleted": deleted}
    plan.new = {
        "added": [key(r) for r in added],
        "changed": new_rows,
        "deleted": deleted,
        "counts": {"added": len(added), "changed": len(plan.updates), "deleted": len(deleted)},
    }


def _unit_lookup(units: pd.DataFrame) -> dict[str, int]:
    """Unit text as typed -> id: names, then codes (trimmed, width-folded)."""
    lookup = {_fold(c): int(i) for i, c in zip(units["id"], units["code"], strict=True)}
    lookup.update({_fold(n): int(i) for i, n in zip(units["id"], units["name"], strict=True)})
    return lookup


def _branch_lookup(branches: pd.DataFrame) -> dict[tuple[int, str], int]:
    """(unit id, folded branch name) -> branch id."""
    return {
        (int(u), _fold(n)): int(i)
        for i, u, n in zip(branches["id"], branches["unit_id"], branches["name"], strict=True)
    }


def _plan_units(conn: Connection, edit: TableEdit) -> _Planned:
    current = _units(conn)
    frame, issues = _merged(current, edit, UNIT_FIELDS, lambda r: f"单位 {r['code']}")
    _check_rows(frame, issues, UNIT_FIELDS)
    _check_unique(frame, issues, ["code"], lambda r, o: f"单位编号「{r['code']}」与 {o} 重复")
    _check_unique(frame, issues, ["name"], lambda r, o: f"单位名称「{r['name']}」与 {o} 重复")
    plan = _Planned(issues=issues)
    names = current.set_index("id")
    plan.deletes = [int(i) for i in edit.deleted if int(i) in names.index]
    branches = _counts(conn, Branch.id, Branch.unit_id)
    judges = _counts(conn, Judge.id, Judge.unit_id)
    for uid in plan.deletes:
        where, name = f"单位 {names.loc[uid, 'code']}", names.loc[uid, "name"]
        if branches.get(uid):
            plan.issues.append(
                Issue(
                    where,
                    "",
                    f"单位「{name}」下还有 {branches[uid]} 个支部，不能删除；"
                    "请先删除或移走这些支部",
                )
            )
        if judges.get(uid):
            plan.issues.append(
                Issue(
                    where,
                    "",
                    f"有 {judges[uid]} 位评委登记在单位「{name}」，不能删除；"
                    "请先在“评委与用户”页修改这些评委的单位",
                )
            )
    _fill_plan(
        plan, current, frame, shown=UNIT_FIELDS, stored=UNIT_FIELDS, key=lambda r: str(r["code"])
    )
    return plan


def _plan_branches(conn: Connection, edit: TableEdit) -> _Planned:
    current = _branches(conn)
    lookup = _unit_lookup(_units(conn))
    frame, issues = _merged(current, edit, BRANCH_FIELDS, lambda r: f"{r['unit']} / {r['name']}")
    _check_rows(frame, issues, BRANCH_FIELDS)
    frame["unit_id"] = [lookup.get(_fold(u)) if u else None for u in frame["unit"]]
    bad_unit = (frame["state"] != "same") & (frame["unit"] != "") & frame["unit_id"].isna()
    for where, unit in frame.loc[bad_unit, ["where", "unit"]].itertuples(index=False):
        issues.append(
            Issue(where, "单位", f"单位「{unit}」不存在，请先在“单位”页添加，或选择已有单位")
        )
    # Within a unit by id, so a unit typed as "U01" or by its name is the same unit.
    frame["unit_key"] = [None if _blank(u) else str(int(u)) for u in frame["unit_id"]]
    _check_unique(
        frame.fillna({"unit_key": ""}),
        issues,
        ["unit_key", "name"],
        lambda r, o: f"单位「{r['unit']}」下已有支部「{r['name']}」（{o}）",
    )
    plan = _Planned(issues=issues)
    names = current.set_index("id")
    plan.deletes = [int(i) for i in edit.deleted if int(i) in names.index]
    counts = _counts(conn, Brand.id, Brand.branch_id)
    for bid in plan.deletes:
        if counts.get(bid):
            plan.issues.append(
                Issue(
                    f"{names.loc[bid, 'unit']} / {names.loc[bid, 'name']}",
                    "",
                    f"支部下还有 {counts[bid]} 个品牌，不能删除；请先删除这些品牌或改到其他支部",
                )
            )
    _fill_plan(
        plan,
        current,
        frame,
        shown=BRANCH_FIELDS,
        stored=("unit_id", "name"),
        key=lambda r: f"{r['unit']} / {r['name']}",
    )
    return plan


def _plan_brands(conn: Connection, edit: TableEdit) -> _Planned:
    current = _brands(conn)
    lookup = _unit_lookup(_units(conn))
    branch_ids = _branch_lookup(_branches(conn))
    frame, issues = _merged(current, edit, BRAND_FIELDS, lambda r: f"品牌 {r['code']}")
    _check_rows(frame, issues, ("code", "name", "unit", "branch"))
    _check_unique(frame, issues, ["code"], lambda r, o: f"品牌编号「{r['code']}」与 {o} 重复")
    _check_unique(frame, issues, ["name"], lambda r, o: f"品牌名称「{r['name']}」与 {o} 重复")
    placed: list[int | None] = []
    for row in frame.itertuples(index=False):
        unit_id = lookup.get(_fold(row.unit)) if row.unit else None
        branch_id = branch_ids.get((unit_id, _fold(row.branch))) if unit_id else None
        placed.append(branch_id)
        if row.state == "same":
            continue
        if row.unit and unit_id is None:
            issues.append(Issue(row.where, "单位", f"单位「{row.unit}」不存在，请先在“单位”页添加"))
        elif row.unit and row.branch and branch_id is None:
            issues.append(
                Issue(
                    row.where,
                    "支部",
                    f"单位「{row.unit}」下没有支部「{row.branch}」，请先在“支部”页添加",
                )
            )
        if category_of(row.category) is None:
            issues.append(Issue(row.where, "类型", _category_message(row.category)))
    frame["branch_id"] = placed
    frame["category"] = [category_of(c) or "" for c in frame["category"]]
    plan = _Planned(issues=issues)
    names = current.set_index("id")
    plan.deletes = [int(i) for i in edit.deleted if int(i) in names.index]
    if plan.deletes:
        scored = _scored_brands(conn)
        closed: dict[int, str] = dict(
            conn.execute(
                select(col(RoundBrand.brand_id), col(Round.code))
                .join(Round, col(Round.id) == RoundBrand.round_id)
                .where(
                    col(Round.status).not_in(OPEN_STATES),
                    col(RoundBrand.brand_id).in_(plan.deletes),
                )
            ).all()
        )
        for bid in plan.deletes:
            where, name = f"品牌 {names.loc[bid, 'code']}", names.loc[bid, "name"]
            if bid in scored:
                plan.issues.append(
                    Issue(
                        where,
                        "",
                        f"品牌「{name}」已有评分或评语，不能删除；"
                        "如不再参评，请在“参评品牌”中取消勾选",
                    )
                )
            elif bid in closed:
                plan.issues.append(
                    Issue(
                        where,
                        "",
                        f"品牌「{name}」属于已锁定或已发布的轮次 {closed[bid]}，不能删除",
                    )
                )
    _fill_plan(
        plan,
        current,
        frame,
        shown=BRAND_FIELDS,
        stored=("code", "name", "branch_id", "slogan", "description", "category"),
        key=lambda r: str(r["code"]),
    )
    return plan


def _brands_of(conn: Connection, kind: str, ids: Sequence[int]) -> list[int]:
    """Brands whose display (unit or branch name) an edit of these rows changes."""
    if not ids:
        return []
    if kind == "unit":
        stmt = (
            select(col(Brand.id))
            .join(Branch, col(Branch.id) == Brand.branch_id)
            .where(col(Branch.unit_id).in_(ids))
        )
    elif kind == "branch":
        stmt = select(col(Brand.id)).where(col(Brand.branch_id).in_(ids))
    else:
        return list(ids)
    # ``is not None`` only narrows the model's ``int | None``: a primary key is never NULL.
    return [b for (b,) in conn.execute(stmt) if b is not None]


def _delete_brand_links(conn: Connection, brand_ids: Sequence[int]) -> None:
    """A deleted brand (checked to have no scores) leaves its rounds, assignments, conflicts."""
    if not brand_ids:
        return
    for table in (ConflictDeclaration, Assignment, RoundBrand):
        t = table_of(table)
        conn.execute(delete(t).where(t.c.brand_id.in_(brand_ids)))


def _apply(
    engine: Engine,
    actor: Actor,
    edit: TableEdit,
    *,
    kind: str,
    label: str,
    table: type[SQLModel],
    planner: Callable[[Connection, TableEdit], _Planned],
    unique: Sequence[str],
) -> EditResult:
    """Check permission, plan, refuse with every issue or write, audit once, bump rounds."""
    require(actor, Action.MANAGE_ROSTER)
    if edit.empty:
        return EditResult()
    try:
        with transaction(engine) as session:
            conn = session.connection()
            plan = planner(conn, edit)
            if plan.issues:
                raise _refuse(plan.issues, label)
            result = EditResult(len(plan.inserts), len(plan.updates), len(plan.deletes))
            if not result.total:
                return result
            touched = [r["id"] for r in plan.updates] + plan.deletes
            _bump_rounds(conn, _brands_of(conn, kind, touched))
            if kind == "brand":
                _delete_brand_links(conn, plan.deletes)
            t = table_of(table)
            if plan.deletes:  # first: a freed code may be reused by an added row
                conn.execute(delete(t).where(t.c.id.in_(plan.deletes)))
            _two_phase_update(conn, table, plan.updates, unique)
            if plan.inserts:
                conn.execute(insert(t), plan.inserts)
            record(
                session,
                actor,
                action=f"{kind}.edit",
                entity=kind,
                old=plan.old or None,
                new=plan.new,
            )
            return result
    except IntegrityError as exc:
        raise _integrity() from exc


def apply_units(engine: Engine, *, actor: Actor, edit: TableEdit) -> EditResult:
    """Save the 单位 grid (code, name) in one transaction; admins only."""
    return _apply(
        engine,
        actor,
        edit,
        kind="unit",
        label="单位",
        table=Unit,
        planner=_plan_units,
        unique=("code", "name"),
    )


def apply_branches(engine: Engine, *, actor: Actor, edit: TableEdit) -> EditResult:
    """Save the 支部 grid (unit by name or code, name) in one transaction; admins only."""
    return _apply(
        engine,
        actor,
        edit,
        kind="branch",
        label="支部",
        table=Branch,
        planner=_plan_branches,
        unique=("name",),
    )


def apply_brands(engine: Engine, *, actor: Actor, edit: TableEdit) -> EditResult:
    """Save the 品牌 grid in one transaction; a brand with scores cannot be deleted."""
    return _apply(
        engine,
        actor,
        edit,
        kind="brand",
        label="品牌",
        table=Brand,
        planner=_plan_brands,
        unique=("code", "name"),
    )


# -- brands taking part in a round -------------------------------------------------------------
def round_brands(engine: Engine, *, actor: Actor, round_code: str) -> RoundBrands:
    """Every brand, flagged with whether it takes part in ``round_code``."""
    require(actor, Action.MANAGE_ROSTER)
    with transaction(engine) as session:
        rnd = get_round(session, round_code)
        assert rnd.id is not None
        conn = session.connection()
        brands = _brands(conn)
        members = {
            int(b)
            for (b,) in conn.execute(
                select(col(RoundBrand.brand_id)).where(col(RoundBrand.round_id) == rnd.id)
            )
        }
        scored = _scored_brands(conn, rnd.id)
        info = RoundInfo.of(rnd)
    brands["in_round"] = brands["id"].isin(members)
    brands["scored"] = brands["id"].isin(scored)
    cols = ["id", "code", "name", "unit", "branch", "category", "in_round", "scored"]
    return RoundBrands(round=info, brands=brands[cols].reset_index(drop=True))


def set_round_brands(
    engine: Engine, *, actor: Actor, round_code: str, brand_codes: Iterable[str]
) -> RoundBrandChange:
    """Make ``brand_codes`` exactly the brands of the round (筹备 or 评分中 only).

    Taking a brand out also drops its assignments and declared conflicts in the round;
    a brand with scores or comments in the round cannot be taken out.
    """
    require(actor, Action.MANAGE_ROSTER)
    wanted = {_text(c) for c in brand_codes if _text(c)}
    try:
        with transaction(engine) as session:
            rnd = lock_round(session, round_code)
            assert rnd.id is not None
            require_open(rnd, "调整参评品牌")
            conn = session.connection()
            found = conn.execute(select(col(Brand.code), col(Brand.id)))
            codes = {c: i for c, i in found if i is not None}  # narrows: ids are never NULL
            unknown = sorted(wanted - set(codes))
            if unknown:
                raise InvalidInput(f"找不到品牌编号：{'、'.join(unknown)}", brands=unknown)
            members = {
                int(b)
                for (b,) in conn.execute(
                    select(col(RoundBrand.brand_id)).where(col(RoundBrand.round_id) == rnd.id)
                )
            }
            target = {codes[c] for c in wanted}
            by_id = {i: c for c, i in codes.items()}
            add, remove = sorted(target - members), sorted(members - target)
            if not add and not remove:
                raise _NoChange
            blocked = sorted(by_id[b] for b in _scored_brands(conn, rnd.id) & set(remove))
            if blocked:
                raise Conflict(
                    f"品牌 {'、'.join(blocked)} 在轮次 {round_code} 已有评分或评语，不能移出本轮",
                    brands=blocked,
                )
            if remove:
                for table in (ConflictDeclaration, Assignment, RoundBrand):
                    t = table_of(table)
                    conn.execute(delete(t).where(t.c.round_id == rnd.id, t.c.brand_id.in_(remove)))
            if add:
                conn.execute(
                    insert(table_of(RoundBrand)), [{"round_id": rnd.id, "brand_id": b} for b in add]
                )
            change = RoundBrandChange(
                added=tuple(by_id[b] for b in add), removed=tuple(by_id[b] for b in remove)
            )
            record(
                session,
                actor,
                action="round.brands",
                entity="round_brand",
                key=round_code,
                round_code=round_code,
                new={
                    "added": list(change.added),
                    "removed": list(change.removed),
                    "counts": {"added": len(add), "removed": len(remove)},
                },
            )
            return change
    except _NoChange:
        return RoundBrandChange()
    except IntegrityError as exc:
        raise _integrity() from exc


class _NoChange(Exception):
    """Raised inside a transaction to roll back the revision bump of a no-op."""


def lock_round(session: Session, round_code: str) -> Round:
    """Bump the round's revision first, which takes its write lock, then read it.

    On PostgreSQL the UPDATE locks the row, on SQLite it takes the database's write
    lock; so the status checked next cannot change before this transaction commits.
    A refusal rolls the bump back with everything else.
    """
    session.execute(
        update(Round)
        .where(col(Round.code) == round_code)
        .values(revision=Round.revision + 1, updated_at=utcnow())
    )
    return get_round(session, round_code)


def require_open(rnd: Round, what: str) -> None:
    if rnd.status not in OPEN_STATES:
        label = RoundStatus(rnd.status).label
        raise Conflict(
            f"轮次 {rnd.code} 当前为「{label}」，不能{what}；"
            f"只有「筹备」或「评分中」的轮次可以{what}",
            status=rnd.status,
        )


# -- Excel: template, preview, commit --------------------------------------------------------------
ROSTER_SHEET = "品牌名册"
#: Import columns: field -> the template's header, then other spellings accepted.
IMPORT_HEADERS: dict[str, tuple[str, ...]] = {
    "unit": ("单位", "上级党组织", "所属单位", "单位名称", "上级党委", "党委"),
    "branch": ("支部", "党支部", "支部名称", "所属支部"),
    "code": ("品牌编号", "编号", "品牌代码"),
    "name": ("品牌名称", "品牌"),
    "slogan": ("口号", "品牌口号"),
    "description": ("简介", "品牌简介", "品牌介绍", "介绍"),
    "category": ("类型", "品牌类型", "类别"),
}
REQUIRED_IMPORT = ("unit", "branch", "code", "name")
_NUMERIC_CODE = re.compile(r"^(\d+)\.0+$")


def _header_of() -> dict[str, str]:
    return {layout.normalize_header(a): f for f, names in IMPORT_HEADERS.items() for a in names}


def roster_template(engine: Engine, *, actor: Actor) -> bytes:
    """The roster as an .xlsx in the import layout (the current brands prefilled)."""
    require(actor, Action.MANAGE_ROSTER)
    with transaction(engine) as session:
        brands = _brands(session.connection())
    buffer = io.BytesIO()
    wb = Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    header = TextFormat.add(
        wb, {"bold": True, "fg_color": "#C00000", "font_color": "#FFFFFF", "border": 1}
    )
    cell = TextFormat.add(wb, {"border": 1, "border_color": "#BFBFBF", "valign": "top"})
    ws = wb.add_worksheet(ROSTER_SHEET)
    fields = list(IMPORT_HEADERS)
    write_header(ws, 0, [IMPORT_HEADERS[f][0] for f in fields], header)
    for r, row in enumerate(brands.to_dict("records"), start=1):
        for c, f in enumerate(fields):
            write_text(ws, r, c, row[f], cell)
    for c, width in enumerate((24, 24, 12, 22, 30, 50, 16)):
        ws.set_column(c, c, width)
    ws.freeze_panes(1, 0)
    last = max(len(brands) + 500, 1000)
    ws.data_validation(
        1,
        fields.index("category"),
        last,
        fields.index("category"),
        {
            "validate": "list",
            "source": list(CATEGORIES),
            "ignore_blank": True,
            "error_title": "类型无效",
            "error_message": "请从下拉列表中选择，或留空",
        },
    )
    notes = wb.add_worksheet(layout.INSTRUCTIONS_SHEET)
    notes.set_column(0, 0, 100)
    wrap = TextFormat.add(wb, {"text_wrap": True, "valign": "top"})
    lines = (
        "品牌名册填表说明",
        "1. 每行一个品牌。必填列：单位、支部、品牌编号、品牌名称；可选列：口号、简介、类型。",
        "2. 单位可填单位名称或单位编号；系统中没有的单位和支部会在导入时新建。",
        "3. 品牌编号唯一：系统中已有的编号会更新该品牌，新的编号会新增品牌；导入不会删除品牌。",
        f"4. 类型只能是 {'、'.join(CATEGORIES)} 之一，或留空。",
        "5. 文件中出现的可选列会覆盖系统中的值（空单元格表示清空）；未出现的列保持不变。",
        "6. 导入前系统会先检查全部单元格，有任何问题都不会写入，并逐一列出问题所在的单元格。",
    )
    for r, text in enumerate(lines):
        write_text(notes, r, 0, text, wrap)
    wb.close()
    return buffer.getvalue()


@dataclass(frozen=True)
class RosterCounts:
    units_new: int = 0
    branches_new: int = 0
    brands_new: int = 0
    brands_changed: int = 0
    brands_unchanged: int = 0

    @property
    def writes(self) -> int:
        return self.units_new + self.branches_new + self.brands_new + self.brands_changed


@dataclass(frozen=True)
class RosterPreview:
    """An uploaded roster checked against the database; nothing written yet.

    ``rows`` are the file's brand rows as read (sheet, row, one column per field),
    ``fields`` the optional columns the file has, ``changes`` one line per changed
    field of an existing brand (code, brand, field, old, new).
    """

    file_name: str
    sha256: str
    rows: pd.DataFrame
    fields: tuple[str, ...]
    issues: tuple[Issue, ...]
    counts: RosterCounts
    changes: pd.DataFrame

    @property
    def ok(self) -> bool:
        return not self.issues

    def issue_table(self) -> pd.DataFrame:
        return issue_table(self.issues, cells=True)


CHANGE_COLUMNS = ["品牌编号", "品牌名称", "字段", "原值", "新值"]


def _parse_sheet(sheet: RawSheet, issues: list[Issue]) -> tuple[pd.DataFrame, set[str]] | None:
    """The brand rows of one sheet, or None when it has no roster header."""
    known = _header_of()
    for r in range(1, min(layout.HEADER_SEARCH_ROWS, sheet.n_rows) + 1):
        found: dict[str, str] = {}
        for letter, value in zip(sheet.letters, sheet.row_values(r), strict=True):
            name = known.get(layout.normalize_header(value)) if value else None
            if name is None:
                continue
            if name in found:
                issues.append(
                    Issue(
                        f"{letter}{r}",
                        str(value),
                        f"与 {found[name]}{r} 重复，都表示「{IMPORT_HEADERS[name][0]}」列",
                        sheet.name,
                    )
                )
                continue
            found[name] = letter
        if sum(1 for f in REQUIRED_IMPORT if f in found) < 2:
            continue
        missing = [IMPORT_HEADERS[f][0] for f in REQUIRED_IMPORT if f not in found]
        if missing:
            issues.append(
                Issue(f"第 {r} 行", "", f"表头缺少必填列：{'、'.join(missing)}", sheet.name)
            )
            return pd.DataFrame(), set()
        data = {
            f: [_text(v) for v in sheet.column(letter).to_pylist()[r:]]
            for f, letter in found.items()
        }
        frame = pd.DataFrame(data, dtype=object)
        frame["code"] = [_NUMERIC_CODE.sub(r"\1", c) for c in frame["code"]]
        frame.insert(0, "row", range(r + 1, r + 1 + len(frame)))
        frame.insert(0, "sheet", sheet.name)
        for f, letter in found.items():
            frame[f"{f}_cell"] = frame["row"].map(lambda n, letter=letter: f"{letter}{n}")
        filled = frame[list(found)].ne("").any(axis=1)
        return frame[filled].reset_index(drop=True), set(found) - set(REQUIRED_IMPORT)
    return None


def _read_upload(file_name: str, data: bytes) -> tuple[pd.DataFrame, tuple[str, ...], list[Issue]]:
    issues: list[Issue] = []
    try:
        book = read_workbook(file_name, data)
    except UnreadableFile as exc:
        return pd.DataFrame(), (), [Issue("", "", str(exc), file_name)]
    frames: list[pd.DataFrame] = []
    optional: set[str] = set()
    for sheet in book.sheets:
        parsed = _parse_sheet(sheet, issues)
        if parsed is None:
            continue
        frame, extra = parsed
        if not frame.empty:
            frames.append(frame)
            optional |= extra
    if not frames and not issues:
        heads = "、".join(IMPORT_HEADERS[f][0] for f in REQUIRED_IMPORT)
        issues.append(
            Issue("", "", f"没有找到品牌名册：需要一张表头含 {heads} 的工作表，且至少一行数据", "")
        )
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    fields = tuple(f for f in IMPORT_HEADERS if f in optional)
    return rows, fields, issues


@dataclass
class _ImportPlan:
    issues: list[Issue] = field(default_factory=list)
    units: list[dict[str, Any]] = field(default_factory=list)  # code, name
    branches: list[tuple[str, str]] = field(default_factory=list)  # (unit key, name)
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    changes: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    unchanged: int = 0

    def counts(self) -> RosterCounts:
        return RosterCounts(
            units_new=len(self.units),
            branches_new=len(self.branches),
            brands_new=len(self.inserts),
            brands_changed=len(self.updates),
            brands_unchanged=self.unchanged,
        )


def _next_codes(taken: Iterable[str], n: int) -> list[str]:
    """``n`` unit codes U01, U02, ... not yet taken."""
    used = set(taken)
    out: list[str] = []
    i = 1
    while len(out) < n:
        code = f"U{i:02d}"
        if code not in used:
            out.append(code)
        i += 1
    return out


def _plan_import(conn: Connection, rows: pd.DataFrame, fields: Sequence[str]) -> _ImportPlan:
    """Check every row against itself and the database; what to insert and update."""
    plan = _ImportPlan()
    units, branches, brands = _units(conn), _branches(conn), _brands(conn)
    lookup = _unit_lookup(units)
    branch_ids = _branch_lookup(branches)
    unit_names = dict(zip(units["id"], units["name"], strict=True))

    def issue(row: Any, name: str, message: str) -> None:
        plan.issues.append(
            Issue(getattr(row, f"{name}_cell"), IMPORT_HEADERS[name][0], message, row.sheet)
        )

    # Within the file: required cells, lengths, categories, duplicate codes and names.
    first_code: dict[str, str] = {}
    for row in rows.itertuples(index=False):
        for name in REQUIRED_IMPORT:
            if not getattr(row, name):
                issue(row, name, f"{IMPORT_HEADERS[name][0]}不能为空")
        for name in ("code", "name", "unit", "branch", "slogan"):
            if name in rows.columns and (problem := _length_issue(getattr(row, name), name)):
                issue(row, name, problem)
        if "category" in fields and category_of(row.category) is None:
            issue(row, "category", _category_message(row.category))
        if row.code:
            if row.code in first_code:
                issue(row, "code", f"品牌编号 {row.code} 与 {first_code[row.code]} 重复")
            else:
                first_code[row.code] = row.code_cell
    # Names must stay unique across the whole roster after the import.
    final = {c: n for c, n in zip(brands["code"], brands["name"], strict=True)}
    where_name: dict[str, Any] = {}
    for row in rows.itertuples(index=False):
        if row.code and row.name and first_code.get(row.code) == row.code_cell:
            final[row.code] = row.name
            where_name[row.code] = row
    owners: dict[str, list[str]] = {}
    for code, name in final.items():
        owners.setdefault(_fold(name), []).append(code)
    for code, row in where_name.items():
        others = [c for c in owners[_fold(row.name)] if c != code]
        if others:
            shown = "、".join(
                first_code.get(c, f"品牌 {c}") if c in where_name else f"已有品牌 {c}"
                for c in others
            )
            issue(row, "name", f"品牌名称「{row.name}」与 {shown} 重复")
    if plan.issues:
        return plan

    # Units and branches: existing ones by name or code, new ones created.
    new_units: dict[str, str] = {}  # folded -> name as typed
    for text in rows["unit"]:
        if _fold(text) not in lookup and _fold(text) not in new_units:
            new_units[_fold(text)] = text
    codes = _next_codes(units["code"], len(new_units))
    plan.units = [{"code": c, "name": n} for c, n in zip(codes, new_units.values(), strict=True)]
    unit_key = {k: f"new:{k}" for k in new_units} | {k: str(v) for k, v in lookup.items()}
    new_branches: dict[tuple[str, str], str] = {}
    for u, b in zip(rows["unit"], rows["branch"], strict=True):
        uid = lookup.get(_fold(u))
        if uid is not None and (uid, _fold(b)) in branch_ids:
            continue
        new_branches.setdefault((unit_key[_fold(u)], _fold(b)), b)
    plan.branches = [(k[0], name) for k, name in new_branches.items()]

    # Brands: new codes inserted, known codes updated where a value differs.
    existing = brands.set_index("code")
    optional = [f for f in ("slogan", "description", "category") if f in fields]
    for row in rows.itertuples(index=False):
        category = category_of(row.category) if "category" in fields else None
        values = {"name": row.name, **{f: getattr(row, f) for f in optional}}
        if "category" in fields:
            values["category"] = category or ""
        place = (unit_key[_fold(row.unit)], _fold(row.branch))
        if row.code not in existing.index:
            plan.inserts.append({"code": row.code, "place": place, **values})
            continue
        old = existing.loc[row.code]
        diff = {f: v for f, v in values.items() if _text(old[f]) != v}
        old_place = (str(int(old["unit_id"])), _fold(old["branch"]))
        if old_place != place:
            diff["place"] = place
            unit_now = unit_names.get(int(old["unit_id"]), "")
            plan.changes.append(
                (
                    row.code,
                    row.name,
                    "单位 / 支部",
                    f"{unit_now} / {old['branch']}",
                    f"{row.unit} / {row.branch}",
                )
            )
        for f in diff:
            if f != "place":
                plan.changes.append(
                    (row.code, row.name, IMPORT_HEADERS[f][0], _text(old[f]), values[f])
                )
        if diff:
            plan.updates.append({"id": int(old["id"]), **diff})
        else:
            plan.unchanged += 1
    return plan


def _changes_frame(plan: _ImportPlan) -> pd.DataFrame:
    return pd.DataFrame(plan.changes, columns=CHANGE_COLUMNS)


def preview_roster_import(
    engine: Engine, *, actor: Actor, file_name: str, data: bytes
) -> RosterPreview:
    """Read and check a roster workbook; count what an import would do. Writes nothing."""
    require(actor, Action.MANAGE_ROSTER)
    rows, fields, issues = _read_upload(file_name, data)
    counts, changes = RosterCounts(), pd.DataFrame(columns=CHANGE_COLUMNS)
    if not issues:
        with transaction(engine) as session:
            plan = _plan_import(session.connection(), rows, fields)
        issues = plan.issues
        if not issues:
            counts, changes = plan.counts(), _changes_frame(plan)
    return RosterPreview(
        file_name=file_name,
        sha256=hashlib.sha256(data).hexdigest(),
        rows=rows,
        fields=fields,
        issues=tuple(issues),
        counts=counts,
        changes=changes,
    )


def commit_roster_import(engine: Engine, *, actor: Actor, preview: RosterPreview) -> RosterCounts:
    """Write a clean preview in one transaction, if the roster has not moved since."""
    require(actor, Action.MANAGE_ROSTER)
    if not preview.ok:
        raise InvalidInput("名册还有问题，请修正后重新上传", issues=len(preview.issues))
    if not preview.counts.writes:
        return preview.counts
    try:
        with transaction(engine) as session:
            conn = session.connection()
            plan = _plan_import(conn, preview.rows, preview.fields)
            if plan.issues or plan.counts() != preview.counts:
                raise Conflict("名册在预检之后已被修改，请重新上传文件预检后再导入")
            _write_import(conn, plan)
            record(
                session,
                actor,
                action="roster.import",
                entity="roster",
                key=preview.file_name,
                new={
                    "file": preview.file_name,
                    "sha256": preview.sha256,
                    "counts": plan.counts().__dict__,
                    "units_added": [u["name"] for u in plan.units],
                    "brands_added": [r["code"] for r in plan.inserts],
                    "brands_changed": sorted({c[0] for c in plan.changes}),
                },
            )
            return plan.counts()
    except IntegrityError as exc:
        raise _integrity() from exc


def _write_import(conn: Connection, plan: _ImportPlan) -> None:
    if plan.units:
        conn.execute(insert(table_of(Unit)), plan.units)
    units = _units(conn)
    unit_id = {_fold(n): int(i) for i, n in zip(units["id"], units["name"], strict=True)}
    key_to_id = {f"new:{_fold(u['name'])}": unit_id[_fold(u["name"])] for u in plan.units}

    def resolve(key: str) -> int:
        return key_to_id[key] if key.startswith("new:") else int(key)

    if plan.branches:
        conn.execute(
            insert(table_of(Branch)),
            [{"unit_id": resolve(k), "name": name} for k, name in plan.branches],
        )
    branch_ids = _branch_lookup(_branches(conn))

    def place_id(place: tuple[str, str]) -> int:
        return branch_ids[(resolve(place[0]), place[1])]

    defaults = {"slogan": "", "description": "", "category": ""}
    inserts = [
        {
            **defaults,
            **{k: v for k, v in r.items() if k != "place"},
            "branch_id": place_id(r["place"]),
        }
        for r in plan.inserts
    ]
    updates = []
    for r in plan.updates:
        row = {k: v for k, v in r.items() if k != "place"}
        if "place" in r:
            row["branch_id"] = place_id(r["place"])
        updates.append(row)
    _bump_rounds(conn, [r["id"] for r in updates])
    _two_phase_update(conn, Brand, updates, ("code", "name"))
    if inserts:
        conn.execute(insert(table_of(Brand)), inserts)
