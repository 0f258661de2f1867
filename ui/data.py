"""Cached access to the services: the only place the UI opens the database or aggregates.

The engine is cached per database URL with ``st.cache_resource``. Results are cached
per (URL, round code, method, round revision): the revision is bumped by every write,
so a cheap ``round_info`` read per rerun is enough to notice a change made by another
session or another replica. ``st.cache_resource`` hands out the same immutable objects
without pickling them; pages must never mutate the frames they get.
"""

from __future__ import annotations

import streamlit as st

from evalcore import services
from evalcore.permissions import Action, Actor, require
from evalcore.services import accounts
from evalcore.services import database as database_service
from evalcore.services import results as results_service


def database_url() -> str:
    """The database URL in force (environment, else the default): the caches' key."""
    return services.database_url()


@st.cache_resource(show_spinner="正在打开数据库…")
def _open(url: str) -> services.DatabaseState:
    """Open (migrate, and seed an empty database with the demo) once per process."""
    return services.open_database(url)


def database() -> services.DatabaseState:
    """The database in force (``EVALCORE_DATABASE_URL``), opened on first use."""
    return _open(database_url())


def engine():  # -> sqlalchemy.Engine; the UI layer does not import sqlalchemy
    """The shared engine, for service calls that take one."""
    return database().engine


def demo_dataset() -> str | None:
    """Read fresh each run: an import of real data may clear the demo flag meanwhile."""
    return database_service.demo_dataset(engine())


def rounds() -> list[services.RoundInfo]:
    """All rounds, newest first (one small query; not cached so new rounds show at once)."""
    return services.list_rounds(engine())


def round_info(round_code: str) -> services.RoundInfo:
    """A round's identity, status and revision (one small query, never cached)."""
    return results_service.round_info(engine(), round_code=round_code)


@st.cache_resource(max_entries=32, show_spinner="正在汇总评分…")
def _results(
    url: str, round_code: str, method: str | None, revision: int, _actor: Actor
) -> services.RoundResults:
    """``revision`` is only part of the key: a new revision means new scores.

    ``_actor`` is not part of the key: results are the same for everyone allowed to see
    them, and :func:`results` has the service check the user before every cache hit.
    """
    return services.round_results(
        _open(url).engine, actor=_actor, round_code=round_code, method=method
    )


def results(actor: Actor, round_code: str, method: str | None = None) -> services.RoundResults:
    """A round's aggregated results, recomputed only when the round's revision moved.

    The permission check runs on every call, cached or not. The round's own method is
    computed (and cached) under ``None``; asking for it by name returns that same
    object instead of aggregating the round a second time.
    """
    url = database_url()
    info = round_info(round_code)
    require(actor, Action.VIEW_RESULTS, info.status)
    default = _results(url, round_code, None, info.revision, actor)
    if method is None or method == default.method:
        return default
    return _results(url, round_code, method, info.revision, actor)


def progress(actor: Actor, round_code: str) -> services.RoundProgress:
    """Counts only (brands, judges, completed sheets): all a viewer sees before publication."""
    return services.round_progress(engine(), actor=actor, round_code=round_code)


@st.cache_resource(max_entries=128, show_spinner=False)
def _brand_detail(
    url: str,
    round_code: str,
    method: str,
    revision: int,
    brand_code: str,
    _computed: services.RoundResults,
    _actor: Actor,
) -> services.BrandDetail:
    """Keyed like the results it drills into; ``_computed`` (unhashed) is those results."""
    return services.brand_detail(_computed, _open(url).engine, actor=_actor, brand_code=brand_code)


def brand_detail(
    actor: Actor, results: services.RoundResults, brand_code: str
) -> services.BrandDetail:
    """One brand of ``results`` in detail (its judges, comments and peer profile)."""
    require(actor, Action.VIEW_JUDGE_SCORES, results.round.status)
    return _brand_detail(
        database_url(),
        results.round.code,
        results.method,
        results.round.revision,
        brand_code,
        _computed=results,
        _actor=actor,
    )


def demo_accounts() -> list[tuple[str, str, str]]:
    """Demo accounts still usable with their published passwords (for the login page)."""
    return accounts.demo_accounts(engine())
