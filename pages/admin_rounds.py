"""轮次管理: every round at a glance; the selected round's lifecycle and settings; new rounds.

Admins only (the services check again). Each button is one service call; a success
message survives the rerun that redraws the sidebar's round picker with the new state.
"""

from __future__ import annotations

import streamlit as st

from evalcore.errors import EvalcoreError
from evalcore.lifecycle import MOVE_LABELS, ROUND_STATUS_LABELS, RoundStatus, is_backward
from evalcore.permissions import Action, Actor
from evalcore.rubric import FAIL_GRADE, METHODS, RoundSettings
from evalcore.services import rounds
from ui import data, pickers, session, shell, text, views

FLASH_KEY = "rounds_flash"
SETTINGS_GEN_KEY = "rounds_settings_gen"
NEW_KEYS = ("new_round_code", "new_round_name", "new_round_copy")
NEW_ERROR_KEY = "new_round_error"


def flash(message: str) -> None:
    """Show ``message`` after the next rerun (the page reruns after every change)."""
    st.session_state[FLASH_KEY] = message


def show_flash() -> None:
    if message := st.session_state.pop(FLASH_KEY, None):
        st.success(message, icon=text.ICON_OK)


def lifecycle_line(status: RoundStatus) -> str:
    return text.LIFECYCLE_ARROW.join(
        (text.LIFECYCLE_CURRENT if s is status else text.LIFECYCLE_STEP).format(label=label)
        for s, label in ROUND_STATUS_LABELS.items()
    )


def overview_table(actor: Actor) -> None:
    table = rounds.round_overview(data.engine(), actor=actor)
    if table.empty:
        views.empty(text.ROUNDS_EMPTY)
        return
    st.dataframe(
        table,
        hide_index=True,
        column_order=list(text.ROUNDS_COLUMNS),
        column_config={
            **text.ROUNDS_COLUMNS,
            "updated_at": st.column_config.DatetimeColumn(
                text.ROUNDS_COLUMNS["updated_at"], format="YYYY-MM-DD HH:mm"
            ),
        },
        key="rounds_overview",
    )


def lifecycle(actor: Actor, detail: rounds.RoundDetail) -> None:
    """The status line, what it means, and one button per possible move."""
    st.markdown(lifecycle_line(detail.status))
    st.caption(text.STATUS_MEANING[detail.status.value])
    if detail.status is RoundStatus.DRAFT and not (detail.brands and detail.judges):
        st.warning(
            text.ROUND_EMPTY_PANEL.format(brands=detail.brands, judges=detail.judges),
            icon=text.ICON_WARNING,
        )
    code = detail.info.code
    with st.form(f"move_{code}", border=False):
        backward = [m for m in detail.moves if is_backward(m)]
        reason = (
            st.text_input(text.MOVE_REASON, help=text.MOVE_REASON_HELP, key=f"move_reason_{code}")
            if backward
            else None
        )
        chosen = None
        for column, move in zip(st.columns(max(len(detail.moves), 2)), detail.moves, strict=False):
            with column:
                if st.form_submit_button(
                    MOVE_LABELS[move],
                    icon=text.MOVE_ICONS[move],
                    type="secondary" if is_backward(move) else "primary",
                    help=text.MOVE_REASON_HELP if is_backward(move) else None,
                ):
                    chosen = move
    if chosen is None:
        return
    try:
        info = rounds.move_round(
            data.engine(), actor=actor, round_code=code, move=chosen, reason=reason
        )
    except EvalcoreError as exc:  # shown here, so the rest of the page stays usable
        views.show_error(exc)
        return
    flash(
        text.MOVE_DONE.format(
            code=code, old=detail.status.label, new=RoundStatus(info.status).label
        )
    )
    st.session_state.pop(f"move_reason_{code}", None)  # never reused for the next move
    st.rerun()


def settings_form(actor: Actor, detail: rounds.RoundDetail) -> None:
    """Edit the settings; preview or save them. Frozen (read-only) once published."""
    st.subheader(text.SETTINGS_HEADER)
    current, rubric = detail.settings, detail.rubric
    if not detail.settings_editable:
        st.info(text.SETTINGS_FROZEN, icon=text.ICON_EMPTY)
        st.markdown(
            "\n".join(f"- {views.md(line)}" for line in rounds.describe_settings(current, rubric))
        )
        return
    code = detail.info.code
    gen = st.session_state.setdefault(SETTINGS_GEN_KEY, 0)
    key = f"settings_{code}_{gen}"
    # The form edits the settings as they were when it was opened: its pending table
    # edits are row edits of those. If someone saves meanwhile, saving is refused.
    base_key = f"{key}_base"
    current = st.session_state.setdefault(base_key, current)
    if current != detail.settings:
        st.warning(text.SETTINGS_STALE, icon=text.ICON_WARNING)
        if st.button(text.SETTINGS_RELOAD, icon=":material/refresh:", key=f"{key}_reload"):
            st.session_state[SETTINGS_GEN_KEY] = gen + 1
            st.rerun()
    tables = rounds.settings_tables(current, rubric)
    names = rubric.criterion_labels()
    grades = current.grade_labels
    with st.form(key):
        left, mid, right = st.columns(3)
        method = left.selectbox(
            text.SETTINGS_METHOD,
            list(METHODS),
            index=list(METHODS).index(current.method),
            format_func=METHODS.__getitem__,
        )
        min_judges = mid.number_input(
            text.SETTINGS_MIN_JUDGES, 1, 99, current.min_judges, help=text.SETTINGS_MIN_JUDGES_HELP
        )
        trim = right.number_input(
            text.SETTINGS_TRIM, 3, 99, current.trim_min_judges, help=text.SETTINGS_TRIM_HELP
        )
        left, right = st.columns([2, 1])
        tie_break = left.multiselect(
            text.SETTINGS_TIE,
            list(names),
            default=list(current.tie_break),
            format_func=names.__getitem__,
            help=text.SETTINGS_TIE_HELP,
        )
        comment_below = right.number_input(
            text.SETTINGS_COMMENT,
            min_value=0.0,
            max_value=float(rubric.max_total),
            value=current.comment_below,
            step=1.0,
            format="%g",
            help=text.SETTINGS_COMMENT_HELP,
        )
        bands_col, quotas_col = st.columns(2)
        with bands_col:
            st.markdown(f"**{text.SETTINGS_BANDS}**", help=text.SETTINGS_BANDS_HELP)
            bands = st.data_editor(
                tables.bands,
                num_rows="dynamic",
                hide_index=True,
                key=f"{key}_bands",
                column_config={
                    "label": st.column_config.TextColumn(text.BAND_COLUMNS["label"]),
                    "min_total": st.column_config.NumberColumn(
                        text.BAND_COLUMNS["min_total"], min_value=0.0, step=0.5, format="%g"
                    ),
                },
            )
        with quotas_col:
            st.markdown(f"**{text.SETTINGS_QUOTAS}**", help=text.SETTINGS_QUOTAS_HELP)
            quotas = st.data_editor(
                tables.quotas,
                num_rows="dynamic",
                hide_index=True,
                key=f"{key}_quotas",
                column_config={
                    "label": st.column_config.SelectboxColumn(
                        text.QUOTA_COLUMNS["label"], options=grades[:-1]
                    ),
                    "percent": st.column_config.NumberColumn(
                        text.QUOTA_COLUMNS["percent"], min_value=0.0, max_value=100.0, format="%g"
                    ),
                },
            )
        with st.container():
            st.markdown(f"**{text.SETTINGS_VETOES}**", help=text.SETTINGS_VETOES_HELP)
            vetoes = st.data_editor(
                tables.vetoes,
                num_rows="dynamic",
                hide_index=True,
                key=f"{key}_vetoes",
                column_config={
                    "criterion": st.column_config.SelectboxColumn(
                        text.VETO_COLUMNS["criterion"], options=list(names.values())
                    ),
                    "percent": st.column_config.NumberColumn(
                        text.VETO_COLUMNS["percent"], min_value=1.0, max_value=100.0, format="%g"
                    ),
                    "max_grade": st.column_config.SelectboxColumn(
                        text.VETO_COLUMNS["max_grade"], options=[*grades[:-1], FAIL_GRADE]
                    ),
                },
            )
        left, right, _ = st.columns([1, 1, 4])
        preview = left.form_submit_button(text.SETTINGS_PREVIEW, icon=":material/preview:")
        save = right.form_submit_button(text.SETTINGS_SAVE, icon=":material/save:", type="primary")
    proposed = current
    if preview or save:
        try:
            proposed = rounds.settings_from_tables(
                rubric=rubric,
                method=method,
                min_judges=int(min_judges),
                trim_min_judges=int(trim),
                bands=bands,
                tie_break=tie_break,
                quotas=quotas,
                vetoes=vetoes,
                comment_below=comment_below,
            )
        except EvalcoreError as exc:
            views.show_error(exc)
            proposed = current
            preview = save = False
    if save:
        try:
            saved = rounds.update_settings(
                data.engine(), actor=actor, round_code=code, settings=proposed, expected=current
            )
        except EvalcoreError as exc:
            views.show_error(exc)
        else:
            unchanged = saved == current
            flash(text.SETTINGS_UNCHANGED if unchanged else text.SETTINGS_SAVED.format(code=code))
            st.session_state[SETTINGS_GEN_KEY] = gen + 1
            st.rerun()
    preview_grades(actor, detail, proposed, proposed_by_form=preview)


def preview_grades(
    actor: Actor, detail: rounds.RoundDetail, settings: RoundSettings, *, proposed_by_form: bool
) -> None:
    """How many grades the quotas and vetoes change (nothing is saved)."""
    st.markdown(f"**{text.PREVIEW_HEADER}**")
    if detail.scores == 0:
        views.empty(text.PREVIEW_NO_SCORES)
        return
    result = rounds.preview_settings(
        data.engine(),
        actor=actor,
        round_code=detail.info.code,
        settings=settings,
        results=data.results(actor, detail.info.code),
    )
    if result.ranked == 0:
        views.empty(text.PREVIEW_NO_SCORES)
        return
    st.caption(text.PREVIEW_PROPOSED if proposed_by_form else text.PREVIEW_CURRENT)
    cols = st.columns(4)
    cols[0].metric(text.PREVIEW_RANKED, result.ranked)
    cols[1].metric(text.PREVIEW_VETOED, result.vetoed)
    cols[2].metric(text.PREVIEW_QUOTA, result.by_quota)
    cols[3].metric(text.PREVIEW_DIFFERS, result.differs, help=text.PREVIEW_DIFFERS_HELP)
    left, right = st.columns([1, 3])
    left.dataframe(
        result.grades, hide_index=True, column_config=text.PREVIEW_GRADES, key="preview_grades"
    )
    with right:
        if result.changes.empty:
            st.caption(text.PREVIEW_NONE)
        else:
            st.dataframe(
                result.changes,
                hide_index=True,
                column_config={
                    **text.PREVIEW_CHANGES,
                    "total": st.column_config.NumberColumn(
                        text.PREVIEW_CHANGES["total"], format="%.2f"
                    ),
                    "note": st.column_config.TextColumn(
                        text.PREVIEW_CHANGES["note"], width="large"
                    ),
                },
                key="preview_changes",
            )


def create_round(actor: Actor) -> None:
    """Form callback: runs before the script, so it may select the new round in the sidebar."""
    code, name, copy_from = (st.session_state.get(k) for k in NEW_KEYS)
    try:
        info = rounds.create_round(
            data.engine(), actor=actor, code=code or "", name=name or "", copy_from=copy_from
        )
    except EvalcoreError as exc:
        st.session_state[NEW_ERROR_KEY] = exc
        return
    st.session_state[pickers.ROUND_KEY] = info.code
    for k in NEW_KEYS:
        st.session_state.pop(k, None)
    flash(text.NEW_ROUND_DONE.format(code=info.code))


def new_round_form(actor: Actor, codes: list[str]) -> None:
    st.subheader(text.NEW_ROUND_HEADER)
    if error := st.session_state.pop(NEW_ERROR_KEY, None):
        views.show_error(error)
    with st.form("new_round"):
        left, right = st.columns([1, 3])
        left.text_input(text.NEW_ROUND_CODE, key=NEW_KEYS[0], help=text.NEW_ROUND_CODE_HELP)
        right.text_input(
            text.NEW_ROUND_NAME, key=NEW_KEYS[1], placeholder=text.NEW_ROUND_NAME_PLACEHOLDER
        )
        st.selectbox(
            text.NEW_ROUND_COPY,
            [None, *codes],
            format_func=lambda c: text.NEW_ROUND_NO_COPY if c is None else c,
            key=NEW_KEYS[2],
            help=text.NEW_ROUND_COPY_HELP,
        )
        st.form_submit_button(
            text.NEW_ROUND_BUTTON,
            icon=":material/add:",
            type="primary",
            on_click=create_round,
            args=(actor,),
        )


shell.require_entrypoint()
actor = session.require(session.current_actor(), Action.MANAGE_ROUNDS)
st.title(text.ROUNDS_TITLE)
show_flash()
overview_table(actor)

round_code = pickers.selected_round()
if round_code is not None:
    detail = rounds.round_detail(data.engine(), actor=actor, round_code=round_code)
    st.header(text.ROUND_HEADER.format(code=detail.info.code, name=views.md(detail.info.name)))
    st.caption(text.ROUND_PICK_HINT)
    st.subheader(text.MOVES_HEADER)
    lifecycle(actor, detail)
    settings_form(actor, detail)

new_round_form(actor, [r.code for r in data.rounds()])
