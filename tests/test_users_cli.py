"""``python -m evalcore users ...``: accounts from the command line, as the CLI operator.

In-process through ``evalcore.cli.main`` on SQLite and PostgreSQL, plus one real
subprocess. The password never shows up in the output, the user table or the audit
trail; every change is one audit row with source ``cli``.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select, text

from evalcore import cli, db, services
from evalcore.errors import Conflict, InvalidInput, NotFound
from evalcore.models import AuditEvent
from evalcore.services import accounts
from tests.account_support import fast_hashing  # noqa: F401
from tests.conftest import ROOT

SECRET = "Correct-Horse-42"


@pytest.fixture(autouse=True)
def _fresh_engines() -> Iterator[None]:
    yield
    db.dispose_engines()


@pytest.fixture
def demo_url(db_url: str) -> str:
    """A database (each backend) holding the demo campaign, whose judges accounts link to."""
    services.open_database(db_url)
    return db_url


def run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    *argv: str,
    stdin: str | None = None,
) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = cli.main(["--db", url, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def engine_of(url: str) -> Engine:
    return db.get_engine(url)


def audit(url: str) -> list[dict]:
    with engine_of(url).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(AuditEvent).order_by(AuditEvent.id))]


def dump(url: str, table: str) -> str:
    with engine_of(url).connect() as conn:
        return "\n".join(str(tuple(r)) for r in conn.execute(text(f'SELECT * FROM "{table}"')))


def test_first_admin_from_stdin_then_list(capsys, monkeypatch, db_url) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(
        capsys,
        monkeypatch,
        db_url,
        "users",
        "add",
        "boss",
        "--role",
        "admin",
        "--display-name",
        "主任",
        "--password-stdin",
        stdin=SECRET + "\n",
    )
    assert (code, err) == (0, "")
    assert out.strip() == "已新增用户 boss（管理员）。"
    actor = accounts.login(engine_of(db_url), username="boss", password=SECRET).actor
    assert actor.role.value == "admin"
    code, out, _ = run(capsys, monkeypatch, db_url, "users", "list")
    assert code == 0
    header, _, row = out.splitlines()
    assert header.split() == ["用户名", "显示名称", "角色", "关联评委", "状态", "演示账号"]
    assert row.split() == ["boss", "主任", "管理员", "启用"]
    events = audit(db_url)
    assert len(events) == 1
    assert (events[0]["action"], events[0]["actor"], events[0]["role"], events[0]["source"]) == (
        "user.create",
        "命令行",
        "admin",
        "cli",
    )
    for place in (out, dump(db_url, "user"), dump(db_url, "auditevent")):
        assert SECRET not in place


def test_password_prompted_twice_without_echo(capsys, monkeypatch, db_url) -> None:  # type: ignore[no-untyped-def]
    prompts: list[str] = []
    answers = iter([SECRET, SECRET])

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    code, out, err = run(capsys, monkeypatch, db_url, "users", "add", "boss", "--role", "admin")
    assert code == 0, err
    assert prompts == ["密码：", "再次输入密码："]
    assert SECRET not in out + err
    assert accounts.login(engine_of(db_url), username="boss", password=SECRET)


def test_mismatched_prompts_create_nothing(capsys, monkeypatch, db_url) -> None:  # type: ignore[no-untyped-def]
    answers = iter([SECRET, SECRET + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    code, out, err = run(capsys, monkeypatch, db_url, "users", "add", "boss", "--role", "admin")
    assert code == InvalidInput.exit_code
    assert err.strip() == "错误：两次输入的密码不一致"
    assert SECRET not in out + err
    assert audit(db_url) == []


def test_no_terminal_and_no_stdin_flag_is_refused(capsys, monkeypatch, db_url) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run(
        capsys, monkeypatch, db_url, "users", "add", "boss", "--role", "admin", stdin=SECRET
    )
    assert code == InvalidInput.exit_code
    assert "--password-stdin" in err
    assert audit(db_url) == []


@pytest.mark.parametrize(
    ("argv", "stdin", "exit_code", "message"),
    [
        (["--role", "judge"], SECRET, InvalidInput.exit_code, "必须关联评委"),
        (["--role", "judge", "--judge", "无名氏"], SECRET, NotFound.exit_code, "找不到评委"),
        (["--role", "judge", "--judge", "王建华"], SECRET, Conflict.exit_code, "已有账号"),
        (["--role", "viewer"], "short", InvalidInput.exit_code, "至少需要 8 个字符"),
        (["--role", "viewer"], "", InvalidInput.exit_code, "没有读到密码"),
    ],
    ids=["judge-without-judge", "unknown-judge", "judge-taken", "weak-password", "no-password"],
)
def test_add_refusals(capsys, monkeypatch, demo_url, argv, stdin, exit_code, message) -> None:  # type: ignore[no-untyped-def]
    before = len(audit(demo_url))
    code, _, err = run(
        capsys, monkeypatch, demo_url, "users", "add", "newbie", *argv, "--password-stdin",
        stdin=stdin,
    )  # fmt: skip
    assert code == exit_code
    assert message in err and err.startswith("错误：")
    assert "Traceback" not in err
    assert len(audit(demo_url)) == before


def test_judge_account_linked_by_name(capsys, monkeypatch, demo_url) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(
        capsys, monkeypatch, demo_url, "users", "add", "li", "--role", "judge", "--judge",
        "李淑芬", "--password-stdin", stdin=SECRET + "\n",
    )  # fmt: skip
    assert code == 0, err
    actor = accounts.login(engine_of(demo_url), username="li", password=SECRET).actor
    assert actor.role.value == "judge" and actor.judge_id is not None
    code, out, _ = run(capsys, monkeypatch, demo_url, "users", "list")
    line = next(row for row in out.splitlines() if row.startswith("li "))
    assert line.split() == ["li", "li", "评委", "李淑芬", "启用"]
    demo_line = next(row for row in out.splitlines() if row.startswith("admin "))
    assert demo_line.split()[-1] == "是"  # the demo accounts are marked


def test_passwd_disable_enable(capsys, monkeypatch, demo_url) -> None:  # type: ignore[no-untyped-def]
    engine = engine_of(demo_url)
    cookie = accounts.login(engine, username="viewer", password="viewer123").cookie
    before = len(audit(demo_url))
    code, out, err = run(
        capsys, monkeypatch, demo_url, "users", "passwd", "viewer", "--password-stdin",
        stdin=SECRET + "\n",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out.strip() == "已修改 viewer 的密码，其现有登录已全部退出。"
    assert SECRET not in out
    assert accounts.resolve_session(engine, cookie) is None
    assert ("viewer", "viewer", "viewer123") not in accounts.demo_accounts(engine)
    cookie = accounts.login(engine, username="viewer", password=SECRET).cookie

    code, out, _ = run(capsys, monkeypatch, demo_url, "users", "disable", "viewer")
    assert (code, out.strip()) == (0, "已停用 viewer，其现有登录已全部退出。")
    assert accounts.resolve_session(engine, cookie) is None
    code, out, _ = run(capsys, monkeypatch, demo_url, "users", "disable", "viewer")
    assert (code, out.strip()) == (0, "viewer 已经是停用状态，未做修改。")
    code, out, _ = run(capsys, monkeypatch, demo_url, "users", "enable", "viewer")
    assert (code, out.strip()) == (0, "已启用 viewer。")
    assert accounts.login(engine, username="viewer", password=SECRET)

    events = audit(demo_url)[before:]
    assert [e["action"] for e in events] == ["user.password", "user.disable", "user.enable"]
    assert {(e["actor"], e["source"]) for e in events} == {("命令行", "cli")}
    assert SECRET not in dump(demo_url, "auditevent")


def test_the_last_admin_cannot_be_disabled(capsys, monkeypatch, demo_url) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run(capsys, monkeypatch, demo_url, "users", "disable", "admin")
    assert code == Conflict.exit_code
    assert "最后一个" in err
    code, _, err = run(
        capsys, monkeypatch, demo_url, "users", "passwd", "ghost", "--password-stdin", stdin=SECRET
    )
    assert code == NotFound.exit_code and "找不到用户「ghost」" in err


def test_list_on_an_empty_database_says_how_to_start(capsys, monkeypatch, db_url) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(capsys, monkeypatch, db_url, "users", "list")
    assert code == 0 and "users add 用户名 --role admin" in out


def test_real_process_never_prints_the_password(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = dict(os.environ, EVALCORE_DATABASE_URL=url)
    done = subprocess.run(
        [sys.executable, "-m", "evalcore", "users", "add", "root", "--role", "admin",
         "--password-stdin"],
        input=SECRET + "\n", capture_output=True, text=True, cwd=ROOT, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "evalcore", "users", "list"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120,
    )  # fmt: skip
    assert "root" in listed.stdout and SECRET not in listed.stdout
    assert accounts.login(db.get_engine(url), username="root", password=SECRET)
