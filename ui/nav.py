"""The page list: one function, so a later login can hand each role its own pages."""

from __future__ import annotations

import streamlit as st

from ui import text


def pages_for(role: str | None = None) -> list[st.Page]:
    """Pages the given role may open. For now every role (and no role) gets all three.

    A page not in this list cannot be reached, even by URL, so this is also the access
    rule for pages once roles exist.
    """
    del role  # roles arrive with login; until then managers see everything
    return [
        st.Page(
            "pages/overview.py", title=text.PAGE_OVERVIEW, icon=text.ICON_OVERVIEW, default=True
        ),
        st.Page("pages/ranking.py", title=text.PAGE_RANKING, icon=text.ICON_RANKING),
        st.Page("pages/brand.py", title=text.PAGE_BRAND, icon=text.ICON_BRAND),
    ]
