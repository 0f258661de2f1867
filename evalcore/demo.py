"""Demo campaigns: the curated sample in ``sample_data/`` or a generated one of any size.

Both have the same shape: six-ish units, branches with brands, a judging panel with one
harsh and one lenient judge, two rounds (``2025`` published, ``2026`` open) and a few
missing scores. Scores come from one model (brand quality + judge bias + noise), seeded,
so the demo is the same on every machine. Judges who work in a brand's unit are recused
and never score it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Connection, delete

from evalcore.auth import hash_password
from evalcore.models import (
    AppMeta,
    Assignment,
    Branch,
    Brand,
    ConflictDeclaration,
    ImportChange,
    ImportRecord,
    Judge,
    LoginAttempt,
    Round,
    RoundBrand,
    RoundJudge,
    RoundStatus,
    Score,
    ScoreSheet,
    Unit,
    User,
    UserSession,
    table_of,
    utcnow,
)
from evalcore.rubric import RoundSettings, Rubric, default_rubric
from evalcore.store import id_map, insert_rows

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_data"
DATASET_KEY = "demo_dataset"
SEED = 20261123
#: Child tables first, so a reset never trips a foreign key. The audit trail is not here:
#: it is append-only, and records the reset itself.
ALL_TABLES = (
    ImportChange,
    ImportRecord,
    UserSession,
    LoginAttempt,
    User,
    ConflictDeclaration,
    Assignment,
    ScoreSheet,
    Score,
    RoundBrand,
    RoundJudge,
    Round,
    Brand,
    Judge,
    Branch,
    Unit,
    AppMeta,
)
#: One account per role with a published password, so a newcomer can try every role.
#: The login page lists them (and warns) for as long as they exist.
DEMO_ACCOUNTS = (
    ("admin", "admin123", "admin", "演示管理员", None),
    ("judge", "judge123", "judge", "演示评委", 0),  # linked to the first judge of the panel
    ("viewer", "viewer123", "viewer", "演示查看者", None),
)


@dataclass
class Campaign:
    """Everything a demo writes, as plain tables keyed by codes."""

    units: pd.DataFrame  # code, name
    brands: pd.DataFrame  # code, unit, branch, name, slogan, description, category
    judges: pd.DataFrame  # code, name, unit, title, bias
    quality: pd.DataFrame  # brand, round, quality
    comments: pd.DataFrame  # level, text
    label: str


def _read_csv(name: str) -> pd.DataFrame:
    with (SAMPLE_DIR / name).open(encoding="utf-8", newline="") as fh:
        return pd.DataFrame(list(csv.DictReader(fh)))


def sample_campaign() -> Campaign:
    """The curated campaign shipped in ``sample_data/``."""
    quality = _read_csv("quality.csv").astype({"quality": "float64"})
    judges = _read_csv("judges.csv").astype({"bias": "float64"})
    return Campaign(
        units=_read_csv("units.csv"),
        brands=_read_csv("brands.csv"),
        judges=judges,
        quality=quality,
        comments=_read_csv("comments.csv"),
        label="sample",
    )


def generated_campaign(n_brands: int, n_judges: int, seed: int = SEED) -> Campaign:
    """A synthetic campaign of the given size with the sample's shape (for scale tests)."""
    rng = np.random.default_rng(seed)
    sample = sample_campaign()
    n_units = max(6, n_brands // 40)
    units = pd.DataFrame(
        {
            "code": [f"U{i:03d}" for i in range(1, n_units + 1)],
            "name": [f"第{i}党委" for i in range(1, n_units + 1)],
        }
    )
    unit_of = units["code"].to_numpy()[np.arange(n_brands) % n_units]
    categories = np.array(["问题导向型", "优势资源开发型", "体系统摄型"])
    codes = [f"B{i:05d}" for i in range(1, n_brands + 1)]
    brands = pd.DataFrame(
        {
            "code": codes,
            "unit": unit_of,
            "branch": [f"第{i}党支部" for i in range(1, n_brands + 1)],
            "name": [f"示范品牌{i:05d}" for i in range(1, n_brands + 1)],
            "slogan": "党建引领 服务先行",
            "description": "自动生成的演示品牌，用于体验大规模评审。",
            "category": categories[rng.integers(0, 3, n_brands)],
        }
    )
    biases = rng.normal(0.0, 0.03, n_judges)
    biases[0], biases[-1] = -0.12, 0.08  # one harsh, one lenient, as in the sample
    judges = pd.DataFrame(
        {
            "code": [f"J{i:03d}" for i in range(1, n_judges + 1)],
            "name": [f"评委{i:03d}" for i in range(1, n_judges + 1)],
            "unit": "",
            "title": "评审专家",
            "bias": biases,
        }
    )
    base = np.clip(rng.beta(8, 2.2, n_brands), 0.5, 0.97)
    quality = pd.concat(
        [
            pd.DataFrame({"brand": codes, "round": "2025", "quality": base}),
            pd.DataFrame(
                {
                    "brand": codes,
                    "round": "2026",
                    "quality": np.clip(base + rng.normal(0.015, 0.02, n_brands), 0.5, 0.98),
                }
            ),
        ]
    )
    return Campaign(units, brands, judges, quality, sample.comments, label="generated")


def simulate_scores(campaign: Campaign, rubric: Rubric, round_code: str, seed: int) -> pd.DataFrame:
    """Scores for every (brand, judge) pair not recused: brand_code, judge_code, item, value."""
    rng = np.random.default_rng(seed)
    brands = campaign.brands[["code", "unit"]].rename(columns={"code": "brand", "unit": "bunit"})
    judges = campaign.judges[["code", "unit", "bias"]].rename(columns={"code": "judge"})
    pairs = brands.merge(judges, how="cross")
    pairs = pairs[pairs["bunit"] != pairs["unit"]].reset_index(drop=True)
    quality = campaign.quality[campaign.quality["round"] == round_code].set_index("brand")
    level = pairs["brand"].map(quality["quality"]).to_numpy() + pairs["bias"].to_numpy()
    level = level + rng.normal(0.0, 0.03, len(pairs))  # this judge's view of this brand

    item_max = rubric.item_max()
    crit_codes = rubric.criterion_item_codes
    n_pairs, n_items = len(pairs), len(crit_codes)
    maxima = np.array([item_max[c] for c in crit_codes])
    frac = np.clip(level[:, None] + rng.normal(0.0, 0.06, (n_pairs, n_items)), 0.2, 1.0)
    values = np.round(frac * maxima * 2) / 2  # judges score in half points
    frames = [
        pd.DataFrame(
            {
                "brand_code": np.repeat(pairs["brand"].to_numpy(), n_items),
                "judge_code": np.repeat(pairs["judge"].to_numpy(), n_items),
                "item": np.tile(crit_codes, n_pairs),
                "value": values.ravel(),
            }
        )
    ]
    for code in rubric.bonus_item_codes:
        # Bonus follows the brand (awards are facts), with judges disagreeing a little.
        merit = np.clip((level - 0.80) * 10, 0, 1)
        bonus = np.round(merit * item_max[code] + rng.normal(0, 0.3, n_pairs))
        frames.append(
            pd.DataFrame(
                {
                    "brand_code": pairs["brand"],
                    "judge_code": pairs["judge"],
                    "item": code,
                    "value": np.clip(bonus, 0, item_max[code]),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _leave_gaps(scores: pd.DataFrame, campaign: Campaign, seed: int) -> pd.DataFrame:
    """An open round is unfinished: one judge is behind, another skipped one item, and the
    demo judge account (the first judge) still has the last three brands to score on the
    web, so a newcomer logged in as ``judge`` finds work to do."""
    rng = np.random.default_rng(seed)
    judges = campaign.judges["code"].tolist()
    brands = campaign.brands["code"].tolist()
    behind = judges[len(judges) // 2 + 1] if len(judges) > 2 else judges[0]
    unscored = set(rng.choice(brands, size=max(1, len(brands) // 5), replace=False))
    drop = (scores["judge_code"] == behind) & scores["brand_code"].isin(unscored)
    skipper, skipped_brand = judges[1 % len(judges)], brands[len(brands) // 2]
    drop |= (
        (scores["judge_code"] == skipper)
        & (scores["brand_code"] == skipped_brand)
        & (scores["item"] == scores["item"].iloc[0])
    )
    drop |= (scores["judge_code"] == judges[0]) & scores["brand_code"].isin(brands[-3:])
    return scores[~drop]


def _sheet_comments(
    scores: pd.DataFrame, campaign: Campaign, rubric: Rubric, seed: int
) -> pd.DataFrame:
    """One comment on most sheets, in the tone its total deserves."""
    rng = np.random.default_rng(seed)
    totals = scores.groupby(["brand_code", "judge_code"])["value"].sum().reset_index()
    share = totals["value"] / rubric.max_total
    level = np.select([share >= 0.9, share >= 0.8, share >= 0.65], ["high", "good", "fair"], "low")
    pools = campaign.comments.groupby("level")["text"].apply(list).to_dict()
    texts = [pools[lv][rng.integers(len(pools[lv]))] for lv in level]
    totals["comment"] = np.where(rng.random(len(totals)) < 0.7, texts, "")
    return totals.drop(columns="value")


def clear_all(conn: Connection) -> None:
    """Delete every row of every table (``demo --reset``); the schema stays."""
    for table in ALL_TABLES:
        conn.execute(delete(table_of(table)))


def load_campaign(conn: Connection, campaign: Campaign) -> dict[str, int]:
    """Write a campaign into an empty database within the caller's transaction."""
    now = utcnow()
    insert_rows(conn, Unit, campaign.units[["code", "name"]])
    unit_ids = id_map(conn, Unit)
    branches = campaign.brands[["unit", "branch"]].drop_duplicates()
    insert_rows(
        conn,
        Branch,
        [{"unit_id": unit_ids[u], "name": b} for u, b in branches.itertuples(index=False)],
    )
    branch_ids = {
        (unit_id, name): bid for bid, unit_id, name in conn.execute(table_of(Branch).select()).all()
    }
    brand_rows = campaign.brands.assign(
        branch_id=[
            branch_ids[(unit_ids[u], b)]
            for u, b in zip(campaign.brands["unit"], campaign.brands["branch"], strict=True)
        ]
    )[["code", "branch_id", "name", "slogan", "description", "category"]]
    insert_rows(conn, Brand, brand_rows)
    judge_rows = campaign.judges.assign(
        unit_id=[unit_ids.get(u) if u else None for u in campaign.judges["unit"]]
    )[["code", "name", "unit_id", "title"]]
    insert_rows(conn, Judge, judge_rows)
    brand_ids, judge_ids = id_map(conn, Brand), id_map(conn, Judge)

    rubric = default_rubric()
    rounds = [
        ("2025", "2025年度“一支部一品牌”评审", RoundStatus.PUBLISHED),
        ("2026", "2026年度“一支部一品牌”评审", RoundStatus.SCORING),
    ]
    insert_rows(
        conn,
        Round,
        [
            {
                "code": code,
                "name": name,
                "status": status.value,
                "rubric": rubric.to_dict(),
                "settings": RoundSettings(tie_break=("impact", "connotation")).to_dict(),
                "revision": 1,
                "created_at": now,
                "updated_at": now,
            }
            for code, name, status in rounds
        ],
    )
    round_ids = id_map(conn, Round)
    n_scores = 0
    for offset, (code, _, status) in enumerate(rounds):
        rid = round_ids[code]
        insert_rows(
            conn, RoundBrand, [{"round_id": rid, "brand_id": b} for b in brand_ids.values()]
        )
        insert_rows(
            conn, RoundJudge, [{"round_id": rid, "judge_id": j} for j in judge_ids.values()]
        )
        insert_rows(
            conn,
            Assignment,
            [
                {"round_id": rid, "brand_id": b, "judge_id": j, "created_at": now}
                for b in brand_ids.values()
                for j in judge_ids.values()
            ],
        )
        scores = simulate_scores(campaign, rubric, code, SEED + offset)
        if status is RoundStatus.SCORING:
            scores = _leave_gaps(scores, campaign, SEED + offset)
        sheets = _sheet_comments(scores, campaign, rubric, SEED + offset)
        rows = pd.DataFrame(
            {
                "round_id": rid,
                "brand_id": scores["brand_code"].map(brand_ids).to_numpy(),
                "judge_id": scores["judge_code"].map(judge_ids).to_numpy(),
                "item": scores["item"].to_numpy(),
                "value": scores["value"].astype("float64").to_numpy(),
                "comment": None,
                "version": 1,
                "source": "demo",
                "updated_at": now,
            }
        )
        insert_rows(conn, Score, rows)
        insert_rows(
            conn,
            ScoreSheet,
            pd.DataFrame(
                {
                    "round_id": rid,
                    "brand_id": sheets["brand_code"].map(brand_ids).to_numpy(),
                    "judge_id": sheets["judge_code"].map(judge_ids).to_numpy(),
                    "comment": sheets["comment"].to_numpy(),
                    "status": "submitted",
                    "updated_at": now,
                }
            ),
        )
        n_scores += len(rows)
    first_judge = judge_ids[campaign.judges["code"].iloc[0]]
    insert_rows(
        conn,
        User,
        [
            {
                "username": name,
                "pw_hash": hash_password(password),
                "role": role,
                "display_name": display,
                "judge_id": first_judge if judge is not None else None,
                "active": True,
                "is_demo": True,
                "created_at": now,
            }
            for name, password, role, display, judge in DEMO_ACCOUNTS
        ],
    )
    insert_rows(conn, AppMeta, [{"key": DATASET_KEY, "value": campaign.label}])
    return {
        "units": len(unit_ids),
        "brands": len(brand_ids),
        "judges": len(judge_ids),
        "rounds": len(rounds),
        "scores": n_scores,
    }
