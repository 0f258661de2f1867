"""All database tables, in one module (SQLModel).

The schema is owned by Alembic migrations in ``evalcore/migrations``; these classes
describe it for queries. Rubrics and round settings are stored as JSON with their
round because every round may change them and they are read whole.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from evalcore.lifecycle import ROUND_STATUS_LABELS, RoundStatus  # noqa: F401  (re-exported)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(**kwargs: Any) -> Any:
    """A timezone-aware timestamp column defaulting to now."""
    return Field(
        default_factory=utcnow,
        sa_column=Column(DateTime(timezone=True), default=utcnow, **kwargs),
    )


class Unit(SQLModel, table=True):
    """A superior Party organisation (上级党组织) that branches belong to."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=128, unique=True)


class Branch(SQLModel, table=True):
    """A Party branch (党支部)."""

    __table_args__ = (UniqueConstraint("unit_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    name: str = Field(max_length=128)


class Brand(SQLModel, table=True):
    """A branch's brand; it persists across rounds so trends can be followed."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    name: str = Field(max_length=128, unique=True)
    slogan: str = Field(default="", max_length=256)
    description: str = Field(default="")
    category: str = Field(default="", max_length=32)


class Judge(SQLModel, table=True):
    """A member of the assessment panel (评委); ``unit_id`` is where they work, if inside."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=64, unique=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    title: str = Field(default="", max_length=128)


class Round(SQLModel, table=True):
    """An evaluation round (e.g. ``2026``) with its own rubric and settings.

    ``revision`` is bumped by every write to the round's data, in the same
    transaction, so caches in any number of app replicas can key on it.
    """

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=128)
    status: str = Field(default=RoundStatus.DRAFT.value, max_length=16)
    rubric: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    revision: int = Field(default=0)
    created_at: datetime = _ts(nullable=False)
    updated_at: datetime = _ts(nullable=False)


class RoundBrand(SQLModel, table=True):
    """A brand taking part in a round."""

    round_id: int = Field(foreign_key="round.id", primary_key=True)
    brand_id: int = Field(foreign_key="brand.id", primary_key=True)


class RoundJudge(SQLModel, table=True):
    """A judge on a round's panel."""

    round_id: int = Field(foreign_key="round.id", primary_key=True)
    judge_id: int = Field(foreign_key="judge.id", primary_key=True)


class Score(SQLModel, table=True):
    """One judge's score for one sub-indicator of one brand in one round."""

    __table_args__ = (
        UniqueConstraint("round_id", "brand_id", "judge_id", "item", name="uq_score_key"),
        Index("ix_score_round_judge", "round_id", "judge_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id")
    brand_id: int = Field(foreign_key="brand.id")
    judge_id: int = Field(foreign_key="judge.id")
    item: str = Field(max_length=64)
    value: float
    comment: str | None = Field(default=None)
    version: int = Field(default=1)
    source: str = Field(default="web", max_length=64)
    updated_at: datetime = _ts(nullable=False)


class ScoreSheet(SQLModel, table=True):
    """One judge's sheet for one brand: the overall comment (评语) and its state."""

    round_id: int = Field(foreign_key="round.id", primary_key=True)
    brand_id: int = Field(foreign_key="brand.id", primary_key=True)
    judge_id: int = Field(foreign_key="judge.id", primary_key=True)
    comment: str = Field(default="")
    status: str = Field(default="submitted", max_length=16)
    updated_at: datetime = _ts(nullable=False)


class AppMeta(SQLModel, table=True):
    """Key/value facts about the database itself (e.g. that it holds demo data)."""

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(default="")
