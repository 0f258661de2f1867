"""Campaign commands: ``init``, ``demo``, ``rounds`` and ``rank``.

Each handler opens the database through :mod:`evalcore.services`, calls one service
function and renders what comes back; nothing here touches SQL or does arithmetic
beyond rounding for print. The columns of the exported ranking are defined once, in
:func:`ranking_columns` / :func:`ranking_rows`, and every output format (table, CSV,
JSON) is drawn from those rows. The Chinese text printed by the handlers is gathered
below; help texts sit with their arguments in :func:`register`.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from evalcore import services
from evalcore.cli import OPERATOR
from evalcore.rubric import METHODS

DECIMALS = 2
FORMATS = ("table", "csv", "json")

#: Chinese headers for the ``table`` format; criterion columns take their rubric label.
TABLE_HEADERS: dict[str, str] = {
    "rank": "名次",
    "brand": "品牌",
    "branch": "党支部",
    "unit": "上级党组织",
    "bonus": "加分",
    "total": "总分",
    "grade": "等次",
    "judges_counted": "计分评委",
}
DATASET_LABELS = {"sample": "示例活动", "generated": "生成的活动"}
ROUNDS_HEADER = ["轮次", "名称", "状态", "品牌", "评委", "评分进度"]
MSG_INIT = "数据库已就绪（表结构为最新版本，已有数据保持不变）：{where}"
MSG_DEMO = (
    "已载入演示数据（{dataset}）：上级党组织 {units} 个，品牌 {brands} 个，评委 {judges} 名，"
    "评审轮次 {rounds} 个，评分 {scores} 条。数据库：{where}"
)
MSG_NO_ROUNDS = "数据库中还没有评审轮次；可运行 python -m evalcore demo 载入演示数据。"
MSG_DEMO_DATA = "注：当前数据库中是演示数据（{dataset}），不是真实评审结果。"
MSG_NO_BRANDS = "轮次 {code} 还没有参评品牌。"
RANK_CAPTION = "{name}（{code}，{status}）  汇总方法：{method}  品牌 {count} 个"


# -- helpers ----------------------------------------------------------------------
def _positive_int(text: str) -> int:
    """argparse type: a positive integer, with a Chinese complaint otherwise."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"必须是正整数（当前 {text}）")
    return value


def _open(args: argparse.Namespace) -> services.DatabaseState:
    """The database of ``--db`` (else the environment, else the default), schema upgraded.

    Never seeds the demo: a command-line user asks for it with ``demo``.
    """
    return services.open_database(args.db, seed_demo=False)


def _where(state: services.DatabaseState) -> str:
    """Where the data lives: a SQLite file's absolute path, else the URL without password."""
    url = state.engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return str(Path(url.database).resolve())
    return url.render_as_string(hide_password=True)


def _emit(text: str) -> None:
    """Write ``text`` and a newline to stdout; a reader that left early is not an error.

    ``python -m evalcore rank ... | head`` closes the pipe: without this the user sees a
    BrokenPipeError traceback, twice (again when Python flushes stdout at exit).
    """
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def _missing(value: Any) -> bool:
    """None, NaN and pandas.NA all mean "no value" (printed empty / null)."""
    return value is None or bool(pd.isna(value))


def _score(value: Any) -> float | None:
    return None if _missing(value) else round(float(value), DECIMALS)


def _int(value: Any) -> int | None:
    return None if _missing(value) else int(value)


def _text(value: Any) -> str | None:
    return None if _missing(value) else str(value)


# -- the exported ranking: one place for its columns ------------------------------
def ranking_columns(results: services.RoundResults) -> list[str]:
    """CSV header / JSON keys, in order; the criteria follow the round's rubric."""
    criteria = [c.code for c in results.rubric.criteria]
    return [
        "rank",
        "brand",
        "branch",
        "unit",
        *criteria,
        "bonus",
        "total",
        "grade",
        "judges_counted",
    ]


def ranking_rows(results: services.RoundResults) -> list[dict[str, Any]]:
    """One dict per brand in meeting-table order, with plain Python values.

    Scores are rounded to 2 decimals; a brand nobody completed has None for rank,
    scores, total and grade (empty in CSV, null in JSON).
    """
    criteria = [c.code for c in results.rubric.criteria]
    convert: dict[str, Callable[[Any], Any]] = {
        "rank": _int,
        "brand": _text,
        "branch": _text,
        "unit": _text,
        **dict.fromkeys([*criteria, "bonus", "total"], _score),
        "grade": _text,
        "judges_counted": _int,
    }
    columns = ranking_columns(results)
    return [
        {col: convert[col](row[col]) for col in columns}
        for row in results.table[columns].to_dict("records")
    ]


# -- rendering --------------------------------------------------------------------
def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: CJK (wide/fullwidth) 2, combining marks 0.

    Ambiguous-width punctuation such as “ ” counts 1, as most terminals draw it.
    """
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * (width - display_width(text))
    return fill + text if right else text + fill


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int]) -> str:
    """Align columns by display width; columns in ``numeric`` are right-aligned."""
    widths = [
        max(display_width(cell) for cell in column) for column in zip(header, *rows, strict=True)
    ]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            _pad(cell, w, i in numeric)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        )

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def _cell(value: Any, missing: str = "-") -> str:
    """A value as printed: scores with exactly 2 decimals, ``missing`` for None."""
    if value is None:
        return missing
    if isinstance(value, float):
        return f"{value:.{DECIMALS}f}"
    return str(value)


def _csv(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_cell(row[c], missing="") for c in columns] for row in rows)
    return out.getvalue()


def _table(results: services.RoundResults, rows: Sequence[dict[str, Any]]) -> str:
    columns = ranking_columns(results)
    labels = {**TABLE_HEADERS, **results.rubric.criterion_labels()}
    header = [labels.get(c, c) for c in columns]
    numeric = {i for i, c in enumerate(columns) if c not in ("brand", "branch", "unit", "grade")}
    body = [[_cell(row[c]) for c in columns] for row in rows]
    caption = RANK_CAPTION.format(
        name=results.round.name,
        code=results.round.code,
        status=results.round.status_label,
        method=METHODS[results.method],
        count=len(rows),
    )
    return caption + "\n" + format_table(header, body, numeric)


# -- handlers ---------------------------------------------------------------------
def cmd_init(args: argparse.Namespace) -> int:
    state = _open(args)
    _emit(MSG_INIT.format(where=_where(state)))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    state = _open(args)
    counts = services.load_demo(
        state.engine, reset=args.reset, brands=args.brands, judges=args.judges
    )
    dataset = "generated" if args.brands is not None else "sample"
    _emit(MSG_DEMO.format(dataset=DATASET_LABELS[dataset], where=_where(state), **counts))
    return 0


def cmd_rounds(args: argparse.Namespace) -> int:
    state = _open(args)
    engine = state.engine
    rounds = services.list_rounds(engine)
    if not rounds:
        _emit(MSG_NO_ROUNDS)
        return 0
    rows = []
    for info in rounds:
        # The counts come from the full results: exact, but a ranking per round (~0.5 s at
        # 1,000 brands). A counts-only service would make this instant.
        results = services.round_results(engine, actor=OPERATOR, round_code=info.code)
        rows.append(
            [
                info.code,
                info.name,
                info.status_label,
                str(len(results.brands)),
                str(len(results.judges)),
                f"{results.progress.percent:.0f}%",
            ]
        )
    table = format_table(ROUNDS_HEADER, rows, numeric={3, 4, 5})
    if state.demo_dataset:
        table += "\n" + MSG_DEMO_DATA.format(dataset=DATASET_LABELS.get(state.demo_dataset, ""))
    _emit(table)
    return 0


def cmd_rank(args: argparse.Namespace) -> int:
    state = _open(args)
    results = services.round_results(
        state.engine, actor=OPERATOR, round_code=args.round, method=args.method
    )
    rows = ranking_rows(results)
    if args.format == "json":
        _emit(json.dumps(rows, ensure_ascii=False, indent=2))
    elif args.format == "csv":
        _emit(_csv(ranking_columns(results), rows).removesuffix("\n"))
    elif rows:
        _emit(_table(results, rows))
    else:
        _emit(MSG_NO_BRANDS.format(code=results.round.code))
    return 0


# -- registration -----------------------------------------------------------------
def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the campaign commands to the top-level parser."""
    init = subparsers.add_parser(
        "init",
        help="创建或升级数据库表结构（已有数据保持不变）",
        description="创建或升级数据库表结构；已有数据保持不变。",
    )
    init.set_defaults(handler=cmd_init)

    demo = subparsers.add_parser(
        "demo",
        help="载入演示数据",
        description=(
            "载入演示数据：默认载入示例活动；同时给出 --brands 与 --judges 则生成指定规模的活动。"
        ),
    )
    demo.add_argument("--reset", action="store_true", help="清空数据库中已有的全部数据后再载入")
    demo.add_argument("--brands", type=_positive_int, metavar="N", help="生成的品牌数")
    demo.add_argument("--judges", type=_positive_int, metavar="M", help="生成的评委数")
    demo.set_defaults(handler=cmd_demo)

    rounds = subparsers.add_parser(
        "rounds", help="列出评审轮次", description="列出全部评审轮次及其状态、品牌数和评委数。"
    )
    rounds.set_defaults(handler=cmd_rounds)

    rank = subparsers.add_parser(
        "rank",
        help="输出某一轮次的排名",
        description="汇总某一轮次的评分并输出排名（每个品牌一行，分数保留两位小数）。",
    )
    rank.add_argument("--round", required=True, metavar="CODE", help="轮次编号，例如 2025")
    rank.add_argument(
        "--method",
        choices=list(METHODS),
        default=None,
        help="汇总方法（默认取轮次设置）："
        + "；".join(f"{code}={label}" for code, label in METHODS.items()),
    )
    rank.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="输出格式：table=对齐的表格，csv=逗号分隔，json=对象列表（UTF-8）",
    )
    rank.set_defaults(handler=cmd_rank)
