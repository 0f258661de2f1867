"""The layer rules of STYLE.md, enforced: imports only point down.

    app.py, pages/, ui/  ->  evalcore.services  ->  evalcore.db/models/store, evalcore.excel
                         ->  pure core (rubric, scoring, ranking, stats, charts, errors)

A rule written only in a README gets broken; this test walks every import instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ["rubric", "scoring", "ranking", "stats", "charts", "errors"]
STORAGE_LIBS = ("sqlalchemy", "sqlmodel", "alembic", "psycopg")
UI_FORBIDDEN = (
    *STORAGE_LIBS,
    "evalcore.db",
    "evalcore.models",
    "evalcore.store",
    "evalcore.scoring",
    "evalcore.ranking",
    "evalcore.demo",
)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def offending(path: Path, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        name
        for name in imports_of(path)
        if any(name == bad or name.startswith(bad + ".") for bad in forbidden)
    )


def sources(*patterns: str) -> list[Path]:
    return sorted(p for pattern in patterns for p in ROOT.glob(pattern))


@pytest.mark.parametrize("path", sources("evalcore/**/*.py"), ids=str)
def test_evalcore_never_imports_streamlit(path: Path) -> None:
    assert offending(path, ("streamlit",)) == []


@pytest.mark.parametrize(
    "path", [p for name in CORE if (p := ROOT / "evalcore" / f"{name}.py").exists()], ids=str
)
def test_pure_core_has_no_storage_or_services(path: Path) -> None:
    forbidden = (
        *STORAGE_LIBS,
        "evalcore.db",
        "evalcore.models",
        "evalcore.store",
        "evalcore.services",
        "evalcore.cli",
        "evalcore.excel",
    )
    assert offending(path, forbidden) == []


@pytest.mark.parametrize(
    "path",
    [ROOT / "evalcore" / f"{n}.py" for n in ("db", "models", "store", "demo")],
    ids=str,
)
def test_storage_does_not_reach_up(path: Path) -> None:
    assert offending(path, ("evalcore.services", "evalcore.cli")) == []


@pytest.mark.parametrize("path", sources("app.py", "pages/*.py", "ui/*.py"), ids=str)
def test_ui_goes_through_services(path: Path) -> None:
    assert offending(path, UI_FORBIDDEN) == []


@pytest.mark.parametrize("path", sources("evalcore/cli/*.py"), ids=str)
def test_cli_goes_through_services(path: Path) -> None:
    """The CLI is another front end: it opens databases and acts only through services."""
    forbidden = (*STORAGE_LIBS, "evalcore.db", "evalcore.models", "evalcore.store")
    assert offending(path, forbidden) == []


@pytest.mark.parametrize("path", sources("evalcore/excel/*.py"), ids=str)
def test_excel_stays_below_services(path: Path) -> None:
    """Readers and writers work on tables and bytes; services do the storage."""
    forbidden = (
        *STORAGE_LIBS,
        "evalcore.db",
        "evalcore.models",
        "evalcore.store",
        "evalcore.services",
        "evalcore.cli",
    )
    assert offending(path, forbidden) == []


def test_the_rules_see_the_code() -> None:
    """Guard against the globs silently matching nothing."""
    assert len(sources("evalcore/**/*.py")) >= 10
    assert imports_of(ROOT / "evalcore" / "store.py") >= {"sqlmodel", "pandas"}


def test_ui_strings_are_defined_once() -> None:
    """A second assignment to the same name in ui/text.py silently changes another page."""
    tree = ast.parse((ROOT / "ui" / "text.py").read_text(encoding="utf-8"))
    names = [
        t.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    ]
    assert sorted({n for n in names if names.count(n) > 1}) == []
