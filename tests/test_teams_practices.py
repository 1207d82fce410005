"""Every practice end to end in Teams, as people meet it: typed commands, cards, dialogs, and
proactive messages through stored conversation references to the fake Bot Connector."""

from __future__ import annotations

from datetime import UTC, datetime

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
    answer_in,
    assert_valid_card,
    buttons,
    card_text,
    dialog_card,
    every_card,
    inputs,
    last_reply,
    open_from_reply,
    personal_chat,
    run_jobs,
)

KUDOS_BOB = "kudos <at>Bob Jones</at> #mentoring thanks for pairing on the flaky test"


@pytest.fixture(autouse=True)
async def installed(teams: TeamsClient):
    assert await teams.install_team(MANAGER) == 200  # Candor added to team Alpha
    for person in (ALICE, MANAGER):
        assert await teams.install_personal(person) == 200


# --- kudos -------------------------------------------------------------------------------------
async def test_kudos_with_a_mention_posts_in_the_channel_and_messages_the_receiver(
    teams: TeamsClient, fake_teams
):
    await teams.say(KUDOS_BOB, user=ALICE, conversation=CHANNEL, mentions=((BOB, "Bob Jones"),))
    assert "Kudos sent to @Bob Jones for Mentored someone" in activity_text(answer_in(fake_teams, CHANNEL))
    await teams.candor.settle()
    posts = [b for b in fake_teams.sent_to(CHANNEL) if "recognised" in activity_text(b)]
    assert len(posts) == 1 and "<at>Alice Smith</at> recognised <at>Bob Jones</at>" in posts[0]["text"]
    assert "thanks for pairing on the flaky test" in activity_text(posts[0])
    # Bob never opened a chat with Candor: it opens one through the team, and keeps its reference.
    assert any(c.path == "/v3/conversations" for c in fake_teams.calls)
    dm = fake_teams.sent_to(personal_chat(BOB))
    assert len(dm) == 1 and "recognised you" in activity_text(dm[0])
    assert teams.candor.db["teams_references"].get(personal_chat(BOB))["user"] == BOB
    for card in every_card(fake_teams):
        assert_valid_card(card)
    rows = {(r["status"], r["recipient"]) for r in teams.candor.outbox()}
    assert rows == {("sent", "channel"), ("sent", "person")}


async def test_kudos_refusals_are_clear_and_store_nothing(teams: TeamsClient, fake_teams):
    cases = [
        ("kudos #mentoring thanks", (), "Start with the person"),
        (
            "kudos <at>Helper Bot</at> #mentoring thanks",
            ((HELPER_BOT, "Helper Bot"),),
            "Bots do not need kudos",
        ),
        ("kudos <at>Alice Smith</at> #mentoring me", ((ALICE, "Alice Smith"),), "Kudos are for someone else"),
        (
            "kudos <at>Bob Jones</at> #dancing thanks",
            ((BOB, "Bob Jones"),),
            "is not a behaviour Candor knows",
        ),
    ]
    for text, mentions, says in cases:
        await teams.say(text, user=ALICE, conversation=CHANNEL, mentions=mentions)
        assert says in last_reply(fake_teams, CHANNEL), text
    assert teams.candor.count("kudos") == 0


async def test_kudos_stats_and_undo_edit_what_was_posted(teams: TeamsClient, fake_teams):
    await teams.say(KUDOS_BOB, user=ALICE, conversation=CHANNEL, mentions=((BOB, "Bob Jones"),))
    await teams.candor.settle()
    await teams.say("kudos stats", user=CAROL, conversation=CHANNEL)
    assert "1 kudos" in last_reply(fake_teams, CHANNEL)
    await teams.say("kudos undo", user=ALICE, conversation=CHANNEL)
    await teams.candor.settle()
    edits = [c for c in fake_teams.sent() if c.method == "PUT"]
    assert len(edits) == 2 and all("took back this kudos" in activity_text(c.body) for c in edits)
    assert teams.candor.db["kudos"].get(1)["undone_at"] is not None


# --- check-ins ---------------------------------------------------------------------------------
async def test_a_check_in_from_form_to_answers_in_the_thread(teams: TeamsClient, fake_teams):
    await teams.say("checkin", user=ALICE, conversation=CHANNEL)
    dialog = await open_from_reply(teams, fake_teams, CHANNEL, ALICE)
    fields = {e["id"]: e for e in inputs(dialog_card(dialog))}
    assert fields["channel"]["value"] == CHANNEL and fields["tz"]["value"] == "Europe/Berlin"
    assert [c["title"] for c in fields["channel"]["choices"]] == ["General"]

    status, refused = await teams.submit(
        dialog, {"time": "25:00", "days": "mon,thu"}, user=ALICE, conversation=CHANNEL
    )
    card = dialog_card(refused)
    assert (
        status == 200
        and "not a time of day" in card_text(card)
        and "Nothing was saved yet" in card_text(card)
    )
    kept = {e["id"]: e.get("value") for e in inputs(card)}
    assert kept["days"] == "mon,thu" and kept["time"] == "25:00"  # what was entered stays, to correct
    assert teams.candor.count("schedules") == 0
    assert_valid_card(card)

    _, done = await teams.submit(
        refused, {"time": "09:30", "remind": "yes"}, user=ALICE, conversation=CHANNEL
    )
    assert "Check-in #1 is scheduled: Mon, Thu at 09:30 (Europe/Berlin)" in card_text(dialog_card(done))

    await teams.say("checkin run 1", user=ALICE, conversation=CHANNEL)
    await teams.candor.settle()
    prompt = next(b for b in fake_teams.sent_to(CHANNEL) if "Respond" in activity_text(b))
    [respond] = buttons(prompt)
    status, form = await teams.press(
        respond["data"]["action"], respond["data"]["value"], user=BOB, conversation=CHANNEL
    )
    assert status == 200
    await teams.submit(form, {"q0": "Shipping the importer"}, user=BOB, conversation=CHANNEL)
    await teams.candor.settle()
    prompt_id = teams.candor.db.execute("select sent_ref from outbox where id = 1").fetchone()[0]
    threaded = [c for c in fake_teams.sent() if f"{CHANNEL};messageid={prompt_id}" in c.path]
    assert len(threaded) == 1 and "Shipping the importer" in activity_text(threaded[0].body)


async def test_the_reminder_reaches_members_who_did_not_answer_in_their_own_chats(
    teams: TeamsClient, fake_teams, clock
):
    # A Wednesday, 10:00 in Berlin: the reminder, 4 h later, falls in working hours. (When it is
    # pushed past quiet hours and weekends is tests/test_checkin_rules.py's business.)
    clock.t = datetime(2026, 6, 10, 8, 0, tzinfo=UTC).timestamp()
    await teams.say(
        "checkin add mon,tue,wed,thu,fri 09:30 Europe/Berlin weekly", user=ALICE, conversation=CHANNEL
    )
    teams.candor.db["schedules"].update(1, {"remind": 1})
    await teams.say("checkin run 1", user=ALICE, conversation=CHANNEL)
    clock.advance(6 * 3600)
    await run_jobs(teams.candor)
    reminded = {
        c.path.split("/")[3] for c in fake_teams.sent() if "gentle reminder" in activity_text(c.body or {})
    }
    assert reminded == {personal_chat(u) for u in (ALICE, BOB, CAROL, MANAGER)}


# --- nudges ------------------------------------------------------------------------------------
async def test_nudges_now_weekly_by_direct_message_and_for_1_1s(teams: TeamsClient, fake_teams):
    await teams.say("nudge", user=ALICE)
    assert "Why: " in last_reply(fake_teams, personal_chat(ALICE))
    await teams.say("nudge weekly on", user=ALICE)
    assert "Weekly nudges are on" in last_reply(fake_teams, personal_chat(ALICE))
    await teams.say("checkin run 1", user=ALICE)
    await teams.candor.settle()
    posted = [activity_text(b) for b in fake_teams.sent_to(personal_chat(ALICE))]
    assert sum("Your weekly coaching nudge" in text for text in posted) == 1  # the outbox's own post

    await teams.say("checkin remind", user=MANAGER, conversation=CHANNEL)
    dialog = await open_from_reply(teams, fake_teams, CHANNEL, MANAGER)
    report = next(e for e in inputs(dialog_card(dialog)) if e["id"] == "report")
    assert {c["value"] for c in report["choices"]} == {ALICE, BOB, CAROL}  # the team, without the manager
    _, done = await teams.submit(dialog, {"report": BOB}, user=MANAGER, conversation=CHANNEL)
    assert "1:1 reminder #2 is set for your meetings with @Bob Jones" in card_text(dialog_card(done))


async def test_nudges_on_a_channel_schedule(teams: TeamsClient, fake_teams):
    await teams.say("nudge schedule", user=ALICE, conversation=CHANNEL)
    dialog = await open_from_reply(teams, fake_teams, CHANNEL, ALICE)
    _, done = await teams.submit(dialog, {"days": "mon"}, user=ALICE, conversation=CHANNEL)
    assert "Coaching nudges #1 are scheduled" in card_text(dialog_card(done))
    await teams.say("checkin run 1", user=ALICE, conversation=CHANNEL)
    await teams.candor.settle()
    [post] = [c for c in fake_teams.sent() if c.path == f"/v3/conversations/{CHANNEL}/activities"]
    assert "Why: " in activity_text(post.body) and not post.body.get("replyToId")  # a new post, no reply
