"""Reading results: rounds, the ranking of a round, one brand in detail."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine

from evalcore import stats
from evalcore.db import transaction
from evalcore.errors import NotFound
from evalcore.models import Round, RoundStatus
from evalcore.permissions import Action, Actor, require
from evalcore.ranking import ranking_table
from evalcore.rubric import RoundSettings, Rubric
from evalcore.scoring import Aggregation, aggregate
from evalcore.store import (
    assigned_pairs,
    get_round,
    read_brands,
    read_judges,
    read_scores,
    read_sheets,
)
from evalcore.store import list_rounds as _list_rounds


@dataclass(frozen=True)
class RoundInfo:
    """What the UI needs to pick and label a round; ``revision`` keys caches."""

    id: int
    code: str
    name: str
    status: str
    revision: int

    @property
    def status_label(self) -> str:
        return RoundStatus(self.status).label

    @classmethod
    def of(cls, rnd: Round) -> RoundInfo:
        assert rnd.id is not None
        return cls(rnd.id, rnd.code, rnd.name, rnd.status, rnd.revision)


@dataclass(frozen=True)
class RoundResults:
    """A round aggregated and ranked, with everything needed to audit and draw it.

    ``table`` is the meeting table (see :func:`evalcore.ranking.ranking_table`);
    ``scores`` the raw long table; ``aggregation`` the intermediate steps.
    """

    round: RoundInfo
    rubric: Rubric
    settings: RoundSettings
    method: str
    aggregation: Aggregation
    table: pd.DataFrame
    brands: pd.DataFrame
    judges: pd.DataFrame
    scores: pd.DataFrame
    progress: stats.Progress

    @property
    def scored(self) -> pd.DataFrame:
        """Rows of ``table`` that have a total."""
        return self.table[self.table["total"].notna()]


@dataclass(frozen=True)
class RoundProgress:
    """Counts only: brands, judges and completed sheets of a round."""

    round: RoundInfo
    brands: int
    judges: int
    progress: stats.Progress


@dataclass(frozen=True)
class BrandDetail:
    """One brand: its row in the ranking, peers, every judge's scores and comments."""

    row: pd.Series
    profile: pd.DataFrame  # criterion -> brand / round_median / unit_median (% of max)
    judges: pd.DataFrame  # per judge: criteria, bonus, total, complete, dropped, counted, name
    comments: pd.DataFrame  # judge, comment
    rubric: Rubric


def list_rounds(engine: Engine) -> list[RoundInfo]:
    """All rounds, newest code first (names and states are not secret to any user)."""
    with transaction(engine) as session:
        return [RoundInfo.of(r) for r in _list_rounds(session)]


def round_info(engine: Engine, *, round_code: str) -> RoundInfo:
    """One round's identity and revision (cheap: the cache key for results)."""
    with transaction(engine) as session:
        return RoundInfo.of(get_round(session, round_code))


@dataclass(frozen=True)
class _RoundData:
    """Everything one round's results are computed from, read in one transaction."""

    info: RoundInfo
    rubric: Rubric
    settings: RoundSettings
    scores: pd.DataFrame
    brands: pd.DataFrame
    judges: pd.DataFrame
    expected: pd.DataFrame


def _read_round(engine: Engine, actor: Actor, action: Action, round_code: str) -> _RoundData:
    with transaction(engine) as session:
        rnd = get_round(session, round_code)
        require(actor, action, rnd.status)
        info = RoundInfo.of(rnd)
        conn = session.connection()
        return _RoundData(
            info=info,
            rubric=Rubric.from_dict(rnd.rubric),
            settings=RoundSettings.from_dict(rnd.settings),
            scores=read_scores(conn, info.id),
            brands=read_brands(conn, info.id),
            judges=read_judges(conn, info.id),
            expected=assigned_pairs(conn, info.id),
        )


def round_results(
    engine: Engine, *, actor: Actor, round_code: str, method: str | None = None
) -> RoundResults:
    """Aggregate and rank a round: a few SQL reads, then pure pandas.

    Admins see results at any time; viewers and judges once the round is published.
    """
    data = _read_round(engine, actor, Action.VIEW_RESULTS, round_code)
    agg = aggregate(
        data.scores, data.rubric, data.settings, brand_ids=data.brands.index, method=method
    )
    table = ranking_table(agg, data.settings, data.rubric, data.brands, data.judges["judge"])
    return RoundResults(
        round=data.info,
        rubric=data.rubric,
        settings=data.settings,
        method=agg.method,
        aggregation=agg,
        table=table,
        brands=data.brands,
        judges=data.judges,
        scores=data.scores,
        progress=stats.progress(agg, data.expected),
    )


def round_progress(engine: Engine, *, actor: Actor, round_code: str) -> RoundProgress:
    """How far scoring has come, without any score: what viewers see before publication."""
    data = _read_round(engine, actor, Action.VIEW_PROGRESS, round_code)
    agg = aggregate(data.scores, data.rubric, data.settings, brand_ids=data.brands.index)
    return RoundProgress(
        round=data.info,
        brands=len(data.brands),
        judges=len(data.judges),
        progress=stats.progress(agg, data.expected),
    )


def brand_detail(
    results: RoundResults, engine: Engine, *, actor: Actor, brand_code: str
) -> BrandDetail:
    """Drill into one brand of already computed results (reads only its comments).

    Every judge's scores and comments are shown: admins always, viewers once published,
    judges never (judging is blind).
    """
    require(actor, Action.VIEW_JUDGE_SCORES, results.round.status)
    rows = results.table[results.table["brand_code"] == brand_code]
    if rows.empty:
        raise NotFound(
            f"轮次 {results.round.code} 中没有编号为 {brand_code} 的品牌", brand=brand_code
        )
    row = rows.iloc[0]
    brand_id = int(row["brand_id"])
    with transaction(engine) as session:
        sheets = read_sheets(session.connection(), results.round.id, brand_id)
    names = results.judges["judge"]
    if brand_id in results.aggregation.judges.index.get_level_values("brand_id"):
        per_judge = stats.judge_breakdown(
            results.scores, results.aggregation, results.rubric, brand_id
        )
    else:
        per_judge = pd.DataFrame(columns=["total", "complete", "dropped", "counted"])
    per_judge.insert(0, "judge", per_judge.index.map(names))
    comments = sheets[sheets["comment"].fillna("").str.strip() != ""]
    comments = pd.DataFrame(
        {"judge": comments["judge_id"].map(names), "comment": comments["comment"]}
    ).sort_values("judge")
    profile = (
        stats.peer_profile(results.scored, results.rubric, brand_id)
        if pd.notna(row["total"])
        else pd.DataFrame()
    )
    return BrandDetail(
        row=row, profile=profile, judges=per_judge, comments=comments, rubric=results.rubric
    )
