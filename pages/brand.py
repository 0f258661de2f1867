"""品牌详情: one brand's profile, its criteria against peers, every judge's scores and comments."""

import streamlit as st

from evalcore import charts
from evalcore.permissions import Action
from ui import access, data, pickers, shell, text, views

shell.require_entrypoint()
st.title(text.BRAND_TITLE)
round_code = pickers.selected_round()
if round_code is None:
    views.empty(text.NO_ROUNDS)
    st.stop()

user = access.actor()
info = data.round_info(round_code)
if not access.allowed(user, Action.VIEW_JUDGE_SCORES, info.status):
    views.empty(text.RESULTS_NOT_PUBLISHED.format(status=info.status_label))
    st.stop()
results = data.results(user, round_code, pickers.selected_method())
views.round_caption(results)
if results.brands.empty:
    views.empty(text.NO_BRANDS)
    st.stop()

brand_code = pickers.brand_picker(charts.brand_choices(results.table))
detail = data.brand_detail(user, results, brand_code)
views.brand_profile(detail, charts.brand_notes(detail.row, results.method, results.settings))

if detail.profile.empty:
    views.empty(text.BRAND_UNSCORED)
else:
    radar, strip = st.columns(2)
    with radar:
        views.figure(
            charts.brand_radar(detail.profile, detail.rubric, str(detail.row["brand"])),
            key="brand_radar",
        )
    with strip:
        views.figure(
            charts.judge_strip(detail.judges, detail.rubric, detail.row), key="judge_strip"
        )

st.subheader(text.JUDGES_HEADER)
if detail.judges.empty:
    views.empty(text.BRAND_NO_JUDGES)
else:
    st.caption(text.JUDGES_HINT)
    views.judge_table(charts.judge_view(detail.judges, detail.rubric))

st.subheader(text.COMMENTS_HEADER)
views.comments(charts.comments_view(detail.comments))
