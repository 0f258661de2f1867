"""Result reports (导出): a formatted workbook for the meeting, and the same ranking as CSV.

Sheets: 排名 (the meeting table), 分项得分 (every sub-indicator per brand), 评委明细
(every judge's raw scores and comment, one row per sheet, with who was dropped),
公示名单 (rank, brand, branch, unit, grade: ready to print) and 总分图 (a native
Excel bar chart of the totals).

XlsxWriter, not openpyxl: a report is written once and never edited, XlsxWriter is
about twice as fast, and it draws native charts, conditional formats, autofilters and
print setup. Table rows go through :class:`~evalcore.excel.cells.SheetBody`: with
2,400 brands the judge detail alone is 16,800 rows (~600,000 cells in the workbook),
~0.4 s that way against ~8 s through XlsxWriter's per-cell API (bench/bench_export.py).
All user text goes through :mod:`evalcore.excel.cells`, so a brand named
``=HYPERLINK(...)`` stays text, and numbers stay numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from evalcore.excel import layout
from evalcore.excel.cells import (
    BookWriter,
    TextFormat,
    as_text,
    column_letter,
    csv_text,
    to_floats,
    write_header,
    write_text,
    xml_safe,
)
from evalcore.rubric import METHODS, RoundSettings, Rubric

RANKING_SHEET = "排名"
ITEMS_SHEET = "分项得分"
DETAIL_SHEET = "评委明细"
PUBLIC_SHEET = "公示名单"
CHART_SHEET = "总分图"
SHEETS = (RANKING_SHEET, ITEMS_SHEET, DETAIL_SHEET, PUBLIC_SHEET, CHART_SHEET)

RANK, TOTAL, GRADE = "排名", "总分", "等次"
BRANCH, UNIT, CATEGORY = "党支部", "所属单位", "品牌类型"
JUDGES_COUNTED = "计分评委数"
DROPPED_HIGH, DROPPED_LOW = "去掉最高分评委", "去掉最低分评委"
NOTE = "提示"
JUDGE_CODE = "评委编号"
COMPLETE, COUNTED = "评分完整", "计分情况"
#: How a judge's sheet for a brand entered the result (评委明细 · 计分情况).
COUNTED_LABELS = {"high": "去掉（最高分）", "low": "去掉（最低分）", "": "计入"}
NOT_COUNTED = "未计入（评分不完整）"
#: The chart shows at most this many brands: beyond that bars are too thin to read.
CHART_MAX_BARS = 40
_A4 = 9
_SCORE_FORMAT = "0.00"


@dataclass(frozen=True)
class ReportData:
    """What a report shows: a round's results as plain tables (see the service).

    ``table`` is the meeting table (:func:`evalcore.ranking.ranking_table`); ``items``
    the aggregated item scores and ``judge_rows`` the per-(brand, judge) totals and
    flags of the aggregation; ``scores`` the raw long table; ``comments`` the sheets
    (brand_id, judge_id, comment), optional.
    """

    round_code: str
    round_name: str
    status_label: str
    rubric: Rubric
    settings: RoundSettings
    method: str
    table: pd.DataFrame
    items: pd.DataFrame
    judge_rows: pd.DataFrame
    scores: pd.DataFrame
    judges: pd.DataFrame
    brands: pd.DataFrame
    comments: pd.DataFrame | None = None

    @property
    def method_label(self) -> str:
        return METHODS.get(self.method, self.method)


@dataclass(frozen=True)
class Column:
    """One column of a sheet: where its values come from, how they look."""

    header: str
    kind: str  # "text", "wrap" (long text), "score" (0.00), "int"
    width: float


# -- the ranking table (排名 sheet and CSV) -------------------------------------------------
def ranking_frame(data: ReportData) -> tuple[pd.DataFrame, list[Column]]:
    """The 排名 table with Chinese headers, and how to draw each column."""
    t, rubric = data.table, data.rubric
    crit_cols = [(layout.criterion_header(rubric, c.code), t[c.code]) for c in rubric.criteria]
    frame = pd.DataFrame(
        {
            RANK: t["rank"],
            layout.BRAND_CODE: t["brand_code"],
            layout.BRAND_NAME: t["brand"],
            BRANCH: t["branch"],
            UNIT: t["unit"],
            CATEGORY: t["category"],
            **dict(crit_cols),
            layout.bonus_header(rubric): t["bonus"],
            TOTAL: t["total"],
            GRADE: t["grade"],
            JUDGES_COUNTED: t["judges_counted"],
            DROPPED_HIGH: t["dropped_high_name"],
            DROPPED_LOW: t["dropped_low_name"],
            NOTE: _notes(data),
        }
    )
    columns = [
        Column(RANK, "int", 6),
        Column(layout.BRAND_CODE, "text", 10),
        Column(layout.BRAND_NAME, "wrap", 20),
        Column(BRANCH, "wrap", 18),
        Column(UNIT, "wrap", 18),
        Column(CATEGORY, "text", 13),
        *(Column(h, "score", 10) for h, _ in crit_cols),
        Column(layout.bonus_header(rubric), "score", 9),
        Column(TOTAL, "score", 9),
        Column(GRADE, "text", 7),
        Column(JUDGES_COUNTED, "int", 7),
        Column(DROPPED_HIGH, "text", 10),
        Column(DROPPED_LOW, "text", 10),
        Column(NOTE, "wrap", 26),
    ]
    return frame, columns


def _notes(data: ReportData) -> pd.Series:
    """Why a row deserves a second look: not scored, too few judges, not trimmed."""
    t = data.table
    scored = t["total"].notna().to_numpy()
    few = np.where(
        scored & t["under_scored"].astype(bool).to_numpy(),
        f"有效评委不足{data.settings.min_judges}人",
        "",
    )
    plain_mean = np.where(
        scored & (data.method == "trimmed") & (t["method_used"] == "mean").to_numpy(),
        "未去最高最低分（按算术平均）",
        "",
    )
    none = np.where(scored, "", "暂无完整评分")
    notes = np.full(len(t), "", dtype=object)
    for part in (none, few, plain_mean):
        glue = np.where((notes != "") & (part != ""), "；", "")
        notes = notes + glue + part.astype(object)
    return pd.Series(notes, index=t.index, dtype=object)


def write_csv(data: ReportData) -> bytes:
    """The 排名 table as CSV: UTF-8 with BOM (Excel reads Chinese), CRLF, text escaped."""
    frame, columns = ranking_frame(data)
    for col in columns:
        if col.kind in ("text", "wrap"):
            frame[col.header] = frame[col.header].map(csv_text, na_action="ignore")
    text = frame.to_csv(index=False, lineterminator="\r\n", float_format="%.2f")
    return text.encode("utf-8-sig")


# -- the workbook ---------------------------------------------------------------------------
def write_report(data: ReportData) -> bytes:
    """The formatted results workbook as ``.xlsx`` bytes."""
    book = BookWriter(
        {
            "title": f"{data.round_name} 评审结果",
            "subject": f"轮次 {data.round_code}（{data.status_label}）",
            "author": "evalcore",
            "comments": f"汇总方法：{data.method_label}",
        }
    )
    wb = book.workbook
    st = _Styles(wb)
    ranking, columns = ranking_frame(data)
    ws = wb.add_worksheet(RANKING_SHEET)
    _write_table(book, ws, ranking, columns, st)
    n = len(ranking)
    total_col = ranking.columns.get_loc(TOTAL)
    note_col = ranking.columns.get_loc(NOTE)
    if n:
        ws.conditional_format(
            1,
            total_col,
            n,
            total_col,
            {
                "type": "data_bar",
                "bar_color": "#F4B183",
                "bar_solid": True,
                "min_type": "num",
                "min_value": 0,
                "max_type": "num",
                "max_value": data.rubric.max_total,
            },
        )
        note = column_letter(note_col)
        ws.conditional_format(
            1,
            0,
            n,
            len(columns) - 1,
            {"type": "formula", "criteria": f'=${note}2<>""', "format": st.flagged},
        )
    _print_setup(ws, data, RANKING_SHEET, landscape=True)

    _write_items_sheet(book, wb.add_worksheet(ITEMS_SHEET), data, st)
    _write_detail_sheet(book, wb.add_worksheet(DETAIL_SHEET), data, st)
    _write_public_sheet(book, wb.add_worksheet(PUBLIC_SHEET), data, st)
    _write_chart(wb, data, ranking)
    return book.close()


class _Styles:
    def __init__(self, wb: Workbook) -> None:
        border = {"border": 1, "border_color": "#BFBFBF", "valign": "top"}
        self.title = TextFormat.add(
            wb, {"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"}
        )
        self.subtitle = TextFormat.add(wb, {"align": "center", "font_color": "#595959"})
        self.header = TextFormat.add(
            wb,
            {
                **border,
                "bold": True,
                "text_wrap": True,
                "align": "center",
                "valign": "vcenter",
                "fg_color": "#C00000",
                "font_color": "#FFFFFF",
            },
        )
        self.text = TextFormat.add(wb, border)
        self.wrap = TextFormat.add(wb, {**border, "text_wrap": True})
        self.score = wb.add_format({**border, "num_format": _SCORE_FORMAT})
        self.int = wb.add_format({**border, "num_format": "0", "align": "center"})
        self.flagged = wb.add_format({"bg_color": "#FFF2CC"})
        self.public_text = TextFormat.add(
            wb, {**border, "font_size": 12, "valign": "vcenter", "text_wrap": True}
        )
        self.public_int = wb.add_format(
            {**border, "font_size": 12, "valign": "vcenter", "align": "center", "num_format": "0"}
        )
        self.public_header = TextFormat.add(
            wb,
            {
                **border,
                "bold": True,
                "font_size": 12,
                "align": "center",
                "valign": "vcenter",
                "fg_color": "#F2F2F2",
            },
        )

    def number(self, kind: str) -> Format:
        return self.int if kind == "int" else self.score

    def text_for(self, kind: str) -> TextFormat:
        return self.wrap if kind == "wrap" else self.text


def _write_table(
    book: BookWriter,
    ws: Worksheet,
    table: pd.DataFrame | Mapping[str, np.ndarray],
    columns: Sequence[Column],
    st: _Styles,
    *,
    key_columns: int = 3,
) -> None:
    """Header in row 1, data below; frozen header and key columns, autofilter.

    ``table`` maps each column's header to its values (a DataFrame does).
    """
    n = len(table[columns[0].header])
    write_header(ws, 0, [c.header for c in columns], st.header)
    ws.set_row(0, 36)
    body = book.body(ws, 1, n)
    for col, spec in enumerate(columns):
        values = table[spec.header]
        ws.set_column(col, col, spec.width)
        if spec.kind in ("score", "int"):
            body.numbers(col, to_floats(values), st.number(spec.kind))
        else:
            body.text(col, np.asarray(values, dtype=object), st.text_for(spec.kind))
    ws.freeze_panes(1, key_columns)
    ws.autofilter(0, 0, max(n, 1), len(columns) - 1)


def _write_items_sheet(book: BookWriter, ws: Worksheet, data: ReportData, st: _Styles) -> None:
    """分项得分: every sub-indicator's aggregated score per brand, in ranking order."""
    rubric, t = data.rubric, data.table
    items = data.items.reindex(index=t["brand_id"], columns=rubric.item_codes)
    frame = pd.DataFrame(
        {
            RANK: t["rank"].to_numpy(),
            layout.BRAND_CODE: t["brand_code"].to_numpy(),
            layout.BRAND_NAME: t["brand"].to_numpy(),
            **{layout.item_header(rubric, c): items[c].to_numpy() for c in rubric.item_codes},
            layout.bonus_header(rubric): t["bonus"].to_numpy(),
            TOTAL: t["total"].to_numpy(),
        }
    )
    columns = [
        Column(RANK, "int", 6),
        Column(layout.BRAND_CODE, "text", 10),
        Column(layout.BRAND_NAME, "wrap", 20),
        *(Column(layout.item_header(rubric, c), "score", 10) for c in rubric.item_codes),
        Column(layout.bonus_header(rubric), "score", 9),
        Column(TOTAL, "score", 9),
    ]
    _write_table(book, ws, frame, columns, st)
    ws.set_row(0, 66)  # wrapped "<criterion>-<item>(N分)"
    _print_setup(ws, data, ITEMS_SHEET, landscape=True)


def detail_columns(data: ReportData) -> dict[str, np.ndarray]:
    """评委明细 columns: one row per (brand, judge) sheet with a score or a comment.

    Built with integer keys and one scatter into a (sheet x item) grid instead of a
    pivot: 16,800 sheets x 20 items take ~20 ms this way, a ``pivot_table`` ~150 ms.
    Sorted by brand code, then judge code, so a brand's judges sit together and the
    dropped highest and lowest can be checked by eye. Plain arrays, not a DataFrame:
    pandas would convert the text to Arrow strings and the writer straight back.
    """
    rubric = data.rubric
    codes = rubric.item_codes
    scores = data.scores
    # factorize, then place the ~20 distinct codes: 10x faster than a Categorical here
    seen, distinct = pd.factorize(scores["item"])
    item_pos = pd.Index(codes).get_indexer(distinct)[seen] if len(seen) else seen
    known = item_pos >= 0  # items no longer in the rubric were ignored by the aggregation
    score_b = scores["brand_id"].to_numpy(dtype="int64")[known]
    score_j = scores["judge_id"].to_numpy(dtype="int64")[known]
    comments = _sheet_comments(data.comments)
    comment_b = comments["brand_id"].to_numpy(dtype="int64")
    comment_j = comments["judge_id"].to_numpy(dtype="int64")
    stride = int(max(score_j.max(initial=0), comment_j.max(initial=0))) + 1
    score_key = score_b * stride + score_j
    # hash, not sort: the rows are ordered by brand and judge code at the end anyway
    inverse, keys = pd.factorize(np.concatenate([score_key, comment_b * stride + comment_j]))
    grid = np.full((len(keys), len(codes)), np.nan)
    grid[inverse[: len(score_key)], item_pos[known]] = scores["value"].to_numpy(dtype="float64")[
        known
    ]
    brand_ids, judge_ids = keys // stride, keys % stride

    rows = data.judge_rows.reset_index()
    at = pd.Index(
        rows["brand_id"].to_numpy(dtype="int64") * stride + rows["judge_id"].to_numpy(dtype="int64")
    ).get_indexer(keys)
    found = at >= 0
    complete = np.where(found, rows["complete"].to_numpy(dtype=bool)[at], False)
    total = np.where(found, rows["total"].to_numpy(dtype="float64")[at], np.nan)
    dropped = np.where(found, rows["dropped"].to_numpy(dtype=object)[at], "")
    counted = np.select(
        [~complete, dropped == "high", dropped == "low"],
        [NOT_COUNTED, COUNTED_LABELS["high"], COUNTED_LABELS["low"]],
        COUNTED_LABELS[""],
    )
    comment_at = pd.Index(comment_b * stride + comment_j).get_indexer(keys)
    comment = np.where(
        comment_at >= 0, comments["comment"].to_numpy(dtype=object)[comment_at], None
    )

    brands = data.brands.sort_values("brand_code")
    judges = data.judges.sort_values("judge_code")
    brand_at = brands.index.get_indexer(brand_ids)
    judge_at = judges.index.get_indexer(judge_ids)
    order = np.lexsort((judge_at, brand_at))

    def pick(frame: pd.DataFrame, column: str, at: np.ndarray) -> np.ndarray:
        values = frame[column].to_numpy(dtype=object)
        return np.where(at >= 0, values[at], None)[order]

    return {
        layout.BRAND_CODE: pick(brands, "brand_code", brand_at),
        layout.BRAND_NAME: pick(brands, "brand", brand_at),
        JUDGE_CODE: pick(judges, "judge_code", judge_at),
        layout.LONG_JUDGE: pick(judges, "judge", judge_at),
        **{layout.item_header(rubric, c): grid[order, i] for i, c in enumerate(codes)},
        layout.TOTAL: total[order],
        COMPLETE: np.where(complete, "是", "否")[order],
        COUNTED: counted[order],
        layout.COMMENT: comment[order],
    }


def _sheet_comments(sheets: pd.DataFrame | None) -> pd.DataFrame:
    """Sheets whose comment has text, one row per (brand, judge)."""
    if sheets is None or sheets.empty:
        return pd.DataFrame({"brand_id": [], "judge_id": [], "comment": []})
    text = sheets["comment"].fillna("").astype(str)
    keep = sheets[text.str.strip() != ""]
    return keep.drop_duplicates(["brand_id", "judge_id"])[["brand_id", "judge_id", "comment"]]


def _write_detail_sheet(book: BookWriter, ws: Worksheet, data: ReportData, st: _Styles) -> None:
    rubric = data.rubric
    frame = detail_columns(data)
    columns = [
        Column(layout.BRAND_CODE, "text", 10),
        Column(layout.BRAND_NAME, "wrap", 18),
        Column(JUDGE_CODE, "text", 8),
        Column(layout.LONG_JUDGE, "text", 9),
        *(Column(layout.item_header(rubric, c), "score", 9) for c in rubric.item_codes),
        Column(layout.TOTAL, "score", 8),
        Column(COMPLETE, "text", 6),
        Column(COUNTED, "text", 12),
        Column(layout.COMMENT, "wrap", 40),
    ]
    _write_table(book, ws, frame, columns, st, key_columns=4)
    ws.set_row(0, 66)
    _print_setup(ws, data, DETAIL_SHEET, landscape=True)


def _write_public_sheet(book: BookWriter, ws: Worksheet, data: ReportData, st: _Styles) -> None:
    """公示名单: ranked brands only, large type, title on top, fits A4 portrait."""
    t = data.table[data.table["total"].notna()]
    headers = [RANK, layout.BRAND_NAME, BRANCH, UNIT, GRADE]
    widths = [8, 28, 26, 28, 10]
    last = len(headers) - 1
    ws.merge_range(0, 0, 0, last, "", st.title.plain)
    write_text(ws, 0, 0, f"{data.round_name}结果公示名单", st.title)
    ws.set_row(0, 36)
    ws.merge_range(1, 0, 1, last, "", st.subtitle.plain)
    subtitle = f"（共 {len(t)} 个品牌，按总分排名）" if len(t) else "（暂无评审结果）"
    write_text(ws, 1, 0, subtitle, st.subtitle)
    write_header(ws, 2, headers, st.public_header)
    ws.set_row(2, 24)
    for col, width in enumerate(widths):
        ws.set_column(col, col, width)
    body = book.body(ws, 3, len(t))
    body.numbers(0, t["rank"].to_numpy(dtype="float64", na_value=np.nan), st.public_int)
    for col, name in enumerate(["brand", "branch", "unit", "grade"], start=1):
        body.text(col, t[name].to_numpy(dtype=object), st.public_text)
    ws.set_default_row(22)
    ws.repeat_rows(0, 2)
    ws.set_portrait()
    ws.set_paper(_A4)
    ws.fit_to_pages(1, 0)
    ws.center_horizontally()
    ws.set_margins(left=0.5, right=0.5, top=0.7, bottom=0.7)
    ws.set_footer("&C第 &P 页，共 &N 页")


def _write_chart(wb: Workbook, data: ReportData, ranking: pd.DataFrame) -> None:
    """总分图: horizontal bars of the top totals, rank 1 on top, read from 排名."""
    ranked = int(ranking[TOTAL].notna().sum())
    bars = min(ranked, CHART_MAX_BARS)
    sheet = wb.add_chartsheet(CHART_SHEET)
    chart = wb.add_chart({"type": "bar"})
    name_col = ranking.columns.get_loc(layout.BRAND_NAME)
    total_col = ranking.columns.get_loc(TOTAL)
    last_row = max(bars, 1)  # rows 2..bars+1 in Excel terms (0-based 1..bars)
    chart.add_series(
        {
            "name": TOTAL,
            "categories": [RANKING_SHEET, 1, name_col, last_row, name_col],
            "values": [RANKING_SHEET, 1, total_col, last_row, total_col],
            # The chart's cached points: the rows are written by a SheetBody, which
            # XlsxWriter cannot read back, and without a cache it would take the names
            # for numbers until the file is recalculated.
            "categories_data": [
                xml_safe(as_text(v)) for v in ranking[layout.BRAND_NAME].iloc[:last_row]
            ],
            "values_data": to_floats(ranking[TOTAL].iloc[:last_row]).tolist(),
            "fill": {"color": "#C00000"},
            "data_labels": {"value": True, "num_format": _SCORE_FORMAT},
            "gap": 60,
        }
    )
    title = "各品牌总分" if bars == ranked else f"总分前 {bars} 名"
    chart.set_title({"name": f"{data.round_name} {title}", "name_font": {"size": 14}})
    chart.set_legend({"none": True})
    chart.set_x_axis(
        {
            "min": 0,
            "max": data.rubric.max_total,
            "num_format": "0",
            "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
        }
    )
    chart.set_y_axis({"reverse": True})  # bar charts: y is the category axis
    sheet.set_chart(chart)
    sheet.set_landscape()
    sheet.set_paper(_A4)


def _print_setup(ws: Worksheet, data: ReportData, sheet: str, *, landscape: bool) -> None:
    """A4, fitted to the width, header row on every page, round and page in the margins."""
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_paper(_A4)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.set_margins(left=0.3, right=0.3, top=0.7, bottom=0.6)
    # Excel allows 255 characters per header; a long round name is cut, never rejected.
    ws.set_header(f"&L{_amp(data.round_name[:80])}&C{sheet}&R汇总方法：{_amp(data.method_label)}")
    ws.set_footer("&C第 &P 页，共 &N 页")


def _amp(text: str) -> str:
    """Header/footer text: ``&`` starts a control code, so a literal one is doubled."""
    return text.replace("&", "&&")
