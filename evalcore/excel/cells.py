"""Writing cells: user text stays text, numbers stay numbers, big tables stay fast.

Names, comments and codes come from users, and a spreadsheet treats text that starts
with ``= + - @`` (or a tab or line break) as the start of a formula when it is typed,
pasted or imported from CSV ("CSV injection", OWASP). The defence differs by format:

* **xlsx**: text is always written with ``write_string``, so the file holds a string
  cell and never an ``<f>`` element. A cell whose text starts with a trigger also gets
  Excel's own *quote prefix* style (what Excel sets when one types ``'=1``): the value
  is kept exactly as the user wrote it (so an import reads back the original text),
  it displays unchanged, and editing the cell later does not turn it into a formula.
  Adding a visible ``'`` instead would change the data and break the round trip.
* **csv**: a CSV has no styles, so the OWASP rule applies: such a cell is prefixed
  with a single quote ``'``. Spreadsheets show the quote (that is the price of the
  defence, and why the xlsx uses the style instead). Text that itself starts with
  ``'`` is prefixed too, so :func:`unescape_csv_text` can always strip exactly one.

Numbers are written as numbers (``write_number``); a negative score is not text and
never escaped. Full-width ``＝＋－＠`` are included because Chinese input methods
produce them and some spreadsheet versions convert them on entry.

:class:`TextFormat` pairs a format with its quote-prefixed twin, and :class:`SheetBody`
is the only way template and report put a table's rows into a sheet.

Speed: XlsxWriter's per-cell API costs about 10 us a cell (argument checks, a tuple
per cell, then XML written one cell at a time at close). A report of 2,400 brands has
~600,000 cells (the judge detail alone is 16,800 rows), i.e. several seconds. A
:class:`SheetBody` keeps whole columns, builds each distinct cell once and writes the
rows with one format string per row; :class:`BookWriter` splices them into the
package XlsxWriter made. About 20x faster overall. It relies on XlsxWriter internals,
pinned with XlsxWriter in requirements.txt and covered by the round-trip tests
(openpyxl and calamine read the cells back): ``Format._get_xf_index`` (a format's
style index), ``Worksheet.str_table._get_shared_string_index`` (the shared strings),
``Worksheet._check_dimensions`` and the ``_write_sheet_data`` step of sheet assembly.
Text cells use the shared string table as XlsxWriter's own do, so XlsxWriter escapes
them; only formulas are escaped here (:func:`xml_text`).
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
CSV_ESCAPE = "'"
#: Excel keeps at most this many characters in a cell; longer text is cut.
MAX_TEXT = 32_767


def needs_escape(text: str) -> bool:
    """Whether ``text`` would be taken for a formula if typed or read from CSV."""
    return text.startswith(FORMULA_TRIGGERS)


def csv_text(value: object) -> object:
    """A CSV cell: text starting with a formula trigger (or a ``'``) gets a leading ``'``."""
    if isinstance(value, str) and (needs_escape(value) or value.startswith(CSV_ESCAPE)):
        return CSV_ESCAPE + value
    return value


def unescape_csv_text(text: str) -> str:
    """Undo :func:`csv_text` (for a reader of our CSV files): drop one leading ``'``."""
    return text.removeprefix(CSV_ESCAPE)


@dataclass(frozen=True)
class TextFormat:
    """A cell format for text and its quote-prefixed twin for formula-like text."""

    plain: Format
    quoted: Format

    @classmethod
    def add(cls, workbook: Workbook, props: Mapping[str, Any]) -> TextFormat:
        return cls(
            workbook.add_format(dict(props)),
            workbook.add_format({**props, "quote_prefix": True}),
        )

    def pick(self, text: str) -> Format:
        return self.quoted if needs_escape(text) else self.plain


def as_text(value: object) -> str:
    """Any cell value as display text; missing values (None, NaN, NA) become ``""``."""
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return str(value)


def write_text(ws: Worksheet, row: int, col: int, value: object, fmt: TextFormat) -> None:
    """One text cell, never a formula; empty text is a blank cell with the format."""
    text = as_text(value)
    if text:
        ws.write_string(row, col, text, fmt.pick(text))
    else:
        ws.write_blank(row, col, None, fmt.plain)


def write_header(
    ws: Worksheet, row: int, headers: Sequence[str], fmt: TextFormat, first_col: int = 0
) -> None:
    """A header row (header texts come from code and layout, but are escaped anyway)."""
    for col, text in enumerate(headers, start=first_col):
        write_text(ws, row, col, text, fmt)


def column_letter(col: int) -> str:
    """0-based column index -> Excel letters (0 -> A, 26 -> AA)."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


# -- bulk rows ------------------------------------------------------------------------------
#: Characters XML cannot hold or must escape, and text that looks like Excel's own escape.
_XML_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_EXCEL_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")


def xml_text(text: str) -> str:
    """Escape element text (formulas) as Excel does: ``&<>`` and control characters.

    XML 1.0 cannot hold most control characters; Excel writes them as ``_xHHHH_`` and
    protects a literal ``_xHHHH_`` in the text as ``_x005F_xHHHH_``.
    """
    if not _XML_SPECIAL.search(text):
        return text
    text = _EXCEL_ESCAPE.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xml_safe(text: str) -> str:
    """``text`` without the control characters XML cannot hold (for chart caches).

    Cells escape them as Excel does (:func:`xml_text`); a chart's cached labels are
    only a preview Excel recomputes from the cells, so dropping them there is enough.
    """
    return _CONTROL.sub("", text)


class BookWriter:
    """An XlsxWriter workbook in memory whose big tables are written by :class:`SheetBody`.

    ``close()`` returns the ``.xlsx`` bytes. XlsxWriter deflates every part at zlib's
    default level 6, which for 20 MB of sheet XML costs more than writing it; bodies
    are therefore left out of XlsxWriter's package (a placeholder marks their place)
    and spliced in afterwards at level 1: ~3x faster to compress, ~25% larger files.
    """

    def __init__(self, properties: Mapping[str, str] | None = None) -> None:
        self._buffer = io.BytesIO()
        # strings_to_*: belt and braces; we never call write(), which would honour them.
        self.workbook = Workbook(
            self._buffer,
            {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False},
        )
        if properties:
            self.workbook.set_properties(dict(properties))
        self._bodies: list[SheetBody] = []

    def body(self, ws: Worksheet, first_row: int, n_rows: int) -> SheetBody:
        """The writer for rows ``first_row ..`` (0-based) of ``ws``; one per sheet."""
        if any(b.ws is ws for b in self._bodies):
            raise ValueError(f"sheet {ws.name!r} already has a body")
        body = SheetBody(ws, first_row, n_rows, marker=len(self._bodies))
        self._bodies.append(body)
        return body

    def close(self) -> bytes:
        self.workbook.close()
        packaged = self._buffer.getvalue()
        if not self._bodies:
            return packaged
        out = io.BytesIO()
        with (
            zipfile.ZipFile(io.BytesIO(packaged)) as src,
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
        ):
            for info in src.infolist():
                data = src.read(info)
                level = None
                if info.filename.startswith("xl/worksheets/") and _MARKER.search(data):
                    data = _MARKER.sub(lambda m: self._bodies[int(m[1])].xml(), data)
                    level = 1
                part = zipfile.ZipInfo(info.filename, info.date_time)
                part.compress_type = zipfile.ZIP_DEFLATED
                dst.writestr(part, data, compresslevel=level)
        return out.getvalue()


_MARKER = re.compile(rb"<!--evalcore-body-(\d+)-->")


class SheetBody:
    """The data rows of a sheet, kept as columns and written as XML in one pass.

    XlsxWriter writes everything above ``first_row`` (title, header, merged cells) and
    all sheet-level settings (widths, validation, protection, filters, print setup);
    the body writes rows ``first_row .. first_row + n_rows - 1`` (0-based). Every body
    row gets a cell in every column given; blank cells keep their format (borders,
    unlocked input cells). No XlsxWriter ``write_*`` call may touch a body row.
    Columns repeat values (a judge's name on each of their rows, half points), so
    every distinct value is turned into XML once.
    """

    def __init__(self, ws: Worksheet, first_row: int, n_rows: int, *, marker: int) -> None:
        self.ws = ws
        self.first_row = first_row
        self.n_rows = n_rows
        self._rows = [str(r) for r in range(first_row + 1, first_row + n_rows + 1)]  # 1-based
        self._columns: dict[int, list[str]] = {}
        original = ws._write_sheet_data

        def write_sheet_data() -> None:
            if not self._columns or not self.n_rows:
                original()
                return
            ws._xml_start_tag("sheetData")
            ws._write_rows()  # XlsxWriter's own rows: everything above the body
            ws.fh.write(f"<!--evalcore-body-{marker}-->")
            ws._xml_end_tag("sheetData")

        ws._write_sheet_data = write_sheet_data

    def _start(self, col: int, values: Sequence[object] | np.ndarray) -> None:
        """Check the column's length and extend the sheet's <dimension> over it."""
        if len(values) != self.n_rows:
            raise ValueError(f"column has {len(values)} values for {self.n_rows} rows")
        if self.n_rows:
            self.ws._check_dimensions(self.first_row, col)
            self.ws._check_dimensions(self.first_row + self.n_rows - 1, col)

    # A column is kept as the "tail" of each of its cells: everything after
    # ``<c r="B7"``. Tails repeat, so each distinct one is built once and picked by index.

    def text(self, col: int, values: Sequence[object] | np.ndarray, fmt: TextFormat) -> None:
        """A column of text: string cells in the shared string table, never formulas.

        Formula-like text gets the quote-prefix style (see the module docstring).
        """
        self._start(col, values)
        plain = fmt.plain._get_xf_index()
        quoted = fmt.quoted._get_xf_index()
        strings = self.ws.str_table
        blank = f' s="{plain}"/>'
        codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
        tails = []
        for value in uniques.tolist():
            text = as_text(value)[:MAX_TEXT]
            if text:
                style = quoted if text.startswith(FORMULA_TRIGGERS) else plain
                index = strings._get_shared_string_index(text)
                tails.append(f' s="{style}" t="s"><v>{index}</v></c>')
            else:
                tails.append(blank)
        tails.append(blank)  # code -1: a missing value
        picked = np.array(tails, dtype=object)[codes]
        # sst@count is the number of references; the table counted each distinct string once.
        strings.count += int((picked != blank).sum()) - sum(t != blank for t in tails)
        self._columns[col] = picked.tolist()

    def numbers(self, col: int, values: Sequence[object] | np.ndarray, fmt: Format) -> None:
        """A column of numbers; NaN / None / NA become blank cells with the format."""
        self._start(col, values)
        style = fmt._get_xf_index()
        floats = to_floats(values)
        uniques, codes = np.unique(floats, return_inverse=True)  # NaNs end up last
        tails = [
            f' s="{style}"><v>{v!r}</v></c>' if v == v else f' s="{style}"/>'
            for v in uniques.tolist()
        ]
        self._columns[col] = np.array(tails, dtype=object)[codes.ravel()].tolist()

    def formulas(
        self, col: int, formulas: Sequence[str], cached: Sequence[object] | np.ndarray, fmt: Format
    ) -> None:
        """A column of formulas (``=`` optional) with the values readers see before recalc.

        A cached NaN/None is an empty-string result (``t="str"``), as for ``IF(…,"",…)``.
        """
        self._start(col, formulas)
        style = fmt._get_xf_index()
        tails = []
        for formula, value in zip(formulas, to_floats(cached).tolist(), strict=True):
            body = xml_text(formula.removeprefix("="))
            if value == value:
                tails.append(f' s="{style}"><f>{body}</f><v>{value!r}</v></c>')
            else:
                tails.append(f' s="{style}" t="str"><f>{body}</f><v></v></c>')
        self._columns[col] = tails

    def xml(self) -> bytes:
        """The body's ``<row>`` elements, UTF-8.

        One format string per row (``<row r="{0}"><c r="A{0}"{1}<c r="B{0}"{2}…``) puts
        the row number into every cell reference in C rather than per cell in Python.
        """
        order = sorted(self._columns)
        row = '<row r="{0}">'
        for n, col in enumerate(order, start=1):
            row += f'<c r="{column_letter(col)}{{0}}"{{{n}}}'
        fill = (row + "</row>").format
        columns = [self._columns[c] for c in order]
        return "".join(
            [
                fill(r, *tails)
                for r, tails in zip(self._rows, zip(*columns, strict=True), strict=True)
            ]
        ).encode("utf-8")


def to_floats(values: Sequence[object] | np.ndarray | pd.Series) -> np.ndarray:
    """Values as float64 with NaN for every kind of missing (None, NA, NaN)."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiub":
        return values.astype("float64", copy=False)
    if isinstance(values, pd.Series):
        return pd.to_numeric(values).to_numpy(dtype="float64", na_value=np.nan)
    return pd.to_numeric(pd.Series(list(values), dtype=object)).to_numpy(
        dtype="float64", na_value=np.nan
    )
