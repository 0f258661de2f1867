"""Export of a round's results (导出 Excel / CSV) from the ranking page.

The files are built from the results the page already holds and cached per round,
method and revision, so a rerun does not rebuild a workbook nobody asked for again.
"""

from __future__ import annotations

import streamlit as st

from evalcore import services
from evalcore.permissions import Action, Actor
from evalcore.services import exports
from ui import access, data, text


@st.cache_resource(max_entries=16, show_spinner="正在生成导出文件…")
def _files(
    url: str,
    round_code: str,
    method: str,
    revision: int,
    _results: services.RoundResults,
    _actor: Actor,
    with_workbook: bool,
) -> tuple[bytes | None, bytes]:
    engine = data.engine()
    workbook = (
        exports.results_workbook(engine, actor=_actor, round_code=round_code, results=_results)
        if with_workbook
        else None
    )
    csv = exports.results_csv(engine, actor=_actor, round_code=round_code, results=_results)
    return workbook, csv


def export_buttons(user: Actor, results: services.RoundResults) -> None:
    """导出 Excel (the formatted meeting workbook) and 导出 CSV (the ranking table)."""
    with_workbook = access.allowed(user, Action.VIEW_JUDGE_SCORES, results.round.status)
    workbook, csv = _files(
        data.database_url(),
        results.round.code,
        results.method,
        results.round.revision,
        results,
        user,
        with_workbook,
    )
    stem = f"{results.round.code}评审结果_{text.METHOD_LABELS.get(results.method, results.method)}"
    left, right, _ = st.columns([1, 1, 4])
    if workbook is not None:
        left.download_button(
            text.EXPORT_XLSX,
            workbook,
            file_name=f"{stem}.xlsx",
            mime=exports.XLSX_MIME,
            on_click="ignore",
            icon=":material/table_view:",
            key="export_xlsx",
        )
    right.download_button(
        text.EXPORT_CSV,
        csv,
        file_name=f"{stem}.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
        key="export_csv",
    )
