"""``users add|list|passwd|disable|enable``: accounts from the command line.

This is how the first admin comes to exist: ``python -m evalcore users add NAME --role
admin``. The command line acts as the server's operator (``Actor.cli()``): its changes
are recorded in the audit trail with source CLI. A password is read with ``getpass``
(asked twice, never echoed) or, for scripts, as the first line of standard input with
``--password-stdin``; it is never printed, logged or put on the command line.
"""

from __future__ import annotations

import argparse
import getpass
import sys

import pandas as pd

from evalcore.cli.campaign import format_table
from evalcore.errors import InvalidInput
from evalcore.permissions import ROLE_LABELS, Actor, Role
from evalcore.services import accounts, init_database

LIST_HEADER = ["用户名", "显示名称", "角色", "关联评委", "状态", "演示账号"]
MSG_ADDED = "已新增用户 {username}（{role}）。"
MSG_PASSWD = "已修改 {username} 的密码，其现有登录已全部退出。"
MSG_DISABLED = "已停用 {username}，其现有登录已全部退出。"
MSG_ENABLED = "已启用 {username}。"
MSG_UNCHANGED = "{username} 已经是{state}状态，未做修改。"
MSG_NO_USERS = (
    "还没有任何用户；可运行 python -m evalcore users add 用户名 --role admin 创建管理员。"
)
NO_TTY = "无法在终端中提示输入密码；脚本中请使用 --password-stdin，从标准输入读取密码"


def read_password(from_stdin: bool) -> str:
    """The new password: one line of stdin, or typed twice at a hidden prompt."""
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise InvalidInput("标准输入中没有读到密码")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InvalidInput(NO_TTY)
    first = getpass.getpass("密码：")
    again = getpass.getpass("再次输入密码：")
    accounts.check_same(first, again)
    return first


def cmd_add(args: argparse.Namespace) -> int:
    engine = init_database(args.db)
    password = read_password(args.password_stdin)
    accounts.create_user(
        engine,
        actor=Actor.cli(),
        username=args.name,
        password=password,
        role=args.role,
        judge=args.judge,
        display_name=args.display_name or "",
    )
    print(MSG_ADDED.format(username=args.name.strip(), role=Role(args.role).label))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    engine = init_database(args.db)
    users = accounts.list_users(engine, actor=Actor.cli())
    if users.empty:
        print(MSG_NO_USERS)
        return 0
    rows = [
        [
            row.username,
            row.display_name,
            row.role_label,
            "" if pd.isna(row.judge) else row.judge,
            "启用" if row.active else "停用",
            "是" if row.is_demo else "",
        ]
        for row in users.itertuples(index=False)
    ]
    print(format_table(LIST_HEADER, rows, numeric=set()))
    return 0


def cmd_passwd(args: argparse.Namespace) -> int:
    engine = init_database(args.db)
    password = read_password(args.password_stdin)
    accounts.set_password(engine, actor=Actor.cli(), username=args.name, password=password)
    print(MSG_PASSWD.format(username=args.name))
    return 0


def _set_active(args: argparse.Namespace, active: bool) -> int:
    engine = init_database(args.db)
    changed = accounts.set_active(engine, actor=Actor.cli(), username=args.name, active=active)
    if not changed:
        print(MSG_UNCHANGED.format(username=args.name, state="启用" if active else "停用"))
    else:
        print((MSG_ENABLED if active else MSG_DISABLED).format(username=args.name))
    return 0


def cmd_disable(args: argparse.Namespace) -> int:
    return _set_active(args, active=False)


def cmd_enable(args: argparse.Namespace) -> int:
    return _set_active(args, active=True)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``users`` and its subcommands to the top-level parser."""
    users = subparsers.add_parser(
        "users",
        help="管理用户账号（新增、列出、改密码、停用/启用）",
        description=(
            "管理登录账号。命令行以服务器操作员（管理员）身份执行，每次修改都记入操作日志，"
            "来源记为命令行。密码不会显示，也不会写入日志。"
        ),
    )
    sub = users.add_subparsers(dest="users_command", metavar="SUBCOMMAND", required=True)

    add = sub.add_parser(
        "add",
        help="新增用户",
        description="新增用户。评委账号须用 --judge 关联评委（姓名或编号）。",
    )
    add.add_argument("name", metavar="NAME", help="用户名")
    add.add_argument(
        "--role",
        required=True,
        choices=[r.value for r in Role],
        help="角色：" + "，".join(f"{r.value}={ROLE_LABELS[r]}" for r in Role),
    )
    add.add_argument("--judge", metavar="JUDGE_NAME", help="评委账号关联的评委（姓名或编号）")
    add.add_argument("--display-name", metavar="TEXT", help="显示名称（默认与用户名相同）")
    add.add_argument(
        "--password-stdin", action="store_true", help="从标准输入的第一行读取密码（供脚本使用）"
    )
    add.set_defaults(handler=cmd_add)

    listing = sub.add_parser("list", help="列出所有用户")
    listing.set_defaults(handler=cmd_list)

    passwd = sub.add_parser(
        "passwd", help="修改（重置）用户密码", description="修改用户密码，并让其现有登录全部退出。"
    )
    passwd.add_argument("name", metavar="NAME", help="用户名")
    passwd.add_argument(
        "--password-stdin", action="store_true", help="从标准输入的第一行读取密码（供脚本使用）"
    )
    passwd.set_defaults(handler=cmd_passwd)

    disable = sub.add_parser(
        "disable",
        help="停用用户",
        description="停用用户：其现有登录立即退出、不能再登录；不能停用最后一个管理员。",
    )
    disable.add_argument("name", metavar="NAME", help="用户名")
    disable.set_defaults(handler=cmd_disable)

    enable = sub.add_parser("enable", help="重新启用已停用的用户")
    enable.add_argument("name", metavar="NAME", help="用户名")
    enable.set_defaults(handler=cmd_enable)
