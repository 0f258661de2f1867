"""The widgets whose choice outlives a page: round, method and brand pickers, filters.

Choices are kept under fixed session-state keys, so switching from 排名 to 品牌详情
keeps the round, method and brand the user picked. The round picker lives in the
sidebar, drawn by ``app.py`` on every run; page-level pickers use
``persist_state="session"`` so their value survives while another page is shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import streamlit as st

from evalcore import services
from ui import data, text

ROUND_KEY = "round_code"
METHOD_KEY = "method"
BRAND_KEY = "brand_code"
FILTER_KEYS = ("filter_unit", "filter_category", "filter_grade")


def round_picker(rounds: Sequence[services.RoundInfo]) -> services.RoundInfo | None:
    """Sidebar select box listing rounds as "2026 · 评分中"; None when there are none."""
    if not rounds:
        st.sidebar.caption(text.NO_ROUNDS_SHORT)
        st.session_state.pop(ROUND_KEY, None)
        return None
    by_code = {r.code: r for r in rounds}
    if st.session_state.get(ROUND_KEY) not in by_code:
        st.session_state.pop(ROUND_KEY, None)  # a deleted round: fall back to the newest
    code = st.sidebar.selectbox(
        text.ROUND_PICKER,
        list(by_code),
        format_func=lambda c: text.ROUND_OPTION.format(code=c, status=by_code[c].status_label),
        key=ROUND_KEY,
    )
    return by_code[code]


def selected_round() -> str | None:
    """The round chosen in the sidebar, else the newest (None: the database has no rounds)."""
    chosen = st.session_state.get(ROUND_KEY)
    if chosen is None and (rounds := data.rounds()):
        return rounds[0].code
    return chosen


def selected_method() -> str | None:
    """The aggregation method picked on 排名, or None for the round's own setting."""
    return st.session_state.get(METHOD_KEY)


def method_picker(default: str) -> str:
    """去掉最高最低分 / 算术平均 / 中位数; starts at the round's setting."""
    choice = st.segmented_control(
        text.METHOD_PICKER,
        list(text.METHOD_LABELS),
        default=default,
        format_func=text.METHOD_LABELS.__getitem__,
        key=METHOD_KEY,
        required=True,
        help=text.METHOD_HELP,
        persist_state="session",
    )
    return str(choice or default)


def ranking_filters(options: Mapping[str, Sequence[str]]) -> tuple[list[str], list[str], list[str]]:
    """Three multiselects (单位, 类型, 等次); empty means "all"."""
    labels = (text.FILTER_UNIT, text.FILTER_CATEGORY, text.FILTER_GRADE)
    chosen: list[list[str]] = []
    for column, key, label, name in zip(
        st.columns([3, 2, 2]), FILTER_KEYS, labels, ("unit", "category", "grade"), strict=True
    ):
        with column:
            stale = [v for v in st.session_state.get(key, []) if v not in options[name]]
            if stale:  # another round has other units: drop what no longer exists
                st.session_state[key] = [v for v in st.session_state[key] if v not in stale]
            chosen.append(
                st.multiselect(
                    label,
                    list(options[name]),
                    key=key,
                    placeholder=text.FILTER_PLACEHOLDER,
                    persist_state="session",
                )
            )
    return chosen[0], chosen[1], chosen[2]


def brand_picker(choices: Mapping[str, str]) -> str:
    """Select box of brands in ranking order ("1. 双红（市中心医院党委）")."""
    if st.session_state.get(BRAND_KEY) not in choices:
        st.session_state.pop(BRAND_KEY, None)
    code = st.selectbox(
        text.BRAND_PICKER,
        list(choices),
        format_func=choices.__getitem__,
        key=BRAND_KEY,
        persist_state="session",
    )
    return str(code)


def open_brand(brand_code: str) -> None:
    """Jump to 品牌详情 showing ``brand_code``."""
    st.session_state[BRAND_KEY] = brand_code
    st.switch_page("pages/brand.py")
