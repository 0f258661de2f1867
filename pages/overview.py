"""总览: scoring progress, the top ten, and how grades and totals are spread."""

import streamlit as st

from evalcore import charts
from ui import data, pickers, shell, text, views

shell.require_entrypoint()
st.title(text.OVERVIEW_TITLE)
round_code = pickers.selected_round()
if round_code is None:
    views.empty(text.NO_ROUNDS)
    st.stop()

results = data.results(round_code, pickers.selected_method())
views.round_caption(results)
if results.brands.empty:
    views.empty(text.NO_BRANDS)
    st.stop()

progress = results.progress
brands, judges, done = st.columns(3)
brands.metric(text.KPI_BRANDS, len(results.brands), border=True)
judges.metric(text.KPI_JUDGES, len(results.judges), border=True)
done.metric(
    text.KPI_PROGRESS,
    text.KPI_PROGRESS_VALUE.format(percent=progress.percent),
    help=text.KPI_PROGRESS_HELP.format(complete=progress.complete, expected=progress.expected),
    border=True,
)

if results.scored.empty:
    views.empty(text.NO_SCORES)
    st.stop()
views.flags(results)

grades = charts.grade_labels(results.settings.grade_bands)
left, right = st.columns(2)
with left:
    views.figure(charts.grade_distribution(results.table, grades), key="grade_distribution")
with right:
    views.figure(
        charts.score_histogram(
            results.table, results.settings.grade_bands, results.rubric.max_total
        ),
        key="score_histogram",
    )

st.subheader(text.TOP10)
views.ranking_table(
    charts.ranking_view(results.table, results.rubric, results.settings, results.method, limit=10),
    key="top10",
)
st.caption(text.TOP10_MORE)
