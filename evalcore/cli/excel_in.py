"""``import FILE... --round CODE [--dry-run]``: score sheets into a round, all or nothing.

Exit codes: 0 imported (or, with ``--dry-run``, would import) and the counts printed;
2 the files have problems: one ``sheet!cell: message`` line per problem on stderr,
and nothing was written. Other failures (unknown round, locked round) use the exit
code of their :class:`~evalcore.errors.EvalcoreError`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from evalcore.errors import InvalidInput
from evalcore.permissions import Actor
from evalcore.services import imports, init_database

EXIT_ISSUES = InvalidInput.exit_code


def cmd_import(args: argparse.Namespace) -> int:
    files: list[tuple[str, bytes]] = []
    for name in args.files:
        path = Path(name)
        try:
            files.append((path.name, path.read_bytes()))
        except OSError as exc:
            raise InvalidInput(f"无法读取文件 {name}：{exc.strerror or exc}") from exc
    engine = init_database(args.db)
    preview, record = imports.import_files(
        engine, round_code=args.round, files=files, actor=Actor.cli(), dry_run=args.dry_run
    )
    if not preview.ok:
        for line in preview.issue_lines():
            print(line, file=sys.stderr)
        print(
            f"共 {len(preview.issues)} 处问题，未写入任何数据；修正后请重新导入。",
            file=sys.stderr,
        )
        return EXIT_ISSUES
    counts = preview.counts.summary()
    if record is None:
        print(f"预检通过（--dry-run，未写入）：{counts}")
    else:
        print(f"已导入到轮次 {preview.round.code}（导入编号 {record.id}）：{counts}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``import`` to the top-level parser."""
    cmd = subparsers.add_parser(
        "import",
        help="导入评分表（xlsx/xlsm/xls/ods）",
        description=(
            "导入一个或多个评分表：评分模板（每位评委一张工作表）或长表（评委、品牌编号/"
            "品牌名称、指标、得分、评语）。先校验全部单元格，有任何问题则逐条列出、"
            "不写入任何数据；全部通过后在一个事务中写入，并记入导入记录（操作人记为“命令行”）。"
        ),
    )
    cmd.add_argument("files", nargs="+", metavar="FILE", help="评分表文件")
    cmd.add_argument("--round", required=True, metavar="CODE", help="导入到的轮次编号，例如 2026")
    cmd.add_argument("--dry-run", action="store_true", help="只校验并显示将新增/修改的数量，不写入")
    cmd.set_defaults(handler=cmd_import)
