"""Rendering helpers shared by the pages: notices, empty states, flags, tables, figures.

:func:`show_error` is the one place an :class:`~evalcore.errors.EvalcoreError` becomes
``st.error``; ``app.py`` wraps every page in it, so users never see a traceback for a
failure they caused.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from evalcore import charts, services, stats
from evalcore.errors import EvalcoreError
from evalcore.permissions import Actor
from ui import session, text

#: Streamlit's default dataframe row height; used to size tables so short ones don't scroll.
_ROW_PX = 35
_MAX_TABLE_PX = 740
_PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


_MARKDOWN_SPECIALS = str.maketrans({ch: "\\" + ch for ch in "\\`*_[]<>#|~$"})


def md(value: object) -> str:
    """User-entered text (names, comments) made inert for st.markdown ($ starts LaTeX)."""
    return str(value).translate(_MARKDOWN_SPECIALS)


def show_error(exc: EvalcoreError) -> None:
    """The user-facing form of every expected failure: its Chinese message, no traceback."""
    st.error(exc.message, icon=":material/error:")


def demo_notice(dataset: str | None, loaded_now: bool) -> None:
    """A banner while the database holds demo data, saying so when it was just loaded."""
    if not dataset:
        return
    message = text.DEMO_NOTICE.format(dataset=text.DEMO_DATASETS.get(dataset, dataset))
    if loaded_now:
        message = text.DEMO_LOADED_NOW + message
    st.info(message, icon=text.ICON_DEMO)


def empty(message: str) -> None:
    """An empty state: what is missing and what to do next."""
    st.info(message, icon=text.ICON_EMPTY)


def round_caption(results: services.RoundResults) -> None:
    st.caption(
        text.ROUND_CAPTION.format(
            name=results.round.name,
            status=results.round.status_label,
            method=text.METHOD_LABELS.get(results.method, results.method),
        )
    )


def flags(results: services.RoundResults) -> None:
    """Warn, never silently show, brands whose result needs a caveat."""
    counts = charts.flag_counts(results.table, results.method)
    settings = results.settings
    if counts.under_scored:
        st.warning(
            text.FLAG_UNDER.format(n=counts.under_scored, min_judges=settings.min_judges),
            icon=text.ICON_WARNING,
        )
    if counts.mean_fallback:
        st.warning(
            text.FLAG_MEAN.format(n=counts.mean_fallback, trim=settings.trim_min_judges),
            icon=text.ICON_WARNING,
        )
    if counts.unranked:
        st.warning(text.FLAG_UNRANKED.format(n=counts.unranked), icon=text.ICON_WARNING)


def figure(fig: go.Figure, key: str) -> None:
    """Draw a figure as built: ``theme=None`` keeps our CJK fonts and grade colours."""
    st.plotly_chart(fig, key=key, theme=None, config=_PLOTLY_CONFIG)


def _table_height(rows: int) -> int:
    return min(_MAX_TABLE_PX, (rows + 1) * _ROW_PX + 3)


def _score_columns(view: pd.DataFrame) -> dict[str, st.column_config.Column]:
    """Two decimals for every score column, integers for counts and ranks."""
    config: dict[str, st.column_config.Column] = {}
    for column in view.columns:
        if column in (charts.COL_RANK, charts.COL_COUNTED, charts.COL_COMPLETE):
            config[column] = st.column_config.NumberColumn(column, format="%d", width="small")
        elif pd.api.types.is_float_dtype(view[column]):
            config[column] = st.column_config.NumberColumn(column, format="%.2f", width="small")
    if charts.COL_NOTE in view.columns:
        config[charts.COL_NOTE] = st.column_config.TextColumn(charts.COL_NOTE, width="medium")
    return config


#: On screen the decisive columns come first so they never scroll out of sight; the view
#: itself (and so any export) keeps the printed meeting-table order.
_LEADING = (charts.COL_RANK, charts.COL_BRAND, charts.COL_TOTAL, charts.COL_GRADE)


def ranking_table(view: pd.DataFrame, *, key: str, selectable: bool = False) -> str | None:
    """The meeting table (sortable by header click); returns the brand code of a picked row."""
    rest = [c for c in view.columns if c not in _LEADING and c != charts.COL_CODE]
    columns = [*_LEADING, *rest]
    event = st.dataframe(
        view,
        key=key,
        hide_index=True,
        column_order=columns,
        column_config=_score_columns(view),
        height=_table_height(len(view)),
        on_select="rerun" if selectable else "ignore",
        selection_mode="single-row",
    )
    if not selectable:
        return None
    rows = event["selection"]["rows"]
    return str(view[charts.COL_CODE].iloc[rows[0]]) if rows else None


def judge_table(view: pd.DataFrame) -> None:
    st.dataframe(
        view,
        hide_index=True,
        column_config=_score_columns(view),
        height=_table_height(len(view)),
    )


def comments(view: pd.DataFrame) -> None:
    if view.empty:
        empty(text.NO_COMMENTS)
        return
    for judge, comment in view.itertuples(index=False):
        st.markdown(f"**{md(judge)}**：{md(comment)}")


def brand_profile(detail: services.BrandDetail, notes: list[str]) -> None:
    """Name, slogan and description beside rank, total and grade; caveats as warnings."""
    row = detail.row
    st.subheader(md(row["brand"]))
    if row["slogan"]:
        st.markdown(f"*“{md(row['slogan'])}”*")
    ranked = pd.notna(row["total"])
    cols = st.columns(4)
    cols[0].metric(text.PROFILE_RANK, str(row["rank"]) if ranked else text.PROFILE_NONE)
    cols[1].metric(text.PROFILE_TOTAL, f"{row['total']:.2f}" if ranked else text.PROFILE_NONE)
    cols[2].metric(text.PROFILE_GRADE, str(row["grade"]) if ranked else text.PROFILE_NONE)
    cols[3].metric(text.PROFILE_COUNTED, int(row["judges_counted"]))
    st.markdown(
        f"**{text.PROFILE_UNIT}**：{md(row['unit'])}"
        f"　　**{text.PROFILE_BRANCH}**：{md(row['branch'])}"
        f"　　**{text.PROFILE_CATEGORY}**：{md(row['category'] or text.PROFILE_NONE)}"
    )
    if row["description"]:
        st.markdown(md(row["description"]))
    for note in notes:
        st.warning(note, icon=text.ICON_WARNING)
    if pd.notna(row["dropped_high_name"]) or pd.notna(row["dropped_low_name"]):
        st.caption(
            text.DROPPED_CAPTION.format(
                high=row["dropped_high_name"] or text.PROFILE_NONE,
                low=row["dropped_low_name"] or text.PROFILE_NONE,
            )
        )


def user_box(actor: Actor) -> None:
    """Who is logged in, in which role; change one's password; log out (sidebar).

    Also keeps the session cookie in the browser (see :mod:`ui.session`), since this box
    is drawn on every run of every page while someone is logged in. Both buttons act in
    their ``on_click`` callbacks, so a click counts once however the run is routed.
    """
    session.keep_cookie()
    st.caption(text.SIGNED_IN_AS.format(name=md(actor.username), role=actor.role.label))
    account, leave = st.columns(2)
    with (
        account.popover(text.CHANGE_PASSWORD, width="stretch"),
        st.form("own_password", border=False),
    ):
        st.text_input(text.CURRENT_PASSWORD, type="password", key="own_pw_old")
        st.text_input(text.NEW_PASSWORD, type="password", key="own_pw_new")
        st.text_input(text.NEW_PASSWORD_AGAIN, type="password", key="own_pw_again")
        st.form_submit_button(
            text.CHANGE_PASSWORD_BUTTON,
            type="primary",
            key="own_pw_submit",
            on_click=session.change_password_from_form,
        )
        outcome = st.session_state.pop(session.OWN_PASSWORD_OUTCOME, None)
        if outcome is not None:
            ok, message = outcome
            if ok:
                st.success(message, icon=":material/check_circle:")
            else:
                st.error(message, icon=":material/error:")
    leave.button(
        text.LOGOUT,
        icon=":material/logout:",
        key="logout",
        width="stretch",
        on_click=session.log_out,
    )


def progress_kpis(brands: int, judges: int, progress: stats.Progress) -> None:
    """Three KPI tiles: brands, judges, share of sheets complete."""
    left, middle, right = st.columns(3)
    left.metric(text.KPI_BRANDS, brands, border=True)
    middle.metric(text.KPI_JUDGES, judges, border=True)
    right.metric(
        text.KPI_PROGRESS,
        text.KPI_PROGRESS_VALUE.format(percent=progress.percent),
        help=text.KPI_PROGRESS_HELP.format(complete=progress.complete, expected=progress.expected),
        border=True,
    )
