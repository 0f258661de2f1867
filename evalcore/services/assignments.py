"""Which judge scores which brand: assignments, recusal, declared conflicts, and progress.

A judge's brands are the assignments minus recusal minus declared conflicts; that rule
lives in one query, :func:`evalcore.store.assigned_pairs`, and everything here keys on
it. Recusal (回避) needs no action: a judge who works in a brand's unit can never be
assigned to it. A judge may also declare a conflict (with a reason) for themself, or
an admin records one on a judge's behalf; the brand leaves that judge's list.

Admins assign in three ways, each one transaction and one audit row: every panel judge
to every brand of the round (:func:`assign_all`), chosen judges to all brands of chosen
units (:func:`assign_by_unit`), or by hand in a matrix (:func:`change_assignments` with
the pairs added and removed, or :func:`set_assignments` with the wanted set). Changes
are allowed while the round is 筹备 or 评分中. Removing an assignment for which the judge
already has scores (or a sheet) in the round is refused, as is declaring a conflict
over scored work: the scores would otherwise keep counting in the aggregation (which
reads every stored score) while the judge no longer sees the brand. Clear or reopen
those scores first.

:func:`progress_matrix` shows how far each judge has come with each brand, in five
states (:data:`STATES`), from a handful of SQL reads; viewers may see it (no scores).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, bindparam, case, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from evalcore.db import transaction
from evalcore.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from evalcore.models import (
    Assignment,
    ConflictDeclaration,
    Judge,
    Round,
    Score,
    ScoreSheet,
    Unit,
    table_of,
    utcnow,
)
from evalcore.permissions import Action, Actor, Role, require
from evalcore.rubric import Rubric
from evalcore.services.audit import record
from evalcore.services.results import RoundInfo
from evalcore.services.roster import OPEN_STATES, lock_round, require_open
from evalcore.store import assigned_pairs, get_round, read_brands, read_judges

#: Progress states of one (judge, brand) cell, in legend order.
DONE, DRAFT, NOT_STARTED, RECUSED, UNASSIGNED = (
    "done",
    "draft",
    "not_started",
    "recused",
    "unassigned",
)
STATES = (DONE, DRAFT, NOT_STARTED, RECUSED, UNASSIGNED)
#: Pairs listed by name in a refusal; the rest are counted.
_LISTED = 10
Pair = tuple[str, str]  # (brand_code, judge_code)


# -- reading the round ------------------------------------------------------------------------
def _frame(conn: Connection, stmt: Any, columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame.from_records([tuple(r) for r in conn.execute(stmt)], columns=columns)


def _pairs(conn: Connection, table: Any, round_id: int) -> set[tuple[int, int]]:
    stmt = select(table.brand_id, table.judge_id).where(table.round_id == round_id)
    return {(int(b), int(j)) for b, j in conn.execute(stmt)}


def _scored_pairs(conn: Connection, round_id: int) -> set[tuple[int, int]]:
    """(brand, judge) pairs with any score or a sheet (comment, draft) in the round."""
    found = _pairs(conn, ScoreSheet, round_id)
    stmt = (
        select(col(Score.brand_id), col(Score.judge_id))
        .where(col(Score.round_id) == round_id)
        .group_by(col(Score.brand_id), col(Score.judge_id))
    )
    found.update((int(b), int(j)) for b, j in conn.execute(stmt))
    return found


@dataclass(frozen=True)
class _Round:
    """What a change needs to know about the round, read in its transaction."""

    info: RoundInfo
    brands: pd.DataFrame  # index brand_id: brand_code, brand, unit, unit_id, ...
    judges: pd.DataFrame  # index judge_id: judge_code, judge, unit_id, title

    @property
    def id(self) -> int:
        return self.info.id

    def recused(self, brand_id: int, judge_id: int) -> bool:
        unit = self.judges.at[judge_id, "unit_id"]
        return bool(pd.notna(unit) and int(unit) == int(self.brands.at[brand_id, "unit_id"]))

    def label(self, pair: tuple[int, int]) -> str:
        brand, judge = pair
        return f"{self.judges.at[judge, 'judge']}—{self.brands.at[brand, 'brand_code']}"


def _load(session: Session, rnd: Round) -> _Round:
    conn = session.connection()
    info = RoundInfo.of(rnd)
    return _Round(info, read_brands(conn, info.id), read_judges(conn, info.id))


def _ids(rnd: _Round, pairs: Iterable[Pair]) -> set[tuple[int, int]]:
    """Codes -> ids; every brand must be in the round and every judge on its panel."""
    brand_id = {c: int(i) for i, c in rnd.brands["brand_code"].items()}
    judge_id = {c: int(i) for i, c in rnd.judges["judge_code"].items()}
    out: set[tuple[int, int]] = set()
    bad_brands: set[str] = set()
    bad_judges: set[str] = set()
    for brand, judge in pairs:
        if brand not in brand_id:
            bad_brands.add(brand)
        if judge not in judge_id:
            bad_judges.add(judge)
        if brand in brand_id and judge in judge_id:
            out.add((brand_id[brand], judge_id[judge]))
    problems = []
    if bad_brands:
        problems.append(f"品牌 {'、'.join(sorted(bad_brands))} 不在本轮参评品牌中")
    if bad_judges:
        problems.append(f"评委 {'、'.join(sorted(bad_judges))} 不在本轮评委名单中")
    if problems:
        raise InvalidInput(
            f"轮次 {rnd.info.code}：" + "；".join(problems),
            brands=sorted(bad_brands),
            judges=sorted(bad_judges),
        )
    return out


def _listed(labels: Sequence[str]) -> str:
    shown = "、".join(labels[:_LISTED])
    return shown + (f" 等 {len(labels)} 项" if len(labels) > _LISTED else "")


# -- changing assignments ------------------------------------------------------------------------
@dataclass(frozen=True)
class AssignmentChange:
    """What a change did: pairs (brand_code, judge_code) added and removed, and skipped.

    ``skipped_recused`` counts pairs a bulk assignment left out because the judge works
    in the brand's unit or declared a conflict.
    """

    added: tuple[Pair, ...] = ()
    removed: tuple[Pair, ...] = ()
    skipped_recused: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


class _NoChange(Exception):
    """Raised inside the transaction to roll back the revision bump of a no-op."""


def _change(
    engine: Engine,
    actor: Actor,
    round_code: str,
    *,
    action: str,
    wanted: Any,
    strict: bool,
    detail: Mapping[str, Any] | None = None,
) -> AssignmentChange:
    """The one write path: lock the round, compute (add, remove), check, write, audit.

    ``wanted(rnd, conn, current)`` returns the pairs to add and to remove (ids). With
    ``strict`` a recused or conflicted pair among the additions is refused; otherwise
    (bulk assignment) it is skipped and counted.
    """
    require(actor, Action.MANAGE_ASSIGNMENTS)
    try:
        with transaction(engine) as session:
            row = lock_round(session, round_code)
            require_open(row, "修改评委分配")
            rnd = _load(session, row)
            conn = session.connection()
            current = _pairs(conn, Assignment, rnd.id)
            add, remove = wanted(rnd, conn, current)
            add, remove = set(add) - current, set(remove) & current
            declared = _pairs(conn, ConflictDeclaration, rnd.id)
            blocked = {p for p in add if rnd.recused(*p) or p in declared}
            if blocked and strict:
                raise InvalidInput(_blocked_message(rnd, blocked, declared), pairs=len(blocked))
            add -= blocked
            scored = sorted(rnd.label(p) for p in remove & _scored_pairs(conn, rnd.id))
            if scored:
                raise Conflict(
                    f"以下评委已为这些品牌评分或填写评语，不能取消分配：{_listed(scored)}。"
                    "如确需调整，请先退回并清除其评分",
                    pairs=len(scored),
                )
            change = _codes(rnd, add, remove, len(blocked))
            if not change.changed:
                raise _NoChange(change)
            _write(conn, rnd.id, add, remove)
            record(
                session,
                actor,
                action=action,
                entity="assignment",
                key=round_code,
                round_code=round_code,
                new={
                    **(detail or {}),
                    "counts": {
                        "added": len(change.added),
                        "removed": len(change.removed),
                        "skipped_recused": change.skipped_recused,
                    },
                    "added": [list(p) for p in change.added],
                    "removed": [list(p) for p in change.removed],
                },
            )
            return change
    except _NoChange as nothing:
        return nothing.args[0]
    except IntegrityError as exc:
        raise Conflict("评委分配已被他人同时修改，请刷新页面后重试") from exc


def _blocked_message(
    rnd: _Round, blocked: set[tuple[int, int]], declared: set[tuple[int, int]]
) -> str:
    units = [rnd.label(p) for p in sorted(blocked) if p not in declared]
    conflicts = [rnd.label(p) for p in sorted(blocked) if p in declared]
    parts = []
    if units:
        parts.append(f"评委属于品牌所在单位，须回避：{_listed(units)}")
    if conflicts:
        parts.append(f"评委已申报利益冲突回避：{_listed(conflicts)}（如需分配，请先撤销申报）")
    return "不能分配：" + "；".join(parts)


def _codes(
    rnd: _Round, add: set[tuple[int, int]], remove: set[tuple[int, int]], skipped: int
) -> AssignmentChange:
    def code(p: tuple[int, int]) -> Pair:
        return (str(rnd.brands.at[p[0], "brand_code"]), str(rnd.judges.at[p[1], "judge_code"]))

    return AssignmentChange(
        added=tuple(sorted(code(p) for p in add)),
        removed=tuple(sorted(code(p) for p in remove)),
        skipped_recused=skipped,
    )


def _write(
    conn: Connection, round_id: int, add: set[tuple[int, int]], remove: set[tuple[int, int]]
) -> None:
    if remove:
        t = table_of(Assignment)
        conn.execute(
            delete(t).where(
                t.c.round_id == round_id,
                t.c.brand_id == bindparam("b"),
                t.c.judge_id == bindparam("j"),
            ),
            [{"b": b, "j": j} for b, j in sorted(remove)],
        )
    if add:
        now = utcnow()
        conn.execute(
            insert(table_of(Assignment)),
            [
                {"round_id": round_id, "brand_id": b, "judge_id": j, "created_at": now}
                for b, j in sorted(add)
            ],
        )


def change_assignments(
    engine: Engine,
    *,
    actor: Actor,
    round_code: str,
    add: Iterable[Pair] = (),
    remove: Iterable[Pair] = (),
) -> AssignmentChange:
    """Add and remove (brand_code, judge_code) pairs, e.g. the cells ticked in the matrix."""
    add, remove = list(add), list(remove)
    return _change(
        engine,
        actor,
        round_code,
        action="assignment.change",
        wanted=lambda rnd, conn, current: (_ids(rnd, add), _ids(rnd, remove)),
        strict=True,
    )


def set_assignments(
    engine: Engine, *, actor: Actor, round_code: str, pairs: Iterable[Pair]
) -> AssignmentChange:
    """Make ``pairs`` exactly the round's assignments (the wanted set from a matrix)."""
    pairs = list(pairs)

    def wanted(rnd: _Round, conn: Connection, current: set[tuple[int, int]]) -> Any:
        target = _ids(rnd, pairs)
        return target - current, current - target

    return _change(engine, actor, round_code, action="assignment.set", wanted=wanted, strict=True)


def assign_all(engine: Engine, *, actor: Actor, round_code: str) -> AssignmentChange:
    """Every panel judge to every brand of the round, except where they must recuse."""

    def wanted(rnd: _Round, conn: Connection, current: set[tuple[int, int]]) -> Any:
        return {(int(b), int(j)) for b in rnd.brands.index for j in rnd.judges.index}, set()

    return _change(engine, actor, round_code, action="assignment.all", wanted=wanted, strict=False)


def assign_by_unit(
    engine: Engine,
    *,
    actor: Actor,
    round_code: str,
    judge_codes: Iterable[str],
    unit_codes: Iterable[str],
) -> AssignmentChange:
    """Chosen judges to every brand of the chosen units (a judge's own unit is skipped)."""
    judges, units = sorted(set(judge_codes)), sorted(set(unit_codes))
    if not judges or not units:
        raise InvalidInput("请至少选择一位评委和一个单位")

    def wanted(rnd: _Round, conn: Connection, current: set[tuple[int, int]]) -> Any:
        found = conn.execute(select(col(Unit.id), col(Unit.code)))
        codes = {c: i for i, c in found if i is not None}  # narrows: ids are never NULL
        unknown = [u for u in units if u not in codes]
        if unknown:
            raise NotFound(f"找不到单位编号：{'、'.join(unknown)}", units=unknown)
        chosen = rnd.brands[rnd.brands["unit_id"].isin([codes[u] for u in units])]
        brand_codes = chosen["brand_code"].tolist()
        return _ids(rnd, [(b, j) for b in brand_codes for j in judges]), set()

    return _change(
        engine,
        actor,
        round_code,
        action="assignment.by_unit",
        wanted=wanted,
        strict=False,
        detail={"judges": judges, "units": units},
    )


# -- the assignment matrix -------------------------------------------------------------------------
@dataclass(frozen=True)
class AssignmentMatrix:
    """A round's assignments as the admin matrix shows them.

    ``brands`` (index brand_id: brand_code, brand, unit, unit_id) and ``judges`` (index
    judge_id: judge_code, judge, unit_id, unit); ``cells`` one row per (brand_id,
    judge_id) with ``assigned``, ``recused`` (own unit), ``conflict`` (declared reason
    or None), ``scored``; ``conflicts`` the declarations with names and reasons.
    """

    round: RoundInfo
    brands: pd.DataFrame
    judges: pd.DataFrame
    cells: pd.DataFrame
    conflicts: pd.DataFrame
    units: pd.DataFrame  # index unit_id: code, name, brands (in this round)

    @property
    def editable(self) -> bool:
        return self.round.status in OPEN_STATES

    def judge_choices(self) -> dict[str, str]:
        """Judge code -> "name（unit）" for pickers, in panel order."""
        return {
            str(c): f"{n}（{u}）" if u else str(n)
            for c, n, u in zip(
                self.judges["judge_code"], self.judges["judge"], self.judges["unit"], strict=True
            )
        }

    def unit_choices(self) -> dict[str, str]:
        """Unit code -> "name（n 个品牌）" for units with brands in the round."""
        return {
            str(c): f"{n}（{b} 个品牌）"
            for c, n, b in zip(
                self.units["code"], self.units["name"], self.units["brands"], strict=True
            )
        }

    def brand_choices(self) -> dict[str, str]:
        """Brand code -> "B001 税连心" for pickers."""
        return {
            str(c): f"{c} {n}"
            for c, n in zip(self.brands["brand_code"], self.brands["brand"], strict=True)
        }

    def conflict_choices(self) -> dict[str, str]:
        """ "brand_code/judge_code" -> "王建华 — B001 税连心" for the withdraw picker."""
        c = self.conflicts
        return {
            f"{b}/{j}": f"{jn} — {b} {bn}"
            for b, bn, j, jn in zip(
                c["brand_code"], c["brand"], c["judge_code"], c["judge"], strict=True
            )
        }

    @property
    def blocked(self) -> pd.Series:
        """Cells that cannot be assigned: the judge recuses or declared a conflict."""
        return self.cells["recused"] | self.cells["conflict"].notna()

    def grid(self) -> pd.DataFrame:
        """Brands x judges for a data editor: one boolean column per judge code.

        A cell is True (assigned), False, or missing (<NA>) where the judge must recuse;
        ``blocked`` names those judges and why, so the matrix shows recusal as such.
        """
        cells = self.cells.assign(value=self.cells["assigned"].astype("boolean"))
        cells.loc[self.blocked.to_numpy(), "value"] = pd.NA
        wide = cells.pivot(index="brand_id", columns="judge_id", values="value")
        wide = wide.reindex(index=self.brands.index, columns=self.judges.index)
        wide.columns = [str(self.judges.at[j, "judge_code"]) for j in wide.columns]
        reasons = self._blocked_text()
        out = pd.DataFrame(
            {
                "brand_code": self.brands["brand_code"],
                "brand": self.brands["brand"],
                "unit": self.brands["unit"],
            },
            index=self.brands.index,
        )
        out = out.join(wide.astype("boolean"))
        out["blocked"] = reasons.reindex(out.index).fillna("")
        return out.reset_index(drop=True)

    def _blocked_text(self) -> pd.Series:
        cells = self.cells[self.blocked.to_numpy()]
        if cells.empty:
            return pd.Series(dtype=object)
        names = cells["judge_id"].map(self.judges["judge"]).astype(str)
        why = pd.Series(np.where(cells["recused"], "本单位", "申报回避"), index=cells.index)
        return (names + "（" + why + "）").groupby(cells["brand_id"]).agg("、".join)

    def changes_from_editor(self, state: Mapping[str, Any]) -> tuple[list[Pair], list[Pair]]:
        """(add, remove) pairs from a data editor's ``edited_rows`` over :meth:`grid`."""
        codes = self.brands["brand_code"].tolist()
        judge_codes = set(self.judges["judge_code"])
        add: list[Pair] = []
        remove: list[Pair] = []
        for pos, cells in (state.get("edited_rows") or {}).items():
            brand = str(codes[int(pos)])
            for judge, value in cells.items():
                if judge not in judge_codes:
                    continue
                (add if bool(value) else remove).append((brand, str(judge)))
        return add, remove

    def summary(self) -> dict[str, int]:
        """Counts for the page: assigned pairs in force, recused, declared, brands without."""
        live = self.cells["assigned"] & ~self.blocked
        per_brand = live.groupby(self.cells["brand_id"]).sum()
        return {
            "assigned": int(live.sum()),
            "recused": int(self.cells["recused"].sum()),
            "conflicts": int(self.cells["conflict"].notna().sum()),
            "brands_without": int((per_brand.reindex(self.brands.index, fill_value=0) == 0).sum()),
        }


CONFLICT_COLUMNS = ["brand_code", "brand", "judge_code", "judge", "reason", "declared_by", "at"]


def _conflicts(conn: Connection, rnd: _Round) -> pd.DataFrame:
    stmt = select(
        col(ConflictDeclaration.brand_id),
        col(ConflictDeclaration.judge_id),
        col(ConflictDeclaration.reason),
        col(ConflictDeclaration.declared_by),
        col(ConflictDeclaration.created_at),
    ).where(col(ConflictDeclaration.round_id) == rnd.id)
    raw = _frame(conn, stmt, ["brand_id", "judge_id", "reason", "declared_by", "at"])
    raw = raw[raw["brand_id"].isin(rnd.brands.index) & raw["judge_id"].isin(rnd.judges.index)]
    out = raw.assign(
        brand_code=raw["brand_id"].map(rnd.brands["brand_code"]),
        brand=raw["brand_id"].map(rnd.brands["brand"]),
        judge_code=raw["judge_id"].map(rnd.judges["judge_code"]),
        judge=raw["judge_id"].map(rnd.judges["judge"]),
    )
    return out.sort_values(["judge_code", "brand_code"])


def _cross(rnd: _Round) -> pd.DataFrame:
    """Every (brand, judge) cell of the round with ``recused`` (judge in the brand's unit)."""
    brands = rnd.brands[["unit_id"]].reset_index()
    judges = rnd.judges[["unit_id"]].rename(columns={"unit_id": "judge_unit"}).reset_index()
    cells = brands.merge(judges, how="cross")
    cells["recused"] = (cells["unit_id"] == cells["judge_unit"]).fillna(False).astype(bool)
    return cells[["brand_id", "judge_id", "recused"]]


def _flag(cells: pd.DataFrame, pairs: Iterable[tuple[int, int]]) -> pd.Series:
    index = pd.MultiIndex.from_frame(cells[["brand_id", "judge_id"]])
    return pd.Series(index.isin(list(pairs)), index=cells.index)


def assignment_matrix(engine: Engine, *, actor: Actor, round_code: str) -> AssignmentMatrix:
    """The round's brands x panel with what is assigned, recused, declared and scored."""
    require(actor, Action.MANAGE_ASSIGNMENTS)
    with transaction(engine) as session:
        rnd = _load(session, get_round(session, round_code))
        conn = session.connection()
        assigned = _pairs(conn, Assignment, rnd.id)
        scored = _scored_pairs(conn, rnd.id)
        conflicts = _conflicts(conn, rnd)
        units = _frame(
            conn, select(col(Unit.id), col(Unit.code), col(Unit.name)), ["unit_id", "code", "name"]
        )
    units = units.set_index("unit_id")
    cells = _cross(rnd)
    cells["assigned"] = _flag(cells, assigned)
    declared = conflicts[["brand_id", "judge_id", "reason"]].rename(columns={"reason": "conflict"})
    cells = cells.merge(declared, on=["brand_id", "judge_id"], how="left")
    cells["conflict"] = cells["conflict"].astype(object).where(cells["conflict"].notna(), None)
    cells["scored"] = _flag(cells, scored)
    names = units["name"].to_dict()
    judges = rnd.judges.assign(
        unit=[names.get(int(u), "") if pd.notna(u) else "" for u in rnd.judges["unit_id"]]
    )
    per_unit = rnd.brands.groupby("unit_id").size()
    units = units.loc[units.index.isin(per_unit.index)].assign(brands=per_unit).sort_values("code")
    return AssignmentMatrix(
        round=rnd.info,
        brands=rnd.brands[["brand_code", "brand", "unit", "unit_id"]],
        judges=judges[["judge_code", "judge", "unit_id", "unit"]],
        cells=cells,
        conflicts=conflicts[CONFLICT_COLUMNS].reset_index(drop=True),
        units=units,
    )


# -- declared conflicts ----------------------------------------------------------------------------
def _acting_judge(session: Session, actor: Actor, judge_code: str | None) -> Judge:
    """The judge a declaration is for: oneself (a judge) or the named judge (an admin)."""
    if actor.role is Role.JUDGE:
        require(actor, Action.SCORE)
        if actor.judge_id is None:
            raise PermissionDenied("当前评委账号没有关联评委，无法申报回避，请联系管理员")
        judge = session.get(Judge, actor.judge_id)
        if judge is None or (judge_code is not None and judge_code != judge.code):
            raise PermissionDenied("评委只能为自己申报回避", judge=judge_code)
        return judge
    require(actor, Action.MANAGE_ASSIGNMENTS)
    if not judge_code:
        raise InvalidInput("请选择要登记回避的评委")
    judge = session.scalars(select(Judge).where(col(Judge.code) == judge_code)).first()
    if judge is None:
        raise NotFound(f"找不到评委 {judge_code}", judge=judge_code)
    return judge


def _brand_id(rnd: _Round, brand_code: str) -> int:
    hit = rnd.brands.index[rnd.brands["brand_code"] == brand_code]
    if not len(hit):
        raise NotFound(f"品牌 {brand_code} 不在轮次 {rnd.info.code} 的参评品牌中", brand=brand_code)
    return int(hit[0])


def declare_conflict(
    engine: Engine,
    *,
    actor: Actor,
    round_code: str,
    brand_code: str,
    reason: str,
    judge_code: str | None = None,
) -> None:
    """Record a conflict of interest (回避申报): the brand leaves that judge's list.

    A judge declares for themself (``judge_code`` omitted or their own); an admin names
    the judge. Allowed while the round is 筹备 or 评分中, and only before the judge has
    scored the brand (scores would keep counting; see the module notes).
    """
    reason = (reason or "").strip()
    if actor.role is not Role.JUDGE:
        require(actor, Action.MANAGE_ASSIGNMENTS)
    if not reason:
        raise InvalidInput("请填写回避原因（如：亲属在该支部任职）")
    with transaction(engine) as session:
        judge = _acting_judge(session, actor, judge_code)
        row = lock_round(session, round_code)
        require_open(row, "申报回避")
        rnd = _load(session, row)
        assert judge.id is not None
        if judge.id not in rnd.judges.index:
            raise NotFound(f"评委 {judge.name} 不在轮次 {round_code} 的评委名单中")
        brand_id = _brand_id(rnd, brand_code)
        pair = (brand_id, judge.id)
        conn = session.connection()
        if pair in _pairs(conn, ConflictDeclaration, rnd.id):
            raise Conflict(f"评委 {judge.name} 已申报对品牌 {brand_code} 回避")
        if pair in _scored_pairs(conn, rnd.id):
            raise Conflict(
                f"评委 {judge.name} 已为品牌 {brand_code} 评分或填写评语，不能再申报回避；"
                "请联系管理员退回并清除该评分后再申报"
            )
        session.add(
            ConflictDeclaration(
                round_id=rnd.id,
                brand_id=brand_id,
                judge_id=judge.id,
                reason=reason,
                declared_by=actor.username,
                created_at=utcnow(),
            )
        )
        record(
            session,
            actor,
            action="conflict.declare",
            entity="conflict",
            key=f"{brand_code}/{judge.code}",
            round_code=round_code,
            new={"brand": brand_code, "judge": judge.code, "reason": reason},
            reason=reason,
        )


def withdraw_conflict(
    engine: Engine, *, actor: Actor, round_code: str, brand_code: str, judge_code: str
) -> None:
    """Remove a declared conflict (admins only); the assignment, if any, applies again."""
    require(actor, Action.MANAGE_ASSIGNMENTS)
    with transaction(engine) as session:
        row = lock_round(session, round_code)
        require_open(row, "撤销回避申报")
        rnd = _load(session, row)
        brand_id = _brand_id(rnd, brand_code)
        judge_id = {c: int(i) for i, c in rnd.judges["judge_code"].items()}.get(judge_code)
        found = session.get(ConflictDeclaration, (rnd.id, brand_id, judge_id)) if judge_id else None
        if found is None:
            raise NotFound(f"评委 {judge_code} 没有对品牌 {brand_code} 申报回避")
        old = {"reason": found.reason, "declared_by": found.declared_by}
        session.delete(found)
        record(
            session,
            actor,
            action="conflict.withdraw",
            entity="conflict",
            key=f"{brand_code}/{judge_code}",
            round_code=round_code,
            old=old,
        )


def my_conflicts(engine: Engine, *, actor: Actor, round_code: str) -> pd.DataFrame:
    """A judge's own declarations in a round (brand_code, brand, reason, at)."""
    require(actor, Action.SCORE)
    if actor.judge_id is None:
        return pd.DataFrame(columns=["brand_code", "brand", "reason", "at"])
    with transaction(engine) as session:
        rnd = _load(session, get_round(session, round_code))
        conflicts = _conflicts(session.connection(), rnd)
    mine = conflicts[conflicts["judge_id"] == actor.judge_id]
    return mine[["brand_code", "brand", "reason", "at"]].reset_index(drop=True)


# -- progress ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProgressMatrix:
    """How far each judge has come with each brand of a round (no scores in here).

    ``cells``: one row per (brand_id, judge_id) with ``state`` (one of :data:`STATES`),
    ``missing`` (criterion items still empty, for assigned cells) and ``reason`` (why
    a judge recuses: 本单位 or the declared reason). ``n_items`` is how many criterion
    items make a sheet complete.
    """

    round: RoundInfo
    brands: pd.DataFrame  # index brand_id: brand_code, brand, unit
    judges: pd.DataFrame  # index judge_id: judge_code, judge
    cells: pd.DataFrame
    n_items: int

    def totals(self) -> dict[str, int]:
        """Cells per state, plus ``expected`` (sheets due) and ``percent`` done."""
        counts = self.cells["state"].value_counts()
        out = {s: int(counts.get(s, 0)) for s in STATES}
        out["expected"] = out[DONE] + out[DRAFT] + out[NOT_STARTED]
        return out

    @property
    def percent(self) -> float:
        t = self.totals()
        return 100.0 * t[DONE] / t["expected"] if t["expected"] else 0.0

    def per_judge(self) -> pd.DataFrame:
        """One row per judge: expected, done, draft, not_started, percent."""
        due = self.cells[self.cells["state"].isin([DONE, DRAFT, NOT_STARTED])]
        counts = (
            pd.crosstab(due["judge_id"], due["state"])
            .reindex(index=self.judges.index, columns=[DONE, DRAFT, NOT_STARTED])
            .fillna(0)
            .astype(int)
        )
        out = self.judges[["judge_code", "judge"]].join(counts)
        out["expected"] = counts.sum(axis=1)
        out["percent"] = (100.0 * out[DONE] / out["expected"].where(out["expected"] > 0)).fillna(
            0.0
        )
        return out.reset_index()[
            ["judge_id", "judge_code", "judge", "expected", DONE, DRAFT, NOT_STARTED, "percent"]
        ]

    def missing(self) -> pd.DataFrame:
        """What each judge still owes: brands not started or incomplete (or not submitted)."""
        owed = self.cells[self.cells["state"].isin([DRAFT, NOT_STARTED])]
        out = owed.assign(
            judge_code=owed["judge_id"].map(self.judges["judge_code"]),
            judge=owed["judge_id"].map(self.judges["judge"]),
            brand_code=owed["brand_id"].map(self.brands["brand_code"]),
            brand=owed["brand_id"].map(self.brands["brand"]),
            unit=owed["brand_id"].map(self.brands["unit"]),
        )
        cols = ["judge_code", "judge", "brand_code", "brand", "unit", "state", "missing"]
        return out.sort_values(["judge_code", "state", "brand_code"])[cols].reset_index(drop=True)


def progress_cells(
    cross: pd.DataFrame,
    expected: pd.DataFrame,
    conflicts: pd.DataFrame,
    filled: pd.DataFrame,
    drafts: pd.DataFrame,
    n_items: int,
) -> pd.DataFrame:
    """The state of every cell, vectorised (pure; the rules in one place).

    ``cross``: brand_id, judge_id, recused. ``expected``: the pairs a judge must score
    (:func:`evalcore.store.assigned_pairs`). ``conflicts``: brand_id, judge_id, reason.
    ``filled``: brand_id, judge_id, n_criterion (criterion items with a value),
    n_any (any score). ``drafts``: brand_id, judge_id, status of sheets that exist.

    Done = every criterion item scored (the aggregation's completeness rule) and the
    sheet not held back as a draft; a sheet row is optional (imported scores have none)
    and counts as submitted. Started but not done is 草稿; nothing yet is 未开始.
    """
    keys = ["brand_id", "judge_id"]
    cells = cross.merge(filled, on=keys, how="left").merge(drafts, on=keys, how="left")
    cells = cells.merge(conflicts[[*keys, "reason"]], on=keys, how="left")
    due = _flag(cells, expected[keys].itertuples(index=False, name=None))
    n_crit = cells["n_criterion"].fillna(0).astype(int)
    started = (cells["n_any"].fillna(0) > 0) | cells["status"].notna()
    complete = n_crit >= n_items
    held = cells["status"].astype(object).eq("draft")
    blocked = cells["recused"] | cells["reason"].notna()
    cells["state"] = np.select(
        [blocked, ~due, complete & ~held, started],
        [RECUSED, UNASSIGNED, DONE, DRAFT],
        NOT_STARTED,
    )
    due_now = cells["state"].isin([DONE, DRAFT, NOT_STARTED])
    cells["missing"] = np.where(due_now, (n_items - n_crit).clip(lower=0), 0).astype(int)
    declared = cells["reason"].astype(object).where(cells["reason"].notna(), "")
    cells["reason"] = np.where(cells["recused"], "本单位", declared)
    return cells[[*keys, "state", "missing", "reason"]]


def progress_matrix(engine: Engine, *, actor: Actor, round_code: str) -> ProgressMatrix:
    """Judges x brands in five states, from six SQL reads (no per-row ORM); no scores."""
    require(actor, Action.VIEW_PROGRESS)
    with transaction(engine) as session:
        row = get_round(session, round_code)
        rnd = _load(session, row)
        rubric = Rubric.from_dict(row.rubric)
        conn = session.connection()
        crit = list(rubric.criterion_item_codes)
        all_items = list(rubric.item_codes)
        filled = _frame(
            conn,
            select(
                col(Score.brand_id),
                col(Score.judge_id),
                func.sum(case((col(Score.item).in_(crit), 1), else_=0)),
                func.count(),
            )
            .where(col(Score.round_id) == rnd.id, col(Score.item).in_(all_items))
            .group_by(col(Score.brand_id), col(Score.judge_id)),
            ["brand_id", "judge_id", "n_criterion", "n_any"],
        )
        drafts = _frame(
            conn,
            select(
                col(ScoreSheet.brand_id), col(ScoreSheet.judge_id), col(ScoreSheet.status)
            ).where(col(ScoreSheet.round_id) == rnd.id),
            ["brand_id", "judge_id", "status"],
        )
        expected = assigned_pairs(conn, rnd.id)
        conflicts = _frame(
            conn,
            select(
                col(ConflictDeclaration.brand_id),
                col(ConflictDeclaration.judge_id),
                col(ConflictDeclaration.reason),
            ).where(col(ConflictDeclaration.round_id) == rnd.id),
            ["brand_id", "judge_id", "reason"],
        )
    conflicts["reason"] = conflicts["reason"].replace("", "申报回避")
    cells = progress_cells(_cross(rnd), expected, conflicts, filled, drafts, len(crit))
    return ProgressMatrix(
        round=rnd.info,
        brands=rnd.brands[["brand_code", "brand", "unit"]],
        judges=rnd.judges[["judge_code", "judge"]],
        cells=cells,
        n_items=len(crit),
    )
