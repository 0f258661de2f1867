"""AppTest helpers shared by the page tests: a fresh database per test, logged-in apps.

Logging in goes through the real service (``accounts.login``) and hands the app the
signed session value the browser cookie would carry, so every page run resolves the
user from the database exactly as in production.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from evalcore import db, services
from evalcore.services import accounts

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
#: The demo campaign's accounts: username -> password (see evalcore.demo.DEMO_ACCOUNTS).
DEMO_PASSWORDS = {"admin": "admin123", "judge": "judge123", "viewer": "viewer123"}
SESSION_KEY = "session_cookie"  # ui.session keeps the cookie value under this key


@pytest.fixture
def app_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database file of its own, opened with the demo, and cold caches."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv(db.ENV_VAR, url)
    st.cache_data.clear()
    st.cache_resource.clear()
    db.dispose_engines()
    services.open_database(url)
    yield url
    st.cache_data.clear()
    st.cache_resource.clear()
    db.dispose_engines()


def cookie_for(url: str, username: str, password: str | None = None) -> str:
    password = password or DEMO_PASSWORDS[username]
    return accounts.login(db.get_engine(url), username=username, password=password).cookie


def app_as(url: str, username: str | None, page: str | None = None) -> AppTest:
    """The app run as ``username`` (None: logged out), optionally switched to ``page``."""
    at = AppTest.from_file(APP, default_timeout=30)
    if username is not None:
        at.session_state[SESSION_KEY] = cookie_for(url, username)
    at.run()
    assert not at.exception, at.exception
    if page is not None:
        at.switch_page(page).run()
        assert not at.exception, at.exception
    return at
