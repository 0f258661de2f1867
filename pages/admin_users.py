"""评委与用户: the judge records (a grid), a round's panel, and the user accounts.

Admins only: the page checks the role from the database before drawing anything, and
every service it calls checks again. Each save button runs one service call in its
``on_click`` callback: callbacks run once, before the script, however Streamlit then
routes the run, and they re-check the user from the database (an admin disabled a
moment ago cannot act from an open tab). The outcome is shown next to the form.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from evalcore.errors import EvalcoreError, PermissionDenied
from evalcore.permissions import Action, Actor, Role, can
from evalcore.services import accounts, judges
from ui import access, data, pickers, session, shell, text, views

shell.require_entrypoint()
actor = access.require(Action.MANAGE_USERS)
engine = data.engine()

GRID = "judges_grid"
SHOWN = "judges_grid_shown"  # the table the grid was drawn from, for the save callback
NOTICE = "admin_users_notice"  # (place, ok, message) of the last action
EDITABLE = ["code", "name", "unit", "title"]
READ_ONLY = ["scores", "account", "rounds"]
NEW_USER_PASSWORDS = ("new_pw", "new_pw2")
RESET_PASSWORDS = ("reset_pw", "reset_pw2")
#: The least powerful role comes first, so it is what a hurried click creates.
ROLE_CHOICES = [Role.VIEWER, Role.JUDGE, Role.ADMIN]


# -- actions (button callbacks) -----------------------------------------------------------------
def act(place: str, work: Callable[[Actor], str | None], *clear: str) -> None:
    """Run ``work`` as the user the database says is logged in now; note the outcome.

    ``work`` returns the success message, or None when there was nothing to do. The
    widgets in ``clear`` (typed passwords) are emptied either way.
    """
    try:
        user = session.current_actor()
        if user is None or not can(user, Action.MANAGE_USERS):
            raise PermissionDenied(text.ACCESS_DENIED)
        message = work(user)
    except EvalcoreError as exc:
        st.session_state[NOTICE] = (place, False, exc.message)
    else:
        st.session_state[NOTICE] = (place, True, message or text.NOTHING_CHANGED)
    for key in clear:
        st.session_state[key] = ""


def save_judges(user: Actor) -> str | None:
    shown = st.session_state[SHOWN]
    after = judges.apply_editor_state(shown, st.session_state.get(GRID))
    changes = judges.save_judges(engine, actor=user, before=shown, after=after)
    if changes.empty:
        return None
    st.session_state.pop(GRID, None)  # the grid starts again from the saved table
    return text.JUDGES_SAVED.format(summary=changes.summary())


def save_panel(user: Actor, round_code: str, key: str) -> str | None:
    change = judges.set_panel(
        engine, actor=user, round_code=round_code, judge_codes=st.session_state.get(key, [])
    )
    if change.empty:
        return None
    return text.PANEL_SAVED.format(added=len(change.added), removed=len(change.removed))


def add_user(user: Actor) -> str:
    state = st.session_state
    accounts.check_same(state["new_pw"], state["new_pw2"])
    role = Role(state["new_role"])
    accounts.create_user(
        engine,
        actor=user,
        username=state["new_name"],
        password=state["new_pw"],
        role=role,
        judge=state.get("new_judge") if role is Role.JUDGE else None,
        display_name=state["new_display"],
    )
    message = text.USER_ADDED.format(username=state["new_name"].strip(), role=role.label)
    state["new_name"] = state["new_display"] = ""
    state.pop("new_judge", None)  # that judge has an account now: no longer a choice
    return message


def reset_password(user: Actor) -> str:
    state = st.session_state
    accounts.check_same(state["reset_pw"], state["reset_pw2"])
    target = state.get("reset_user") or ""
    accounts.set_password(engine, actor=user, username=target, password=state["reset_pw"])
    return text.USER_RESET_DONE.format(username=target)


def set_active(user: Actor, active: bool) -> str:
    target = st.session_state.get("active_user") or ""
    if not accounts.set_active(engine, actor=user, username=target, active=active):
        state = text.USER_ACTIVE if active else text.USER_DISABLED_LABEL
        return text.USER_ALREADY.format(username=target, state=state)
    return (text.USER_ENABLED if active else text.USER_DISABLED).format(username=target)


def notice(place: str) -> None:
    """Show the outcome of the last action taken at ``place`` (once)."""
    noted = st.session_state.get(NOTICE)
    if not noted or noted[0] != place:
        return
    del st.session_state[NOTICE]
    _, ok, message = noted
    if ok:
        st.success(message, icon=":material/check_circle:")
    elif "\n" in message:  # several problems: one line each
        head, *lines = message.split("\n")
        st.error("\n".join([views.md(head), *(f"- {views.md(line)}" for line in lines)]))
    else:
        st.error(message, icon=":material/error:")


# -- the page -----------------------------------------------------------------------------------
st.title(text.USERS_TITLE)
judges_tab, panel_tab, users_tab = st.tabs(list(text.USERS_TABS))

with judges_tab:
    table = judges.list_judges(engine, actor=actor)
    st.session_state[SHOWN] = table
    if table.empty:
        views.empty(text.JUDGES_EMPTY)
    else:
        st.caption(text.JUDGE_ROSTER_HINT)
    labels = text.JUDGE_COLUMNS
    st.data_editor(
        table,
        key=GRID,
        num_rows="dynamic",
        hide_index=True,
        placeholder=text.NO_VALUE,
        column_order=[*EDITABLE, *READ_ONLY],
        disabled=READ_ONLY,
        column_config={
            "code": st.column_config.TextColumn(
                labels["code"], required=True, max_chars=32, width="small"
            ),
            "name": st.column_config.TextColumn(
                labels["name"], required=True, max_chars=64, width="small"
            ),
            "unit": st.column_config.SelectboxColumn(
                labels["unit"],
                options=judges.unit_names(engine, actor=actor),
                help=text.JUDGE_UNIT_HELP,
                width="medium",
            ),
            "title": st.column_config.TextColumn(labels["title"], width="medium", max_chars=128),
            "scores": st.column_config.NumberColumn(labels["scores"], format="%d", width="small"),
            "account": st.column_config.TextColumn(labels["account"], width="small"),
            "rounds": st.column_config.TextColumn(labels["rounds"], width="small"),
        },
    )
    st.button(
        text.JUDGES_SAVE,
        type="primary",
        icon=":material/save:",
        key="judges_save",
        on_click=act,
        args=("judges", save_judges),
    )
    notice("judges")

with panel_tab:
    round_code = pickers.selected_round()
    if round_code is None:
        views.empty(text.PANEL_NO_ROUND)
    elif table.empty:
        views.empty(text.PANEL_NO_JUDGES)
    else:
        panel = judges.panel_of(engine, actor=actor, round_code=round_code)
        st.subheader(text.PANEL_HEADER.format(code=panel.round_code, status=panel.status_label))
        if panel.editable:
            st.caption(text.PANEL_HINT)
        else:
            st.info(text.PANEL_FROZEN.format(status=panel.status_label), icon=text.ICON_LOCKED)
        judge_names = dict(zip(table["code"], table["name"], strict=True))
        key = f"panel_{panel.round_code}"
        st.multiselect(
            text.PANEL_PICKER,
            list(judge_names),
            default=list(panel.members),
            format_func=lambda code: f"{code} {judge_names[code]}",
            key=key,
            disabled=not panel.editable,
        )
        if panel.editable:
            st.button(
                text.PANEL_SAVE,
                type="primary",
                icon=":material/save:",
                key="panel_save",
                on_click=act,
                args=("panel", lambda user: save_panel(user, panel.round_code, key)),
            )
        notice("panel")

with users_tab:
    demo = accounts.demo_accounts(engine)
    if demo:
        st.warning(
            text.USERS_DEMO_WARNING.format(names="、".join(name for name, *_ in demo)),
            icon=text.ICON_WARNING,
        )
    columns = text.USER_COLUMNS
    st.dataframe(
        accounts.list_users(engine, actor=actor),
        hide_index=True,
        placeholder=text.NO_VALUE,
        column_order=[
            "username",
            "display_name",
            "role_label",
            "judge",
            "active",
            "is_demo",
            "last_seen",
            "created_at",
        ],
        column_config={
            "username": columns["username"],
            "display_name": columns["display_name"],
            "role_label": columns["role"],
            "judge": columns["judge"],
            "active": st.column_config.CheckboxColumn(text.USER_ACTIVE),
            "is_demo": st.column_config.CheckboxColumn(columns["is_demo"]),
            "last_seen": st.column_config.DatetimeColumn(
                columns["last_seen"], format="YYYY-MM-DD HH:mm", timezone="Asia/Shanghai"
            ),
            "created_at": st.column_config.DatetimeColumn(
                columns["created_at"], format="YYYY-MM-DD HH:mm", timezone="Asia/Shanghai"
            ),
        },
    )
    user_names = accounts.usernames(engine, actor=actor)
    add, reset, toggle = st.columns(3, border=True)

    with add:
        st.markdown(f"#### {text.USER_ADD_HEADER}")
        with st.form("user_add", border=False):
            st.text_input(text.USER_NAME, max_chars=accounts.MAX_USERNAME, key="new_name")
            st.text_input(text.USER_DISPLAY, max_chars=accounts.MAX_DISPLAY_NAME, key="new_display")
            st.selectbox(
                text.USER_ROLE, ROLE_CHOICES, format_func=lambda r: Role(r).label, key="new_role"
            )
            st.selectbox(
                text.USER_JUDGE,
                judges.judges_without_account(engine, actor=actor),
                index=None,
                key="new_judge",
                placeholder=text.USER_JUDGE_PLACEHOLDER,
                help=text.USER_JUDGE_HELP,
            )
            st.text_input(text.USER_PASSWORD, type="password", key="new_pw")
            st.text_input(text.USER_PASSWORD_AGAIN, type="password", key="new_pw2")
            st.form_submit_button(
                text.USER_ADD_BUTTON,
                type="primary",
                icon=":material/add:",
                key="new_submit",
                on_click=act,
                args=("add", add_user, *NEW_USER_PASSWORDS),
            )
        notice("add")

    with reset:
        st.markdown(f"#### {text.USER_RESET_HEADER}")
        with st.form("user_reset", border=False):
            st.selectbox(
                text.USER_PICK,
                user_names,
                index=None,
                key="reset_user",
                placeholder=text.USER_PICK_PLACEHOLDER,
            )
            st.text_input(text.USER_RESET_PASSWORD, type="password", key="reset_pw")
            st.text_input(text.USER_PASSWORD_AGAIN, type="password", key="reset_pw2")
            st.form_submit_button(
                text.USER_RESET_BUTTON,
                icon=":material/lock_reset:",
                key="reset_submit",
                on_click=act,
                args=("reset", reset_password, *RESET_PASSWORDS),
            )
        notice("reset")

    with toggle:
        st.markdown(f"#### {text.USER_ACTIVE_HEADER}")
        st.caption(text.USER_ACTIVE_HINT)
        with st.form("user_active", border=False):
            st.selectbox(
                text.USER_PICK,
                user_names,
                index=None,
                key="active_user",
                placeholder=text.USER_PICK_PLACEHOLDER,
            )
            off, on = st.columns(2)
            off.form_submit_button(
                text.USER_DISABLE,
                icon=":material/block:",
                key="disable_submit",
                on_click=act,
                args=("active", lambda user: set_active(user, False)),
            )
            on.form_submit_button(
                text.USER_ENABLE,
                icon=":material/check_circle:",
                key="enable_submit",
                on_click=act,
                args=("active", lambda user: set_active(user, True)),
            )
        notice("active")
