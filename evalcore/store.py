"""Repository functions: SQL in, pandas out, and bulk writes. They never commit.

Reads that feed the aggregation are one SQL query each, straight into a DataFrame;
writes of many scores are one executemany. Per-row ORM objects are 25-50x slower and
never appear on these paths. The caller (a service) owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Connection, func, insert
from sqlalchemy import select as select_columns
from sqlmodel import Session, SQLModel, col, select

from evalcore.errors import NotFound
from evalcore.models import (
    Assignment,
    Branch,
    Brand,
    ConflictDeclaration,
    Judge,
    Round,
    RoundBrand,
    RoundJudge,
    Score,
    ScoreSheet,
    Unit,
    table_of,
)

JUDGE_COLUMNS = ["judge_code", "judge", "unit_id", "title"]


def _frame(conn: Connection, stmt: Any, columns: Sequence[str]) -> pd.DataFrame:
    """Run one query and build a DataFrame from its rows, as plain tuples.

    A SQLAlchemy ``Row`` is not a tuple subclass, so pandas 3 takes its generic path and
    probes every row with ``hasattr(row, "dtype")``; on a Row each miss raises and
    formats an AttributeError. At 180,000 scores that cost 3-4x the query itself
    (bench/README.md). ``tuple(row)`` is cheap and keeps SQLAlchemy's type processing;
    iterating (rather than ``.all()``) lets each Row go as soon as it is copied.
    """
    rows = [tuple(row) for row in conn.execute(stmt)]
    return pd.DataFrame.from_records(rows, columns=list(columns))


def get_round(session: Session, code: str) -> Round:
    found = session.exec(select(Round).where(Round.code == code)).first()
    if found is None:
        known = session.exec(select(Round.code).order_by(Round.code)).all()
        hint = f"，现有轮次：{'、'.join(known)}" if known else "，数据库中还没有任何轮次"
        raise NotFound(f"找不到评审轮次 {code}{hint}", round=code)
    return found


def list_rounds(session: Session) -> list[Round]:
    return list(session.exec(select(Round).order_by(col(Round.code).desc())).all())


def count_rounds(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(Round)).one())


def read_scores(conn: Connection, round_id: int) -> pd.DataFrame:
    """All scores of a round as a long table (brand_id, judge_id, item, value)."""
    stmt = select(Score.brand_id, Score.judge_id, Score.item, Score.value).where(
        Score.round_id == round_id
    )
    frame = _frame(conn, stmt, ["brand_id", "judge_id", "item", "value"])
    return frame.astype({"brand_id": "int64", "judge_id": "int64", "value": "float64"})


def read_brands(conn: Connection, round_id: int) -> pd.DataFrame:
    """The round's brands with branch and unit, indexed by brand_id."""
    stmt = (
        select_columns(
            col(Brand.id),
            col(Brand.code),
            col(Brand.name),
            col(Branch.name),
            col(Unit.name),
            col(Unit.id),
            col(Brand.category),
            col(Brand.slogan),
            col(Brand.description),
        )
        .join(RoundBrand, col(RoundBrand.brand_id) == Brand.id)
        .join(Branch, col(Branch.id) == Brand.branch_id)
        .join(Unit, col(Unit.id) == Branch.unit_id)
        .where(col(RoundBrand.round_id) == round_id)
        .order_by(Brand.code)
    )
    cols = [
        "brand_id",
        "brand_code",
        "brand",
        "branch",
        "unit",
        "unit_id",
        "category",
        "slogan",
        "description",
    ]
    return _frame(conn, stmt, cols).set_index("brand_id")


def read_judges(conn: Connection, round_id: int) -> pd.DataFrame:
    """The round's panel, indexed by judge_id."""
    stmt = (
        select_columns(
            col(Judge.id), col(Judge.code), col(Judge.name), col(Judge.unit_id), col(Judge.title)
        )
        .join(RoundJudge, col(RoundJudge.judge_id) == Judge.id)
        .where(col(RoundJudge.round_id) == round_id)
        .order_by(Judge.code)
    )
    frame = _frame(conn, stmt, ["judge_id", *JUDGE_COLUMNS]).set_index("judge_id")
    return frame.astype({"unit_id": "Int64"})


def read_sheets(conn: Connection, round_id: int, brand_id: int | None = None) -> pd.DataFrame:
    """Sheet-level comments and states, optionally for one brand."""
    stmt = select_columns(
        col(ScoreSheet.brand_id),
        col(ScoreSheet.judge_id),
        col(ScoreSheet.comment),
        col(ScoreSheet.status),
        col(ScoreSheet.updated_at),
    ).where(col(ScoreSheet.round_id) == round_id)
    if brand_id is not None:
        stmt = stmt.where(col(ScoreSheet.brand_id) == brand_id)
    return _frame(conn, stmt, ["brand_id", "judge_id", "comment", "status", "updated_at"])


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of Python values, NaN/NA as None (PostgreSQL rejects NaN ids)."""
    nullable = [c for c in frame.columns if frame[c].isna().any()]
    if nullable:
        frame = frame.astype({c: object for c in nullable})
        frame[nullable] = frame[nullable].where(frame[nullable].notna(), None)
    return frame.to_dict("records")


def insert_rows(
    conn: Connection, table: type[SQLModel], rows: pd.DataFrame | Sequence[dict[str, Any]]
) -> None:
    """One executemany for many rows of ``table`` (a SQLModel class)."""
    batch = records(rows) if isinstance(rows, pd.DataFrame) else list(rows)
    if batch:
        conn.execute(insert(table_of(table)), batch)


def id_map(conn: Connection, table: Any, key: str = "code") -> dict[str, int]:
    """Map a table's natural key (``code`` by default) to its id."""
    column = getattr(table, key)
    return {k: i for k, i in conn.execute(select(column, table.id)).all()}


def assigned_pairs(conn: Connection, round_id: int) -> pd.DataFrame:
    """The (brand_id, judge_id) pairs a round expects: assigned, not recused, no conflict.

    A judge who works in a brand's unit is recused (回避) automatically, and a declared
    conflict of interest takes the brand off that judge's list, whatever the assignment
    table says. One query; the result keys progress, templates, imports and web scoring.
    """
    recused = (col(Judge.unit_id).is_not(None)) & (col(Judge.unit_id) == Branch.unit_id)
    declared = (
        select(ConflictDeclaration.brand_id)
        .where(
            ConflictDeclaration.round_id == Assignment.round_id,
            ConflictDeclaration.brand_id == Assignment.brand_id,
            ConflictDeclaration.judge_id == Assignment.judge_id,
        )
        .exists()
    )
    stmt = (
        select(Assignment.brand_id, Assignment.judge_id)
        .join(Brand, col(Brand.id) == Assignment.brand_id)
        .join(Branch, col(Branch.id) == Brand.branch_id)
        .join(Judge, col(Judge.id) == Assignment.judge_id)
        .join(
            RoundBrand,
            (col(RoundBrand.round_id) == Assignment.round_id)
            & (col(RoundBrand.brand_id) == Assignment.brand_id),
        )
        .join(
            RoundJudge,
            (col(RoundJudge.round_id) == Assignment.round_id)
            & (col(RoundJudge.judge_id) == Assignment.judge_id),
        )
        .where(Assignment.round_id == round_id, ~recused, ~declared)
        .order_by(col(Assignment.brand_id), col(Assignment.judge_id))
    )
    return _frame(conn, stmt, ["brand_id", "judge_id"])
