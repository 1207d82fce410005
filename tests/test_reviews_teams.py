"""Failure reviews in Teams: the form in a dialog (date pickers, the lines as plain text, people to
choose as owners), the next step (more rows) shown in the same dialog, the review posted in the
channel and its owners told in their own chats.

The review form may carry an anonymous author, so Teams runs it only in the person's own chat with
Candor (bot/teams/turns.py), where nobody sees them open it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handlers.reviews.ids import ActionId, FieldId, Section, row_field
from tests.support.teams import (
    ALICE,
    BOB,
    CHANNEL,
    MANAGER,
    TeamsClient,
    activity_text,
    button_data,
    card_text,
    dialog_card,
    dialog_text,
    inputs,
    open_from_reply,
    personal_chat,
)
from tests.test_reviews_slack import GOOD


@pytest.fixture
def teams_overrides():
    return {"reviews_channel": CHANNEL, "speakup_delay_s": (0.0, 0.0)}


@pytest.fixture(autouse=True)
async def installed(teams: TeamsClient):
    assert await teams.install_team(MANAGER) == 200
    for person in (ALICE, BOB, MANAGER):
        assert await teams.install_personal(person) == 200
    assert await teams.say("help", user=BOB) == 200  # in a personal chat, owners are people Candor knows


def ahead(clock, days: int) -> str:
    return (datetime.fromtimestamp(clock.now(), UTC).date() + timedelta(days=days)).isoformat()


async def test_a_review_from_a_teams_dialog_is_posted_and_its_owner_told(
    teams: TeamsClient, fake_teams, clock
):
    await teams.say("review", user=ALICE)
    dialog = await open_from_reply(teams, fake_teams, personal_chat(ALICE), ALICE)
    fields = {e["id"]: e for e in inputs(dialog_card(dialog))}
    assert fields[row_field(1, "due")]["type"] == "Input.Date"
    assert fields[FieldId.LINES]["type"] == "Input.Text" and fields[FieldId.LINES]["isMultiline"] is True
    assert BOB in [c["value"] for c in fields[row_field(1, "owner")]["choices"]]

    _, more = await teams.submit(
        dialog, {FieldId.MORE_ROWS: "yes"}, user=ALICE, conversation=personal_chat(ALICE)
    )
    fields = {e["id"] for e in inputs(dialog_card(more))}
    assert row_field(6, "due") in fields  # the same dialog, now with six rows
    assert "Added 3 action rows" in card_text(dialog_card(more))

    answers = {**GOOD, row_field(1, "what"): "add a canary step", row_field(1, "owner"): BOB}
    answers[row_field(1, "due")] = ahead(clock, 20)
    _, done = await teams.submit(more, answers, user=ALICE, conversation=personal_chat(ALICE))
    assert "Published. Review #" in card_text(dialog_card(done))
    await teams.candor.settle()
    posts = [activity_text(b) for b in fake_teams.sent_to(CHANNEL) if "Failure review #" in activity_text(b)]
    assert len(posts) == 1 and "add a canary step" in posts[0] and "Quality index: 100/100" in posts[0]
    assert "You own an action" in activity_text(fake_teams.sent_to(personal_chat(BOB))[-1])


async def test_lines_without_marked_people_are_refused_clearly_in_teams(
    teams: TeamsClient, fake_teams, clock
):
    await teams.say("review", user=ALICE)
    dialog = await open_from_reply(teams, fake_teams, personal_chat(ALICE), ALICE)
    answers = {**GOOD, FieldId.LINES: f"@Bob {ahead(clock, 9)} add a canary step"}
    _, refused = await teams.submit(dialog, answers, user=ALICE, conversation=personal_chat(ALICE))
    assert "Line 1: @Bob is not someone I can find" in card_text(dialog_card(refused))
    assert teams.candor.count("reviews") == 0
    assert {e["id"]: e.get("value") for e in inputs(dialog_card(refused))}[Section.TITLE] == GOOD[
        Section.TITLE
    ]


async def test_in_a_channel_the_review_form_does_not_open_and_says_where_to_go(
    teams: TeamsClient, fake_teams
):
    await teams.say("review", user=ALICE, conversation=CHANNEL)
    said = activity_text(fake_teams.answers_to(CHANNEL)[-1])
    assert "This works only in your own chat with Candor: here everyone in the conversation would see" in said
    status, answer = await teams.open(  # an old "Open the form" card pressed in a channel
        {"candor": "command", "name": "review", "text": ""}, user=ALICE, conversation=CHANNEL
    )
    assert status == 200 and card_text(dialog_card(answer)).startswith("This works only in your own chat")
    await teams.say("review list", user=ALICE, conversation=CHANNEL)  # what shows no form still works
    assert "No failure reviews" in activity_text(fake_teams.answers_to(CHANNEL)[-1])
    assert teams.candor.count("reviews") == 0


async def test_candor_me_lists_the_owners_actions_and_mark_done_there_removes_them(
    teams: TeamsClient, fake_teams, clock
):
    await teams.say("review", user=ALICE)
    dialog = await open_from_reply(teams, fake_teams, personal_chat(ALICE), ALICE)
    answers = {**GOOD, row_field(1, "what"): "add a canary step", row_field(1, "owner"): BOB}
    answers[row_field(1, "due")] = ahead(clock, 20)
    _, done = await teams.submit(dialog, answers, user=ALICE, conversation=personal_chat(ALICE))
    assert "Published. Review #" in card_text(dialog_card(done))
    [(canary,)] = teams.candor.db.execute("select id from review_actions").fetchall()

    async def home_of(user: str) -> dict:
        """`candor me` in the person's own chat: an answer for them alone, shown in a dialog."""
        await teams.say("candor me", user=user)
        return await open_from_reply(teams, fake_teams, personal_chat(user), user)

    bob = await home_of(BOB)
    assert "Your open actions from failure reviews" in dialog_text(bob)
    assert "☐ add a canary step · due " in dialog_text(bob)
    mark_done = button_data({"attachments": [{"content": dialog_card(bob)}]}, "Mark done")
    assert (mark_done["action"], mark_done["value"]) == (ActionId.DONE, str(canary))  # the message's own
    assert "add a canary step" not in dialog_text(await home_of(MANAGER))

    _, answer = await teams.press_in_dialog(bob, "Mark done", user=BOB, conversation=personal_chat(BOB))
    assert "Marked done: add a canary step" in dialog_text(answer)
    again = dialog_text(await home_of(BOB))
    assert "add a canary step" not in again and "None open." in again
