"""一支部一品牌评审: page config, the database, login, navigation per role, the sidebar.

Run with ``streamlit run app.py``; the database URL comes from ``EVALCORE_DATABASE_URL``.
"""

import streamlit as st

from evalcore.errors import EvalcoreError
from ui import access, data, nav, pickers, shell, text, views

st.set_page_config(page_title=text.APP_TITLE, page_icon=text.APP_ICON, layout="wide")

try:
    state = data.database()
    actor = access.resolve()
    page = st.navigation(nav.pages_for(actor))
    with st.sidebar:
        st.markdown(f"### {text.APP_TITLE}")
        if actor is not None:
            views.user_box(actor)
            pickers.round_picker(data.rounds())
    views.demo_notice(data.demo_dataset(), state.demo_loaded_now)
    with shell.entrypoint():
        page.run()
except EvalcoreError as exc:
    views.show_error(exc)
