"""Coaching notes in Teams, end to end over HTTP: `coach @person` in a dialog, a shared note's
"Read it" answering only its reader, `coach list` and `coach shared` shown only to whoever asks, and
the check-in reminder in the author's own chat. A note's text never travels in a message Teams
keeps: only in the dialogs' answers, to its author and, while shared, its person."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.support.teams import (
    BOB,
    CAROL,
    CHANNEL,
    MANAGER,
    TeamsClient,
    ask,
    button_data,
    dialog_text,
    fields_of,
    last_reply,
    open_from_reply,
    personal_chat,
    run_jobs,
    seen_text,
)

BERLIN = ZoneInfo("Europe/Berlin")
TALKED = "Review load and <at>Carol Diaz</at> **pairing** on the importer"
AGREED = "Bob pairs on two reviews a week"


@pytest.fixture(autouse=True)
async def installed(teams: TeamsClient, clock):
    clock.t = datetime(2026, 6, 10, 10, 0, tzinfo=BERLIN).timestamp()  # a Wednesday morning in Berlin
    assert await teams.install_team(MANAGER) == 200
    for person in (MANAGER, BOB):
        assert await teams.install_personal(person) == 200


async def write_note(teams: TeamsClient, fake, *, share: bool, next_checkin: str | None = None) -> str:
    """Mara's note about Bob, from her own chat; what the dialog answered."""
    await teams.say("coach <at>Bob Jones</at>", user=MANAGER, mentions=((BOB, "Bob Jones"),))
    form = await open_from_reply(teams, fake, personal_chat(MANAGER), MANAGER)
    answers = {"talked": TALKED, "agreed": AGREED, "share": "yes" if share else ""}
    if next_checkin:
        answers["next_checkin"] = next_checkin
    _, kept = await teams.submit(form, answers, user=MANAGER, conversation=personal_chat(MANAGER))
    await teams.candor.settle()
    return dialog_text(kept)


def nothing_kept_holds_the_note(teams: TeamsClient, fake) -> None:
    """No call to Teams (posts, edits, replies) and no outbox row carries the note's text."""
    assert [c.path for c in fake.calls if TALKED.split()[0] + " load" in json.dumps(c.body or {})] == []
    rows = teams.candor.db.execute("select payload from outbox").fetchall()
    assert rows and not any("Review load" in str(r[0]) for r in rows)


async def test_a_note_in_a_dialog_shared_and_read_only_by_its_person(teams: TeamsClient, fake_teams):
    await teams.say("coach <at>Bob Jones</at>", user=MANAGER, mentions=((BOB, "Bob Jones"),))
    form = await open_from_reply(teams, fake_teams, personal_chat(MANAGER), MANAGER)
    fields = fields_of(form)
    assert fields["next_checkin"]["type"] == "Input.Date" and fields["share"]["style"] == "expanded"
    assert "A note about @Bob Jones" in dialog_text(form)
    _, refused = await teams.submit(
        form, {"talked": "\u200b"}, user=MANAGER, conversation=personal_chat(MANAGER)
    )
    assert "Nothing was saved yet" in dialog_text(refused) and teams.candor.count("coaching_notes") == 0

    assert "Kept. Shared with @Bob Jones" in await write_note(teams, fake_teams, share=True)
    [shared] = [b for b in fake_teams.sent_to(personal_chat(BOB)) if "shared a coaching note" in seen_text(b)]
    assert "@Mara Manager shared a coaching note with you" in seen_text(shared)
    assert "Review load" not in seen_text(shared)  # the message only carries the button
    read = button_data(shared, "Read it")
    _, note = await teams.press(read["action"], read["value"], user=BOB, conversation=personal_chat(BOB))
    assert TALKED in dialog_text(note) and AGREED in dialog_text(note)  # typed <at> and ** stay text
    _, refused = await teams.press(read["action"], read["value"], user=CAROL, conversation=CHANNEL)
    assert dialog_text(refused) == "I cannot show you that note."  # Carol: not hers to read

    # In a channel, the list and the shared notes are for whoever asked only.
    await teams.say(
        "coach list <at>Bob Jones</at>", user=MANAGER, conversation=CHANNEL, mentions=((BOB, "Bob Jones"),)
    )
    assert "Only for you" in last_reply(fake_teams, CHANNEL) and "Review load" not in last_reply(
        fake_teams, CHANNEL
    )
    listing = await open_from_reply(teams, fake_teams, CHANNEL, MANAGER)
    assert "Your coaching notes about @Bob Jones" in dialog_text(listing) and TALKED in dialog_text(listing)
    not_hers = await open_from_reply(teams, fake_teams, CHANNEL, CAROL)
    assert "only for the person who asked" in dialog_text(not_hers)
    _, unshared = await teams.press_in_dialog(listing, "Stop sharing", user=MANAGER, conversation=CHANNEL)
    assert "No longer shared" in dialog_text(unshared)
    _, closed = await teams.press(read["action"], read["value"], user=BOB, conversation=personal_chat(BOB))
    assert "cannot show you that note" in dialog_text(closed)

    shared = await ask(teams, fake_teams, "coach shared", user=BOB, conversation=CHANNEL)
    assert shared == "Nobody has shared a coaching note with you."
    nothing_kept_holds_the_note(teams, fake_teams)


async def test_shared_notes_and_the_check_in_reminder_in_the_authors_chat(
    teams: TeamsClient, fake_teams, clock
):
    assert "Kept. Shared with @Bob Jones" in await write_note(
        teams, fake_teams, share=True, next_checkin="2026-06-11"
    )
    await teams.say("coach shared", user=BOB)
    shared = await open_from_reply(teams, fake_teams, personal_chat(BOB), BOB)
    assert "Coaching notes shared with you" in dialog_text(shared) and "from @Mara Manager" in dialog_text(
        shared
    )

    await run_jobs(teams.candor)
    assert not any("next check-in" in seen_text(b) for b in fake_teams.sent_to(personal_chat(MANAGER)))
    clock.t = datetime(2026, 6, 11, 9, 1, tzinfo=BERLIN).timestamp()  # that morning
    await run_jobs(teams.candor)
    await run_jobs(teams.candor)
    [reminder] = [b for b in fake_teams.sent_to(personal_chat(MANAGER)) if "next check-in" in seen_text(b)]
    assert "Your next check-in with @Bob Jones is today" in seen_text(reminder)
    assert "Review load" not in seen_text(reminder)
    read = button_data(reminder, "Read your note")
    _, note = await teams.press(
        read["action"], read["value"], user=MANAGER, conversation=personal_chat(MANAGER)
    )
    assert TALKED in dialog_text(note) and "Stop sharing" in dialog_text(note)
    nothing_kept_holds_the_note(teams, fake_teams)
