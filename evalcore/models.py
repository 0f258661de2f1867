"""All database tables, in one module (SQLModel).

The schema is owned by Alembic migrations in ``evalcore/migrations``; these classes
describe it for queries. Rubrics and round settings are stored as JSON with their
round because every round may change them and they are read whole.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import JSON, Column, DateTime, Index, Table, UniqueConstraint, inspect
from sqlmodel import Field, SQLModel

from evalcore.lifecycle import ROUND_STATUS_LABELS, RoundStatus  # noqa: F401  (re-exported)


def utcnow() -> datetime:
    return datetime.now(UTC)


def table_of(model: type[SQLModel]) -> Table:
    """A ``table=True`` model's ``__table__`` as a ``Table``: SQLModel does not type it."""
    return cast(Table, inspect(model).local_table)


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


class ImportRecord(SQLModel, table=True):
    """One score import (导入记录): its files, who ran it, what it did; revertible.

    Scores it writes carry ``source = "import:<id>"``, which is how a revert finds the
    cells it created and notices cells someone changed afterwards.
    """

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    #: ``[{"name": ..., "sha256": ..., "size": ...}]``, one entry per uploaded file.
    files: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    actor: str = Field(max_length=64)
    created_at: datetime = _ts(nullable=False)
    scores_new: int = Field(default=0)
    scores_changed: int = Field(default=0)
    scores_unchanged: int = Field(default=0)
    comments_new: int = Field(default=0)
    comments_changed: int = Field(default=0)
    comments_unchanged: int = Field(default=0)
    status: str = Field(default="applied", max_length=16)  # "applied" | "reverted"
    reverted_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    reverted_by: str | None = Field(default=None, max_length=64)


class ImportChange(SQLModel, table=True):
    """What an import overwrote, so it can be undone exactly.

    One row per score it *changed* (the old value, version, source and time) and per
    sheet comment it wrote (``created`` when the sheet row did not exist). Scores it
    created are not listed: they are the rows still carrying its source, which keeps a
    100k-score import from writing a second 100k rows.
    """

    id: int | None = Field(default=None, primary_key=True)
    import_id: int = Field(foreign_key="importrecord.id", index=True)
    kind: str = Field(max_length=16)  # "score" | "comment"
    brand_id: int = Field(foreign_key="brand.id")
    judge_id: int = Field(foreign_key="judge.id")
    item: str = Field(default="", max_length=64)
    created: bool = Field(default=False)
    old_value: float | None = Field(default=None)
    old_comment: str | None = Field(default=None)
    old_version: int | None = Field(default=None)
    old_source: str | None = Field(default=None, max_length=64)
    old_updated_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    new_value: float | None = Field(default=None)
    new_comment: str | None = Field(default=None)
    new_version: int | None = Field(default=None)


class User(SQLModel, table=True):
    """An account: 管理员 (admin), 评委 (judge, linked to a judge record) or 查看者 (viewer)."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(default="", max_length=64)
    pw_hash: str = Field(max_length=256)
    role: str = Field(max_length=16)
    judge_id: int | None = Field(default=None, foreign_key="judge.id", unique=True)
    active: bool = Field(default=True)
    #: Demo accounts with published passwords; the login page lists them while they exist.
    is_demo: bool = Field(default=False)
    created_at: datetime = _ts(nullable=False)


class LoginAttempt(SQLModel, table=True):
    """Consecutive failed logins per user name (known or not), to slow guessing down."""

    username: str = Field(primary_key=True, max_length=64)
    failures: int = Field(default=0)
    last_failed_at: datetime = _ts(nullable=False)


class UserSession(SQLModel, table=True):
    """A server-side login session; the cookie holds the token, the table its SHA-256."""

    id: int | None = Field(default=None, primary_key=True)
    token_digest: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = _ts(nullable=False)
    last_seen_at: datetime = _ts(nullable=False)
    revoked: bool = Field(default=False)


class Assignment(SQLModel, table=True):
    """A judge assigned to score a brand in a round (recusal is applied on top)."""

    round_id: int = Field(foreign_key="round.id", primary_key=True)
    brand_id: int = Field(foreign_key="brand.id", primary_key=True)
    judge_id: int = Field(foreign_key="judge.id", primary_key=True)
    created_at: datetime = _ts(nullable=False)


class ConflictDeclaration(SQLModel, table=True):
    """A conflict of interest a judge declared (回避申报): that brand is off their list."""

    round_id: int = Field(foreign_key="round.id", primary_key=True)
    brand_id: int = Field(foreign_key="brand.id", primary_key=True)
    judge_id: int = Field(foreign_key="judge.id", primary_key=True)
    reason: str = Field(default="")
    declared_by: str = Field(default="", max_length=64)
    created_at: datetime = _ts(nullable=False)


class AuditEvent(SQLModel, table=True):
    """One recorded change: who, in which role, when, what, old -> new, from where, why.

    Append-only: database triggers refuse UPDATE and DELETE (migration 0003). The round
    is kept by code, not by foreign key, so the trail outlives what it describes.
    """

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(nullable=False, index=True)
    actor: str = Field(max_length=64)
    role: str = Field(max_length=16)
    source: str = Field(max_length=64)  # web | cli | import:<id>
    action: str = Field(max_length=64, index=True)  # e.g. score.save, round.lock
    entity: str = Field(max_length=32)  # score | round | rubric | assignment | user | ...
    entity_key: str = Field(default="", max_length=256)
    round_code: str | None = Field(default=None, max_length=32, index=True)
    old: Any | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    new: Any | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    reason: str | None = Field(default=None)
