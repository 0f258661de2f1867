"""操作日志: the audit trail, filtered by round, object, user and dates, exported to Excel.

Admins only (the services check again). The filters offer only values the trail
holds; the export contains exactly the rows shown.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from evalcore.permissions import Action
from evalcore.services import audit, exports
from ui import data, session, shell, text, views

EXPORT_KEY = "audit_export"
HEADERS = audit.VIEW_HEADERS


def all_or(value: str | None, label: str = "") -> str:
    return text.AUDIT_ALL if value is None else label or value


def date_bounds(picked: object) -> tuple[date | None, date | None]:
    """``st.date_input`` gives one date while the second end is still being picked."""
    days = list(picked) if isinstance(picked, list | tuple) else [picked]
    days = [d for d in days if isinstance(d, date)]
    if not days:
        return None, None
    return days[0], days[-1] if len(days) > 1 else None


shell.require_entrypoint()
actor = session.require(session.current_actor(), Action.VIEW_AUDIT)
st.title(text.AUDIT_TITLE)
st.caption(text.AUDIT_HINT)
engine = data.engine()
facets = audit.audit_facets(engine, actor=actor)
if facets.first is None:
    views.empty(text.AUDIT_EMPTY)
    st.stop()

cols = st.columns([1, 1, 1, 2])
round_code = cols[0].selectbox(
    text.AUDIT_ROUND, [None, *facets.rounds], format_func=all_or, key="audit_round"
)
entity = cols[1].selectbox(
    text.AUDIT_ENTITY,
    [None, *facets.entities],
    format_func=lambda e: all_or(e, audit.entity_label(e or "")),
    key="audit_entity",
)
who = cols[2].selectbox(
    text.AUDIT_USER, [None, *facets.actors], format_func=all_or, key="audit_user"
)
picked = cols[3].date_input(
    text.AUDIT_DATES,
    value=(),  # empty: all dates (a fixed default range would go stale as events arrive)
    format="YYYY-MM-DD",
    key="audit_dates",
)
since, until = date_bounds(picked)
filters = {"round_code": round_code, "entity": entity, "who": who, "since": since, "until": until}
events = audit.list_events(engine, actor=actor, **filters)
if events.empty:
    views.empty(text.AUDIT_NO_MATCH)
    st.stop()

view = audit.audit_view(events)
st.caption(text.AUDIT_COUNT.format(n=len(view), tz=audit.display_tz().key))
# The workbook is rebuilt only when the rows shown change (filters, or a new event).
export_id = (tuple(filters.items()), len(events), int(events["id"].iloc[0]))
if st.session_state.get(EXPORT_KEY, (None, b""))[0] != export_id:
    st.session_state[EXPORT_KEY] = (export_id, audit.audit_workbook(engine, actor=actor, **filters))
st.download_button(
    text.AUDIT_EXPORT,
    data=st.session_state[EXPORT_KEY][1],
    file_name=text.AUDIT_FILE,
    mime=exports.XLSX_MIME,
    icon=":material/download:",
    on_click="ignore",
    key="audit_download",
)
# On screen: what changed, first; the id and role are in the export.
SHOWN = [
    HEADERS[c]
    for c in (
        "at",
        "actor",
        "source",
        "action",
        "entity",
        "entity_key",
        "round_code",
        "old",
        "new",
        "reason",
    )
]
st.dataframe(
    view,
    hide_index=True,
    column_order=SHOWN,
    column_config={
        HEADERS["id"]: st.column_config.NumberColumn(HEADERS["id"], format="%d", width="small"),
        HEADERS["at"]: st.column_config.DatetimeColumn(HEADERS["at"], format="YYYY-MM-DD HH:mm:ss"),
        HEADERS["old"]: st.column_config.TextColumn(HEADERS["old"], width="medium"),
        HEADERS["new"]: st.column_config.TextColumn(HEADERS["new"], width="medium"),
    },
    key="audit_table",
)
