"""Figure builders and display tables of :mod:`evalcore.charts`, on the real demo results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from sqlalchemy import Engine

from evalcore import charts, services
from evalcore.rubric import DEFAULT_GRADE_BANDS, FAIL_GRADE
from evalcore.stats import percent_of_max
from tests.factories import OPERATOR

GRADES = charts.grade_labels(DEFAULT_GRADE_BANDS)


@pytest.fixture
def results(sqlite_demo: Engine) -> services.RoundResults:
    return services.round_results(sqlite_demo, actor=OPERATOR, round_code="2026")


@pytest.fixture
def detail(results: services.RoundResults, sqlite_demo: Engine) -> services.BrandDetail:
    """The rank-1 brand: trimmed, so one judge is dropped high and one low."""
    top = results.table.iloc[0]["brand_code"]
    return services.brand_detail(results, sqlite_demo, actor=OPERATOR, brand_code=top)


def big_table(table: pd.DataFrame, copies: int) -> pd.DataFrame:
    """``copies`` x the demo's brands with distinct codes, names and ranks (a 1000-brand round)."""
    parts = []
    for i in range(copies):
        part = table.copy()
        part["brand_code"] = part["brand_code"] + f"-{i}"
        part["brand"] = part["brand"] + f"{i}"
        part["total"] = part["total"] - i * 0.01
        parts.append(part)
    big = pd.concat(parts, ignore_index=True).sort_values("total", ascending=False)
    big["rank"] = pd.array(np.arange(1, len(big) + 1), dtype="Int64")
    return big.reset_index(drop=True)


def all_figures(results: services.RoundResults, detail: services.BrandDetail) -> list[go.Figure]:
    table, rubric, bands = results.table, results.rubric, results.settings.grade_bands
    return [
        charts.grade_distribution(table, GRADES),
        charts.score_histogram(table, bands, rubric.max_total),
        charts.ranking_bars(table, GRADES, max_total=rubric.max_total, thresholds=bands),
        charts.criteria_heatmap(table, rubric),
        charts.brand_radar(detail.profile, rubric, detail.row["brand"]),
        charts.judge_strip(detail.judges, rubric, detail.row),
    ]


def test_every_figure_uses_cjk_fonts_and_chinese_title(results, detail):
    for fig in all_figures(results, detail):
        assert fig.layout.font.family == charts.FONT_FAMILY
        assert fig.layout.font.family.startswith("Noto Sans CJK SC")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in fig.layout.title.text)
        fig.to_json()  # serialisable as Streamlit will send it


def test_grade_distribution_counts_each_grade(results):
    fig = charts.grade_distribution(results.table, GRADES)
    (bar,) = fig.data
    assert bar.type == "bar"
    assert list(bar.x) == GRADES
    expected = results.table["grade"].value_counts().reindex(GRADES, fill_value=0)
    assert list(bar.y) == expected.tolist()
    assert sum(bar.y) == len(results.table) == 26
    assert list(bar.marker.color) == [charts.GRADE_COLORS[g] for g in GRADES]
    assert fig.layout.xaxis.title.text == "等次"
    assert fig.layout.yaxis.title.text == "品牌数"


def test_grade_distribution_shows_unranked_brands(results):
    table = results.table.assign(total=results.table["total"].mask([True] + [False] * 25))
    table["grade"] = table["grade"].where(table["total"].notna())
    (bar,) = charts.grade_distribution(table, GRADES).data
    assert list(bar.x)[-1] == charts.UNGRADED
    assert bar.y[-1] == 1


def test_score_histogram_stacks_totals_by_grade_with_thresholds(results):
    bands = results.settings.grade_bands
    fig = charts.score_histogram(results.table, bands, results.rubric.max_total)
    assert [t.type for t in fig.data] == ["histogram"] * 4
    assert [t.name for t in fig.data] == GRADES
    assert fig.layout.barmode == "stack"
    assert sorted(np.concatenate([np.asarray(t.x, dtype=float) for t in fig.data])) == sorted(
        results.scored["total"]
    )
    for trace in fig.data:  # every trace holds only its own grade's totals
        grade_totals = results.table.loc[results.table["grade"] == trace.name, "total"]
        assert sorted(trace.x) == sorted(grade_totals)
    assert sorted(shape.x0 for shape in fig.layout.shapes) == [60.0, 80.0, 90.0]
    assert {a.text for a in fig.layout.annotations} == {"优秀 ≥ 90", "良好 ≥ 80", "合格 ≥ 60"}
    assert fig.layout.xaxis.title.text == "总分"


def test_ranking_bars_orders_by_rank_and_colours_by_grade(results):
    rubric = results.rubric
    fig = charts.ranking_bars(results.table, GRADES, max_total=rubric.max_total)
    assert {t.type for t in fig.data} == {"bar"}
    assert {t.orientation for t in fig.data} == {"h"}
    assert sum(len(t.x) for t in fig.data) == 26
    order = list(fig.layout.yaxis.categoryarray)
    top = results.table.iloc[0]
    assert order[0] == f"1. {top['brand']}"
    assert fig.layout.yaxis.autorange == "reversed"  # rank 1 at the top
    for trace in fig.data:
        assert trace.marker.color == charts.GRADE_COLORS[trace.name]
        rows = results.table[results.table["grade"] == trace.name]
        assert list(trace.x) == rows["total"].tolist()
        assert list(trace.customdata[:, 0]) == rows["brand"].tolist()  # hover names the brand
    assert fig.layout.xaxis.title.text == "总分"
    assert fig.layout.title.subtitle.text is None  # all 26 shown, no cap note
    assert 26 * charts.ROW_PX < fig.layout.height < 1000


def test_long_brand_names_are_shortened_on_the_axis_only(results):
    fig = charts.ranking_bars(results.table, GRADES, max_total=105)
    longest = results.table.loc[results.table["brand"].str.len().idxmax()]
    assert len(longest["brand"]) > charts.LABEL_CHARS
    label = next(y for y in fig.layout.yaxis.categoryarray if y.startswith(f"{longest['rank']}. "))
    assert label.endswith("…")
    hover_names = {name for t in fig.data for name in t.customdata[:, 0]}
    assert longest["brand"] in hover_names


def test_ranking_bars_cap_a_thousand_brands_with_a_note(results):
    big = big_table(results.table, 40)
    assert len(big) == 1040
    fig = charts.ranking_bars(big, GRADES, max_total=105)
    assert sum(len(t.x) for t in fig.data) == charts.CHART_LIMIT
    assert fig.layout.height < 1600
    assert "前 50 名" in fig.layout.title.subtitle.text
    assert "1040" in fig.layout.title.subtitle.text


def test_criteria_heatmap_is_percent_of_max_per_criterion(results):
    rubric = results.rubric
    fig = charts.criteria_heatmap(results.table, rubric)
    (heat,) = fig.data
    assert heat.type == "heatmap"
    assert list(heat.x) == ["品牌名称", "品牌内涵", "创建机制", "活动载体", "服务规范", "群众影响"]
    z = np.asarray(heat.z)
    assert z.shape == (26, 6)
    codes = [c.code for c in rubric.criteria]
    expected = percent_of_max(results.table[codes], rubric).to_numpy()
    np.testing.assert_allclose(z, expected)
    assert heat.y[0] == f"1. {results.table.iloc[0]['brand']}"
    assert heat.zmax == 100
    assert heat.customdata[0][0][0] == results.table.iloc[0]["brand"]


def test_criteria_heatmap_caps_rows(results):
    fig = charts.criteria_heatmap(big_table(results.table, 40), results.rubric, limit=30)
    assert len(fig.data[0].y) == 30
    assert "前 30 名" in fig.layout.title.subtitle.text


def test_brand_radar_compares_brand_with_round_and_unit_medians(results, detail):
    fig = charts.brand_radar(detail.profile, results.rubric, detail.row["brand"])
    assert [t.type for t in fig.data] == ["scatterpolar"] * 3
    assert [t.name for t in fig.data] == [detail.row["brand"], "全轮中位数", "本单位中位数"]
    for trace, column in zip(fig.data, ["brand", "round_median", "unit_median"], strict=True):
        assert trace.theta[0] == trace.theta[-1] == "品牌名称"  # closed polygon
        assert trace.r[0] == trace.r[-1]
        np.testing.assert_allclose(trace.r[:-1], detail.profile[column].to_numpy())
    assert fig.layout.polar.radialaxis.range[1] == 100
    assert fig.layout.polar.radialaxis.range[0] <= detail.profile.to_numpy().min()


def test_judge_strip_marks_dropped_judges(results, detail):
    row = detail.row
    fig = charts.judge_strip(detail.judges, results.rubric, row)
    by_name = {t.name: t for t in fig.data}
    assert {t.type for t in fig.data} == {"scatter"}
    assert set(by_name) == {charts.COUNTED, charts.DROPPED_HIGH, charts.DROPPED_LOW, "汇总得分"}
    high, low = by_name[charts.DROPPED_HIGH], by_name[charts.DROPPED_LOW]
    assert len(high.x) == len(low.x) == 6  # one judge each, six criteria
    assert {d[0] for d in high.customdata} == {row["dropped_high_name"]}
    assert {d[0] for d in low.customdata} == {row["dropped_low_name"]}
    assert high.marker.symbol == "triangle-up"
    assert low.marker.symbol == "triangle-down"
    counted = detail.judges["counted"].sum()
    assert len(by_name[charts.COUNTED].x) == 6 * counted
    summary = by_name["汇总得分"]
    maxima = results.rubric.criterion_max()
    expected = [row[c] / maxima[c] * 100 for c in maxima]
    np.testing.assert_allclose(summary.y, expected)
    assert list(fig.layout.xaxis.ticktext) == list(results.rubric.criterion_labels().values())


def test_judge_strip_shows_incomplete_sheets():
    judges = pd.DataFrame(
        {
            "judge": ["甲", "乙"],
            **{c: [10.0, np.nan] for c in ["name", "connotation", "standards", "impact"]},
            **{c: [15.0, 12.0] for c in ["mechanism", "carriers"]},
            "bonus": [0.0, 0.0],
            "total": [70.0, 24.0],
            "complete": [True, False],
            "dropped": ["", ""],
            "counted": [True, False],
        }
    )
    from evalcore.rubric import default_rubric

    row = pd.Series({c: 10.0 for c in ["name", "connotation", "standards", "impact"]})
    row["mechanism"] = row["carriers"] = 15.0
    fig = charts.judge_strip(judges, default_rubric(), row)
    incomplete = next(t for t in fig.data if t.name == charts.INCOMPLETE)
    assert incomplete.marker.symbol == "circle-open"
    assert {d[0] for d in incomplete.customdata} == {"乙"}
    view = charts.judge_view(judges, default_rubric())
    assert view[charts.COL_STATUS].tolist() == ["● 计入", "○ 未完成（不计入）"]


def test_grade_colours_are_the_same_in_every_chart(results):
    table, bands = results.table, results.settings.grade_bands
    dist = charts.grade_distribution(table, GRADES).data[0]
    from_dist = dict(zip(dist.x, dist.marker.color, strict=True))
    hist = charts.score_histogram(table, bands, 105)
    bars = charts.ranking_bars(table, GRADES, max_total=105)
    for trace in [*hist.data, *bars.data]:
        assert trace.marker.color == from_dist[trace.name]
    assert from_dist[FAIL_GRADE] == charts.GRADE_COLORS[FAIL_GRADE]


def test_custom_grade_labels_get_distinct_colours():
    colors = charts.grade_colors(["A", "B", "优秀", "C"])
    assert colors["优秀"] == charts.GRADE_COLORS["优秀"]
    assert len({colors["A"], colors["B"], colors["C"], colors["优秀"]}) == 4


def test_ranking_view_has_chinese_columns_in_meeting_order(results):
    view = charts.ranking_view(results.table, results.rubric, results.settings, results.method)
    assert list(view.columns) == [
        "名次",
        "编号",
        "品牌",
        "支部",
        "单位",
        "类型",
        "品牌名称",
        "品牌内涵",
        "创建机制",
        "活动载体",
        "服务规范",
        "群众影响",
        "加分",
        "总分",
        "等次",
        "计入评委数",
        "完成评分评委数",
        "去掉最高分",
        "去掉最低分",
        "提示",
    ]
    top = results.table.iloc[0]
    first = view.iloc[0]
    assert (first["名次"], first["品牌"], first["总分"]) == (1, top["brand"], top["total"])
    assert first["去掉最高分"] == top["dropped_high_name"]
    # A caveat exactly where a brand has too few judges or fell back to the plain mean.
    caveat = results.table["under_scored"] | (results.table["method_used"] != results.method)
    assert ((view["提示"] != "").to_numpy() == caveat.to_numpy()).all()
    assert len(charts.ranking_view(results.table, results.rubric, results.settings, "trimmed",
                                   limit=10)) == 10  # fmt: skip


def test_flags_for_too_few_judges_and_unscored_brands(sqlite_url):
    engine = services.open_database(sqlite_url, seed_demo=False).engine
    services.load_demo(engine, brands=12, judges=3)
    results = services.round_results(engine, actor=OPERATOR, round_code="2025")  # no gaps
    table = results.table.copy()
    table.loc[table.index[-1], ["total", "grade", "rank"]] = [np.nan, None, pd.NA]
    counts = charts.flag_counts(table, results.method)
    assert counts == charts.Flags(under_scored=11, mean_fallback=11, unranked=1)
    assert counts
    notes = charts.flag_notes(table, results.method, results.settings)
    assert notes.iloc[0] == "评委不足（3/5 人）；按算术平均（不足 5 人不去最高最低分）"
    assert notes.iloc[-1] == "未排名：尚无完整评分"
    assert charts.brand_notes(table.iloc[-1], results.method, results.settings) == []
    assert charts.brand_notes(table.iloc[0], results.method, results.settings) == [
        "评委不足（3/5 人）",
        "按算术平均（不足 5 人不去最高最低分）",
    ]
    # With the mean chosen on purpose, a plain mean is no caveat.
    assert charts.flag_counts(table, "mean").mean_fallback == 0
    assert not charts.flag_counts(table.iloc[:0], "trimmed")


def test_filters_keep_matching_rows_and_ranks(results):
    table = results.table
    options = charts.filter_options(table, GRADES)
    assert options["unit"][0] == "市税务局机关党委"  # in unit order, not by code point
    assert set(options["unit"]) == set(table["unit"])
    assert options["category"] == sorted(set(table["category"]))
    assert options["grade"] == [g for g in GRADES if g in set(table["grade"])]
    unit = options["unit"][-1]
    shown = charts.filter_table(table, units=[unit])
    assert len(shown) == (table["unit"] == unit).sum() < len(table)
    assert shown["rank"].tolist() == table.loc[table["unit"] == unit, "rank"].tolist()
    both = charts.filter_table(table, units=[unit], grades=["优秀"])
    assert set(both["grade"]) <= {"优秀"} and len(both) <= len(shown)
    assert len(charts.filter_table(table)) == len(table)


def test_brand_choices_in_ranking_order(results):
    choices = charts.brand_choices(results.table)
    top = results.table.iloc[0]
    assert next(iter(choices)) == top["brand_code"]
    assert choices[top["brand_code"]] == f"1. {top['brand']}（{top['unit']}）"
    unranked = results.table.assign(rank=pd.array([pd.NA] * 26, dtype="Int64"))
    assert next(iter(charts.brand_choices(unranked).values())).startswith("未排名 · ")


def test_judge_and_comment_views(detail):
    view = charts.judge_view(detail.judges, detail.rubric)
    assert list(view.columns)[:2] == ["评委", "品牌名称"]
    status = dict(zip(view["评委"], view["状态"], strict=True))
    assert status[detail.row["dropped_high_name"]] == "▲ 高分剔除"
    assert status[detail.row["dropped_low_name"]] == "▼ 低分剔除"
    assert list(status.values()).count("● 计入") == detail.row["judges_counted"]
    comments = charts.comments_view(detail.comments)
    assert list(comments.columns) == ["评委", "评语"]
    assert len(comments) == len(detail.comments) > 0
