"""AppTest: the login page, the sidebar user box, the page gate per role, 评委与用户.

A spy on ``shell.require_entrypoint`` (the first line of every page) records which page
files actually ran, so "you landed elsewhere" is an observation, not a guess from the
title. Everything runs through the real ``app.py`` and services on a fresh SQLite file.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from streamlit.testing.v1 import AppTest

from evalcore import auth, db
from evalcore.models import AuditEvent, User, UserSession, utcnow
from evalcore.permissions import Actor, Role
from evalcore.services import accounts, judges
from tests.account_support import fast_hashing  # noqa: F401
from tests.test_accounts import forged
from tests.ui_support import APP, ROOT, SESSION_KEY, app_as, app_db, cookie_for  # noqa: F401
from ui import nav, shell, text

CLI = Actor.cli()
LOGIN = nav.LOGIN.path
ROLES = ["admin", "judge", "viewer"]
#: Every (role, page) pair the navigation table does not grant.
FORBIDDEN = [
    (role, spec.path) for spec in nav.PAGES for role in ROLES if Role(role) not in spec.roles
]
ADMIN_ONLY = [spec.path for spec in nav.PAGES if spec.roles == nav.ADMIN]
USERS_PAGE = "pages/admin_users.py"


@pytest.fixture
def url(app_db: str) -> str:  # noqa: F811
    """The app's database (a fresh SQLite file with the demo), see tests/ui_support.py."""
    return app_db


@pytest.fixture
def ran(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Page files that ran inside ``app.py``, in order (e.g. ``pages/login.py``).

    A page Streamlit starts on its own (its legacy ``pages/`` mode, which AppTest
    re-enters on every run) only reaches its first line, ``shell.require_entrypoint()``,
    which reroutes through ``app.py`` before anything is drawn; ``alone`` lists those.
    """
    seen: list[str] = []
    original = shell.require_entrypoint

    def spy() -> None:
        caller = Path(inspect.stack()[1].filename).resolve().relative_to(ROOT).as_posix()
        (seen if shell.inside_app() else alone).append(caller)
        original()

    alone: list[str] = []
    monkeypatch.setattr(shell, "require_entrypoint", spy)
    yield seen


def fresh(cookie: str | None = None) -> AppTest:
    """The app, not yet run; with a session cookie value if given."""
    at = AppTest.from_file(APP, default_timeout=30)
    if cookie is not None:
        at.session_state[SESSION_KEY] = cookie
    return at


def engine(url: str):  # type: ignore[no-untyped-def]
    return db.get_engine(url)


def texts(elements) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(e.value) for e in elements]


def audit_count(url: str) -> int:
    with engine(url).connect() as conn:
        return len(conn.execute(select(AuditEvent.id)).all())


def login_form(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input(key="login_user").input(username)
    at.text_input(key="login_pw").input(password)
    return at.button(key="login_submit").click().run()


def signed_in_as(at: AppTest) -> str | None:
    for caption in texts(at.caption):
        for role in Role:
            if caption.endswith(f"（{role.label}）") and caption.startswith("当前用户"):
                return caption
    return None


# -- the login page ----------------------------------------------------------------------------
def test_login_form_fields_and_demo_accounts(url, ran) -> None:  # type: ignore[no-untyped-def]
    at = fresh().run()
    assert not at.exception
    assert ran == [LOGIN]
    assert [t.label for t in at.text_input] == ["用户名", "密码"]
    assert at.text_input(key="login_pw").proto.type == at.text_input(key="login_pw").proto.PASSWORD
    assert [b.label for b in at.button] == ["登录"]
    assert text.DEMO_ACCOUNTS_WARNING in texts(at.warning)
    table = at.dataframe[0].value
    assert table.to_dict("records") == [
        {"角色": "管理员", "用户名": "admin", "密码": "admin123"},
        {"角色": "评委", "用户名": "judge", "密码": "judge123"},
        {"角色": "查看者", "用户名": "viewer", "密码": "viewer123"},
    ]


def test_demo_accounts_disappear_once_disabled_or_changed(url) -> None:  # type: ignore[no-untyped-def]
    e = engine(url)
    accounts.set_active(e, actor=CLI, username="viewer", active=False)
    accounts.set_password(e, actor=CLI, username="judge", password="Private-Pass-1")
    at = fresh().run()
    assert [r["用户名"] for r in at.dataframe[0].value.to_dict("records")] == ["admin"]
    accounts.create_user(e, actor=CLI, username="root", password="Root-Pass-123", role="admin")
    accounts.set_active(e, actor=CLI, username="admin", active=False)
    at = fresh().run()
    assert not at.exception
    assert text.DEMO_ACCOUNTS_WARNING not in texts(at.warning)
    assert len(at.dataframe) == 0


@pytest.mark.parametrize("role", ROLES)
def test_each_demo_role_logs_in_through_the_form(url, ran, role: str) -> None:  # type: ignore[no-untyped-def]
    at = fresh().run()
    login_form(at, role, f"{role}123")
    assert ran[-1] == nav.HOME[Role(role)]
    assert signed_in_as(at) == text.SIGNED_IN_AS.format(name=role, role=Role(role).label)
    cookie = at.session_state[SESSION_KEY]
    assert accounts.resolve_session(engine(url), cookie).role is Role(role)  # type: ignore[union-attr]
    assert f"{role}123" not in cookie
    # The typed password does not linger in session state after login.
    assert "login_pw" not in at.session_state or at.session_state["login_pw"] == ""


@pytest.mark.parametrize(
    ("username", "password"),
    [("ghost", "whatever1"), ("admin", "admin124"), ("viewer", "viewer123")],
    ids=["unknown", "wrong-password", "disabled"],
)
def test_every_failed_login_shows_the_same_message(url, ran, username, password) -> None:  # type: ignore[no-untyped-def]
    accounts.set_active(engine(url), actor=CLI, username="viewer", active=False)
    at = fresh().run()
    login_form(at, username, password)
    assert not at.exception
    assert texts(at.error) == ["用户名或密码错误"]
    assert set(ran) == {LOGIN}
    assert signed_in_as(at) is None
    assert at.text_input(key="login_pw").value == ""  # cleared
    assert at.text_input(key="login_user").value == username  # offered again


def test_repeated_failures_make_the_page_ask_to_wait(url) -> None:  # type: ignore[no-untyped-def]
    at = fresh().run()
    for _ in range(auth.FREE_FAILURES):
        login_form(at, "admin", "not-it-123")
        assert texts(at.error) == ["用户名或密码错误"]
    login_form(at, "admin", "admin123")  # right, but too soon
    assert texts(at.error)[0].startswith("登录尝试过于频繁")
    assert signed_in_as(at) is None


def test_logout_ends_the_session(url, ran) -> None:  # type: ignore[no-untyped-def]
    at = app_as(url, "viewer")
    cookie = at.session_state[SESSION_KEY]
    at.button(key="logout").click().run()
    assert ran[-1] == LOGIN
    assert accounts.resolve_session(engine(url), cookie) is None
    assert at.session_state[SESSION_KEY] == ""
    assert text.SESSION_EXPIRED not in texts(at.info)  # an explicit logout is no expiry


def test_idle_session_is_refused_with_a_notice(url, ran, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(accounts.IDLE_ENV, "10")
    at = app_as(url, "admin")
    assert signed_in_as(at)
    with engine(url).begin() as conn:
        conn.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=11)))
    at.run()
    assert ran[-1] == LOGIN
    assert signed_in_as(at) is None
    assert text.SESSION_EXPIRED in texts(at.info)


def test_disabling_a_user_logs_them_out_on_their_next_click(url, ran) -> None:  # type: ignore[no-untyped-def]
    at = app_as(url, "viewer")
    accounts.set_active(engine(url), actor=CLI, username="viewer", active=False)
    at.run()
    assert ran[-1] == LOGIN and text.SESSION_EXPIRED in texts(at.info)


def test_role_is_read_from_the_database_on_every_run(url) -> None:  # type: ignore[no-untyped-def]
    at = app_as(url, "viewer")
    assert signed_in_as(at).endswith("（查看者）")  # type: ignore[union-attr]
    with engine(url).begin() as conn:
        conn.execute(update(User).where(User.username == "viewer").values(role="admin"))
    at.run()
    assert signed_in_as(at).endswith("（管理员）")  # type: ignore[union-attr]
    at.switch_page(USERS_PAGE).run()
    assert not at.exception


# -- editing session state grants nothing ------------------------------------------------------
TAMPERING = {
    "actor": Actor("admin", Role.ADMIN, user_id=1),
    "role": "admin",
    "user": {"name": "admin", "role": "admin"},
    "username": "admin",
    "authenticated": True,
    "logged_in": True,
}


def test_session_state_alone_logs_nobody_in(url, ran) -> None:  # type: ignore[no-untyped-def]
    at = fresh()
    for key, value in TAMPERING.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception
    assert ran == [LOGIN]
    assert signed_in_as(at) is None
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(USERS_PAGE)


def test_forged_or_tampered_cookies_leave_the_user_logged_out(url, ran) -> None:  # type: ignore[no-untyped-def]
    real = cookie_for(url, "admin")
    for value in forged(real):
        ran.clear()
        at = fresh(value).run()
        assert ran == [LOGIN], value
        assert signed_in_as(at) is None


def test_a_viewer_who_edits_session_state_stays_a_viewer(url) -> None:  # type: ignore[no-untyped-def]
    at = app_as(url, "viewer")
    for key, value in TAMPERING.items():
        at.session_state[key] = value
    at.run()
    assert signed_in_as(at).endswith("（查看者）")  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(USERS_PAGE)


# -- every page checks the role ------------------------------------------------------------------
def test_the_forbidden_table_covers_every_admin_page() -> None:
    """Guard against the table silently shrinking: the admin pages are all in it."""
    assert USERS_PAGE in ADMIN_ONLY and len(ADMIN_ONLY) >= 7
    for path in ADMIN_ONLY:
        assert ("viewer", path) in FORBIDDEN and ("judge", path) in FORBIDDEN


@pytest.mark.parametrize(("role", "path"), FORBIDDEN, ids=[f"{r}-{p}" for r, p in FORBIDDEN])
def test_a_page_not_granted_is_unreachable_and_its_url_lands_on_home(
    url, ran, role: str, path: str
) -> None:  # type: ignore[no-untyped-def]
    # Through the app: the page is not registered for this role, so it cannot be opened ...
    at = fresh(cookie_for(url, role)).run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(path)
    # ... and its URL (as someone allowed there has it bookmarked) runs the role's home.
    spec = next(s for s in nav.PAGES if s.path == path)
    owner = next(r for r in ROLES if Role(r) in spec.roles)
    at = fresh(cookie_for(url, owner)).run()
    at.switch_page(path)  # resolves the page's real URL hash while it is registered
    at.session_state[SESSION_KEY] = cookie_for(url, role)
    ran.clear()
    at.run()
    assert ran == [nav.HOME[Role(role)]]
    assert path not in ran


@pytest.mark.parametrize("who", [None, "judge", "viewer"], ids=["logged-out", "judge", "viewer"])
def test_the_users_page_itself_refuses_non_admins(url, who) -> None:  # type: ignore[no-untyped-def]
    """Run as the main script (no navigation in front of it), the page still refuses."""
    at = AppTest.from_file(str(ROOT / USERS_PAGE), default_timeout=30)
    if who is not None:
        at.session_state[SESSION_KEY] = cookie_for(url, who)
    at.run()
    assert not at.exception
    assert texts(at.error) == [text.ACCESS_DENIED]
    assert text.USERS_TITLE not in texts(at.title)
    assert len(at.tabs) == 0 and len(at.dataframe) == 0


# -- 评委与用户 as an admin ---------------------------------------------------------------------
def users_page(url: str) -> AppTest:
    return app_as(url, "admin", USERS_PAGE)


def test_users_page_shows_judges_panel_and_accounts(url) -> None:  # type: ignore[no-untyped-def]
    at = users_page(url)
    assert texts(at.title) == [text.USERS_TITLE]
    assert [t.label for t in at.tabs] == list(text.USERS_TABS)
    editor, users = at.dataframe  # the judges grid (an editor) and the users table
    assert editor.value.equals(judges.list_judges(engine(url), actor=CLI))
    assert list(users.value["username"]) == ["admin", "judge", "viewer"]
    assert at.multiselect(key="panel_2026").value == [f"J0{i}" for i in range(1, 8)]
    assert any("演示账号 admin、judge、viewer" in w for w in texts(at.warning))


def test_add_a_judge_in_the_grid(url) -> None:  # type: ignore[no-untyped-def]
    at = users_page(url)
    before = audit_count(url)
    at.session_state["judges_grid"] = {
        "edited_rows": {1: {"title": "党校副校长"}},
        "added_rows": [{"code": "J08", "name": "吴新", "title": "特邀"}],
        "deleted_rows": [],
    }
    at.run()
    at.button(key="judges_save").click().run()
    assert not at.exception
    assert texts(at.success) == [
        text.JUDGES_SAVED.format(summary="新增 1 名，修改 1 名，删除 0 名")
    ]
    table = judges.list_judges(engine(url), actor=CLI).set_index("code")
    assert table.loc["J08", "name"] == "吴新" and table.loc["J02", "title"] == "党校副校长"
    assert audit_count(url) == before + 1


def test_removing_a_judge_with_scores_is_refused_on_the_page(url) -> None:  # type: ignore[no-untyped-def]
    at = users_page(url)
    at.session_state["judges_grid"] = {"edited_rows": {}, "added_rows": [], "deleted_rows": [0]}
    at.run()
    at.button(key="judges_save").click().run()
    assert not at.exception
    assert any("已有评分记录" in e for e in texts(at.error))
    assert len(judges.list_judges(engine(url), actor=CLI)) == 7


def test_add_a_judge_account_then_it_logs_in(url) -> None:  # type: ignore[no-untyped-def]
    at = users_page(url)
    before = audit_count(url)
    at.text_input(key="new_name").input("li")
    assert at.selectbox(key="new_role").value is Role.VIEWER  # the least rights by default
    at.selectbox(key="new_role").set_value(Role.JUDGE)
    at.selectbox(key="new_judge").set_value("李淑芬")
    at.text_input(key="new_pw").input("Li-Shufen-2026")
    at.text_input(key="new_pw2").input("Li-Shufen-2026")
    at.button(key="new_submit").click().run()
    assert not at.exception
    assert texts(at.success) == [text.USER_ADDED.format(username="li", role="评委")]
    assert audit_count(url) == before + 1
    actor = accounts.login(engine(url), username="li", password="Li-Shufen-2026").actor
    assert actor.role is Role.JUDGE and actor.judge_id is not None
    # The form was cleared: no password left in session state.
    assert at.text_input(key="new_pw").value == ""


def test_mismatched_passwords_add_nobody(url) -> None:  # type: ignore[no-untyped-def]
    at = users_page(url)
    before = audit_count(url)
    at.text_input(key="new_name").input("zoe")
    at.text_input(key="new_pw").input("Zoe-Pass-2026")
    at.text_input(key="new_pw2").input("Zoe-Pass-2027")
    at.button(key="new_submit").click().run()
    assert texts(at.error) == [accounts.PASSWORDS_DIFFER]
    assert audit_count(url) == before
    assert "zoe" not in accounts.usernames(engine(url), actor=CLI)


def test_reset_a_password_ends_that_users_sessions(url) -> None:  # type: ignore[no-untyped-def]
    viewer_cookie = cookie_for(url, "viewer")
    at = users_page(url)
    at.selectbox(key="reset_user").set_value("viewer")
    at.text_input(key="reset_pw").input("Viewer-New-1")
    at.text_input(key="reset_pw2").input("Viewer-New-1")
    at.button(key="reset_submit").click().run()
    assert texts(at.success) == [text.USER_RESET_DONE.format(username="viewer")]
    assert accounts.resolve_session(engine(url), viewer_cookie) is None
    assert accounts.login(engine(url), username="viewer", password="Viewer-New-1")
    assert not any("viewer" in w for w in texts(at.warning) if "演示账号" in w)


def test_disable_and_enable_from_the_page(url) -> None:  # type: ignore[no-untyped-def]
    viewer_cookie = cookie_for(url, "viewer")
    at = users_page(url)
    at.selectbox(key="active_user").set_value("viewer")
    at.button(key="disable_submit").click().run()
    assert texts(at.success) == [text.USER_DISABLED.format(username="viewer")]
    assert accounts.resolve_session(engine(url), viewer_cookie) is None
    at.selectbox(key="active_user").set_value("viewer")
    at.button(key="enable_submit").click().run()
    assert texts(at.success) == [text.USER_ENABLED.format(username="viewer")]
    # The last admin cannot be disabled, from the page either.
    at.selectbox(key="active_user").set_value("admin")
    at.button(key="disable_submit").click().run()
    assert any("最后一个" in e for e in texts(at.error))
    assert signed_in_as(at)  # and the admin is still logged in


def test_panel_from_the_page(url) -> None:  # type: ignore[no-untyped-def]
    e = engine(url)
    judges.save_judges(
        e, actor=CLI, before=[], after=[{"id": None, "code": "J08", "name": "吴新", "unit": ""}]
    )
    at = users_page(url)
    at.multiselect(key="panel_2026").select("J08")
    at.button(key="panel_save").click().run()
    assert texts(at.success) == [text.PANEL_SAVED.format(added=1, removed=0)]
    assert "J08" in judges.panel_of(e, actor=CLI, round_code="2026").members


def test_change_own_password_from_the_sidebar(url) -> None:  # type: ignore[no-untyped-def]
    other = cookie_for(url, "judge")
    at = app_as(url, "judge")
    at.text_input(key="own_pw_old").input("judge123")
    at.text_input(key="own_pw_new").input("Judge-Own-2026")
    at.text_input(key="own_pw_again").input("Judge-Own-2026")
    at.button(key="own_pw_submit").click().run()
    assert text.PASSWORD_CHANGED in texts(at.success)
    assert signed_in_as(at)  # this session stays
    assert accounts.resolve_session(engine(url), other) is None  # the other one ends
    assert accounts.login(engine(url), username="judge", password="Judge-Own-2026")
    at.text_input(key="own_pw_old").input("wrong-one")
    at.text_input(key="own_pw_new").input("Judge-Own-2027")
    at.text_input(key="own_pw_again").input("Judge-Own-2027")
    at.button(key="own_pw_submit").click().run()
    assert "当前密码不正确" in texts(at.error)
