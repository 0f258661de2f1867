"""Rank brands and grade them.

Ranking is standard competition ranking (1, 2, 2, 4) on totals rounded to 2 decimals,
as the meeting table shows them: two brands that print the same total share a rank
unless the round names tie-break criteria, compared in order, higher first. Brands
without a total (nobody completed a sheet) get no rank and no grade. Grades come from
the round's bands, then its veto rules and quotas, which say when they changed one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import pandas as pd

from evalcore.rubric import DEFAULT_GRADE_BANDS, FAIL_GRADE, GradeBand, RoundSettings, Rubric
from evalcore.scoring import Aggregation

DECIMALS = 2


Frame = TypeVar("Frame", pd.Series, pd.DataFrame)


def round_half_up(values: Frame, decimals: int = DECIMALS) -> Frame:
    """四舍五入, as the meeting table prints it: 14.125 -> 14.13 (pandas rounds half to
    even, 14.12). The tiny epsilon absorbs binary noise (2.675 is stored as 2.67499...),
    which matters because averages of half points end in .x25 and .x75 all the time."""
    factor = 10.0**decimals
    return np.sign(values) * np.floor(np.abs(values) * factor + 0.5 + 1e-9) / factor


def competition_rank(frame: pd.DataFrame, keys: Sequence[str]) -> pd.Series:
    """Rank rows by ``keys`` (all descending, rounded to 2 decimals); NaN first key: no rank.

    Equal key tuples share the smallest rank; the next distinct tuple skips ahead
    (1, 2, 2, 4). Independent of row order.
    """
    rounded = round_half_up(frame[list(keys)].astype("float64"))
    ranked = rounded[rounded[keys[0]].notna()]
    if ranked.empty:
        return pd.Series(pd.NA, index=frame.index, dtype="Int64")
    order = ranked.sort_values(list(keys), ascending=False, na_position="last", kind="stable")
    as_keys = order.fillna(-np.inf)
    new_group = as_keys.ne(as_keys.shift()).any(axis=1).to_numpy()
    position = np.arange(1, len(order) + 1)
    ranks = pd.Series(np.where(new_group, position, np.nan), index=order.index).ffill()
    return ranks.reindex(frame.index).astype("Int64")


def grade(totals: pd.Series, bands: Sequence[GradeBand] = DEFAULT_GRADE_BANDS) -> pd.Series:
    """Map totals (rounded to 2 decimals) to grade labels; NaN totals get no grade."""
    rounded = round_half_up(totals.astype("float64"))
    conditions = [rounded >= band.min_total for band in bands]
    labels = np.select(conditions, [band.label for band in bands], default=FAIL_GRADE)
    return pd.Series(labels, index=totals.index, dtype="object").where(rounded.notna(), None)


def final_grades(table: pd.DataFrame, settings: RoundSettings, rubric: Rubric) -> pd.DataFrame:
    """Grades after the round's veto rules and quotas, with a note where they changed one.

    ``table`` has ``total``, ``rank`` and the criterion columns. Vetoes apply first (a
    vetoed brand does not use up a quota); quotas then go from the best grade down:
    brands beyond the quota, by rank, drop one grade. A tie at the quota's edge is never
    split: "at most" means the tied brands all move down.
    Returns columns ``grade_by_score``, ``grade`` and ``grade_note``.
    """
    labels = settings.grade_labels
    level_of = {label: i for i, label in enumerate(labels)}
    by_score = grade(table["total"], settings.grade_bands)
    level = by_score.map(level_of).astype("Float64")
    notes = pd.Series("", index=table.index, dtype="object")
    maxima = rubric.criterion_max()
    names = rubric.criterion_labels()
    for veto in settings.vetoes:
        floor = veto.min_share * maxima[veto.criterion]
        cap = level_of[veto.max_grade]
        hit = (round_half_up(table[veto.criterion].astype("float64")) < floor) & (level < cap)
        hit = hit.fillna(False).astype(bool)
        level[hit] = cap
        notes[hit] += (
            f"{names[veto.criterion]}得分低于满分的{veto.min_share:.0%}，等次上限为{veto.max_grade}；"
        )
    n_ranked = int(table["rank"].notna().sum())
    for quota in sorted(settings.quotas, key=lambda q: level_of[q.label]):
        here = level_of[quota.label]
        allowed = int(np.floor(quota.max_share * n_ranked + 1e-9))
        holders = table.loc[(level == here).fillna(False).astype(bool), "rank"].sort_values()
        if len(holders) <= allowed:
            continue
        keep = holders < holders.iloc[allowed]
        demoted = holders.index[~keep.to_numpy()]
        level[demoted] = here + 1
        share = f"{quota.max_share:.0%}"
        notes[demoted] += (
            f"超出{quota.label}名额（{share}），由{quota.label}调整为{labels[here + 1]}；"
        )
    final = level.map(lambda i: None if pd.isna(i) else labels[int(i)]).astype("object")
    return pd.DataFrame(
        {
            "grade_by_score": by_score,
            "grade": final.where(by_score.notna(), None),
            "grade_note": notes.str.rstrip("；"),
        }
    )


def rank_aggregation(agg: Aggregation, settings: RoundSettings, rubric: Rubric) -> pd.DataFrame:
    """Scores, rank and final grade per brand_id, ordered by rank (unranked last)."""
    table = pd.concat([agg.criteria, agg.summary], axis=1)
    keys = ["total", *settings.tie_break]
    table["rank"] = competition_rank(table, keys)
    table = table.join(final_grades(table, settings, rubric))
    return table.sort_values(["rank"], na_position="last", kind="stable")


def ranking_table(
    agg: Aggregation,
    settings: RoundSettings,
    rubric: Rubric,
    brands: pd.DataFrame,
    judge_names: pd.Series | None = None,
) -> pd.DataFrame:
    """The meeting table: one row per brand with its metadata, scores, rank and grade.

    ``brands`` is indexed by brand_id with columns brand_code, brand, branch, unit,
    category. ``judge_names`` maps judge_id -> name for the dropped-judge columns.
    Totals and criterion scores are rounded to 2 decimals, as printed.
    """
    ranked = rank_aggregation(agg, settings, rubric)
    criteria = [c.code for c in rubric.criteria]
    table = brands.reindex(ranked.index).join(ranked)
    for col in [*criteria, "bonus", "total"]:
        table[col] = round_half_up(table[col].astype("float64"))
    names = judge_names if judge_names is not None else pd.Series(dtype="object")
    for side in ("high", "low"):
        ids = table[f"dropped_{side}"]
        table[f"dropped_{side}_name"] = ids.map(names).where(ids.notna(), None)
    table = table.reset_index().sort_values(["rank", "brand_code"], na_position="last")
    return table.reset_index(drop=True)
