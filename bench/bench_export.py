"""Benchmark: the results workbook and the score templates at 2,400 brands x 7 judges.

    python bench/bench_export.py [--brands 2400] [--judges 7] [--runs 5]

"build" phases time the writing only, from data already read (the app caches results
per round revision, so that is what a download costs); "service" phases include the
database reads. Target: the formatted results workbook built in at most 0.25 s
(median of the runs). One warm-up run precedes each phase.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evalcore import db, services
from evalcore.db import transaction
from evalcore.excel.report import detail_columns, ranking_frame, write_csv, write_report
from evalcore.excel.template import write_template
from evalcore.permissions import Actor
from evalcore.services import exports
from evalcore.store import read_sheets

ACTOR = Actor.cli()

TARGET_S = 0.25
REPORT = "report.xlsx build"


def measure(fn: Callable[[], object], runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of each run.

    CPU time is printed too because development machines and CI are shared: under load
    the wall clock can double while the work done (CPU time) stays the same.
    """
    fn()  # warm-up: imports, first-use caches
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--brands", type=int, default=2400)
    parser.add_argument("--judges", type=int, default=7)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        engine = db.get_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        services.load_demo(engine, reset=True, brands=args.brands, judges=args.judges)
        code = "2025"
        results = services.round_results(engine, actor=ACTOR, round_code=code)
        with transaction(engine) as session:
            comments = read_sheets(session.connection(), results.round.id)
        data = exports.report_data(results, comments)
        panel = exports.template_data(engine, round_code=code)
        one = exports.template_data(engine, round_code=code, judge="J001", prefill=True)
        sizes = {
            "report.xlsx": len(write_report(data)),
            "template.xlsx": len(write_template(panel)),
        }
        detail_rows = len(next(iter(detail_columns(data).values())))
        phases: dict[str, tuple[list[float], list[float]]] = {
            "  of which: ranking table": measure(lambda: ranking_frame(data), args.runs),
            "  of which: judge detail table": measure(lambda: detail_columns(data), args.runs),
            REPORT: measure(lambda: write_report(data), args.runs),
            "report.csv build": measure(lambda: write_csv(data), args.runs),
            f"template build, {args.judges} judges": measure(
                lambda: write_template(panel), args.runs
            ),
            "template build, 1 judge prefilled": measure(lambda: write_template(one), args.runs),
            "service: results_workbook": measure(
                lambda: exports.results_workbook(engine, actor=ACTOR, round_code=code), args.runs
            ),
            "service: score_template, 1 judge prefilled": measure(
                lambda: exports.score_template(
                    engine, actor=ACTOR, round_code=code, judge="J001", prefill=True
                ),
                args.runs,
            ),
        }
        db.dispose_engines()

    print(
        f"{args.brands} brands x {args.judges} judges ({detail_rows} judge sheets), "
        f"median of {args.runs} runs"
    )
    print(f"{'phase':<46}{'median s':>10}{'min s':>10}{'max s':>10}{'cpu s':>10}")
    for name, (wall, cpu) in phases.items():
        print(
            f"{name:<46}{statistics.median(wall):>10.3f}{min(wall):>10.3f}{max(wall):>10.3f}"
            f"{statistics.median(cpu):>10.3f}"
        )
    print(
        f"sizes: report.xlsx {sizes['report.xlsx'] / 1e6:.1f} MB, "
        f"template.xlsx {sizes['template.xlsx'] / 1e6:.1f} MB"
    )
    wall, cpu = (statistics.median(t) for t in phases[REPORT])
    verdict = "meets" if wall <= TARGET_S else "misses"
    print(
        f"{REPORT}: median {wall:.3f} s / target {TARGET_S} s = {wall / TARGET_S:.2f} "
        f"({verdict}; cpu {cpu:.3f} s = {cpu / TARGET_S:.2f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
