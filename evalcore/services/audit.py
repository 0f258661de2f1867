"""The audit trail: every change recorded once, in the transaction that makes it.

Service functions call :func:`record` inside their own ``with transaction(...)`` so the
change and its audit row commit (or roll back) together. Rows are never edited or
deleted; database triggers refuse it (migration 0003), and ``tests/test_audit.py``
scans the code for any statement that would try.

Reading is for admins only: :func:`list_events` filters the trail,
:func:`audit_view` labels it in Chinese and :func:`audit_workbook` exports it to Excel.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from evalcore.db import transaction
from evalcore.errors import InvalidInput
from evalcore.excel.cells import BookWriter, TextFormat, write_header
from evalcore.lifecycle import MOVE_LABELS, ROUND_STATUS_LABELS
from evalcore.models import AuditEvent, utcnow
from evalcore.permissions import Action, Actor, Role, require

AUDIT_COLUMNS = [
    "id",
    "at",
    "actor",
    "role",
    "source",
    "action",
    "entity",
    "entity_key",
    "round_code",
    "old",
    "new",
    "reason",
]


def record(
    session: Session,
    actor: Actor,
    *,
    action: str,
    entity: str,
    key: str = "",
    round_code: str | None = None,
    old: Any = None,
    new: Any = None,
    reason: str | None = None,
    source: str | None = None,
) -> None:
    """Append one audit row within the caller's transaction."""
    session.add(
        AuditEvent(
            at=utcnow(),
            actor=actor.username,
            role=actor.role.value,
            source=source or actor.source,
            action=action,
            entity=entity,
            entity_key=key,
            round_code=round_code,
            old=old,
            new=new,
            reason=reason or None,
        )
    )


def list_events(
    engine: Engine,
    *,
    actor: Actor,
    round_code: str | None = None,
    entity: str | None = None,
    who: str | None = None,
    action: str | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Audit rows, newest first, filtered; admins only.

    ``since`` / ``until`` are inclusive. A plain date means that whole day in the
    display time zone (:func:`display_tz`), so "from 1 to 3 March" covers all of the
    3rd as the admin reads it; a datetime without a zone is taken as UTC.
    """
    require(actor, Action.VIEW_AUDIT)
    stmt = select(AuditEvent).order_by(col(AuditEvent.id).desc())
    if round_code:
        stmt = stmt.where(AuditEvent.round_code == round_code)
    if entity:
        stmt = stmt.where(AuditEvent.entity == entity)
    if who:
        stmt = stmt.where(AuditEvent.actor == who)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= _utc_bound(since, end=False))
    if until is not None:
        stmt = stmt.where(AuditEvent.at < _utc_bound(until, end=True))
    if limit:
        stmt = stmt.limit(limit)
    with transaction(engine) as session:
        rows = [e.model_dump() for e in session.exec(stmt).all()]
    frame = pd.DataFrame(rows, columns=AUDIT_COLUMNS)
    frame["at"] = _as_utc(frame["at"])
    return frame


# -- time zones -------------------------------------------------------------------------------
TIMEZONE_ENV = "EVALCORE_TIMEZONE"
DEFAULT_TIMEZONE = "Asia/Shanghai"


def display_tz() -> ZoneInfo:
    """Where the admins are: times are stored in UTC and shown in this zone."""
    name = os.environ.get(TIMEZONE_ENV) or DEFAULT_TIMEZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(
            f"时区 {name} 无效（环境变量 {TIMEZONE_ENV}），请使用如 Asia/Shanghai 的时区名称"
        ) from exc


def _utc_bound(value: date | datetime, *, end: bool) -> datetime:
    """A filter bound in UTC; an end date is exclusive from the next day's midnight."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        if end:
            moment += timedelta(microseconds=1)  # "until" is inclusive
    else:
        day = value + timedelta(days=1) if end else value
        moment = datetime.combine(day, time.min, tzinfo=display_tz())
    # SQLite compares the stored text, written in UTC without a zone: so must the bound.
    return moment.astimezone(UTC).replace(tzinfo=None)


def local_times(values: pd.Series) -> pd.Series:
    """Stored (UTC) timestamps as naive wall-clock times in :func:`display_tz`."""
    return _as_utc(values).dt.tz_convert(display_tz()).dt.tz_localize(None)


def _as_utc(values: pd.Series) -> pd.Series:
    """SQLite hands timestamps back without a zone (they were written in UTC)."""
    stamps = pd.to_datetime(values)
    if stamps.dt.tz is None:
        return stamps.dt.tz_localize(UTC)
    return stamps.dt.tz_convert(UTC)


# -- filters and labels -----------------------------------------------------------------------
@dataclass(frozen=True)
class AuditFacets:
    """The values the audit page's filters offer: only what the trail actually holds."""

    rounds: list[str]
    entities: list[str]
    actors: list[str]
    first: date | None
    last: date | None


def audit_facets(engine: Engine, *, actor: Actor) -> AuditFacets:
    """Distinct rounds, entities and users in the trail, and its first and last day."""
    require(actor, Action.VIEW_AUDIT)
    with transaction(engine) as session:

        def distinct(column: Any) -> list[str]:
            found = session.exec(select(column).where(column.is_not(None)).distinct()).all()
            return sorted(str(v) for v in found)

        rounds = distinct(AuditEvent.round_code)
        entities = distinct(AuditEvent.entity)
        actors = distinct(AuditEvent.actor)
        first, last = session.exec(select(func.min(AuditEvent.at), func.max(AuditEvent.at))).one()
    tz = display_tz()

    def day(moment: datetime | None) -> date | None:
        if moment is None:
            return None
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(tz).date()

    return AuditFacets(
        rounds=sorted(rounds, reverse=True),
        entities=sorted(entities, key=lambda e: (e not in ENTITY_LABELS, e)),
        actors=actors,
        first=day(first),
        last=day(last),
    )


#: Chinese names of what was changed; an entity not listed shows its code.
ENTITY_LABELS: dict[str, str] = {
    "round": "轮次",
    "settings": "轮次设置",
    "rubric": "评分细则",
    "score": "评分",
    "sheet": "评分表",
    "import": "评分导入",
    "assignment": "评委分配",
    "conflict": "回避申报",
    "user": "用户",
    "unit": "上级党组织",
    "branch": "党支部",
    "brand": "品牌",
    "judge": "评委",
    "roster": "名单",
}
#: Chinese names of actions; an action not listed shows its code.
ACTION_LABELS: dict[str, str] = {
    "round.create": "新建轮次",
    "round.settings": "修改轮次设置",
    "rubric.update": "修改评分细则",
    **{f"round.{move}": label for move, label in MOVE_LABELS.items()},
    "import.commit": "导入评分",
    "import.revert": "撤销导入",
    "user.create": "新建用户",
    "user.password": "修改密码",
    "user.enable": "启用账号",
    "user.disable": "停用账号",
}
SOURCE_LABELS = {"web": "网页", "cli": "命令行"}
#: The audit table as people read it (page, Excel, CLI): column -> Chinese header.
VIEW_HEADERS: dict[str, str] = {
    "id": "编号",
    "at": "时间",
    "actor": "操作人",
    "role": "角色",
    "source": "来源",
    "action": "操作",
    "entity": "对象",
    "entity_key": "对象标识",
    "round_code": "轮次",
    "old": "原值",
    "new": "新值",
    "reason": "原因",
}


def entity_label(entity: str) -> str:
    return ENTITY_LABELS.get(entity, entity)


def _source_label(source: str) -> str:
    if source.startswith("import:"):
        return f"导入 {source.removeprefix('import:')}"
    return SOURCE_LABELS.get(source, source)


def _role_label(role: str) -> str:
    try:
        return Role(role).label
    except ValueError:
        return role


#: Chinese names for the keys rounds, rubrics and settings record; others show as stored.
KEY_LABELS: dict[str, str] = {
    "status": "状态",
    "name": "名称",
    "copy_from": "复制自",
    "brands": "参评品牌",
    "judges": "评委",
    "assignments": "分配",
    "version": "版本",
    "bonus_cap": "加分上限",
    "criteria": "一级指标",
    "items": "指标",
    "method": "汇总方法",
    "min_judges": "最少评委人数",
    "trim_min_judges": "去掉最高最低分所需评委数",
    "grade_bands": "等次分数线",
    "tie_break": "并列比较指标",
    "quotas": "等次名额",
    "vetoes": "否决规则",
    "comment_below": "须写评语的分数线",
}


def brief(value: Any, entity: str = "") -> str:
    """An old/new value as one line of text: ``键: 值；…`` for a dict, else JSON.

    Known keys get their Chinese name and a round's status its label (other entities
    have statuses of their own, e.g. a sheet's draft); anything else is shown exactly
    as recorded, so nothing is hidden by the translation.
    """
    if value is None:
        return ""
    if isinstance(value, dict):
        return "；".join(
            f"{KEY_LABELS.get(k, k)}: {_value(k, v, entity)}" for k, v in value.items()
        )
    return _json(value)


def _value(key: str, value: Any, entity: str) -> str:
    if entity == "round" and key == "status" and value in ROUND_STATUS_LABELS:
        return ROUND_STATUS_LABELS[value]
    return _json(value)


def _json(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None or value == [] or value == {}:
        return "无"
    return json.dumps(value, ensure_ascii=False, default=str)


def audit_view(events: pd.DataFrame) -> pd.DataFrame:
    """Audit rows as people read them: local times, Chinese labels, values as text.

    Columns are :data:`VIEW_HEADERS`' values; ``时间`` is a timezone-naive local
    datetime in :func:`display_tz` (spreadsheets have no time zones).
    """
    at = local_times(events["at"])
    view = pd.DataFrame(
        {
            "id": events["id"].astype("int64"),
            "at": at,
            "actor": events["actor"],
            "role": events["role"].map(_role_label),
            "source": events["source"].map(_source_label),
            "action": events["action"].map(lambda a: ACTION_LABELS.get(a, a)),
            "entity": events["entity"].map(entity_label),
            "entity_key": events["entity_key"],
            "round_code": events["round_code"].fillna(""),
            "old": [brief(v, e) for v, e in zip(events["old"], events["entity"], strict=True)],
            "new": [brief(v, e) for v, e in zip(events["new"], events["entity"], strict=True)],
            "reason": events["reason"].fillna(""),
        },
        columns=list(VIEW_HEADERS),
    )
    return view.rename(columns=VIEW_HEADERS)


# -- Excel export -----------------------------------------------------------------------------
_WIDTHS = {"编号": 8, "时间": 20, "原值": 48, "新值": 48, "原因": 30}


def audit_workbook(engine: Engine, *, actor: Actor, **filters: Any) -> bytes:
    """The (filtered) audit trail as an .xlsx file; admins only.

    Every text cell is written as text (never a formula), formula-like text gets the
    quote-prefix style (see :mod:`evalcore.excel.cells`), and the rows go through
    :class:`~evalcore.excel.cells.SheetBody` so a long trail exports quickly.
    ``filters`` are those of :func:`list_events`.
    """
    view = audit_view(list_events(engine, actor=actor, **filters))
    book = BookWriter({"title": "操作日志", "comments": f"导出人：{actor.username}"})
    wb = book.workbook
    ws = wb.add_worksheet("操作日志")
    header = TextFormat.add(wb, {"bold": True, "bg_color": "#E8EEF7", "border": 1})
    body = TextFormat.add(wb, {"text_wrap": True, "valign": "top"})
    number = wb.add_format({"valign": "top"})
    stamp = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss", "valign": "top"})
    headers = list(view.columns)
    write_header(ws, 0, headers, header)
    for index, name in enumerate(headers):
        ws.set_column(index, index, _WIDTHS.get(name, 12))
    ws.freeze_panes(1, 0)
    if len(view):
        ws.autofilter(0, 0, len(view), len(headers) - 1)
    rows = book.body(ws, 1, len(view))
    for index, name in enumerate(headers):
        if name == "编号":
            rows.numbers(index, view[name].to_numpy(), number)
        elif name == "时间":
            rows.numbers(index, _excel_serial(view[name]), stamp)
        else:
            rows.text(index, view[name].to_numpy(dtype=object), body)
    return book.close()


_EXCEL_EPOCH = pd.Timestamp("1899-12-30")


def _excel_serial(moments: pd.Series) -> pd.Series:
    """Naive datetimes as Excel serial day numbers (what a date cell stores)."""
    return (moments - _EXCEL_EPOCH) / pd.Timedelta(days=1)
