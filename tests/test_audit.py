"""The audit trail: append-only in the database and in the code; filters, labels, Excel.

The database half runs on SQLite and PostgreSQL: triggers (migration 0003) must refuse
UPDATE and DELETE whoever sends them. The code half scans ``evalcore/`` so that no
code path even tries; its scanner is itself tested on snippets that must be caught.
"""

from __future__ import annotations

import ast
import io
import re
import zipfile
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine, delete, text, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from evalcore.errors import PermissionDenied
from evalcore.models import AuditEvent
from evalcore.permissions import Actor, Role
from evalcore.services import audit, rounds

ROOT = Path(__file__).resolve().parents[1]
ADMIN = Actor("admin", Role.ADMIN, user_id=1)
CLI = Actor.cli()
JUDGE = Actor("judge", Role.JUDGE, user_id=2, judge_id=1)
VIEWER = Actor("viewer", Role.VIEWER, user_id=3)
APPEND_ONLY = "append-only"


def trail(engine: Engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT * FROM auditevent ORDER BY id"))]


@pytest.fixture
def with_events(demo_engine: Engine) -> Engine:
    """Three events: a new round (web), a move with a reason (cli), a settings change."""
    rounds.create_round(demo_engine, actor=ADMIN, code="2027", name="2027年度", copy_from="2026")
    rounds.move_round(demo_engine, actor=CLI, round_code="2025", move="unpublish", reason="复核")
    detail = rounds.round_detail(demo_engine, actor=ADMIN, round_code="2026")
    rounds.update_settings(
        demo_engine, actor=ADMIN, round_code="2026", settings=replace(detail.settings, min_judges=3)
    )
    return demo_engine


# -- append-only in the database (both backends) ----------------------------------------------
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE auditevent SET actor = 'someone else'",
        "UPDATE auditevent SET reason = NULL WHERE id = 1",
        "DELETE FROM auditevent",
        "DELETE FROM auditevent WHERE id = 1",
    ],
)
def test_the_database_refuses_update_and_delete(with_events: Engine, sql: str) -> None:
    before = trail(with_events)
    assert len(before) == 3
    with pytest.raises(DBAPIError, match=APPEND_ONLY), with_events.begin() as conn:
        conn.execute(text(sql))
    assert trail(with_events) == before


def test_the_orm_cannot_edit_or_delete_either(with_events: Engine) -> None:
    before = trail(with_events)
    with pytest.raises(DBAPIError, match=APPEND_ONLY), Session(with_events) as session:
        event = session.exec(select(AuditEvent)).first()
        assert event is not None
        event.reason = "改写"
        session.commit()
    with pytest.raises(DBAPIError, match=APPEND_ONLY), Session(with_events) as session:
        session.delete(session.exec(select(AuditEvent)).first())
        session.commit()
    with pytest.raises(DBAPIError, match=APPEND_ONLY), Session(with_events) as session:
        session.execute(delete(AuditEvent))
        session.commit()
    with pytest.raises(DBAPIError, match=APPEND_ONLY), Session(with_events) as session:
        session.execute(update(AuditEvent).values(actor="x"))
        session.commit()
    assert trail(with_events) == before


def test_postgresql_refuses_truncate(pg_url: str) -> None:
    from evalcore import db

    engine = db.get_engine(pg_url)
    rounds.create_round(engine, actor=ADMIN, code="2027", name="x")
    with pytest.raises(DBAPIError, match=APPEND_ONLY), engine.begin() as conn:
        conn.execute(text("TRUNCATE auditevent"))
    assert len(trail(engine)) == 1


def test_appending_still_works_after_a_refusal(with_events: Engine) -> None:
    with pytest.raises(DBAPIError), with_events.begin() as conn:
        conn.execute(text("DELETE FROM auditevent"))
    rounds.move_round(with_events, actor=ADMIN, round_code="2026", move="lock")
    assert len(trail(with_events)) == 4


# -- append-only in the code -------------------------------------------------------------------
#: SQL text that would change or remove audit rows.
_SQL = re.compile(
    r"\b(UPDATE\s+\"?auditevent\b|DELETE\s+FROM\s+\"?auditevent\b|TRUNCATE\s+(TABLE\s+)?\"?auditevent\b)",
    re.IGNORECASE,
)
#: The only modules that may name AuditEvent: the model and the service that appends.
AUDIT_MODULES = {"evalcore/models.py", "evalcore/services/audit.py"}


def _mentions_audit(node: ast.AST, *, by_name: bool = False) -> bool:
    """Whether ``node`` refers to the audit table: the model, or (unless ``by_name``) its
    table name as a string (``table("auditevent")``; migrations create it by name)."""
    return any(
        (isinstance(n, ast.Name) and n.id == "AuditEvent")
        or (isinstance(n, ast.Attribute) and n.attr == "AuditEvent")
        or (isinstance(n, ast.alias) and n.name == "AuditEvent")
        or (not by_name and isinstance(n, ast.Constant) and n.value == "auditevent")
        for n in ast.walk(node)
    )


def audit_violations(source: str, where: str) -> list[str]:
    """Every statement in ``source`` that would update or delete audit rows.

    Catches ``update(AuditEvent)`` / ``delete(AuditEvent)`` (also via ``__table__``),
    ``session.delete(...)`` / ``setattr`` in a module allowed to hold audit rows,
    assignments to attributes of an AuditEvent, SQL text, and AuditEvent used in a
    module outside :data:`AUDIT_MODULES` (a new module needs review, and an entry here).
    """
    found: list[str] = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        line = f"{where}:{getattr(node, 'lineno', 0)}"
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and _SQL.search(node.value)
        ):
            found.append(f"{line}: SQL changes auditevent")
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in {"update", "delete"} and any(_mentions_audit(a) for a in node.args):
                found.append(f"{line}: {name}() on AuditEvent")
            if (
                isinstance(func, ast.Attribute)
                and func.attr in {"update", "delete"}
                and _mentions_audit(func.value)
            ):
                found.append(f"{line}: AuditEvent…{func.attr}()")
    if _mentions_audit(tree, by_name=True) and where not in AUDIT_MODULES:
        found.append(f"{where}: uses AuditEvent outside {sorted(AUDIT_MODULES)}")
    if where == "evalcore/services/audit.py":
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name in {"delete", "merge", "setattr", "update"}:
                    found.append(f"{where}:{node.lineno}: {name}() in the audit service")
            if isinstance(node, ast.Assign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Attribute) and not (
                        isinstance(target.value, ast.Name) and target.value.id == "self"
                    ):
                        found.append(f"{where}:{node.lineno}: assigns {ast.unparse(target)}")
    return found


def evalcore_sources() -> list[Path]:
    return sorted((ROOT / "evalcore").rglob("*.py"))


def test_no_code_path_updates_or_deletes_audit_rows() -> None:
    problems = [
        problem
        for path in evalcore_sources()
        for problem in audit_violations(
            path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix()
        )
    ]
    assert problems == []


def test_the_scan_sees_the_code() -> None:
    paths = {p.relative_to(ROOT).as_posix() for p in evalcore_sources()}
    assert paths >= AUDIT_MODULES
    assert "evalcore/migrations/versions/0003_accounts_assignments_audit.py" in paths


def test_demo_reset_leaves_the_trail_alone() -> None:
    from evalcore import demo

    assert AuditEvent not in demo.ALL_TABLES


@pytest.mark.parametrize(
    ("snippet", "where"),
    [
        ("session.execute(update(AuditEvent).values(actor='x'))", "evalcore/services/audit.py"),
        ("session.execute(delete(AuditEvent))", "evalcore/services/audit.py"),
        ("conn.execute(AuditEvent.__table__.delete())", "evalcore/services/audit.py"),
        ("conn.execute(AuditEvent.__table__.update().values(actor='x'))", "evalcore/models.py"),
        ("conn.execute(text('DELETE FROM auditevent WHERE id = 1'))", "evalcore/x.py"),
        ("conn.execute(text('update auditevent set actor = 1'))", "evalcore/x.py"),
        ("conn.execute(text('TRUNCATE TABLE \"auditevent\"'))", "evalcore/x.py"),
        ("session.delete(event)", "evalcore/services/audit.py"),
        ("event.reason = 'x'", "evalcore/services/audit.py"),
        ("from evalcore.models import AuditEvent", "evalcore/services/other.py"),
        (
            "tables = (Score, AuditEvent)\nfor t in tables: conn.execute(delete(t))",
            "evalcore/demo.py",
        ),
    ],
)
def test_the_scan_catches_what_it_must(snippet: str, where: str) -> None:
    assert audit_violations(snippet, where)


def test_the_scan_lets_the_trigger_definitions_and_appends_through() -> None:
    ok = (
        "op.execute('CREATE TRIGGER auditevent_no_update BEFORE UPDATE ON auditevent')\n"
        "op.execute('CREATE TRIGGER t BEFORE UPDATE OR DELETE ON auditevent')\n"
        "session.add(AuditEvent(actor='x'))\n"
    )
    assert audit_violations(ok, "evalcore/services/audit.py") == []


# -- reading: filters, labels -------------------------------------------------------------------
def test_every_filter(with_events: Engine) -> None:
    engine = with_events
    everything = audit.list_events(engine, actor=ADMIN)
    assert list(everything["action"]) == ["round.settings", "round.unpublish", "round.create"]
    assert list(audit.list_events(engine, actor=ADMIN, round_code="2025")["action"]) == [
        "round.unpublish"
    ]
    assert list(audit.list_events(engine, actor=ADMIN, entity="settings")["round_code"]) == ["2026"]
    assert list(audit.list_events(engine, actor=ADMIN, who=CLI.username)["reason"]) == ["复核"]
    assert len(audit.list_events(engine, actor=ADMIN, action="round.create")) == 1
    assert len(audit.list_events(engine, actor=ADMIN, limit=2)) == 2
    assert str(everything["at"].dt.tz) == "UTC"


def test_date_filters_are_days_in_the_display_time_zone(
    with_events: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = with_events
    newest = audit.list_events(engine, actor=ADMIN)["at"].max().to_pydatetime()
    for zone in ("Asia/Shanghai", "America/Los_Angeles"):
        monkeypatch.setenv(audit.TIMEZONE_ENV, zone)
        local_day = newest.astimezone(audit.display_tz()).date()
        day_after = local_day + timedelta(days=1)
        assert len(audit.list_events(engine, actor=ADMIN, since=local_day, until=local_day)) == 3
        assert audit.list_events(engine, actor=ADMIN, since=day_after).empty
        before = local_day - timedelta(days=1)
        assert audit.list_events(engine, actor=ADMIN, until=before).empty
    # datetimes are exact instants (inclusive), naive ones read as UTC
    exact = newest.astimezone(UTC)
    assert len(audit.list_events(engine, actor=ADMIN, since=exact, until=exact)) == 1
    naive = exact.replace(tzinfo=None)
    assert len(audit.list_events(engine, actor=ADMIN, since=naive)) == 1


def test_a_bad_time_zone_is_a_clear_error(
    with_events: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(audit.TIMEZONE_ENV, "Mars/Olympus")
    with pytest.raises(Exception, match="时区 Mars/Olympus 无效"):
        audit.list_events(with_events, actor=ADMIN, since=date(2026, 1, 1))


def test_facets_offer_what_the_trail_holds(with_events: Engine) -> None:
    facets = audit.audit_facets(with_events, actor=ADMIN)
    assert facets.rounds == ["2027", "2026", "2025"]
    assert facets.entities == ["round", "settings"]
    assert facets.actors == sorted([ADMIN.username, CLI.username])
    assert facets.first is not None and facets.first <= facets.last


def test_facets_of_an_empty_trail(demo_engine: Engine) -> None:
    facets = audit.audit_facets(demo_engine, actor=ADMIN)
    assert (facets.rounds, facets.entities, facets.actors, facets.first) == ([], [], [], None)


def test_the_view_speaks_chinese(with_events: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(audit.TIMEZONE_ENV, "Asia/Shanghai")
    events = audit.list_events(with_events, actor=ADMIN)
    view = audit.audit_view(events)
    assert list(view.columns) == list(audit.VIEW_HEADERS.values())
    rows = view.to_dict("records")
    assert [r["操作"] for r in rows] == ["修改轮次设置", "撤回发布", "新建轮次"]
    assert [r["来源"] for r in rows] == ["网页", "命令行", "网页"]
    assert [r["角色"] for r in rows] == ["管理员"] * 3
    assert [r["对象"] for r in rows] == ["轮次设置", "轮次", "轮次"]
    assert rows[1]["原值"] == "状态: 已发布" and rows[1]["新值"] == "状态: 已锁定"
    assert rows[1]["原因"] == "复核"
    assert rows[0]["原值"] == "最少评委人数: 5" and rows[0]["新值"] == "最少评委人数: 3"
    assert "复制自: 2026" in rows[2]["新值"]
    shanghai = events["at"].iloc[0].tz_convert("Asia/Shanghai").tz_localize(None)
    assert rows[0]["时间"] == shanghai


@pytest.mark.parametrize(
    ("value", "entity", "shown"),
    [
        (None, "round", ""),
        ({"status": "draft"}, "round", "状态: 筹备"),
        ({"status": "draft"}, "sheet", "状态: draft"),  # a sheet's draft is not a round's
        ({"value": 8.5, "comment": "好"}, "score", "value: 8.5；comment: 好"),
        ({"items": {"a": {"label": "甲"}}}, "rubric", '指标: {"a": {"label": "甲"}}'),
        ([1, 2], "x", "[1, 2]"),
    ],
)
def test_brief(value: object, entity: str, shown: str) -> None:
    assert audit.brief(value, entity) == shown


def test_import_sources_are_labelled() -> None:
    assert audit._source_label("import:12") == "导入 12"


# -- Excel export --------------------------------------------------------------------------
def test_workbook_holds_the_filtered_rows_and_never_a_formula(
    demo_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(audit.TIMEZONE_ENV, "Asia/Shanghai")
    engine = demo_engine
    evil = '=HYPERLINK("http://example.invalid","点我")'
    rounds.create_round(engine, actor=ADMIN, code="2027", name=evil)
    rounds.move_round(engine, actor=CLI, round_code="2026", move="lock", reason="+1 复核")
    data = audit.audit_workbook(engine, actor=ADMIN)
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/sheet")]
        assert all("<f>" not in book.read(n).decode() for n in sheets)
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == list(audit.VIEW_HEADERS.values())
    assert len(rows) == 3
    by_action = {r[5]: r for r in rows[1:]}
    created = by_action["新建轮次"]
    assert f"名称: {evil}" in created[10]
    assert by_action["锁定"][11] == "+1 复核"
    # the reason starts with a formula trigger: a string cell with Excel's quote prefix
    reason_cell = next(c for c in ws["L"] if c.value == "+1 复核")
    assert reason_cell.data_type == "s" and reason_cell.quotePrefix
    # times are real date cells, in the display time zone
    events = audit.list_events(engine, actor=ADMIN)
    expected = events["at"].iloc[0].tz_convert("Asia/Shanghai").tz_localize(None)
    assert isinstance(rows[1][1], datetime)
    assert abs(rows[1][1] - expected.to_pydatetime()) < timedelta(seconds=1)

    only_cli = audit.audit_workbook(engine, actor=ADMIN, who=CLI.username)
    rows = list(openpyxl.load_workbook(io.BytesIO(only_cli)).active.iter_rows(values_only=True))
    assert [r[5] for r in rows[1:]] == ["锁定"]


def test_workbook_of_an_empty_trail_has_the_header(demo_engine: Engine) -> None:
    data = audit.audit_workbook(demo_engine, actor=ADMIN)
    rows = list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert rows == [tuple(audit.VIEW_HEADERS.values())]


@pytest.mark.parametrize("actor", [JUDGE, VIEWER], ids=["judge", "viewer"])
def test_only_admins_read_the_trail(with_events: Engine, actor: Actor) -> None:
    for call in (audit.list_events, audit.audit_facets, audit.audit_workbook):
        with pytest.raises(PermissionDenied, match="无权查看操作日志"):
            call(with_events, actor=actor)
