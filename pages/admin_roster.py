"""组织与品牌: units, branches and brands in grids, a round's brands, roster import.

Admins only; every service call checks again. Each grid save is one service call with
the editor's changes (:class:`~evalcore.services.roster.TableEdit`); the service checks
everything and either writes it all or lists every problem, which the page shows as a
table while keeping the edits in the grid so they can be fixed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pandas as pd
import streamlit as st

from evalcore.errors import EvalcoreError
from evalcore.permissions import Action
from evalcore.services import exports, roster
from ui import data, pickers, session, shell, text, views

shell.require_entrypoint()
actor = session.require(session.current_actor(), Action.MANAGE_ROSTER)
engine = data.engine()

FLASH = "roster_flash"
GEN = "roster_gen"  # bumped after a save, so every grid starts from the stored table
PREVIEW = "roster_preview"
MAX_MB = 20
ICON_SAVE = ":material/save:"
ICON_OK = ":material/check_circle:"


def key(name: str) -> str:
    return f"roster_{name}_{st.session_state.get(GEN, 0)}"


def done(message: str) -> None:
    """Remember what happened, reset the grids and uploads, show a fresh page."""
    st.session_state[FLASH] = message
    st.session_state[GEN] = st.session_state.get(GEN, 0) + 1
    st.session_state.pop(PREVIEW, None)
    st.rerun()


def show_error(exc: EvalcoreError, what: str, *, cells: bool = False) -> None:
    """A refusal listing several problems becomes a table; anything else its message."""
    table = roster.issues_of(exc, cells=cells)
    if table is None:
        views.show_error(exc)
        return
    st.error(text.ROSTER_ISSUES.format(what=what, n=len(table)), icon=":material/error:")
    st.dataframe(table, hide_index=True)


def save_button(
    name: str, original: pd.DataFrame, what: str, apply: Callable[..., roster.EditResult]
) -> None:
    """The 保存 button under a grid: one service call with the editor's changes."""
    if not st.button(text.ROSTER_SAVE, type="primary", icon=ICON_SAVE, key=f"{name}_save"):
        return
    edit = roster.TableEdit.from_editor(original, st.session_state.get(key(name), {}))
    if edit.empty:
        st.info(text.ROSTER_NOTHING, icon=text.ICON_EMPTY)
        return
    try:
        result = apply(engine, actor=actor, edit=edit)
    except EvalcoreError as exc:
        show_error(exc, what)
    else:
        done(
            text.ROSTER_SAVED.format(
                what=what, added=result.added, changed=result.changed, deleted=result.deleted
            )
        )


st.title(text.ROSTER_TITLE)
if message := st.session_state.pop(FLASH, None):
    st.success(message, icon=ICON_OK)
current = roster.read_roster(engine, actor=actor)
units, branches, brands = current.units, current.branches, current.brands
kpis = st.columns(3)
kpis[0].metric(text.ROSTER_KPI_UNITS, len(units), border=True)
kpis[1].metric(text.ROSTER_KPI_BRANCHES, len(branches), border=True)
kpis[2].metric(text.ROSTER_KPI_BRANDS, len(brands), border=True)
st.caption(text.ROSTER_INTRO)
unit_names = units["name"].tolist()

tab_units, tab_branches, tab_brands, tab_round, tab_import = st.tabs(
    [
        text.ROSTER_TAB_UNITS,
        text.ROSTER_TAB_BRANCHES,
        text.ROSTER_TAB_BRANDS,
        text.ROSTER_TAB_ROUND,
        text.ROSTER_TAB_IMPORT,
    ]
)

with tab_units:
    if units.empty:
        views.empty(text.ROSTER_NO_UNITS)
    st.data_editor(
        units,
        key=key("units"),
        num_rows="dynamic",
        hide_index=True,
        column_order=["code", "name", "branches", "brands", "judges"],
        disabled=["branches", "brands", "judges"],
        column_config={
            "code": st.column_config.TextColumn(
                text.ROSTER_COL_CODE, required=True, max_chars=32, width="small"
            ),
            "name": st.column_config.TextColumn(
                text.ROSTER_COL_NAME, required=True, max_chars=128, width="large"
            ),
            "branches": st.column_config.NumberColumn(text.ROSTER_COL_BRANCHES, format="%d"),
            "brands": st.column_config.NumberColumn(text.ROSTER_COL_BRANDS, format="%d"),
            "judges": st.column_config.NumberColumn(text.ROSTER_COL_JUDGES, format="%d"),
        },
    )
    save_button("units", units, text.ROSTER_TAB_UNITS, roster.apply_units)

with tab_branches:
    if units.empty:
        views.empty(text.ROSTER_NO_BRANCHES_FIRST)
    else:
        if branches.empty:
            views.empty(text.ROSTER_NO_BRANCHES)
        st.data_editor(
            branches,
            key=key("branches"),
            num_rows="dynamic",
            hide_index=True,
            column_order=["unit", "name", "brands"],
            disabled=["brands"],
            column_config={
                "unit": st.column_config.SelectboxColumn(
                    text.ROSTER_COL_UNIT, options=unit_names, required=True, width="medium"
                ),
                "name": st.column_config.TextColumn(
                    text.ROSTER_COL_NAME, required=True, max_chars=128, width="medium"
                ),
                "brands": st.column_config.NumberColumn(text.ROSTER_COL_BRANDS, format="%d"),
            },
        )
        save_button("branches", branches, text.ROSTER_TAB_BRANCHES, roster.apply_branches)

with tab_brands:
    if branches.empty:
        views.empty(text.ROSTER_NO_BRANDS_FIRST)
    else:
        if brands.empty:
            views.empty(text.ROSTER_NO_BRANDS)
        st.data_editor(
            brands,
            key=key("brands"),
            num_rows="dynamic",
            hide_index=True,
            column_order=[
                "code",
                "name",
                "unit",
                "branch",
                "category",
                "slogan",
                "description",
                "rounds",
                "scored",
            ],
            disabled=["rounds", "scored"],
            column_config={
                "code": st.column_config.TextColumn(
                    text.ROSTER_COL_BRAND_CODE, required=True, max_chars=32, width="small"
                ),
                "name": st.column_config.TextColumn(
                    text.ROSTER_COL_BRAND_NAME, required=True, max_chars=128
                ),
                "unit": st.column_config.SelectboxColumn(
                    text.ROSTER_COL_UNIT, options=unit_names, required=True
                ),
                "branch": st.column_config.SelectboxColumn(
                    text.ROSTER_COL_BRANCH,
                    options=sorted(set(branches["name"])),
                    required=True,
                ),
                "category": st.column_config.SelectboxColumn(
                    text.ROSTER_COL_CATEGORY, options=list(roster.CATEGORIES), width="small"
                ),
                "slogan": st.column_config.TextColumn(text.ROSTER_COL_SLOGAN, max_chars=256),
                "description": st.column_config.TextColumn(text.ROSTER_COL_DESCRIPTION),
                "rounds": st.column_config.TextColumn(text.ROSTER_COL_ROUNDS, width="small"),
                "scored": st.column_config.CheckboxColumn(
                    text.ROSTER_COL_SCORED, help=text.ROSTER_SCORED_HELP, width="small"
                ),
            },
        )
        save_button("brands", brands, text.ROSTER_TAB_BRANDS, roster.apply_brands)

with tab_round:
    round_code = pickers.selected_round()
    if round_code is None:
        views.empty(text.NO_ROUNDS)
    elif brands.empty:
        views.empty(text.ROSTER_ROUND_NO_BRANDS)
    else:
        members = roster.round_brands(engine, actor=actor, round_code=round_code)
        status = members.round.status_label
        if members.editable:
            st.caption(
                text.ROSTER_ROUND_CAPTION.format(
                    code=round_code, status=status, n=len(members.members)
                )
            )
        else:
            st.info(text.ROSTER_ROUND_LOCKED.format(code=round_code, status=status))
        grid = key(f"round_{round_code}")
        st.data_editor(
            members.brands,
            key=grid,
            hide_index=True,
            column_order=["in_round", "code", "name", "unit", "branch", "category", "scored"],
            disabled=[c for c in members.brands.columns if c != "in_round" or not members.editable],
            column_config={
                "in_round": st.column_config.CheckboxColumn(
                    text.ROSTER_COL_IN_ROUND, width="small"
                ),
                "code": st.column_config.TextColumn(text.ROSTER_COL_BRAND_CODE, width="small"),
                "name": text.ROSTER_COL_BRAND_NAME,
                "unit": text.ROSTER_COL_UNIT,
                "branch": text.ROSTER_COL_BRANCH,
                "category": text.ROSTER_COL_CATEGORY,
                "scored": st.column_config.CheckboxColumn(text.ROSTER_COL_SCORED, width="small"),
            },
        )
        if members.editable:
            save, everyone, _ = st.columns([1, 1, 3])
            wanted: list[str] | None = None
            if save.button(text.ROSTER_ROUND_SAVE, type="primary", icon=ICON_SAVE, key="rb_save"):
                wanted = members.codes_from_editor(st.session_state.get(grid, {}))
            if everyone.button(text.ROSTER_ROUND_ALL, icon=":material/done_all:", key="rb_all"):
                wanted = members.all_codes
            if wanted is not None:
                try:
                    change = roster.set_round_brands(
                        engine, actor=actor, round_code=round_code, brand_codes=wanted
                    )
                except EvalcoreError as exc:
                    views.show_error(exc)
                else:
                    if not (change.added or change.removed):
                        st.info(text.ROSTER_NOTHING, icon=text.ICON_EMPTY)
                    else:
                        hint = f" {text.ROSTER_ROUND_HINT}" if change.added else ""
                        done(
                            text.ROSTER_ROUND_SAVED.format(
                                code=round_code,
                                added=len(change.added),
                                removed=len(change.removed),
                            )
                            + hint
                        )

with tab_import:
    st.download_button(
        text.ROSTER_IMPORT_TEMPLATE,
        data=roster.roster_template(engine, actor=actor),
        file_name=text.ROSTER_TEMPLATE_FILE,
        mime=exports.XLSX_MIME,
        icon=":material/download:",
        help=text.ROSTER_IMPORT_TEMPLATE_HELP,
        on_click="ignore",
        key="roster_template",
    )
    st.caption(text.ROSTER_IMPORT_TEMPLATE_HELP)
    upload = st.file_uploader(text.ROSTER_IMPORT_UPLOAD, type=["xlsx"], key=key("upload"))
    if upload is None:
        views.empty(text.ROSTER_IMPORT_EMPTY)
    elif upload.size > MAX_MB * 1024 * 1024:
        st.error(text.ROSTER_IMPORT_TOO_BIG.format(size=upload.size / 2**20, limit=MAX_MB))
    else:
        content = upload.getvalue()
        digest = hashlib.sha256(content).hexdigest()
        preview = st.session_state.get(PREVIEW)
        if preview is None or preview.sha256 != digest:
            preview = roster.preview_roster_import(
                engine, actor=actor, file_name=upload.name, data=content
            )
            st.session_state[PREVIEW] = preview
        if not preview.ok:
            st.error(
                text.ROSTER_IMPORT_ISSUES.format(n=len(preview.issues)), icon=":material/error:"
            )
            st.dataframe(preview.issue_table(), hide_index=True, key="roster_import_issues")
        else:
            counts = preview.counts
            cols = st.columns(5)
            cols[0].metric(text.ROSTER_M_UNITS, counts.units_new)
            cols[1].metric(text.ROSTER_M_BRANCHES, counts.branches_new)
            cols[2].metric(text.ROSTER_M_NEW, counts.brands_new)
            cols[3].metric(text.ROSTER_M_CHANGED, counts.brands_changed)
            cols[4].metric(text.ROSTER_M_SAME, counts.brands_unchanged)
            if not counts.writes:
                st.info(text.ROSTER_IMPORT_NOTHING, icon=ICON_OK)
            else:
                st.success(text.ROSTER_IMPORT_READY, icon=ICON_OK)
                if not preview.changes.empty:
                    st.markdown(f"**{text.ROSTER_IMPORT_CHANGES}**")
                    st.dataframe(preview.changes, hide_index=True, key="roster_import_changes")
                yes, no = st.columns(2)
                if yes.button(
                    text.ROSTER_IMPORT_CONFIRM,
                    type="primary",
                    icon=":material/upload_file:",
                    key="roster_import_confirm",
                ):
                    try:
                        written = roster.commit_roster_import(engine, actor=actor, preview=preview)
                    except EvalcoreError as exc:
                        st.session_state.pop(PREVIEW, None)
                        views.show_error(exc)
                    else:
                        done(text.ROSTER_IMPORT_DONE.format(**written.__dict__))
                if no.button(
                    text.ROSTER_IMPORT_CANCEL, icon=":material/close:", key="roster_import_cancel"
                ):
                    done("")
