"""The score-sheet layout, shared by the template writer and the importer.

One module owns how a sheet looks (titles, header texts, the hidden metadata sheet)
and how a header typed by a person is recognised, so writer and reader cannot drift.
"""

from __future__ import annotations

import re
import unicodedata

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
