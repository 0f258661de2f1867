"""Ranking a large round from the database: end to end, by phase, by method.

    python bench/bench_ranking.py                    # 1,000 brands x 9 judges, SQLite + PostgreSQL
    python bench/bench_ranking.py --no-pg --repeat 3
    python bench/bench_ranking.py --profile          # cProfile of one round_results per backend

Generates the demo campaign at scale with ``services.load_demo`` (two rounds; round
``2025`` holds brands x judges x 20 items, i.e. 180,000 scores by default) into a
temporary SQLite file and, when reachable, a temporary PostgreSQL schema, then times
``services.round_results`` and each of its phases. Not a pytest test: see README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a plain script from anywhere

import psycopg  # noqa: E402
from sqlalchemy import Engine  # noqa: E402

from evalcore import db, services, stats  # noqa: E402
from evalcore.permissions import Actor  # noqa: E402
from evalcore.ranking import ranking_table  # noqa: E402
from evalcore.rubric import METHODS, RoundSettings, Rubric  # noqa: E402
from evalcore.scoring import aggregate  # noqa: E402
from evalcore.store import (  # noqa: E402
    assigned_pairs,
    get_round,
    read_brands,
    read_judges,
    read_scores,
)

ACTOR = Actor.cli()

ROUND = "2025"
PG_URL = os.environ.get("EVALCORE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass
class Timing:
    phase: str
    backend: str
    seconds: list[float]
    rows: int

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def measure(
    phase: str, backend: str, repeat: int, fn: Callable[[], Any], rows: Callable[[Any], int]
) -> Timing:
    """Run ``fn`` once to warm up, then ``repeat`` timed runs."""
    result = fn()
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - start)
    return Timing(phase, backend, seconds, rows(result))


def bench_backend(engine: Engine, backend: str, repeat: int) -> list[Timing]:
    """Time round_results end to end, its phases, and each method."""

    def read() -> Any:
        with db.transaction(engine) as session:
            rnd = get_round(session, ROUND)
            conn = session.connection()
            return (
                rnd,
                read_scores(conn, rnd.id),
                read_brands(conn, rnd.id),
                read_judges(conn, rnd.id),
                assigned_pairs(conn, rnd.id),
            )

    def read_scores_only() -> Any:
        with db.transaction(engine) as session:
            rnd = get_round(session, ROUND)
            return read_scores(session.connection(), rnd.id)

    rnd, scores, brands, judges, expected = read()
    rubric = Rubric.from_dict(rnd.rubric)
    settings = RoundSettings.from_dict(rnd.settings)
    agg = aggregate(scores, rubric, settings, brand_ids=brands.index)

    timings = [
        measure("read scores (SQL -> pandas)", backend, repeat, read_scores_only, len),
        measure(
            "read all (round, scores, brands, judges)",
            backend,
            repeat,
            read,
            lambda r: len(r[1]),
        ),
        measure(
            "aggregate (trimmed)",
            backend,
            repeat,
            lambda: aggregate(scores, rubric, settings, brand_ids=brands.index),
            lambda a: len(a.summary),
        ),
        measure(
            "rank (ranking_table)",
            backend,
            repeat,
            lambda: ranking_table(agg, settings, rubric, brands, judges["judge"]),
            len,
        ),
        measure(
            "progress (stats.progress)",
            backend,
            repeat,
            lambda: stats.progress(agg, expected),
            lambda p: p.expected,
        ),
    ]
    for method in METHODS:
        timings.append(
            measure(
                f"round_results end to end ({method})",
                backend,
                repeat,
                lambda m=method: services.round_results(
                    engine, actor=ACTOR, round_code=ROUND, method=m
                ),
                lambda r: len(r.scores),
            )
        )
    url = engine.url.render_as_string(hide_password=False)
    timings.append(
        measure(
            "CLI: python -m evalcore rank --format csv",
            backend,
            repeat,
            lambda: subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "evalcore",
                    "--db",
                    url,
                    "rank",
                    "--round",
                    ROUND,
                    "--format",
                    "csv",
                ],
                cwd=ROOT,
                capture_output=True,
                check=True,
            ),
            lambda done: done.stdout.count(b"\n") - 1,
        )
    )
    return timings


def profile(engine: Engine, backend: str, top: int = 25) -> str:
    """cProfile of one round_results call, the slowest functions by cumulative time."""
    services.round_results(engine, actor=ACTOR, round_code=ROUND)  # warm
    profiler = cProfile.Profile()
    profiler.enable()
    services.round_results(engine, actor=ACTOR, round_code=ROUND)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    return f"== cProfile: round_results on {backend} ==\n{out.getvalue()}"


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="evalcore-bench-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"


@contextmanager
def postgres_schema(base_url: str) -> Iterator[str]:
    """A throwaway schema in the PostgreSQL database at ``base_url``, dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        sep = "&" if "?" in base_url else "?"
        yield f"{base_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        db.dispose_engines()
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def pg_reachable(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def format_rows(timings: list[Timing]) -> str:
    header = ("phase", "backend", "median s", "min", "max", "rows")
    rows = [
        (
            t.phase,
            t.backend,
            f"{t.median:.3f}",
            f"{min(t.seconds):.3f}",
            f"{max(t.seconds):.3f}",
            f"{t.rows:,}",
        )
        for t in timings
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.ljust(w) if i < 2 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *map(line, rows)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brands", type=int, default=1000)
    parser.add_argument("--judges", type=int, default=9)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per phase (median)")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--profile", action="store_true", help="also print a cProfile")
    args = parser.parse_args()

    print(
        f"evalcore bench: {args.brands} brands x {args.judges} judges, round {ROUND}; "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; Python {platform.python_version()}; "
        f"{os.cpu_count()} CPUs; {platform.platform()}; "
        f"load average {os.getloadavg()[0]:.2f} (other work on the machine skews medians)"
    )
    backends: list[tuple[str, Callable[[], Any]]] = [("sqlite", sqlite_database)]
    if args.no_pg:
        pass
    elif pg_reachable(args.pg_url):
        backends.append(("postgresql", lambda: postgres_schema(args.pg_url)))
    else:
        print(f"PostgreSQL at {args.pg_url} not reachable: SQLite only")

    timings: list[Timing] = []
    profiles: list[str] = []
    for backend, database in backends:
        with database() as url:
            engine = db.get_engine(url)
            start = time.perf_counter()
            counts = services.load_demo(engine, brands=args.brands, judges=args.judges)
            load = time.perf_counter() - start
            timings.append(
                Timing("load_demo (generate + insert, 2 rounds)", backend, [load], counts["scores"])
            )
            timings.extend(bench_backend(engine, backend, args.repeat))
            if args.profile:
                profiles.append(profile(engine, backend))
            db.dispose_engines()
    print(format_rows(timings))
    for text in profiles:
        print()
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
