"""Seeded builders for rubrics and score tables used across the unit tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from evalcore.permissions import Actor
from evalcore.rubric import Criterion, Item, RoundSettings, Rubric

#: The command-line operator: an admin, allowed everything, recorded as source cli.
OPERATOR = Actor.cli()


def small_rubric(*, bonus_cap: float = 4.0) -> Rubric:
    """Two criteria (a: 20, b: 5) and two bonus items (3 + 2) capped at ``bonus_cap``."""
    return Rubric(
        criteria=(
            Criterion("a", "甲", "有甲", (Item("a1", "甲一", 10), Item("a2", "甲二", 10))),
            Criterion("b", "乙", "有乙", (Item("b1", "乙一", 5),)),
        ),
        bonus_items=(Item("x1", "表彰", 3), Item("x2", "创新", 2)),
        bonus_cap=bonus_cap,
    ).validate()


def settings(**overrides: object) -> RoundSettings:
    return RoundSettings(**overrides).validate()  # type: ignore[arg-type]


def sheets(data: Mapping[tuple[int, int], Mapping[str, float]]) -> pd.DataFrame:
    """Long score table from {(brand_id, judge_id): {item: value}}."""
    rows = [
        (brand, judge, item, float(value))
        for (brand, judge), values in data.items()
        for item, value in values.items()
    ]
    return pd.DataFrame(rows, columns=["brand_id", "judge_id", "item", "value"])


def random_scores(
    rubric: Rubric,
    brands: Iterable[int],
    judges: Iterable[int],
    *,
    seed: int = 0,
    missing: float = 0.0,
) -> pd.DataFrame:
    """Half-point scores for every (brand, judge, item), some left out at rate ``missing``."""
    rng = np.random.default_rng(seed)
    maxima = rubric.item_max()
    rows = [
        (b, j, code, float(np.round(rng.uniform(0, top) * 2) / 2))
        for b in brands
        for j in judges
        for code, top in maxima.items()
        if rng.random() >= missing
    ]
    return pd.DataFrame(rows, columns=["brand_id", "judge_id", "item", "value"])
