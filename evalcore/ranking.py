"""Rank brands and grade them.

Ranking is standard competition ranking (1, 2, 2, 4) on totals rounded to 2 decimals,
as the meeting table shows them: two brands that print the same total share a rank
unless the round names tie-break criteria, compared in order, higher first. Brands
without a total (nobody completed a sheet) get no rank and no grade.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from evalcore.rubric import DEFAULT_GRADE_BANDS, FAIL_GRADE, GradeBand, RoundSettings, Rubric
from evalcore.scoring import Aggregation

DECIMALS = 2


def competition_rank(frame: pd.DataFrame, keys: Sequence[str]) -> pd.Series:
    """Rank rows by ``keys`` (all descending, rounded to 2 decimals); NaN first key: no rank.

    Equal key tuples share the smallest rank; the next distinct tuple skips ahead
    (1, 2, 2, 4). Independent of row order.
    """
    rounded = frame[list(keys)].round(DECIMALS)
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
    rounded = totals.round(DECIMALS)
    conditions = [rounded >= band.min_total for band in bands]
    labels = np.select(conditions, [band.label for band in bands], default=FAIL_GRADE)
    return pd.Series(labels, index=totals.index, dtype="object").where(rounded.notna(), None)


def rank_aggregation(agg: Aggregation, settings: RoundSettings) -> pd.DataFrame:
    """Scores, rank and grade per brand_id, ordered by rank (unranked last)."""
    table = pd.concat([agg.criteria, agg.summary], axis=1)
    keys = ["total", *settings.tie_break]
    table["rank"] = competition_rank(table, keys)
    table["grade"] = grade(table["total"], settings.grade_bands)
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
    ranked = rank_aggregation(agg, settings)
    criteria = [c.code for c in rubric.criteria]
    table = brands.reindex(ranked.index).join(ranked)
    for col in [*criteria, "bonus", "total"]:
        table[col] = table[col].astype("float64").round(DECIMALS)
    names = judge_names if judge_names is not None else pd.Series(dtype="object")
    for side in ("high", "low"):
        ids = table[f"dropped_{side}"]
        table[f"dropped_{side}_name"] = ids.map(names).where(ids.notna(), None)
    table = table.reset_index().sort_values(["rank", "brand_code"], na_position="last")
    return table.reset_index(drop=True)
