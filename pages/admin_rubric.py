"""评分细则: edit a 筹备 round's sub-indicators and bonus items; read-only once scoring started.

Each criterion is one editable table (add, edit, remove rows). Totals are what the
Rubric computes from the rows on screen, redrawn on every edit, never typed. Saving
sends the whole rubric with the version it was loaded at, so a concurrent save by
another admin is refused instead of overwritten.
"""

from __future__ import annotations

import streamlit as st

from evalcore.errors import EvalcoreError
from evalcore.permissions import Action, Actor
from evalcore.rubric import BONUS, Rubric
from evalcore.services import rounds
from ui import data, pickers, session, shell, text, views

FLASH_KEY = "rubric_flash"
GEN_KEY = "rubric_gen"


def item_columns(labels: dict[str, str]) -> dict[str, object]:
    return {
        "code": None,  # generated for new rows; scores refer to it, so nobody types it
        "label": st.column_config.TextColumn(labels["label"], required=True, width="medium"),
        "max_points": st.column_config.NumberColumn(
            labels["max_points"],
            min_value=0.0,
            max_value=100.0,
            step=0.5,
            format="%g",
            required=True,
            width="small",
        ),
        "guide": st.column_config.TextColumn(labels["guide"], width="large"),
        "deductions": st.column_config.TextColumn(labels["deductions"], width="medium"),
    }


def total_metrics(rubric: Rubric) -> None:
    """Criteria sum, capped bonus and the maximum total, as the Rubric computes them."""
    cols = st.columns(3)
    cols[0].metric(text.RUBRIC_CRITERIA_TOTAL, f"{rubric.criteria_max:g}")
    cols[1].metric(text.RUBRIC_BONUS_TOTAL, f"{rubric.effective_bonus_cap:g}")
    cols[2].metric(text.RUBRIC_MAX_TOTAL, f"{rubric.max_total:g}")


def totals_table(rubric: Rubric) -> None:
    """Per criterion: number of sub-indicators and maximum points; then bonus and total."""
    st.dataframe(
        rounds.rubric_totals(rubric),
        hide_index=True,
        column_config={
            **text.RUBRIC_TOTALS_COLUMNS,
            "max_points": st.column_config.NumberColumn(
                text.RUBRIC_TOTALS_COLUMNS["max_points"], format="%g"
            ),
        },
        key="rubric_totals",
    )


def read_only(rubric: Rubric) -> None:
    tables = rounds.rubric_tables(rubric)
    total_metrics(rubric)
    totals_table(rubric)
    for criterion in rubric.criteria:
        st.subheader(f"{criterion.label}（{criterion.max_points:g} 分）")
        st.caption(criterion.full_label)
        st.dataframe(
            tables[criterion.code],
            hide_index=True,
            column_config=item_columns(text.RUBRIC_ITEM_COLUMNS),
            key=f"rubric_view_{criterion.code}",
        )
    st.subheader(text.RUBRIC_BONUS_HEADER)
    st.caption(
        text.RUBRIC_BONUS_SUBTOTAL.format(
            points=sum(i.max_points for i in rubric.bonus_items),
            capped=rubric.effective_bonus_cap,
        )
    )
    if rubric.bonus_items:
        st.dataframe(
            tables[BONUS],
            hide_index=True,
            column_config=item_columns(text.RUBRIC_BONUS_COLUMNS),
            key="rubric_view_bonus",
        )


def editor(actor: Actor, detail: rounds.RoundDetail) -> None:
    """Tables of the rubric as it was when editing started (kept in session state).

    The editors' pending changes are row edits of those tables, so they must stay
    the base even if another admin saves meanwhile: then this save is refused (the
    version no longer matches) and 放弃修改 starts again from the newest version.
    """
    code = detail.info.code
    gen = st.session_state.setdefault(GEN_KEY, 0)
    base_key = f"rubric_base_{code}"
    if st.session_state.get(base_key, (None, -1))[1] != gen:
        st.session_state[base_key] = (detail.rubric, gen)
    rubric: Rubric = st.session_state[base_key][0]
    key = f"rubric_{code}_{rubric.version}_{gen}"
    if detail.rubric.version != rubric.version:
        st.warning(text.RUBRIC_STALE.format(version=detail.rubric.version), icon=text.ICON_WARNING)
    st.caption(text.RUBRIC_HINT)
    summary = st.container()  # filled after the tables: totals of what is on screen now
    tables = rounds.rubric_tables(rubric)
    edited = {}
    subtotals = {}  # placeholders under each table, filled once the draft is known
    for criterion in rubric.criteria:
        st.subheader(criterion.label)
        st.caption(criterion.full_label)
        edited[criterion.code] = st.data_editor(
            tables[criterion.code],
            num_rows="dynamic",
            hide_index=True,
            column_config=item_columns(text.RUBRIC_ITEM_COLUMNS),
            key=f"{key}_{criterion.code}",
        )
        subtotals[criterion.code] = st.empty()
    st.subheader(text.RUBRIC_BONUS_HEADER)
    edited[BONUS] = st.data_editor(
        tables[BONUS],
        num_rows="dynamic",
        hide_index=True,
        column_config=item_columns(text.RUBRIC_BONUS_COLUMNS),
        key=f"{key}_{BONUS}",
    )
    bonus_subtotal = st.empty()
    bonus_cap = st.columns([1, 3])[0].number_input(
        text.RUBRIC_BONUS_CAP,
        min_value=0.0,
        max_value=100.0,
        value=float(rubric.bonus_cap),
        step=0.5,
        format="%g",
        help=text.RUBRIC_BONUS_CAP_HELP,
        key=f"{key}_cap",
    )
    draft = rounds.rubric_from_tables(rubric, edited, bonus_cap)
    for criterion in draft.criteria:
        subtotals[criterion.code].caption(
            text.RUBRIC_SUBTOTAL.format(points=criterion.max_points, n=len(criterion.items))
        )
    bonus_subtotal.caption(
        text.RUBRIC_BONUS_SUBTOTAL.format(
            points=sum(i.max_points for i in draft.bonus_items),
            capped=draft.effective_bonus_cap,
        )
    )
    problems = rounds.rubric_problems(draft)
    warning = text.RUBRIC_PROBLEMS + "\n" + "\n".join(f"- {views.md(p)}" for p in problems)
    with summary:  # at the top, so the effect of an edit is visible from anywhere
        total_metrics(draft)
        if problems:
            st.warning(warning, icon=text.ICON_WARNING)
    st.subheader(text.RUBRIC_TOTALS)  # and again where the save button is
    totals_table(draft)
    if problems:
        st.warning(warning, icon=text.ICON_WARNING)
    left, right, _ = st.columns([1, 1, 3])
    save = left.button(
        text.RUBRIC_SAVE,
        icon=":material/save:",
        type="primary",
        disabled=bool(problems),
        key=f"{key}_save",
    )
    if right.button(text.RUBRIC_DISCARD, icon=":material/undo:", key=f"{key}_discard"):
        st.session_state[GEN_KEY] = gen + 1
        st.rerun()
    if not save:
        return
    try:
        saved = rounds.update_rubric(data.engine(), actor=actor, round_code=code, rubric=draft)
    except EvalcoreError as exc:
        views.show_error(exc)
        return
    st.session_state[FLASH_KEY] = (
        text.RUBRIC_UNCHANGED
        if saved.version == rubric.version
        else text.RUBRIC_SAVED.format(version=saved.version)
    )
    st.session_state[GEN_KEY] = gen + 1
    st.rerun()


shell.require_entrypoint()
actor = session.require(session.current_actor(), Action.EDIT_RUBRIC)
st.title(text.RUBRIC_TITLE)
if message := st.session_state.pop(FLASH_KEY, None):
    st.success(message, icon=text.ICON_OK)
round_code = pickers.selected_round()
if round_code is None:
    views.empty(text.RUBRIC_NO_ROUNDS)
    st.stop()
detail = rounds.round_detail(data.engine(), actor=actor, round_code=round_code)
st.caption(
    text.RUBRIC_CAPTION.format(
        code=detail.info.code,
        status=detail.info.status_label,
        version=detail.rubric.version,
        total=detail.rubric.max_total,
    )
)
if detail.rubric_editable:
    editor(actor, detail)
else:
    st.info(text.RUBRIC_FROZEN[detail.info.status], icon=":material/lock:")
    read_only(detail.rubric)
