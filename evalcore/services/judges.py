"""The judging panel: judge records (评委) and which judges sit on a round's panel.

A judge's unit decides recusal (回避): a judge never scores the brands of the unit they
work in. Changing that unit, or removing a judge, would therefore rewrite a round that
is already locked or published, so both are refused for judges on such a round's
panel; a judge with any score, sheet or account is never removed (disable the account,
keep the record). Admins only; every save leaves exactly one audit row and bumps the
revision of the rounds it touches, so cached results pick up new names at once.

The grid on the 评委与用户 page hands back the table it showed (``before``) and the
edited one (``after``); :func:`save_judges` applies the difference, after checking that
nobody changed those rows in between and collecting every problem into one message.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Engine, delete, func, update
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from evalcore.db import transaction
from evalcore.errors import Conflict, InvalidInput, NotFound
from evalcore.lifecycle import RoundStatus
from evalcore.models import (
    Assignment,
    ConflictDeclaration,
    ImportChange,
    Judge,
    Round,
    RoundJudge,
    Score,
    ScoreSheet,
    Unit,
    User,
    utcnow,
)
from evalcore.permissions import Action, Actor, require
from evalcore.services.audit import record
from evalcore.store import get_round

#: The editable fields, in grid order; ``id`` travels along hidden (None for a new row).
FIELDS = ("code", "name", "unit", "title")
FIELD_LABELS = {"code": "编号", "name": "姓名", "unit": "所在单位", "title": "职务/职称"}
MAX_LENGTH = {"code": 32, "name": 64, "unit": 128, "title": 128}
JUDGE_COLUMNS = ["id", "code", "name", "unit", "title", "scores", "account", "rounds"]
#: Rounds whose panel and recusal are history: no unit changes or removals touch them.
FROZEN = (RoundStatus.LOCKED.value, RoundStatus.PUBLISHED.value)
STALE = "评委名单已被他人修改，请刷新页面后重新编辑"
_MAX_KEY = 256  # AuditEvent.entity_key


@dataclass(frozen=True)
class JudgeRow:
    id: int | None
    code: str
    name: str
    unit: str
    title: str

    def fields(self) -> dict[str, str]:
        return {f: getattr(self, f) for f in FIELDS}


@dataclass(frozen=True)
class JudgeChanges:
    """What a save did, by judge code."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.added or self.updated or self.removed)

    def summary(self) -> str:
        return (
            f"新增 {len(self.added)} 名，修改 {len(self.updated)} 名，删除 {len(self.removed)} 名"
        )


@dataclass(frozen=True)
class PanelChange:
    """Judges put on and taken off a round's panel, by code."""

    round_code: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed)


# -- reading -------------------------------------------------------------------------------
def list_judges(engine: Engine, *, actor: Actor) -> pd.DataFrame:
    """Every judge with unit, score count, linked account and rounds served (admins)."""
    require(actor, Action.MANAGE_ROSTER)
    scores = (
        select(Score.judge_id, func.count().label("n")).group_by(col(Score.judge_id)).subquery()
    )
    stmt = (
        select_columns(
            col(Judge.id),
            col(Judge.code),
            col(Judge.name),
            col(Unit.name),
            col(Judge.title),
            func.coalesce(scores.c.n, 0),
            col(User.username),
        )
        .join(Unit, col(Unit.id) == Judge.unit_id, isouter=True)
        .join(scores, scores.c.judge_id == Judge.id, isouter=True)
        .join(User, col(User.judge_id) == Judge.id, isouter=True)
        .order_by(Judge.code)
    )
    panels = (
        select(RoundJudge.judge_id, Round.code)
        .join(Round, col(Round.id) == RoundJudge.round_id)
        .order_by(Round.code)
    )
    with transaction(engine) as session:
        rows = [tuple(r) for r in session.execute(stmt)]
        served: dict[int, list[str]] = {}
        for judge_id, code in session.execute(panels):
            served.setdefault(judge_id, []).append(code)
    frame = pd.DataFrame(rows, columns=JUDGE_COLUMNS[:-1])
    frame["rounds"] = [("、".join(served.get(i, []))) for i in frame["id"]]
    return frame.astype(
        {
            "id": "int64",
            "code": "string",
            "name": "string",
            "unit": "string",
            "title": "string",
            "scores": "int64",
            "account": "string",
            "rounds": "string",
        }
    )


def unit_names(engine: Engine, *, actor: Actor) -> list[str]:
    """Units a judge can belong to, for the grid's picker (admins)."""
    require(actor, Action.MANAGE_ROSTER)
    with transaction(engine) as session:
        return list(session.exec(select(Unit.name).order_by(Unit.code)).all())


def judges_without_account(engine: Engine, *, actor: Actor) -> list[str]:
    """Names of judges no account is linked to yet: the choices for a new judge account."""
    require(actor, Action.MANAGE_USERS)
    linked = select(User.judge_id).where(col(User.judge_id).is_not(None))
    stmt = select(Judge.name).where(col(Judge.id).not_in(linked)).order_by(Judge.code)
    with transaction(engine) as session:
        return list(session.exec(stmt).all())


@dataclass(frozen=True)
class Panel:
    """A round's panel (judge codes) and whether it may still change."""

    round_code: str
    status: str
    members: tuple[str, ...]

    @property
    def editable(self) -> bool:
        return self.status not in FROZEN

    @property
    def status_label(self) -> str:
        return RoundStatus(self.status).label


def panel_of(engine: Engine, *, actor: Actor, round_code: str) -> Panel:
    """The judges on a round's panel."""
    require(actor, Action.MANAGE_ROUNDS)
    with transaction(engine) as session:
        rnd = get_round(session, round_code)
        return Panel(rnd.code, rnd.status, tuple(_panel(session, rnd)))


def _panel(session: Session, rnd: Round) -> list[str]:
    stmt = (
        select(Judge.code)
        .join(RoundJudge, col(RoundJudge.judge_id) == Judge.id)
        .where(RoundJudge.round_id == rnd.id)
        .order_by(Judge.code)
    )
    return list(session.exec(stmt).all())


# -- editing the judge records ---------------------------------------------------------------
def _blank(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _text(value: Any) -> str:
    return "" if _blank(value) else str(value).strip()


def _rows(table: pd.DataFrame | Iterable[Mapping[str, Any]]) -> list[JudgeRow]:
    records = table.to_dict("records") if isinstance(table, pd.DataFrame) else list(table)
    out = []
    for row in records:
        raw_id = row.get("id")
        out.append(
            JudgeRow(
                id=None if _blank(raw_id) else int(raw_id),
                **{f: _text(row.get(f)) for f in FIELDS},
            )
        )
    return out


def apply_editor_state(
    shown: pd.DataFrame, state: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """The table as edited: ``shown`` with a data editor's recorded edits applied.

    ``state`` is what ``st.data_editor`` keeps under its key: ``edited_rows`` and
    ``deleted_rows`` by row position in ``shown``, ``added_rows`` as new rows. Lets a
    page save from a button callback, before the editor itself runs again.
    """
    rows = [dict(r) for r in shown.to_dict("records")]
    state = state or {}
    for position, cells in (state.get("edited_rows") or {}).items():
        rows[int(position)].update(cells)
    deleted = {int(p) for p in state.get("deleted_rows") or ()}
    kept = [row for i, row in enumerate(rows) if i not in deleted]
    added = [{**dict(row), "id": None} for row in state.get("added_rows") or ()]
    return kept + added


def diff_judges(
    before: Sequence[JudgeRow], after: Sequence[JudgeRow]
) -> tuple[list[JudgeRow], list[tuple[JudgeRow, JudgeRow]], list[JudgeRow]]:
    """(added, [(old, new) changed], removed) between two versions of the grid.

    Blank rows (a row added and left empty) are no change at all.
    """
    old_by_id = {r.id: r for r in before if r.id is not None}
    kept = {r.id for r in after if r.id is not None}
    added = [r for r in after if r.id is None and any(r.fields().values())]
    changed = [
        (old_by_id[r.id], r)
        for r in after
        if r.id is not None and r.id in old_by_id and r.fields() != old_by_id[r.id].fields()
    ]
    removed = [r for r in before if r.id is not None and r.id not in kept]
    return added, changed, removed


def save_judges(
    engine: Engine,
    *,
    actor: Actor,
    before: pd.DataFrame | Iterable[Mapping[str, Any]],
    after: pd.DataFrame | Iterable[Mapping[str, Any]],
) -> JudgeChanges:
    """Apply the grid's edits (add, change, remove) in one transaction, or nothing.

    ``unit`` may be a unit's name or code, or blank for a judge from outside the units.
    Every problem is reported at once; rows someone else changed since ``before`` was
    read are refused with :data:`STALE` rather than overwritten.
    """
    require(actor, Action.MANAGE_ROSTER)
    before_rows, after_rows = _rows(before), _rows(after)
    added, changed, removed = diff_judges(before_rows, after_rows)
    if not (added or changed or removed):
        return JudgeChanges()
    with transaction(engine) as session:
        current = {j.id: j for j in session.exec(select(Judge)).all()}
        units = _unit_lookup(session)
        for old in [o for o, _ in changed] + removed:
            judge = current.get(old.id)
            if judge is None or _row_of(judge, units) != old:
                raise Conflict(STALE)
        _validate(after_rows, added, changed, removed, current, units)
        frozen = _frozen_rounds(session)
        _check_removals(session, removed, frozen)
        _check_unit_changes(changed, frozen)
        touched_ids = {o.id for o, _ in changed} | {r.id for r in removed}
        rounds = _rounds_of(session, touched_ids)

        removed_ids = [r.id for r in removed]
        if removed_ids:
            for table in (ConflictDeclaration, Assignment, RoundJudge):
                session.execute(delete(table).where(col(table.judge_id).in_(removed_ids)))
            session.execute(delete(Judge).where(col(Judge.id).in_(removed_ids)))
        # Swapping codes or names between two judges must not trip the unique
        # constraints halfway: park the renamed rows on unique placeholders first.
        renamed = [(o, n) for o, n in changed if (o.code, o.name) != (n.code, n.name)]
        for old, _ in renamed:
            judge = current[old.id]
            judge.code, judge.name = f"~{old.id}", f"~{old.id}"
        session.flush()
        for old, new in changed:
            judge = current[old.id]
            judge.code, judge.name, judge.title = new.code, new.name, new.title
            judge.unit_id = units.ids.get(new.unit) if new.unit else None
        for row in added:
            session.add(
                Judge(
                    code=row.code,
                    name=row.name,
                    title=row.title,
                    unit_id=units.ids.get(row.unit) if row.unit else None,
                )
            )
        session.flush()
        _bump(session, rounds)
        result = JudgeChanges(
            added=tuple(r.code for r in added),
            updated=tuple(n.code for _, n in changed),
            removed=tuple(r.code for r in removed),
        )
        old_values: dict[str, Any] = {r.code: r.fields() for r in removed}
        new_values: dict[str, Any] = {r.code: r.fields() for r in added}
        for old, new in changed:  # keyed by the code it had, even when the code changed
            fields = [f for f in FIELDS if getattr(old, f) != getattr(new, f)]
            old_values[old.code] = {f: getattr(old, f) for f in fields}
            new_values[old.code] = {f: getattr(new, f) for f in fields}
        codes = "、".join(sorted({*result.added, *(o.code for o, _ in changed), *result.removed}))
        record(
            session,
            actor,
            action="judge.save",
            entity="judge",
            key=codes if len(codes) <= _MAX_KEY else result.summary(),
            old=old_values or None,
            new=new_values or None,
        )
        return result


@dataclass(frozen=True)
class _Units:
    ids: dict[str, int]  # name and code -> id
    names: dict[int, str]  # id -> name


def _unit_lookup(session: Session) -> _Units:
    units = session.exec(select(Unit)).all()
    ids: dict[str, int] = {}
    for unit in units:
        assert unit.id is not None
        ids[unit.code] = unit.id
        ids[unit.name] = unit.id
    return _Units(ids=ids, names={u.id: u.name for u in units if u.id is not None})


def _row_of(judge: Judge, units: _Units) -> JudgeRow:
    return JudgeRow(
        id=judge.id,
        code=judge.code,
        name=judge.name,
        unit=units.names.get(judge.unit_id, "") if judge.unit_id else "",
        title=judge.title,
    )


def _validate(
    after: Sequence[JudgeRow],
    added: Sequence[JudgeRow],
    changed: Sequence[tuple[JudgeRow, JudgeRow]],
    removed: Sequence[JudgeRow],
    current: Mapping[int | None, Judge],
    units: _Units,
) -> None:
    """Collect every problem of the rows being written, then refuse them all at once."""
    problems: list[str] = []
    line = {id(r): i for i, r in enumerate(after, start=1)}
    writing = [*added, *(n for _, n in changed)]
    for row in writing:
        where = f"第 {line[id(row)]} 行"
        for field in ("code", "name"):
            if not getattr(row, field):
                problems.append(f"{where}：{FIELD_LABELS[field]}不能为空")
        for field in FIELDS:
            if len(getattr(row, field)) > MAX_LENGTH[field]:
                problems.append(f"{where}：{FIELD_LABELS[field]}最多 {MAX_LENGTH[field]} 个字符")
        if row.unit and row.unit not in units.ids:
            problems.append(
                f"{where}：所在单位「{row.unit}」不存在；请先在“组织与品牌”页添加该单位，"
                "外部评委请留空"
            )
    # Uniqueness over the table as it will be: rows not in this edit keep their values.
    touched = {o.id for o, _ in changed} | {r.id for r in removed}
    final: list[tuple[int | None, JudgeRow]] = [
        (None, _row_of_plain(j)) for i, j in current.items() if i not in touched
    ]
    final += [(line[id(r)], r) for r in writing]
    for field in ("code", "name"):
        seen: dict[str, list[int | None]] = {}
        for at, row in final:
            value = getattr(row, field)
            if value:
                seen.setdefault(value, []).append(at)
        for value, places in seen.items():
            if len(places) > 1 and any(p is not None for p in places):
                rows = "、".join(str(p) for p in places if p is not None)
                problems.append(f"{FIELD_LABELS[field]}「{value}」重复（第 {rows} 行）")
    if problems:
        message = "评委名单有以下问题，未保存：\n" + "\n".join(problems)
        raise InvalidInput(message, problems=problems)


def _row_of_plain(judge: Judge) -> JudgeRow:
    return JudgeRow(id=judge.id, code=judge.code, name=judge.name, unit="", title=judge.title)


def _frozen_rounds(session: Session) -> dict[int | None, list[str]]:
    """judge_id -> codes of locked or published rounds on whose panel they sit."""
    stmt = (
        select(RoundJudge.judge_id, Round.code)
        .join(Round, col(Round.id) == RoundJudge.round_id)
        .where(col(Round.status).in_(FROZEN))
        .order_by(Round.code)
    )
    frozen: dict[int | None, list[str]] = {}
    for judge_id, code in session.execute(stmt):
        frozen.setdefault(judge_id, []).append(code)
    return frozen


def _check_removals(
    session: Session, removed: Sequence[JudgeRow], frozen: Mapping[int | None, list[str]]
) -> None:
    if not removed:
        return
    ids = [r.id for r in removed]
    used: set[int] = set()
    for table in (Score, ScoreSheet, ImportChange):
        used.update(session.exec(select(table.judge_id).where(col(table.judge_id).in_(ids))).all())
    accounts = dict(
        session.execute(
            select(User.judge_id, User.username).where(col(User.judge_id).in_(ids))
        ).all()
    )
    problems = []
    for row in removed:
        if row.id in used:
            problems.append(f"评委「{row.name}」已有评分记录，不能删除（评分须保留以备核查）")
        elif row.id in accounts:
            problems.append(
                f"评委「{row.name}」关联了账号 {accounts[row.id]}，不能删除"
                "（账号停用后也保留与评委的关联）"
            )
        elif row.id in frozen:
            problems.append(
                f"评委「{row.name}」是已锁定或已发布轮次 {'、'.join(frozen[row.id])} 的评委，"
                "不能删除"
            )
    if problems:
        raise Conflict("\n".join(problems), problems=problems)


def _check_unit_changes(
    changed: Sequence[tuple[JudgeRow, JudgeRow]], frozen: Mapping[int | None, list[str]]
) -> None:
    problems = [
        f"评委「{old.name}」是已锁定或已发布轮次 {'、'.join(frozen[old.id])} 的评委，"
        "不能再修改所在单位（会改变这些轮次的回避关系）"
        for old, new in changed
        if old.unit != new.unit and old.id in frozen
    ]
    if problems:
        raise Conflict("\n".join(problems), problems=problems)


def _rounds_of(session: Session, judge_ids: set[int | None]) -> list[int]:
    ids = [i for i in judge_ids if i is not None]
    if not ids:
        return []
    stmt = select(RoundJudge.round_id).where(col(RoundJudge.judge_id).in_(ids)).distinct()
    return list(session.exec(stmt).all())


def _bump(session: Session, round_ids: Sequence[int]) -> None:
    """Results show judge names and depend on recusal: their caches must notice."""
    if round_ids:
        session.execute(
            update(Round)
            .where(col(Round.id).in_(list(round_ids)))
            .values(revision=Round.revision + 1, updated_at=utcnow())
        )


# -- a round's panel ---------------------------------------------------------------------------
def set_panel(
    engine: Engine, *, actor: Actor, round_code: str, judge_codes: Iterable[str]
) -> PanelChange:
    """Make ``judge_codes`` the round's panel (while 筹备 or 评分中).

    A judge who already scored in the round stays on it. New members start with no
    assignments: the 评委分配 page gives them brands.
    """
    require(actor, Action.MANAGE_ROUNDS)
    wanted = list(dict.fromkeys(c.strip() for c in judge_codes if c and c.strip()))
    with transaction(engine) as session:
        rnd = get_round(session, round_code)
        if rnd.status in FROZEN:
            raise Conflict(
                f"轮次 {rnd.code} 当前为「{RoundStatus(rnd.status).label}」，评审组成员不能再调整"
                "（只有「筹备」和「评分中」的轮次可以调整）",
                status=rnd.status,
            )
        ids = dict(
            session.execute(select(Judge.code, Judge.id).where(col(Judge.code).in_(wanted))).all()
        )
        unknown = [c for c in wanted if c not in ids]
        if unknown:
            raise NotFound(f"找不到评委：{'、'.join(unknown)}", judges=unknown)
        current = _panel(session, rnd)
        added = [c for c in wanted if c not in current]
        removed = [c for c in current if c not in wanted]
        if not (added or removed):
            return PanelChange(rnd.code)
        if removed:
            gone = list(
                session.execute(select(Judge.code, Judge.id).where(col(Judge.code).in_(removed)))
            )
            gone_ids = [i for _, i in gone]
            scored = {
                j
                for table in (Score, ScoreSheet)
                for j in session.exec(
                    select(table.judge_id).where(
                        table.round_id == rnd.id, col(table.judge_id).in_(gone_ids)
                    )
                ).all()
            }
            blocked = [code for code, i in gone if i in scored]
            if blocked:
                raise Conflict(
                    f"评委 {'、'.join(sorted(blocked))} 在轮次 {rnd.code} 已有评分，不能移出评审组",
                    judges=sorted(blocked),
                )
            session.execute(
                delete(RoundJudge).where(
                    col(RoundJudge.round_id) == rnd.id, col(RoundJudge.judge_id).in_(gone_ids)
                )
            )
        assert rnd.id is not None
        for code in added:
            session.add(RoundJudge(round_id=rnd.id, judge_id=ids[code]))
        rnd.revision += 1
        rnd.updated_at = utcnow()
        record(
            session,
            actor,
            action="round.panel",
            entity="round",
            key=rnd.code,
            round_code=rnd.code,
            old={"judges": current},
            new={"judges": sorted(set(current) - set(removed) | set(added))},
        )
        return PanelChange(rnd.code, tuple(added), tuple(removed))
