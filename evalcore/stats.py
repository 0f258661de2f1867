"""Descriptive statistics over aggregated results: shares of maximum, peers, progress.

Pure pandas, no I/O; the services feed it and the charts draw what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from evalcore.rubric import Rubric
from evalcore.scoring import Aggregation, criterion_group_sums


def percent_of_max(criteria: pd.DataFrame, rubric: Rubric) -> pd.DataFrame:
    """Criterion scores as a percentage of each criterion's maximum (0-100)."""
    maxima = pd.Series(rubric.criterion_max())
    cols = [c for c in criteria.columns if c in maxima.index]
    return criteria[cols].astype("float64").div(maxima[cols]) * 100


def peer_profile(table: pd.DataFrame, rubric: Rubric, brand_id: int) -> pd.DataFrame:
    """One brand's criteria (% of max) beside the round median and its unit's median.

    ``table`` is a ranking table (one row per brand with ``brand_id``, ``unit`` and the
    criterion columns). Rows: criterion codes; columns: brand, round_median, unit_median.
    """
    codes = [c.code for c in rubric.criteria]
    pct = percent_of_max(table.set_index("brand_id")[codes], rubric)
    unit = table.set_index("brand_id").loc[brand_id, "unit"]
    same_unit = table.set_index("brand_id")["unit"] == unit
    return pd.DataFrame(
        {
            "brand": pct.loc[brand_id],
            "round_median": pct.median(),
            "unit_median": pct[same_unit].median(),
        }
    )


@dataclass(frozen=True)
class Progress:
    """How far scoring has come: sheets expected (judge x brand, not recused) vs complete."""

    expected: int
    complete: int
    started: int

    @property
    def percent(self) -> float:
        return 100.0 * self.complete / self.expected if self.expected else 0.0


def progress(agg: Aggregation, expected: pd.DataFrame) -> Progress:
    """Completion of a round: ``expected`` (brand_id, judge_id) pairs vs complete sheets."""
    sheets = agg.judges.reset_index().merge(expected, on=["brand_id", "judge_id"])
    return Progress(
        expected=len(expected), complete=int(sheets["complete"].sum()), started=len(sheets)
    )


def judge_breakdown(
    scores: pd.DataFrame, agg: Aggregation, rubric: Rubric, brand_id: int
) -> pd.DataFrame:
    """Per-judge criterion sums, bonus and total for one brand, with dropped/counted flags."""
    mine = scores[scores["brand_id"] == brand_id]
    wide = mine.pivot_table(index="judge_id", columns="item", values="value", aggfunc="first")
    wide = wide.reindex(columns=rubric.item_codes)
    flags = agg.judges.xs(brand_id, level="brand_id")
    return criterion_group_sums(wide, rubric).join(flags, how="left")
