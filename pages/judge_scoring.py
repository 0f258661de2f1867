"""评委打分: the judge's worklist and one brand's score sheet (draft, submit, next).

What the judge types lives in widgets keyed per round/brand/item with
``persist_state="session"``, so reruns, switching brands and visiting other pages lose
nothing. Next to it the page keeps, per sheet, the token the values were loaded with;
a save hands that token back, so a change made elsewhere meanwhile is refused
instead of overwritten. Only this judge's own scores are ever loaded (blind judging).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from evalcore.errors import EvalcoreError
from evalcore.permissions import Action
from evalcore.services import judging
from ui import access, data, pickers, shell, text, views

#: Per sheet ("round/brand"): the SheetToken the widgets' values were loaded with.
TOKENS = "judging_tokens"
#: The outcome of the last save, shown once after the rerun: (sheet id, kind, message).
FLASH = "judging_flash"
STATUS_COLORS = {
    judging.SheetStatus.SUBMITTED: "green",
    judging.SheetStatus.DRAFT: "orange",
    judging.SheetStatus.NEW: "gray",
}


def brand_key(round_code: str) -> str:
    return f"judging_brand:{round_code}"


def item_key(round_code: str, brand_code: str, item: str) -> str:
    return f"score:{round_code}:{brand_code}:{item}"


def comment_key(round_code: str, brand_code: str) -> str:
    return f"comment:{round_code}:{brand_code}"


def num(value: float) -> str:
    return f"{value:g}"


def typed_values(round_code: str, brand_code: str, items: list[str]) -> dict[str, Any]:
    """What the widgets of one sheet hold now (only those that exist)."""
    state = st.session_state
    return {
        code: state[key]
        for code in items
        if (key := item_key(round_code, brand_code, code)) in state
    }


def load_into_widgets(sheet: judging.Sheet) -> None:
    """Put the stored sheet into its widgets and remember the token it came with."""
    r, b = sheet.round.code, sheet.brand.code
    for code, value in sheet.values.items():
        st.session_state[item_key(r, b, code)] = value
    st.session_state[comment_key(r, b)] = sheet.comment
    st.session_state[TOKENS][f"{r}/{b}"] = sheet.loaded


def discard(round_code: str, brand_code: str, items: list[str]) -> None:
    """刷新: forget this sheet's typed values and token; the next run reloads them."""
    for code in items:
        st.session_state.pop(item_key(round_code, brand_code, code), None)
    st.session_state.pop(comment_key(round_code, brand_code), None)
    st.session_state[TOKENS].pop(f"{round_code}/{brand_code}", None)


def go_next(round_code: str, entries: list[tuple[str, str]], current: str) -> None:
    following = judging.next_brand(entries, current)
    if following:
        st.session_state[brand_key(round_code)] = following


def save(round_code: str, brand_code: str, items: list[str], submit: bool) -> None:
    """保存草稿 / 提交, as a callback: it runs before the page, which then shows the result.

    The user is resolved from the database again here (a callback runs outside
    ``app.py``); the service checks permission, round status and the token itself.
    """
    sheet_id = f"{round_code}/{brand_code}"
    loaded = st.session_state.get(TOKENS, {}).get(sheet_id)
    if loaded is None:  # the sheet was never shown in this tab: nothing to compare with
        st.session_state[FLASH] = (sheet_id, "error", judging.CONFLICT)
        return
    try:
        user = access.actor()
        if user is None:
            return  # logged out meanwhile: the page run that follows shows the login
        result = judging.save_sheet(
            data.engine(),
            actor=user,
            round_code=round_code,
            brand_code=brand_code,
            values=typed_values(round_code, brand_code, items),
            comment=st.session_state.get(comment_key(round_code, brand_code)) or "",
            loaded=loaded,
            submit=submit,
        )
    except EvalcoreError as exc:
        st.session_state[FLASH] = (sheet_id, "error", exc.message)
        return
    st.session_state[TOKENS][sheet_id] = result.sheet.loaded
    if not result.saved:
        st.session_state[FLASH] = (sheet_id, "info", text.SCORING_NOTHING)
    elif result.submitted:
        total = num(result.sheet.totals.total)
        message = text.SCORING_SUBMITTED.format(brand=result.sheet.brand.name, total=total)
        st.session_state[FLASH] = (sheet_id, "success", message)
    else:
        message = text.SCORING_SAVED.format(n=result.changed)
        st.session_state[FLASH] = (sheet_id, "success", message)


shell.require_entrypoint()
st.title(text.SCORING_TITLE)
user = access.require(Action.SCORE)
if user.judge_id is None:  # admins may do everything else, but only a judge scores
    st.error(text.SCORING_NOT_A_JUDGE, icon=":material/block:")
    st.stop()
round_code = pickers.selected_round()
if round_code is None:
    views.empty(text.NO_ROUNDS)
    st.stop()

engine = data.engine()
work = judging.worklist(engine, actor=user, round_code=round_code)
tokens: dict[str, judging.SheetToken] = st.session_state.setdefault(TOKENS, {})
st.caption(
    text.SCORING_CAPTION.format(
        judge=work.judge_name,
        code=work.judge_code,
        round=work.round.code,
        status=work.round.status_label,
    )
)
if not work.round_open:
    st.info(text.SCORING_READONLY.format(status=work.round.status_label), icon=text.ICON_LOCKED)
if work.size == 0:
    views.empty(text.SCORING_NO_BRANDS)
    st.stop()

# -- worklist: progress, every brand's state, the picker -----------------------------------
st.progress(
    work.fraction,
    text=text.SCORING_PROGRESS.format(
        done=work.done,
        size=work.size,
        draft=work.count(judging.SheetStatus.DRAFT),
        new=work.count(judging.SheetStatus.NEW),
    ),
)
if work.done == work.size:
    st.success(text.SCORING_ALL_DONE, icon=text.ICON_SUBMITTED)
with st.expander(text.SCORING_WORKLIST.format(n=work.size), icon=":material/checklist:"):
    st.dataframe(
        work.entries,
        hide_index=True,
        column_order=list(text.SCORING_COLUMNS),
        column_config={
            **{c: st.column_config.Column(label) for c, label in text.SCORING_COLUMNS.items()},
            "total": st.column_config.NumberColumn(text.SCORING_COLUMNS["total"], format="%.1f"),
        },
    )

items = work.rubric.item_codes
labels = dict(zip(work.entries["brand_code"], work.entries["brand"], strict=True))
pick = brand_key(round_code)
if st.session_state.get(pick) not in labels:
    st.session_state[pick] = work.first_open()


def has_unsaved(code: str) -> bool:
    token = tokens.get(f"{round_code}/{code}")
    typed = typed_values(round_code, code, items)
    comment = st.session_state.get(comment_key(round_code, code)) or ""
    return token is not None and bool(typed) and judging.unsaved(token, typed, comment)


# Option labels never change while the page is open: the browser identifies the chosen
# option by its label, so a label that changed under it (a status after a save) would
# leave the box showing stale text. States are in the table above and the badge below.
brand_code = st.selectbox(
    text.SCORING_PICKER,
    work.codes,
    format_func=lambda code: text.SCORING_OPTION.format(code=code, name=labels[code]),
    key=pick,
    persist_state="session",
)
pending = [code for code in work.codes if has_unsaved(code)]
if pending:
    st.caption(text.SCORING_UNSAVED_LIST.format(codes="、".join(pending)))

# -- the sheet: stored values, or what the judge typed since --------------------------------
sheet = judging.load_sheet(engine, actor=user, round_code=round_code, brand_code=brand_code)
sheet_id = f"{round_code}/{brand_code}"
ckey = comment_key(round_code, brand_code)
token = tokens.get(sheet_id)
typed = typed_values(round_code, brand_code, items)
stale = False
if token is None or len(typed) < len(items) or ckey not in st.session_state:
    load_into_widgets(sheet)
elif token != sheet.loaded:
    # Changed elsewhere: follow silently unless the judge has typed something here.
    if sheet.writable and judging.unsaved(token, typed, st.session_state[ckey] or ""):
        stale = True
    else:
        load_into_widgets(sheet)
elif not sheet.writable:
    load_into_widgets(sheet)  # read-only shows what is stored, never stale typing
typed = typed_values(round_code, brand_code, items)
totals = judging.sheet_totals(sheet.rubric, typed)

profile = sheet.brand
head, badge = st.columns([5, 1], vertical_alignment="center")
head.subheader(views.md(f"{profile.code} {profile.name}"), anchor=False)
with badge:
    st.badge(sheet.status.label, color=STATUS_COLORS[sheet.status])
if profile.slogan:
    st.markdown(f"*“{views.md(profile.slogan)}”*")
st.markdown(
    f"**{text.PROFILE_UNIT}**：{views.md(profile.unit)}"
    f"　　**{text.PROFILE_BRANCH}**：{views.md(profile.branch)}"
    f"　　**{text.PROFILE_CATEGORY}**：{views.md(profile.category or text.PROFILE_NONE)}"
)
if profile.description:
    st.markdown(views.md(profile.description))

if stale:
    st.warning(text.SCORING_STALE, icon=text.ICON_WARNING)
    st.button(
        text.SCORING_REFRESH,
        key="judging_refresh_stale",
        icon=":material/refresh:",
        on_click=discard,
        args=(round_code, brand_code, items),
    )
if sheet.status is judging.SheetStatus.SUBMITTED:
    st.success(text.SCORING_SUBMITTED_NOTICE, icon=text.ICON_SUBMITTED)

rubric = sheet.rubric
k1, k2, k3 = st.columns(3)
k1.metric(
    text.SCORING_TOTAL,
    text.SCORING_TOTAL_VALUE.format(total=num(totals.total), max=num(rubric.max_total)),
)
k2.metric(text.SCORING_BONUS_METRIC, num(totals.bonus))
k3.metric(
    text.SCORING_FILLED,
    text.SCORING_FILLED_VALUE.format(filled=totals.filled, required=totals.required),
)


def item_inputs(sheet_items: tuple[Any, ...]) -> None:
    """One number input per sub-indicator, three to a row, 评分标准 under each."""
    for start in range(0, len(sheet_items), 3):
        for column, item in zip(st.columns(3), sheet_items[start : start + 3], strict=False):
            with column:
                st.number_input(
                    text.SCORING_ITEM.format(label=item.label, max=num(item.max_points)),
                    min_value=0.0,
                    max_value=float(item.max_points),
                    value=None,
                    step=0.5,
                    format="%.1f",
                    key=item_key(round_code, brand_code, item.code),
                    placeholder=text.SCORING_BLANK,
                    disabled=not sheet.writable,
                    persist_state="session",
                )
                if item.guide:
                    st.caption(text.SCORING_GUIDE.format(guide=views.md(item.guide)))
                if item.deductions:
                    st.caption(text.SCORING_DEDUCTIONS.format(deductions=views.md(item.deductions)))


for criterion in rubric.criteria:
    title = text.SCORING_CRITERION.format(
        label=criterion.label,
        full=criterion.full_label,
        subtotal=num(totals.criteria[criterion.code]),
        max=num(criterion.max_points),
    )
    with st.expander(title, expanded=True, key=f"judging_group:{criterion.code}"):
        item_inputs(criterion.items)
if rubric.bonus_items:
    title = text.SCORING_BONUS.format(bonus=num(totals.bonus), cap=num(rubric.effective_bonus_cap))
    with st.expander(title, expanded=True, key="judging_group:bonus"):
        st.caption(text.SCORING_BONUS_HINT)
        item_inputs(rubric.bonus_items)

threshold = sheet.comment_below
comment = st.text_area(
    text.SCORING_COMMENT,
    key=ckey,
    max_chars=judging.COMMENT_MAX,
    disabled=not sheet.writable,
    help=text.SCORING_COMMENT_HELP.format(threshold=num(threshold)) if threshold else None,
    persist_state="session",
)
if sheet.writable and sheet.comment_required(totals.total) and not (comment or "").strip():
    st.warning(
        text.SCORING_COMMENT_NEEDED.format(total=num(totals.total), threshold=num(threshold or 0)),
        icon=text.ICON_WARNING,
    )

if sheet.writable:
    st.caption(text.SCORING_SUBMIT_HINT)
b1, b2, b3, _ = st.columns([1, 1, 1, 4])
b1.button(
    text.SCORING_SAVE,
    key="judging_save",
    icon=":material/save:",
    disabled=not sheet.writable,
    on_click=save,
    args=(round_code, brand_code, items, False),
    width="stretch",
)
b2.button(
    text.SCORING_SUBMIT,
    key="judging_submit",
    type="primary",
    icon=":material/send:",
    disabled=not sheet.writable,
    on_click=save,
    args=(round_code, brand_code, items, True),
    width="stretch",
)
b3.button(
    text.SCORING_NEXT,
    key="judging_next",
    icon=":material/arrow_forward:",
    on_click=go_next,
    args=(round_code, list(zip(work.codes, work.entries["status"], strict=True)), brand_code),
    width="stretch",
)

flash = st.session_state.pop(FLASH, None)
if flash and flash[0] == sheet_id:
    _, kind, message = flash
    if kind == "error":
        st.error(message, icon=":material/error:")
        if message == judging.CONFLICT:
            st.button(
                text.SCORING_REFRESH,
                key="judging_refresh",
                icon=":material/refresh:",
                on_click=discard,
                args=(round_code, brand_code, items),
            )
    elif kind == "info":
        st.info(message, icon=text.ICON_EMPTY)
    else:
        st.success(message, icon=text.ICON_SUBMITTED)
