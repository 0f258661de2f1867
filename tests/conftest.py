"""Shared fixtures: databases on SQLite and the real PostgreSQL, demo-filled engines.

Outside CI a test may skip for lack of PostgreSQL, Chromium or LibreOffice; with ``CI`` set (as
``.ci/run`` runs) a missing service fails the run instead, so those tests really run.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

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


# Loading the sample campaign costs ~0.5 s on SQLite and ~3 s on PostgreSQL (and hashes
# three passwords); hundreds of tests need it. Each test process loads it once into a
# template and every test gets a copy: a file copy on SQLite, CREATE DATABASE ...
# TEMPLATE on PostgreSQL (a file-level copy, ~0.2 s).
@pytest.fixture(scope="session")
def _sqlite_demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo-template") / "demo.db"
    url = f"sqlite:///{path}"
    services.open_database(url)
    db.dispose_engine(url)  # closing the last connection checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def _pg_demo_template(pg_available: bool) -> Iterator[str | None]:
    if not pg_available:
        yield None
        return
    name = f"evalcore_demo_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _pg_database_url(name)
    services.open_database(url)
    db.dispose_engine(url)  # a template may have no open connections while it is copied
    yield name
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_database_url(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def sqlite_demo_url(sqlite_url: str, _sqlite_demo_template: Path) -> str:
    """``sqlite_url`` holding a copy of the sample campaign."""
    shutil.copyfile(_sqlite_demo_template, make_url(sqlite_url).database or "")
    return sqlite_url


@pytest.fixture
def pg_demo_url(pg_available: bool, _pg_demo_template: str | None) -> Iterator[str]:
    """A database of its own on the real PostgreSQL, copied from the demo template."""
    require(pg_available and _pg_demo_template is not None, "PostgreSQL at " + PG_URL)
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{_pg_demo_template}"')
    url = _pg_database_url(name)
    yield url
    db.dispose_engine(url)
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def demo_url(request: pytest.FixtureRequest) -> str:
    """A URL holding the sample campaign, once on SQLite and once on PostgreSQL."""
    name = "sqlite_demo_url" if request.param == "sqlite" else "pg_demo_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def demo_engine(demo_url: str) -> Iterator[Engine]:
    """A database holding the sample campaign, on each backend."""
    yield db.get_engine(demo_url)
    db.dispose_engines()


@pytest.fixture
def sqlite_demo(sqlite_demo_url: str) -> Iterator[Engine]:
    """The sample campaign on SQLite only, for tests that are not about storage."""
    yield db.get_engine(sqlite_demo_url)
    db.dispose_engines()
