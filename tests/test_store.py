"""Storage on both backends: schema from migrations, demo load, bulk reads, rollbacks."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func
from sqlmodel import SQLModel, select

from evalcore import services
from evalcore.db import transaction
from evalcore.errors import Conflict
from evalcore.models import Round, Score


def test_migrations_match_models(engine: Engine) -> None:
    """The Alembic head creates exactly the tables the models describe."""
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_empty_database_gets_sample_demo(db_url: str) -> None:
    state = services.open_database(db_url)
    assert state.demo_loaded_now and state.demo_dataset == "sample"
    again = services.open_database(db_url)
    assert not again.demo_loaded_now
    codes = [r.code for r in services.list_rounds(state.engine)]
    assert codes == ["2026", "2025"]


def test_round_results_same_on_both_backends(demo_engine: Engine) -> None:
    results = services.round_results(demo_engine, round_code="2025")
    assert len(results.table) == 26
    assert results.table["rank"].iloc[0] == 1
    assert results.progress.percent == pytest.approx(100.0)


def test_demo_refuses_to_overwrite_without_reset(demo_engine: Engine) -> None:
    with pytest.raises(Conflict):
        services.load_demo(demo_engine)
    counts = services.load_demo(demo_engine, reset=True, brands=12, judges=5)
    assert counts["brands"] == 12 and counts["judges"] == 5
    with transaction(demo_engine) as session:
        n = session.exec(select(func.count()).select_from(Score)).one()
        rounds = session.exec(select(func.count()).select_from(Round)).one()
    assert rounds == 2 and n == counts["scores"]
