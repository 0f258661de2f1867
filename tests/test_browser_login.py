"""Real browser: logging in, staying logged in across a reload, logging out.

``streamlit run app.py`` on a free port over its own SQLite file (the server fixture of
``tests/test_browser.py``), driven by Playwright and Debian Chromium. This is the one
place the session cookie is really written by the page and sent back on reload.
"""

from __future__ import annotations

import os
import time

import pytest

from evalcore import services
from evalcore.permissions import Actor
from evalcore.services import accounts
from tests.conftest import require
from tests.test_browser import browser, db_url, page, server  # noqa: F401
from ui import text
from ui.session import COOKIE, COOKIE_MAX_AGE

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(autouse=True)
def _chromium() -> None:
    require(os.path.exists(CHROMIUM), "Chromium")


def session_cookie(tab):  # type: ignore[no-untyped-def]
    return next((c for c in tab.context.cookies() if c["name"] == COOKIE), None)


def wait_for_cookie(tab, present: bool, timeout: float = 15.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cookie = session_cookie(tab)
        if (cookie is not None) is present:
            return cookie
        time.sleep(0.1)
    raise AssertionError(f"session cookie {'never set' if present else 'still there'}")


def log_in(tab, base: str, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    tab.goto(base)
    tab.get_by_label("用户名").fill(username)
    tab.get_by_label("密码", exact=True).fill(password)
    tab.get_by_role("button", name="登录", exact=True).click()


def signed_in(tab, username: str, role: str):  # type: ignore[no-untyped-def]
    return tab.get_by_text(text.SIGNED_IN_AS.format(name=username, role=role))


def test_reload_keeps_the_login_and_logout_ends_it(server, page, db_url) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    log_in(page, server, "admin", "admin123")
    signed_in(page, "admin", "管理员").wait_for()
    cookie = wait_for_cookie(page, present=True)
    assert cookie["path"] == "/" and cookie["sameSite"] == "Strict"
    assert "admin123" not in cookie["value"] and "admin" not in cookie["value"]
    assert 0 < cookie["expires"] - time.time() <= COOKIE_MAX_AGE + 5
    engine = services.open_database(db_url).engine
    assert accounts.resolve_session(engine, cookie["value"]).username == "admin"  # type: ignore[union-attr]

    page.reload()
    signed_in(page, "admin", "管理员").wait_for()
    assert page.get_by_role("button", name="登录", exact=True).count() == 0
    page.get_by_role("link", name="评委与用户").click()
    page.get_by_role("heading", name=text.USERS_TITLE).wait_for()
    page.reload()  # a deep link into an admin page survives a reload too
    page.get_by_role("heading", name=text.USERS_TITLE).wait_for()
    signed_in(page, "admin", "管理员").wait_for()

    page.get_by_role("button", name=text.LOGOUT).click()
    page.get_by_role("button", name="登录", exact=True).wait_for()
    wait_for_cookie(page, present=False)
    assert accounts.resolve_session(engine, cookie["value"]) is None  # ended on the server
    page.reload()
    page.get_by_role("button", name="登录", exact=True).wait_for()
    assert signed_in(page, "admin", "管理员").count() == 0
    assert page.locator("[data-testid='stException']").count() == 0


def test_a_failed_login_says_only_that(server, page) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    log_in(page, server, "viewer", "not-the-password")
    page.get_by_text("用户名或密码错误").wait_for()
    assert session_cookie(page) is None
    # The password field is empty again; the user name stays for the next try.
    assert page.get_by_label("密码", exact=True).input_value() == ""
    assert page.get_by_label("用户名").input_value() == "viewer"


def test_a_disabled_account_is_out_at_the_next_reload(server, page, db_url) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    engine = services.open_database(db_url).engine
    accounts.create_user(
        engine, actor=Actor.cli(), username="temp", password="Temp-Pass-2026", role="viewer"
    )
    log_in(page, server, "temp", "Temp-Pass-2026")
    signed_in(page, "temp", "查看者").wait_for()
    wait_for_cookie(page, present=True)
    accounts.set_active(engine, actor=Actor.cli(), username="temp", active=False)
    page.reload()
    page.get_by_role("button", name="登录", exact=True).wait_for()
    page.get_by_text(text.SESSION_EXPIRED).wait_for()
    wait_for_cookie(page, present=False)  # the login page clears the dead cookie


def test_a_forged_cookie_logs_nobody_in(server, page, db_url) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    engine = services.open_database(db_url).engine
    real = accounts.login(engine, username="viewer", password="viewer123").cookie
    token, _, mac = real.rpartition(".")
    forged = f"{token}.{'0' * len(mac)}"
    page.context.add_cookies([{"name": COOKIE, "value": forged, "url": server}])
    page.goto(server)
    page.get_by_role("button", name="登录", exact=True).wait_for()
    assert signed_in(page, "viewer", "查看者").count() == 0
    wait_for_cookie(page, present=False)  # the login page deleted the forged cookie
    # The genuine value works the same way, proving the cookie is what is read.
    page.context.add_cookies([{"name": COOKIE, "value": real, "url": server}])
    page.goto(server)
    signed_in(page, "viewer", "查看者").wait_for()
