"""The dashboard over real HTTP on the running server, its signed links, and Slack's Home tab.

The browser test (tests/test_dashboard_browser.py) checks what a person sees; these check what the
server answers: who gets in, what the page holds, and that nothing comes from elsewhere.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlparse

import pytest

from bot.server import STORE
from handlers.reports import tokens
from tests.support import seed
from tests.support.candor import TEAM as SLACK_TEAM
from tests.support.candor import blocks_text
from tests.test_reports import NOW

TEAM = seed.Where("slack", SLACK_TEAM, "CTEAM")
SMALL = seed.Where("slack", SLACK_TEAM, "CSMALL")


@pytest.fixture
def settings_overrides():
    return {"admins": frozenset({"UADMIN"}), "public_url": "https://candor.example.com"}


@pytest.fixture
async def seeded(candor, slack, clock):
    clock.t = NOW  # the seeded months and the pilot's dates are written for this day
    slack.add_user("UADMIN", "ada")
    with candor.app[STORE].transaction() as tx:
        seed.team_dataset(tx, TEAM, clock.now())
        seed.small_team(tx, SMALL, clock.now())
    return candor


def token_for(candor, clock, workspace: str = SLACK_TEAM, now: float | None = None) -> str:
    key = tokens.key_for(candor.settings)
    return tokens.sign(key, platform="slack", workspace=workspace, now=clock.now() if now is None else now)


async def get(candor, query: dict | str) -> tuple[int, str, dict]:
    params = query if isinstance(query, dict) else parse_qs(query)
    async with candor.http.get(candor.url + "/dashboard", params=params) as response:
        return response.status, await response.text(), dict(response.headers)


def figures(html: str) -> dict[str, tuple[str, str]]:
    """data-key → (state, data-values) of every chart on the page."""
    return {
        m.group(1): (m.group(3), m.group(2))
        for m in re.finditer(r'data-key="([^"]+)" data-values="([^"]*)" data-state="(\w+)"', html)
    }


async def test_a_valid_link_shows_a_chart_for_every_report_figure(seeded, clock):
    status, html, headers = await get(seeded, {"token": token_for(seeded, clock), "team": "CTEAM"})
    assert status == 200
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert headers["Referrer-Policy"] == "no-referrer" and headers["Cache-Control"] == "no-store"
    charts = figures(html)
    for key in (
        "speakup.rate",
        "speakup.ack_within_7d",
        "kudos.total",
        "kudos.candour",
        "kudos.behaviour",
        "checkins.response_rate",
        "agreements.kept_on_time",
        "pulse.score",
        "pulse.response_rate",
    ):
        assert key in charts, key
    assert charts["pulse.score"] == ("shown", ",,,,5.18,")  # both rounds closed in May
    assert charts["kudos.total"] == ("withheld", ",,,,,") or charts["kudos.total"][1].endswith(",9")
    assert charts["speakup.ack_within_7d"][0] in ("shown", "withheld")
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org", "")
    assert "https://" not in html


async def test_a_small_group_shows_not_enough_answers_yet_instead_of_figures(seeded, clock):
    status, html, _ = await get(seeded, {"token": token_for(seeded, clock), "team": "CSMALL"})
    assert status == 200
    charts = figures(html)
    assert charts["pulse.score"] == ("withheld", ",,,,,")
    assert 'data-key="pulse.score"' in html
    pulse = html.split('data-key="pulse.score"')[1].split("</figure>")[0]
    assert "not enough answers yet" in pulse and "<svg" not in pulse
    kudos = html.split('data-key="kudos.total"')[1].split("</figure>")[0]
    assert "not enough data yet (fewer than 5 people giving kudos" in kudos
    assert "counts only the teams whose own figure is shown" not in html


async def test_the_whole_workspace_says_it_counts_only_the_teams_shown(seeded, clock):
    status, html, _ = await get(seeded, {"token": token_for(seeded, clock)})
    assert status == 200
    assert "The whole workspace counts only the teams whose own figure is shown." in html


async def test_the_pilot_view_sets_safety_beside_process_before_and_after(seeded, clock):
    token = token_for(seeded, clock)
    status, html, _ = await get(
        seeded, {"token": token, "team": "CTEAM", "view": "pilot", "start": "2026-05-15"}
    )
    assert status == 200
    assert "Safety indicators" in html and "Process and outcome indicators" in html
    rows = dict(re.findall(r'<tr data-key="([^"]+)">(.*?)</tr>', html))
    assert set(rows) == {
        "pulse.score",
        "speakup.rate",
        "kudos.candour",
        "reviews.mean_quality",
        "reviews.actions_on_time",
        "agreements.kept_on_time",
    }
    cells = lambda key: re.findall(r'<td class="num">([^<]*)</td>', rows[key])  # noqa: E731
    assert cells("pulse.score") == ["5.00 of 7", "5.40 of 7", "+0.40"]  # 1 May before, 31 May after
    # The five reviews all came after the start: before, the figure is withheld, never a number,
    # and no change is claimed against it.
    assert cells("reviews.mean_quality") == ["fewer than 5 reviews, not shown to protect anonymity", "80", ""]
    assert cells("reviews.actions_on_time")[1:] == ["83.3%", ""]
    assert "@media print" in html


@pytest.mark.parametrize(
    ("mutate", "title"),
    [
        (lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), "Link not valid"),  # a forged signature
        (lambda t: "x" + t, "Link not valid"),
        (lambda t: "", "Link not valid"),
        (lambda t: "a.b.c", "Link not valid"),
        (lambda t: t.split(".")[0] + "." + "A" * 43, "Link not valid"),
        (lambda t: "ey" * 300 + "." + "A" * 43, "Link not valid"),
    ],
)
async def test_a_forged_or_altered_link_gets_403_and_a_clear_page(seeded, clock, mutate, title):
    status, html, headers = await get(seeded, {"token": mutate(token_for(seeded, clock))})
    assert status == 403
    assert f"<title>{title}</title>" in html and "Ask Candor for a new one" in html
    assert "Kudos" not in html and headers["Content-Security-Policy"].startswith("default-src 'none'")


async def test_a_link_signed_with_another_key_or_for_another_workspace_shows_nothing_of_this_one(
    seeded, clock
):
    other_key = tokens.sign(b"k" * 32, platform="slack", workspace=SLACK_TEAM, now=clock.now())
    assert (await get(seeded, {"token": other_key}))[0] == 403
    status, html, _ = await get(
        seeded, {"token": token_for(seeded, clock, workspace="TOTHER"), "team": "CTEAM"}
    )
    assert status == 400 and "no team with that id" in html  # tied to its workspace: CTEAM is not there
    status, html, _ = await get(seeded, {"token": token_for(seeded, clock, workspace="TOTHER")})
    assert status == 200 and "5.18" not in html and figures(html)["pulse.score"][0] == "withheld"


async def test_a_link_expires_after_one_hour(seeded, clock):
    token = token_for(seeded, clock)
    clock.advance(3599)
    assert (await get(seeded, {"token": token}))[0] == 200
    clock.advance(1)
    status, html, _ = await get(seeded, {"token": token})
    assert status == 403 and "This dashboard link has expired." in html


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"team": "CNOWHERE"}, "no team with that id"),
        ({"view": "pilot", "start": "soon"}, "needs its start date"),
        ({"view": "pilot"}, "needs its start date"),
        ({"view": "pilot", "start": "2099-01-01"}, "cannot be in the future"),
        ({"view": "sideways"}, "two views"),
    ],
)
async def test_bad_choices_get_400_and_say_why(seeded, clock, query, says):
    status, html, _ = await get(seeded, {"token": token_for(seeded, clock), **query})
    assert status == 400 and says in html


async def test_user_text_in_the_page_is_escaped(seeded, slack, clock):
    """A channel's name comes from the platform: shown as text, never as markup."""
    slack.answer_always(
        "conversations.info", ok=True, channel={"id": "CTEAM", "name": "<script>alert(1)</script>"}
    )
    status, html, _ = await get(seeded, {"token": token_for(seeded, clock)})
    assert status == 200 and "<script>" not in html and "&lt;script&gt;" in html


# --- from Slack -----------------------------------------------------------------------------------
async def test_an_admin_gets_the_link_by_private_message_and_it_opens(seeded, slack, clock):
    status, body = await seeded.command("/candor", "dashboard", user="UBOB")
    assert status == 200 and "Only Candor admins" in json.dumps(body)
    status, body = await seeded.command("/candor", "dashboard", user="UADMIN")
    assert "I sent you the dashboard link in a private message" in json.dumps(body)
    [dm] = [c.params for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == "UADMIN"]
    link = re.search(r"https://candor\.example\.com/dashboard\?token=[A-Za-z0-9_.%-]+", blocks_text(dm))
    assert link is not None
    token = parse_qs(urlparse(link.group()).query)["token"][0]
    assert (await get(seeded, {"token": token}))[0] == 200
    assert not any(token in row["payload"] for row in seeded.outbox())  # never kept in the outbox


async def test_the_team_report_over_slack_is_ephemeral(seeded, slack):
    slack.members["CTEAM"] = [f"U{name.upper()}" for name in seed.TEAM]
    for name in seed.TEAM:
        slack.add_user(f"U{name.upper()}", name)
    status, body = await seeded.command("/candor", "report 30d")
    assert status == 200 and body["response_type"] == "ephemeral"
    assert "Team report, last 30 days" in blocks_text(body) and "Kudos for #feedback: *4*" in blocks_text(
        body
    )
    status, body = await seeded.command("/candor", "report 45d")
    assert "the period is 30d or 90d" in blocks_text(body)


async def test_the_home_tab_shows_a_persons_own_and_an_admins_report(seeded, slack, clock):
    event = {"type": "app_home_opened", "user": "UADMIN", "channel": "DADMIN", "tab": "home"}
    assert await seeded.event(event, event_id="Ev1") == 200
    [call] = slack.calls_to("views.publish")
    assert call.params["user_id"] == "UADMIN"
    view = call.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["type"] == "home"
    text = blocks_text({"blocks": view["blocks"]})
    assert "Kudos you received" in text and "Your check-ins and reminders" in text
    assert "Team report, whole workspace, last 30 days" in text
    assert "https://candor.example.com/dashboard?token=" in text

    await seeded.event({**event, "user": "UBOB"}, event_id="Ev2")
    bob = slack.calls_to("views.publish")[-1].params
    bob_view = json.loads(bob["view"]) if isinstance(bob["view"], str) else bob["view"]
    bob_text = blocks_text({"blocks": bob_view["blocks"]})
    assert bob["user_id"] == "UBOB" and "Kudos you received" in bob_text
    assert "dashboard" not in bob_text and "Team report" not in bob_text

    await seeded.event({**event, "tab": "messages"}, event_id="Ev3")
    assert len(slack.calls_to("views.publish")) == 2  # the Messages tab is not the home
