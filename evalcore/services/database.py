"""Opening a database, and filling an empty one with the demo campaign."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from evalcore import demo
from evalcore.db import database_url, get_engine, transaction
from evalcore.errors import Conflict, InvalidInput
from evalcore.models import AppMeta, User
from evalcore.store import count_rounds

__all__ = [
    "DatabaseState",
    "database_url",
    "demo_dataset",
    "init_database",
    "load_demo",
    "open_database",
]


@dataclass(frozen=True)
class DatabaseState:
    """An open database and whether what it holds is demo data (shown as 演示数据)."""

    engine: Engine
    demo_dataset: str | None
    demo_loaded_now: bool


def init_database(url: str | None = None) -> Engine:
    """Create or upgrade the schema at ``url``; data already there is kept."""
    return get_engine(url)


def open_database(url: str | None = None, *, seed_demo: bool = True) -> DatabaseState:
    """Open (and migrate) the database; an empty one gets the sample campaign.

    Several app replicas may start together on one PostgreSQL database: the loser of
    the race hits the unique round code, rolls back, and sees the winner's demo.
    """
    engine = get_engine(url)
    loaded = False
    if seed_demo:
        try:
            with transaction(engine) as session:
                # An operator who created accounts first (CLI) gets no demo: its accounts
                # have published passwords.
                if count_rounds(session) == 0 and session.exec(select(User.id)).first() is None:
                    demo.load_campaign(session.connection(), demo.sample_campaign())
                    loaded = True
        except IntegrityError:
            loaded = False
    return DatabaseState(engine, demo_dataset(engine), loaded)


def demo_dataset(engine: Engine) -> str | None:
    """``"sample"`` or ``"generated"`` while the database holds demo data, else None."""
    with transaction(engine) as session:
        meta = session.exec(select(AppMeta).where(AppMeta.key == demo.DATASET_KEY)).first()
        return meta.value if meta else None


def load_demo(
    engine: Engine,
    *,
    reset: bool = False,
    brands: int | None = None,
    judges: int | None = None,
) -> dict[str, int]:
    """Load the sample campaign, or a generated one of ``brands`` x ``judges``.

    Refuses a database that already holds rounds unless ``reset`` is given, and then
    replaces everything in one transaction.
    """
    if (brands is None) != (judges is None):
        raise InvalidInput("生成演示数据时 --brands 与 --judges 需同时指定")
    if brands is not None and judges is not None:
        if brands < 1 or judges < 1:
            raise InvalidInput("品牌数和评委数必须为正整数")
        campaign = demo.generated_campaign(brands, judges)
    else:
        campaign = demo.sample_campaign()
    with transaction(engine) as session:
        conn = session.connection()
        if count_rounds(session):
            if not reset:
                raise Conflict("数据库中已有评审数据；如需清空并重新载入演示数据，请加 --reset")
            demo.clear_all(conn)
        return demo.load_campaign(conn, campaign)
