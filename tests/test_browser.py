"""Real-browser journeys: ``streamlit run app.py`` driven by Playwright and Debian Chromium.

Skipped on a laptop without ``/usr/bin/chromium``; in CI (``CI`` set) a missing
Chromium fails the run instead. Never run ``playwright install``: it downloads a browser.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.request import urlopen

import pytest

from evalcore import services
from evalcore.rubric import default_rubric
from tests.conftest import ROOT, require
from tests.factories import OPERATOR

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 30_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_healthy(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited early:\n{log.read_text(errors='replace')}")
        try:
            with urlopen(f"{base}/_stcore/health", timeout=1) as resp:
                if resp.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"streamlit did not become healthy:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'e2e.db'}"


@pytest.fixture(scope="module")
def server(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a free port over a fresh SQLite file (it seeds the demo on start)."""
    require(os.path.exists(CHROMIUM), "Chromium at " + CHROMIUM)
    port = free_port()
    log = tmp_path_factory.mktemp("log") / "streamlit.log"
    env = dict(os.environ, EVALCORE_DATABASE_URL=db_url)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.headless",
                "true",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--browser.gatherUsageStats",
                "false",
                "--server.fileWatcherType",
                "none",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, proc, log)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1400, "height": 1600}, locale="zh-CN")
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    yield tab
    context.close()


def log_in(page, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录").click()


def test_ranking_page_deep_link_shows_leader_and_charts(server, page, db_url):
    """Opened first thing after start: the legacy pages/ mode must not bypass app.py,
    so the deep link meets the login form first, then shows the ranking."""
    page.goto(f"{server}/ranking")
    page.get_by_role("heading", name="登录").wait_for()
    assert page.get_by_role("heading", name="评审排名").count() == 0
    log_in(page, "admin", "admin123")
    page.get_by_role("link", name="排名").click()
    page.get_by_role("heading", name="评审排名").wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    leader = services.round_results(
        services.open_database(db_url).engine, actor=OPERATOR, round_code="2026"
    ).table.iloc[0]
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.wait_for()
    # The data grid draws on a canvas; its accessible table mirrors the cells.
    page.wait_for_function(
        "name => [...document.querySelectorAll(\"[data-testid='stDataFrame'] [role='gridcell']\")]"
        ".some(c => c.textContent.includes(name))",
        arg=leader["brand"],
    )
    page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot').length >= 2"
        " && document.querySelectorAll('.js-plotly-plot .bars path').length >= 26"
    )
    assert page.get_by_text("评审轮次").count() >= 1  # the sidebar of app.py is there
    assert page.get_by_text("演示数据").count() >= 1
    assert page.locator("[data-testid='stException']").count() == 0


def test_round_choice_survives_navigation_to_brand_detail(server, page):
    page.goto(server)
    log_in(page, "viewer", "viewer123")
    page.get_by_role("heading", name="评审总览").wait_for()
    page.get_by_text("评审结果发布后方可查看").wait_for()  # 2026 is still being scored
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").click()
    page.get_by_role("option", name="2025 · 已发布").click()
    page.get_by_text("2025年度“一支部一品牌”评审（已发布）", exact=False).first.wait_for()
    page.locator(".js-plotly-plot").first.wait_for()  # published: a viewer sees results
    page.get_by_role("link", name="品牌详情").click()
    page.get_by_role("heading", name="品牌详情").wait_for()
    page.get_by_text("2025年度“一支部一品牌”评审（已发布）", exact=False).first.wait_for()
    page.get_by_text("高分剔除").first.wait_for()  # strip-plot legend and judge table
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 2")
    assert page.locator("[data-testid='stException']").count() == 0


def test_judge_scores_then_admin_locks_publishes_and_the_ranking_changes(server, page, db_url):
    """The issue-4 journey. Runs last in this module: it publishes round 2026."""
    engine = services.open_database(db_url).engine
    brand = "B026"  # the demo judge (王建华) has not scored the last three brands yet
    before = services.round_results(engine, actor=OPERATOR, round_code="2026").table
    before_total = before.set_index("brand_code").loc[brand, "total"]

    page.goto(server)
    log_in(page, "judge", "judge123")
    page.get_by_role("heading", name="评委打分").wait_for()
    page.locator("[data-testid='stSelectbox']").filter(has_text="选择品牌").click()
    page.keyboard.type(brand)  # the option list is virtualised: search, then pick
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=brand).first.wait_for()
    for _, item in default_rubric().scored_items():
        if item.code.startswith("bonus."):
            continue
        label = f"{item.label}（0–{item.max_points:g} 分）"
        # While a rerun repaints, Streamlit may briefly show the old input beside the new.
        page.wait_for_function(
            'label => document.querySelectorAll(`input[aria-label="${label}"]`).length === 1',
            arg=label,
        )
        field = page.get_by_label(label)
        field.fill(f"{item.max_points:g}")
        field.press("Tab")
    page.get_by_text("18 / 18").first.wait_for()  # every sub-indicator filled
    page.get_by_role("button", name="提交").click()
    page.get_by_text("已提交「").first.wait_for()
    page.get_by_role("button", name="退出登录").click()

    log_in(page, "admin", "admin123")
    page.get_by_role("link", name="轮次管理").click()
    for move, status in (("锁定", "已锁定"), ("发布", "已发布")):
        page.get_by_role("button", name=move).first.click()
        # the message of this move, not the previous one still on screen
        page.get_by_text(f"改为「{status}」").first.wait_for()
    page.get_by_role("link", name="排名").click()
    page.get_by_role("heading", name="评审排名").wait_for()

    after = services.round_results(engine, actor=OPERATOR, round_code="2026")
    assert after.round.status == "published"
    after_total = after.table.set_index("brand_code").loc[brand, "total"]
    assert after_total != before_total  # the judge's sheet now counts
    page.wait_for_function(
        "value => [...document.querySelectorAll(\"[data-testid='stDataFrame'] [role='gridcell']\")]"
        ".some(c => c.textContent.trim() === value)",
        arg=f"{after_total:.2f}",
    )
    assert page.locator("[data-testid='stException']").count() == 0
