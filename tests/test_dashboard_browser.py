"""The dashboard in a real browser: Playwright drives Debian's chromium against the running server.

Every chart is drawn with the seeded numbers, nothing is requested from anywhere but Candor, the
console stays clean, a small group reads "not enough answers yet", and screenshots are kept in the
test's temporary directory. Without /usr/bin/chromium (`apt-get install -y chromium`; .ci/run
installs it) the test is skipped with one line.
"""

# ruff: noqa: E402  (the browser is looked for before Playwright is imported)
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode, urlparse

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "chromium is not installed (/usr/bin/chromium): apt-get install -y chromium", allow_module_level=True
    )

from playwright.async_api import async_playwright

from bot.server import STORE
from handlers.reports import tokens
from tests.support import seed
from tests.support.candor import TEAM as SLACK_TEAM
from tests.test_reports import NOW

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
async def browser():
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield launched
        await launched.close()


@pytest.fixture
async def seeded(candor, clock):
    clock.t = NOW  # the seeded months and the pilot's dates are written for this day
    with candor.app[STORE].transaction() as tx:
        seed.team_dataset(tx, seed.Where("slack", SLACK_TEAM, "CTEAM"), clock.now())
        seed.small_team(tx, seed.Where("slack", SLACK_TEAM, "CSMALL"), clock.now())
    return candor


def link(candor, clock, **query: str) -> str:
    token = tokens.sign(
        tokens.key_for(candor.settings), platform="slack", workspace=SLACK_TEAM, now=clock.now()
    )
    return f"{candor.url}/dashboard?{urlencode({'token': token, **query})}"


async def open_page(browser, url: str):
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    requested: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None,
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
    page.on("request", lambda r: requested.append(r.url))
    response = await page.goto(url)
    assert response is not None and response.status == 200
    await page.wait_for_load_state("networkidle")
    return page, problems, requested


async def charts_on(page) -> dict[str, dict]:
    return await page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('figure.chart')].map(f => {
            const svg = f.querySelector('svg');
            const box = svg ? svg.getBoundingClientRect() : null;
            return [f.dataset.key, {
                state: f.dataset.state,
                values: f.dataset.values,
                shown: [...f.querySelectorAll('text.value')].map(t => t.textContent.trim()).filter(Boolean),
                width: box ? box.width : 0,
                height: box ? box.height : 0,
                text: f.innerText,
            }];
        }))"""
    )


async def test_every_chart_renders_the_seeded_numbers_with_nothing_from_elsewhere(
    seeded, clock, browser, tmp_path
):
    page, problems, requested = await open_page(browser, link(seeded, clock, team="CTEAM"))
    charts = await charts_on(page)
    drawn = {k: c for k, c in charts.items() if c["state"] == "shown"}
    assert len(drawn) >= 8
    for key, chart in drawn.items():
        assert chart["width"] > 200 and chart["height"] > 100, key  # really laid out and drawn
        expected = [v for v in chart["values"].split(",") if v]
        assert len(chart["shown"]) >= len(expected) > 0, key  # a label on every point with a value
    # the numbers, as the seeded dataset makes them (tests/support/seed.py)
    assert charts["pulse.score"]["shown"] == ["5.18"]
    assert charts["pulse.response_rate"]["shown"] == ["91.7%"]  # 11 answers of 12 invited, in May
    assert charts["kudos.total"]["shown"] == ["9"]  # June: 9 kudos from 6 givers (May's 3 withheld)
    assert charts["kudos.candour"]["shown"] == ["7"]
    assert charts["kudos.behaviour"]["values"] == ",,,,,9"  # May withheld: a gap, not zero
    assert sorted(charts["kudos.behaviour"]["shown"]) == ["2", "3", "4"]
    assert charts["checkins.response_rate"]["shown"] == ["66.7%", "100%"]  # May: 12 of 3 × 6; June: 6 of 6
    assert "5.18" in charts["pulse.score"]["text"]
    host = urlparse(seeded.url).netloc
    assert requested and all(urlparse(u).netloc == host for u in requested), requested
    assert problems == []
    await page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000


async def test_a_small_group_reads_not_enough_answers_yet(seeded, clock, browser, tmp_path):
    page, problems, _ = await open_page(browser, link(seeded, clock, team="CSMALL"))
    charts = await charts_on(page)
    assert charts["pulse.score"]["state"] == "withheld"
    assert charts["pulse.score"]["text"].strip().endswith("not enough answers yet")
    assert charts["pulse.score"]["shown"] == [] and charts["pulse.score"]["width"] == 0
    assert charts["kudos.total"]["state"] == "withheld"  # two people gave kudos there
    assert problems == []
    await page.screenshot(path=str(tmp_path / "small-team.png"), full_page=True)


async def test_the_pilot_view_prints_on_one_page(seeded, clock, browser, tmp_path):
    page, problems, _ = await open_page(
        browser, link(seeded, clock, team="CTEAM", view="pilot", start="2026-05-15")
    )
    rows = await page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('tr[data-key]')].map(
            r => [r.dataset.key, [...r.querySelectorAll('td.num')].map(td => td.textContent)]))"""
    )
    assert rows["pulse.score"] == ["5.00 of 7", "5.40 of 7", "+0.40"]
    charts = await charts_on(page)
    assert charts["pulse.score"]["shown"] == ["5", "5.4"]
    assert problems == []
    await page.emulate_media(media="print")
    assert await page.locator("form").first.is_hidden()  # the print has the figures, not the controls
    pdf = await page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1  # one A4 page, as a manager prints it
    await page.screenshot(path=str(tmp_path / "pilot.png"), full_page=True)


async def test_an_expired_link_shows_a_clear_page(seeded, clock, browser):
    url = link(seeded, clock)
    clock.advance(3600)
    page = await browser.new_page()
    response = await page.goto(url)
    assert response is not None and response.status == 403
    assert "This dashboard link has expired." in await page.inner_text("main")
