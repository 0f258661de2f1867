"""The page list per role: one table, so a page not granted to a role cannot be reached.

A page missing from a role's list is not registered with ``st.navigation`` for that
user, so even its URL leads nowhere; each page also checks the role again (and every
service checks it once more below the UI).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from evalcore.permissions import Actor, Role
from ui import text

ALL = frozenset(Role)
ADMIN = frozenset({Role.ADMIN})


@dataclass(frozen=True)
class PageSpec:
    path: str
    title: str
    icon: str
    section: str
    roles: frozenset[Role]


PAGES: tuple[PageSpec, ...] = (
    PageSpec("pages/overview.py", text.PAGE_OVERVIEW, text.ICON_OVERVIEW, text.NAV_RESULTS, ALL),
    PageSpec("pages/ranking.py", text.PAGE_RANKING, text.ICON_RANKING, text.NAV_RESULTS, ALL),
    PageSpec(
        "pages/brand.py",
        text.PAGE_BRAND,
        text.ICON_BRAND,
        text.NAV_RESULTS,
        frozenset({Role.ADMIN, Role.VIEWER}),
    ),
    PageSpec(
        "pages/judge_scoring.py",
        text.PAGE_SCORING,
        text.ICON_SCORING,
        text.NAV_SCORING,
        frozenset({Role.JUDGE}),
    ),
    PageSpec("pages/import_scores.py", text.PAGE_IMPORT, text.ICON_IMPORT, text.NAV_SCORING, ADMIN),
    PageSpec(
        "pages/admin_progress.py",
        text.PAGE_PROGRESS,
        text.ICON_PROGRESS,
        text.NAV_SCORING,
        frozenset({Role.ADMIN, Role.VIEWER}),
    ),
    PageSpec("pages/admin_rounds.py", text.PAGE_ROUNDS, text.ICON_ROUNDS, text.NAV_ADMIN, ADMIN),
    PageSpec("pages/admin_rubric.py", text.PAGE_RUBRIC, text.ICON_RUBRIC, text.NAV_ADMIN, ADMIN),
    PageSpec("pages/admin_roster.py", text.PAGE_ROSTER, text.ICON_ROSTER, text.NAV_ADMIN, ADMIN),
    PageSpec(
        "pages/admin_assignments.py",
        text.PAGE_ASSIGNMENTS,
        text.ICON_ASSIGNMENTS,
        text.NAV_ADMIN,
        ADMIN,
    ),
    PageSpec("pages/admin_users.py", text.PAGE_USERS, text.ICON_USERS, text.NAV_ADMIN, ADMIN),
    PageSpec("pages/admin_audit.py", text.PAGE_AUDIT, text.ICON_AUDIT, text.NAV_ADMIN, ADMIN),
)
LOGIN = PageSpec("pages/login.py", text.PAGE_LOGIN, text.ICON_LOGIN, "", frozenset())
#: Where each role lands after logging in.
HOME = {
    Role.ADMIN: "pages/overview.py",
    Role.VIEWER: "pages/overview.py",
    Role.JUDGE: "pages/judge_scoring.py",
}


def specs_for(role: Role | None) -> list[PageSpec]:
    if role is None:
        return [LOGIN]
    return [spec for spec in PAGES if role in spec.roles]


def pages_for(actor: Actor | None) -> dict[str, list[st.Page]] | list[st.Page]:
    """``st.navigation`` input for this user: the login page alone when logged out."""
    role = actor.role if actor else None
    if role is None:
        return [st.Page(LOGIN.path, title=LOGIN.title, icon=LOGIN.icon, default=True)]
    sections: dict[str, list[st.Page]] = {}
    for spec in specs_for(role):
        page = st.Page(spec.path, title=spec.title, icon=spec.icon, default=spec.path == HOME[role])
        sections.setdefault(spec.section, []).append(page)
    return sections


def every_page() -> list[st.Page]:
    """All page files, for :mod:`ui.shell` only: it registers them just long enough to
    rerun through ``app.py``, which then applies the user's own list."""
    return [st.Page(spec.path, title=spec.title, icon=spec.icon) for spec in (LOGIN, *PAGES)]
