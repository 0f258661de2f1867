"""Web scoring (评委打分): a judge's worklist and score sheet, saved with optimistic locking.

A judge sees and writes only their own sheets, and only for the brands
:func:`evalcore.store.assigned_pairs` gives them (assignment minus recusal minus
declared conflicts); any other brand is answered exactly like one that does not exist.
Judging is blind: nothing here ever reads another judge's scores.

A sheet is loaded with a :class:`SheetToken` (every stored cell's value and ``version``,
the sheet's comment and state). Saving hands the token back; in one transaction the
round is locked (its revision bumped first, which takes the write lock), its status
checked, the sheet compared with the token, and every changed cell written with
``UPDATE ... WHERE version = <loaded>``. Any difference means someone else (another
tab, an admin import) changed the sheet meanwhile: the save is refused with
:data:`CONFLICT` and nothing is written. The whole sheet is compared, not only the
cells being typed, because a judge signs the sheet as they saw it: a silent merge
would submit values under their name that they never looked at.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import pandas as pd
from sqlalchemy import Engine, Insert, Table, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from evalcore.db import transaction
from evalcore.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from evalcore.lifecycle import require_scoring, scores_writable
from evalcore.models import Judge, Round, Score, ScoreSheet, table_of, utcnow
from evalcore.permissions import Action, Actor, Role, require
from evalcore.rubric import BONUS, RoundSettings, Rubric
from evalcore.services.audit import record
from evalcore.services.results import RoundInfo
from evalcore.store import assigned_pairs, get_round, read_brands

#: The one answer to a concurrent edit (the issue prescribes the wording).
CONFLICT = "已被他人修改，请刷新"
#: Scores a judge types on the web carry this source (imports carry ``import:<id>``).
WEB = "web"
#: A comment is a paragraph or two, not a report.
COMMENT_MAX = 2000


class SheetStatus(StrEnum):
    """Where a judge's sheet for one brand stands: 已提交 / 草稿 / 未开始."""

    SUBMITTED = "submitted"
    DRAFT = "draft"
    NEW = "new"

    @property
    def label(self) -> str:
        return SHEET_STATUS_LABELS[self]


SHEET_STATUS_LABELS = {
    SheetStatus.SUBMITTED: "已提交",
    SheetStatus.DRAFT: "草稿",
    SheetStatus.NEW: "未开始",
}


def effective_status(sheet_status: str | None, cells: int, complete: bool) -> SheetStatus:
    """A sheet's state from its row (if any) and its cells.

    Without a sheet row (an import without comments), a complete set of scores is a
    finished paper sheet, so it counts as submitted. A row marked submitted that lacks
    items (a partial import) stays a draft the judge can finish: a submitted sheet is
    complete by definition.
    """
    if sheet_status is None:
        if complete:
            return SheetStatus.SUBMITTED
        return SheetStatus.DRAFT if cells else SheetStatus.NEW
    if sheet_status == SheetStatus.SUBMITTED.value and complete:
        return SheetStatus.SUBMITTED
    return SheetStatus.DRAFT


# -- value objects -------------------------------------------------------------------------
@dataclass(frozen=True)
class SheetToken:
    """What a judge's sheet held when it was loaded: the concurrency token.

    ``cells`` lists every stored cell as ``(item, value, version)``; ``comment`` and
    ``sheet_status`` are None when no sheet row existed.
    """

    round_code: str
    brand_code: str
    judge_id: int
    cells: tuple[tuple[str, float, int], ...]
    comment: str | None
    sheet_status: str | None

    def values(self) -> dict[str, float]:
        return {item: value for item, value, _ in self.cells}

    def versions(self) -> dict[str, int]:
        return {item: version for item, _, version in self.cells}


@dataclass(frozen=True)
class BrandProfile:
    code: str
    name: str
    slogan: str
    description: str
    category: str
    unit: str
    branch: str


@dataclass(frozen=True)
class Totals:
    """A sheet's live arithmetic: subtotal per criterion, capped bonus, total, filling."""

    criteria: dict[str, float]
    bonus_raw: float
    bonus: float
    total: float
    filled: int
    required: int

    @property
    def complete(self) -> bool:
        return self.filled == self.required


def sheet_totals(rubric: Rubric, values: Mapping[str, float | None]) -> Totals:
    """Subtotals and total as the results compute them (bonus capped); blanks count 0."""

    def points(code: str) -> float:
        value = values.get(code)
        return 0.0 if value is None else float(value)

    criteria = {c.code: math.fsum(points(i.code) for i in c.items) for c in rubric.criteria}
    bonus_raw = math.fsum(points(i.code) for i in rubric.bonus_items)
    bonus = min(bonus_raw, rubric.effective_bonus_cap)
    codes = rubric.criterion_item_codes
    return Totals(
        criteria=criteria,
        bonus_raw=bonus_raw,
        bonus=bonus,
        total=math.fsum(criteria.values()) + bonus,
        filled=sum(values.get(code) is not None for code in codes),
        required=len(codes),
    )


@dataclass(frozen=True)
class Sheet:
    """One judge's sheet for one brand: profile, rubric, their own values only."""

    round: RoundInfo
    judge_code: str
    judge_name: str
    brand: BrandProfile
    rubric: Rubric
    values: dict[str, float | None]  # every rubric item; None = not filled
    comment: str
    status: SheetStatus
    comment_below: float | None
    loaded: SheetToken
    updated_at: datetime | None

    @property
    def round_open(self) -> bool:
        return scores_writable(self.round.status)

    @property
    def writable(self) -> bool:
        """The judge may change it: the round is 评分中 and the sheet not submitted."""
        return self.round_open and self.status is not SheetStatus.SUBMITTED

    @property
    def totals(self) -> Totals:
        return sheet_totals(self.rubric, self.values)

    def comment_required(self, total: float) -> bool:
        return self.comment_below is not None and total < self.comment_below


@dataclass(frozen=True)
class SaveResult:
    """What a save did; ``sheet`` is the sheet as now stored, with a fresh token."""

    sheet: Sheet
    saved: bool  # False: nothing differed from the loaded sheet, nothing written
    changed: int  # cells written (created, changed or cleared)
    submitted: bool


WORKLIST_COLUMNS = [
    "brand_code",
    "brand",
    "unit",
    "branch",
    "category",
    "status",
    "status_label",
    "filled",
    "required",
    "total",
]


@dataclass(frozen=True)
class Worklist:
    """A judge's brands in a round with their sheet states, in brand-code order."""

    round: RoundInfo
    judge_code: str
    judge_name: str
    rubric: Rubric
    entries: pd.DataFrame  # WORKLIST_COLUMNS; total is the judge's own (NaN: nothing yet)

    @property
    def round_open(self) -> bool:
        return scores_writable(self.round.status)

    def count(self, status: SheetStatus) -> int:
        return int((self.entries["status"] == status.value).sum())

    @property
    def done(self) -> int:
        return self.count(SheetStatus.SUBMITTED)

    @property
    def size(self) -> int:
        return len(self.entries)

    @property
    def fraction(self) -> float:
        return self.done / self.size if self.size else 0.0

    @property
    def codes(self) -> list[str]:
        return self.entries["brand_code"].tolist()

    def status_of(self, brand_code: str) -> SheetStatus:
        rows = self.entries.loc[self.entries["brand_code"] == brand_code, "status"]
        return SheetStatus(rows.iloc[0]) if len(rows) else SheetStatus.NEW

    def first_open(self) -> str | None:
        """Where a judge starts: the first brand not yet submitted, else the first."""
        return next_brand(list(zip(self.codes, self.entries["status"], strict=True)), None)


def next_brand(entries: Sequence[tuple[str, str]], current: str | None) -> str | None:
    """The brand after ``current`` (wrapping) still to be submitted, else simply the next.

    ``entries`` are ``(brand_code, status)`` in worklist order; None when empty.
    """
    if not entries:
        return None
    codes = [code for code, _ in entries]
    start = codes.index(current) + 1 if current in codes else 0
    order = [entries[(start + k) % len(entries)] for k in range(len(entries))]
    for code, status in order:
        if status != SheetStatus.SUBMITTED.value and code != current:
            return code
    return order[0][0] if current in codes else codes[0]


def unsaved(token: SheetToken, values: Mapping[str, float | None], comment: str) -> bool:
    """Whether ``values``/``comment`` (as typed) differ from the sheet as loaded."""
    loaded = token.values()
    keys = set(loaded) | {k for k, v in values.items() if v is not None}
    if any(_differs(loaded.get(k), values.get(k, loaded.get(k))) for k in keys):
        return True
    return (comment or "") != (token.comment or "")


# -- permission and lookups ----------------------------------------------------------------
def _require_judge(actor: Actor) -> int:
    """Only a judge account linked to a judge record scores, and only for itself."""
    require(actor, Action.SCORE)
    if actor.role is not Role.JUDGE or actor.judge_id is None:
        raise PermissionDenied(
            f"当前账号（{actor.role.label}）不能在线打分：评分只能由关联了评委的评委账号本人录入"
            "（管理员可通过“导入评分”录入纸质评分表）",
            role=actor.role.value,
            action=Action.SCORE.value,
        )
    return actor.judge_id


def _not_yours(brand_code: str) -> NotFound:
    """The same answer for a brand that does not exist and one that is not the judge's."""
    return NotFound(f"你的评分任务中没有编号为 {brand_code} 的品牌", brand=brand_code)


def _judge(session: Session, judge_id: int) -> Judge:
    judge = session.get(Judge, judge_id)
    if judge is None:
        raise NotFound("账号关联的评委已不存在，请联系管理员", judge_id=judge_id)
    return judge


def _my_brands(session: Session, round_id: int, judge_id: int) -> pd.DataFrame:
    """The round's brands this judge is to score (profile columns, indexed by brand_id)."""
    conn = session.connection()
    pairs = assigned_pairs(conn, round_id)
    mine = pairs.loc[pairs["judge_id"] == judge_id, "brand_id"]
    brands = read_brands(conn, round_id)
    return brands[brands.index.isin(mine)]


def _my_brand(session: Session, rnd: Round, judge_id: int, brand_code: str) -> tuple[int, Any]:
    assert rnd.id is not None
    brands = _my_brands(session, rnd.id, judge_id)
    found = brands[brands["brand_code"] == brand_code]
    if found.empty:
        raise _not_yours(brand_code)
    return int(found.index[0]), found.iloc[0]


def _cells(session: Session, round_id: int, brand_id: int, judge_id: int) -> pd.DataFrame:
    """This judge's stored cells for one brand: item, value, version (one query)."""
    stmt = select(Score.item, Score.value, Score.version).where(
        Score.round_id == round_id, Score.brand_id == brand_id, Score.judge_id == judge_id
    )
    rows = [tuple(r) for r in session.connection().execute(stmt)]
    return pd.DataFrame.from_records(rows, columns=["item", "value", "version"])


def _sheet_row(session: Session, round_id: int, brand_id: int, judge_id: int) -> ScoreSheet | None:
    return session.get(ScoreSheet, (round_id, brand_id, judge_id), populate_existing=True)


def _token(
    rnd: Round, brand_code: str, judge_id: int, cells: pd.DataFrame, row: ScoreSheet | None
) -> SheetToken:
    return SheetToken(
        round_code=rnd.code,
        brand_code=brand_code,
        judge_id=judge_id,
        cells=tuple(
            sorted(
                (str(i), float(v), int(n))
                for i, v, n in zip(cells["item"], cells["value"], cells["version"], strict=True)
            )
        ),
        comment=None if row is None else row.comment,
        sheet_status=None if row is None else row.status,
    )


def _read_sheet(
    session: Session, rnd: Round, judge: Judge, brand_id: int, brand: Any, brand_code: str
) -> Sheet:
    assert rnd.id is not None and judge.id is not None
    rubric = Rubric.from_dict(rnd.rubric)
    cells = _cells(session, rnd.id, brand_id, judge.id)
    row = _sheet_row(session, rnd.id, brand_id, judge.id)
    stored = dict(zip(cells["item"], cells["value"].astype(float), strict=True))
    values: dict[str, float | None] = {code: stored.get(code) for code in rubric.item_codes}
    totals = sheet_totals(rubric, values)
    return Sheet(
        round=RoundInfo.of(rnd),
        judge_code=judge.code,
        judge_name=judge.name,
        brand=BrandProfile(
            code=brand_code,
            name=str(brand["brand"]),
            slogan=str(brand["slogan"] or ""),
            description=str(brand["description"] or ""),
            category=str(brand["category"] or ""),
            unit=str(brand["unit"]),
            branch=str(brand["branch"]),
        ),
        rubric=rubric,
        values=values,
        comment="" if row is None else row.comment,
        status=effective_status(None if row is None else row.status, len(cells), totals.complete),
        comment_below=RoundSettings.from_dict(rnd.settings).comment_below,
        loaded=_token(rnd, brand_code, judge.id, cells, row),
        updated_at=None if row is None else row.updated_at,
    )


# -- reads ---------------------------------------------------------------------------------
def worklist(engine: Engine, *, actor: Actor, round_code: str) -> Worklist:
    """The judge's brands with status 已提交 / 草稿 / 未开始 and their own progress."""
    judge_id = _require_judge(actor)
    with transaction(engine) as session:
        rnd = get_round(session, round_code)
        judge = _judge(session, judge_id)
        assert rnd.id is not None
        rubric = Rubric.from_dict(rnd.rubric)
        brands = _my_brands(session, rnd.id, judge_id)
        conn = session.connection()
        scores = pd.DataFrame.from_records(
            [
                tuple(r)
                for r in conn.execute(
                    select(Score.brand_id, Score.item, Score.value).where(
                        Score.round_id == rnd.id, Score.judge_id == judge_id
                    )
                )
            ],
            columns=["brand_id", "item", "value"],
        )
        sheets = pd.DataFrame.from_records(
            [
                tuple(r)
                for r in conn.execute(
                    select(ScoreSheet.brand_id, ScoreSheet.status).where(
                        ScoreSheet.round_id == rnd.id, ScoreSheet.judge_id == judge_id
                    )
                )
            ],
            columns=["brand_id", "sheet_status"],
        )
        info = RoundInfo.of(rnd)
    return Worklist(info, judge.code, judge.name, rubric, _entries(brands, scores, sheets, rubric))


def _entries(
    brands: pd.DataFrame, scores: pd.DataFrame, sheets: pd.DataFrame, rubric: Rubric
) -> pd.DataFrame:
    """One row per brand: state, items filled, the judge's own total (vectorised)."""
    group = rubric.item_group()
    scores = scores[scores["brand_id"].isin(brands.index) & scores["item"].isin(group)]
    scores = scores.assign(group=scores["item"].map(group), value=scores["value"].astype(float))
    per = scores.groupby(["brand_id", "group"])["value"].sum().unstack("group")
    bonus = per[BONUS].clip(upper=rubric.effective_bonus_cap) if BONUS in per else 0.0
    crit = [c for c in per.columns if c != BONUS]
    totals = per[crit].sum(axis=1) + bonus
    is_crit = scores["group"] != BONUS
    filled = scores[is_crit].groupby("brand_id").size()
    cells = scores.groupby("brand_id").size()
    frame = brands.reset_index()[["brand_id", "brand_code", "brand", "unit", "branch", "category"]]
    frame = frame.merge(sheets, on="brand_id", how="left")
    frame["filled"] = frame["brand_id"].map(filled).fillna(0).astype("int64")
    frame["required"] = len(rubric.criterion_item_codes)
    frame["total"] = frame["brand_id"].map(totals).astype("float64")
    cell_counts = frame["brand_id"].map(cells).fillna(0).astype("int64")
    frame["status"] = [
        effective_status(None if pd.isna(s) else str(s), int(n), int(f) == r).value
        for s, n, f, r in zip(
            frame["sheet_status"], cell_counts, frame["filled"], frame["required"], strict=True
        )
    ]
    frame["status_label"] = frame["status"].map(lambda s: SheetStatus(s).label)
    return frame[WORKLIST_COLUMNS].reset_index(drop=True)


def load_sheet(engine: Engine, *, actor: Actor, round_code: str, brand_code: str) -> Sheet:
    """The judge's own sheet for one of their brands, with its concurrency token."""
    judge_id = _require_judge(actor)
    with transaction(engine) as session:
        rnd = get_round(session, round_code)
        judge = _judge(session, judge_id)
        brand_id, brand = _my_brand(session, rnd, judge_id, brand_code)
        return _read_sheet(session, rnd, judge, brand_id, brand, brand_code)


# -- writes --------------------------------------------------------------------------------
def _lock_round(session: Session, round_code: str) -> Round:
    """Bump the revision first: that takes the write lock (SQLite) or row lock (PostgreSQL),
    so the status read next cannot change before this transaction commits."""
    session.execute(
        update(Round)
        .where(col(Round.code) == round_code)
        .values(revision=Round.revision + 1, updated_at=utcnow())
    )
    return get_round(session, round_code)  # NotFound (listing the rounds) if it is gone


def _fmt(value: float) -> str:
    return f"{value:g}"


def _checked_values(
    rubric: Rubric, values: Mapping[str, Any], loaded: Mapping[str, float]
) -> dict[str, float | None]:
    """Every rubric item's new value; items not given keep their loaded value.

    Collects every problem into one InvalidInput, each naming its sub-indicator.
    """
    labels, maxima = rubric.item_labels(), rubric.item_max()
    problems = [f"评分表中没有指标 {code}" for code in values if code not in maxima]
    result: dict[str, float | None] = {}
    for code in rubric.item_codes:
        raw = values[code] if code in values else loaded.get(code)
        if raw is None:
            result[code] = None
            continue
        try:
            value = float(raw)
        except (TypeError, ValueError):
            problems.append(f"「{labels[code]}」的得分必须是数字（当前 {raw}）")
            continue
        if not math.isfinite(value) or not 0 <= value <= maxima[code]:
            problems.append(
                f"「{labels[code]}」的得分须在 0 到 {_fmt(maxima[code])} 分之间（当前 {raw}）"
            )
            continue
        result[code] = value
    if problems:
        raise InvalidInput("评分有误：" + "；".join(problems), problems=problems)
    return result


def _check_submit(sheet: Sheet, values: Mapping[str, float | None], comment: str) -> None:
    """A submitted sheet is complete, and explained when its total is low."""
    labels = sheet.rubric.item_labels()
    problems = []
    missing = [labels[c] for c in sheet.rubric.criterion_item_codes if values.get(c) is None]
    if missing:
        problems.append(
            f"提交前请填写全部二级指标，尚未填写 {len(missing)} 项：" + "、".join(missing)
        )
    total = sheet_totals(sheet.rubric, values).total
    if not missing and sheet.comment_required(total) and not comment.strip():
        assert sheet.comment_below is not None
        problems.append(f"总分 {_fmt(total)} 低于 {_fmt(sheet.comment_below)} 分，提交前须填写评语")
    if problems:
        raise InvalidInput("；".join(problems), problems=problems)


def _differs(a: float | None, b: float | None) -> bool:
    return (a is None) != (b is None) or (a is not None and b is not None and a != b)


def _conflict(**fields: Any) -> Conflict:
    return Conflict(CONFLICT, **fields)


def _insert(session: Session, table: Table) -> Any:
    module = postgresql if session.connection().dialect.name == "postgresql" else sqlite
    return module.insert(table)


def _affected(session: Session, stmt: Any) -> int:
    """Rows a guarded statement wrote. An INSERT ... ON CONFLICT DO NOTHING reports them
    through RETURNING: with the RETURNING SQLAlchemy adds for the key, psycopg's rowcount
    is -1."""
    if isinstance(stmt, Insert):
        first = next(iter(stmt.table.primary_key))
        return len(session.connection().execute(stmt.returning(first)).all())
    return int(session.connection().execute(stmt).rowcount)


class _NothingToSave(Exception):
    """Raised inside the transaction to roll back the revision bump of an empty save."""


def _write_cells(
    session: Session,
    key: dict[str, int],
    token: SheetToken,
    new: Mapping[str, float | None],
    now: datetime,
) -> dict[str, tuple[float | None, float | None]]:
    """Write the changed cells, each guarded by its loaded version; any miss is a conflict."""
    loaded, versions = token.values(), token.versions()
    changes = {
        code: (loaded.get(code), value)
        for code, value in new.items()
        if _differs(loaded.get(code), value)
    }
    where = (
        (col(Score.round_id) == key["round_id"])
        & (col(Score.brand_id) == key["brand_id"])
        & (col(Score.judge_id) == key["judge_id"])
    )
    for code, (old, value) in changes.items():
        if old is None:  # created: nobody may have created it meanwhile
            stmt = (
                _insert(session, table_of(Score))
                .values(**key, item=code, value=value, version=1, source=WEB, updated_at=now)
                .on_conflict_do_nothing(index_elements=["round_id", "brand_id", "judge_id", "item"])
            )
        elif value is None:  # cleared by the judge: delete exactly what they saw
            stmt = delete(Score).where(
                where, col(Score.item) == code, col(Score.version) == versions[code]
            )
        else:
            stmt = (
                update(Score)
                .where(where, col(Score.item) == code, col(Score.version) == versions[code])
                .values(value=value, version=Score.version + 1, source=WEB, updated_at=now)
            )
        if _affected(session, stmt) != 1:
            raise _conflict(item=code)
    return changes


def _write_sheet_row(
    session: Session,
    key: dict[str, int],
    token: SheetToken,
    comment: str,
    status: str,
    now: datetime,
) -> None:
    """Create or update the sheet row, guarded by the comment and state as loaded."""
    if token.comment is None:
        stmt = (
            _insert(session, table_of(ScoreSheet))
            .values(**key, comment=comment, status=status, updated_at=now)
            .on_conflict_do_nothing(index_elements=["round_id", "brand_id", "judge_id"])
        )
    else:
        stmt = (
            update(ScoreSheet)
            .where(
                col(ScoreSheet.round_id) == key["round_id"],
                col(ScoreSheet.brand_id) == key["brand_id"],
                col(ScoreSheet.judge_id) == key["judge_id"],
                col(ScoreSheet.comment) == token.comment,
                col(ScoreSheet.status) == token.sheet_status,
            )
            .values(comment=comment, status=status, updated_at=now)
        )
    if _affected(session, stmt) != 1:
        raise _conflict(sheet=True)


def save_sheet(
    engine: Engine,
    *,
    actor: Actor,
    round_code: str,
    brand_code: str,
    values: Mapping[str, float | None],
    comment: str,
    loaded: SheetToken,
    submit: bool = False,
) -> SaveResult:
    """Save the judge's sheet as a draft, or submit it; all or nothing, audited once.

    ``values`` maps item codes to points (None clears an item; items left out keep
    their loaded value); ``loaded`` is the token from :func:`load_sheet`. Refused when
    the round is not 评分中, the brand is not the judge's, the input is out of range,
    the sheet is already submitted, or it changed since it was loaded (:data:`CONFLICT`).
    """
    judge_id = _require_judge(actor)
    if (loaded.round_code, loaded.brand_code, loaded.judge_id) != (
        round_code,
        brand_code,
        judge_id,
    ):
        raise InvalidInput("评分表与加载时的品牌不一致，请刷新后重试")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise InvalidInput(f"评语不能超过 {COMMENT_MAX} 字（当前 {len(comment)} 字）")
    now = utcnow()
    try:
        with transaction(engine) as session:
            rnd = _lock_round(session, round_code)
            require_scoring(rnd.status, rnd.code)
            judge = _judge(session, judge_id)
            brand_id, brand = _my_brand(session, rnd, judge_id, brand_code)
            current = _read_sheet(session, rnd, judge, brand_id, brand, brand_code)
            new = _checked_values(current.rubric, values, loaded.values())
            if current.loaded != loaded:
                raise _conflict(round=round_code, brand=brand_code)
            if current.status is SheetStatus.SUBMITTED:
                raise Conflict(
                    "该评分表已提交，不能再修改；如需修改，请联系管理员退回", brand=brand_code
                )
            if submit:
                _check_submit(current, new, comment)
            status = SheetStatus.SUBMITTED if submit else SheetStatus.DRAFT
            stored_status = current.loaded.sheet_status
            cells_changed = any(_differs(current.values.get(c), v) for c, v in new.items())
            # A draft of an untouched sheet needs no row: saving it would record nothing.
            moved = stored_status != status.value and not (
                stored_status is None and status is SheetStatus.DRAFT
            )
            if not (cells_changed or comment != current.comment or moved):
                raise _NothingToSave
            assert rnd.id is not None
            key = {"round_id": rnd.id, "brand_id": brand_id, "judge_id": judge_id}
            changes = _write_cells(session, key, loaded, new, now)
            _write_sheet_row(session, key, loaded, comment, status.value, now)
            old: dict[str, Any] = {}
            fresh: dict[str, Any] = {}
            if changes:
                old["cells"] = {c: o for c, (o, _) in changes.items()}
                fresh["cells"] = {c: n for c, (_, n) in changes.items()}
            if comment != current.comment:
                old["comment"], fresh["comment"] = current.comment, comment
            if stored_status != status.value:
                old["status"], fresh["status"] = stored_status, status.value
            fresh["total"] = sheet_totals(current.rubric, new).total
            record(
                session,
                actor,
                action="score.submit" if submit else "score.save",
                entity="score",
                key=f"{rnd.code}/{brand_code}/{judge.code}",
                round_code=rnd.code,
                old=old,
                new=fresh,
            )
            session.flush()
            after = _read_sheet(session, rnd, judge, brand_id, brand, brand_code)
            return SaveResult(after, saved=True, changed=len(changes), submitted=submit)
    except _NothingToSave:
        sheet = load_sheet(engine, actor=actor, round_code=round_code, brand_code=brand_code)
        return SaveResult(sheet, saved=False, changed=0, submitted=False)


def reopen_sheet(
    engine: Engine,
    *,
    actor: Actor,
    round_code: str,
    brand_code: str,
    judge: str,
    reason: str,
) -> None:
    """Send a judge's submitted sheet back to draft so they can correct it (admins only).

    ``judge`` is the judge's code or name. Needs a reason; recorded in the audit trail.
    """
    require(actor, Action.REOPEN_SHEET)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("退回评分表需要填写原因")
    now = utcnow()
    with transaction(engine) as session:
        rnd = _lock_round(session, round_code)
        require_scoring(rnd.status, rnd.code)
        found = session.exec(
            select(Judge).where((col(Judge.code) == judge) | (col(Judge.name) == judge))
        ).first()
        if found is None or found.id is None:
            raise NotFound(f"找不到评委「{judge}」", judge=judge)
        try:
            brand_id, brand = _my_brand(session, rnd, found.id, brand_code)
        except NotFound as exc:
            raise NotFound(
                f"评委「{found.name}」在轮次 {rnd.code} 中没有需要评审的品牌 {brand_code}"
                "（未分配、回避或已申报利益冲突）",
                judge=judge,
                brand=brand_code,
            ) from exc
        sheet = _read_sheet(session, rnd, found, brand_id, brand, brand_code)
        if sheet.status is not SheetStatus.SUBMITTED:
            raise Conflict(
                f"评委「{found.name}」对品牌 {brand_code} 的评分表当前为「{sheet.status.label}」，"
                "只有已提交的评分表可以退回",
                status=sheet.status.value,
            )
        assert rnd.id is not None
        key = {"round_id": rnd.id, "brand_id": brand_id, "judge_id": found.id}
        _write_sheet_row(session, key, sheet.loaded, sheet.comment, SheetStatus.DRAFT.value, now)
        record(
            session,
            actor,
            action="score.reopen",
            entity="score",
            key=f"{rnd.code}/{brand_code}/{found.code}",
            round_code=rnd.code,
            old={"status": SheetStatus.SUBMITTED.value},
            new={"status": SheetStatus.DRAFT.value},
            reason=reason,
        )
