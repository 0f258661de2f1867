"""总览: scoring progress, the top ten, and how grades and totals are spread."""

import streamlit as st

from evalcore import charts
from evalcore.permissions import Action
from ui import access, data, pickers, shell, text, views

shell.require_entrypoint()
st.title(text.OVERVIEW_TITLE)
user = access.require(Action.VIEW_PROGRESS)
round_code = pickers.selected_round()
if round_code is None:
    views.empty(text.NO_ROUNDS)
    st.stop()

info = data.round_info(round_code)
if not access.allowed(user, Action.VIEW_RESULTS, info.status):
    counts = data.progress(user, round_code)
    views.progress_kpis(counts.brands, counts.judges, counts.progress)
    views.empty(text.RESULTS_NOT_PUBLISHED.format(status=info.status_label))
    st.stop()

results = data.results(user, round_code, pickers.selected_method())
views.round_caption(results)
if results.brands.empty:
    views.empty(text.NO_BRANDS)
    st.stop()

views.progress_kpis(len(results.brands), len(results.judges), results.progress)

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
