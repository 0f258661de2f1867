"""Shared fixtures: databases on SQLite and the real PostgreSQL, demo-filled engines.

Outside CI a test may skip for lack of PostgreSQL or Chromium; with ``CI`` set (as
``.ci/run`` runs) a missing service fails the run instead, so those tests really run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine

from evalcore import db, services

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("EVALCORE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = bool(os.environ.get("CI"))


def require(available: bool, what: str) -> None:
    """Skip on a contributor's laptop, fail in CI: CI must exercise every backend."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI but is not available")
    pytest.skip(f"{what} not available")


def _pg_available() -> bool:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@pytest.fixture(scope="session")
def pg_available() -> bool:
    return _pg_available()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'evalcore.db'}"


@pytest.fixture
def pg_url(pg_available: bool) -> Iterator[str]:
    """A fresh schema in the real PostgreSQL for one test, dropped afterwards."""
    require(pg_available, "PostgreSQL at " + PG_URL)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    db.dispose_engines()
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """Run the test once on SQLite and once on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An empty, migrated database on each backend."""
    yield db.get_engine(db_url)
    db.dispose_engines()


@pytest.fixture
def demo_engine(db_url: str) -> Iterator[Engine]:
    """A database holding the sample campaign, on each backend."""
    state = services.open_database(db_url)
    yield state.engine
    db.dispose_engines()


@pytest.fixture
def sqlite_demo(sqlite_url: str) -> Iterator[Engine]:
    """The sample campaign on SQLite only, for tests that are not about storage."""
    state = services.open_database(sqlite_url)
    yield state.engine
    db.dispose_engines()
