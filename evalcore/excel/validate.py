"""Lazy validation of uploaded score sheets: every problem at once, nothing written.

Two shapes are understood, sheet by sheet:

* **template** (:mod:`evalcore.excel.template`): a header row with 品牌编号/品牌名称
  and one column per item (``<criterion>-<item>(N分)``), one row per brand, the judge
  given by the metadata sheet, else the sheet name, else the title row;
* **long**: columns 评委, 品牌编号 or 品牌名称, 指标, 得分 and optionally 评语, one
  row per score; 指标 may be an item's name, ``<criterion>-<item>`` or its code.

Cells are resolved *per distinct text*, not per cell: a column is dictionary-encoded
by Arrow, the few distinct judges, brands, items and score texts are looked up once in
Python, and the answers are broadcast back with one ``take``. Every check is then a
boolean mask over numpy arrays, and issues are built from masks (like pandera's lazy
mode, each with a reason code). The happy path therefore has no per-cell Python loop,
which is what lets a million-row upload validate in well under a second.

This module knows the rubric and reference tables it is handed (:class:`Refs`) but
never the database: the service reads them and decides what to write.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from evalcore.excel import layout
from evalcore.excel.reader import RawSheet, RawWorkbook
from evalcore.rubric import Rubric


class Code(StrEnum):
    """Reason codes of import issues (stable: tests, the CLI and the UI key on them)."""

    UNREADABLE = "unreadable_file"
    UNRECOGNIZED_SHEET = "unrecognized_sheet"
    MISSING_COLUMN = "missing_column"
    NO_DATA = "no_data"
    ROUND_NOT_OPEN = "round_not_open"
    ROUND_MISMATCH = "round_mismatch"
    RUBRIC_VERSION = "rubric_version"
    UNKNOWN_JUDGE = "unknown_judge"
    UNKNOWN_BRAND = "unknown_brand"
    BRAND_MISMATCH = "brand_mismatch"
    UNKNOWN_ITEM = "unknown_item"
    NOT_ASSIGNED = "not_assigned"
    NOT_A_NUMBER = "not_a_number"
    BOOLEAN = "boolean"
    DATE = "date"
    FORMULA = "formula"
    ERROR_VALUE = "error_value"
    OUT_OF_RANGE = "out_of_range"
    DUPLICATE = "duplicate"
    COMMENT_CONFLICT = "comment_conflict"


#: Short Chinese names of the codes, for the UI's filter and the summary line.
CODE_LABELS: dict[Code, str] = {
    Code.UNREADABLE: "文件无法读取",
    Code.UNRECOGNIZED_SHEET: "无法识别的工作表",
    Code.MISSING_COLUMN: "缺少列",
    Code.NO_DATA: "没有数据",
    Code.ROUND_NOT_OPEN: "轮次未开放评分",
    Code.ROUND_MISMATCH: "轮次不符",
    Code.RUBRIC_VERSION: "评分细则版本不符",
    Code.UNKNOWN_JUDGE: "未知评委",
    Code.UNKNOWN_BRAND: "未知品牌",
    Code.BRAND_MISMATCH: "品牌编号与名称不符",
    Code.UNKNOWN_ITEM: "未知指标",
    Code.NOT_ASSIGNED: "不应由该评委评分",
    Code.NOT_A_NUMBER: "不是数字",
    Code.BOOLEAN: "逻辑值",
    Code.DATE: "日期",
    Code.FORMULA: "公式",
    Code.ERROR_VALUE: "错误值",
    Code.OUT_OF_RANGE: "超出范围",
    Code.DUPLICATE: "重复",
    Code.COMMENT_CONFLICT: "评语冲突",
}

ISSUE_COLUMNS = ["file", "sheet", "cell", "judge", "brand", "item", "code", "message"]
#: Sort keys kept beside the issues so they list in sheet order.
_ORDER = ["_file", "_sheet", "_row", "_col"]

# Kinds of a score cell after parsing its text.
OK, MISSING, NOT_NUMBER, BOOLEAN, DATE, FORMULA, ERROR = range(7)
_KIND_CODE = {
    NOT_NUMBER: Code.NOT_A_NUMBER,
    BOOLEAN: Code.BOOLEAN,
    DATE: Code.DATE,
    FORMULA: Code.FORMULA,
    ERROR: Code.ERROR_VALUE,
}
# Resolution results for ids: >= 0 is an id.
UNKNOWN, EMPTY, MISMATCH = -1, -2, -3

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")
_DATE_LIKE = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?|\d{1,2}:\d{2}(?::\d{2})?"
)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff"), None)


def clean_text(value: object) -> str:
    """Cell text as compared: NFKC (full-width -> ASCII), no zero-width, trimmed."""
    if value is None:
        return ""
    return unicodedata.normalize("NFKC", str(value)).translate(_INVISIBLE).strip()


def comment_text(value: object) -> str:
    """A comment as its judge wrote it: only zero-width characters and edge spaces go.

    Not NFKC, unlike names and scores: it would turn the judge's full-width
    punctuation (，：（）) into ASCII, so a template read back would "change" every
    comment. Edges are trimmed as the web form trims them.
    """
    if value is None:
        return ""
    return str(value).translate(_INVISIBLE).strip()


def fold_key(value: object) -> str:
    """A name or code as looked up: cleaned, inner spaces removed, case-folded."""
    return re.sub(r"\s+", "", clean_text(value)).casefold()


def parse_score(text: str | None) -> tuple[float, int]:
    """One score text -> (value, kind). Empty is MISSING, never 0."""
    cleaned = clean_text(text)
    if not cleaned:
        return math.nan, MISSING
    if cleaned.lower() in ("true", "false"):
        return math.nan, BOOLEAN
    if _NUMBER.fullmatch(cleaned):
        value = float(cleaned)
        return (value, OK) if math.isfinite(value) else (math.nan, NOT_NUMBER)
    if _DATE_LIKE.fullmatch(cleaned):
        return math.nan, DATE
    return math.nan, NOT_NUMBER


@dataclass(frozen=True)
class Refs:
    """What validation needs to know about the round, read by the service in one go.

    ``brands``: every brand in the database, indexed by id, with ``brand_code``,
    ``brand``, ``unit_id``, ``unit`` and ``in_round``. ``judges``: every judge, indexed
    by id, with ``judge_code``, ``judge``, ``unit_id`` (NA outside every unit) and
    ``on_panel``. ``assigned``: :func:`pair_keys` of the (brand, judge) pairs the round
    expects (assigned, on the panel, not recused, no declared conflict); ``declared``:
    pairs with a declared conflict of interest (for the message only).
    """

    round_code: str
    round_status: str
    round_status_label: str
    rubric: Rubric
    brands: pd.DataFrame
    judges: pd.DataFrame
    assigned: np.ndarray
    declared: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))


@dataclass
class Checked:
    """The outcome of validation: rows fit to write, and every issue found.

    ``scores``: brand_id, judge_id, item, value plus where each came from (file, sheet,
    cell); ``comments``: brand_id, judge_id, comment and where. When ``issues`` is not
    empty nothing may be written.
    """

    scores: pd.DataFrame
    comments: pd.DataFrame
    issues: pd.DataFrame
    sheets_read: list[tuple[str, str, str]] = field(default_factory=list)  # file, sheet, shape

    @property
    def ok(self) -> bool:
        return self.issues.empty


# -- issue building ---------------------------------------------------------------------------
class Issues:
    """Collects issues as small DataFrames built from masks; one frame at the end."""

    def __init__(self, file_order: dict[str, int]) -> None:
        self._parts: list[pd.DataFrame] = []
        self._file_order = file_order

    def add(
        self,
        *,
        file: str,
        sheet: str = "",
        cell: str = "",
        code: Code,
        message: str,
        judge: str = "",
        brand: str = "",
        item: str = "",
        sheet_pos: int = -1,
        row: int = 0,
        col: int = 0,
    ) -> None:
        self.add_frame(
            pd.DataFrame(
                {
                    "file": [file],
                    "sheet": [sheet],
                    "cell": [cell],
                    "judge": [judge],
                    "brand": [brand],
                    "item": [item],
                    "code": [str(code)],
                    "message": [message],
                    "_sheet": [sheet_pos],
                    "_row": [row],
                    "_col": [col],
                }
            )
        )

    def add_frame(self, frame: pd.DataFrame) -> None:
        if not frame.empty:
            self._parts.append(frame)

    def frame(self) -> pd.DataFrame:
        if not self._parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in ISSUE_COLUMNS})
        out = pd.concat(self._parts, ignore_index=True)
        out["_file"] = out["file"].map(self._file_order).fillna(-1)
        out = out.sort_values(_ORDER, kind="stable").reset_index(drop=True)
        return out[ISSUE_COLUMNS].astype(object)


# -- reading the shapes -----------------------------------------------------------------------
@dataclass
class _Lookups:
    """Name/code -> id maps (folded keys) and per-id facts as arrays indexed by id."""

    refs: Refs
    judge_keys: dict[str, int]
    brand_codes: dict[str, int]
    brand_names: dict[str, int]
    items: dict[str, str]
    item_max: dict[str, float]
    item_labels: dict[str, str]
    #: Item codes in rubric order; an item is carried as its index into this (-1: unknown).
    #: Each per-item array has one extra slot at the end, so index -1 reads "unknown".
    codes: np.ndarray
    maxima: np.ndarray
    labels: np.ndarray

    @classmethod
    def of(cls, refs: Refs) -> _Lookups:
        judges, brands = refs.judges, refs.brands
        judge_keys: dict[str, int] = {}
        for jid, code, name in zip(
            judges.index, judges["judge_code"], judges["judge"], strict=True
        ):
            judge_keys.setdefault(fold_key(code), int(jid))
            judge_keys.setdefault(fold_key(name), int(jid))
        return cls(
            refs=refs,
            judge_keys=judge_keys,
            brand_codes={
                fold_key(c): int(i) for i, c in zip(brands.index, brands["brand_code"], strict=True)
            },
            brand_names={
                fold_key(n): int(i) for i, n in zip(brands.index, brands["brand"], strict=True)
            },
            items=layout.item_aliases(refs.rubric),
            item_max=refs.rubric.item_max(),
            item_labels=refs.rubric.item_labels(),
            codes=np.asarray([*refs.rubric.item_codes, None], dtype=object),
            maxima=np.asarray([*refs.rubric.item_max().values(), np.nan], dtype=float),
            labels=np.asarray([*refs.rubric.item_labels().values(), ""], dtype=object),
        )

    def judge_id(self, text: str | None) -> int:
        key = fold_key(text)
        return self.judge_keys.get(key, UNKNOWN) if key else EMPTY

    def item_code(self, text: str | None) -> str | None:
        return self.items.get(layout.normalize_header(clean_text(text)))

    def item_index(self, code: str | None) -> int:
        return self.refs.rubric.item_codes.index(code) if code else -1


@dataclass
class _Encoded:
    """A column's data rows dictionary-encoded: ``codes`` index ``uniques`` (-1 = null)."""

    codes: np.ndarray
    uniques: list[str | None]

    def take(self, lut: Sequence[object] | np.ndarray, null: object) -> np.ndarray:
        """Broadcast one answer per distinct text back to every row (null -> ``null``)."""
        table = np.asarray([*lut, null])
        return table[self.codes]

    def texts(self, rows: np.ndarray) -> pd.Categorical:
        """The raw texts of selected rows, as a Categorical: integer codes into the few
        distinct texts, so a million rows cost a million small ints, not strings."""
        return pd.Categorical.from_codes(self.codes[rows], categories=self.categories)

    @property
    def categories(self) -> pd.Index:
        return pd.Index(self.uniques, dtype=object)


def _encode(column: pa.ChunkedArray, start: int) -> _Encoded:
    sliced = column.slice(start)
    if len(sliced) == 0:
        return _Encoded(np.empty(0, dtype=np.int64), [])
    encoded = pc.dictionary_encode(sliced).combine_chunks()
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return _Encoded(codes, encoded.dictionary.to_pylist())


def _blank(enc: _Encoded) -> np.ndarray:
    """Per row: the cell is empty or only spaces."""
    return enc.take([not clean_text(u) for u in enc.uniques], True).astype(bool)


@dataclass
class _Header:
    shape: str  # "template" | "long"
    row: int  # 1-based
    columns: dict[str, str]  # role -> column letter
    items: dict[str, str] = field(default_factory=dict)  # letter -> item code (template)
    unknown: dict[str, str] = field(default_factory=dict)  # letter -> header text
    missing: list[str] = field(default_factory=list)


_FIXED_TEMPLATE = {
    layout.normalize_header(layout.BRAND_CODE): layout.BRAND_CODE,
    layout.normalize_header(layout.BRAND_NAME): layout.BRAND_NAME,
    layout.normalize_header(layout.TOTAL): layout.TOTAL,
    layout.normalize_header(layout.COMMENT): layout.COMMENT,
}
_LONG_ROLES = {
    layout.normalize_header(alias): role
    for role, aliases in layout.LONG_ALIASES.items()
    for alias in aliases
}
_ITEM_LIKE = re.compile(r".+-.+|.*[(（]\s*\d+(?:\.\d+)?\s*分\s*[)）]\s*$")


def find_header(sheet: RawSheet, lookups: _Lookups) -> _Header | None:
    """The first row (of the first few) that reads as a template or long-table header."""
    for row in range(1, min(sheet.n_rows, layout.HEADER_SEARCH_ROWS) + 1):
        cells = sheet.row_values(row)
        named = {
            letter: layout.normalize_header(clean_text(text))
            for letter, text in zip(sheet.letters, cells, strict=True)
            if clean_text(text)
        }
        roles = {}
        for letter, key in named.items():
            role = _LONG_ROLES.get(key)
            if role and role not in roles:
                roles[role] = letter
        if layout.LONG_VALUE in roles and layout.LONG_ITEM in roles:
            missing = [
                r
                for r in (layout.LONG_JUDGE, layout.LONG_ITEM, layout.LONG_VALUE)
                if r not in roles
            ]
            if layout.BRAND_CODE not in roles and layout.BRAND_NAME not in roles:
                missing.append(f"{layout.BRAND_CODE}或{layout.BRAND_NAME}")
            return _Header("long", row, roles, missing=missing)
        fixed = {}
        items, unknown = {}, {}
        for letter, key in named.items():
            if key in _FIXED_TEMPLATE and _FIXED_TEMPLATE[key] not in fixed:
                fixed[_FIXED_TEMPLATE[key]] = letter
            elif key in lookups.items:
                items[letter] = lookups.items[key]
            elif _ITEM_LIKE.fullmatch(clean_text(cells[sheet.letters.index(letter)])):
                unknown[letter] = clean_text(cells[sheet.letters.index(letter)])
        if (layout.BRAND_CODE in fixed or layout.BRAND_NAME in fixed) and (items or unknown):
            return _Header("template", row, fixed, items=items, unknown=unknown)
    return None


@dataclass
class _Part:
    """Cells of one sheet shaped alike for both layouts (numpy columns, one row per cell)."""

    frame: pd.DataFrame  # see _cells_frame
    comments: pd.DataFrame


class _Checker:
    def __init__(self, workbooks: Sequence[RawWorkbook], refs: Refs) -> None:
        self.workbooks = workbooks
        self.refs = refs
        self.look = _Lookups.of(refs)
        self.issues = Issues({wb.name: i for i, wb in enumerate(workbooks)})
        self.multi = len(workbooks) > 1
        self.sheet_pos: dict[tuple[str, str], int] = {}
        self.read: list[tuple[str, str, str]] = []

    # -- per sheet ------------------------------------------------------------------------
    def sheet(self, wb: RawWorkbook, sheet: RawSheet) -> _Part | None:
        pos = self.sheet_pos.setdefault((wb.name, sheet.name), len(self.sheet_pos))
        if sheet.n_rows == 0 or all(pc.all(pc.is_null(col)).as_py() for col in sheet.table.columns):
            return None  # an untouched sheet (e.g. Sheet2): nothing to import, no problem
        header = find_header(sheet, self.look)
        if header is None:
            self.issues.add(
                file=wb.name,
                sheet=sheet.name,
                cell="A1",
                code=Code.UNRECOGNIZED_SHEET,
                message=(
                    f"找不到表头（前 {layout.HEADER_SEARCH_ROWS} 行）："
                    f"评分表须有「{layout.BRAND_CODE}」"
                    f"或「{layout.BRAND_NAME}」及各指标列；长表须有「{layout.LONG_JUDGE}」"
                    f"「{layout.BRAND_CODE}」或「{layout.BRAND_NAME}」「{layout.LONG_ITEM}」"
                    f"「{layout.LONG_VALUE}」列"
                ),
                sheet_pos=pos,
            )
            return None
        self.read.append((wb.name, sheet.name, header.shape))
        if header.shape == "long":
            return self._long(wb, sheet, header, pos)
        return self._template(wb, sheet, header, pos)

    def _brand_ids(
        self, sheet: RawSheet, header: _Header, start: int
    ) -> tuple[np.ndarray, np.ndarray, str, _Encoded | None, _Encoded | None]:
        """Per data row: brand id (or UNKNOWN/EMPTY/MISMATCH), the text shown, its column."""
        n = sheet.n_rows - start
        code_col = header.columns.get(layout.BRAND_CODE)
        name_col = header.columns.get(layout.BRAND_NAME)
        by_code = by_name = None
        ids = np.full(n, EMPTY, dtype=np.int64)
        if code_col:
            by_code = _encode(sheet.column(code_col), start)
            ids = by_code.take(
                [
                    self.look.brand_codes.get(fold_key(u), UNKNOWN) if fold_key(u) else EMPTY
                    for u in by_code.uniques
                ],
                EMPTY,
            ).astype(np.int64)
        if name_col:
            by_name = _encode(sheet.column(name_col), start)
            name_ids = by_name.take(
                [
                    self.look.brand_names.get(fold_key(u), UNKNOWN) if fold_key(u) else EMPTY
                    for u in by_name.uniques
                ],
                EMPTY,
            ).astype(np.int64)
            no_code = ids == EMPTY
            clash = (ids >= 0) & (name_ids >= 0) & (ids != name_ids)
            ids = np.where(no_code, name_ids, ids)
            ids = np.where(clash, MISMATCH, ids)
        letter = code_col or name_col or "A"
        return ids, np.arange(start + 1, sheet.n_rows + 1), letter, by_code, by_name

    def _template(self, wb: RawWorkbook, sheet: RawSheet, header: _Header, pos: int) -> _Part:
        start = header.row  # data rows follow the header (0-based offset = header row)
        judge_id, judge_text = self._sheet_judge(wb, sheet, pos)
        brand_ids, rows, brand_letter, by_code, by_name = self._brand_ids(sheet, header, start)
        brand_text = _brand_texts(by_code, by_name, len(rows))
        n = len(rows)
        parts = []
        for letter, text in header.unknown.items():
            filled = ~_blank(_encode(sheet.column(letter), start))
            if filled.any():
                self.issues.add(
                    file=wb.name,
                    sheet=sheet.name,
                    cell=f"{letter}{header.row}",
                    code=Code.UNKNOWN_ITEM,
                    message=(
                        f"表头「{text}」不是本轮评分细则中的指标，"
                        f"该列 {int(filled.sum())} 个分数无法导入"
                    ),
                    item=text,
                    sheet_pos=pos,
                    row=header.row,
                    col=_col_number(letter),
                )
        for letter, item in header.items.items():
            enc = _encode(sheet.column(letter), start)
            value, kind = _parse_column(enc)
            kind = _mark(kind, rows, sheet.formula_rows(letter), FORMULA)
            kind = _mark(kind, rows, sheet.error_rows(letter), ERROR)
            keep = kind != MISSING
            if not keep.any():
                continue
            idx = np.flatnonzero(keep)
            parts.append(
                _frame(
                    len(idx),
                    row=rows[idx],
                    judge_id=np.full(len(idx), judge_id, dtype=np.int64),
                    judge_text=judge_text,
                    judge_cell="",
                    long=np.zeros(len(idx), dtype=bool),
                    brand_id=brand_ids[idx],
                    brand_text=brand_text[idx],
                    brand_col=brand_letter,
                    item_idx=np.full(len(idx), self.look.item_index(item), dtype=np.int64),
                    item_text=item,
                    item_cell=f"{letter}{header.row}",
                    value=value[idx],
                    kind=kind[idx],
                    value_text=enc.texts(idx),
                    value_col=letter,
                )
            )
        frame = _concat(parts)
        comments = self._comments(
            sheet,
            header,
            start,
            rows,
            np.full(n, judge_id, dtype=np.int64),
            np.full(n, judge_text, dtype=object),
            brand_ids,
            brand_text,
            brand_letter,
        )
        return _Part(
            _tag(frame, wb.name, sheet.name, pos), _tag(comments, wb.name, sheet.name, pos)
        )

    def _sheet_judge(self, wb: RawWorkbook, sheet: RawSheet, pos: int) -> tuple[int, str]:
        """Whose sheet: metadata, else the sheet name, else the title row."""
        meta = wb.meta.sheets.get(sheet.name) if wb.meta else None
        judges = self.refs.judges
        if meta is not None:
            if meta.judge_id in judges.index:
                return meta.judge_id, str(judges.at[meta.judge_id, "judge"])
            by_code = self.look.judge_id(meta.judge_code)
            if by_code >= 0:
                return by_code, str(judges.at[by_code, "judge"])
            self.issues.add(
                file=wb.name,
                sheet=sheet.name,
                cell="A1",
                code=Code.UNKNOWN_JUDGE,
                message=f"评分表所属评委「{meta.judge_name}」（{meta.judge_code}）已不在评委名单中",
                judge=meta.judge_name,
                sheet_pos=pos,
            )
            return UNKNOWN, meta.judge_name
        found = self.look.judge_id(sheet.name)
        if found < 0:
            titled = layout.judge_from_title(sheet.row_values(layout.TITLE_ROW)[0])
            if titled:
                found = self.look.judge_id(titled)
        if found >= 0:
            return found, str(judges.at[found, "judge"])
        self.issues.add(
            file=wb.name,
            sheet=sheet.name,
            cell="A1",
            code=Code.UNKNOWN_JUDGE,
            message=f"无法确定评委：工作表名「{sheet.name}」不是任何评委的姓名或编号",
            judge=sheet.name,
            sheet_pos=pos,
        )
        return UNKNOWN, sheet.name

    def _long(self, wb: RawWorkbook, sheet: RawSheet, header: _Header, pos: int) -> _Part | None:
        if header.missing:
            self.issues.add(
                file=wb.name,
                sheet=sheet.name,
                cell=f"A{header.row}",
                code=Code.MISSING_COLUMN,
                message=f"长表缺少列：{'、'.join(header.missing)}",
                sheet_pos=pos,
                row=header.row,
            )
            return None
        start = header.row
        cols = header.columns
        rows = np.arange(start + 1, sheet.n_rows + 1)
        judges = _encode(sheet.column(cols[layout.LONG_JUDGE]), start)
        judge_ids = judges.take([self.look.judge_id(u) for u in judges.uniques], EMPTY).astype(
            np.int64
        )
        brand_ids, _, brand_letter, by_code, by_name = self._brand_ids(sheet, header, start)
        items = _encode(sheet.column(cols[layout.LONG_ITEM]), start)
        item_idx = items.take(
            [self.look.item_index(self.look.item_code(u)) for u in items.uniques], -1
        ).astype(np.int64)
        values = _encode(sheet.column(cols[layout.LONG_VALUE]), start)
        value, kind = _parse_column(values)
        value_letter = cols[layout.LONG_VALUE]
        kind = _mark(kind, rows, sheet.formula_rows(value_letter), FORMULA)
        kind = _mark(kind, rows, sheet.error_rows(value_letter), ERROR)
        keep = np.flatnonzero(kind != MISSING)
        brand_text = _brand_texts(by_code, by_name, len(rows))
        item_letter = cols[layout.LONG_ITEM]
        frame = _frame(
            len(keep),
            row=rows[keep],
            judge_id=judge_ids[keep],
            judge_text=judges.texts(keep),
            judge_cell=cols[layout.LONG_JUDGE],
            long=np.ones(len(keep), dtype=bool),
            brand_id=brand_ids[keep],
            brand_text=brand_text[keep],
            brand_col=brand_letter,
            item_idx=item_idx[keep],
            item_text=items.texts(keep),
            item_cell=item_letter,  # + row, filled in for issues only
            value=value[keep],
            kind=kind[keep],
            value_text=values.texts(keep),
            value_col=value_letter,
        )
        comments = self._comments(
            sheet,
            header,
            start,
            rows,
            judge_ids,
            judges.texts(np.arange(len(rows))),
            brand_ids,
            brand_text,
            brand_letter,
        )
        return _Part(
            _tag(frame, wb.name, sheet.name, pos), _tag(comments, wb.name, sheet.name, pos)
        )

    def _comments(
        self,
        sheet: RawSheet,
        header: _Header,
        start: int,
        rows: np.ndarray,
        judge_ids: np.ndarray,
        judge_text: np.ndarray,
        brand_ids: np.ndarray,
        brand_text: np.ndarray,
        brand_letter: str,
    ) -> pd.DataFrame:
        letter = header.columns.get(layout.COMMENT)
        if not letter:
            return _empty_comments()
        enc = _encode(sheet.column(letter), start)
        keep = np.flatnonzero(~_blank(enc))
        if not len(keep):
            return _empty_comments()
        texts = enc.take([comment_text(u) for u in enc.uniques], "")
        return _frame(
            len(keep),
            row=rows[keep],
            judge_id=judge_ids[keep],
            judge_text=judge_text[keep],
            brand_id=brand_ids[keep],
            brand_text=brand_text[keep],
            brand_col=brand_letter,
            comment=texts[keep].astype(object),
            comment_col=letter,
        )

    # -- whole upload -----------------------------------------------------------------------
    def run(self) -> Checked:
        refs = self.refs
        if refs.round_status != "scoring":
            self.issues.add(
                file="",
                code=Code.ROUND_NOT_OPEN,
                message=(
                    f"轮次 {refs.round_code} 当前为“{refs.round_status_label}”，"
                    "只有“评分中”的轮次可以导入评分"
                ),
            )
        parts: list[_Part] = []
        for wb in self.workbooks:
            self._check_meta(wb)
            for sheet in wb.sheets:
                part = self.sheet(wb, sheet)
                if part is not None:
                    parts.append(part)
        cells = _concat([p.frame for p in parts])
        comments = _concat([p.comments for p in parts]) if parts else _empty_comments()
        if cells.empty and comments.empty and self.issues.frame().empty:
            for wb in self.workbooks:
                self.issues.add(
                    file=wb.name,
                    code=Code.NO_DATA,
                    message="文件中没有找到任何分数或评语，请确认上传的是填好的评分表",
                )
        scores = self._check_cells(cells)
        comments = self._check_comments(comments)
        return Checked(scores, comments, self.issues.frame(), self.read)

    def _check_meta(self, wb: RawWorkbook) -> None:
        meta = wb.meta
        if meta is None:
            return
        if meta.round_code != self.refs.round_code:
            self.issues.add(
                file=wb.name,
                sheet=layout.META_SHEET,
                code=Code.ROUND_MISMATCH,
                message=(
                    f"该评分表是轮次 {meta.round_code} 的模板，与所选轮次 "
                    f"{self.refs.round_code} 不一致"
                ),
            )
        if meta.rubric_version != self.refs.rubric.version:
            self.issues.add(
                file=wb.name,
                sheet=layout.META_SHEET,
                code=Code.RUBRIC_VERSION,
                message=(
                    f"该评分表按第 {meta.rubric_version} 版评分细则生成，本轮现行第 "
                    f"{self.refs.rubric.version} 版，请重新下载模板填写"
                ),
            )

    def _where(self, frame: pd.DataFrame, col: pd.Series | str) -> pd.Series:
        """``<col><row>`` for each row of ``frame``."""
        letters = frame[col] if isinstance(col, str) else col
        return _text(letters) + frame["row"].astype(str)

    def _emit(
        self,
        frame: pd.DataFrame,
        mask: np.ndarray | pd.Series,
        code: Code,
        message: Callable[[pd.DataFrame], pd.Series | str],
        cell: Callable[[pd.DataFrame], pd.Series],
        col: Callable[[pd.DataFrame], pd.Series],
    ) -> None:
        bad = frame[np.asarray(mask, dtype=bool)]
        if bad.empty:
            return
        if "item_idx" in bad:
            known = bad["item_idx"].to_numpy() >= 0
            labels = np.where(
                known,
                self.look.labels[bad["item_idx"].to_numpy()],
                _text(bad["item_text"]).to_numpy(),
            )
        else:
            labels = _text(bad["item_text"]).to_numpy() if "item_text" in bad else ""
        self.issues.add_frame(
            pd.DataFrame(
                {
                    "file": _text(bad["file"]).to_numpy(),
                    "sheet": _text(bad["sheet"]).to_numpy(),
                    "cell": _text(cell(bad)).to_numpy(),
                    "judge": _text(bad["judge_text"]).to_numpy(),
                    "brand": self._brand_label(bad).to_numpy(),
                    "item": labels,
                    "code": str(code),
                    "message": message(bad),
                    "_sheet": bad["_sheet"].to_numpy(),
                    "_row": bad["row"].to_numpy(),
                    "_col": _text(col(bad)).map(_col_number).to_numpy(),
                }
            )
        )

    def _brand_label(self, frame: pd.DataFrame) -> pd.Series:
        """``B001 name`` for resolved brands, the typed text otherwise."""
        brands = self.refs.brands
        ids = frame["brand_id"]
        known = ids.isin(brands.index)
        label = _text(frame["brand_text"])
        if known.any():
            hit = ids[known]
            label = label.copy()
            label[known] = (
                hit.map(brands["brand_code"]).astype(str)
                + " "
                + hit.map(brands["brand"]).astype(str)
            )
        return label

    def _check_cells(self, cells: pd.DataFrame) -> pd.DataFrame:
        if cells.empty:
            return _empty_scores()
        look = self.look
        value_cell = lambda f: self._where(f, "value_col")  # noqa: E731
        value_col = lambda f: f["value_col"]  # noqa: E731
        brand_cell = lambda f: self._where(f, "brand_col")  # noqa: E731
        brand_col = lambda f: f["brand_col"]  # noqa: E731
        is_long = cells["long"].to_numpy(dtype=bool)
        judge_cell = lambda f: np.where(  # noqa: E731
            f["long"].to_numpy(dtype=bool), self._where(f, "judge_cell"), "A1"
        ).astype(object)

        # 1. the cell itself
        kind = cells["kind"].to_numpy()
        for k, code in _KIND_CODE.items():
            self._emit(cells, kind == k, code, _kind_message(k), value_cell, value_col)

        # 2. who and what: judge, brand, item (long format: one issue per row)
        jid = cells["judge_id"].to_numpy()
        self._emit(
            cells,
            (jid == UNKNOWN) & is_long,
            Code.UNKNOWN_JUDGE,
            lambda f: "评委「" + _text(f["judge_text"]) + "」不在评委名单中（可填评委姓名或编号）",
            lambda f: pd.Series(judge_cell(f), index=f.index),
            lambda f: pd.Series(
                np.where(f["long"].to_numpy(dtype=bool), _text(f["judge_cell"]), "A"),
                index=f.index,
            ),
        )
        self._emit(
            cells,
            jid == EMPTY,
            Code.UNKNOWN_JUDGE,
            lambda f: "评委为空，请填写评委姓名或编号",
            lambda f: pd.Series(judge_cell(f), index=f.index),
            lambda f: pd.Series(
                np.where(f["long"].to_numpy(dtype=bool), _text(f["judge_cell"]), "A"),
                index=f.index,
            ),
        )
        bid = cells["brand_id"].to_numpy()
        self._emit(
            cells,
            bid == UNKNOWN,
            Code.UNKNOWN_BRAND,
            lambda f: "品牌「" + _text(f["brand_text"]) + "」不存在，请核对品牌编号或名称",
            brand_cell,
            brand_col,
        )
        self._emit(
            cells,
            bid == EMPTY,
            Code.UNKNOWN_BRAND,
            lambda f: "品牌编号和品牌名称都为空，无法确定是哪个品牌的分数",
            brand_cell,
            brand_col,
        )
        self._emit(
            cells,
            bid == MISMATCH,
            Code.BRAND_MISMATCH,
            lambda f: "品牌编号与品牌名称不是同一个品牌（" + _text(f["brand_text"]) + "）",
            brand_cell,
            brand_col,
        )
        item_idx = cells["item_idx"].to_numpy()
        bad_item = (item_idx < 0) & is_long
        self._emit(
            cells,
            bad_item,
            Code.UNKNOWN_ITEM,
            lambda f: (
                "指标「"
                + _text(f["item_text"])
                + "」不在本轮评分细则中（可填指标名称、“一级指标-二级指标”或指标编码）"
            ),
            lambda f: self._where(f, "item_cell"),
            lambda f: f["item_cell"],
        )

        # 3. the number against its item
        known_item = item_idx >= 0
        maxima = look.maxima[item_idx]
        value = cells["value"].to_numpy()
        out = (kind == OK) & known_item & ((value < 0) | (value > maxima))
        self._emit(
            cells,
            out,
            Code.OUT_OF_RANGE,
            lambda f: (
                "分数 "
                + f["value"].map(layout.format_points)
                + " 超出范围：「"
                + pd.Series(look.labels[f["item_idx"].to_numpy()], index=f.index)
                + "」应在 0 到 "
                + pd.Series(look.maxima[f["item_idx"].to_numpy()], index=f.index).map(
                    layout.format_points
                )
                + " 分之间"
            ),
            value_cell,
            value_col,
        )

        # 4. may this judge score this brand in this round?
        who = (jid >= 0) & (bid >= 0)
        self._check_assignment(cells, who, value_cell, value_col)

        # 5. duplicates within the whole upload (across sheets and files)
        keyed = who & known_item
        self._check_duplicates(cells, keyed, value_cell)

        good = keyed & (kind == OK) & ~out
        ok = cells[good]
        return _frame(
            len(ok),
            brand_id=ok["brand_id"].to_numpy(dtype=np.int64),
            judge_id=ok["judge_id"].to_numpy(dtype=np.int64),
            item=look.codes[ok["item_idx"].to_numpy()],
            item_idx=ok["item_idx"].to_numpy(),
            value=ok["value"].to_numpy(dtype=float),
            file=ok["file"].array,
            sheet=ok["sheet"].array,
            row=ok["row"].to_numpy(),
            col=ok["value_col"].array,
        )

    def _check_assignment(
        self,
        cells: pd.DataFrame,
        who: np.ndarray,
        cell: Callable[[pd.DataFrame], pd.Series],
        col: Callable[[pd.DataFrame], pd.Series],
    ) -> None:
        """The pair must be one the round expects (``refs.assigned``); if it is not, the
        message says why: judge not on the panel, brand not in the round, the judge's own
        unit (回避), a declared conflict of interest, or simply not assigned."""
        brands, judges = self.refs.brands, self.refs.judges
        bid = np.where(who, cells["brand_id"].to_numpy(), -1)
        jid = np.where(who, cells["judge_id"].to_numpy(), -1)
        in_round = _by_id(brands["in_round"], bid, False)
        on_panel = _by_id(judges["on_panel"], jid, False)
        b_unit = _by_id(brands["unit_id"], bid, np.nan)
        j_unit = _by_id(judges["unit_id"], jid, np.nan)
        recused = b_unit == j_unit  # NaN never equals: outside judges score everyone
        keys = pair_keys(bid, jid)
        expected = np.isin(keys, self.refs.assigned)
        declared = np.isin(keys, self.refs.declared)
        who = who & ~expected  # everything below explains a pair the round does not expect
        rnd = self.refs.round_code
        brand_label = self._brand_label
        self._emit(
            cells,
            who & ~on_panel,
            Code.NOT_ASSIGNED,
            lambda f: (
                "评委「"
                + f["judge_id"].map(judges["judge"])
                + f"」不是轮次 {rnd} 的评委，不能为本轮打分"
            ),
            cell,
            col,
        )
        self._emit(
            cells,
            who & on_panel & ~in_round,
            Code.NOT_ASSIGNED,
            lambda f: "品牌「" + brand_label(f) + f"」不在轮次 {rnd} 的参评名单中",
            cell,
            col,
        )
        self._emit(
            cells,
            who & on_panel & in_round & recused,
            Code.NOT_ASSIGNED,
            lambda f: (
                "评委「"
                + f["judge_id"].map(judges["judge"])
                + "」与品牌「"
                + brand_label(f)
                + "」同属「"
                + f["brand_id"].map(brands["unit"]).astype(str)
                + "」，按回避规定不能为其评分"
            ),
            cell,
            col,
        )
        self._emit(
            cells,
            who & on_panel & in_round & ~recused & declared,
            Code.NOT_ASSIGNED,
            lambda f: (
                "评委「"
                + f["judge_id"].map(judges["judge"])
                + "」已申报与品牌「"
                + brand_label(f)
                + "」存在利益冲突（回避申报），不能为其评分"
            ),
            cell,
            col,
        )
        self._emit(
            cells,
            who & on_panel & in_round & ~recused & ~declared,
            Code.NOT_ASSIGNED,
            lambda f: (
                "品牌「"
                + brand_label(f)
                + "」未分配给评委「"
                + f["judge_id"].map(judges["judge"])
                + "」评审"
            ),
            cell,
            col,
        )

    def _check_duplicates(
        self, cells: pd.DataFrame, keyed: np.ndarray, cell: Callable[[pd.DataFrame], pd.Series]
    ) -> None:
        if not keyed.any():
            return
        n_items = len(self.refs.rubric.item_codes)
        sub = cells[keyed]
        key = _pair_key(sub["brand_id"].to_numpy(), sub["judge_id"].to_numpy()) * n_items + sub[
            "item_idx"
        ].to_numpy(dtype=np.int64)
        dup = pd.Series(key).duplicated(keep=False).to_numpy()
        if not dup.any():
            return
        dups = sub[dup].assign(_key=key[dup], _where=self._located(sub[dup], cell))
        first = dups.groupby("_key")["_where"].transform("first")
        second = dups.groupby("_key")["_where"].transform(lambda s: s.iloc[1])
        other = first.where(first != dups["_where"], second)
        self._emit(
            dups,
            np.ones(len(dups), dtype=bool),
            Code.DUPLICATE,
            lambda f: "同一评委、品牌、指标的分数出现了不止一次（另见 " + other.loc[f.index] + "）",
            cell,
            lambda f: f["value_col"],
        )

    def _located(self, frame: pd.DataFrame, cell: Callable[[pd.DataFrame], pd.Series]) -> pd.Series:
        where = _text(frame["sheet"]) + "!" + _text(cell(frame))
        if self.multi:
            where = _text(frame["file"]) + " " + where
        return where

    def _check_comments(self, comments: pd.DataFrame) -> pd.DataFrame:
        """Comments need a known judge and brand; one pair may carry one comment only.

        Problems with the judge or brand of a row that also holds scores were reported
        for the scores; a comment-only row is reported here.
        """
        if comments.empty:
            return _empty_comment_rows()
        jid = comments["judge_id"].to_numpy()
        bid = comments["brand_id"].to_numpy()
        who = (jid >= 0) & (bid >= 0)
        ok = comments[who]
        if ok.empty:
            return _empty_comment_rows()
        cell = lambda f: self._where(f, "comment_col")  # noqa: E731
        key = pd.Series(
            _pair_key(ok["brand_id"].to_numpy(), ok["judge_id"].to_numpy()), index=ok.index
        )
        distinct = ok.groupby(key)["comment"].transform("nunique")
        clash = (distinct > 1).to_numpy()
        if clash.any():
            bad = ok[clash].assign(_key=key[clash], _where=self._located(ok[clash], cell))
            first = bad.groupby("_key")["_where"].transform("first")
            second = bad.groupby("_key")["_where"].transform(lambda s: s.iloc[1])
            other = first.where(first != bad["_where"], second)
            self._emit(
                bad.assign(item=None, item_text=layout.COMMENT),
                np.ones(len(bad), dtype=bool),
                Code.COMMENT_CONFLICT,
                lambda f: "同一评委对同一品牌填写了不同的评语（另见 " + other.loc[f.index] + "）",
                cell,
                lambda f: f["comment_col"],
            )
        first_rows = ok[~clash].drop_duplicates(subset=["brand_id", "judge_id"])
        return pd.DataFrame(
            {
                "brand_id": first_rows["brand_id"].to_numpy(dtype=np.int64),
                "judge_id": first_rows["judge_id"].to_numpy(dtype=np.int64),
                "comment": first_rows["comment"].to_numpy(dtype=object),
                "file": first_rows["file"].to_numpy(),
                "sheet": first_rows["sheet"].to_numpy(),
                "row": first_rows["row"].to_numpy(),
                "col": first_rows["comment_col"].to_numpy(),
            }
        )


def check_workbooks(workbooks: Sequence[RawWorkbook], refs: Refs) -> Checked:
    """Validate every sheet of every workbook against the round; see the module docstring."""
    return _Checker(workbooks, refs).run()


# -- small helpers ------------------------------------------------------------------------------
def _parse_column(enc: _Encoded) -> tuple[np.ndarray, np.ndarray]:
    """Parse each distinct text once; broadcast value and kind to every row."""
    parsed = [parse_score(u) for u in enc.uniques]
    values = enc.take([p[0] for p in parsed], math.nan).astype(float)
    kinds = enc.take([p[1] for p in parsed], MISSING).astype(np.int8)
    return values, kinds


def _mark(kind: np.ndarray, rows: np.ndarray, marked: np.ndarray, as_kind: int) -> np.ndarray:
    """Cells listed in ``marked`` (rows of one column) take ``as_kind``."""
    if len(marked) == 0 or len(rows) == 0:
        return kind
    hit = np.isin(rows, marked)
    if not hit.any():
        return kind
    kind = kind.copy()
    kind[hit] = as_kind
    return kind


def _kind_message(kind: int) -> Callable[[pd.DataFrame], pd.Series | str]:
    if kind == NOT_NUMBER:

        def not_number(f: pd.DataFrame) -> pd.Series:
            text = _text(f["value_text"]).str.strip()
            comma = text.map(lambda t: bool(_DECIMAL_COMMA.fullmatch(clean_text(t))))
            hint = np.where(comma, "，小数点请用英文句点“.”而不是逗号", "")
            return "「" + text + "」不是数字，请填写阿拉伯数字（如 8 或 8.5）" + hint

        return not_number
    if kind == BOOLEAN:
        return lambda f: "单元格是逻辑值 " + _text(f["value_text"]).str.upper() + "，请填写分数"
    if kind == DATE:
        return lambda f: (
            "单元格是日期或时间（"
            + _text(f["value_text"])
            + "），请填写分数；如分数显示成日期，请把单元格格式改为“常规”"
        )
    if kind == FORMULA:
        return lambda f: "分数单元格含有公式，请直接填写数值（可复制后“选择性粘贴-数值”）"
    return lambda f: "单元格是错误值（如 #DIV/0!、#N/A），请填写分数"


def _brand_texts(by_code: _Encoded | None, by_name: _Encoded | None, n: int) -> np.ndarray:
    """Per row, the brand as typed: its code if there is a code column, else its name.

    Only a column of references into the small dictionaries is built here; messages
    add the other half (see :func:`_brand_label`).
    """
    enc = by_code if by_code is not None else by_name
    if enc is None:
        return np.full(n, "", dtype=object)
    return enc.texts(np.arange(n))


def _by_id(series: pd.Series, ids: np.ndarray, missing: bool | float) -> np.ndarray:
    """``series[ids]`` for ids that may be negative or absent (-> ``missing``).

    A lookup table indexed by id (ids are small integers), so a million rows cost one
    numpy ``take``; the dtype follows ``missing`` (bool or float).
    """
    dtype = bool if isinstance(missing, bool) else float
    size = int(max(series.index.max() if len(series) else 0, ids.max() if len(ids) else 0)) + 1
    table = np.full(size + 1, missing, dtype=dtype)
    table[series.index.to_numpy(dtype=np.int64)] = series.to_numpy(dtype=dtype, na_value=missing)
    return table[np.where(ids >= 0, ids, size)]


def pair_keys(brand_ids: np.ndarray, judge_ids: np.ndarray) -> np.ndarray:
    """One int64 per (brand, judge): cheap to compare, sort and look up."""
    return brand_ids.astype(np.int64) * (1 << 24) + judge_ids.astype(np.int64)


_pair_key = pair_keys


def _col_number(letter: object) -> int:
    text = str(letter or "")
    n = 0
    for ch in text:
        if "A" <= ch <= "Z":
            n = n * 26 + ord(ch) - 64
    return n


def _text(values: pd.Series) -> pd.Series:
    """Text of a (small, issue-only) column for messages: Categorical/object -> str, NA -> ""."""
    return values.astype(object).fillna("").astype(str)


def _frame(n: int, **columns: object) -> pd.DataFrame:
    """A frame from numpy columns and scalars; text stays ``object``.

    pandas 3 would otherwise infer its Arrow string dtype for every text column, which
    costs a conversion per column (~20 ms per 100k rows each) for nothing: these
    columns are only compared and indexed.
    """
    data: dict[str, pd.Series] = {}
    for name, values in columns.items():
        if isinstance(values, str):  # one text for every row: a one-category Categorical
            data[name] = pd.Series(
                pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[values])
            )
        elif isinstance(values, pd.Categorical | pd.Series):
            data[name] = pd.Series(values, copy=False).reset_index(drop=True)
        else:
            array = np.asarray(values)
            data[name] = pd.Series(
                array, dtype=object if array.dtype.kind in "OUS" else None, copy=False
            )
    return pd.DataFrame(data, copy=False)


def _tag(frame: pd.DataFrame, file: str, sheet: str, pos: int) -> pd.DataFrame:
    if frame.empty:
        return frame
    one = np.zeros(len(frame), dtype=np.int8)
    return frame.assign(
        file=pd.Series(pd.Categorical.from_codes(one, categories=[file]), index=frame.index),
        sheet=pd.Series(pd.Categorical.from_codes(one, categories=[sheet]), index=frame.index),
        _sheet=pos,
    )


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame()
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _empty_scores() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "brand_id": pd.Series(dtype=np.int64),
            "judge_id": pd.Series(dtype=np.int64),
            "item": pd.Series(dtype=object),
            "item_idx": pd.Series(dtype=np.int64),
            "value": pd.Series(dtype=float),
            "file": pd.Series(dtype=object),
            "sheet": pd.Series(dtype=object),
            "row": pd.Series(dtype=np.int64),
            "col": pd.Series(dtype=object),
        }
    )


def _empty_comment_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "brand_id": pd.Series(dtype=np.int64),
            "judge_id": pd.Series(dtype=np.int64),
            "comment": pd.Series(dtype=object),
            "file": pd.Series(dtype=object),
            "sheet": pd.Series(dtype=object),
            "row": pd.Series(dtype=np.int64),
            "col": pd.Series(dtype=object),
        }
    )


def _empty_comments() -> pd.DataFrame:
    return pd.DataFrame()


def issue_line(issue: pd.Series, *, with_file: bool = False) -> str:
    """``sheet!cell: message`` (``file`` first when several files were uploaded)."""
    where = ""
    if issue["sheet"]:
        where = f"{issue['sheet']}!{issue['cell']}" if issue["cell"] else str(issue["sheet"])
    if with_file and issue["file"]:
        where = f"{issue['file']} {where}".strip()
    return f"{where}: {issue['message']}" if where else str(issue["message"])
