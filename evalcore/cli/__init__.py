"""Command line: ``python -m evalcore [--db URL] COMMAND``.

Commands live in modules by topic; each module's ``register(subparsers)`` adds its
commands with a ``handler(args, engine_url) -> int`` default. Every
:class:`~evalcore.errors.EvalcoreError` becomes one Chinese line on stderr and a
non-zero exit code: users never see a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from evalcore.errors import EvalcoreError
from evalcore.permissions import Actor

#: Who the command line acts as: the server's operator, an admin recorded as source cli.
OPERATOR = Actor.cli()

#: Command modules, in the order their commands appear in ``--help``.
COMMAND_MODULES = (
    "evalcore.cli.campaign",
    "evalcore.cli.excel_in",
    "evalcore.cli.excel_out",
    "evalcore.cli.rounds",
    "evalcore.cli.users",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m evalcore",
        description="evalcore：“一支部一品牌”评审的命令行工具",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help="数据库地址（默认取环境变量 EVALCORE_DATABASE_URL，否则 sqlite:///data/evalcore.db）",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except EvalcoreError as exc:
        print(f"错误：{exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("已取消", file=sys.stderr)
        return 130
