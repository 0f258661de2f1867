"""Score-sheet templates (评分表): one sheet per judge, ready to fill in Excel or WPS.

Written with XlsxWriter rather than openpyxl: we only ever create these files, never
edit one, and XlsxWriter writes about twice as fast while supporting everything a
template needs (data validation with input and error messages, sheet protection with
unlocked input cells, very hidden sheets, print setup). The brand rows go through
:class:`~evalcore.excel.cells.SheetBody` (2,400 brands x 7 judges in ~0.3 s instead
of ~8 s through the per-cell API). openpyxl stays a reader, in tests.

What a judge sheet looks like is fixed by :mod:`evalcore.excel.layout`; this module
only draws it. The hidden metadata sheet (layout :class:`~layout.TemplateMeta`) ties
each sheet to its judge id, but nothing here depends on it being read back: a sheet
typed by hand with the same headers imports the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from evalcore.excel import layout
from evalcore.excel.cells import BookWriter, TextFormat, column_letter, write_header, write_text
from evalcore.rubric import BONUS, FAIL_GRADE, METHODS, RoundSettings, Rubric

#: Excel's limits for data-validation texts (UTF-16 code units); longer ones are cut.
_TITLE_LIMIT, _MESSAGE_LIMIT = 32, 255
_A4 = 9
_KEY_COLUMNS = 2  # 品牌编号, 品牌名称: frozen, printed on every page
_WIDTHS = {"code": 10.0, "name": 22.0, "item": 9.5, "total": 8.0, "comment": 36.0}
_HEADER_HEIGHT = 78  # points: room for a wrapped "<criterion>-<item>(N分)"


@dataclass(frozen=True)
class TemplateData:
    """Everything a template shows; the service reads it, this module only draws it.

    ``brands`` is indexed by brand_id with ``brand_code`` and ``brand``; ``judges`` by
    judge_id with ``judge_code`` and ``judge`` (in sheet order); ``pairs`` lists the
    (brand_id, judge_id) rows to print. ``scores`` (brand_id, judge_id, item, value)
    and ``comments`` (brand_id, judge_id, comment) prefill the sheets when given.
    """

    round_code: str
    round_name: str
    rubric: Rubric
    brands: pd.DataFrame
    judges: pd.DataFrame
    pairs: pd.DataFrame
    settings: RoundSettings | None = None
    scores: pd.DataFrame | None = None
    comments: pd.DataFrame | None = None
    generated_at: str = ""


def write_template(data: TemplateData) -> bytes:
    """The template workbook as ``.xlsx`` bytes."""
    book = BookWriter(
        {
            "title": f"{data.round_name} 评分表",
            "subject": f"轮次 {data.round_code}",
            "author": "evalcore",
            "comments": "由 evalcore 生成；请勿修改表头和隐藏页",
        }
    )
    workbook = book.workbook
    styles = _Styles(workbook)
    instructions = workbook.add_worksheet(layout.INSTRUCTIONS_SHEET)
    _write_instructions(instructions, data, styles)

    sheets: dict[str, layout.SheetMeta] = {}
    first_judge_sheet: Worksheet | None = None
    for judge_id, judge in data.judges.iterrows():
        name = layout.judge_sheet_name(str(judge["judge"]), sheets)
        ws = workbook.add_worksheet(name)
        first_judge_sheet = first_judge_sheet or ws
        _write_judge_sheet(book, ws, data, int(judge_id), str(judge["judge"]), styles)
        sheets[name] = layout.SheetMeta(
            judge_id=int(judge_id),
            judge_code=str(judge["judge_code"]),
            judge_name=str(judge["judge"]),
        )

    meta = layout.TemplateMeta(
        round_code=data.round_code,
        round_name=data.round_name,
        rubric_version=data.rubric.version,
        items=tuple(data.rubric.item_codes),
        generated_at=data.generated_at,
        sheets=sheets,
    )
    _write_meta(workbook.add_worksheet(layout.META_SHEET), meta, styles)
    if len(sheets) == 1 and first_judge_sheet is not None:
        first_judge_sheet.activate()  # one judge: open on their sheet, not the instructions
    return book.close()


class _Styles:
    """The template's formats, created once per workbook."""

    def __init__(self, wb: Workbook) -> None:
        border = {"border": 1, "border_color": "#9E9E9E", "valign": "vcenter"}
        self.title = TextFormat.add(wb, {"bold": True, "font_size": 14, "valign": "vcenter"})
        self.subtitle = TextFormat.add(wb, {"bold": True, "font_size": 11})
        self.note = TextFormat.add(wb, {"text_wrap": True, "valign": "top"})
        self.header = TextFormat.add(
            wb,
            {
                **border,
                "bold": True,
                "text_wrap": True,
                "align": "center",
                "fg_color": "#C00000",
                "font_color": "#FFFFFF",
            },
        )
        self.key = TextFormat.add(wb, {**border, "fg_color": "#F2F2F2", "text_wrap": True})
        self.cell = TextFormat.add(wb, {**border, "text_wrap": True, "valign": "top"})
        self.score = wb.add_format({**border, "locked": False, "align": "center"})
        self.comment = TextFormat.add(wb, {**border, "locked": False, "text_wrap": True})
        # General number format: 97 shows as 97 and 97.5 as 97.5 ("0.##" would print "97.")
        self.total = wb.add_format({**border, "fg_color": "#F2F2F2", "bold": True})
        self.meta = TextFormat.add(wb, {})


def _utf16_cut(text: str, limit: int) -> str:
    """Cut ``text`` to Excel's limit (UTF-16 units), marking the cut with an ellipsis."""
    units = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    if sum(units) <= limit:
        return text
    kept, used = [], 0
    for ch, width in zip(text, units, strict=True):
        if used + width > limit - 1:  # keep one unit for the ellipsis
            break
        kept.append(ch)
        used += width
    return "".join(kept) + "…"


def _write_instructions(ws: Worksheet, data: TemplateData, st: _Styles) -> None:
    """填表说明: how to fill the sheets, then the whole rubric with points and rules."""
    rubric = data.rubric
    cap = layout.format_points(rubric.effective_bonus_cap)
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 20)
    ws.set_column(2, 2, 7)
    ws.set_column(3, 3, 46)
    ws.set_column(4, 4, 24)
    ws.set_column(5, 5, 28)
    last_col = 5
    ws.merge_range(0, 0, 0, last_col, "", st.title.plain)
    write_text(ws, 0, 0, f"{data.round_name} 评分表 · 填表说明", st.title)
    ws.set_row(0, 28)
    notes = [
        "本工作簿每位评委一张工作表，表名为评委姓名。请只在白色单元格中填写分数和评语，"
        "其余单元格已锁定（无密码保护，如需调整列宽可直接拖动）。",
        "每个二级指标填写 0 至该项满分之间的分数，可填小数（如 4.5）；"
        "超出范围的数会被拒绝，把鼠标停在单元格上可查看该项评分标准。",
        f"加分项没有可留空（按 0 分计）；加分合计最多 {cap} 分，「{layout.TOTAL}」列会自动封顶。"
        if rubric.bonus_items
        else "本轮没有加分项。",
        f"「{layout.TOTAL}」由公式自动计算，无需填写；「{layout.COMMENT}」请简要写明主要优点和不足。",
        "请勿修改表头、工作表名称和品牌编号，勿插入或删除行列；"
        "表中未列出的品牌为本人所在单位的品牌，按规定回避，无需评分。",
        "填写完成后保存为 .xlsx 文件，交回组织方导入系统。",
    ]
    if data.settings is not None:
        s = data.settings
        bands = "，".join(
            f"{b.label} ≥{layout.format_points(b.min_total)}分" for b in s.grade_bands
        )
        rule = METHODS.get(s.method, s.method)
        if s.method == "trimmed":
            rule += f"（有效评委不少于 {s.trim_min_judges} 人时去掉一个最高分和一个最低分）"
        notes.append(f"汇总规则：{rule}。等次：{bands}，其余为{FAIL_GRADE}。")
    row = 2
    for n, text in enumerate(notes, start=1):
        ws.merge_range(row, 0, row, last_col, "", st.note.plain)
        write_text(ws, row, 0, f"{n}. {text}", st.note)
        ws.set_row(row, 32)
        row += 1

    row += 1
    write_text(ws, row, 0, "评分细则", st.subtitle)
    row += 1
    write_header(
        ws, row, ["一级指标", "二级指标", "满分", "评分标准", "扣分规则", "表头"], st.header
    )
    header_row = row
    row += 1
    groups: list[tuple[str, list]] = [
        (f"{c.full_label}（{layout.format_points(c.max_points)}分）", list(c.items))
        for c in rubric.criteria
    ]
    if rubric.bonus_items:
        groups.append((f"{layout.BONUS_LABEL}（最多 {cap} 分）", list(rubric.bonus_items)))
    for label, items in groups:
        if len(items) > 1:
            ws.merge_range(row, 0, row + len(items) - 1, 0, "", st.key.plain)
        write_text(ws, row, 0, label, st.key)
        for item in items:
            write_text(ws, row, 1, item.label, st.cell)
            ws.write_number(row, 2, item.max_points, st.total)
            write_text(ws, row, 3, item.guide, st.cell)
            write_text(ws, row, 4, item.deductions, st.cell)
            write_text(ws, row, 5, layout.item_header(rubric, item.code), st.cell)
            row += 1
    write_text(ws, row, 0, "满分合计", st.key)
    write_text(
        ws,
        row,
        1,
        f"{layout.format_points(rubric.criteria_max)} 分"
        + (f" + 加分最多 {cap} 分" if rubric.bonus_items else ""),
        st.key,
    )
    ws.write_number(row, 2, rubric.max_total, st.total)
    ws.repeat_rows(header_row)
    _print_setup(ws, landscape=False)
    ws.hide_gridlines(2)


def _write_judge_sheet(
    book: BookWriter, ws: Worksheet, data: TemplateData, judge_id: int, judge_name: str, st: _Styles
) -> None:
    rubric = data.rubric
    items = [item for _, item in rubric.scored_items()]
    n_items = len(items)
    first_item = _KEY_COLUMNS
    total_col = first_item + n_items
    comment_col = total_col + 1
    header_row, first = layout.HEADER_ROW - 1, layout.FIRST_DATA_ROW - 1  # 0-based

    ws.merge_range(0, 0, 0, comment_col, "", st.title.plain)
    write_text(ws, 0, 0, layout.sheet_title(data.round_name, judge_name), st.title)
    ws.set_row(0, 28)
    headers = [
        layout.BRAND_CODE,
        layout.BRAND_NAME,
        *(layout.item_header(rubric, item.code) for item in items),
        layout.TOTAL,
        layout.COMMENT,
    ]
    write_header(ws, header_row, headers, st.header)
    ws.set_row(header_row, _HEADER_HEIGHT)
    ws.set_column(0, 0, _WIDTHS["code"])
    ws.set_column(1, 1, _WIDTHS["name"])
    ws.set_column(first_item, total_col - 1, _WIDTHS["item"])
    ws.set_column(total_col, total_col, _WIDTHS["total"])
    ws.set_column(comment_col, comment_col, _WIDTHS["comment"])

    mine = data.pairs.loc[data.pairs["judge_id"] == judge_id, "brand_id"]
    brands = data.brands.loc[data.brands.index.isin(mine)].sort_values("brand_code")
    n = len(brands)
    last = first + n - 1
    body = book.body(ws, first, n)
    body.text(0, brands["brand_code"].to_numpy(dtype=object), st.key)
    body.text(1, brands["brand"].to_numpy(dtype=object), st.key)
    values = _prefill(data, judge_id, brands.index, rubric.item_codes)
    for offset, code in enumerate(rubric.item_codes):
        body.numbers(first_item + offset, values[code].to_numpy(), st.score)
    formulas, cached = _totals(rubric, first, n, first_item, values)
    body.formulas(total_col, formulas, cached, st.total)
    body.text(comment_col, _prefill_comments(data, judge_id, brands.index), st.comment)

    if n:
        for offset, item in enumerate(items):
            col = first_item + offset
            ws.data_validation(first, col, last, col, _validation(rubric, item.code))
    ws.freeze_panes(first, _KEY_COLUMNS)
    ws.protect(
        "",
        {
            "select_locked_cells": True,
            "select_unlocked_cells": True,
            "format_columns": True,
            "format_rows": True,
        },
    )
    ws.repeat_rows(0, header_row)
    ws.repeat_columns(0, _KEY_COLUMNS - 1)
    _print_setup(ws, landscape=True)


def _totals(
    rubric: Rubric, first: int, n: int, first_item: int, values: pd.DataFrame
) -> tuple[list[str], np.ndarray]:
    """合计: a live formula per row, with the bonus capped as the aggregation caps it.

    ``=IF(COUNT(C3:V3)=0,"",SUM(C3:T3)+MIN(SUM(U3:V3),5))``: blank while nothing is
    typed, so an empty row is not mistaken for a zero. The cached values are computed
    here too (NaN for blank), so readers that do not recalculate (calamine) see them.
    """
    n_crit, n_all = len(rubric.criterion_item_codes), len(rubric.item_codes)
    a, z = column_letter(first_item), column_letter(first_item + n_all - 1)
    crit_z = column_letter(first_item + n_crit - 1)
    bonus_a = column_letter(first_item + n_crit)
    cap = layout.format_points(rubric.effective_bonus_cap)
    formulas = []
    for r in range(first + 1, first + n + 1):  # 1-based, as formulas spell rows
        total = f"SUM({a}{r}:{crit_z}{r})"
        if rubric.bonus_items:
            total += f"+MIN(SUM({bonus_a}{r}:{z}{r}),{cap})"
        formulas.append(f'=IF(COUNT({a}{r}:{z}{r})=0,"",{total})')
    grid = values.to_numpy(dtype="float64")
    crit = values[rubric.criterion_item_codes].to_numpy(dtype="float64")
    bonus = values[rubric.bonus_item_codes].to_numpy(dtype="float64")
    cached = np.nansum(crit, axis=1) + np.minimum(
        np.nansum(bonus, axis=1), rubric.effective_bonus_cap
    )
    blank = np.isnan(grid).all(axis=1) if n_all else np.ones(n, dtype=bool)
    return formulas, np.where(blank, np.nan, cached)


def _prefill(
    data: TemplateData, judge_id: int, brand_ids: pd.Index, item_codes: Sequence[str]
) -> pd.DataFrame:
    """This judge's stored scores, one row per printed brand (NaN where none)."""
    empty = pd.DataFrame(np.nan, index=brand_ids, columns=list(item_codes), dtype="float64")
    if data.scores is None or data.scores.empty:
        return empty
    mine = data.scores[data.scores["judge_id"] == judge_id]
    if mine.empty:
        return empty
    wide = mine.pivot_table(index="brand_id", columns="item", values="value", aggfunc="first")
    return wide.reindex(index=brand_ids, columns=list(item_codes)).astype("float64")


def _prefill_comments(data: TemplateData, judge_id: int, brand_ids: pd.Index) -> list[object]:
    if data.comments is None or data.comments.empty:
        return [None] * len(brand_ids)
    mine = data.comments[data.comments["judge_id"] == judge_id].drop_duplicates("brand_id")
    return mine.set_index("brand_id")["comment"].reindex(brand_ids).tolist()


def _validation(rubric: Rubric, code: str) -> dict[str, object]:
    """Decimal 0..max, with the item's 评分标准 as the input message."""
    item = next(i for _, i in rubric.scored_items() if i.code == code)
    points = layout.format_points(item.max_points)
    group = rubric.item_group()[code]
    prefix = layout.BONUS_LABEL if group == BONUS else rubric.criterion(group).label
    message = f"满分 {points} 分。" + "；".join(t for t in (item.guide, item.deductions) if t)
    return {
        "validate": "decimal",
        "criteria": "between",
        "minimum": 0,
        "maximum": item.max_points,
        "ignore_blank": True,
        "input_title": _utf16_cut(f"{prefix}-{item.label}", _TITLE_LIMIT),
        "input_message": _utf16_cut(message, _MESSAGE_LIMIT),
        "error_title": "分数超出范围",
        "error_message": _utf16_cut(
            f"「{item.label}」只能填写 0 到 {points} 之间的数（可含小数），不评请留空。",
            _MESSAGE_LIMIT,
        ),
        "error_type": "stop",
    }


def _write_meta(ws: Worksheet, meta: layout.TemplateMeta, st: _Styles) -> None:
    """The metadata table, as text only, on a sheet Excel's UI cannot unhide.

    "veryHidden" rather than "hidden": a judge cannot unhide it from the sheet tabs by
    accident; readers (fastexcel, openpyxl) still list and read it.
    """
    for row, cells in enumerate(meta.rows()):
        for col, value in enumerate(cells):
            if value:
                write_text(ws, row, col, value, st.meta)
    ws.set_column(0, 2, 24)
    ws.very_hidden()


def _print_setup(ws: Worksheet, *, landscape: bool) -> None:
    """A4, fitted to the page width, page numbers in the footer."""
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_paper(_A4)
    ws.fit_to_pages(1, 0)
    ws.center_horizontally()
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer("&C第 &P 页，共 &N 页")
