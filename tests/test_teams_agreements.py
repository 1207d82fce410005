"""Agreements in Teams, end to end over HTTP: `agree @person` from a channel, the offer in the
performer's own chat with Accept / Propose a change / Decline (each a dialog), Done, "not yet", the
review both sides answer, a miss found by the job, and the lists shown only to their asker."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.support.teams import (
    ALICE,
    BOB,
    CAROL,
    CHANNEL,
    MANAGER,
    TeamsClient,
    button_data,
    buttons,
    dialog_text,
    fields_of,
    last_reply,
    open_from_reply,
    personal_chat,
    run_jobs,
    seen_text,
)

BERLIN = ZoneInfo("Europe/Berlin")
DAY = 86400


@pytest.fixture(autouse=True)
async def installed(teams: TeamsClient):
    assert await teams.install_team(MANAGER) == 200
    assert await teams.install_personal(ALICE) == 200  # Bob never added Candor to his chat


def due_day(clock, days: int) -> str:
    return (datetime.fromtimestamp(clock.now(), BERLIN).date() + timedelta(days=days)).isoformat()


def chat(fake, user: str) -> list[dict]:
    """What Candor posted in a person's own chat (new messages, not replies to what they typed)."""
    return [
        c.body or {} for c in fake.sent() if c.path == f"/v3/conversations/{personal_chat(user)}/activities"
    ]


def titles(body: dict) -> list[str]:
    return [b["title"] for b in buttons(body)]


async def press(teams: TeamsClient, body: dict, label: str, user: str) -> dict:
    """A button on a message in the person's own chat; the dialog's answer."""
    data = button_data(body, label)
    status, answer = await teams.press(
        data["action"], data["value"], user=user, conversation=personal_chat(user)
    )
    assert status == 200
    return answer


async def ask(teams: TeamsClient, fake, clock, days: int = 5, what: str = "Draft the Q3 plan") -> None:
    """Alice asks Bob from the team's channel (Teams sends what she typed as HTML)."""
    await teams.say(
        f"agree <at>Bob Jones</at> {html.escape(what, quote=False)}",
        user=ALICE,
        conversation=CHANNEL,
        mentions=((BOB, "Bob Jones"),),
    )
    form = await open_from_reply(teams, fake, CHANNEL, ALICE)
    fields = fields_of(form)
    assert fields["person"]["value"] == BOB and fields["what"]["value"] == what
    _, sent = await teams.submit(
        form,
        {"done_means": "Finance has reviewed it", "due_date": due_day(clock, days)},
        user=ALICE,
        conversation=CHANNEL,
    )
    assert "Sent to @Bob Jones" in dialog_text(sent)
    await teams.candor.settle()


async def test_request_accept_done_not_yet_and_the_review_by_both(teams: TeamsClient, fake_teams, clock):
    await ask(teams, fake_teams, clock, what="Draft the Q3 plan <at>Carol Diaz</at> **now**")
    [offer] = chat(fake_teams, BOB)  # his chat with Candor, opened through the team
    assert "@Alice Smith asks you to agree to this" in seen_text(offer)
    assert "Draft the Q3 plan <at>Carol Diaz</at> **now**" in seen_text(offer)  # text, notifies no one
    assert [e["mentioned"]["id"] for e in offer["entities"]] == [ALICE]  # only Alice is notified
    assert titles(offer) == ["Accept", "Propose a change", "Decline"]
    assert not any("Q3" in seen_text(b) for b in fake_teams.sent_to(CHANNEL))  # nothing in the channel

    accept = button_data(offer, "Accept")
    activity = teams.activity(
        "invoke",
        user=BOB,
        conversation=personal_chat(BOB),
        name="task/fetch",
        value={"type": "task/fetch", "data": accept},
    )
    _, answer = await teams.post(activity)
    assert "Agreed: #1." in dialog_text(answer)
    _, again = await teams.post(activity)  # Teams sending the same invoke again
    assert "This was already handled." in dialog_text(again)
    await teams.candor.settle()
    [edited] = [c.body for c in fake_teams.sent() if c.method == "PUT"]
    assert "Accepted." in seen_text(edited) and titles(edited) == []
    agreed = chat(fake_teams, BOB)[-1]
    assert titles(agreed) == ["Done", "Need to renegotiate"]
    assert "Agreed with @Bob Jones" in seen_text(chat(fake_teams, ALICE)[-1])

    done = await press(teams, agreed, "Done", BOB)
    assert "done" in dialog_text(done).lower()
    await teams.candor.settle()
    asked = chat(fake_teams, ALICE)[-1]
    assert titles(asked) == ["Accept as done", "Not yet"]
    form = await press(teams, asked, "Not yet", ALICE)
    _, refused = await teams.submit(form, {"missing": ""}, user=ALICE, conversation=personal_chat(ALICE))
    assert "What is missing cannot be empty." in dialog_text(refused)
    await teams.submit(
        refused, {"missing": "The numbers for Q3"}, user=ALICE, conversation=personal_chat(ALICE)
    )
    await teams.candor.settle()
    cards = {user: chat(fake_teams, user)[-1] for user in (ALICE, BOB)}
    for card in cards.values():
        assert "How can we do this better next time?" in seen_text(card) and titles(card) == ["Answer"]

    alice_form = await press(teams, cards[ALICE], "Answer", ALICE)
    assert list(fields_of(alice_form)) == ["clear", "agreed", "differently"]
    await teams.submit(
        alice_form,
        {"clear": "Mostly", "agreed": "Yes", "differently": "Say the standard"},
        user=ALICE,
        conversation=personal_chat(ALICE),
    )
    bob_form = await press(teams, cards[BOB], "Answer", BOB)
    assert list(fields_of(bob_form)) == ["in_the_way", "would_help", "differently"]
    _, reviewed = await teams.submit(
        bob_form,
        {"in_the_way": "Late data", "would_help": "A check-in", "differently": "Ask sooner"},
        user=BOB,
        conversation=personal_chat(BOB),
    )
    assert "Reviewed together" in dialog_text(reviewed)
    await teams.candor.settle()
    for user in (ALICE, BOB):
        shown = seen_text(chat(fake_teams, user)[-1])
        assert "Late data" in shown and "Say the standard" in shown
    assert teams.candor.db.execute("select state from agreements").fetchone() == ("reviewed",)


async def test_propose_a_change_then_accept_and_accepted_as_done(teams: TeamsClient, fake_teams, clock):
    await ask(teams, fake_teams, clock)
    form = await press(teams, chat(fake_teams, BOB)[-1], "Propose a change", BOB)
    assert fields_of(form)["due_date"]["type"] == "Input.Date"
    assert fields_of(form)["due_date"]["value"] == due_day(clock, 5)
    await teams.submit(
        form,
        {"due_date": due_day(clock, 8), "reason": "Finance reviews on Thursdays"},
        user=BOB,
        conversation=personal_chat(BOB),
    )
    await teams.candor.settle()
    proposal = chat(fake_teams, ALICE)[-1]
    assert "Finance reviews on Thursdays" in seen_text(proposal)
    assert titles(proposal) == ["Accept", "Propose another"]
    accepted = await press(teams, proposal, "Accept", ALICE)
    assert "Agreed: #1." in dialog_text(accepted)
    await teams.candor.settle()
    await press(teams, chat(fake_teams, BOB)[-1], "Done", BOB)
    await teams.candor.settle()
    await press(teams, chat(fake_teams, ALICE)[-1], "Accept as done", ALICE)
    await teams.candor.settle()
    assert "accepted this as done" in seen_text(chat(fake_teams, BOB)[-1])
    assert teams.candor.db.execute("select state, offer_seq from agreements").fetchone() == ("kept", 2)


async def test_decline_with_a_reason_and_a_person_chosen_in_the_form(teams: TeamsClient, fake_teams, clock):
    await teams.say("agree", user=ALICE, conversation=CHANNEL)
    form = await open_from_reply(teams, fake_teams, CHANNEL, ALICE)
    person = fields_of(form)["person"]
    assert "value" not in person and {c["value"] for c in person["choices"]} == {BOB, CAROL, MANAGER}
    _, sent = await teams.submit(
        form,
        {"person": BOB, "what": "Ship it", "done_means": "Live", "due_date": due_day(clock, 3)},
        user=ALICE,
        conversation=CHANNEL,
    )
    assert "Sent to @Bob Jones" in dialog_text(sent)
    await teams.candor.settle()
    form = await press(teams, chat(fake_teams, BOB)[-1], "Decline", BOB)
    await teams.submit(
        form, {"reason": "On leave <at>Carol Diaz</at> that week"}, user=BOB, conversation=personal_chat(BOB)
    )
    await teams.candor.settle()
    declined = chat(fake_teams, ALICE)[-1]
    assert "@Bob Jones declined your request" in seen_text(declined)
    assert "On leave <at>Carol Diaz</at> that week" in seen_text(declined)
    assert [e["mentioned"]["id"] for e in declined["entities"]] == [BOB]


async def test_a_miss_sends_both_the_review_once(teams: TeamsClient, fake_teams, clock):
    await ask(teams, fake_teams, clock, days=2)
    await press(teams, chat(fake_teams, BOB)[-1], "Accept", BOB)
    clock.advance(4 * DAY)
    await run_jobs(teams.candor)
    await run_jobs(teams.candor)
    for user in (ALICE, BOB):
        cards = [b for b in chat(fake_teams, user) if "How can we do this better" in seen_text(b)]
        assert len(cards) == 1


async def test_list_and_show_in_a_channel_are_shown_only_to_whoever_asks(
    teams: TeamsClient, fake_teams, clock
):
    await ask(teams, fake_teams, clock)
    for text in ("agree list", "agree show 1"):
        await teams.say(text, user=ALICE, conversation=CHANNEL)
        assert "Only for you" in last_reply(fake_teams, CHANNEL) and "Q3" not in last_reply(
            fake_teams, CHANNEL
        )
        shown = await open_from_reply(teams, fake_teams, CHANNEL, ALICE)
        assert "Draft the Q3 plan" in dialog_text(shown)
        other = await open_from_reply(teams, fake_teams, CHANNEL, CAROL)  # not hers to read
        assert "only for the person who asked" in dialog_text(other)
    await teams.say("agree stats", user=CAROL, conversation=CHANNEL)  # a team view: in the channel
    assert "Only for you" not in last_reply(fake_teams, CHANNEL)


async def test_hostile_or_huge_text_is_refused_in_the_dialog_and_stores_nothing(
    teams: TeamsClient, fake_teams, clock
):
    await teams.say(
        "agree <at>Bob Jones</at>", user=ALICE, conversation=CHANNEL, mentions=((BOB, "Bob Jones"),)
    )
    form = await open_from_reply(teams, fake_teams, CHANNEL, ALICE)
    _, refused = await teams.submit(
        form,
        {"what": "x" * 5000, "done_means": "\u200b", "due_date": "not a date"},
        user=ALICE,
        conversation=CHANNEL,
    )
    text = dialog_text(refused)
    assert "Nothing was saved yet" in text and "characters" in text
    assert teams.candor.count("agreements") == 0 and teams.candor.count("outbox") == 0
