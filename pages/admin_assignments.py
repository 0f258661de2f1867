"""评委分配: assign judges to brands (all, by unit, or in a matrix) and manage conflicts.

Admins only; every service call checks again. Recusal is never an action here: a cell
where the judge works in the brand's unit is blank in the matrix and named in its
回避 column, and the service refuses to assign it. Every change is one service call.
"""

from __future__ import annotations

import streamlit as st

from evalcore.errors import EvalcoreError
from evalcore.permissions import Action
from evalcore.services import assignments
from ui import data, pickers, session, shell, text, views

shell.require_entrypoint()
actor = session.require(session.current_actor(), Action.MANAGE_ASSIGNMENTS)
engine = data.engine()

FLASH = "assign_flash"
GEN = "assign_gen"  # bumped after a change, so the matrix starts from what is stored
ICON_OK = ":material/check_circle:"


def done(change: assignments.AssignmentChange) -> None:
    """Say what a change did and show a fresh page (or say that nothing changed)."""
    if not change.changed:
        st.info(text.ASSIGN_NOTHING, icon=text.ICON_EMPTY)
        return
    message = text.ASSIGN_DONE.format(added=len(change.added), removed=len(change.removed))
    if change.skipped_recused:
        message += text.ASSIGN_SKIPPED.format(n=change.skipped_recused)
    flash(message)


def flash(message: str) -> None:
    st.session_state[FLASH] = message
    st.session_state[GEN] = st.session_state.get(GEN, 0) + 1
    st.rerun()


st.title(text.ASSIGN_TITLE)
if message := st.session_state.pop(FLASH, None):
    st.success(message, icon=ICON_OK)
round_code = pickers.selected_round()
if round_code is None:
    views.empty(text.NO_ROUNDS)
    st.stop()

matrix = assignments.assignment_matrix(engine, actor=actor, round_code=round_code)
st.caption(text.ASSIGN_CAPTION.format(name=matrix.round.name, status=matrix.round.status_label))
if matrix.brands.empty:
    views.empty(text.ASSIGN_NO_BRANDS)
    st.stop()
if matrix.judges.empty:
    views.empty(text.ASSIGN_NO_JUDGES)
    st.stop()
if not matrix.editable:
    st.info(text.ASSIGN_LOCKED.format(status=matrix.round.status_label), icon=":material/lock:")

summary = matrix.summary()
kpis = st.columns(4)
kpis[0].metric(
    text.ASSIGN_KPI_ASSIGNED, summary["assigned"], help=text.ASSIGN_KPI_ASSIGNED_HELP, border=True
)
kpis[1].metric(text.ASSIGN_KPI_RECUSED, summary["recused"], border=True)
kpis[2].metric(text.ASSIGN_KPI_CONFLICTS, summary["conflicts"], border=True)
kpis[3].metric(text.ASSIGN_KPI_WITHOUT, summary["brands_without"], border=True)

judge_names = matrix.judge_choices()
if matrix.editable:
    st.subheader(text.ASSIGN_QUICK)
    every, by_unit = st.columns([1, 3], border=True)
    with every:
        st.caption(text.ASSIGN_ALL_HELP)
        if st.button(text.ASSIGN_ALL, type="primary", icon=":material/done_all:", key="assign_all"):
            try:
                done(assignments.assign_all(engine, actor=actor, round_code=round_code))
            except EvalcoreError as exc:
                views.show_error(exc)
    with by_unit:
        st.caption(text.ASSIGN_BY_UNIT_HELP)
        units = matrix.unit_choices()
        left, right = st.columns(2)
        picked_judges = left.multiselect(
            text.ASSIGN_BY_UNIT_JUDGES,
            list(judge_names),
            format_func=judge_names.__getitem__,
            placeholder=text.ASSIGN_PICK,
            key=f"assign_unit_judges_{st.session_state.get(GEN, 0)}",
        )
        picked_units = right.multiselect(
            text.ASSIGN_BY_UNIT_UNITS,
            list(units),
            format_func=units.__getitem__,
            placeholder=text.ASSIGN_PICK,
            key=f"assign_unit_units_{st.session_state.get(GEN, 0)}",
        )
        if st.button(text.ASSIGN_BY_UNIT, icon=":material/account_tree:", key="assign_by_unit"):
            try:
                done(
                    assignments.assign_by_unit(
                        engine,
                        actor=actor,
                        round_code=round_code,
                        judge_codes=picked_judges,
                        unit_codes=picked_units,
                    )
                )
            except EvalcoreError as exc:
                views.show_error(exc)

st.subheader(text.ASSIGN_MATRIX)
st.caption(text.ASSIGN_MATRIX_HELP)
grid = matrix.grid()
judge_codes = matrix.judges["judge_code"].tolist()
matrix_key = f"assign_matrix_{round_code}_{st.session_state.get(GEN, 0)}"
st.data_editor(
    grid,
    key=matrix_key,
    hide_index=True,
    num_rows="fixed",
    height=min(740, (len(grid) + 1) * 35 + 3),
    disabled=True if not matrix.editable else ["brand_code", "brand", "unit", "blocked"],
    column_order=["brand_code", "brand", *judge_codes, "blocked"],
    column_config={
        "brand_code": st.column_config.TextColumn(
            text.ROSTER_COL_BRAND_CODE, width="small", pinned=True
        ),
        "brand": st.column_config.TextColumn(text.ROSTER_COL_BRAND_NAME, pinned=True),
        "blocked": st.column_config.TextColumn(text.ASSIGN_COL_BLOCKED, width="medium"),
        **{
            code: st.column_config.CheckboxColumn(name, help=judge_names[code], width="small")
            for code, name in zip(judge_codes, matrix.judges["judge"], strict=True)
        },
    },
)
if matrix.editable and st.button(
    text.ASSIGN_SAVE, type="primary", icon=":material/save:", key="assign_save"
):
    add, remove = matrix.changes_from_editor(st.session_state.get(matrix_key, {}))
    try:
        done(
            assignments.change_assignments(
                engine, actor=actor, round_code=round_code, add=add, remove=remove
            )
        )
    except EvalcoreError as exc:
        views.show_error(exc)

st.subheader(text.ASSIGN_CONFLICTS)
if matrix.conflicts.empty:
    views.empty(text.ASSIGN_CONFLICTS_EMPTY)
else:
    st.dataframe(
        matrix.conflicts,
        hide_index=True,
        column_order=["judge", "brand_code", "brand", "reason", "declared_by", "at"],
        column_config={
            "judge": text.ASSIGN_DECLARE_JUDGE,
            "brand_code": text.ROSTER_COL_BRAND_CODE,
            "brand": text.ROSTER_COL_BRAND_NAME,
            "reason": text.ASSIGN_COL_REASON,
            "declared_by": text.ASSIGN_COL_DECLARED_BY,
            "at": st.column_config.DatetimeColumn(
                text.ASSIGN_COL_AT, format="YYYY-MM-DD HH:mm", timezone="Asia/Shanghai"
            ),
        },
    )
if matrix.editable:
    declare, withdraw = st.columns(2, border=True)
    with declare:
        st.markdown(f"#### {text.ASSIGN_DECLARE}")
        brands = matrix.brand_choices()
        with st.form("assign_declare", clear_on_submit=True, border=False):
            judge = st.selectbox(
                text.ASSIGN_DECLARE_JUDGE,
                list(judge_names),
                format_func=judge_names.__getitem__,
                index=None,
                placeholder=text.ASSIGN_PICK,
            )
            brand = st.selectbox(
                text.ASSIGN_DECLARE_BRAND,
                list(brands),
                format_func=brands.__getitem__,
                index=None,
                placeholder=text.ASSIGN_PICK,
            )
            reason = st.text_input(
                text.ASSIGN_DECLARE_REASON, placeholder=text.ASSIGN_DECLARE_REASON_HINT
            )
            if st.form_submit_button(
                text.ASSIGN_DECLARE_SUBMIT, type="primary", icon=":material/front_hand:"
            ):
                try:
                    assignments.declare_conflict(
                        engine,
                        actor=actor,
                        round_code=round_code,
                        brand_code=brand or "",
                        judge_code=judge,
                        reason=reason,
                    )
                except EvalcoreError as exc:
                    views.show_error(exc)
                else:
                    flash(text.ASSIGN_DECLARED.format(judge=judge_names[judge], brand=brand))
    with withdraw:
        st.markdown(f"#### {text.ASSIGN_WITHDRAW}")
        declared = matrix.conflict_choices()
        if not declared:
            st.caption(text.ASSIGN_WITHDRAW_NONE)
        else:
            picked = st.selectbox(
                text.ASSIGN_WITHDRAW_PICK,
                list(declared),
                format_func=declared.__getitem__,
                key="assign_withdraw_pick",
            )
            if st.button(text.ASSIGN_WITHDRAW, icon=":material/undo:", key="assign_withdraw"):
                brand_code, judge_code = str(picked).split("/", 1)
                try:
                    assignments.withdraw_conflict(
                        engine,
                        actor=actor,
                        round_code=round_code,
                        brand_code=brand_code,
                        judge_code=judge_code,
                    )
                except EvalcoreError as exc:
                    views.show_error(exc)
                else:
                    flash(
                        text.ASSIGN_WITHDRAWN.format(
                            judge=judge_names.get(judge_code, judge_code), brand=brand_code
                        )
                    )
