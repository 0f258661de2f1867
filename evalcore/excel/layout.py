"""The score-sheet layout, shared by the template writer and the importer.

One module owns how a sheet looks (titles, header texts, the hidden metadata sheet)
and how a header typed by a person is recognised, so writer and reader cannot drift.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from evalcore.errors import InvalidInput
from evalcore.rubric import BONUS, Rubric

INSTRUCTIONS_SHEET = "填表说明"
META_SHEET = "_evalcore"  # hidden: round code, rubric version, judge id per sheet
TITLE_ROW = 1  # 1-based row numbers, as Excel shows them
HEADER_ROW = 2
FIRST_DATA_ROW = 3
BRAND_CODE = "品牌编号"
BRAND_NAME = "品牌名称"
TOTAL = "合计"
COMMENT = "评语"
#: Columns of the long format: one row per (judge, brand, item).
LONG_JUDGE, LONG_ITEM, LONG_VALUE = "评委", "指标", "得分"
BONUS_LABEL = "加分项"


def format_points(points: float) -> str:
    return f"{points:g}"


def item_header(rubric: Rubric, code: str) -> str:
    """``<criterion>-<item>(N分)``, e.g. ``品牌名称-名称凝练响亮(5分)``."""
    return f"{rubric.item_labels()[code]}({format_points(rubric.item_max()[code])}分)"


_POINTS_SUFFIX = re.compile(r"[（(]\s*\d+(?:\.\d+)?\s*分?\s*[）)]\s*$")
_SPACES = re.compile(r"\s+")


def normalize_header(text: object) -> str:
    """Fold what people vary when they type a header: width, spaces, brackets, "(10分)".

    NFKC turns full-width letters, digits and brackets into ASCII; the points suffix is
    dropped because maxima are checked against the rubric, not read from the header.
    """
    folded = unicodedata.normalize("NFKC", str(text if text is not None else ""))
    folded = _SPACES.sub("", folded)
    folded = _POINTS_SUFFIX.sub("", folded)
    return folded.replace("—", "-").replace("－", "-").lower()


def item_aliases(rubric: Rubric) -> dict[str, str]:
    """Every accepted spelling (normalised) of every item -> item code.

    An item is known by its code, its label and ``<criterion>-<item>``; a bare label
    shared by two criteria would be ambiguous and is left out.
    """
    aliases: dict[str, str] = {}
    labels = rubric.item_labels()
    bare_counts: dict[str, int] = {}
    for _, item in rubric.scored_items():
        key = normalize_header(item.label)
        bare_counts[key] = bare_counts.get(key, 0) + 1
    for group, item in rubric.scored_items():
        aliases[normalize_header(item.code)] = item.code
        aliases[normalize_header(labels[item.code])] = item.code
        if group == BONUS:
            aliases[normalize_header(f"{BONUS_LABEL}-{item.label}")] = item.code
        bare = normalize_header(item.label)
        if bare_counts[bare] == 1:
            aliases[bare] = item.code
    return aliases


# -- Judge sheets: names and titles ------------------------------------------------------
#: Excel refuses these in sheet names; a judge's name is cleaned before it becomes one.
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
SHEET_NAME_MAX = 31
#: Excel reserves this name (case-insensitively) for its change history.
_RESERVED_SHEET_NAMES = frozenset({"history"})


def judge_sheet_name(judge_name: str, taken: Iterable[str] = ()) -> str:
    """The sheet name for a judge: their name made legal and unique in the workbook.

    Excel allows at most 31 characters, none of ``[]:*?/\\``, no leading or trailing
    apostrophe, and compares names case-insensitively. A clash (two judges whose names
    clean to the same text, or the instructions sheet) gets a ``(2)``, ``(3)`` suffix.
    The metadata sheet maps every sheet back to its judge id, so the name only has to be
    readable, not reversible.
    """
    base = _SHEET_FORBIDDEN.sub("_", str(judge_name)).strip().strip("'").strip()
    base = base[:SHEET_NAME_MAX] or "评委"
    used = {t.casefold() for t in taken} | {INSTRUCTIONS_SHEET.casefold(), META_SHEET.casefold()}
    used |= _RESERVED_SHEET_NAMES
    name, n = base, 1
    while name.casefold() in used:
        n += 1
        suffix = f"({n})"
        name = base[: SHEET_NAME_MAX - len(suffix)] + suffix
    return name


def sheet_title(round_name: str, judge_name: str) -> str:
    """The text of a judge sheet's title row (row :data:`TITLE_ROW`)."""
    return f"{round_name} 评分表（评委：{judge_name}）"


def criterion_header(rubric: Rubric, code: str) -> str:
    """A criterion column in reports, e.g. ``品牌名称(15分)``.

    The points keep the criterion "品牌名称" apart from the brand-name column.
    """
    crit = rubric.criterion(code)
    return f"{crit.label}({format_points(crit.max_points)}分)"


def bonus_header(rubric: Rubric) -> str:
    """The capped bonus column in reports, e.g. ``加分项(5分)``."""
    return f"{BONUS_LABEL}({format_points(rubric.effective_bonus_cap)}分)"


# -- The hidden metadata sheet -------------------------------------------------------------
# META_SHEET is a three-column table, written as text only (so "2026" stays "2026"):
#
#   row 1:  sheet | key | value                      <- META_HEADER
#   rows:   ""    | format | evalcore.score_template
#           ""    | format_version | 1
#           ""    | round_code | 2026
#           ""    | round_name | 2026年度…
#           ""    | rubric_version | 1
#           ""    | items | name.concise,name.logo,…   (item codes in column order)
#           ""    | generated_at | 2026-11-23T18:40:48+00:00
#           王建华 | judge_id | 1                      <- one group per judge sheet
#           王建华 | judge_code | J01
#           王建华 | judge_name | 王建华
#
# An empty ``sheet`` cell means "the workbook". Readers must ignore keys they do not
# know (later versions may add some) and must not require the sheet at all: a sheet
# typed by hand with the same headers carries no metadata and is still importable.
META_HEADER = ("sheet", "key", "value")
META_FORMAT = "evalcore.score_template"
META_FORMAT_VERSION = 1


class MetaKey:
    """Keys of the metadata table."""

    FORMAT = "format"
    FORMAT_VERSION = "format_version"
    ROUND_CODE = "round_code"
    ROUND_NAME = "round_name"
    RUBRIC_VERSION = "rubric_version"
    ITEMS = "items"
    GENERATED_AT = "generated_at"
    JUDGE_ID = "judge_id"
    JUDGE_CODE = "judge_code"
    JUDGE_NAME = "judge_name"


@dataclass(frozen=True)
class SheetMeta:
    """Whose sheet this is."""

    judge_id: int
    judge_code: str
    judge_name: str


@dataclass(frozen=True)
class TemplateMeta:
    """What a template remembers about where it came from; see the table above."""

    round_code: str
    round_name: str = ""
    rubric_version: int = 1
    items: tuple[str, ...] = ()
    generated_at: str = ""
    sheets: Mapping[str, SheetMeta] = field(default_factory=dict)
    format_version: int = META_FORMAT_VERSION

    def rows(self) -> list[tuple[str, str, str]]:
        """The metadata table's rows, header first, every value as text."""
        rows = [
            META_HEADER,
            ("", MetaKey.FORMAT, META_FORMAT),
            ("", MetaKey.FORMAT_VERSION, str(self.format_version)),
            ("", MetaKey.ROUND_CODE, self.round_code),
            ("", MetaKey.ROUND_NAME, self.round_name),
            ("", MetaKey.RUBRIC_VERSION, str(self.rubric_version)),
            ("", MetaKey.ITEMS, ",".join(self.items)),
            ("", MetaKey.GENERATED_AT, self.generated_at),
        ]
        for sheet, meta in self.sheets.items():
            rows += [
                (sheet, MetaKey.JUDGE_ID, str(meta.judge_id)),
                (sheet, MetaKey.JUDGE_CODE, meta.judge_code),
                (sheet, MetaKey.JUDGE_NAME, meta.judge_name),
            ]
        return rows

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[object]]) -> TemplateMeta | None:
        """Read the table back; ``None`` when it is not an evalcore template's metadata.

        Cells may come back as numbers or ``None`` (fastexcel, openpyxl), so every cell
        is read as text; ``2026.0`` from a reader that typed the cell is read as ``2026``.
        """
        book: dict[str, str] = {}
        per_sheet: dict[str, dict[str, str]] = {}
        for row in rows:
            cells = [_meta_text(c) for c in (*row, None, None, None)[:3]]
            sheet, key, value = cells
            if (sheet, key, value) == META_HEADER or not key:
                continue
            if sheet:
                per_sheet.setdefault(sheet, {})[key] = value
            else:
                book[key] = value
        if book.get(MetaKey.FORMAT) != META_FORMAT or not book.get(MetaKey.ROUND_CODE):
            return None
        try:
            sheets = {
                name: SheetMeta(
                    judge_id=int(keys[MetaKey.JUDGE_ID]),
                    judge_code=keys.get(MetaKey.JUDGE_CODE, ""),
                    judge_name=keys.get(MetaKey.JUDGE_NAME, name),
                )
                for name, keys in per_sheet.items()
                if keys.get(MetaKey.JUDGE_ID)
            }
            return cls(
                round_code=book[MetaKey.ROUND_CODE],
                round_name=book.get(MetaKey.ROUND_NAME, ""),
                rubric_version=int(book.get(MetaKey.RUBRIC_VERSION) or 1),
                items=tuple(i for i in book.get(MetaKey.ITEMS, "").split(",") if i),
                generated_at=book.get(MetaKey.GENERATED_AT, ""),
                sheets=sheets,
                format_version=int(book.get(MetaKey.FORMAT_VERSION) or META_FORMAT_VERSION),
            )
        except ValueError as exc:
            raise InvalidInput(f"评分表的隐藏信息页（{META_SHEET}）已损坏：{exc}") from exc


def _meta_text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float):
        if cell != cell:  # NaN: an empty cell from pandas
            return ""
        if cell.is_integer():
            return str(int(cell))
    return str(cell).strip()


# -- Reading sheets typed by people (the importer) ------------------------------------------
#: Other spellings accepted for the long format's columns (compared after normalize_header).
LONG_ALIASES: dict[str, tuple[str, ...]] = {
    LONG_JUDGE: (LONG_JUDGE, "评委姓名", "评委编号", "评审专家"),
    BRAND_CODE: (BRAND_CODE, "品牌代码"),
    BRAND_NAME: (BRAND_NAME, "品牌"),
    LONG_ITEM: (LONG_ITEM, "二级指标", "评分指标", "指标名称", "指标编码"),
    LONG_VALUE: (LONG_VALUE, "分数", "评分"),
    COMMENT: (COMMENT, "评价", "评语意见"),
}
#: How far down a sheet the importer looks for its header row.
HEADER_SEARCH_ROWS = 20
_TITLE_JUDGE = re.compile(r"评委[:：]\s*(.+?)\s*[)）]\s*$")


def judge_from_title(title: object) -> str | None:
    """The judge named in a sheet title written by :func:`sheet_title`, if any."""
    found = _TITLE_JUDGE.search(str(title or "").strip())
    return found.group(1) if found else None
