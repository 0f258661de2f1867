"""Make sure every page runs inside ``app.py`` (page config, database, sidebar, errors).

Streamlit still has its legacy "pages/ directory" mode: while no script run in the
process has called ``st.navigation`` yet, it builds its own menu from ``pages/*.py`` and
runs a requested page file *alone*. That happens on the first request after a server
start when it deep-links to ``/ranking`` (verified: the page ran without sidebar or
round picker and wrongly said there were no rounds), and in AppTest after every
``switch_page`` (AppTest resets that mode on each run). A page run that way would also
skip any login gate ``app.py`` adds later.

``app.py`` runs the page inside :func:`entrypoint`; a page's first line calls
:func:`require_entrypoint`, which, when run alone, registers our navigation (switching
Streamlit out of legacy mode for good) and reruns, so ``app.py`` handles the request.
It tries that once per request, and does nothing when the page file is itself the main
script (``AppTest.from_file("pages/x.py")``), so it can never loop.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from streamlit.errors import StreamlitAPIException

from ui import nav

#: Per script-run thread: set while app.py is running the page.
_state = threading.local()
#: Session flag: a reroute was requested and app.py has not run since.
_REROUTED = "_shell_rerouted"


@contextmanager
def entrypoint() -> Iterator[None]:
    """Mark the page run as coming through ``app.py``."""
    st.session_state.pop(_REROUTED, None)
    _state.inside = True
    try:
        yield
    finally:
        _state.inside = False


def inside_app() -> bool:
    """Whether this run is ``app.py`` running the page (which resolved the user already)."""
    return bool(getattr(_state, "inside", False))


def require_entrypoint() -> None:
    """Rerun through ``app.py`` if Streamlit ran this page file on its own."""
    if getattr(_state, "inside", False) or st.session_state.get(_REROUTED):
        return
    st.session_state[_REROUTED] = True
    try:
        st.navigation(nav.every_page(), position="hidden")
    except StreamlitAPIException:
        return  # the page is the main script: page paths don't resolve, nothing to route to
    st.rerun()
