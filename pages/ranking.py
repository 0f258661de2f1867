"""排名: the meeting table with filters and method picker, bars by grade, criteria heatmap."""

import streamlit as st

from evalcore import charts
from evalcore.permissions import Action
from ui import access, data, export, pickers, shell, text, views

shell.require_entrypoint()
st.title(text.RANKING_TITLE)
round_code = pickers.selected_round()
if round_code is None:
    views.empty(text.NO_ROUNDS)
    st.stop()

user = access.actor()
info = data.round_info(round_code)
if not access.allowed(user, Action.VIEW_RESULTS, info.status):
    views.empty(text.RESULTS_NOT_PUBLISHED.format(status=info.status_label))
    st.stop()
results = data.results(user, round_code, pickers.selected_method())
method = pickers.method_picker(default=results.method)
if method != results.method:
    results = data.results(user, round_code, method)
views.round_caption(results)
if results.brands.empty:
    views.empty(text.NO_BRANDS)
    st.stop()
if results.scored.empty:
    views.empty(text.NO_SCORES)
    st.stop()
views.flags(results)

grades = charts.grade_labels(results.settings.grade_bands)
units, categories, chosen_grades = pickers.ranking_filters(
    charts.filter_options(results.table, grades)
)
shown = charts.filter_table(results.table, units=units, categories=categories, grades=chosen_grades)
if shown.empty:
    views.empty(text.NO_MATCH)
    st.stop()

view = charts.ranking_view(shown, results.rubric, results.settings, results.method)
st.caption(
    text.SHOWN_COUNT.format(shown=len(view), total=len(results.table)) + "　" + text.TABLE_HINT
)

# -- 导出 (export): the round's results workbook and ranking CSV
export.export_buttons(user, results)

picked = views.ranking_table(view, key="ranking_table", selectable=True)
if picked:
    pickers.open_brand(picked)

views.figure(
    charts.ranking_bars(
        shown, grades, max_total=results.rubric.max_total, thresholds=results.settings.grade_bands
    ),
    key="ranking_bars",
)
views.figure(charts.criteria_heatmap(shown, results.rubric), key="criteria_heatmap")
