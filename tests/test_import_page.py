"""The 导入评分 page through AppTest: upload, preview with counts and issues, confirm, revert.

The page file runs on its own (``AppTest.from_file``), logged in the way the app does
it: a session cookie from ``accounts.login`` for a demo account, checked by the page
against the database on every run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from evalcore import db, services
from evalcore.services import accounts
from tests.import_helpers import long_rows, stored, xlsx

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "import_scores.py")
MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
J = "王建华"


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'page.db'}"
    monkeypatch.setenv(db.ENV_VAR, url)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield url
    st.cache_resource.clear()
    db.dispose_engines()


def _login(url: str, role: str) -> str:
    engine = services.open_database(url).engine
    username, _, password = next(a for a in accounts.demo_accounts(engine) if a[1] == role)
    return accounts.login(engine, username=username, password=password).cookie


def _page(url: str, role: str = "admin") -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["session_cookie"] = _login(url, role)  # what ui.session keeps per tab
    at.run()
    assert not at.exception, at.exception
    return at


def _upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="import_files_0").set_value((name, data, MIME)).run()
    assert not at.exception, at.exception
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_upload_preview_confirm_and_revert(url: str) -> None:
    at = _page(url)
    assert at.title[0].value == "导入评分"
    assert at.selectbox(key="import_round").value == "2026"
    assert any("评分模板" in b.label for b in at.get("download_button"))

    data = xlsx({"评分": long_rows([(J, "B006", "name.concise", 1), (J, "B006", "name.logo", 2)])})
    at = _upload(at, "long.xlsx", data)
    metrics = _metrics(at)
    assert metrics["修改评分"] == "2" and metrics["问题"] == "0"
    assert any("校验通过" in s.value for s in at.success)

    at.button(key="import_confirm").click().run()
    assert not at.exception, at.exception
    assert any("已导入" in s.value for s in at.success)
    engine = db.get_engine(url)
    mine = stored(engine)
    written = mine[mine["source"].str.startswith("import:")]
    assert sorted(written["value"].tolist()) == [1.0, 2.0]

    # History lists it; revert asks first, then undoes.
    at.button(key="import_revert_ask").click().run()
    assert any("确定撤销" in w.value for w in at.warning)
    at.button(key="import_revert_yes").click().run()
    assert not at.exception, at.exception
    assert any("已撤销" in s.value for s in at.success)
    assert not stored(engine)["source"].str.startswith("import:").any()


def test_issues_are_listed_and_nothing_is_written(url: str) -> None:
    at = _page(url)
    before = None
    data = xlsx(
        {
            "评分": long_rows(
                [(J, "B006", "name.concise", "八分"), ("无名氏", "B006", "name.logo", 1)]
            )
        }
    )
    at = _upload(at, "bad.xlsx", data)
    assert _metrics(at)["问题"] == "2"
    assert any("2 处问题" in e.value for e in at.error)
    table = at.dataframe[0].value
    assert list(table["单元格"]) == ["D2", "A3"]
    assert any("标注问题" in b.label for b in at.get("download_button"))
    assert not [b for b in at.button if b.key == "import_confirm"]
    engine = db.get_engine(url)
    assert not stored(engine)["source"].str.startswith("import:").any()
    del before


def test_judges_and_viewers_are_refused(url: str) -> None:
    for role in ("judge", "viewer"):
        at = _page(url, role)
        assert at.error and not at.file_uploader
        assert not at.title


def test_oversized_upload_is_refused_in_code(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _page(url)
    big = b"x" * (21 * 1024 * 1024)
    at = _upload(at, "big.xlsx", big)
    assert any("超过 20 MB" in e.value for e in at.error)
