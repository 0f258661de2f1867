"""导入评分: upload filled score sheets, preview every problem or change, confirm, undo.

The page only reads widgets, calls :mod:`evalcore.services.imports` and renders what
comes back. A preview is kept in session state (keyed by round, files and user) so
confirming does not read the files again; it is dropped after a commit or cancel.
Admins only: the page checks the role first, and every service call checks it again.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from evalcore import services
from evalcore.errors import EvalcoreError
from evalcore.permissions import Action, Actor
from evalcore.services import exports, imports
from ui import access, data, pickers, shell, text, views

ICON_UPLOAD = ":material/upload_file:"
ICON_DOWNLOAD = ":material/download:"
ICON_OK = ":material/check_circle:"
ICON_ERROR = ":material/error:"
ICON_UNDO = ":material/undo:"
ICON_CANCEL = ":material/close:"
ICON_WARNING = ":material/warning:"

MAX_MB = 20  # as .streamlit/config.toml maxUploadSize; the browser check is not enough

PREVIEW_KEY, PREVIEW_ID_KEY = "import_preview", "import_preview_id"
UPLOADER_GEN_KEY, REVERT_KEY, DONE_KEY = "import_uploader_gen", "import_revert", "import_done"


def _round_index(rounds: list[services.RoundInfo]) -> int:
    """Start on the sidebar's round, else the first round open for scoring."""
    codes = [r.code for r in rounds]
    chosen = pickers.selected_round()
    if chosen in codes:
        return codes.index(chosen)
    scoring = [i for i, r in enumerate(rounds) if r.status == "scoring"]
    return scoring[0] if scoring else 0


def _template_button(engine: object, round_info: services.RoundInfo, actor: Actor) -> None:
    """The template, built once per round revision (downloads need their bytes up front)."""
    key = ("import_template", round_info.code, round_info.revision)
    if key not in st.session_state:
        st.session_state[key] = exports.score_template(
            engine, actor=actor, round_code=round_info.code
        )
    st.download_button(
        text.IMPORT_TEMPLATE_BUTTON.format(code=round_info.code),
        data=st.session_state[key],
        file_name=f"{round_info.code}评分表.xlsx",
        mime=exports.XLSX_MIME,
        icon=ICON_DOWNLOAD,
        on_click="ignore",
    )


def _preview(engine: object, round_code: str, actor: Actor, uploads: list) -> imports.ImportPreview:
    """Preview once per (round, files, operator); reruns reuse it."""
    files = [(u.name, u.getvalue()) for u in uploads]
    digest = hashlib.sha256()
    for name, content in files:
        digest.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
    preview_id = f"{round_code}|{actor.username}|{digest.hexdigest()}"
    if st.session_state.get(PREVIEW_ID_KEY) != preview_id:
        bar = st.progress(0.0, text=text.IMPORT_READING)
        preview = imports.preview_import(
            engine,
            round_code=round_code,
            files=files,
            actor=actor,
            progress=lambda share, label: bar.progress(min(share, 1.0), text=label),
        )
        bar.empty()
        st.session_state[PREVIEW_KEY] = preview
        st.session_state[PREVIEW_ID_KEY] = preview_id
    return st.session_state[PREVIEW_KEY]


def _forget_preview() -> None:
    st.session_state.pop(PREVIEW_KEY, None)
    st.session_state.pop(PREVIEW_ID_KEY, None)
    st.session_state[UPLOADER_GEN_KEY] = st.session_state.get(UPLOADER_GEN_KEY, 0) + 1


def _show_issues(preview: imports.ImportPreview) -> None:
    st.error(text.IMPORT_ISSUES_FOUND.format(n=len(preview.issues)), icon=ICON_ERROR)
    st.dataframe(preview.issue_table(), hide_index=True, key="import_issues")
    for upload in preview.files:
        if not (preview.issues["file"] == upload.name).any():
            continue
        key = ("import_annotated", st.session_state.get(PREVIEW_ID_KEY), upload.name)
        if key not in st.session_state:
            st.session_state[key] = imports.annotated_workbook(preview, upload.name)
        name, content = st.session_state[key]
        st.download_button(
            text.IMPORT_ANNOTATED.format(name=upload.name),
            data=content,
            file_name=name,
            mime=exports.XLSX_MIME,
            icon=ICON_DOWNLOAD,
            help=text.IMPORT_ANNOTATED_HELP,
            on_click="ignore",
            key=f"annotated_{upload.name}",
        )


def _show_ready(engine: object, preview: imports.ImportPreview, actor: Actor) -> None:
    counts = preview.counts
    if not preview.has_changes:
        st.info(text.IMPORT_NOTHING_TO_DO, icon=ICON_OK)
        return
    st.success(
        text.IMPORT_READY.format(new=counts.scores_new, changed=counts.scores_changed), icon=ICON_OK
    )
    if counts.scores_changed:
        st.markdown(f"**{text.IMPORT_CHANGES_HEADER}**")
        st.dataframe(preview.changes, hide_index=True, key="import_changes")
    if counts.comments_changed:
        st.markdown(f"**{text.IMPORT_COMMENT_CHANGES_HEADER}**")
        st.dataframe(preview.comment_changes, hide_index=True, key="import_comment_changes")
    confirm, cancel = st.columns(2)
    if confirm.button(text.IMPORT_CONFIRM, type="primary", icon=ICON_UPLOAD, key="import_confirm"):
        summary = imports.commit_import(engine, preview=preview, actor=actor)
        st.cache_data.clear()  # results caches also key on the round revision, bumped here
        st.session_state[DONE_KEY] = text.IMPORT_DONE.format(
            id=summary.id, summary=summary.counts.summary()
        )
        _forget_preview()
        st.rerun()
    if cancel.button(text.IMPORT_CANCEL, icon=ICON_CANCEL, key="import_cancel"):
        _forget_preview()
        st.rerun()


def _show_history(engine: object, round_code: str, actor: Actor) -> None:
    st.subheader(text.IMPORT_HISTORY_HEADER)
    history = imports.import_history(engine, round_code=round_code, actor=actor)
    if not history:
        views.empty(text.IMPORT_NO_HISTORY)
        return
    st.dataframe([h.row() for h in history], hide_index=True, key="import_history")
    revertible = {h.id: h for h in history if h.revertible}
    if not revertible:
        st.caption(text.IMPORT_NOTHING_TO_REVERT)
        return
    picked = st.selectbox(
        text.IMPORT_REVERT_PICK,
        list(revertible),
        format_func=lambda i: f"{i} · {revertible[i].file_names} · {revertible[i].actor}",
        key="import_revert_pick",
    )
    if st.button(text.IMPORT_REVERT_BUTTON, icon=ICON_UNDO, key="import_revert_ask"):
        st.session_state[REVERT_KEY] = picked
    asked = st.session_state.get(REVERT_KEY)
    if asked in revertible:
        st.warning(
            text.IMPORT_REVERT_ASK.format(id=asked, files=revertible[asked].file_names),
            icon=ICON_WARNING,
        )
        yes, no = st.columns(2)
        if yes.button(
            text.IMPORT_REVERT_CONFIRM, type="primary", icon=ICON_UNDO, key="import_revert_yes"
        ):
            st.session_state.pop(REVERT_KEY, None)
            imports.revert_import(engine, import_id=asked, actor=actor)
            st.cache_data.clear()
            st.session_state[DONE_KEY] = text.IMPORT_REVERTED.format(id=asked)
            _forget_preview()
            st.rerun()
        if no.button(text.IMPORT_CANCEL, icon=ICON_CANCEL, key="import_revert_no"):
            st.session_state.pop(REVERT_KEY, None)
            st.rerun()


def main() -> None:
    actor = access.require(Action.IMPORT_SCORES)
    st.title(text.IMPORT_TITLE)
    if done := st.session_state.pop(DONE_KEY, None):
        st.success(done, icon=ICON_OK)
    engine = data.engine()
    rounds = services.list_rounds(engine)
    if not rounds:
        views.empty(text.IMPORT_NO_ROUNDS)
        return
    by_code = {r.code: r for r in rounds}
    code = st.selectbox(
        text.IMPORT_ROUND_LABEL,
        list(by_code),
        index=_round_index(rounds),
        format_func=lambda c: text.IMPORT_ROUND_OPTION.format(
            code=c, status=by_code[c].status_label
        ),
        key="import_round",
    )
    info = by_code[code]
    if info.status != "scoring":
        st.warning(
            text.IMPORT_ROUND_CLOSED.format(code=code, status=info.status_label), icon=ICON_WARNING
        )

    st.subheader(text.IMPORT_TEMPLATE_HEADER)
    st.caption(text.IMPORT_TEMPLATE_HELP)
    _template_button(engine, info, actor)

    st.subheader(text.IMPORT_UPLOAD_HEADER)
    uploads = st.file_uploader(
        text.IMPORT_UPLOAD_LABEL,
        type=["xlsx", "xlsm", "xls", "ods"],
        accept_multiple_files=True,
        key=f"import_files_{st.session_state.get(UPLOADER_GEN_KEY, 0)}",
    )
    if not uploads:
        views.empty(text.IMPORT_UPLOAD_EMPTY)
    else:
        too_big = [u for u in uploads if u.size > MAX_MB * 1024 * 1024]
        for upload in too_big:
            st.error(
                text.IMPORT_TOO_BIG.format(
                    name=upload.name, size=upload.size / 2**20, limit=MAX_MB
                ),
                icon=ICON_ERROR,
            )
        if not too_big:
            preview = _preview(engine, code, actor, uploads)
            counts = preview.counts
            cols = st.columns(4)
            cols[0].metric(text.IMPORT_METRIC_NEW, counts.scores_new)
            cols[1].metric(text.IMPORT_METRIC_CHANGED, counts.scores_changed)
            cols[2].metric(text.IMPORT_METRIC_UNCHANGED, counts.scores_unchanged)
            cols[3].metric(text.IMPORT_METRIC_ISSUES, len(preview.issues))
            st.caption(
                text.IMPORT_COMMENTS_CAPTION.format(
                    new=counts.comments_new,
                    changed=counts.comments_changed,
                    unchanged=counts.comments_unchanged,
                )
            )
            if preview.ok:
                _show_ready(engine, preview, actor)
            else:
                _show_issues(preview)
    _show_history(engine, code, actor)


shell.require_entrypoint()
try:
    main()
except EvalcoreError as exc:  # app.py also catches these; the page runs alone in tests
    views.show_error(exc)
