"""Exports: score-sheet templates and result reports, as bytes ready to save or download.

Each function reads what it needs in one transaction, then hands plain tables to the
pure writers in :mod:`evalcore.excel`. Nothing here writes to the database.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import Engine

from evalcore.db import transaction
from evalcore.errors import Conflict, InvalidInput, NotFound
from evalcore.excel.report import ReportData, write_csv, write_report
from evalcore.excel.template import TemplateData, write_template
from evalcore.permissions import Action, Actor, Role, require
from evalcore.rubric import RoundSettings, Rubric
from evalcore.services.results import RoundResults, round_results
from evalcore.store import (
    assigned_pairs,
    get_round,
    read_brands,
    read_judges,
    read_scores,
    read_sheets,
)

#: What every .xlsx we hand out is served as (downloads of templates, reports, exports).
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def score_template(
    engine: Engine,
    *,
    actor: Actor,
    round_code: str,
    judge: str | int | None = None,
    prefill: bool = False,
) -> bytes:
    """The 评分表 workbook of a round: every judge of the panel, or one (name or code).

    Each judge gets the brands assigned to them (never those they are recused from).
    With ``prefill``, scores and comments already stored are filled in, so the file also
    serves as a judge's current state. Admins may download any judge's sheet; a judge
    only their own (judging is blind, so never prefilled with anyone else's scores).
    """
    if actor.role is Role.JUDGE and actor.judge_id is not None:
        require(actor, Action.SCORE)
        judge = actor.judge_id
    else:
        require(actor, Action.IMPORT_SCORES)
    return write_template(
        template_data(engine, round_code=round_code, judge=judge, prefill=prefill)
    )


def template_data(
    engine: Engine, *, round_code: str, judge: str | int | None = None, prefill: bool = False
) -> TemplateData:
    """What :func:`score_template` draws, read in one transaction."""
    with transaction(engine) as session:
        rnd = get_round(session, round_code)
        assert rnd.id is not None
        conn = session.connection()
        brands = read_brands(conn, rnd.id)
        judges = read_judges(conn, rnd.id)
        pairs = assigned_pairs(conn, rnd.id)
        if judge is not None:
            judges = _pick_judge(judges, judge, round_code)
        scores = read_scores(conn, rnd.id) if prefill else None
        comments = read_sheets(conn, rnd.id) if prefill else None
        name, rubric_data, settings_data = rnd.name, rnd.rubric, rnd.settings
    if judges.empty:
        raise Conflict(f"轮次 {round_code} 还没有评委，请先设置评委名单", round=round_code)
    if brands.empty:
        raise Conflict(f"轮次 {round_code} 还没有参评品牌，请先添加品牌", round=round_code)
    if scores is not None and judge is not None:
        scores = scores[scores["judge_id"].isin(judges.index)]
    return TemplateData(
        round_code=round_code,
        round_name=name,
        rubric=Rubric.from_dict(rubric_data),
        settings=RoundSettings.from_dict(settings_data),
        brands=brands,
        judges=judges,
        pairs=pairs[pairs["judge_id"].isin(judges.index)],
        scores=scores,
        comments=comments,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def _pick_judge(judges: pd.DataFrame, wanted: str | int, round_code: str) -> pd.DataFrame:
    """The panel row whose id, name or code is ``wanted`` (exact, then case-insensitive)."""
    if isinstance(wanted, int):
        if wanted not in judges.index:
            raise NotFound(f"您不在轮次 {round_code} 的评委名单中", judge=wanted)
        return judges.loc[[wanted]]
    key = wanted.strip()
    hit = judges[(judges["judge"] == key) | (judges["judge_code"] == key)]
    if hit.empty:
        folded = key.casefold()
        hit = judges[
            (judges["judge"].str.casefold() == folded)
            | (judges["judge_code"].str.casefold() == folded)
        ]
    if hit.empty:
        panel = "、".join(
            f"{n}（{c}）" for c, n in zip(judges["judge_code"], judges["judge"], strict=True)
        )
        hint = f"，本轮评委：{panel}" if panel else "，本轮还没有评委"
        raise NotFound(f"轮次 {round_code} 的评委中没有“{key}”{hint}", judge=key)
    return hit.iloc[:1]


def report_data(results: RoundResults, comments: pd.DataFrame | None = None) -> ReportData:
    """What a report shows, from computed results and the sheets' comments."""
    return ReportData(
        round_code=results.round.code,
        round_name=results.round.name,
        status_label=results.round.status_label,
        rubric=results.rubric,
        settings=results.settings,
        method=results.method,
        table=results.table,
        items=results.aggregation.items,
        judge_rows=results.aggregation.judges,
        scores=results.scores,
        judges=results.judges,
        brands=results.brands,
        comments=comments,
    )


def results_workbook(
    engine: Engine,
    *,
    actor: Actor,
    round_code: str,
    method: str | None = None,
    results: RoundResults | None = None,
) -> bytes:
    """The formatted results workbook (排名, 分项得分, 评委明细, 公示名单, chart).

    A page that already holds the round's ``results`` (cached per revision) passes
    them in: only the comments are read then, and the aggregation is not redone.
    """
    results = _results(engine, actor, round_code, method, results)
    # The workbook lists every judge's raw scores and comments (评委明细).
    require(actor, Action.VIEW_JUDGE_SCORES, results.round.status)
    with transaction(engine) as session:
        comments = read_sheets(session.connection(), results.round.id)
    return write_report(report_data(results, comments))


def results_csv(
    engine: Engine,
    *,
    actor: Actor,
    round_code: str,
    method: str | None = None,
    results: RoundResults | None = None,
) -> bytes:
    """The 排名 table as CSV (UTF-8 with BOM, so Excel shows the Chinese correctly)."""
    return write_csv(report_data(_results(engine, actor, round_code, method, results)))


def _results(
    engine: Engine,
    actor: Actor,
    round_code: str,
    method: str | None,
    results: RoundResults | None,
) -> RoundResults:
    if results is None:
        return round_results(engine, actor=actor, round_code=round_code, method=method)
    require(actor, Action.VIEW_RESULTS, results.round.status)
    if results.round.code != round_code or (method is not None and results.method != method):
        raise InvalidInput(
            f"传入的结果属于轮次 {results.round.code}（{results.method}），"
            f"与要导出的轮次 {round_code}（{method or results.method}）不符"
        )
    return results
