"""评分进度: judges x brands as a heatmap, totals, and what each judge still owes.

Admins and viewers (progress only, never scores); the service checks again. A sheet
counts as done when every criterion item is scored and it is not held as a draft.
"""

from __future__ import annotations

import streamlit as st

from evalcore import charts
from evalcore.permissions import Action
from evalcore.services import assignments
from ui import data, pickers, session, shell, text, views

shell.require_entrypoint()
actor = session.require(session.current_actor(), Action.VIEW_PROGRESS)
engine = data.engine()

st.title(text.PROGRESS_TITLE)
round_code = pickers.selected_round()
if round_code is None:
    views.empty(text.NO_ROUNDS)
    st.stop()

progress = assignments.progress_matrix(engine, actor=actor, round_code=round_code)
st.caption(
    text.PROGRESS_CAPTION.format(
        name=progress.round.name, status=progress.round.status_label, n=progress.n_items
    )
)
if progress.brands.empty:
    views.empty(text.PROGRESS_NO_BRANDS)
    st.stop()
if progress.judges.empty:
    views.empty(text.PROGRESS_NO_JUDGES)
    st.stop()

totals = progress.totals()
if not totals["expected"]:
    views.empty(text.PROGRESS_NO_EXPECTED)
labels = charts.PROGRESS_LABELS
kpis = st.columns(5)
kpis[0].metric(
    text.PROGRESS_KPI_EXPECTED,
    totals["expected"],
    help=text.PROGRESS_KPI_EXPECTED_HELP,
    border=True,
)
for column, state in zip(kpis[1:4], ("done", "draft", "not_started"), strict=True):
    column.metric(labels[state], totals[state], border=True)
kpis[4].metric(
    text.PROGRESS_KPI_PERCENT,
    text.PROGRESS_PERCENT.format(percent=progress.percent),
    border=True,
)

views.figure(
    charts.progress_heatmap(
        progress.cells, progress.brands, progress.judges, n_items=progress.n_items
    ),
    key="progress_heatmap",
)

st.subheader(text.PROGRESS_JUDGES)
st.dataframe(
    charts.progress_judge_view(progress.per_judge()),
    hide_index=True,
    column_config={
        "完成率": st.column_config.ProgressColumn(
            text.PROGRESS_KPI_PERCENT, format="%.0f%%", min_value=0, max_value=100
        )
    },
)

st.subheader(text.PROGRESS_MISSING)
missing = progress.missing()
if missing.empty:
    st.success(text.PROGRESS_ALL_DONE, icon=":material/check_circle:")
else:
    st.caption(text.PROGRESS_MISSING_HELP)
    st.dataframe(
        charts.progress_missing_view(missing, progress.n_items),
        hide_index=True,
        key="progress_missing",
    )
