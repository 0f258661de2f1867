"""Builders for import tests: workbooks in every format, and whole-database dumps."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

import openpyxl
import pandas as pd
from sqlalchemy import Engine, text

from evalcore.excel import layout
from evalcore.rubric import default_rubric

LONG_HEADERS = [layout.LONG_JUDGE, layout.BRAND_CODE, layout.LONG_ITEM, layout.LONG_VALUE]
RUBRIC = default_rubric()
ITEMS = RUBRIC.item_codes
HEADERS = [layout.item_header(RUBRIC, c) for c in ITEMS]


def dump(engine: Engine) -> dict[str, pd.DataFrame]:
    """Every score and sheet row (all columns), sorted: equal dumps = unchanged database."""
    with engine.connect() as conn:
        scores = pd.DataFrame(
            conn.execute(
                text(
                    "SELECT round_id, brand_id, judge_id, item, value, comment, version, source, "
                    "updated_at FROM score ORDER BY round_id, brand_id, judge_id, item"
                )
            ).all()
        )
        sheets = pd.DataFrame(
            conn.execute(
                text(
                    "SELECT round_id, brand_id, judge_id, comment, status, updated_at "
                    "FROM scoresheet ORDER BY round_id, brand_id, judge_id"
                )
            ).all()
        )
        revision = conn.execute(text("SELECT code, revision FROM round ORDER BY code")).all()
    return {"scores": scores, "sheets": sheets, "revision": pd.DataFrame(revision)}


def assert_same(
    a: Mapping[str, pd.DataFrame], b: Mapping[str, pd.DataFrame], *, revision: bool = True
) -> None:
    pd.testing.assert_frame_equal(a["scores"], b["scores"])
    pd.testing.assert_frame_equal(a["sheets"], b["sheets"])
    if revision:
        pd.testing.assert_frame_equal(a["revision"], b["revision"])


def stored(engine: Engine, round_code: str = "2026") -> pd.DataFrame:
    """Scores of a round keyed by codes: judge_code, brand_code, item, value, source."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT j.code, b.code, s.item, s.value, s.source, s.version FROM score s "
                "JOIN judge j ON j.id = s.judge_id JOIN brand b ON b.id = s.brand_id "
                "JOIN round r ON r.id = s.round_id WHERE r.code = :r"
            ),
            {"r": round_code},
        ).all()
    return pd.DataFrame(rows, columns=["judge", "brand", "item", "value", "source", "version"])


def value_of(
    engine: Engine, judge: str, brand: str, item: str, round_code: str = "2026"
) -> float | None:
    s = stored(engine, round_code)
    hit = s[(s["judge"] == judge) & (s["brand"] == brand) & (s["item"] == item)]
    return None if hit.empty else float(hit["value"].iloc[0])


def xlsx(sheets: Mapping[str, Sequence[Sequence[Any]]]) -> bytes:
    """An xlsx written by openpyxl: ``{sheet: rows}``; a str starting with ``=`` is a formula."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def long_rows(
    rows: Iterable[Sequence[Any]], headers: Sequence[str] = LONG_HEADERS
) -> list[list[Any]]:
    return [list(headers), *[list(r) for r in rows]]


def template_sheet(
    judge: str,
    brands: Sequence[tuple[str, str]],
    values: Mapping[tuple[str, str], Any] | None = None,
    comments: Mapping[str, str] | None = None,
) -> list[list[Any]]:
    """A judge sheet shaped like the template: title, header row 2, one row per brand."""
    values = values or {}
    comments = comments or {}
    rows: list[list[Any]] = [[layout.sheet_title("2026年度评审", judge)]]
    rows.append([layout.BRAND_CODE, layout.BRAND_NAME, *HEADERS, layout.TOTAL, layout.COMMENT])
    for r, (code, name) in enumerate(brands, start=layout.FIRST_DATA_ROW):
        cells = [values.get((code, item)) for item in ITEMS]
        total = f"=SUM(C{r}:V{r})"
        rows.append([code, name, *cells, total, comments.get(code)])
    return rows


def set_cells(
    data: bytes, edits: Mapping[tuple[str, str], Any], *, keep_vba: bool = False
) -> bytes:
    """Open an xlsx with openpyxl, set ``{(sheet, "D7"): value}``, save."""
    wb = openpyxl.load_workbook(io.BytesIO(data), keep_vba=keep_vba)
    for (sheet, cell), value in edits.items():
        wb[sheet][cell] = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# -- an xlsx written by hand: zip + XML ------------------------------------------------------
_CT = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/'
    'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
    'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
    '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override '
    'PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.styles+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType='
    '"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
    'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WB_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
    'schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
    '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
#: cellXfs: 0 general, 1 "0.0" (numFmt 164), 2 a date, 3 "0.00" built in (numFmt 2)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.'
    'org/spreadsheetml/2006/main"><numFmts count="1"><numFmt numFmtId="164" formatCode="0.0"/>'
    '</numFmts><fonts count="1"><font/></fonts><fills count="1"><fill/></fills><borders '
    'count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs '
    'count="4"><xf numFmtId="0"/><xf numFmtId="164" applyNumberFormat="1"/><xf numFmtId="14" '
    'applyNumberFormat="1"/><xf numFmtId="2" applyNumberFormat="1"/></cellXfs></styleSheet>'
)


def hand_xlsx(
    sheet_name: str, cells: Sequence[Sequence[tuple[str, Any]]], trailing_empty_rows: int = 0
) -> bytes:
    """A minimal xlsx as Excel-like tools write it, built from raw XML.

    ``cells`` is rows of ``(kind, value)``: ``s`` shared string, ``is`` inline string,
    ``n`` number, ``n1`` number with format "0.0", ``n2`` with "0.00", ``e`` error value,
    ``f`` formula (value cached), ``b`` boolean, ``d`` number styled as a date,
    ``""`` empty. Trailing empty rows are written as styled, empty ``<row>`` elements.
    """
    shared: list[str] = []
    xml_rows = []
    for r, row in enumerate(cells, start=1):
        out = []
        for c, (kind, value) in enumerate(row):
            ref = f"{openpyxl.utils.get_column_letter(c + 1)}{r}"
            if kind == "s":
                shared.append(str(value))
                out.append(f'<c r="{ref}" t="s"><v>{len(shared) - 1}</v></c>')
            elif kind == "is":
                out.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>')
            elif kind in ("n", "n1", "n2", "d"):
                style = {"n": "", "n1": ' s="1"', "n2": ' s="3"', "d": ' s="2"'}[kind]
                out.append(f'<c r="{ref}"{style}><v>{value}</v></c>')
            elif kind == "e":
                out.append(f'<c r="{ref}" t="e"><v>{escape(str(value))}</v></c>')
            elif kind == "f":
                out.append(f'<c r="{ref}"><f>{escape(str(value[0]))}</f><v>{value[1]}</v></c>')
            elif kind == "b":
                out.append(f'<c r="{ref}" t="b"><v>{int(bool(value))}</v></c>')
        xml_rows.append(f'<row r="{r}">{"".join(out)}</row>')
    last = len(cells)
    for extra in range(1, trailing_empty_rows + 1):
        xml_rows.append(f'<row r="{last + extra}"><c r="A{last + extra}" s="1"/></row>')
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.'
        f'org/spreadsheetml/2006/main"><sheetData>{"".join(xml_rows)}</sheetData></worksheet>'
    )
    sst = (
        '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main" count="{len(shared)}" uniqueCount="{len(shared)}">'
        + "".join(f"<si><t>{escape(s)}</t></si>" for s in shared)
        + "</sst>"
    )
    book = (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.'
        'org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
        f'2006/relationships"><sheets><sheet name="{escape(sheet_name)}" sheetId="1" '
        'r:id="rId1"/></sheets></workbook>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CT)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("xl/workbook.xml", book)
        zf.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
        zf.writestr("xl/styles.xml", _STYLES)
        zf.writestr("xl/sharedStrings.xml", sst)
    return out.getvalue()
