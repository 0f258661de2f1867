"""The command line, in-process through ``evalcore.cli.main`` and as ``python -m evalcore``."""

from __future__ import annotations

import ast
import csv
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete

from evalcore import cli, db, services
from evalcore.cli.campaign import display_width, format_table
from evalcore.models import Round, Score
from evalcore.rubric import default_rubric
from evalcore.store import insert_rows
from tests.factories import OPERATOR

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = [
    "rank",
    "brand",
    "branch",
    "unit",
    "name",
    "connotation",
    "mechanism",
    "carriers",
    "standards",
    "impact",
    "bonus",
    "total",
    "grade",
    "judges_counted",
]
SCORE_COLUMNS = COLUMNS[4:12]
CJK = re.compile(r"[\u4e00-\u9fff]")
TWO_DECIMALS = re.compile(r"^\d+\.\d{2}$")


@pytest.fixture(autouse=True)
def _fresh_engines() -> Iterator[None]:
    """Each test opens its own database; cached engines must not leak between them."""
    yield
    db.dispose_engines()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def demo_url(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    """A SQLite file holding the sample campaign, loaded through the CLI."""
    code, _, _ = run(capsys, "--db", sqlite_url, "demo")
    assert code == 0
    return sqlite_url


def rank_json(capsys: pytest.CaptureFixture[str], url: str, *extra: str) -> list[dict[str, Any]]:
    code, out, err = run(capsys, "--db", url, "rank", "--format", "json", *extra)
    assert (code, err) == (0, "")
    return json.loads(out)


def rank_csv(capsys: pytest.CaptureFixture[str], url: str, *extra: str) -> list[list[str]]:
    code, out, err = run(capsys, "--db", url, "rank", "--format", "csv", *extra)
    assert (code, err) == (0, "")
    return list(csv.reader(io.StringIO(out)))


def assert_one_chinese_error_line(err: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("错误："), err
    assert CJK.search(lines[0].removeprefix("错误："))
    assert "Traceback" not in err


# -- init, demo, rounds -------------------------------------------------------------
def test_init_creates_the_schema_and_says_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sub" / "campaign.db"
    code, out, err = run(capsys, "--db", f"sqlite:///{path}", "init")
    assert (code, err) == (0, "")
    assert path.exists()
    assert str(path) in out and "数据库已就绪" in out


def test_init_keeps_existing_data(demo_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    before = rank_json(capsys, demo_url, "--round", "2025")
    db.dispose_engines()  # as a new process would: migrate again on connect
    assert run(capsys, "--db", demo_url, "init")[0] == 0
    assert rank_json(capsys, demo_url, "--round", "2025") == before


def test_database_url_comes_from_the_environment(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(db.ENV_VAR, sqlite_url)
    code, out, _ = run(capsys, "demo")
    assert code == 0
    assert sqlite_url.removeprefix("sqlite:///") in out


def test_demo_prints_counts_in_chinese(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--db", sqlite_url, "demo")
    assert (code, err) == (0, "")
    assert "已载入演示数据（示例活动）" in out
    assert "品牌 26 个" in out and "评委 7 名" in out and "评审轮次 2 个" in out


def test_demo_refuses_to_overwrite_without_reset(
    demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--db", demo_url, "demo")
    assert code == 5 and out == ""
    assert_one_chinese_error_line(err)
    assert "--reset" in err


def test_demo_reset_generates_the_requested_size(
    demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "--db", demo_url, "demo", "--reset", "--brands", "30", "--judges", "6"
    )
    assert code == 0
    assert "生成的活动" in out and "品牌 30 个" in out and "评委 6 名" in out
    assert len(rank_csv(capsys, demo_url, "--round", "2025")) == 1 + 30
    results = services.round_results(db.get_engine(demo_url), actor=OPERATOR, round_code="2026")
    assert len(results.brands) == 30 and len(results.judges) == 6


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--brands", "30"], "同时指定"),
        (["--brands", "0", "--judges", "5"], "正整数"),
        (["--brands", "x", "--judges", "5"], "正整数"),
    ],
)
def test_demo_rejects_bad_sizes(
    sqlite_url: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    try:
        code = cli.main(["--db", sqlite_url, "demo", *argv])
    except SystemExit as exc:  # argparse rejects a malformed value before any handler
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code != 0 and message in err and "Traceback" not in err


def test_rounds_lists_code_name_status_and_counts(
    demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--db", demo_url, "rounds")
    assert code == 0
    header, _rule, *rows, note = out.splitlines()
    assert header.split() == ["轮次", "名称", "状态", "品牌", "评委", "评分进度"]
    assert [r.split() for r in rows] == [
        ["2026", "2026年度“一支部一品牌”评审", "评分中", "26", "7", "96%"],
        ["2025", "2025年度“一支部一品牌”评审", "已发布", "26", "7", "100%"],
    ]
    assert "演示数据" in note


def test_rounds_on_an_empty_database_says_what_to_do(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--db", sqlite_url, "rounds")
    assert code == 0 and "python -m evalcore demo" in out


def test_campaign_commands_go_through_services() -> None:
    """These commands are a presentation layer, like the pages: no storage, no core maths."""
    forbidden = (
        "sqlalchemy",
        "sqlmodel",
        "alembic",
        "psycopg",
        "evalcore.db",
        "evalcore.models",
        "evalcore.store",
        "evalcore.demo",
        "evalcore.scoring",
        "evalcore.ranking",
    )
    tree = ast.parse((ROOT / "evalcore" / "cli" / "campaign.py").read_text(encoding="utf-8"))
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
    bad = sorted(n for n in names if any(n == f or n.startswith(f + ".") for f in forbidden))
    assert bad == []
    assert "evalcore.services" in names  # the rule sees the imports at all


# -- rank ---------------------------------------------------------------------------
def test_rank_csv_header_is_exact(demo_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    header, *rows = rank_csv(capsys, demo_url, "--round", "2025")
    assert header == COLUMNS
    assert len(rows) == 26 and all(len(r) == len(COLUMNS) for r in rows)


def test_rank_json_is_a_list_of_objects_with_exact_keys(
    demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--db", demo_url, "rank", "--round", "2025", "--format", "json")
    assert code == 0
    assert "双红" in out  # UTF-8 text, not \u escapes
    rows = json.loads(out)
    assert isinstance(rows, list) and len(rows) == 26
    assert all(list(row) == COLUMNS for row in rows)
    first = rows[0]
    assert isinstance(first["rank"], int) and isinstance(first["judges_counted"], int)
    assert all(isinstance(first[c], float) for c in SCORE_COLUMNS)


def test_rank_rounds_scores_to_two_decimals(
    demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    header, *rows = rank_csv(capsys, demo_url, "--round", "2026", "--method", "mean")
    for row in rows:
        for col in SCORE_COLUMNS:
            assert TWO_DECIMALS.match(row[header.index(col)]), (col, row)
    for row in rank_json(capsys, demo_url, "--round", "2026", "--method", "mean"):
        for col in SCORE_COLUMNS:
            assert row[col] == round(row[col], 2)


@pytest.mark.parametrize("method", [None, "trimmed", "mean", "median"])
def test_rank_agrees_with_the_service(
    demo_url: str, capsys: pytest.CaptureFixture[str], method: str | None
) -> None:
    extra = ["--method", method] if method else []
    rows = rank_json(capsys, demo_url, "--round", "2026", *extra)
    table = services.round_results(
        db.get_engine(demo_url), actor=OPERATOR, round_code="2026", method=method
    ).table
    expected = [
        {
            "rank": int(r["rank"]),
            "brand": r["brand"],
            "unit": r["unit"],
            **{c: pytest.approx(round(float(r[c]), 2), abs=1e-9) for c in SCORE_COLUMNS},
            "grade": r["grade"],
            "judges_counted": int(r["judges_counted"]),
        }
        for r in table.to_dict("records")
    ]
    assert [{k: row[k] for k in expected[0]} for row in rows] == expected


def test_switching_method_changes_totals(demo_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    by_method = {
        m: {r["brand"]: r for r in rank_json(capsys, demo_url, "--round", "2025", "--method", m)}
        for m in ("trimmed", "mean", "median")
    }
    totals = {m: {b: r["total"] for b, r in rows.items()} for m, rows in by_method.items()}
    assert totals["trimmed"] != totals["mean"] != totals["median"] != totals["trimmed"]
    # Trimming drops exactly two of the (complete) judges that the mean counts.
    for brand, row in by_method["trimmed"].items():
        assert row["judges_counted"] == by_method["mean"][brand]["judges_counted"] - 2


def test_brand_without_scores_is_listed_unranked(
    demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = db.get_engine(demo_url)
    results = services.round_results(engine, actor=OPERATOR, round_code="2026")
    victim = results.table.iloc[0]
    with db.transaction(engine) as session:
        session.execute(
            delete(Score).where(
                Score.round_id == results.round.id, Score.brand_id == int(victim["brand_id"])
            )
        )
    header, *rows = rank_csv(capsys, demo_url, "--round", "2026")
    last = dict(zip(header, rows[-1], strict=True))
    assert last["brand"] == victim["brand"]
    assert {k: last[k] for k in ("rank", "total", "grade", "name", "bonus")} == dict.fromkeys(
        ("rank", "total", "grade", "name", "bonus"), ""
    )
    assert last["judges_counted"] == "0"
    as_json = rank_json(capsys, demo_url, "--round", "2026")[-1]
    assert as_json["brand"] == victim["brand"]
    assert as_json["rank"] is None and as_json["total"] is None and as_json["grade"] is None
    code, out, _ = run(capsys, "--db", demo_url, "rank", "--round", "2026")
    assert code == 0 and victim["brand"] in out


def test_rank_table_aligns_chinese_by_display_width(
    demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--db", demo_url, "rank", "--round", "2025")
    assert code == 0
    caption, header, rule, *rows = out.splitlines()
    assert "2025" in caption and "去掉最高分和最低分后平均" in caption
    assert header.split() == [
        "名次",
        "品牌",
        "党支部",
        "上级党组织",
        "品牌名称",
        "品牌内涵",
        "创建机制",
        "活动载体",
        "服务规范",
        "群众影响",
        "加分",
        "总分",
        "等次",
        "计分评委",
    ]
    assert len(rows) == 26
    # Every line fills every column: equal display widths mean the columns line up.
    assert {display_width(line) for line in [header, rule, *rows]} == {display_width(rule)}
    # The rule's gaps are where every line has its column gaps.
    gaps = [m.start() for m in re.finditer("  ", rule)]
    for line in [header, *rows]:
        cells = [ch for ch in line for _ in range(display_width(ch))]  # one entry per column
        assert all(cells[g] == cells[g + 1] == " " for g in gaps)


@pytest.mark.parametrize(
    ("text", "width"),
    [("", 0), ("abc", 3), ("品牌", 4), ("A党支部1", 8), ("“一方盒”", 8), ("e\u0301", 1)],
)
def test_display_width(text: str, width: int) -> None:
    assert display_width(text) == width


def test_format_table_pads_to_display_width() -> None:
    out = format_table(["名", "n"], [["双红", "1"], ["ab", "12"]], numeric={1})
    assert out.splitlines() == ["名     n", "----  --", "双红   1", "ab    12"]


# -- errors: one Chinese line, non-zero exit, no traceback ----------------------------
def _not_a_database(tmp_path: Path) -> str:
    path = tmp_path / "notes.db"
    path.write_text("这不是数据库", encoding="utf-8")
    return f"sqlite:///{path}"


def _under_a_file(tmp_path: Path) -> str:
    (tmp_path / "plain.txt").write_text("x", encoding="utf-8")
    return f"sqlite:///{tmp_path / 'plain.txt' / 'evalcore.db'}"


@pytest.mark.parametrize(
    ("make_url", "argv", "exit_code", "says"),
    [
        (lambda p: "foo://x", ["rounds"], 2, "不支持的数据库类型"),
        (lambda p: "postgresql://u@h:port/db", ["rounds"], 2, "数据库地址无效"),
        (
            lambda p: "postgresql://postgres@127.0.0.1:1/test",
            ["rank", "--round", "2025"],
            2,
            "无法连接数据库",
        ),
        (_under_a_file, ["init"], 2, "无法创建数据库目录"),
        (_not_a_database, ["rounds"], 2, "无法打开数据库"),
    ],
    ids=["unknown-scheme", "bad-port", "pg-unreachable", "dir-is-a-file", "not-a-database"],
)
def test_bad_database_is_one_chinese_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make_url: Callable[[Path], str],
    argv: list[str],
    exit_code: int,
    says: str,
) -> None:
    code, out, err = run(capsys, "--db", make_url(tmp_path), *argv)
    assert code == exit_code and out == ""
    assert_one_chinese_error_line(err)
    assert says in err


def test_unknown_round_names_the_known_ones(
    demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--db", demo_url, "rank", "--round", "1999")
    assert code == 4 and out == ""
    assert_one_chinese_error_line(err)
    assert "1999" in err and "2025、2026" in err


# -- the module entry point, in a real process ---------------------------------------
def python_m(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop(db.ENV_VAR, None)
    return subprocess.run(
        [sys.executable, "-m", "evalcore", *argv],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
    )


def test_python_m_evalcore_end_to_end(sqlite_url: str) -> None:
    assert python_m("--db", sqlite_url, "demo").returncode == 0
    done = python_m("--db", sqlite_url, "rank", "--round", "2025", "--format", "csv")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines()[0] == ",".join(COLUMNS)
    assert len(done.stdout.splitlines()) == 27


@pytest.mark.parametrize(
    ("argv", "exit_code"),
    [(["--db", "foo://x", "rounds"], 2), (["--db", "{sqlite}", "rank", "--round", "1999"], 4)],
    ids=["bad-url", "unknown-round"],
)
def test_python_m_evalcore_errors(sqlite_url: str, argv: list[str], exit_code: int) -> None:
    done = python_m(*(a.replace("{sqlite}", sqlite_url) for a in argv))
    assert done.returncode == exit_code and done.stdout == ""
    assert_one_chinese_error_line(done.stderr)


def test_python_m_evalcore_survives_a_closed_pipe(sqlite_url: str) -> None:
    """``rank ... | head -1``: the reader leaves early; no BrokenPipeError traceback."""
    assert python_m("--db", sqlite_url, "demo", "--brands", "400", "--judges", "5").returncode == 0
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = ["--db", sqlite_url, "rank", "--round", "2025", "--format", "json"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "evalcore", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().strip() == b"["
    proc.stdout.close()  # ~135 kB remain unread: more than a pipe buffer holds
    stderr = proc.stderr.read().decode("utf-8")
    proc.wait(timeout=120)
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr


# -- PostgreSQL -------------------------------------------------------------------------
@pytest.mark.postgres
def test_cli_on_postgresql_matches_sqlite(
    pg_url: str, demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--db", pg_url, "demo")
    assert code == 0 and "品牌 26 个" in out
    code, out, _ = run(capsys, "--db", pg_url, "rounds")
    assert code == 0 and "评分中" in out and "已发布" in out
    for method in ("trimmed", "median"):
        on_pg = rank_json(capsys, pg_url, "--round", "2026", "--method", method)
        on_sqlite = rank_json(capsys, demo_url, "--round", "2026", "--method", method)
        assert on_pg == on_sqlite
    code, out, err = run(capsys, "--db", pg_url, "rank", "--round", "1999")
    assert code == 4 and out == ""
    assert_one_chinese_error_line(err)


def test_rank_of_a_round_without_brands(demo_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with db.transaction(db.get_engine(demo_url)) as session:
        insert_rows(
            session.connection(),
            Round,
            [
                {
                    "code": "2027",
                    "name": "2027年度评审",
                    "rubric": default_rubric().to_dict(),
                    "settings": {},
                }
            ],
        )
    code, out, _ = run(capsys, "--db", demo_url, "rank", "--round", "2027")
    assert code == 0 and "还没有参评品牌" in out
    assert rank_csv(capsys, demo_url, "--round", "2027") == [COLUMNS]
    assert rank_json(capsys, demo_url, "--round", "2027") == []
