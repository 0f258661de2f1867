"""Aggregation, checked against tallies computed by hand.

Brand 1, small rubric (a1, a2 out of 10; b1 out of 5; bonus x1 <= 3, x2 <= 2, cap 4):

    judge  a1  a2  b1  x1  x2   total
      1     8   7   4   1   -   8+7+4+1          = 20
      2     9   9   5   3   2   9+9+5+min(5,4)   = 27   <- highest, dropped
      3     5   6   3   -   -   5+6+3            = 14   <- lowest, dropped
      4     7   8   4   -   1   7+8+4+1          = 20
      5     8   8   4   -   -   8+8+4            = 20

trimmed (J1, J4, J5): a1 23/3, a2 23/3, b1 4, x1 1/3, x2 1/3 -> a 46/3, b 4, bonus 2/3, total 20
mean (all 5):         a1 7.4, a2 7.6, b1 4, x1 0.8, x2 0.6  -> a 15, b 4, bonus 1.4, total 20.4
median:               a1 8, a2 8, b1 4, x1 0, x2 0          -> a 16, b 4, bonus 0, total 20
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from evalcore.errors import InvalidInput
from evalcore.scoring import aggregate
from tests.factories import settings, sheets, small_rubric

GOLDEN = {
    (1, 1): {"a1": 8, "a2": 7, "b1": 4, "x1": 1},
    (1, 2): {"a1": 9, "a2": 9, "b1": 5, "x1": 3, "x2": 2},
    (1, 3): {"a1": 5, "a2": 6, "b1": 3},
    (1, 4): {"a1": 7, "a2": 8, "b1": 4, "x2": 1},
    (1, 5): {"a1": 8, "a2": 8, "b1": 4},
}


@pytest.mark.parametrize(
    ("method", "a", "b", "bonus", "total", "counted", "used"),
    [
        ("trimmed", 46 / 3, 4.0, 2 / 3, 20.0, 3, "trimmed"),
        ("mean", 15.0, 4.0, 1.4, 20.4, 5, "mean"),
        ("median", 16.0, 4.0, 0.0, 20.0, 5, "median"),
    ],
)
def test_golden_tally(method, a, b, bonus, total, counted, used) -> None:
    agg = aggregate(sheets(GOLDEN), small_rubric(), settings(), method=method)
    row = agg.summary.loc[1]
    assert agg.criteria.loc[1, "a"] == pytest.approx(a)
    assert agg.criteria.loc[1, "b"] == pytest.approx(b)
    assert row["bonus"] == pytest.approx(bonus)
    assert row["total"] == pytest.approx(total)
    assert row["judges_counted"] == counted
    assert row["method_used"] == used


def test_trimmed_records_who_was_dropped_and_judge_totals() -> None:
    agg = aggregate(sheets(GOLDEN), small_rubric(), settings())
    assert agg.summary.loc[1, "dropped_high"] == 2
    assert agg.summary.loc[1, "dropped_low"] == 3
    judges = agg.judges.xs(1, level="brand_id")
    assert judges["total"].to_dict() == {1: 20.0, 2: 27.0, 3: 14.0, 4: 20.0, 5: 20.0}
    assert judges["dropped"].to_dict() == {1: "", 2: "high", 3: "low", 4: "", 5: ""}
    assert judges["counted"].sum() == 3


@pytest.mark.parametrize(
    ("judges", "trim_min", "used", "counted"),
    [
        ([1, 2, 3, 4], 5, "mean", 4),  # one short of the threshold: plain mean
        ([1, 2, 3, 4, 5], 5, "trimmed", 3),  # exactly at the threshold: trimmed
        ([1, 2, 3], 3, "trimmed", 1),  # threshold lowered by the round
        ([1, 2, 3, 4], 4, "trimmed", 2),
    ],
)
def test_trim_threshold_boundary(judges, trim_min, used, counted) -> None:
    data = {key: v for key, v in GOLDEN.items() if key[1] in judges}
    agg = aggregate(sheets(data), small_rubric(), settings(trim_min_judges=trim_min))
    assert agg.summary.loc[1, "method_used"] == used
    assert agg.summary.loc[1, "judges_counted"] == counted


def test_below_threshold_mean_is_the_plain_mean() -> None:
    data = {key: v for key, v in GOLDEN.items() if key[1] <= 4}
    trimmed = aggregate(sheets(data), small_rubric(), settings(), method="trimmed")
    mean = aggregate(sheets(data), small_rubric(), settings(), method="mean")
    pd.testing.assert_frame_equal(trimmed.items, mean.items)
    assert pd.isna(trimmed.summary.loc[1, "dropped_high"])


def test_ties_drop_exactly_one_each_by_judge_id() -> None:
    """Five identical totals: one lowest and one highest still go, chosen by judge id."""
    same = {(1, j): {"a1": 5, "a2": 5, "b1": 5} for j in (3, 1, 5, 2, 4)}
    agg = aggregate(sheets(same), small_rubric(), settings())
    assert agg.summary.loc[1, "dropped_low"] == 1
    assert agg.summary.loc[1, "dropped_high"] == 5
    assert agg.summary.loc[1, "judges_counted"] == 3
    assert agg.summary.loc[1, "total"] == pytest.approx(15.0)


def test_incomplete_sheet_does_not_count() -> None:
    data = dict(GOLDEN)
    data[(1, 6)] = {"a1": 10, "b1": 5}  # a2 missing: incomplete
    agg = aggregate(sheets(data), small_rubric(), settings())
    assert agg.summary.loc[1, "judges_scored"] == 6
    assert agg.summary.loc[1, "judges_complete"] == 5
    assert not agg.judges.loc[(1, 6), "complete"]
    assert not agg.judges.loc[(1, 6), "counted"]
    assert agg.summary.loc[1, "total"] == pytest.approx(20.0)  # as without judge 6


def test_missing_bonus_counts_as_zero_not_incomplete() -> None:
    data = {(1, 1): {"a1": 10, "a2": 10, "b1": 5}}
    agg = aggregate(sheets(data), small_rubric(), settings(), method="mean")
    assert agg.judges.loc[(1, 1), "complete"]
    assert agg.summary.loc[1, "bonus"] == 0.0
    assert agg.summary.loc[1, "total"] == 25.0


def test_bonus_cap_applies_to_judges_and_to_the_result() -> None:
    full = {(1, j): {"a1": 5, "a2": 5, "b1": 5, "x1": 3, "x2": 2} for j in (1, 2)}
    agg = aggregate(sheets(full), small_rubric(bonus_cap=4), settings(), method="mean")
    assert agg.judges.loc[(1, 1), "total"] == 19.0  # 15 + min(5, 4)
    assert agg.summary.loc[1, "bonus"] == 4.0
    assert agg.summary.loc[1, "total"] == 19.0


def test_under_scored_against_round_minimum() -> None:
    data = {key: v for key, v in GOLDEN.items() if key[1] <= 3}
    agg = aggregate(sheets(data), small_rubric(), settings(min_judges=4))
    assert agg.summary.loc[1, "under_scored"]
    agg = aggregate(sheets(data), small_rubric(), settings(min_judges=3))
    assert not agg.summary.loc[1, "under_scored"]


def test_unscored_brand_is_listed_without_total() -> None:
    agg = aggregate(sheets(GOLDEN), small_rubric(), settings(), brand_ids=[1, 2])
    assert math.isnan(agg.summary.loc[2, "total"])
    assert agg.summary.loc[2, "judges_scored"] == 0
    assert agg.summary.loc[2, "under_scored"]


def test_empty_round_aggregates_to_nothing() -> None:
    empty = sheets({})
    agg = aggregate(empty, small_rubric(), settings(), brand_ids=[1, 2, 3])
    assert list(agg.summary.index) == [1, 2, 3]
    assert agg.summary["total"].isna().all()
    assert (agg.summary["judges_counted"] == 0).all()


def test_items_outside_the_rubric_are_ignored() -> None:
    data = sheets(GOLDEN)
    extra = pd.DataFrame([{"brand_id": 1, "judge_id": 1, "item": "old.item", "value": 99.0}])
    agg = aggregate(pd.concat([data, extra]), small_rubric(), settings())
    assert agg.summary.loc[1, "total"] == pytest.approx(20.0)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"brand_id": [1], "judge_id": [1], "item": ["a1"]}), "缺少列"),
        (sheets({(1, 1): {"a1": 1}}).assign(value=["八分"]), "不是数字"),
        (pd.concat([sheets({(1, 1): {"a1": 1}})] * 2), "重复评分"),
    ],
)
def test_invalid_input_is_refused_in_chinese(frame, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        aggregate(frame, small_rubric(), settings())


def test_unknown_method_is_refused() -> None:
    with pytest.raises(InvalidInput, match="汇总方法"):
        aggregate(sheets(GOLDEN), small_rubric(), settings(), method="max")
