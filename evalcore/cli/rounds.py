"""Round and audit commands: ``round open|lock|publish|unlock|unpublish|reset|new`` and ``audit``.

The command line is the server's operator (:meth:`Actor.cli`): an admin whose changes
are recorded with source ``cli``, under exactly the rules the web pages obey, because
every command is one call of the same service function.
"""

from __future__ import annotations

import argparse
import csv
import io
from datetime import date

from evalcore import services
from evalcore.cli import OPERATOR
from evalcore.cli.campaign import _emit, format_table
from evalcore.errors import InvalidInput
from evalcore.excel.cells import csv_text
from evalcore.lifecycle import MOVE_LABELS, MOVES, RoundStatus, is_backward
from evalcore.services import audit
from evalcore.services import rounds as rounds_service

FORMATS = ("table", "csv")
MSG_MOVED = "轮次 {code}：{old} → {new}（{move}），已记入操作日志。"
MSG_CREATED = "已创建轮次 {code}（{name}），状态：筹备。{copied}"
MSG_COPIED = (
    "已从轮次 {source} 复制评分细则、设置、参评品牌 {brands} 个、评委 {judges} 名、"
    "分配 {assignments} 条。"
)
MSG_NOT_COPIED = "使用默认评分细则和设置；请再添加参评品牌和评委。"
MSG_REASON_NEEDED = '「{label}」需要填写原因：请加上 --reason 原因，例如 --reason "补录遗漏的评分"'
MSG_NO_EVENTS = "没有符合条件的操作记录。"
#: The table format's columns (of :func:`audit.audit_view`); CSV has them all.
TABLE_COLUMNS = ["时间", "操作人", "来源", "操作", "对象标识", "原值", "新值", "原因"]
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def _engine(args: argparse.Namespace):  # -> sqlalchemy.Engine
    """The database of ``--db`` (else the environment), schema upgraded; never seeds a demo."""
    return services.open_database(args.db, seed_demo=False).engine


def _day(text: str) -> date:
    """argparse type: a date written 2026-03-01."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"日期格式应为 年-月-日，例如 2026-03-01（当前 {text}）"
        ) from exc


def _positive(text: str) -> int:
    """argparse type: a positive integer."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"必须是正整数（当前 {text}）")
    return int(text)


# -- handlers -------------------------------------------------------------------------------
def cmd_move(args: argparse.Namespace) -> int:
    move = args.move
    if is_backward(move) and not (args.reason or "").strip():
        raise InvalidInput(MSG_REASON_NEEDED.format(label=MOVE_LABELS[move]))
    start, _ = MOVES[move]
    info = rounds_service.move_round(
        _engine(args), actor=OPERATOR, round_code=args.code, move=move, reason=args.reason
    )
    _emit(
        MSG_MOVED.format(
            code=info.code,
            old=start.label,
            new=RoundStatus(info.status).label,
            move=MOVE_LABELS[move],
        )
    )
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    engine = _engine(args)
    actor = OPERATOR
    info = rounds_service.create_round(
        engine, actor=actor, code=args.code, name=args.name, copy_from=args.copy_from
    )
    if args.copy_from:
        detail = rounds_service.round_detail(engine, actor=actor, round_code=info.code)
        copied = MSG_COPIED.format(
            source=args.copy_from,
            brands=detail.brands,
            judges=detail.judges,
            assignments=detail.assignments,
        )
    else:
        copied = MSG_NOT_COPIED
    _emit(MSG_CREATED.format(code=info.code, name=info.name, copied=copied))
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    events = audit.list_events(
        _engine(args),
        actor=OPERATOR,
        round_code=args.round,
        entity=args.entity,
        who=args.user,
        since=args.since,
        until=args.until,
        limit=args.limit,
    )
    view = audit.audit_view(events)
    view["时间"] = view["时间"].dt.strftime(_TIME_FORMAT)
    if args.format == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(view.columns)
        writer.writerows([csv_text(v) for v in row] for row in view.itertuples(index=False))
        _emit(out.getvalue().removesuffix("\n"))
    elif view.empty:
        _emit(MSG_NO_EVENTS)
    else:
        rows = [[_one_line(v) for v in row] for row in view[TABLE_COLUMNS].itertuples(index=False)]
        _emit(format_table(TABLE_COLUMNS, rows, numeric=set()))
    return 0


def _one_line(value: object) -> str:
    """A table cell on one line (comments and reasons may hold line breaks)."""
    return " ".join(str(value).split())


# -- registration ---------------------------------------------------------------------------
def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``round`` and ``audit`` to the top-level parser."""
    round_ = subparsers.add_parser(
        "round",
        help="轮次状态流转与新建轮次（筹备 → 评分中 → 已锁定 → 已发布）",
        description=(
            "轮次状态流转：筹备 → 评分中 → 已锁定 → 已发布。退回操作（unlock、unpublish、reset）"
            "必须用 --reason 说明原因。命令行以管理员身份操作，记入操作日志（来源：命令行）。"
        ),
    )
    moves = round_.add_subparsers(dest="round_command", metavar="ACTION", required=True)
    for move, (start, end) in MOVES.items():
        backward = is_backward(move)
        cmd = moves.add_parser(
            move,
            help=f"{MOVE_LABELS[move]}：{start.label} → {end.label}"
            + ("（需 --reason）" if backward else ""),
            description=f"{MOVE_LABELS[move]}：把「{start.label}」的轮次改为「{end.label}」。",
        )
        cmd.add_argument("code", metavar="CODE", help="轮次编号，例如 2026")
        cmd.add_argument(
            "--reason",
            metavar="TEXT",
            default=None,
            help="原因（退回操作必填，记入操作日志）" if backward else "原因（可选，记入操作日志）",
        )
        cmd.set_defaults(handler=cmd_move, move=move)

    new = moves.add_parser(
        "new",
        help="新建轮次（状态为筹备），可复制已有轮次的设置和名单",
        description=(
            "新建轮次，状态为「筹备」。--copy-from 复制该轮次的评分细则、设置、参评品牌、"
            "评委和分配；不复制评分、评语和回避申报。"
        ),
    )
    new.add_argument("code", metavar="CODE", help="新轮次编号，例如 2027（字母、数字和 . _ -）")
    new.add_argument("--name", required=True, metavar="NAME", help="轮次名称")
    new.add_argument("--copy-from", metavar="CODE", default=None, help="从哪个轮次复制")
    new.set_defaults(handler=cmd_new)

    trail = subparsers.add_parser(
        "audit",
        help="查看操作日志",
        description="按时间倒序列出操作日志（谁、何时、做了什么、原值 → 新值、来源、原因）。",
    )
    trail.add_argument("--round", metavar="CODE", default=None, help="只看某一轮次")
    trail.add_argument(
        "--entity", metavar="ENTITY", default=None, help="只看某类对象，例如 round、rubric、score"
    )
    trail.add_argument("--user", metavar="NAME", default=None, help="只看某个操作人")
    trail.add_argument("--since", type=_day, metavar="DATE", default=None, help="起始日期（含）")
    trail.add_argument("--until", type=_day, metavar="DATE", default=None, help="截止日期（含）")
    trail.add_argument("--limit", type=_positive, metavar="N", default=None, help="最多列出 N 条")
    trail.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="输出格式：table=对齐的表格，csv=逗号分隔（UTF-8，全部列）",
    )
    trail.set_defaults(handler=cmd_audit)
