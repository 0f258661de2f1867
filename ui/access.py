"""This run's user and what they may see, for ``app.py`` and the pages.

``app.py`` resolves the user once per run (:func:`resolve`: the session cookie checked
against the database); pages ask :func:`actor`. The resolved user lives in a
thread-local of the script run, never in session state, which a client or a test
could edit. A page run outside ``app.py`` resolves the user afresh.
"""

from __future__ import annotations

import threading

import streamlit as st

from evalcore.permissions import Action, Actor, can
from ui import session, shell, text

_this_run = threading.local()


def resolve() -> Actor | None:
    """Resolve the logged-in user from the database (``app.py``, at the top of every run)."""
    _this_run.actor = session.current_actor()
    return _this_run.actor


def actor() -> Actor | None:
    """The user of this run, as ``app.py`` resolved it moments ago."""
    if shell.inside_app():
        return getattr(_this_run, "actor", None)
    return resolve()


def allowed(user: Actor | None, action: Action, round_status: str | None = None) -> bool:
    return user is not None and can(user, action, round_status)


def require(action: Action, round_status: str | None = None) -> Actor:
    """This run's user; a refusal (and the page stops) unless they may take ``action``.

    Pages call this first; the services check again below it.
    """
    user = actor()
    if not allowed(user, action, round_status):
        st.error(text.ACCESS_DENIED, icon=":material/block:")
        st.stop()
    assert user is not None
    return user
