"""Competition ranking, tie-breaks and grade bands, against hand-made tables."""

from __future__ import annotations

import pandas as pd
import pytest

from evalcore.ranking import (
    competition_rank,
    final_grades,
    grade,
    rank_aggregation,
    ranking_table,
    round_half_up,
)
from evalcore.rubric import GradeBand, GradeQuota, VetoRule, default_rubric
from evalcore.scoring import aggregate
from tests.factories import random_scores, settings


def frame(totals, **criteria) -> pd.DataFrame:
    return pd.DataFrame(
        {"total": totals, **criteria}, index=pd.Index(list("ABCDEF"[: len(totals)]))
    )


@pytest.mark.parametrize(
    ("totals", "expected"),
    [
        ([90, 80, 80, 70], [1, 2, 2, 4]),
        ([80, 90, 80, 70], [2, 1, 2, 4]),
        ([70, 70, 70], [1, 1, 1]),
        ([90.004, 90.001, 85.0], [1, 1, 3]),  # equal as printed (2 decimals)
        ([90.006, 90.001, 85.0], [1, 2, 3]),  # 90.01 vs 90.00
        ([float("nan"), 50, 60], [None, 2, 1]),  # nobody scored A: no rank
    ],
)
def test_standard_competition_ranking(totals, expected) -> None:
    ranks = competition_rank(frame(totals), ["total"])
    assert [None if pd.isna(r) else int(r) for r in ranks] == expected


def test_tie_break_criteria_in_order() -> None:
    table = frame([85, 85, 85, 80], impact=[12, 14, 14, 15], connotation=[13, 11, 12, 10])
    assert list(competition_rank(table, ["total", "impact"])) == [3, 1, 1, 4]
    assert list(competition_rank(table, ["total", "impact", "connotation"])) == [3, 2, 1, 4]


def test_all_unscored_gives_no_ranks() -> None:
    ranks = competition_rank(frame([float("nan")] * 3), ["total"])
    assert ranks.isna().all()


@pytest.mark.parametrize(
    ("total", "label"),
    [
        (100, "优秀"),
        (90, "优秀"),
        (89.99, "良好"),
        (80, "良好"),
        (79.99, "合格"),
        (60, "合格"),
        (59.99, "不合格"),
        (0, "不合格"),
        (89.996, "优秀"),
    ],
)
def test_default_grade_bands(total, label) -> None:
    assert grade(pd.Series([total])).iloc[0] == label


def test_custom_grade_bands_and_missing_total() -> None:
    bands = (GradeBand("A", 95), GradeBand("B", 50))
    assert list(grade(pd.Series([96.0, 94.0, 10.0, float("nan")]), bands)) == [
        "A",
        "B",
        "不合格",
        None,
    ]


def test_rank_aggregation_orders_by_rank() -> None:
    rubric = default_rubric()
    scores = random_scores(rubric, range(1, 9), range(1, 6), seed=3)
    ranked = rank_aggregation(aggregate(scores, rubric, settings()), settings(), rubric)
    assert list(ranked["rank"]) == sorted(ranked["rank"])
    assert ranked["total"].is_monotonic_decreasing


def test_ranking_table_joins_brand_metadata_and_dropped_names() -> None:
    rubric = default_rubric()
    scores = random_scores(rubric, [1, 2], range(1, 6), seed=1)
    agg = aggregate(scores, rubric, settings(), brand_ids=[1, 2, 3])
    brands = pd.DataFrame(
        {
            "brand_code": ["B1", "B2", "B3"],
            "brand": ["红色引擎", "税连心", "双红"],
            "branch": "第一党支部",
            "unit": "机关党委",
            "category": "问题导向型",
        },
        index=pd.Index([1, 2, 3], name="brand_id"),
    )
    names = pd.Series({j: f"评委{j}" for j in range(1, 6)})
    table = ranking_table(agg, settings(), rubric, brands, names)
    assert list(table["brand_code"])[-1] == "B3"  # unscored brand last, without rank
    assert pd.isna(table["rank"].iloc[-1])
    first = table.iloc[0]
    assert first["dropped_high_name"] == names[agg.summary.loc[first["brand_id"], "dropped_high"]]
    assert first["total"] == round(first["total"], 2)
    assert {c.code for c in rubric.criteria} <= set(table.columns)


def graded(totals, impact, **kw) -> pd.DataFrame:
    table = pd.DataFrame({"total": totals, "impact": impact})
    table["rank"] = competition_rank(table, ["total"])
    return final_grades(table, settings(**kw), default_rubric())


def test_quota_demotes_by_rank_and_never_splits_a_tie() -> None:
    # 10 ranked brands, 优秀 at most 20% = 2 brands; ranks 1, 2, 2 hold 优秀 by score.
    totals = [95, 93, 93, 91, 85, 84, 70, 65, 61, 50]
    out = graded(totals, [15] * 10, quotas=(GradeQuota("优秀", 0.2),))
    assert list(out["grade_by_score"][:4]) == ["优秀"] * 4
    assert list(out["grade"][:5]) == ["优秀", "良好", "良好", "良好", "良好"]
    assert out["grade_note"][1] == "超出优秀名额（20%），由优秀调整为良好"
    assert out["grade_note"][0] == ""


def test_quotas_cascade_to_the_next_grade() -> None:
    totals = [95, 94, 93, 85, 84]
    out = graded(totals, [15] * 5, quotas=(GradeQuota("优秀", 0.2), GradeQuota("良好", 0.4)))
    assert list(out["grade"]) == ["优秀", "良好", "良好", "合格", "合格"]


def test_veto_caps_the_grade_and_frees_the_quota() -> None:
    # Brand 0 scores 96 but 群众影响 8/15 < 60%: capped at 合格; brand 1 keeps its 优秀.
    out = graded(
        [96, 92, 88],
        [8, 14, 14],
        vetoes=(VetoRule("impact", 0.6, "合格"),),
        quotas=(GradeQuota("优秀", 0.34),),
    )
    assert list(out["grade"]) == ["合格", "优秀", "良好"]
    assert out["grade_note"][0] == "群众影响得分低于满分的60%，等次上限为合格"


def test_veto_never_raises_a_grade() -> None:
    out = graded([50], [1], vetoes=(VetoRule("impact", 0.6, "合格"),))
    assert out["grade"][0] == "不合格" and out["grade_note"][0] == ""


@pytest.mark.parametrize(
    ("value", "printed"),
    [(14.125, 14.13), (14.124, 14.12), (2.675, 2.68), (89.995, 90.0), (0.005, 0.01), (7.0, 7.0)],
)
def test_rounding_is_half_up_as_printed(value, printed) -> None:
    assert round_half_up(pd.Series([value])).iloc[0] == printed


def test_a_total_that_prints_as_90_is_excellent() -> None:
    assert grade(pd.Series([89.995])).iloc[0] == "优秀"
