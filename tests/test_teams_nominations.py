"""Nomination cycles in Teams, end to end over HTTP: an admin named in CANDOR_ADMINS opens a cycle
from a channel (Teams has no workspace admins), people nominate from the announcement's button with
a people choice or by @mentioning someone, status stays private in the channel, the close with and
without a vote, the nominees' messages through stored conversation references, and `nominate mine`
with its export and share."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.support.teams import (
    ALICE,
    BOB,
    CAROL,
    CHANNEL,
    HELPER_BOT,
    MANAGER,
    TeamsClient,
    activity_text,
    button_data,
    dialog_card,
    dialog_text,
    fields_of,
    last_reply,
    open_from_reply,
    personal_chat,
    run_jobs,
    seen_text,
)

BERLIN = ZoneInfo("Europe/Berlin")  # the test people's Teams clients say so
FIRST = "In the retro on Tuesday she told me my estimates ignored review time, and showed me how"
SECOND = "She reviewed my design doc within a day, with specific notes on the failure modes"
HOSTILE = "<at>Carol Diaz</at> **bold** [click](https://evil.example) reviewed my code kindly"
DAY = 86400


@pytest.fixture
def teams_overrides():
    return {"admins": frozenset({"aad-mara"})}  # Mara's Entra object id: Teams names no admins


@pytest.fixture(autouse=True)
async def installed(teams: TeamsClient):
    assert await teams.install_team(MANAGER) == 200
    for person in (ALICE, MANAGER):  # Bob and Carol never added Candor to their own chat
        assert await teams.install_personal(person) == 200


def day_after(clock, days: int) -> str:
    return (datetime.fromtimestamp(clock.now(), BERLIN).date() + timedelta(days=days)).isoformat()


def channel_posts(fake) -> list[dict]:
    """New posts in the channel (not replies to what someone typed there)."""
    return [c.body or {} for c in fake.sent() if c.path == f"/v3/conversations/{CHANNEL}/activities"]


def edits(fake) -> list[str]:
    return [activity_text(c.body or {}) for c in fake.sent() if c.method == "PUT"]


async def open_cycle(teams: TeamsClient, fake, clock, **answers) -> None:
    await teams.say("nominate open", user=MANAGER, conversation=CHANNEL)
    dialog = await open_from_reply(teams, fake, CHANNEL, MANAGER)
    _, done = await teams.submit(
        dialog, {"closes_on": day_after(clock, 2), **answers}, user=MANAGER, conversation=CHANNEL
    )
    assert "is open: its announcement will appear in General" in dialog_text(done)
    await teams.candor.settle()


async def nominate_by_button(
    teams: TeamsClient, fake, user: str, nominee: str, level: str = "competent", **more
) -> dict:
    announcement = next(b for b in channel_posts(fake) if "Nominations are open" in activity_text(b))
    pressed = button_data(announcement, "Nominate someone")
    _, form = await teams.press(pressed["action"], pressed["value"], user=user, conversation=CHANNEL)
    answers = {"nominee": nominee, "example_1": FIRST, "example_2": SECOND, "level": level} | more
    _, done = await teams.submit(form, answers, user=user, conversation=CHANNEL)
    return done


async def test_an_admin_opens_a_cycle_and_colleagues_nominate_by_button_and_by_mention(
    teams: TeamsClient, fake_teams, clock
):
    await teams.say("nominate open", user=ALICE, conversation=CHANNEL)
    assert "Only Candor admins can open a nomination cycle" in last_reply(fake_teams, CHANNEL)

    await teams.say("nominate open", user=MANAGER, conversation=CHANNEL)
    dialog = await open_from_reply(teams, fake_teams, CHANNEL, MANAGER)
    fields = fields_of(dialog)
    assert fields["award"]["value"] == "best-feedback-giver"
    assert [c["title"] for c in fields["channel"]["choices"]] == ["General"]
    assert fields["channel"]["value"] == CHANNEL
    assert (fields["closes_on"]["type"], fields["closes_at"]["type"]) == ("Input.Date", "Input.Time")
    assert fields["closes_at"]["value"] == "17:00"
    _, refused = await teams.submit(
        dialog, {"closes_on": day_after(clock, -1)}, user=MANAGER, conversation=CHANNEL
    )
    assert "Nothing was saved yet" in dialog_text(refused)
    assert teams.candor.count("nomination_cycles") == 0
    _, done = await teams.submit(
        refused, {"closes_on": day_after(clock, 2)}, user=MANAGER, conversation=CHANNEL
    )
    assert "is open: its announcement will appear in General" in dialog_text(done)
    await teams.candor.settle()
    [announcement] = channel_posts(fake_teams)
    assert "Nominations are open: Best feedback giver" in activity_text(announcement)

    # The announcement's button: the person is chosen among the team's members (not yourself, no bot).
    pressed = button_data(announcement, "Nominate someone")
    _, form = await teams.press(pressed["action"], pressed["value"], user=ALICE, conversation=CHANNEL)
    nominee = fields_of(form)["nominee"]
    assert nominee["type"] == "Input.ChoiceSet"
    assert {c["value"] for c in nominee["choices"]} == {BOB, CAROL, MANAGER}
    _, refused = await teams.submit(
        form, {"nominee": BOB, "example_1": FIRST, "level": "role_model"}, user=ALICE, conversation=CHANNEL
    )
    assert "Role model" in dialog_text(refused) and teams.candor.count("nominations") == 0
    _, done = await teams.submit(refused, {"example_2": SECOND}, user=ALICE, conversation=CHANNEL)
    assert "You nominated @Bob Jones for Best feedback giver" in dialog_text(done)

    # @mentioning the person: Teams' mention rides on the card's button into the dialog.
    await teams.say(
        "nominate <at>Bob Jones</at>", user=CAROL, conversation=CHANNEL, mentions=((BOB, "Bob Jones"),)
    )
    assert "Bob" not in last_reply(fake_teams, CHANNEL)  # the card in the channel names nobody
    form = await open_from_reply(teams, fake_teams, CHANNEL, CAROL)
    assert fields_of(form)["nominee"]["value"] == BOB
    _, done = await teams.submit(
        form,
        {"example_1": FIRST, "example_2": SECOND, "level": "competent"},
        user=CAROL,
        conversation=CHANNEL,
    )
    assert "You nominated @Bob Jones" in dialog_text(done)
    await teams.say(
        "nominate <at>Helper Bot</at>",
        user=CAROL,
        conversation=CHANNEL,
        mentions=((HELPER_BOT, "Helper Bot"),),
    )
    assert "Bots cannot be nominated" in last_reply(fake_teams, CHANNEL)
    await teams.candor.settle()
    assert len(channel_posts(fake_teams)) == 1  # nothing is shown before the close
    assert fake_teams.sent_to(personal_chat(BOB)) == []
    assert teams.candor.count("nominations") == 2


async def test_status_in_a_channel_is_shown_only_to_whoever_asks(teams: TeamsClient, fake_teams, clock):
    await open_cycle(teams, fake_teams, clock)
    await nominate_by_button(teams, fake_teams, ALICE, BOB)
    await teams.say("nominate status", user=MANAGER, conversation=CHANNEL)
    card = last_reply(fake_teams, CHANNEL)
    assert "Only for you" in card and "Bob" not in card and "tally" not in card
    shown = await open_from_reply(teams, fake_teams, CHANNEL, MANAGER)
    assert "Running tally (admins only): @Bob Jones 1" in dialog_text(shown)
    not_hers = await open_from_reply(teams, fake_teams, CHANNEL, ALICE)  # the same button, pressed by Alice
    assert "only for the person who asked" in dialog_text(not_hers) and "tally" not in dialog_text(not_hers)
    await teams.say("nominate status", user=ALICE, conversation=CHANNEL)
    mine = await open_from_reply(teams, fake_teams, CHANNEL, ALICE)
    assert "You have given 1 of at most 3 nominations: @Bob Jones" in dialog_text(mine)
    assert "tally" not in dialog_text(mine)
    clock.advance(16 * 60)  # kept in memory for 15 minutes, then asked again
    gone = await open_from_reply(teams, fake_teams, CHANNEL, ALICE)
    assert "no longer kept" in dialog_text(gone)
    # In her own chat too the answer is shown in a window: Teams would keep a message in the chat.
    await teams.say("nominate status", user=ALICE)
    assert "not kept in the chat's history" in last_reply(fake_teams, personal_chat(ALICE))
    shown = await open_from_reply(teams, fake_teams, personal_chat(ALICE), ALICE)
    assert "You have given 1 of at most 3 nominations" in dialog_text(shown)


async def test_a_close_without_a_vote_posts_the_result_and_tells_every_nominee_in_their_chat(
    teams: TeamsClient, fake_teams, clock
):
    await open_cycle(teams, fake_teams, clock)
    await nominate_by_button(teams, fake_teams, ALICE, BOB, level="role_model")
    await nominate_by_button(teams, fake_teams, CAROL, BOB, example_1=HOSTILE)
    await nominate_by_button(teams, fake_teams, MANAGER, ALICE, level="developing")
    await teams.say("nominate close", user=ALICE, conversation=CHANNEL)
    assert "Only Candor admins can close" in last_reply(fake_teams, CHANNEL)
    await teams.say("nominate close", user=MANAGER, conversation=CHANNEL)
    assert "the result is posted in the channel" in last_reply(fake_teams, CHANNEL)
    await teams.candor.settle()

    [_, result] = channel_posts(fake_teams)
    assert result["text"].startswith("🏆 <b>Best feedback giver</b>: <at>Bob Jones</at>")
    assert [e["mentioned"]["id"] for e in result["entities"]] == [BOB]  # Carol's typed <at> is text
    assert "&lt;at&gt;Carol Diaz&lt;/at&gt;" not in activity_text(result)  # escaped once, shown as typed
    assert "<at>Carol Diaz</at> **bold** [click](https://evil.example)" in activity_text(result)
    assert "(2 nominators)" in activity_text(result) and "Alice" not in activity_text(result)
    assert (
        "Nominations for Best feedback giver are closed: the result is posted below" in edits(fake_teams)[0]
    )

    # Bob never added Candor: his chat is opened through the team, and kept for next time.
    [bob] = fake_teams.sent_to(personal_chat(BOB))
    assert "You won!" in activity_text(bob) and activity_text(bob).count(FIRST) == 1
    assert "Role model" in activity_text(bob) and "Alice" not in activity_text(bob)  # nominators hidden
    assert teams.candor.db["teams_references"].get(personal_chat(BOB))["user"] == BOB
    # Alice's chat is the reference stored when she added Candor.
    [alice] = fake_teams.sent_to(personal_chat(ALICE))[-1:]
    assert "The award went to @Bob Jones" in seen_text(alice) and "Developing" in seen_text(alice)
    created = [c for c in fake_teams.calls if c.path == "/v3/conversations"]
    assert [c.body["members"][0]["id"] for c in created] == [BOB]

    await run_jobs(teams.candor)  # the close job finds nothing left to do
    assert teams.candor.count("nomination_results") == 2 and len(channel_posts(fake_teams)) == 2
    await teams.say("nominate history", user=CAROL, conversation=CHANNEL)
    assert "in General: @Bob Jones" in last_reply(fake_teams, CHANNEL)


async def test_a_close_with_a_vote_in_the_channel_and_named_nominators(teams: TeamsClient, fake_teams, clock):
    await open_cycle(teams, fake_teams, clock, voting="2", top_n="2", nominators="show")
    await nominate_by_button(teams, fake_teams, ALICE, BOB)
    await nominate_by_button(teams, fake_teams, CAROL, BOB)
    await nominate_by_button(teams, fake_teams, BOB, CAROL)
    await nominate_by_button(teams, fake_teams, ALICE, CAROL)
    await nominate_by_button(teams, fake_teams, MANAGER, ALICE)  # one nominator: not on the ballot
    await teams.say("nominate close", user=MANAGER, conversation=CHANNEL)
    assert "the vote is posted in the channel" in last_reply(fake_teams, CHANNEL)
    await teams.candor.settle()
    ballot = channel_posts(fake_teams)[-1]
    assert "Vote for one of the most nominated" in activity_text(ballot)
    assert "closed: the vote is on below" in edits(fake_teams)[0]

    vote = button_data(ballot, "Vote")
    _, form = await teams.press(vote["action"], vote["value"], user=MANAGER, conversation=CHANNEL)
    choice = fields_of(form)["choice"]
    assert [(c["value"], c["title"]) for c in choice["choices"]] == [
        (BOB, "Bob Jones"),
        (CAROL, "Carol Diaz"),
    ]
    _, done = await teams.submit(form, {"choice": CAROL}, user=MANAGER, conversation=CHANNEL)
    assert "Your vote for @Carol Diaz is in" in dialog_text(done)
    _, form = await teams.press(vote["action"], vote["value"], user=MANAGER, conversation=CHANNEL)
    assert fields_of(form)["choice"]["value"] == CAROL  # their vote, to change
    _, done = await teams.submit(form, {"choice": BOB}, user=MANAGER, conversation=CHANNEL)
    assert "Your vote is changed to @Bob Jones" in dialog_text(done)
    _, refused = await teams.submit(form, {"choice": BOB}, user=BOB, conversation=CHANNEL)
    assert "You cannot vote for yourself" in dialog_text(refused)
    await teams.submit(form, {"choice": BOB}, user=ALICE, conversation=CHANNEL)
    assert teams.candor.count("nomination_votes") == 2

    clock.advance(2 * DAY + 1)
    await run_jobs(teams.candor)
    result = activity_text(channel_posts(fake_teams)[-1])
    assert (
        "Best feedback giver: @Bob Jones" in result
        or "Best feedback giver</b>: <at>Bob Jones" in (channel_posts(fake_teams)[-1]["text"])
    )
    assert "(2 nominators, 2 votes)" in result and "nominated by @Alice Smith and @Carol Diaz" in result
    assert "The vote for Best feedback giver is closed" in edits(fake_teams)[-1]
    assert "from @Mara Manager" in seen_text(fake_teams.sent_to(personal_chat(ALICE))[-1])
    assert "The award went to @Bob Jones" in seen_text(fake_teams.sent_to(personal_chat(CAROL))[-1])


async def test_nominate_mine_is_private_in_a_channel_and_exports_and_shares_through_personal_chats(
    teams: TeamsClient, fake_teams, clock
):
    await open_cycle(teams, fake_teams, clock)
    await nominate_by_button(teams, fake_teams, CAROL, ALICE)
    await teams.say("nominate close", user=MANAGER, conversation=CHANNEL)
    await teams.candor.settle()
    await teams.say("nominate mine", user=ALICE, conversation=CHANNEL)
    assert "Only for you" in last_reply(fake_teams, CHANNEL) and "vidence" not in last_reply(
        fake_teams, CHANNEL
    )
    someone_else = await open_from_reply(teams, fake_teams, CHANNEL, BOB)
    assert "only for the person who asked" in dialog_text(someone_else)
    mine = await open_from_reply(teams, fake_teams, CHANNEL, ALICE)
    assert "Your evidence: 1 nomination and 0 kudos" in dialog_text(mine) and FIRST in dialog_text(mine)

    _, exported = await teams.press_in_dialog(mine, "Export as Markdown", user=ALICE, conversation=CHANNEL)
    assert "on its way to you in a private message" in dialog_text(exported)
    _, form = await teams.press_in_dialog(mine, "Share with someone", user=ALICE, conversation=CHANNEL)
    assert {c["value"] for c in fields_of(form)["person"]["choices"]} == {BOB, CAROL, MANAGER}
    _, shared = await teams.submit(
        form, {"person": MANAGER, "format": "csv"}, user=ALICE, conversation=CHANNEL
    )
    assert "Mara Manager" in dialog_text(shared)
    await teams.candor.settle()
    [export] = [
        b for b in fake_teams.sent_to(personal_chat(ALICE)) if "Evidence: Alice Smith" in activity_text(b)
    ]
    # Teams cannot take a file here (that needs the file consent card and OneDrive): the text comes
    # quoted, with the name to save it under.
    assert FIRST in activity_text(export)
    assert "Copy the text below into a file named evidence.md to keep it." in activity_text(export)
    [copy] = [b for b in fake_teams.sent_to(personal_chat(MANAGER)) if "date,behaviour" in activity_text(b)]
    assert FIRST in activity_text(copy)
    assert "Copy the text below into a file named evidence.csv to keep it." in activity_text(copy)
    assert not any("vidence" in activity_text(b) for b in fake_teams.sent_to(CHANNEL))

    await teams.say("nominate mine", user=ALICE)  # in her own chat, also in a window: not kept there
    assert FIRST not in last_reply(fake_teams, personal_chat(ALICE))
    here = await open_from_reply(teams, fake_teams, personal_chat(ALICE), ALICE)
    assert FIRST in dialog_text(here)
    assert [b["title"] for b in dialog_card(here)["body"][-1]["actions"]] == [
        "Export as Markdown",
        "Export as CSV",
        "Share with someone",
    ]
