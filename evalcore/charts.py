"""Figures and display tables for the dashboard: pure functions over result frames.

Every builder takes the DataFrames a service returned (a ranking table, a brand's
profile or per-judge table) plus the rubric or grade bands, and returns a
``plotly.graph_objects.Figure`` or a Chinese-labelled DataFrame. Nothing here imports
Streamlit or touches the database, so each figure is testable on its own and the pages
stay a description of the screen.

Conventions shared by all figures, so a manager reading several charts is never misled:
one colour per grade (等次) everywhere, Chinese axis titles, hover text naming the
brand, and heights that grow with the number of rows but are capped at
:data:`CHART_LIMIT` rows (with a note saying so) for campaigns of a thousand brands.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from evalcore.rubric import FAIL_GRADE, GradeBand, RoundSettings, Rubric
from evalcore.stats import percent_of_max

#: CJK fonts first: headless Chromium and Linux servers have Noto, Windows YaHei, macOS PingFang.
FONT_FAMILY = "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif"
#: The default grades' colours; a round with its own grade labels gets FALLBACK_COLORS in order.
GRADE_COLORS: dict[str, str] = {
    "优秀": "#C8102E",
    "良好": "#F28E2B",
    "合格": "#4E79A7",
    FAIL_GRADE: "#7F7F7F",
}
FALLBACK_COLORS = ("#59A14F", "#B07AA1", "#76B7B2", "#EDC948", "#9C755F", "#FF9DA7")
UNGRADED = "未评定"
UNRANKED = "未排名"
UNGRADED_COLOR = "#D0D0D0"
#: Bar chart and heatmap show at most this many brands; a note says how many are hidden.
CHART_LIMIT = 50
#: Pixels per brand row in the bar chart and heatmap (readable 12 px labels, no overlap).
ROW_PX = 24

# Status of one judge's sheet for one brand, as the per-judge table and strip plot show it.
COUNTED = "计入"
DROPPED_HIGH = "高分剔除"
DROPPED_LOW = "低分剔除"
INCOMPLETE = "未完成（不计入）"
#: The table shows the strip plot's marker shape in front of each status, to tie the two.
STATUS_MARKS: dict[str, str] = {COUNTED: "●", DROPPED_HIGH: "▲", DROPPED_LOW: "▼", INCOMPLETE: "○"}
STATUS_STYLE: dict[str, tuple[str, str]] = {  # status -> (marker symbol, colour)
    COUNTED: ("circle", "#4E79A7"),
    DROPPED_HIGH: ("triangle-up", "#C8102E"),
    DROPPED_LOW: ("triangle-down", "#F28E2B"),
    INCOMPLETE: ("circle-open", "#7F7F7F"),
}

# Chinese column names of the display tables (the ranking table and the per-judge table).
COL_RANK = "名次"
COL_CODE = "编号"
COL_BRAND = "品牌"
COL_BRANCH = "支部"
COL_UNIT = "单位"
COL_CATEGORY = "类型"
COL_BONUS = "加分"
COL_TOTAL = "总分"
COL_GRADE = "等次"
COL_COUNTED = "计入评委数"
COL_COMPLETE = "完成评分评委数"
COL_DROPPED_HIGH = "去掉最高分"
COL_DROPPED_LOW = "去掉最低分"
COL_NOTE = "提示"
COL_JUDGE = "评委"
COL_STATUS = "状态"
COL_COMMENT = "评语"


# -- shared look ---------------------------------------------------------------------------
def grade_labels(bands: Sequence[GradeBand]) -> list[str]:
    """Grade labels from best to worst, the failing grade last."""
    return [b.label for b in bands] + [FAIL_GRADE]


def grade_colors(labels: Iterable[str]) -> dict[str, str]:
    """A colour per grade label: the fixed ones for our grades, fallbacks for others."""
    fallback = iter(FALLBACK_COLORS * 4)
    return {label: GRADE_COLORS.get(label) or next(fallback) for label in labels} | {
        UNGRADED: UNGRADED_COLOR
    }


def _layout(fig: go.Figure, *, title: str, height: int, subtitle: str | None = None) -> go.Figure:
    """Apply the common font, margins and white background."""
    fig.update_layout(
        template="plotly_white",
        font={"family": FONT_FAMILY, "size": 13, "color": "#262730"},
        title={
            "text": title,
            "x": 0,
            "xanchor": "left",
            "font": {"size": 16},
            **({"subtitle": {"text": subtitle, "font": {"size": 12}}} if subtitle else {}),
        },
        height=height,
        margin={"l": 10, "r": 20, "t": 80 if subtitle else 56, "b": 40},
        hoverlabel={"font": {"family": FONT_FAMILY}},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1},
    )
    return fig


def _fmt(value: float) -> str:
    """A score as printed in the meeting table: 2 decimals, trailing zeros dropped."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _brand_labels(table: pd.DataFrame, width: int | None = None) -> pd.Series:
    """Y-axis labels "1. 双红": the rank keeps ties and equal names apart and in order.

    With ``width``, names longer than that are cut with "…" (the hover shows them whole);
    should two cut labels collide, the brand code is appended so rows never merge.
    """
    names = table["brand"].astype("string")
    if width is not None:
        names = names.where(names.str.len() <= width, names.str.slice(0, width - 1) + "…")
    ranks = table["rank"].astype("string").fillna("—")
    labels = ranks + ". " + names
    clash = labels.duplicated(keep=False)
    return labels.where(~clash, labels + "（" + table["brand_code"].astype("string") + "）")


#: Axis labels longer than this many characters are shortened (full name on hover).
LABEL_CHARS = 14


def _ranked(table: pd.DataFrame) -> pd.DataFrame:
    """Brands with a total, best first (the ranking table's own order)."""
    return table[table["total"].notna()].sort_values(["rank", "brand_code"], kind="stable")


def limit_note(shown: int, total: int) -> str | None:
    """The note under a capped chart, or None when every brand is shown."""
    if shown >= total:
        return None
    return f"仅显示前 {shown} 名（共 {total} 个有总分的品牌），可用筛选缩小范围"


# -- overview ------------------------------------------------------------------------------
def grade_distribution(table: pd.DataFrame, grades: Sequence[str]) -> go.Figure:
    """Bar chart: how many brands reached each grade (unranked brands as 未评定)."""
    counts = table["grade"].fillna(UNGRADED).value_counts()
    order = [*grades, UNGRADED] if counts.get(UNGRADED, 0) else list(grades)
    counts = counts.reindex(order, fill_value=0).astype(int)
    n = max(int(counts.sum()), 1)
    colors = grade_colors(grades)
    fig = go.Figure(
        go.Bar(
            x=order,
            y=counts.to_list(),
            marker_color=[colors[g] for g in order],
            text=[f"{c}（{c / n:.0%}）" for c in counts],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{x}：%{y} 个品牌<extra></extra>",
            name="品牌数",
        )
    )
    fig.update_xaxes(title_text="等次", type="category")
    fig.update_yaxes(title_text="品牌数", rangemode="tozero", range=[0, counts.max() * 1.25 + 1])
    return _layout(fig, title="等次分布", height=360)


def score_histogram(table: pd.DataFrame, bands: Sequence[GradeBand], max_total: float) -> go.Figure:
    """Histogram of totals, stacked by grade, with a dotted line at each grade threshold."""
    ranked = table[table["total"].notna()]
    grades = grade_labels(bands)
    colors = grade_colors(grades)
    size = 5.0 if len(ranked) < 200 else 2.0
    lowest = float(ranked["total"].min()) if len(ranked) else 0.0
    start = math.floor(min(lowest, min((b.min_total for b in bands), default=0)) / size) * size
    bins = {"start": start, "end": max_total + size, "size": size}
    fig = go.Figure()
    for grade in grades:
        totals = ranked.loc[ranked["grade"] == grade]
        fig.add_trace(
            go.Histogram(
                x=totals["total"],
                xbins=bins,
                autobinx=False,
                name=grade,
                marker_color=colors[grade],
                customdata=totals["brand"],
                hovertemplate=f"{grade}<br>总分 %{{x}}：%{{y}} 个品牌<extra></extra>",
            )
        )
    for band in bands:
        fig.add_vline(
            x=band.min_total,
            line={"dash": "dot", "color": colors[band.label], "width": 1.5},
            annotation={"text": f"{band.label} ≥ {_fmt(band.min_total)}", "font_size": 11},
            annotation_position="top right",
        )
    edges = np.arange(start, max_total + 2 * size, size)
    tallest = int(np.histogram(ranked["total"], bins=edges)[0].max()) if len(ranked) else 0
    fig.update_layout(barmode="stack", bargap=0.05, legend_traceorder="normal")
    fig.update_xaxes(title_text="总分", range=[start, max_total + size])
    # Headroom above the tallest bar keeps the threshold labels clear of the bars.
    fig.update_yaxes(title_text="品牌数", range=[0, tallest * 1.3 + 1])
    return _layout(fig, title="总分分布", height=360)


# -- ranking -------------------------------------------------------------------------------
def ranking_bars(
    table: pd.DataFrame,
    grades: Sequence[str],
    *,
    max_total: float,
    thresholds: Sequence[GradeBand] = (),
    limit: int = CHART_LIMIT,
) -> go.Figure:
    """Horizontal bars of totals, best at the top, coloured by grade; capped at ``limit``."""
    ranked = _ranked(table)
    shown = ranked.head(limit)
    labels = _brand_labels(shown, LABEL_CHARS)
    colors = grade_colors(grades)
    fig = go.Figure()
    for grade in grades:
        part = shown["grade"] == grade
        if not part.any():
            continue
        rows = shown[part]
        fig.add_trace(
            go.Bar(
                x=rows["total"],
                y=labels[part],
                orientation="h",
                name=grade,
                marker_color=colors[grade],
                text=[f"{t:.2f}" for t in rows["total"]],  # as the meeting table prints it
                textposition="outside",
                cliponaxis=False,
                customdata=np.stack(
                    [rows["brand"], rows["unit"], rows["rank"].astype("string")], 1
                ),
                hovertemplate=(
                    "<b>%{customdata[0]}</b><br>%{customdata[1]}<br>"
                    f"第 %{{customdata[2]}} 名 · 总分 %{{x:.2f}} · {grade}<extra></extra>"
                ),
            )
        )
    for band in thresholds:
        fig.add_vline(
            x=band.min_total,
            line={"dash": "dot", "color": colors[band.label], "width": 1},
            layer="below",  # under the bars and their value labels
        )
    fig.update_yaxes(
        categoryorder="array", categoryarray=labels.to_list(), autorange="reversed", title=None
    )
    fig.update_xaxes(title_text="总分", range=[0, max_total * 1.08])
    fig.update_layout(bargap=0.25, showlegend=True)
    height = max(260, ROW_PX * len(shown) + 130)
    return _layout(
        fig, title="总分排名", height=height, subtitle=limit_note(len(shown), len(ranked))
    )


def criteria_heatmap(table: pd.DataFrame, rubric: Rubric, *, limit: int = CHART_LIMIT) -> go.Figure:
    """Heatmap brands x criteria, each cell the criterion score as % of its maximum."""
    ranked = _ranked(table).head(limit)
    codes = [c.code for c in rubric.criteria]
    labels = rubric.criterion_labels()
    maxima = rubric.criterion_max()
    pct = percent_of_max(ranked[codes], rubric)
    points = ranked[codes].to_numpy(dtype="float64")
    names = np.repeat(ranked["brand"].to_numpy(dtype=object)[:, None], len(codes), axis=1)
    tops = np.repeat(np.array([maxima[c] for c in codes])[None, :], len(ranked), axis=0)
    low = float(np.nanmin(pct.to_numpy())) if len(ranked) else 0.0
    fig = go.Figure(
        go.Heatmap(
            z=pct.to_numpy(),
            x=[labels[c] for c in codes],
            y=_brand_labels(ranked, LABEL_CHARS).to_list(),
            zmin=50.0 if low >= 50 else 0.0,
            zmax=100.0,
            colorscale="Reds",
            texttemplate="%{z:.0f}",
            textfont={"size": 11},
            customdata=np.dstack([names, points, tops]),
            hovertemplate=(
                "<b>%{customdata[0]}</b><br>%{x}：%{customdata[1]:.2f} / %{customdata[2]} 分"
                "（%{z:.1f}%）<extra></extra>"
            ),
            colorbar={"title": {"text": "得分率 %"}, "thickness": 12},
            xgap=2,
            ygap=2,
        )
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(side="top", type="category")
    height = max(260, ROW_PX * len(ranked) + 130)
    subtitle = limit_note(len(ranked), int(table["total"].notna().sum()))
    return _layout(fig, title="各项指标得分率（%）", height=height, subtitle=subtitle)


# -- brand detail --------------------------------------------------------------------------
def brand_radar(profile: pd.DataFrame, rubric: Rubric, brand: str) -> go.Figure:
    """Radar of the six criteria (% of max): the brand vs the round's and its unit's median."""
    codes = [c for c in (c.code for c in rubric.criteria) if c in profile.index]
    labels = rubric.criterion_labels()
    theta = [labels[c] for c in codes]
    series = [
        ("brand", brand, "#C8102E", "solid", "toself"),
        ("round_median", "全轮中位数", "#7F7F7F", "dash", "none"),
        ("unit_median", "本单位中位数", "#4E79A7", "dot", "none"),
    ]
    fig = go.Figure()
    for column, name, color, dash, fill in series:
        values = profile.loc[codes, column].astype("float64").to_list()
        fig.add_trace(
            go.Scatterpolar(
                r=[*values, values[0]],  # repeat the first point to close the polygon
                theta=[*theta, theta[0]],
                name=name,
                mode="lines+markers",
                line={"color": color, "dash": dash, "width": 2},
                fill=fill,
                fillcolor="rgba(200,16,46,0.15)" if fill == "toself" else None,
                hovertemplate=f"{name}<br>%{{theta}}：%{{r:.1f}}%<extra></extra>",
            )
        )
    low = float(np.nanmin(profile.loc[codes].to_numpy(dtype="float64")))
    floor = max(0.0, math.floor((low - 5) / 10) * 10)
    fig.update_polars(
        radialaxis={
            "range": [floor, 100],
            "ticksuffix": "%",
            "angle": 60,
            "dtick": 10,
            "tickfont_size": 10,
        },
        angularaxis={"direction": "clockwise", "rotation": 90},
    )
    fig = _layout(fig, title="六项指标得分率对比", height=440)
    fig.update_layout(legend={"y": -0.12, "yanchor": "top", "x": 0.5, "xanchor": "center"})
    fig.update_layout(margin={"l": 40, "r": 40, "t": 56, "b": 60})
    return fig


def judge_status(judges: pd.DataFrame) -> pd.Series:
    """Per judge: 计入, 高分剔除, 低分剔除 or 未完成 (from ``complete`` and ``dropped``)."""
    dropped = judges["dropped"].fillna("")
    complete = judges["complete"].fillna(False).astype(bool)
    status = np.select(
        [~complete, dropped == "high", dropped == "low"],
        [INCOMPLETE, DROPPED_HIGH, DROPPED_LOW],
        COUNTED,
    )
    return pd.Series(status, index=judges.index, dtype="object")


def judge_strip(judges: pd.DataFrame, rubric: Rubric, aggregated: pd.Series) -> go.Figure:
    """Strip plot: each judge's score per criterion (% of max), marked by status.

    ``judges`` is a brand's per-judge table (criteria, complete, dropped, judge name);
    ``aggregated`` the brand's row in the ranking table, drawn as a dash per criterion
    so a reader sees which scores pulled the result and which were dropped.
    """
    codes = [c.code for c in rubric.criteria]
    labels = rubric.criterion_labels()
    maxima = rubric.criterion_max()
    pct = percent_of_max(judges[codes], rubric)
    status = judge_status(judges)
    n = len(judges)
    # Spread judges side by side inside each criterion's slot, same order in every slot.
    offsets = (np.arange(n) - (n - 1) / 2) * (0.6 / max(n, 1))
    fig = go.Figure()
    for name, (symbol, color) in STATUS_STYLE.items():
        mask = (status == name).to_numpy()
        if not mask.any():
            continue
        k = int(mask.sum())
        # One point per (criterion, judge), criterion-major so each slot's points sit together.
        xs = (np.arange(len(codes))[:, None] + offsets[mask][None, :]).ravel()
        ys = pct[codes].to_numpy(dtype="float64")[mask].T.ravel()
        data = np.column_stack(
            [
                np.tile(judges["judge"].to_numpy(dtype=object)[mask], len(codes)),
                np.repeat([labels[c] for c in codes], k),
                judges[codes].to_numpy(dtype="float64")[mask].T.ravel(),
                np.repeat([maxima[c] for c in codes], k),
            ]
        )
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="markers",
                name=name,
                marker={"symbol": symbol, "color": color, "size": 11, "line": {"width": 1.5}},
                customdata=data,
                hovertemplate=(
                    "<b>%{customdata[0]}</b>（" + name + "）<br>%{customdata[1]}："
                    "%{customdata[2]} / %{customdata[3]} 分（%{y:.0f}%）<extra></extra>"
                ),
            )
        )
    final = [float(aggregated[c]) / maxima[c] * 100 for c in codes]
    fig.add_trace(
        go.Scatter(
            x=list(range(len(codes))),
            y=final,
            mode="markers",
            name="汇总得分",
            marker={"symbol": "line-ew-open", "size": 44, "color": "#262730", "line": {"width": 2}},
            customdata=[[labels[c], float(aggregated[c]), maxima[c]] for c in codes],
            hovertemplate=(
                "汇总得分<br>%{customdata[0]}：%{customdata[1]:.2f} / %{customdata[2]} 分"
                "（%{y:.1f}%）<extra></extra>"
            ),
        )
    )
    values = pct.to_numpy(dtype="float64")
    low = float(np.nanmin(values)) if np.isfinite(values).any() else 0.0
    fig.update_xaxes(
        tickvals=list(range(len(codes))),
        ticktext=[labels[c] for c in codes],
        range=[-0.5, len(codes) - 0.5],
        title_text="指标",
        showgrid=False,
    )
    fig.update_yaxes(
        title_text="得分率（%）", range=[max(0.0, math.floor((low - 5) / 10) * 10), 103]
    )
    return _layout(fig, title="各评委分项打分", height=420)


# -- display tables ------------------------------------------------------------------------
@dataclass(frozen=True)
class Flags:
    """Counts of brands whose result needs a caveat; the page warns about each."""

    under_scored: int
    mean_fallback: int
    unranked: int

    def __bool__(self) -> bool:
        return bool(self.under_scored or self.mean_fallback or self.unranked)


def _mean_fallback(table: pd.DataFrame, method: str) -> pd.Series:
    has_total = table["total"].notna()
    return has_total & (method == "trimmed") & (table["method_used"] == "mean")


def flag_counts(table: pd.DataFrame, method: str) -> Flags:
    """How many brands are under-scored, fell back to a plain mean, or have no total."""
    has_total = table["total"].notna()
    return Flags(
        under_scored=int((table["under_scored"] & has_total).sum()),
        mean_fallback=int(_mean_fallback(table, method).sum()),
        unranked=int((~has_total).sum()),
    )


def flag_notes(table: pd.DataFrame, method: str, settings: RoundSettings) -> pd.Series:
    """Per brand, the caveats on its result in words ('' when there are none)."""
    min_judges, trim_min = settings.min_judges, settings.trim_min_judges
    has_total = table["total"].notna()
    done = table["judges_complete"].astype(int).astype(str)
    parts = [
        np.where(~has_total, f"{UNRANKED}：尚无完整评分", ""),
        np.where(
            has_total & table["under_scored"].astype(bool),
            "评委不足（" + done + f"/{min_judges} 人）",
            "",
        ),
        np.where(
            _mean_fallback(table, method), f"按算术平均（不足 {trim_min} 人不去最高最低分）", ""
        ),
    ]
    notes = pd.Series("", index=table.index, dtype="object")
    for part in parts:
        part = pd.Series(part, index=table.index, dtype="object")
        glue = np.where((notes != "") & (part != ""), "；", "")
        notes = notes + glue + part
    return notes


def brand_notes(row: pd.Series, method: str, settings: RoundSettings) -> list[str]:
    """The caveats on a ranked brand's result (its ranking-table row), one per line.

    An unranked brand gets none: its page says so with an empty state instead.
    """
    if pd.isna(row["total"]):
        return []
    note = flag_notes(row.to_frame().T.infer_objects(), method, settings).iloc[0]
    return [n for n in str(note).split("；") if n]


def ranking_view(
    table: pd.DataFrame,
    rubric: Rubric,
    settings: RoundSettings,
    method: str,
    *,
    limit: int | None = None,
) -> pd.DataFrame:
    """The ranking table with Chinese column names, as the page and exports show it."""
    rows = table if limit is None else table.head(limit)
    labels = rubric.criterion_labels()
    codes = [c.code for c in rubric.criteria]
    view = pd.DataFrame(
        {
            COL_RANK: rows["rank"],
            COL_CODE: rows["brand_code"],
            COL_BRAND: rows["brand"],
            COL_BRANCH: rows["branch"],
            COL_UNIT: rows["unit"],
            COL_CATEGORY: rows["category"],
        }
    )
    for code in codes:
        view[labels[code]] = rows[code]
    view[COL_BONUS] = rows["bonus"]
    view[COL_TOTAL] = rows["total"]
    view[COL_GRADE] = rows["grade"].fillna(UNGRADED)
    view[COL_COUNTED] = rows["judges_counted"].astype("int64")
    view[COL_COMPLETE] = rows["judges_complete"].astype("int64")
    view[COL_DROPPED_HIGH] = rows["dropped_high_name"].fillna("")
    view[COL_DROPPED_LOW] = rows["dropped_low_name"].fillna("")
    view[COL_NOTE] = flag_notes(rows, method, settings)
    return view.reset_index(drop=True)


def filter_options(table: pd.DataFrame, grades: Sequence[str]) -> dict[str, list[str]]:
    """The values each ranking filter offers: units, categories (类型) and grades present."""
    present = set(table["grade"].fillna(UNGRADED))
    return {
        "unit": table.sort_values("unit_id")["unit"].dropna().unique().tolist(),
        "category": sorted(c for c in table["category"].dropna().unique().tolist() if c),
        "grade": [g for g in [*grades, UNGRADED] if g in present],
    }


def filter_table(
    table: pd.DataFrame,
    *,
    units: Sequence[str] = (),
    categories: Sequence[str] = (),
    grades: Sequence[str] = (),
) -> pd.DataFrame:
    """Rows matching every non-empty filter (an empty filter keeps all); ranks unchanged."""
    keep = pd.Series(True, index=table.index)
    if units:
        keep &= table["unit"].isin(units)
    if categories:
        keep &= table["category"].isin(categories)
    if grades:
        keep &= table["grade"].fillna(UNGRADED).isin(grades)
    return table[keep]


def brand_choices(table: pd.DataFrame) -> dict[str, str]:
    """Brand code -> picker label "1. 双红（市中心医院党委）", in ranking order."""
    ranks = (table["rank"].astype("string") + ". ").fillna(UNRANKED + " · ")
    labels = ranks + table["brand"].astype("string") + "（" + table["unit"].astype("string") + "）"
    return dict(zip(table["brand_code"], labels, strict=True))


def judge_view(judges: pd.DataFrame, rubric: Rubric) -> pd.DataFrame:
    """A brand's per-judge scores with status (计入/高分剔除/低分剔除/未完成)."""
    labels = rubric.criterion_labels()
    view = pd.DataFrame({COL_JUDGE: judges["judge"]})
    for criterion in rubric.criteria:
        view[labels[criterion.code]] = judges[criterion.code].astype("float64")
    view[COL_BONUS] = judges["bonus"].astype("float64")
    view[COL_TOTAL] = judges["total"].astype("float64")
    view[COL_STATUS] = judge_status(judges).map(lambda s: f"{STATUS_MARKS[s]} {s}")
    return view.reset_index(drop=True)


def comments_view(comments: pd.DataFrame) -> pd.DataFrame:
    """Judges' comments (评语) with Chinese headers."""
    return pd.DataFrame(
        {COL_JUDGE: comments["judge"], COL_COMMENT: comments["comment"]}
    ).reset_index(drop=True)


# -- scoring progress (admin 评分进度) -----------------------------------------------------------
#: State of one judge's sheet for one brand, as the progress matrix shows it (legend order).
PROGRESS_LABELS: dict[str, str] = {
    "done": "已提交",
    "draft": "草稿",
    "not_started": "未开始",
    "recused": "回避",
    "unassigned": "未分配",
}
PROGRESS_COLORS: dict[str, str] = {
    "done": "#59A14F",
    "draft": "#F28E2B",
    "not_started": "#E15759",
    "recused": "#9E9E9E",
    "unassigned": "#EDEDED",
}
#: Above this many brands the rows get thinner and lose their labels and cell texts.
PROGRESS_LABELLED_ROWS = 120
_PROGRESS_MAX_PX = 3000


def _discrete_scale(colors: Sequence[str]) -> list[list[float | str]]:
    """A colourscale with one flat band per category 0..n-1 (z is the category index)."""
    n = len(colors)
    scale: list[list[float | str]] = []
    for i, color in enumerate(colors):
        scale += [[i / n, color], [(i + 1) / n, color]]
    return scale


def progress_heatmap(
    cells: pd.DataFrame, brands: pd.DataFrame, judges: pd.DataFrame, *, n_items: int
) -> go.Figure:
    """Heatmap brands (rows) x judges (columns), one colour per progress state.

    ``cells``: brand_id, judge_id, state (a key of :data:`PROGRESS_LABELS`), missing,
    reason; ``brands`` indexed by brand_id with brand_code, brand, unit; ``judges``
    indexed by judge_id with judge. The hover names the brand, the judge, the state and
    how many of the ``n_items`` criterion items are still empty, or why a judge recuses.
    """
    # The colour bar reads bottom-up: give 已提交 the highest value so it sits on top.
    states = list(reversed(PROGRESS_LABELS))
    order = {s: i for i, s in enumerate(states)}
    wide = cells.pivot(index="brand_id", columns="judge_id", values="state")
    wide = wide.reindex(index=brands.index, columns=judges.index).fillna("unassigned")
    z = wide.apply(lambda col: col.map(order)).to_numpy(dtype="float64")
    missing = (
        cells.pivot(index="brand_id", columns="judge_id", values="missing")
        .reindex(index=brands.index, columns=judges.index)
        .fillna(0)
        .astype(int)
    )
    reason = (
        cells.pivot(index="brand_id", columns="judge_id", values="reason")
        .reindex(index=brands.index, columns=judges.index)
        .fillna("")
    )
    labels = wide.apply(lambda col: col.map(PROGRESS_LABELS))
    detail = np.where(
        wide.isin(["draft", "not_started"]).to_numpy(),
        "（缺 " + missing.astype(str).to_numpy(dtype=object) + f" / {n_items} 项）",
        "",
    )
    detail = np.where(
        wide.eq("recused").to_numpy(), "（" + reason.to_numpy(dtype=object) + "）", detail
    )
    names = np.repeat(brands["brand"].to_numpy(dtype=object)[:, None], len(judges), axis=1)
    units = np.repeat(brands["unit"].to_numpy(dtype=object)[:, None], len(judges), axis=1)
    n_rows = len(brands)
    labelled = n_rows <= PROGRESS_LABELLED_ROWS
    codes = brands["brand_code"].astype(str)
    short = (
        brands["brand"]
        .astype(str)
        .map(lambda s: s if len(s) <= LABEL_CHARS else s[: LABEL_CHARS - 1] + "…")
    )
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=judges["judge"].astype(str).tolist(),
            y=(codes + " " + short).tolist(),
            zmin=-0.5,
            zmax=len(states) - 0.5,
            colorscale=_discrete_scale([PROGRESS_COLORS[s] for s in states]),
            text=labels.to_numpy(dtype=object),
            texttemplate="%{text}" if labelled and len(judges) <= 25 else None,
            textfont={"size": 10},
            customdata=np.dstack([names, units, labels.to_numpy(dtype=object), detail]),
            hovertemplate=(
                "<b>%{customdata[0]}</b>（%{customdata[1]}）<br>评委：%{x}<br>"
                "状态：%{customdata[2]}%{customdata[3]}<extra></extra>"
            ),
            colorbar={
                "title": {"text": "状态"},
                "tickvals": list(range(len(states))),
                "ticktext": [PROGRESS_LABELS[s] for s in states],
                "thickness": 14,
            },
            xgap=2,
            ygap=2 if labelled else 0,
        )
    )
    fig.update_yaxes(autorange="reversed", type="category", showticklabels=labelled)
    fig.update_xaxes(side="top", type="category")
    row_px = ROW_PX if labelled else max(3, _PROGRESS_MAX_PX // max(n_rows, 1))
    height = min(_PROGRESS_MAX_PX, max(260, row_px * n_rows + 140))
    subtitle = None if labelled else f"共 {n_rows} 个品牌，行较多时不显示品牌名称，悬停可查看"
    return _layout(fig, title="评分进度（评委 × 品牌）", height=height, subtitle=subtitle)


def progress_judge_view(per_judge: pd.DataFrame) -> pd.DataFrame:
    """Per-judge totals with Chinese headers: 应评, 已提交, 草稿, 未开始, 完成率."""
    return pd.DataFrame(
        {
            "编号": per_judge["judge_code"],
            COL_JUDGE: per_judge["judge"],
            "应评": per_judge["expected"].astype(int),
            PROGRESS_LABELS["done"]: per_judge["done"].astype(int),
            PROGRESS_LABELS["draft"]: per_judge["draft"].astype(int),
            PROGRESS_LABELS["not_started"]: per_judge["not_started"].astype(int),
            "完成率": per_judge["percent"].astype("float64"),
        }
    ).reset_index(drop=True)


def progress_missing_view(missing: pd.DataFrame, n_items: int) -> pd.DataFrame:
    """What each judge still owes, with Chinese headers (one row per judge x brand)."""
    return pd.DataFrame(
        {
            COL_JUDGE: missing["judge"],
            COL_CODE: missing["brand_code"],
            COL_BRAND: missing["brand"],
            COL_UNIT: missing["unit"],
            COL_STATUS: missing["state"].map(PROGRESS_LABELS),
            "未填指标": missing["missing"].astype(int).astype(str) + f" / {n_items}",
        }
    ).reset_index(drop=True)
