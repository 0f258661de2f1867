"""Rounds: create, move through 筹备 → 评分中 → 已锁定 → 已发布, edit rubric and settings.

Admins (and the CLI operator) only, for reading too. Every function checks permission
first. A change is one transaction that takes the round's row lock first (by bumping
its ``revision`` before reading its status, as imports do, so a concurrent score write
commits either before the move or not at all), records exactly one audit row, and
leaves the bumped ``revision`` so cached results in every replica see the change. A
call that would change nothing writes nothing, audit row and revision included.

Rules enforced here, beyond :mod:`evalcore.lifecycle`:

* the rubric is edited only while the round is 筹备 (judges must all score against the
  same rubric), and never so that existing scores become orphaned or exceed their
  new maximum (possible after a round was reset from 评分中);
* settings are frozen once the round is 已发布: published grades change only after an
  unpublish, which needs a reason and is recorded.

The editor helpers at the end turn the rubric and settings into the tables the admin
pages edit and back, so pages stay free of pandas arithmetic.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, insert, literal, update
from sqlmodel import Session, col, select

from evalcore.db import transaction
from evalcore.errors import Conflict, InvalidInput
from evalcore.lifecycle import MOVES, RoundStatus, check_move, rubric_editable
from evalcore.models import Assignment, Round, RoundBrand, RoundJudge, Score, table_of, utcnow
from evalcore.permissions import Action, Actor, require
from evalcore.ranking import ranking_table
from evalcore.rubric import (
    BONUS,
    FAIL_GRADE,
    METHODS,
    Criterion,
    GradeBand,
    GradeQuota,
    Item,
    RoundSettings,
    Rubric,
    VetoRule,
    default_rubric,
)
from evalcore.scoring import aggregate
from evalcore.services.audit import local_times, record
from evalcore.services.results import RoundInfo, RoundResults, round_results
from evalcore.store import get_round

#: Round codes appear in CLI arguments, file names and the audit trail.
CODE_PATTERN = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$")
NAME_MAX = 128
OVERVIEW_COLUMNS = [
    "code",
    "name",
    "status",
    "status_label",
    "brands",
    "judges",
    "assignments",
    "scores",
    "updated_at",
]


# -- reading ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class RoundDetail:
    """One round as the admin pages show it: status, rubric, settings and panel size."""

    info: RoundInfo
    rubric: Rubric
    settings: RoundSettings
    brands: int
    judges: int
    assignments: int
    scores: int
    created_at: datetime
    updated_at: datetime

    @property
    def status(self) -> RoundStatus:
        return RoundStatus(self.info.status)

    @property
    def moves(self) -> list[str]:
        """The moves possible from the current status, forward ones first."""
        return [m for m, (start, _) in MOVES.items() if start is self.status]

    @property
    def rubric_editable(self) -> bool:
        return rubric_editable(self.info.status)

    @property
    def settings_editable(self) -> bool:
        return self.status is not RoundStatus.PUBLISHED


def _counts(session: Session, table: Any, round_id: int | None = None) -> dict[int, int]:
    """Rows per round of a table keyed by ``round_id``: one GROUP BY query."""
    stmt = select(table.round_id, func.count()).group_by(table.round_id)
    if round_id is not None:
        stmt = stmt.where(table.round_id == round_id)
    return {int(rid): int(n) for rid, n in session.exec(stmt).all()}


def round_overview(engine: Engine, *, actor: Actor) -> pd.DataFrame:
    """Every round with its status and counts (brands, judges, assignments, scores).

    ``updated_at`` is wall-clock time in the display time zone, as the audit trail shows.
    """
    require(actor, Action.MANAGE_ROUNDS)
    with transaction(engine) as session:
        rounds = session.exec(select(Round).order_by(col(Round.code).desc())).all()
        counts = {
            name: _counts(session, table)
            for name, table in (
                ("brands", RoundBrand),
                ("judges", RoundJudge),
                ("assignments", Assignment),
                ("scores", Score),
            )
        }
        rows = [
            (
                r.code,
                r.name,
                r.status,
                RoundStatus(r.status).label,
                *(counts[name].get(r.id or 0, 0) for name in counts),
                r.updated_at,
            )
            for r in rounds
        ]
    table = pd.DataFrame(rows, columns=OVERVIEW_COLUMNS)
    table["updated_at"] = local_times(table["updated_at"])
    return table


def round_detail(engine: Engine, *, actor: Actor, round_code: str) -> RoundDetail:
    """One round's status, rubric, settings and counts."""
    require(actor, Action.MANAGE_ROUNDS)
    with transaction(engine) as session:
        return _detail(session, get_round(session, round_code))


def _detail(session: Session, rnd: Round) -> RoundDetail:
    assert rnd.id is not None
    brands, judges, assignments, scores = (
        _counts(session, table, rnd.id).get(rnd.id, 0)
        for table in (RoundBrand, RoundJudge, Assignment, Score)
    )
    return RoundDetail(
        info=RoundInfo.of(rnd),
        rubric=Rubric.from_dict(rnd.rubric),
        settings=RoundSettings.from_dict(rnd.settings),
        brands=brands,
        judges=judges,
        assignments=assignments,
        scores=scores,
        created_at=rnd.created_at,
        updated_at=rnd.updated_at,
    )


# -- writing ---------------------------------------------------------------------------------
class _Unchanged(Exception):
    """Raised inside a transaction to roll it back when a save would change nothing."""

    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value


def _locked_round(session: Session, round_code: str) -> Round:
    """The round, read after bumping its revision (which takes its row lock).

    The UPDATE comes first, before anything is read: it serialises this transaction
    with score writes and imports on the same round (PostgreSQL row lock; SQLite's
    single writer, taken before a snapshot exists), so the status checked next is the
    one the write commits against. Any refusal rolls the bump back.
    """
    bumped = session.execute(
        update(Round)
        .where(col(Round.code) == round_code)
        .values(revision=Round.revision + 1, updated_at=utcnow())
    )
    if not bumped.rowcount:  # type: ignore[attr-defined]
        get_round(session, round_code)  # raises NotFound, naming the rounds there are
    rnd = session.exec(
        select(Round).where(Round.code == round_code).execution_options(populate_existing=True)
    ).one()
    return rnd


def create_round(
    engine: Engine, *, actor: Actor, code: str, name: str, copy_from: str | None = None
) -> RoundInfo:
    """A new round in 筹备, optionally copying an earlier round's setup.

    Copying takes the rubric (as version 1 of the new round), the settings, the brands
    (RoundBrand), the panel (RoundJudge) and the assignments. Scores, comments and
    judges' declared conflicts are not copied: they belong to the earlier round.
    Without ``copy_from``: the default rubric and settings and an empty panel.
    """
    require(actor, Action.MANAGE_ROUNDS)
    code, name = code.strip(), name.strip()
    if not CODE_PATTERN.match(code):
        raise InvalidInput(
            f"轮次编号「{code}」无效：只能用字母、数字和 . _ -，以字母或数字开头，最多 32 个字符"
            "（例如 2027）",
            code=code,
        )
    if not name:
        raise InvalidInput("请填写轮次名称，例如“2027年度“一支部一品牌”评审”")
    if len(name) > NAME_MAX:
        raise InvalidInput(f"轮次名称最多 {NAME_MAX} 个字符（当前 {len(name)} 个）")
    now = utcnow()
    with transaction(engine) as session:
        if session.exec(select(Round.id).where(Round.code == code)).first() is not None:
            raise Conflict(f"轮次编号 {code} 已存在，请换一个编号", code=code)
        source = get_round(session, copy_from) if copy_from else None
        rubric = replace(Rubric.from_dict(source.rubric), version=1) if source else default_rubric()
        settings = RoundSettings.from_dict(source.settings) if source else RoundSettings()
        rnd = Round(
            code=code,
            name=name,
            status=RoundStatus.DRAFT.value,
            rubric=rubric.to_dict(),
            settings=settings.to_dict(),
            revision=1,
            created_at=now,
            updated_at=now,
        )
        session.add(rnd)
        session.flush()
        copied = {"brands": 0, "judges": 0, "assignments": 0}
        if source is not None:
            copied = _copy_panel(session, source.id, rnd.id, now)  # type: ignore[arg-type]
        record(
            session,
            actor,
            action="round.create",
            entity="round",
            key=code,
            round_code=code,
            new={
                "name": name,
                "status": RoundStatus.DRAFT.value,
                "copy_from": copy_from or None,
                **copied,
            },
        )
        return RoundInfo.of(rnd)


def _copy_panel(session: Session, source_id: int, target_id: int, now: datetime) -> dict[str, int]:
    """Copy brands, judges and assignments with one INSERT … SELECT each."""
    copied = {}
    tables: tuple[tuple[str, Any, list[str]], ...] = (
        ("brands", RoundBrand, ["brand_id"]),
        ("judges", RoundJudge, ["judge_id"]),
        ("assignments", Assignment, ["brand_id", "judge_id"]),
    )
    for name, table, columns in tables:
        picked: list[Any] = [literal(target_id).label("round_id")]
        picked += [getattr(table, c) for c in columns]
        targets = ["round_id", *columns]
        if table is Assignment:
            picked.append(literal(now).label("created_at"))
            targets.append("created_at")
        query = select(*picked).where(table.round_id == source_id)
        session.execute(insert(table_of(table)).from_select(targets, query))
        # Counted, not taken from rowcount: psycopg reports -1 for INSERT … SELECT.
        copied[name] = _counts(session, table, target_id).get(target_id, 0)
    return copied


def move_round(
    engine: Engine, *, actor: Actor, round_code: str, move: str, reason: str | None = None
) -> RoundInfo:
    """Move a round along its lifecycle; a move back needs a reason, which is recorded."""
    require(actor, Action.MANAGE_ROUNDS)
    reason = (reason or "").strip() or None
    with transaction(engine) as session:
        rnd = _locked_round(session, round_code)
        old = rnd.status
        new = check_move(old, move, reason)
        rnd.status = new.value
        session.add(rnd)
        record(
            session,
            actor,
            action=f"round.{move}",
            entity="round",
            key=rnd.code,
            round_code=rnd.code,
            old={"status": old},
            new={"status": new.value},
            reason=reason,
        )
        session.flush()
        return RoundInfo.of(rnd)


def update_rubric(
    engine: Engine, *, actor: Actor, round_code: str, rubric: Mapping[str, Any] | Rubric
) -> Rubric:
    """Replace a 筹备 round's rubric; returns the rubric as stored (version bumped).

    ``rubric.version`` must be the version the editor started from: if someone saved
    in between, the save is refused rather than overwriting their change. An identical
    rubric is not saved (same version returned, nothing recorded).
    """
    require(actor, Action.EDIT_RUBRIC)
    proposed = (rubric if isinstance(rubric, Rubric) else Rubric.from_dict(rubric)).validate()
    try:
        with transaction(engine) as session:
            rnd = _locked_round(session, round_code)
            if not rubric_editable(rnd.status):
                raise Conflict(
                    f"轮次 {rnd.code} 当前为「{RoundStatus(rnd.status).label}」，评分细则已冻结："
                    "只有「筹备」状态的轮次可以修改评分细则",
                    status=rnd.status,
                )
            current = Rubric.from_dict(rnd.rubric)
            if proposed.version != current.version:
                raise Conflict(
                    f"评分细则已被他人修改（当前第 {current.version} 版，你编辑的是第 "
                    f"{proposed.version} 版），请刷新后重新编辑",
                    version=current.version,
                )
            old, new = rubric_changes(current, proposed)
            if not old and not new:
                raise _Unchanged(current)
            _check_scores_fit(session, rnd, proposed)
            saved = replace(proposed, version=current.version + 1)
            rnd.rubric = saved.to_dict()
            session.add(rnd)
            record(
                session,
                actor,
                action="rubric.update",
                entity="rubric",
                key=rnd.code,
                round_code=rnd.code,
                old={"version": current.version, **old},
                new={"version": saved.version, **new},
            )
            return saved
    except _Unchanged as unchanged:
        return unchanged.value  # nothing written, not even the revision


def _check_scores_fit(session: Session, rnd: Round, rubric: Rubric) -> None:
    """Refuse a rubric that would orphan existing scores or put them above the maximum."""
    stmt = (
        select(Score.item, func.count(), func.max(Score.value))
        .where(Score.round_id == rnd.id)
        .group_by(Score.item)
    )
    maxima = rubric.item_max()
    labels = rubric.item_labels()
    problems = []
    for item, count, highest in session.exec(stmt).all():
        if item not in maxima:
            problems.append(f"指标 {item} 已有 {count} 条评分，不能删除")
        elif highest > maxima[item]:
            problems.append(
                f"「{labels[item]}」已有评分 {highest:g} 分，分值不能低于该分数"
                f"（拟改为 {maxima[item]:g} 分）"
            )
    if problems:
        raise Conflict(
            f"轮次 {rnd.code} 已有评分，评分细则的这些修改会使已有评分失效：" + "；".join(problems),
            problems=problems,
        )


def update_settings(
    engine: Engine,
    *,
    actor: Actor,
    round_code: str,
    settings: Mapping[str, Any] | RoundSettings,
    expected: RoundSettings | None = None,
) -> RoundSettings:
    """Replace a round's settings (validated against its rubric); frozen once published.

    ``expected``: the settings the editor started from; if they are no longer the
    stored ones, someone saved in between and the save is refused rather than
    silently overwriting theirs. Identical settings are not saved (no audit row).
    """
    require(actor, Action.MANAGE_ROUNDS)
    proposed = (
        settings if isinstance(settings, RoundSettings) else RoundSettings.from_dict(settings)
    )
    try:
        with transaction(engine) as session:
            rnd = _locked_round(session, round_code)
            if RoundStatus(rnd.status) is RoundStatus.PUBLISHED:
                raise Conflict(
                    f"轮次 {rnd.code} 已发布，设置不能再修改："
                    "如确需调整，请先撤回发布（需填写原因）",
                    status=rnd.status,
                )
            proposed.validate(Rubric.from_dict(rnd.rubric))
            stored = RoundSettings.from_dict(rnd.settings)
            if expected is not None and stored != expected:
                raise Conflict(
                    f"轮次 {rnd.code} 的设置已被他人修改，请放弃修改、刷新后重新编辑",
                    round=rnd.code,
                )
            before = stored.to_dict()
            after = proposed.to_dict()
            changed = [key for key in after if before.get(key) != after[key]]
            if not changed:
                raise _Unchanged(proposed)
            rnd.settings = after
            session.add(rnd)
            record(
                session,
                actor,
                action="round.settings",
                entity="settings",
                key=rnd.code,
                round_code=rnd.code,
                old={key: before.get(key) for key in changed},
                new={key: after[key] for key in changed},
            )
            return proposed

    except _Unchanged as unchanged:
        return unchanged.value  # nothing written, not even the revision


# -- what a settings change would do -----------------------------------------------------------
@dataclass(frozen=True)
class SettingsPreview:
    """How proposed settings would grade the round's current scores.

    ``by_rules``: brands whose grade a veto or quota changes (the result's 等次说明);
    ``vetoed`` / ``by_quota`` split that by cause; ``differs``: brands whose final
    grade differs from what the saved settings give now. ``grades`` counts brands per
    grade now and proposed; ``changes`` lists every affected brand.
    """

    ranked: int
    by_rules: int
    vetoed: int
    by_quota: int
    differs: int
    grades: pd.DataFrame  # grade, current, proposed
    changes: pd.DataFrame  # brand_code, brand, total, grade_by_score, current, proposed, note


def preview_settings(
    engine: Engine,
    *,
    actor: Actor,
    round_code: str,
    settings: RoundSettings,
    results: RoundResults | None = None,
) -> SettingsPreview:
    """Re-rank the round's scores with ``settings`` (nothing is saved).

    ``results`` may be the round's already computed (cached) results; otherwise they
    are read with :func:`~evalcore.services.results.round_results`.
    """
    require(actor, Action.MANAGE_ROUNDS)
    if results is None or results.round.code != round_code:
        results = round_results(engine, actor=actor, round_code=round_code)
    rubric = results.rubric
    settings.validate(rubric)
    proposed = _rank(results, settings)
    vetoes_only = _rank(results, replace(settings, quotas=()))
    current = results.table.set_index("brand_id")
    ranked = proposed["rank"].notna()
    by_score = proposed["grade_by_score"]
    final = proposed["grade"]
    now = current["grade"].reindex(proposed.index)
    vetoed = ranked & (vetoes_only["grade"].reindex(proposed.index) != by_score)
    by_quota = ranked & (final != vetoes_only["grade"].reindex(proposed.index))
    by_rules = ranked & (final != by_score)
    differs = final.fillna("") != now.fillna("")
    labels = settings.grade_labels
    extra = [g for g in current["grade"].dropna().unique() if g not in labels]
    order = [*labels, *extra]
    grades = pd.DataFrame(
        {
            "grade": order,
            "current": current["grade"].value_counts().reindex(order, fill_value=0).to_numpy(),
            "proposed": final.value_counts().reindex(order, fill_value=0).to_numpy(),
        }
    )
    affected = proposed[by_rules | differs]
    changes = pd.DataFrame(
        {
            "brand_code": affected["brand_code"],
            "brand": affected["brand"],
            "rank": affected["rank"],
            "total": affected["total"],
            "grade_by_score": affected["grade_by_score"],
            "current": now[affected.index],
            "proposed": affected["grade"],
            "note": affected["grade_note"],
        }
    ).reset_index(drop=True)
    return SettingsPreview(
        ranked=int(ranked.sum()),
        by_rules=int(by_rules.sum()),
        vetoed=int(vetoed.sum()),
        by_quota=int(by_quota.sum()),
        differs=int(differs.sum()),
        grades=grades,
        changes=changes,
    )


def _rank(results: RoundResults, settings: RoundSettings) -> pd.DataFrame:
    """The meeting table under ``settings``, indexed by brand_id."""
    agg = aggregate(results.scores, results.rubric, settings, brand_ids=results.brands.index)
    table = ranking_table(agg, settings, results.rubric, results.brands, results.judges["judge"])
    return table.set_index("brand_id")


# -- audit detail for a rubric change --------------------------------------------------------
_ITEM_FIELDS = ("label", "max_points", "guide", "deductions")


def rubric_changes(old: Rubric, new: Rubric) -> tuple[dict[str, Any], dict[str, Any]]:
    """What changed between two rubrics, as (old, new) dicts for the audit trail.

    Items are compared by code: an added item appears only in ``new`` (whole), a
    removed one only in ``old``, an edited one in both with just the changed fields.
    Empty dicts: nothing changed (the version is not compared).
    """
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if old.bonus_cap != new.bonus_cap:
        before["bonus_cap"], after["bonus_cap"] = old.bonus_cap, new.bonus_cap
    old_items = {item.code: (group, item) for group, item in old.scored_items()}
    new_items = {item.code: (group, item) for group, item in new.scored_items()}
    items_before: dict[str, Any] = {}
    items_after: dict[str, Any] = {}
    for code in [*old_items, *(c for c in new_items if c not in old_items)]:
        was, now = old_items.get(code), new_items.get(code)
        if now is None:
            items_before[code] = _item_record(*was)  # type: ignore[misc]
        elif was is None:
            items_after[code] = _item_record(*now)
        else:
            fields = {"group": (was[0], now[0])} if was[0] != now[0] else {}
            fields.update(
                (f, (getattr(was[1], f), getattr(now[1], f)))
                for f in _ITEM_FIELDS
                if getattr(was[1], f) != getattr(now[1], f)
            )
            if fields:
                items_before[code] = {f: pair[0] for f, pair in fields.items()}
                items_after[code] = {f: pair[1] for f, pair in fields.items()}
    if [c.code for c in old.criteria] != [c.code for c in new.criteria]:
        before["criteria"] = [c.code for c in old.criteria]
        after["criteria"] = [c.code for c in new.criteria]
    if items_before or items_after:
        before["items"], after["items"] = items_before, items_after
    return before, after


def _item_record(group: str, item: Item) -> dict[str, Any]:
    return {"group": group, **{f: getattr(item, f) for f in _ITEM_FIELDS}}


# -- editor helpers: rubric <-> tables -------------------------------------------------------
ITEM_COLUMNS = ["code", "label", "max_points", "guide", "deductions"]


def rubric_tables(rubric: Rubric) -> dict[str, pd.DataFrame]:
    """One editable table per criterion code, and ``"bonus"`` for the bonus items."""
    groups: dict[str, tuple[Item, ...]] = {c.code: c.items for c in rubric.criteria}
    groups[BONUS] = rubric.bonus_items
    return {
        group: pd.DataFrame(
            [[getattr(i, f) for f in ITEM_COLUMNS] for i in items], columns=ITEM_COLUMNS
        ).astype({"code": "object", "label": "object", "max_points": "float64"})
        for group, items in groups.items()
    }


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return str(value).strip()


def _points(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if math.isnan(number) else number


def rubric_from_tables(
    base: Rubric, tables: Mapping[str, pd.DataFrame], bonus_cap: float
) -> Rubric:
    """The rubric the editor shows: ``base`` with its items replaced by the tables.

    Not validated (see :func:`rubric_problems`): totals must show live while a half
    typed row is still invalid. New rows (no code yet) get ``<criterion>.<n>``, never
    reusing a code of ``base``, so a new item cannot inherit an old item's scores.
    Rows left completely empty are ignored.
    """
    used = set(base.item_codes)

    def items(group: str, frame: pd.DataFrame | None) -> tuple[Item, ...]:
        out = []
        for row in [] if frame is None else frame.to_dict("records"):
            label, guide, rules = (_text(row.get(k)) for k in ("label", "guide", "deductions"))
            raw_points = row.get("max_points")
            code = _text(row.get("code"))
            if not code and not (label or guide or rules or _points(raw_points)):
                continue
            if not code:
                n = 1
                while f"{group}.{n}" in used:
                    n += 1
                code = f"{group}.{n}"
            used.add(code)
            out.append(Item(code, label, _points(raw_points), guide, rules))
        return tuple(out)

    criteria = tuple(
        Criterion(c.code, c.label, c.full_label, items(c.code, tables.get(c.code)))
        for c in base.criteria
    )
    return Rubric(
        criteria=criteria,
        bonus_items=items(BONUS, tables.get(BONUS)),
        bonus_cap=_points(bonus_cap),
        version=base.version,
    )


def rubric_problems(rubric: Rubric) -> list[str]:
    """Everything :meth:`Rubric.validate` would refuse, as a list (empty: savable)."""
    try:
        rubric.validate()
    except InvalidInput as exc:
        return list(exc.fields.get("problems", [exc.message]))
    return []


def rubric_totals(rubric: Rubric) -> pd.DataFrame:
    """Maximum points per criterion, the bonus and the total, as the Rubric computes them."""
    rows = [(c.label, len(c.items), c.max_points) for c in rubric.criteria]
    rows.append(("加分项（封顶）", len(rubric.bonus_items), rubric.effective_bonus_cap))
    rows.append(("总分", len(rubric.item_codes), rubric.max_total))
    return pd.DataFrame(rows, columns=["group", "items", "max_points"])


# -- editor helpers: settings <-> tables -----------------------------------------------------
@dataclass(frozen=True)
class SettingsTables:
    """The list-valued settings as editable tables; shares in percent."""

    bands: pd.DataFrame  # label, min_total
    quotas: pd.DataFrame  # label, percent
    vetoes: pd.DataFrame  # criterion (label), percent, max_grade


def settings_tables(settings: RoundSettings, rubric: Rubric) -> SettingsTables:
    names = rubric.criterion_labels()
    return SettingsTables(
        bands=pd.DataFrame(
            [(b.label, b.min_total) for b in settings.grade_bands], columns=["label", "min_total"]
        ).astype({"label": "object", "min_total": "float64"}),
        quotas=pd.DataFrame(
            [(q.label, round(q.max_share * 100, 4)) for q in settings.quotas],
            columns=["label", "percent"],
        ).astype({"label": "object", "percent": "float64"}),
        vetoes=pd.DataFrame(
            [
                (names.get(v.criterion, v.criterion), round(v.min_share * 100, 4), v.max_grade)
                for v in settings.vetoes
            ],
            columns=["criterion", "percent", "max_grade"],
        ).astype({"criterion": "object", "percent": "float64", "max_grade": "object"}),
    )


def _rows(frame: pd.DataFrame | None, columns: Sequence[str], what: str) -> list[list[Any]]:
    """Non-empty rows of an edited table; a half-filled row is an error."""
    rows = []
    for n, row in enumerate([] if frame is None else frame.to_dict("records"), start=1):
        values = [row.get(c) for c in columns]
        filled = [_text(v) != "" for v in values]
        if not any(filled):
            continue
        if not all(filled):
            raise InvalidInput(f"{what}第 {n} 行没有填写完整")
        rows.append(values)
    return rows


def settings_from_tables(
    *,
    rubric: Rubric,
    method: str,
    min_judges: int,
    trim_min_judges: int,
    bands: pd.DataFrame,
    tie_break: Sequence[str],
    quotas: pd.DataFrame,
    vetoes: pd.DataFrame,
    comment_below: float | None,
) -> RoundSettings:
    """Settings from the admin form (shares in percent), validated against ``rubric``."""
    codes = {c.label: c.code for c in rubric.criteria}
    codes.update({c.code: c.code for c in rubric.criteria})
    grade_bands = tuple(
        GradeBand(_text(label), _points(points))
        for label, points in _rows(bands, ["label", "min_total"], "等次分数线")
    )
    labels = {b.label for b in grade_bands} | {FAIL_GRADE}
    if len(labels) != len(grade_bands) + 1:
        raise InvalidInput("等次名称不能重复，也不能叫“不合格”")
    settings = RoundSettings(
        method=method,
        min_judges=int(min_judges),
        trim_min_judges=int(trim_min_judges),
        grade_bands=tuple(sorted(grade_bands, key=lambda b: -b.min_total)),
        tie_break=tuple(tie_break),
        quotas=tuple(
            GradeQuota(_text(label), _points(percent) / 100)
            for label, percent in _rows(quotas, ["label", "percent"], "等次名额")
        ),
        vetoes=tuple(
            VetoRule(codes.get(_text(name), _text(name)), _points(percent) / 100, _text(grade))
            for name, percent, grade in _rows(
                vetoes, ["criterion", "percent", "max_grade"], "否决规则"
            )
        ),
        comment_below=None if comment_below is None else float(comment_below),
    )
    return settings.validate(rubric)


def describe_settings(settings: RoundSettings, rubric: Rubric) -> list[str]:
    """The settings in plain Chinese, one line each (read-only view, CLI)."""
    names = rubric.criterion_labels()
    lines = [
        f"汇总方法：{METHODS.get(settings.method, settings.method)}",
        f"最少评委人数：{settings.min_judges}（不足时结果仅供参考）",
        f"去掉最高最低分至少需要：{settings.trim_min_judges} 名评委（不足时按算术平均）",
        "等次分数线："
        + "，".join(f"{b.label} ≥ {b.min_total:g}" for b in settings.grade_bands)
        + f"，其余为{FAIL_GRADE}",
        "并列时依次比较："
        + ("、".join(names.get(c, c) for c in settings.tie_break) if settings.tie_break else "无"),
    ]
    for q in settings.quotas:
        lines.append(f"名额限制：{q.label}不超过参评品牌的 {q.max_share:.0%}")
    for v in settings.vetoes:
        lines.append(
            f"否决规则：{names.get(v.criterion, v.criterion)}低于满分的 {v.min_share:.0%} 时，"
            f"等次最高为{v.max_grade}"
        )
    lines.append(
        "评语："
        + (
            f"总分低于 {settings.comment_below:g} 分时评委必须填写"
            if settings.comment_below is not None
            else "不强制填写"
        )
    )
    return lines


__all__ = [
    "RoundDetail",
    "SettingsPreview",
    "SettingsTables",
    "create_round",
    "describe_settings",
    "move_round",
    "preview_settings",
    "round_detail",
    "round_overview",
    "rubric_changes",
    "rubric_from_tables",
    "rubric_problems",
    "rubric_tables",
    "rubric_totals",
    "settings_from_tables",
    "settings_tables",
    "update_rubric",
    "update_settings",
]
