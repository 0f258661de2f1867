"""登录: the only page a visitor without a session can reach.

The form is cleared on submit, so a typed password never lingers in session state; the
user name typed last is offered again after a failure. Every failure shows the
service's one message. While demo accounts still work with their published
passwords, they are listed with a warning that they must go before real use.
"""

import streamlit as st

from evalcore.errors import EvalcoreError
from evalcore.permissions import Role
from ui import data, session, shell, text, views

#: The user name typed last, to refill the (cleared) form after a failed attempt.
LAST_USER = "login_last_user"

shell.require_entrypoint()
session.forget_cookie()
st.title(text.LOGIN_TITLE)
st.caption(text.LOGIN_CAPTION)
if session.session_expired():
    st.info(text.SESSION_EXPIRED, icon=":material/schedule:")

with st.form("login", clear_on_submit=True, enter_to_submit=True, width=420):
    username = st.text_input(
        text.LOGIN_USERNAME,
        value=st.session_state.get(LAST_USER, ""),
        key="login_user",
        autocomplete="username",
    )
    password = st.text_input(
        text.LOGIN_PASSWORD, type="password", key="login_pw", autocomplete="current-password"
    )
    submitted = st.form_submit_button(text.LOGIN_BUTTON, type="primary", icon=text.ICON_LOGIN)
if submitted:
    st.session_state[LAST_USER] = username
    try:
        session.log_in(username, password)
    except EvalcoreError as exc:
        views.show_error(exc)
    else:
        st.session_state.pop(LAST_USER, None)
        st.rerun()

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
