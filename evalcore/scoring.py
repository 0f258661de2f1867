"""Aggregate judges' scores into one score per brand, keeping every step auditable.

The input is a long table, one row per (brand, judge, item). A judge's scores for a
brand count only when the sheet is complete: every criterion item has a value (bonus
items left blank mean "no bonus", i.e. 0). Then, per brand:

* ``mean``    - average of the judges' scores per item;
* ``median``  - median per item;
* ``trimmed`` - rank the judges by their total for the brand, drop exactly one highest
  and one lowest (even when tied; ties broken by judge id so the result does not depend
  on row order), average the rest per item. Only when at least ``trim_min_judges``
  judges completed the brand; below that a plain mean, and ``method_used`` says so.

Criterion score = sum of its items; bonus = sum of bonus items capped at the rubric's
cap; total = criteria + bonus. :class:`Aggregation` keeps per-judge totals, who was
dropped and who counted, so a meeting table can be checked by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evalcore.errors import InvalidInput
from evalcore.rubric import BONUS, METHODS, RoundSettings, Rubric

SCORE_COLUMNS = ("brand_id", "judge_id", "item", "value")
#: Float noise (4.1 + 2.2 ...) must not decide who is dropped: compare totals at this precision.
_TOTAL_DECIMALS = 6


@dataclass(frozen=True)
class Aggregation:
    """The result of aggregating one round's scores, with the intermediate tables.

    ``items``    brand_id x item code: the aggregated item scores.
    ``criteria`` brand_id x criterion code: criterion scores (sum of items).
    ``summary``  per brand_id: bonus, total, judges_scored, judges_complete,
                 judges_counted, method_used, dropped_high, dropped_low, under_scored.
    ``judges``   per (brand_id, judge_id): total, complete, counted, dropped
                 ("high", "low" or "").
    """

    method: str
    items: pd.DataFrame
    criteria: pd.DataFrame
    summary: pd.DataFrame
    judges: pd.DataFrame


def aggregate(
    scores: pd.DataFrame,
    rubric: Rubric,
    settings: RoundSettings,
    *,
    brand_ids: Iterable[int] | None = None,
    method: str | None = None,
) -> Aggregation:
    """Validate the inputs, then aggregate with ``method`` (default: the round's).

    ``brand_ids`` lists every brand in the round so that brands nobody scored still
    appear (with NaN scores); without it, only brands present in ``scores`` do.
    Scores for items not in the rubric are ignored (a rubric edited after import).
    """
    method = method or settings.method
    if method not in METHODS:
        raise InvalidInput(f"未知的汇总方法：{method}，可选 {'、'.join(METHODS)}", method=method)
    missing = [c for c in SCORE_COLUMNS if c not in scores.columns]
    if missing:
        raise InvalidInput(f"评分数据缺少列：{'、'.join(missing)}", columns=missing)
    frame = scores.loc[scores["item"].isin(rubric.item_codes), list(SCORE_COLUMNS)]
    dupes = frame.duplicated(["brand_id", "judge_id", "item"])
    if dupes.any():
        first = frame[dupes].iloc[0]
        raise InvalidInput(
            "同一评委对同一品牌的同一指标有重复评分"
            f"（品牌 {first.brand_id}，评委 {first.judge_id}，指标 {first.item}）",
            count=int(dupes.sum()),
        )
    values = pd.to_numeric(frame["value"], errors="coerce")
    not_numbers = frame["value"][values.isna() & frame["value"].notna()]
    if not not_numbers.empty:
        raise InvalidInput(f"评分不是数字：{not_numbers.iloc[0]!r}")
    frame = frame.assign(value=values.astype("float64"))
    all_brands = (
        pd.Index(sorted(set(brand_ids)), name="brand_id")
        if brand_ids is not None
        else pd.Index(sorted(frame["brand_id"].unique()), name="brand_id")
    )
    return _aggregate(frame, rubric, settings, method, all_brands)


def _aggregate(
    scores: pd.DataFrame,
    rubric: Rubric,
    settings: RoundSettings,
    method: str,
    brands: pd.Index,
) -> Aggregation:
    """The kernel: no validation, vectorised over all brands at once."""
    crit_items = rubric.criterion_item_codes
    bonus_items = rubric.bonus_item_codes

    wide = (
        scores.dropna(subset=["value"])
        .set_index(["brand_id", "judge_id", "item"])["value"]
        .unstack("item")
        .reindex(columns=rubric.item_codes)
    )
    wide = wide[wide.index.get_level_values("brand_id").isin(brands)]
    bonus_filled = wide[bonus_items].fillna(0.0)
    wide_filled = pd.concat([wide[crit_items], bonus_filled], axis=1)

    complete = wide[crit_items].notna().all(axis=1)
    judge_total = wide[crit_items].sum(axis=1) + bonus_filled.sum(axis=1).clip(
        upper=rubric.effective_bonus_cap
    )
    judges = pd.DataFrame({"total": judge_total.round(_TOTAL_DECIMALS), "complete": complete})

    # Order each brand's complete judges by (total, judge_id): first is lowest, last highest.
    done = judges[judges["complete"]].reset_index().sort_values(["brand_id", "total", "judge_id"])
    position = done.groupby("brand_id").cumcount()
    n_complete = done.groupby("brand_id")["judge_id"].transform("size")
    trims = (n_complete >= settings.trim_min_judges) & (method == "trimmed")
    done["dropped"] = np.select(
        [trims & (position == 0), trims & (position == n_complete - 1)], ["low", "high"], ""
    )
    done = done.set_index(["brand_id", "judge_id"])
    judges["dropped"] = done["dropped"].reindex(judges.index).fillna("")
    judges["counted"] = judges["complete"] & (judges["dropped"] == "")

    counted = wide_filled[judges["counted"]]
    grouped = counted.groupby(level="brand_id")
    items = grouped.median() if method == "median" else grouped.mean()
    items = items.reindex(index=brands, columns=rubric.item_codes)

    rolled = criterion_group_sums(items, rubric)
    criteria = rolled.drop(columns=BONUS)
    has_scores = items[crit_items].notna().all(axis=1)
    summary = pd.DataFrame(index=brands)
    summary["bonus"] = rolled[BONUS].where(has_scores)
    summary["total"] = (criteria.sum(axis=1) + rolled[BONUS]).where(has_scores)

    per_brand = judges.groupby(level="brand_id")
    summary["judges_scored"] = per_brand.size().reindex(brands, fill_value=0).astype(int)
    summary["judges_complete"] = (
        per_brand["complete"].sum().reindex(brands, fill_value=0).astype(int)
    )
    summary["judges_counted"] = per_brand["counted"].sum().reindex(brands, fill_value=0).astype(int)
    trimmed_brands = done.loc[done["dropped"] != ""].reset_index()
    for side in ("high", "low"):
        who = trimmed_brands.loc[trimmed_brands["dropped"] == side].set_index("brand_id")
        summary[f"dropped_{side}"] = who["judge_id"].reindex(brands).astype("Int64")
    if method == "trimmed":
        summary["method_used"] = np.where(summary["dropped_high"].notna(), "trimmed", "mean")
    else:
        summary["method_used"] = method
    summary["under_scored"] = summary["judges_complete"] < settings.min_judges
    return Aggregation(
        method=method, items=items, criteria=criteria, summary=summary, judges=judges
    )


def criterion_group_sums(values: pd.DataFrame, rubric: Rubric) -> pd.DataFrame:
    """Sum item columns into criterion columns plus a capped ``bonus`` column.

    The one roll-up rule, shared by the aggregation and per-judge tables. A criterion
    with no item values is NaN; missing bonus items count as 0.
    """
    group_of = rubric.item_group()
    cols = [c for c in values.columns if c in group_of]
    sums = values[cols].T.groupby(lambda code: group_of[code], sort=False).sum(min_count=1).T
    out = sums.reindex(columns=[c.code for c in rubric.criteria])
    if BONUS in sums.columns:
        out[BONUS] = sums[BONUS].fillna(0.0).clip(upper=rubric.effective_bonus_cap)
    else:
        out[BONUS] = 0.0
    return out
