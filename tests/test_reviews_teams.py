"""Failure reviews in Teams: the form in a dialog (date pickers, the lines as plain text, people to
choose as owners), the next step (more rows) shown in the same dialog, the review posted in the
channel and its owners told in their own chats, where they mark their actions done (Mark done opens
a dialog with the answer) and get their reminders at 09:00 their time.

The review form may carry an anonymous author, so Teams runs it only in the person's own chat with
Candor (bot/teams/turns.py), where nobody sees them open it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

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
    buttons,
    card_text,
    dialog_card,
    dialog_text,
    inputs,
    open_from_reply,
    personal_chat,
    run_jobs,
    seen_text,
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


# --- action items: the owner's message, Mark done, reminders ------------------------------------
async def publish_named(teams: TeamsClient, fake_teams, rows: dict[str, str]) -> None:
    """Alice writes a named review in her chat with Candor with these action rows."""
    await teams.say("review", user=ALICE)
    dialog = await open_from_reply(teams, fake_teams, personal_chat(ALICE), ALICE)
    _, done = await teams.submit(dialog, {**GOOD, **rows}, user=ALICE, conversation=personal_chat(ALICE))
    assert "Published. Review #" in card_text(dialog_card(done))
    await teams.candor.settle()


def owned_by_bob(clock, what: str, days: int, row: int = 1) -> dict[str, str]:
    return {
        row_field(row, "what"): what,
        row_field(row, "owner"): BOB,
        row_field(row, "due"): ahead(clock, days),
    }


def edits(fake_teams) -> list:
    return [c for c in fake_teams.sent() if c.method == "PUT"]


def done_state(teams: TeamsClient) -> list[tuple]:
    return teams.candor.db.execute(
        "select id, done_at, done_by from review_actions order by position"
    ).fetchall()


async def test_the_owner_is_told_in_their_chat_and_marks_the_action_done_there_once(
    teams: TeamsClient, fake_teams, clock
):
    calls_before = len(fake_teams.calls)
    await publish_named(teams, fake_teams, owned_by_bob(clock, "add a canary step", 20))
    # Bob's message is a post (not a reply) in his own chat, through the reference stored when he
    # installed Candor: no conversation was created for it.
    [told] = [
        c
        for c in fake_teams.sent()[calls_before:]
        if c.path == f"/v3/conversations/{personal_chat(BOB)}/activities" and c.method == "POST"
    ]
    assert "You own an action" in activity_text(told.body) and "add a canary step" in activity_text(told.body)
    assert not [c for c in fake_teams.calls if c.path == "/v3/conversations"]
    [button] = buttons(told.body)
    assert button["title"] == "Mark done" and button["type"] == "Action.Submit"
    data = button["data"]
    assert data["msteams"] == {"type": "task/fetch"} and data["action"] == ActionId.DONE
    [(action_id, done_at, done_by)] = done_state(teams)
    assert data["value"] == str(action_id) and (done_at, done_by) == (None, None)

    # Someone else pressing it (a forwarded card, a hand-made request) changes nothing.
    posted, changed = len(fake_teams.sent()), len(edits(fake_teams))
    status, refused = await teams.open(data, user=ALICE)
    assert status == 200
    assert "Only @Bob Jones (its owner) or a Candor admin can mark this action done." in card_text(
        dialog_card(refused)
    )
    await teams.candor.settle()
    assert done_state(teams) == [(action_id, None, None)]
    assert (len(fake_teams.sent()), len(edits(fake_teams))) == (posted, changed)

    # The owner presses it: done, his message loses its button, the review in the channel says so.
    clock.advance(60)
    status, answer = await teams.open(data, user=BOB)
    assert status == 200 and "✅ Marked done: add a canary step." in card_text(dialog_card(answer))
    await teams.candor.settle()
    [(_, done_at, done_by)] = done_state(teams)
    assert (done_at, done_by) == (clock.now(), BOB)
    updated = {c.path.split("/")[3]: c.body for c in edits(fake_teams)[changed:]}
    assert set(updated) == {personal_chat(BOB), CHANNEL}
    assert (
        "Done:" in activity_text(updated[personal_chat(BOB)]) and buttons(updated[personal_chat(BOB)]) == []
    )
    assert "1 of 1 done" in activity_text(updated[CHANNEL]) and "✅ add a canary step" in activity_text(
        updated[CHANNEL]
    )

    # A second press (the card Teams still shows, or a double click) is answered, and changes nothing.
    posted, changed, rows = len(fake_teams.sent()), len(edits(fake_teams)), teams.candor.count("outbox")
    clock.advance(60)
    status, again = await teams.open(data, user=BOB)
    assert status == 200
    assert "This action is already done: add a canary step. Nothing changed." in card_text(dialog_card(again))
    await teams.candor.settle()
    assert done_state(teams) == [(action_id, done_at, BOB)]
    assert (len(fake_teams.sent()), len(edits(fake_teams)), teams.candor.count("outbox")) == (
        posted,
        changed,
        rows,
    )


def reminders_to(fake_teams, user: str) -> list[dict]:
    """Reminders Candor posted in the person's own chat (posts of its own, not replies or edits)."""
    return [
        c.body or {}
        for c in fake_teams.sent()
        if c.method == "POST"
        and c.path == f"/v3/conversations/{personal_chat(user)}/activities"
        and "Reminder:" in activity_text(c.body or {})
    ]


async def test_reminders_on_open_actions_reach_the_owner_in_teams_at_nine_their_time(
    teams: TeamsClient, fake_teams, clock
):
    rows = {
        **owned_by_bob(clock, "add a canary step", 10),
        **owned_by_bob(clock, "write the runbook", 10, row=2),
    }
    await publish_named(teams, fake_teams, rows)
    [(canary, due_on, tz, before_at, due_at), (runbook, *_)] = teams.candor.db.execute(
        "select id, due_on, tz, remind_before_at, remind_due_at from review_actions order by position"
    ).fetchall()
    assert tz == "Europe/Berlin"  # what Bob's Teams client said when he wrote to Candor
    berlin = ZoneInfo("Europe/Berlin")
    due = date.fromisoformat(due_on)
    assert datetime.fromtimestamp(before_at, berlin) == datetime.combine(
        due - timedelta(days=2), time(9), berlin
    )
    assert datetime.fromtimestamp(due_at, berlin) == datetime.combine(due, time(9), berlin)

    clock.t = before_at - 1
    await run_jobs(teams.candor)
    assert reminders_to(fake_teams, BOB) == []  # not a second early
    clock.t = before_at
    await run_jobs(teams.candor)
    first = reminders_to(fake_teams, BOB)
    assert [seen_text(r).split("\n")[0] for r in first] == [
        f"⏰ Reminder: an action is due in 2 days ({due.day} {due:%b %Y}) from the failure review "
        f"{GOOD[Section.TITLE]} by @Alice Smith."
    ] * 2
    by_action = {button_data(r, "Mark done")["value"]: r for r in first}
    assert set(by_action) == {str(canary), str(runbook)}
    assert "write the runbook" in activity_text(by_action[str(runbook)])
    await run_jobs(teams.candor)
    assert len(reminders_to(fake_teams, BOB)) == 2  # each once

    # Bob marks the runbook done from its reminder; only the open action is reminded on the day.
    _, answer = await teams.open(button_data(by_action[str(runbook)], "Mark done"), user=BOB)
    assert "Marked done: write the runbook" in card_text(dialog_card(answer))
    clock.t = due_at
    await run_jobs(teams.candor)
    [on_the_day] = reminders_to(fake_teams, BOB)[2:]
    assert f"an action is due today ({due.day} {due:%b %Y})" in activity_text(on_the_day)
    assert "add a canary step" in activity_text(on_the_day)
    assert button_data(on_the_day, "Mark done")["value"] == str(canary)
    await run_jobs(teams.candor)
    assert len(reminders_to(fake_teams, BOB)) == 3
    assert reminders_to(fake_teams, ALICE) == []
