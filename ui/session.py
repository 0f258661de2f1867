"""Who is using the app: the login session, resolved from the database on every run.

The browser keeps a signed session token in a cookie (``evalcore_session``) so a page
reload does not log the user out; this tab keeps the same value in session state. On
every run the value is checked against the database (signature, idle and absolute
expiry, revocation, the account's current role and active flag). Nothing else in
session state or the URL counts: setting ``st.session_state`` by hand grants nothing
that the database does not.

Streamlit has no Set-Cookie API and ``st.context.cookies`` is read-only (it holds what
the browser sent when this tab connected). So the cookie is written by a line of script
rendered with the page: :func:`keep_cookie` while logged in (the sidebar's user box
calls it), :func:`forget_cookie` on the login page after a logout. Both are no-ops when
the browser already holds the right value. If the script cannot run (scripts blocked),
nothing breaks: the tab stays logged in, only a reload asks for the password again.
"""

from __future__ import annotations

import json

import streamlit as st

from evalcore.errors import EvalcoreError, PermissionDenied
from evalcore.permissions import Action, Actor, can
from evalcore.services import accounts
from ui import data, text

COOKIE = "evalcore_session"
STATE_KEY = "session_cookie"
#: Set when a session this tab held stopped being valid (idle, revoked, disabled).
EXPIRED_KEY = "session_expired"
#: The browser forgets the cookie when the server would refuse it anyway.
COOKIE_MAX_AGE = int(accounts.SESSION_MAX_AGE.total_seconds())


def _browser_cookie() -> str | None:
    """The cookie the browser sent when this tab connected (None without a browser)."""
    try:
        value = st.context.cookies.get(COOKIE)
    except Exception:  # no browser behind this run: no cookie to read
        return None
    # AppTest answers with a mock object, not a string: that is no cookie either.
    return value if isinstance(value, str) and value else None


def _cookie_value() -> str | None:
    """This tab's session: its own record once it has one, else the browser's cookie."""
    if STATE_KEY in st.session_state:
        return st.session_state[STATE_KEY] or None
    return _browser_cookie()


def current_actor() -> Actor | None:
    """The logged-in user as the database says now, or None."""
    value = _cookie_value()
    actor = accounts.resolve_session(data.engine(), value)
    if actor is None:
        if value:  # it was valid once: idle too long, revoked, disabled, or forged
            st.session_state[EXPIRED_KEY] = True
        st.session_state[STATE_KEY] = ""
    else:
        st.session_state[STATE_KEY] = value
        st.session_state.pop(EXPIRED_KEY, None)
    return actor


def session_expired() -> bool:
    """Whether the login page should say that the previous session ended."""
    return bool(st.session_state.get(EXPIRED_KEY))


def log_in(username: str, password: str) -> Actor:
    """Check the credentials (raises the service's Chinese error) and remember the session."""
    result = accounts.login(data.engine(), username=username, password=password)
    st.session_state[STATE_KEY] = result.cookie
    st.session_state.pop(EXPIRED_KEY, None)
    return result.actor


def log_out() -> None:
    """End the session on the server; the login page then clears the browser's cookie."""
    accounts.logout(data.engine(), _cookie_value())
    st.session_state[STATE_KEY] = ""
    st.session_state.pop(EXPIRED_KEY, None)


def change_password(actor: Actor, current: str, new: str, again: str) -> None:
    """The user's own password; their other sessions end, this one stays."""
    accounts.check_same(new, again)
    accounts.change_own_password(
        data.engine(), actor=actor, cookie=_cookie_value(), current=current, new=new
    )


#: (ok, message) of the last own-password change, for the sidebar form to show once.
OWN_PASSWORD_OUTCOME = "own_password_outcome"
_OWN_PASSWORD_FIELDS = ("own_pw_old", "own_pw_new", "own_pw_again")


def change_password_from_form() -> None:
    """``on_click`` of the sidebar form: reads and then wipes the three password fields."""
    state = st.session_state
    current, new, again = (state.get(key, "") for key in _OWN_PASSWORD_FIELDS)
    for key in _OWN_PASSWORD_FIELDS:
        state[key] = ""
    try:
        actor = current_actor()
        if actor is None:
            raise PermissionDenied(text.SESSION_EXPIRED)
        change_password(actor, current, new, again)
    except EvalcoreError as exc:
        state[OWN_PASSWORD_OUTCOME] = (False, exc.message)
    else:
        state[OWN_PASSWORD_OUTCOME] = (True, text.PASSWORD_CHANGED)


def keep_cookie() -> None:
    """Make the browser hold this tab's session, so a reload stays logged in."""
    value = st.session_state.get(STATE_KEY)
    if value and value != _browser_cookie():
        _write_cookie(value, max_age=COOKIE_MAX_AGE)


def forget_cookie() -> None:
    """Delete a cookie the browser still holds for a session this tab has ended."""
    if _browser_cookie() and not st.session_state.get(STATE_KEY):
        _write_cookie("", max_age=0)


def _write_cookie(value: str, *, max_age: int) -> None:
    """Set the cookie from the page itself, the only way Streamlit leaves.

    The script runs in the app's own document, so the cookie cannot be HttpOnly; that
    is why it carries only a random, signed, revocable token and never a password or a
    role. ``SameSite=Strict`` keeps it off other sites' requests; ``Secure`` is added
    when the app is served over HTTPS.
    """
    cookie = json.dumps(f"{COOKIE}={value}; path=/; max-age={max_age}; SameSite=Strict")
    st.html(
        "<script>document.cookie = "
        f"{cookie} + (location.protocol === 'https:' ? '; Secure' : '');</script>",
        unsafe_allow_javascript=True,
    )


def require(actor: Actor | None, action: Action, round_status: str | None = None) -> Actor:
    """Stop the page with a refusal unless ``actor`` may take ``action``.

    Pages call this first; the services check again below it.
    """
    if actor is None or not can(actor, action, round_status):
        st.error(text.ACCESS_DENIED, icon=":material/block:")
        st.stop()
    return actor
