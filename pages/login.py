"""登录: the only page a visitor without a session can reach.

The 登录 button logs in from its ``on_click`` callback, which runs before the script:
the same run then resolves the new session and shows the user's home page. The typed
password is wiped from session state straight away; the user name stays in the form
after a failure. Every failure shows the service's one message. While demo accounts
still work with their published passwords, they are listed with a warning that they
must go before real use.
"""

from __future__ import annotations

import streamlit as st

from evalcore.errors import EvalcoreError
from evalcore.permissions import Role
from ui import data, session, shell, text, views

#: The message of the last failed attempt, shown once.
FAILED = "login_failed"


def submit() -> None:
    state = st.session_state
    password, state["login_pw"] = state.get("login_pw", ""), ""
    try:
        session.log_in(state.get("login_user", ""), password)
    except EvalcoreError as exc:
        state[FAILED] = exc.message
    else:
        state.pop(FAILED, None)
        state["login_user"] = ""


shell.require_entrypoint()
session.forget_cookie()
st.title(text.LOGIN_TITLE)
st.caption(text.LOGIN_CAPTION)
if session.session_expired() and FAILED not in st.session_state:
    st.info(text.SESSION_EXPIRED, icon=":material/schedule:")

with st.form("login", enter_to_submit=True, width=420):
    st.text_input(text.LOGIN_USERNAME, key="login_user", autocomplete="username")
    st.text_input(
        text.LOGIN_PASSWORD, type="password", key="login_pw", autocomplete="current-password"
    )
    st.form_submit_button(
        text.LOGIN_BUTTON, type="primary", icon=text.ICON_LOGIN, key="login_submit", on_click=submit
    )
if failed := st.session_state.pop(FAILED, None):
    views.show_error(EvalcoreError(failed))

demo = data.demo_accounts()
if demo:
    st.warning(text.DEMO_ACCOUNTS_WARNING, icon=text.ICON_WARNING)
    st.markdown(f"**{text.DEMO_ACCOUNTS_TITLE}**")
    st.dataframe(
        [
            {
                text.DEMO_COLUMNS["role"]: Role(role).label,
                text.DEMO_COLUMNS["username"]: name,
                text.DEMO_COLUMNS["password"]: published,
            }
            for name, role, published in demo
        ],
        hide_index=True,
        width=420,
    )
