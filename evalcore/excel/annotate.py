"""The user's own workbook back, with every problem cell highlighted and explained.

A person fixes a sheet fastest where they typed it: each cell with an issue gets a
red fill and a cell comment (批注) holding the Chinese messages, and a first sheet
「导入问题」 lists every issue with a link to its cell. xlsx and xlsm files are
edited in place with openpyxl (``keep_vba`` for xlsm, so macros survive); xls and ods
cannot be written back by our libraries, so their values are copied into a new xlsx
carrying the same marks.
"""

from __future__ import annotations

import io
from collections import defaultdict
from pathlib import PurePath

import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet
from python_calamine import CalamineWorkbook

from evalcore.excel import layout
from evalcore.excel.reader import detect_format
from evalcore.excel.validate import CODE_LABELS, Code

ISSUES_SHEET = "导入问题"
SUFFIX = "_问题标注"
_FILL = PatternFill(fill_type="solid", start_color="FFFFC7CE", end_color="FFFFC7CE")
_HEADER_FILL = PatternFill(fill_type="solid", start_color="FFC00000", end_color="FFC00000")
_AUTHOR = "evalcore"
_COMMENT_MAX = 2000  # characters; Excel shows long comments badly
_ISSUE_HEADERS = ("工作表", "单元格", "评委", "品牌", "指标", "问题", "说明")


def annotated_name(name: str, fmt: str) -> str:
    stem = PurePath(name).stem
    return f"{stem}{SUFFIX}.{'xlsm' if fmt == 'xlsm' else 'xlsx'}"


def annotate(name: str, data: bytes, issues: pd.DataFrame) -> tuple[str, bytes]:
    """``(file name, bytes)`` of the annotated copy of one uploaded file."""
    try:
        fmt = detect_format(name, data)
    except Exception:
        fmt = ""
    if fmt in ("xlsx", "xlsm"):
        try:
            wb = load_workbook(io.BytesIO(data), keep_vba=fmt == "xlsm")
        except Exception:
            wb = _issues_only()
    elif fmt in ("xls", "ods"):
        wb = _copy_values(data)
    else:
        wb = _issues_only()
    _mark(wb, issues)
    out = io.BytesIO()
    wb.save(out)
    return annotated_name(name, fmt), out.getvalue()


def _issues_only() -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    return wb


def _copy_values(data: bytes) -> Workbook:
    """An xlsx holding the values of every sheet of an xls/ods (what we can write back)."""
    source = CalamineWorkbook.from_filelike(io.BytesIO(data))
    wb = Workbook()
    wb.remove(wb.active)
    for sheet_name in source.sheet_names:
        ws = wb.create_sheet(sheet_name[:31])
        sheet = source.get_sheet_by_name(sheet_name)
        start_row, start_col = sheet.start or (0, 0)
        for r, values in enumerate(sheet.to_python(skip_empty_area=True)):
            for c, value in enumerate(values):
                if value != "" and value is not None:
                    ws.cell(row=start_row + r + 1, column=start_col + c + 1, value=value)
        if sheet_name == layout.META_SHEET:
            ws.sheet_state = "hidden"
    return wb


def _mark(wb: Workbook, issues: pd.DataFrame) -> None:
    """Fill and comment every cell with issues; list them all on a first sheet."""
    by_cell: dict[tuple[str, str], list[str]] = defaultdict(list)
    for sheet, cell, message in zip(
        issues["sheet"], issues["cell"], issues["message"], strict=True
    ):
        if sheet and sheet in wb.sheetnames:
            by_cell[(sheet, cell or "A1")].append(str(message))
    for (sheet, cell), messages in by_cell.items():
        ws = wb[sheet]
        target = ws[cell]
        target.fill = _FILL
        text = "\n".join(dict.fromkeys(messages))
        if len(text) > _COMMENT_MAX:
            text = text[: _COMMENT_MAX - 1] + "…"
        comment = Comment(text, _AUTHOR)
        comment.width, comment.height = 320, 40 + 18 * min(len(messages), 12)
        target.comment = comment
    _issue_sheet(wb, issues)


def _issue_sheet(wb: Workbook, issues: pd.DataFrame) -> None:
    if ISSUES_SHEET in wb.sheetnames:
        del wb[ISSUES_SHEET]
    ws: Worksheet = wb.create_sheet(ISSUES_SHEET, 0)
    ws.append([f"共 {len(issues)} 处问题，修正后请重新上传；标红的单元格上有批注说明。"])
    ws.append(list(_ISSUE_HEADERS))
    for cell in ws[2]:
        cell.fill = _HEADER_FILL
        cell.font = Font(bold=True, color="FFFFFFFF")
    for row in issues.itertuples(index=False):
        ws.append(
            [
                row.sheet,
                row.cell,
                row.judge,
                row.brand,
                row.item,
                _code_label(row.code),
                row.message,
            ]
        )
        if row.sheet and row.sheet in wb.sheetnames and row.cell:
            link = ws.cell(row=ws.max_row, column=2)
            link.hyperlink = f"#'{row.sheet}'!{row.cell}"
            link.font = Font(color="FF0563C1", underline="single")
    for letter, width in zip("ABCDEFG", (14, 8, 10, 24, 24, 14, 70), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A3"
    wb.active = 0
    for sheet in wb.worksheets[1:]:
        sheet.sheet_view.tabSelected = False


def _code_label(code: str) -> str:
    try:
        return CODE_LABELS[Code(code)]
    except ValueError:
        return code
