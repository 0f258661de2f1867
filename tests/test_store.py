"""Storage on both backends: schema from migrations, demo load, bulk reads, rollbacks."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from evalcore import db, demo, services
from evalcore.db import transaction
from evalcore.errors import Conflict, InvalidInput
from evalcore.models import Branch, Brand, Judge, Round, Score, Unit
from evalcore.rubric import default_rubric
from evalcore.services import database as database_service
from evalcore.store import id_map, insert_rows, read_scores
from tests.factories import OPERATOR


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
    results = services.round_results(demo_engine, actor=OPERATOR, round_code="2025")
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


# -- transactions and constraints -------------------------------------------------------
def _count_in(session: Session, table: type[SQLModel]) -> int:
    return int(session.exec(select(func.count()).select_from(table)).one())


def _count(engine: Engine, table: type[SQLModel]) -> int:
    with transaction(engine) as session:
        return _count_in(session, table)


def _one_round(engine: Engine) -> dict[str, Any]:
    """A round with three brands and two judges (ids by code), nothing scored yet."""
    with transaction(engine) as session:
        conn = session.connection()
        insert_rows(conn, Unit, [{"code": "U1", "name": "第一党委"}])
        unit_id = id_map(conn, Unit)["U1"]
        insert_rows(conn, Branch, [{"unit_id": unit_id, "name": "第一党支部"}])
        branch_id = conn.execute(select(Branch.id)).scalar_one()
        insert_rows(
            conn,
            Brand,
            [{"code": f"B{i}", "branch_id": branch_id, "name": f"品牌{i}"} for i in range(1, 4)],
        )
        insert_rows(conn, Judge, [{"code": f"J{i}", "name": f"评委{i}"} for i in (1, 2)])
        rubric = default_rubric().to_dict()
        insert_rows(
            conn,
            Round,
            [
                {"code": c, "name": f"{c}年度评审", "rubric": rubric, "settings": {}}
                for c in ("A", "B")
            ],
        )
        return {
            "rounds": id_map(conn, Round),
            "brands": id_map(conn, Brand),
            "judges": id_map(conn, Judge),
        }


def test_failing_write_rolls_back_entirely(engine: Engine) -> None:
    """Everything written in a transaction is gone when it raises, whatever the step."""
    with pytest.raises(RuntimeError, match="中途失败"), transaction(engine) as session:
        insert_rows(session.connection(), Unit, [{"code": "U1", "name": "第一党委"}])
        session.add(Judge(code="J1", name="评委甲"))
        session.flush()
        assert _count_in(session, Unit) == 1  # visible inside the transaction ...
        raise RuntimeError("中途失败")
    assert _count(engine, Unit) == _count(engine, Judge) == 0  # ... and nowhere after it


def test_constraint_violation_rolls_back_earlier_writes(engine: Engine) -> None:
    with pytest.raises(IntegrityError), transaction(engine) as session:
        conn = session.connection()
        insert_rows(conn, Unit, [{"code": "U1", "name": "第一党委"}])
        insert_rows(conn, Unit, [{"code": "U1", "name": "重复编码的党委"}])
    assert _count(engine, Unit) == 0


def test_failed_demo_reset_keeps_the_old_data(
    demo_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``demo --reset`` deletes everything first; a failure after that must undo the delete."""
    before = services.round_results(demo_engine, actor=OPERATOR, round_code="2025").table
    scores = _count(demo_engine, Score)

    def load_then_fail(conn: Any, campaign: Any) -> dict[str, int]:
        real_load(conn, campaign)
        raise RuntimeError("载入中途失败")

    real_load = demo.load_campaign
    monkeypatch.setattr(demo, "load_campaign", load_then_fail)
    with pytest.raises(RuntimeError):
        services.load_demo(demo_engine, reset=True, brands=40, judges=5)
    assert _count(demo_engine, Score) == scores
    after = services.round_results(demo_engine, actor=OPERATOR, round_code="2025").table
    pd.testing.assert_frame_equal(after, before)


def test_score_key_is_unique(engine: Engine) -> None:
    """(round, brand, judge, item) identifies a score: a second row for it is refused."""
    ids = _one_round(engine)
    score = {
        "round_id": ids["rounds"]["A"],
        "brand_id": ids["brands"]["B1"],
        "judge_id": ids["judges"]["J1"],
        "item": "name.concise",
        "value": 4.0,
    }
    with transaction(engine) as session:
        insert_rows(session.connection(), Score, [score])
    with pytest.raises(IntegrityError), transaction(engine) as session:
        insert_rows(session.connection(), Score, [{**score, "value": 5.0}])
    # Change any one part of the key and it is a different score.
    with transaction(engine) as session:
        insert_rows(
            session.connection(),
            Score,
            [
                {**score, "round_id": ids["rounds"]["B"]},
                {**score, "brand_id": ids["brands"]["B2"]},
                {**score, "judge_id": ids["judges"]["J2"]},
                {**score, "item": "name.logo"},
            ],
        )
    with transaction(engine) as session:
        values = session.exec(select(Score.value)).all()
    assert values == [4.0] * 5


def test_scores_must_reference_existing_rows(engine: Engine) -> None:
    """Foreign keys hold on both backends (SQLite only enforces them when told to)."""
    ids = _one_round(engine)
    bad = {
        "round_id": ids["rounds"]["A"],
        "brand_id": max(ids["brands"].values()) + 100,
        "judge_id": ids["judges"]["J1"],
        "item": "name.concise",
        "value": 3.0,
    }
    with pytest.raises(IntegrityError), transaction(engine) as session:
        insert_rows(session.connection(), Score, [bad])


def test_bulk_read_scores_returns_what_was_inserted(engine: Engine) -> None:
    ids = _one_round(engine)
    rng = np.random.default_rng(7)
    items = default_rubric().item_codes
    keys = pd.MultiIndex.from_product(
        [sorted(ids["brands"].values()), sorted(ids["judges"].values()), items],
        names=["brand_id", "judge_id", "item"],
    ).to_frame(index=False)
    # Half points as judges type them, plus values that are not exact in binary.
    values = np.round(rng.uniform(0, 7, len(keys)) * 2) / 2
    values[:5] = [0.1, 2.3, 4.25, 1 / 3, 6.999999]
    inserted = keys.assign(value=values)
    other_round = inserted.assign(value=99.0).iloc[:10]
    with transaction(engine) as session:
        conn = session.connection()
        insert_rows(conn, Score, inserted.assign(round_id=ids["rounds"]["A"]))
        insert_rows(conn, Score, other_round.assign(round_id=ids["rounds"]["B"]))
    with transaction(engine) as session:
        read = read_scores(session.connection(), ids["rounds"]["A"])
    assert list(read.columns) == ["brand_id", "judge_id", "item", "value"]
    assert read.dtypes.to_dict() == inserted.dtypes.to_dict()
    order = ["brand_id", "judge_id", "item"]
    pd.testing.assert_frame_equal(
        read.sort_values(order).reset_index(drop=True),
        inserted.sort_values(order).reset_index(drop=True),
    )


def test_read_scores_of_an_empty_round_has_the_columns(engine: Engine) -> None:
    ids = _one_round(engine)
    with transaction(engine) as session:
        read = read_scores(session.connection(), ids["rounds"]["A"])
    assert read.empty and list(read.columns) == ["brand_id", "judge_id", "item", "value"]
    assert read["value"].dtype == "float64"


# -- SQLite settings, URLs, migrations ---------------------------------------------------
def test_sqlite_runs_in_wal_mode_with_busy_timeout_and_foreign_keys(sqlite_url: str) -> None:
    engine = db.get_engine(sqlite_url)
    try:
        # Every pooled connection, not only the first, gets the pragmas.
        with engine.connect() as one, engine.connect() as two:
            for conn in (one, two):
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        db.dispose_engines()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://user@host:5433/db", "postgresql+psycopg://user@host:5433/db"),
        ("postgres://user@host:5433/db", "postgresql+psycopg://user@host:5433/db"),
        ("postgresql+psycopg2://user:pw@host/db", "postgresql+psycopg://user:pw@host/db"),
        ("postgresql://u:p%40ss@127.0.0.1/test", "postgresql+psycopg://u:p%40ss@127.0.0.1/test"),
        (
            "postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dx",
            "postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dx",
        ),
        ("sqlite:///data/evalcore.db", "sqlite:///data/evalcore.db"),
        ("sqlite://", "sqlite://"),
    ],
)
def test_normalize_url_accepts(url: str, expected: str) -> None:
    assert db.normalize_url(url) == expected


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://user@host/db", "不支持的数据库类型：mysql"),
        ("mysql+pymysql://user@host/db", "不支持的数据库类型：mysql"),
        ("oracle://user@host/db", "不支持的数据库类型：oracle"),
        ("not a url", "数据库地址无效"),
        ("postgresql://user@host:port/db", "数据库地址无效"),
    ],
)
def test_normalize_url_rejects_with_a_chinese_message(url: str, says: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        db.normalize_url(url)
    assert says in caught.value.message
    assert "sqlite:///" in caught.value.message  # says what is allowed


def _table_counts(engine: Engine) -> dict[str, int]:
    return {table.__tablename__: _count(engine, table) for table in demo.ALL_TABLES}


def test_migrating_a_database_at_head_is_a_no_op(demo_engine: Engine) -> None:
    """Every process migrates on connect: at head that must change nothing, data included."""
    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    before = _table_counts(demo_engine)
    assert before["score"] > 0

    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.strip().split()[0].upper())

    event.listen(demo_engine, "before_cursor_execute", record)
    try:
        db.migrate(demo_engine)
    finally:
        event.remove(demo_engine, "before_cursor_execute", record)
    assert statements, "the migration did not even look at the version table"
    writes = {"CREATE", "ALTER", "DROP", "INSERT", "UPDATE", "DELETE"}
    assert not writes & set(statements), statements

    url = demo_engine.url.render_as_string(hide_password=False)
    db.dispose_engines()
    again = db.get_engine(url)  # a fresh process: a new engine, migrated on connect
    with again.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head
    assert _table_counts(again) == before


@pytest.mark.postgres
@pytest.mark.parametrize("both_see_empty", [False, True], ids=["natural", "both-see-empty"])
def test_replicas_racing_on_an_empty_postgresql_load_one_demo(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, both_see_empty: bool
) -> None:
    """Two app replicas start together on one empty database: one demo, no error.

    Each thread uses its own URL (distinct application_name), so each builds its own
    engine and migrates as a separate process would; a barrier lines them up. With
    ``both_see_empty`` a second barrier holds both after they counted zero rounds, so
    both really load and the loser must meet the unique key and roll back.
    """
    replicas = 2
    start = threading.Barrier(replicas)
    if both_see_empty:
        counted = threading.Barrier(replicas)
        real_count = database_service.count_rounds

        def count_then_wait(session: Session) -> int:
            n = real_count(session)
            counted.wait(timeout=30)
            return n

        monkeypatch.setattr(database_service, "count_rounds", count_then_wait)
    states: list[services.DatabaseState] = []
    errors: list[BaseException] = []

    def replica(i: int) -> None:
        try:
            start.wait(timeout=30)
            states.append(services.open_database(f"{pg_url}&application_name=replica{i}"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=replica, args=(i,)) for i in range(replicas)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(states) == replicas
    assert sorted(s.demo_loaded_now for s in states) == [False, True]
    assert {s.demo_dataset for s in states} == {"sample"}
    counts = _table_counts(states[0].engine)
    assert counts["round"] == 2 and counts["unit"] == 6 and counts["brand"] == 26
    assert counts["appmeta"] == 1


def test_no_demo_once_an_operator_created_accounts(sqlite_url: str) -> None:
    """Demo accounts have published passwords: never add them beside real ones."""
    from evalcore.services import accounts
    from tests.factories import OPERATOR

    engine = services.init_database(sqlite_url)
    accounts.create_user(
        engine, actor=OPERATOR, username="boss", password="correct horse", role="admin"
    )
    state = services.open_database(sqlite_url)
    assert not state.demo_loaded_now and state.demo_dataset is None
    assert services.list_rounds(state.engine) == []
