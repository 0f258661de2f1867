"""Invariants of aggregation and ranking, over random score tables (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from evalcore.ranking import competition_rank, round_half_up
from evalcore.rubric import Criterion, Item, RoundSettings, Rubric
from evalcore.scoring import aggregate
from tests.factories import small_rubric

NO_BONUS = Rubric(
    criteria=(Criterion("a", "甲", "有甲", (Item("a1", "一", 10), Item("a2", "二", 10))),)
).validate()


@st.composite
def score_tables(draw, rubric: Rubric = NO_BONUS) -> pd.DataFrame:
    n_brands = draw(st.integers(1, 4))
    n_judges = draw(st.integers(1, 8))
    rows = []
    for b in range(1, n_brands + 1):
        for j in range(1, n_judges + 1):
            for code, top in rubric.item_max().items():
                if draw(st.booleans()) or draw(st.booleans()):  # ~75% present
                    halves = draw(st.integers(0, int(top * 2)))
                    rows.append((b, j, code, halves / 2))
    return pd.DataFrame(rows, columns=["brand_id", "judge_id", "item", "value"])


METHODS = st.sampled_from(["trimmed", "mean", "median"])


@settings(max_examples=80, deadline=None)
@given(score_tables(), METHODS)
def test_item_scores_lie_between_the_judges_min_and_max(scores, method) -> None:
    agg = aggregate(scores, NO_BONUS, RoundSettings(), method=method)
    complete = agg.judges[agg.judges["complete"]].index
    counted = (
        scores.set_index(["brand_id", "judge_id"])
        .loc[lambda f: f.index.isin(complete)]
        .reset_index()
    )
    bounds = counted.groupby(["brand_id", "item"])["value"].agg(["min", "max"])
    for (brand, item), (lo, hi) in bounds.iterrows():
        value = agg.items.loc[brand, item]
        assert lo - 1e-9 <= value <= hi + 1e-9


@settings(max_examples=80, deadline=None)
@given(score_tables(), st.sampled_from(["trimmed", "mean"]))
def test_total_lies_between_counted_judges_totals(scores, method) -> None:
    agg = aggregate(scores, NO_BONUS, RoundSettings(), method=method)
    counted = agg.judges[agg.judges["counted"]]
    for brand, totals in counted.groupby(level="brand_id")["total"]:
        total = agg.summary.loc[brand, "total"]
        assert totals.min() - 1e-9 <= total <= totals.max() + 1e-9


@settings(max_examples=60, deadline=None)
@given(score_tables(small_rubric()), METHODS, st.randoms(use_true_random=False))
def test_aggregation_does_not_depend_on_row_order(scores, method, rnd) -> None:
    shuffled = scores.sample(frac=1.0, random_state=rnd.randint(0, 2**31))
    a = aggregate(scores, small_rubric(), RoundSettings(), method=method)
    b = aggregate(shuffled, small_rubric(), RoundSettings(), method=method)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.items, b.items)


@settings(max_examples=60, deadline=None)
@given(score_tables(small_rubric()))
def test_trimming_counts_two_fewer_judges(scores) -> None:
    agg = aggregate(scores, small_rubric(), RoundSettings(trim_min_judges=3))
    s = agg.summary
    trimmed = s["judges_complete"] >= 3
    assert (s.loc[trimmed, "judges_counted"] == s.loc[trimmed, "judges_complete"] - 2).all()
    assert (s.loc[~trimmed, "judges_counted"] == s.loc[~trimmed, "judges_complete"]).all()
    assert (s.loc[trimmed, "method_used"] == "trimmed").all()


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(st.floats(0, 105, allow_nan=False), st.just(np.nan)), min_size=1, max_size=30
    ),
    st.randoms(use_true_random=False),
)
def test_rank_is_one_plus_number_strictly_better(totals, rnd) -> None:
    frame = pd.DataFrame({"total": totals})
    ranks = competition_rank(frame, ["total"])
    rounded = round_half_up(frame["total"])
    for i, total in rounded.items():
        if np.isnan(total):
            assert pd.isna(ranks[i])
        else:
            assert ranks[i] == 1 + int((rounded > total).sum())
    shuffled = frame.sample(frac=1.0, random_state=rnd.randint(0, 2**31))
    assert competition_rank(shuffled, ["total"]).sort_index().equals(ranks)
