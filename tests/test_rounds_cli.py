"""``python -m evalcore round …`` and ``audit``: the operator's commands, same rules as the web.

Most tests run in-process through ``evalcore.cli.main`` on both backends; one runs the
real module in a subprocess to prove the exit code and the single stderr line.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from evalcore import cli, db
from evalcore.errors import Conflict, InvalidInput, NotFound
from evalcore.permissions import Actor, Role
from evalcore.services import audit, rounds
from tests.import_helpers import long_rows, stored, value_of, xlsx

ROOT = Path(__file__).resolve().parents[1]
ADMIN = Actor("admin", Role.ADMIN, user_id=1)
J = "王建华"  # J01: outside every unit, assigned every brand


@pytest.fixture(autouse=True)
def _fresh_engines() -> Iterator[None]:
    yield
    db.dispose_engines()


def run(capsys: pytest.CaptureFixture[str], url: str, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["--db", url, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def status(engine: Engine, code: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(text("SELECT status FROM round WHERE code = :c"), {"c": code}).scalar()


def trail(engine: Engine) -> list[dict]:
    return audit.list_events(engine, actor=ADMIN).to_dict("records")


def test_lifecycle_from_the_command_line_is_recorded_as_cli(
    demo_engine: Engine, demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = demo_engine
    assert run(capsys, demo_url, "round", "lock", "2026") == (
        0,
        "轮次 2026：评分中 → 已锁定（锁定），已记入操作日志。\n",
        "",
    )
    code, out, _ = run(capsys, demo_url, "round", "publish", "2026")
    assert code == 0 and "已锁定 → 已发布" in out
    code, out, _ = run(capsys, demo_url, "round", "unpublish", "2026", "--reason", "复核名次")
    assert code == 0 and "已发布 → 已锁定" in out
    code, out, _ = run(capsys, demo_url, "round", "unlock", "2026", "--reason", "补录评分")
    assert code == 0 and status(engine, "2026") == "scoring"
    events = trail(engine)
    assert [e["action"] for e in events] == [
        "round.unlock",
        "round.unpublish",
        "round.publish",
        "round.lock",
    ]
    assert {(e["source"], e["actor"], e["role"]) for e in events} == {
        ("cli", Actor.cli().username, "admin")
    }
    assert [e["reason"] for e in events[:2]] == ["补录评分", "复核名次"]


@pytest.mark.parametrize(("move", "start"), [("unlock", "locked"), ("unpublish", "published")])
@pytest.mark.parametrize("reason", [[], ["--reason", "  "]], ids=["missing", "blank"])
def test_a_move_back_without_reason_is_one_chinese_line(
    sqlite_demo: Engine,
    sqlite_url: str,
    capsys: pytest.CaptureFixture[str],
    move: str,
    start: str,
    reason: list[str],
) -> None:
    code = "2026" if start == "locked" else "2025"
    if start == "locked":
        rounds.move_round(sqlite_demo, actor=ADMIN, round_code="2026", move="lock")
    before = len(trail(sqlite_demo))
    exit_code, out, err = run(capsys, sqlite_url, "round", move, code, *reason)
    assert exit_code == InvalidInput.exit_code != 0
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("错误：")
    assert "需要填写原因" in err and "--reason" in err
    assert status(sqlite_demo, code) == start
    assert len(trail(sqlite_demo)) == before


def test_impossible_move_and_unknown_round(
    demo_engine: Engine, demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, demo_url, "round", "open", "2026")
    assert code == Conflict.exit_code and out == ""
    assert (
        err
        == "错误：当前状态为「评分中」，不能执行「开始评分」（该操作只适用于「筹备」状态的轮次）\n"
    )
    code, _, err = run(capsys, demo_url, "round", "lock", "1999")
    assert code == NotFound.exit_code and "找不到评审轮次 1999" in err
    assert trail(demo_engine) == []


def test_new_round_with_and_without_copy(
    demo_engine: Engine, demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, demo_url, "round", "new", "2027", "--name", "2027年度评审", "--copy-from", "2026"
    )
    assert (code, err) == (0, "")
    assert out == (
        "已创建轮次 2027（2027年度评审），状态：筹备。已从轮次 2026 复制评分细则、设置、"
        "参评品牌 26 个、评委 7 名、分配 182 条。\n"
    )
    code, out, _ = run(capsys, demo_url, "round", "new", "2028", "--name", "空白轮次")
    assert code == 0 and "使用默认评分细则和设置" in out
    detail = rounds.round_detail(demo_engine, actor=ADMIN, round_code="2028")
    assert (detail.info.status, detail.brands, detail.judges) == ("draft", 0, 0)
    events = trail(demo_engine)
    assert [(e["action"], e["source"]) for e in events] == [
        ("round.create", "cli"),
        ("round.create", "cli"),
    ]
    code, _, err = run(capsys, demo_url, "round", "new", "2027", "--name", "重复")
    assert code == Conflict.exit_code and "已存在" in err
    assert len(trail(demo_engine)) == 2


def test_new_round_needs_a_name(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--db", sqlite_url, "round", "new", "2027"])
    assert exit_info.value.code == 2
    assert "--name" in capsys.readouterr().err


def test_nothing_is_imported_into_a_locked_round(
    demo_engine: Engine,
    demo_url: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """The CLI obeys the round rules of the services: lock, then an import is refused."""
    old = value_of(demo_engine, "J01", "B001", "name.concise")
    new = 0.5 if old != 0.5 else 1.0
    sheet = tmp_path / "scores.xlsx"
    sheet.write_bytes(xlsx({"评分": long_rows([(J, "B001", "name.concise", new)])}))
    assert run(capsys, demo_url, "round", "lock", "2026")[0] == 0
    before = stored(demo_engine)
    code, out, err = run(capsys, demo_url, "import", str(sheet), "--round", "2026")
    assert code != 0 and out == ""
    assert "当前为“已锁定”" in err and "未写入任何数据" in err
    assert stored(demo_engine).equals(before)
    assert [e["action"] for e in trail(demo_engine)] == ["round.lock"]
    # reopened (with a reason), the same file goes in
    assert run(capsys, demo_url, "round", "unlock", "2026", "--reason", "补录")[0] == 0
    assert run(capsys, demo_url, "import", str(sheet), "--round", "2026")[0] == 0
    assert value_of(demo_engine, "J01", "B001", "name.concise") == new


def test_audit_table_and_csv(
    sqlite_demo: Engine, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    evil = "=1+2 公式"
    rounds.create_round(sqlite_demo, actor=ADMIN, code="2027", name="x")
    rounds.move_round(sqlite_demo, actor=ADMIN, round_code="2025", move="unpublish", reason=evil)

    code, out, _ = run(capsys, sqlite_url, "audit")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 4  # header, rule, two events
    assert lines[0].split() == [
        "时间",
        "操作人",
        "来源",
        "操作",
        "对象标识",
        "原值",
        "新值",
        "原因",
    ]
    assert "撤回发布" in lines[2] and "状态: 已发布" in lines[2] and evil in lines[2]
    assert "新建轮次" in lines[3]

    code, out, _ = run(capsys, sqlite_url, "audit", "--round", "2025", "--format", "csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert code == 0 and rows[0] == list(audit.VIEW_HEADERS.values())
    assert len(rows) == 2
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["操作"] == "撤回发布" and record["来源"] == "网页"
    assert record["原因"] == "'" + evil  # formula-like text is escaped in CSV
    assert record["轮次"] == "2025"

    code, out, _ = run(capsys, sqlite_url, "audit", "--round", "1999")
    assert (code, out) == (0, "没有符合条件的操作记录。\n")
    code, out, _ = run(capsys, sqlite_url, "audit", "--entity", "round", "--limit", "1")
    assert out.splitlines()[2].count("撤回发布") == 1 and len(out.splitlines()) == 3


def test_audit_date_filters(
    sqlite_demo: Engine, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rounds.create_round(sqlite_demo, actor=ADMIN, code="2027", name="x")
    code, out, _ = run(capsys, sqlite_url, "audit", "--since", "2999-01-01")
    assert (code, out) == (0, "没有符合条件的操作记录。\n")
    code, out, _ = run(capsys, sqlite_url, "audit", "--until", "2000-01-01", "--format", "csv")
    assert code == 0 and len(out.splitlines()) == 1  # the header only
    with pytest.raises(SystemExit):
        cli.main(["--db", sqlite_url, "audit", "--since", "昨天"])
    assert "年-月-日" in capsys.readouterr().err


def test_the_real_process_exits_non_zero_with_one_line(
    sqlite_demo: Engine, sqlite_url: str
) -> None:
    rounds.move_round(sqlite_demo, actor=ADMIN, round_code="2026", move="lock")
    db.dispose_engines()
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "evalcore", "--db", sqlite_url, "round", "unlock", "2026"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == InvalidInput.exit_code
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "错误：「解锁（退回评分中）」需要填写原因：请加上 --reason 原因，"
        '例如 --reason "补录遗漏的评分"'
    ]
    assert status(sqlite_demo, "2026") == "locked"
