"""Benchmark: importing 100k and 1M scores end to end, next to its floor.

    python bench/bench_import.py [--sizes 100000 1000000] [--runs 3]

For each size N a generated demo (``services.load_demo(brands=B, judges=M)``, 20 items
per sheet, round ``2026`` 评分中) is loaded once into a SQLite file; round 2026's
scores are then deleted, so the import writes N new scores, and that file is copied
afresh before every run. The upload is a long-format xlsx (评委, 品牌编号, 指标, 得分)
written with XlsxWriter (shared strings, as Excel saves them).

* **import**: ``preview_import`` + ``commit_import`` on the file's bytes: read every
  cell as text (fastexcel), scan for formulas, validate, compare with the stored
  scores, then one transaction that bumps the round, records the import and upserts.
* **floor**: what no import can avoid, measured on the same bytes and rows:
  a raw fastexcel read of the sheet to Arrow (types inferred, nothing checked), plus a
  raw ``sqlite3`` ``executemany`` of the same N rows (same columns, already built as
  tuples, not timed) into an empty table with the same unique key and index as
  ``score``, committed.

Runs are interleaved (floor, import, floor, import, ...) so machine load hits both
alike; the table shows medians and the ratio import / floor (target <= 1.5).
"""

from __future__ import annotations

import argparse
import math
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import fastexcel
import numpy as np
import xlsxwriter
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evalcore import db, services
from evalcore.excel import layout
from evalcore.excel.reader import read_workbook
from evalcore.permissions import Actor
from evalcore.rubric import default_rubric
from evalcore.services import imports

TARGET = 1.5
SEED = 7
FLOOR_DDL = """
CREATE TABLE score (
    id INTEGER PRIMARY KEY, round_id INTEGER NOT NULL, brand_id INTEGER NOT NULL,
    judge_id INTEGER NOT NULL, item VARCHAR(64) NOT NULL, value FLOAT NOT NULL,
    comment VARCHAR, version INTEGER NOT NULL, source VARCHAR(64) NOT NULL,
    updated_at DATETIME NOT NULL,
    CONSTRAINT uq_score_key UNIQUE (round_id, brand_id, judge_id, item)
);
CREATE INDEX ix_score_round_judge ON score (round_id, judge_id);
"""


def shape(n: int) -> tuple[int, int]:
    """Brands x judges so that brands x judges x 20 items is about ``n``."""
    n_items = len(default_rubric().item_codes)
    judges = 20 if n <= 200_000 else 40
    return math.ceil(n / (judges * n_items)), judges


def prepare(workdir: Path, n: int) -> tuple[Path, Path, list[tuple], int]:
    """The template database (round 2026 emptied), the upload, and the floor's rows."""
    brands, judges = shape(n)
    base = workdir / f"base_{n}.db"
    engine = db.get_engine(f"sqlite:///{base}")
    started = time.perf_counter()
    services.load_demo(engine, reset=True, brands=brands, judges=judges)
    with engine.begin() as conn:
        rid = conn.execute(text("SELECT id FROM round WHERE code = '2026'")).scalar_one()
        conn.execute(text("DELETE FROM score WHERE round_id = :r"), {"r": rid})
        brand_rows = conn.execute(text("SELECT id, code FROM brand ORDER BY code")).all()
        judge_rows = conn.execute(text("SELECT id, name FROM judge ORDER BY code")).all()
    db.dispose_engines()
    with sqlite3.connect(base) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(f"  demo {brands} brands x {judges} judges: {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    rubric = default_rubric()
    codes = rubric.item_codes
    maxima = np.array([rubric.item_max()[c] for c in codes])
    rng = np.random.default_rng(SEED)
    upload = workdir / f"upload_{n}.xlsx"
    # Default mode, i.e. shared strings, as Excel itself saves. (constant_memory writes
    # inline strings: a 3x larger sheet XML, which costs the formula scan ~1 s per 1M rows.)
    book = xlsxwriter.Workbook(str(upload))
    ws = book.add_worksheet("评分")
    ws.write_row(0, 0, [layout.LONG_JUDGE, layout.BRAND_CODE, layout.LONG_ITEM, layout.LONG_VALUE])
    rows: list[tuple] = []
    stamp = "2026-11-23 00:00:00.000000"
    r = 1
    for brand_id, brand_code in brand_rows:
        for judge_id, judge_name in judge_rows:
            values = np.round(rng.random(len(codes)) * maxima * 2) / 2
            for code, value in zip(codes, values.tolist(), strict=True):
                ws.write_string(r, 0, judge_name)
                ws.write_string(r, 1, brand_code)
                ws.write_string(r, 2, code)
                ws.write_number(r, 3, value)
                rows.append((rid, brand_id, judge_id, code, value, "import:1", stamp))
                r += 1
    book.close()
    size = upload.stat().st_size / 2**20
    print(f"  upload {len(rows):,} rows, {size:.1f} MB: {time.perf_counter() - started:.1f} s")
    return base, upload, rows, rid


def floor_read(data: bytes) -> float:
    started = time.perf_counter()
    fastexcel.read_excel(data).load_sheet(0).to_arrow()
    return time.perf_counter() - started


def floor_write(workdir: Path, rows: list[tuple]) -> float:
    path = workdir / "floor.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(FLOOR_DDL)
    started = time.perf_counter()
    conn.executemany(
        "INSERT INTO score (round_id, brand_id, judge_id, item, value, comment, version, "
        "source, updated_at) VALUES (?, ?, ?, ?, ?, NULL, 1, ?, ?)",
        rows,
    )
    conn.commit()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def run_import(workdir: Path, base: Path, data: bytes, n: int) -> dict[str, float]:
    target = workdir / "run.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copy(base, target)
    engine = db.get_engine(f"sqlite:///{target}")  # opened and migrated before timing
    started = time.perf_counter()
    preview = imports.preview_import(
        engine, round_code="2026", files=[("upload.xlsx", data)], actor=Actor.cli()
    )
    previewed = time.perf_counter()
    assert preview.ok, preview.issue_lines()[:5]
    assert preview.counts.scores_new == n, preview.counts
    imports.commit_import(engine, preview=preview)
    done = time.perf_counter()
    read_started = time.perf_counter()
    read_workbook("upload.xlsx", data)
    read = time.perf_counter() - read_started
    db.dispose_engines()
    return {"preview": previewed - started, "commit": done - previewed, "read": read}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    table = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for n in args.sizes:
            print(f"N = {n:,}: preparing")
            base, upload, rows, _ = prepare(workdir, n)
            data = upload.read_bytes()
            floors_r, floors_w, imps = [], [], []
            for i in range(args.runs):
                floors_r.append(floor_read(data))
                floors_w.append(floor_write(workdir, rows))
                imps.append(run_import(workdir, base, data, len(rows)))
                print(
                    f"  run {i + 1}: floor {floors_r[-1] + floors_w[-1]:.2f} s, import "
                    f"{imps[-1]['preview'] + imps[-1]['commit']:.2f} s"
                )
            fr, fw = statistics.median(floors_r), statistics.median(floors_w)
            pv = statistics.median(i["preview"] for i in imps)
            cm = statistics.median(i["commit"] for i in imps)
            total = statistics.median(i["preview"] + i["commit"] for i in imps)
            rd = statistics.median(i["read"] for i in imps)
            table.append((len(rows), fr, fw, fr + fw, rd, pv, cm, total, total / (fr + fw)))
            del rows

    header = (
        f"{'scores':>10}  {'floor read':>10}  {'floor write':>11}  {'floor':>7}  "
        f"{'our read':>8}  {'preview':>8}  {'commit':>7}  {'import':>7}  {'ratio':>6}"
    )
    print(f"\nmedian of {args.runs} runs, seconds (target: import <= {TARGET}x floor)")
    print(header)
    print("-" * len(header))
    for n, fr, fw, floor, rd, pv, cm, total, ratio in table:
        print(
            f"{n:>10,}  {fr:>10.2f}  {fw:>11.2f}  {floor:>7.2f}  {rd:>8.2f}  "
            f"{pv:>8.2f}  {cm:>7.2f}  {total:>7.2f}  {ratio:>5.2f}x"
        )
    return 0 if all(row[-1] <= TARGET for row in table) else 1


if __name__ == "__main__":
    sys.exit(main())
