"""Excel output commands: ``template`` (评分表) and ``export`` (results as .xlsx or .csv).

Each handler checks the output path first (a wrong suffix fails before any database
work), calls one service function and writes the bytes it returns.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

from evalcore.cli import OPERATOR
from evalcore.errors import InvalidInput
from evalcore.services import exports, init_database

EXPORT_SUFFIXES = (".xlsx", ".csv")


def register(subparsers: Any) -> None:
    """Add ``template`` and ``export`` to the ``python -m evalcore`` parser."""
    template = subparsers.add_parser(
        "template",
        help="生成评分表模板（.xlsx）",
        description="为一个轮次生成评分表：填表说明加每位评委一张工作表；指定评委时只含其一张。",
    )
    template.add_argument("--round", required=True, metavar="CODE", help="轮次编号，如 2026")
    template.add_argument("--judge", metavar="NAME", help="只生成这位评委的表（姓名或编号）")
    template.add_argument(
        "--prefill", action="store_true", help="填入数据库中已有的分数和评语（当作现状表）"
    )
    template.add_argument("-o", "--output", required=True, metavar="FILE", help="输出文件 .xlsx")
    template.set_defaults(handler=_template)

    export = subparsers.add_parser(
        "export",
        help="导出评审结果（.xlsx 或 .csv）",
        description="导出一个轮次的评审结果；格式由文件后缀决定：.xlsx 为带格式的工作簿，"
        ".csv 为排名表（UTF-8，Excel 可直接打开）。",
    )
    export.add_argument("--round", required=True, metavar="CODE", help="轮次编号，如 2026")
    export.add_argument(
        "--method", metavar="M", help="汇总方法：trimmed、mean 或 median（默认取轮次设置）"
    )
    export.add_argument("-o", "--output", required=True, metavar="FILE", help="输出文件")
    export.set_defaults(handler=_export)


def _template(args: argparse.Namespace) -> int:
    path = _output_path(args.output, (".xlsx",), "评分表")
    engine = init_database(args.db)
    data = exports.score_template(
        engine, actor=OPERATOR, round_code=args.round, judge=args.judge, prefill=args.prefill
    )
    _write(path, data)
    print(f"已生成评分表：{path}")
    return 0


def _export(args: argparse.Namespace) -> int:
    path = _output_path(args.output, EXPORT_SUFFIXES, "评审结果")
    engine = init_database(args.db)
    build = exports.results_csv if path.suffix.lower() == ".csv" else exports.results_workbook
    _write(path, build(engine, actor=OPERATOR, round_code=args.round, method=args.method))
    print(f"已导出评审结果：{path}")
    return 0


def _output_path(text: str, suffixes: tuple[str, ...], what: str) -> Path:
    path = Path(text)
    if path.suffix.lower() not in suffixes:
        allowed = " 或 ".join(suffixes)
        raise InvalidInput(f"{what}只能保存为 {allowed} 文件（当前：{path.name}）", path=str(path))
    return path


def _write(path: Path, data: bytes) -> None:
    """Write via a temporary file and rename: a failure never leaves half a workbook."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InvalidInput(f"无法写入文件 {path}：{reason}", path=str(path)) from exc
