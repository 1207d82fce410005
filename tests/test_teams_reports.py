"""Reports in Teams, end to end over HTTP: the team report in a channel (team figures, for everyone
there), `candor me` shown only to whoever asks, and the dashboard link, which goes only to an admin
named in CANDOR_ADMINS, in their own chat with Candor, straight (never through the outbox)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from bot.server import STORE
from tests.support import seed
from tests.support.fake_teams import TENANT
from tests.support.teams import (
    ALICE,
    BOB,
    CAROL,
    CHANNEL,
    MANAGER,
    TeamsClient,
    activity_text,
    ask,
    last_reply,
    personal_chat,
    seen_text,
)
from tests.test_reports import NOW

LINK = re.compile(r"https://candor\.example\.com/dashboard\?token=[A-Za-z0-9_.%-]+")


@pytest.fixture
def teams_overrides():
    # Mara by her Entra object id, Carol by her Teams id: Teams names no admins itself.
    return {"admins": frozenset({"aad-mara", CAROL}), "public_url": "https://candor.example.com"}


@pytest.fixture(autouse=True)
async def installed(teams: TeamsClient, clock):
    clock.t = NOW  # the seeded months are written for this day
    assert await teams.install_team(MANAGER) == 200
    for person in (ALICE, MANAGER):  # Carol never added Candor to her own chat
        assert await teams.install_personal(person) == 200
    with teams.candor.app[STORE].transaction() as tx:
        seed.team_dataset(tx, seed.Where("teams", TENANT, CHANNEL), clock.now())


async def test_the_team_report_is_for_the_channel(teams: TeamsClient, fake_teams):
    await teams.say("candor report 30d", user=BOB, conversation=CHANNEL)
    report = last_reply(fake_teams, CHANNEL)
    assert "Team report, last 30 days" in report and "Kudos for #feedback: 4" in report
    assert "Only for you" not in report
    await teams.say("candor report 45d", user=BOB, conversation=CHANNEL)
    assert "the period is 30d or 90d" in last_reply(fake_teams, CHANNEL)


async def test_candor_me_is_shown_only_to_whoever_asks(teams: TeamsClient, fake_teams):
    await teams.say(
        "kudos <at>Alice Smith</at> #mentoring thanks for the pairing",
        user=BOB,
        conversation=CHANNEL,
        mentions=((ALICE, "Alice Smith"),),
    )
    await teams.say("candor me", user=ALICE, conversation=CHANNEL)
    assert "Only for you" in last_reply(fake_teams, CHANNEL) and "Kudos" not in last_reply(
        fake_teams, CHANNEL
    )
    mine = await ask(teams, fake_teams, "candor me", user=ALICE, conversation=CHANNEL)
    assert "Your Candor" in mine and "Kudos you received" in mine
    assert "#mentoring from @Bob Jones" in mine  # a Teams id ("29:bob") read whole from the stored key
    admin = await ask(teams, fake_teams, "candor me", user=MANAGER, conversation=CHANNEL)
    assert LINK.search(admin)  # an admin's own overview carries the link: it never reaches the channel
    assert not any(LINK.search(activity_text(b)) for b in fake_teams.sent_to(CHANNEL))


async def test_the_dashboard_link_goes_to_an_admins_own_chat_only(teams: TeamsClient, fake_teams):
    await teams.say("candor dashboard", user=ALICE, conversation=CHANNEL)
    assert "Only Candor admins can open the dashboard." in last_reply(fake_teams, CHANNEL)

    await teams.say("candor dashboard", user=MANAGER, conversation=CHANNEL)
    assert "I sent you the dashboard link in a private message" in last_reply(fake_teams, CHANNEL)
    [dm] = [b for b in fake_teams.sent_to(personal_chat(MANAGER)) if "dashboard" in seen_text(b)]
    link = LINK.search(seen_text(dm))
    assert link is not None and "valid for one hour" in seen_text(dm)
    token = parse_qs(urlparse(link.group()).query)["token"][0]
    assert teams.candor.http is not None
    async with teams.candor.http.get(teams.candor.url + "/dashboard", params={"token": token}) as page:
        assert page.status == 200 and "Kudos" in await page.text()
    assert [c.path for c in fake_teams.calls if token in str(c.body)] == [
        f"/v3/conversations/{personal_chat(MANAGER)}/activities"
    ]
    assert not any(token in row["payload"] for row in teams.candor.outbox())  # never kept
    assert token.encode() not in teams.candor.settings.db_path.read_bytes()

    # An admin who never added Candor to their chat is told how, and no link goes anywhere.
    await teams.say("candor dashboard", user=CAROL, conversation=CHANNEL)
    assert "open a chat with Candor first" in last_reply(fake_teams, CHANNEL)
    assert fake_teams.sent_to(personal_chat(CAROL)) == []
