"""Database URLs, engines and schema migrations.

SQLite in a local file is the embedded default; PostgreSQL (psycopg 3), chosen by URL,
is the shared deployment where several app replicas use one database. Every process
upgrades the schema to the newest Alembic revision when it first connects, so an
older database is brought forward and never dropped.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError
from sqlmodel import Session

from evalcore.errors import InvalidInput

ENV_VAR = "EVALCORE_DATABASE_URL"
DEFAULT_URL = "sqlite:///data/evalcore.db"
MIGRATIONS = Path(__file__).with_name("migrations")
#: Any fixed 64-bit key: replicas starting together take turns to migrate.
_PG_MIGRATION_LOCK = 0x6576616C636F7265  # "evalcore"
#: SQLite waits this long for a writer instead of failing at once with "database is locked".
_SQLITE_BUSY_MS = 10_000
#: libpq has no connect timeout by default: an unreachable host would hang for minutes.
_PG_CONNECT_TIMEOUT_S = 10


def database_url(override: str | None = None) -> str:
    """The URL in force: an explicit override, else the environment, else the default."""
    return override or os.environ.get(ENV_VAR) or DEFAULT_URL


def normalize_url(url: str) -> str:
    """Accept URLs as users write them; pick our drivers; reject what we cannot serve."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:  # ValueError: e.g. a non-numeric port
        raise InvalidInput(f"数据库地址无效：{url}（示例：sqlite:///data/evalcore.db）") from exc
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if backend == "sqlite":
        return url
    raise InvalidInput(f"不支持的数据库类型：{backend}，请使用 sqlite:/// 或 postgresql:// 地址")


def make_engine(url: str) -> Engine:
    """Create an engine tuned for the backend (SQLite: WAL, busy timeout, foreign keys)."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InvalidInput(
                    f"无法创建数据库目录 {Path(path).parent}：{exc.strerror or exc}"
                ) from exc
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": _SQLITE_BUSY_MS / 1000}
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_MS}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    parsed = make_url(url)
    connect_args = (
        {} if "connect_timeout" in parsed.query else {"connect_timeout": _PG_CONNECT_TIMEOUT_S}
    )
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest revision (never downgrades, never drops)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for ``url``, created and migrated on first use."""
    url = database_url(url)
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = make_engine(url)
            try:
                migrate(engine)
            except DatabaseError as exc:
                # OperationalError: unreachable server, missing database, unopenable file;
                # other DatabaseErrors: the file or schema is not ours ("file is not a database").
                engine.dispose()
                verb = "无法连接数据库" if isinstance(exc, OperationalError) else "无法打开数据库"
                reason = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
                raise InvalidInput(
                    f"{verb} {make_url(normalize_url(url)).render_as_string()}：{reason}"
                ) from exc
            _engines[url] = engine
        return engine


def dispose_engine(url: str) -> None:
    """Close and forget the cached engine for one URL (e.g. before copying its database)."""
    with _engines_lock:
        engine = _engines.pop(database_url(url), None)
    if engine is not None:
        engine.dispose()


def dispose_engines() -> None:
    """Close every cached engine (tests, and switching databases in one process)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: a session whose changes commit together or not at all."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session
