"""Coaching notes' rules through the harness: a private note, sharing, who may read it, and the
check-in reminder on the day. The privacy proof end to end is tests/test_coaching_privacy.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from handlers.coaching.ids import ActionId
from tests.support.clock import FakeClock
from tests.support.harness import Harness, text_of

BERLIN = ZoneInfo("Europe/Berlin")
WED_10_BERLIN = datetime(2026, 6, 10, 10, 0, tzinfo=BERLIN).timestamp()
TALKED = "We talked about the missed stand-ups; childcare moved to mornings"


@pytest.fixture
def h(tmp_path):
    harness = Harness(tmp_path, FakeClock(WED_10_BERLIN), admins=frozenset({"root"}))
    harness.people.add("helper", is_bot=True)
    harness.people.add("root")
    yield harness
    harness.close()


def rows(h: Harness) -> tuple[int, int, int]:
    return h.count("coaching_notes"), h.count("outbox"), h.count("processed")


async def write(h: Harness, *, about="bob", by="alice", **values) -> str:
    form = (await h.command("coach", f"@{about}", user=by)).form
    assert form is not None
    return text_of(await h.submit(form, {"talked": TALKED} | values, user=by))


async def test_a_private_note_with_a_check_in_date(h):
    form = (await h.command("coach", "@bob")).form
    assert [(f.id, f.kind, f.optional) for f in form.fields] == [
        ("talked", "multiline", False),
        ("agreed", "multiline", True),
        ("next_checkin", "date", True),
        ("share", "checkboxes", True),
    ]
    reply = await h.submit(
        form, {"talked": TALKED, "agreed": "Stand-up moves to 10:00", "next_checkin": "2026-06-17"}
    )
    assert (
        text_of(reply)
        == "Kept. Only you can read it.\nCandor reminds you of the check-in on Wed 17 Jun 2026."
    )
    assert h.posts() == []
    assert text_of(await h.command("coach", "list @bob")) == (
        "Your coaching notes about @bob\n"
        "Next check-in: Wed 17 Jun 2026\n"
        "#1 · Wed 10 Jun 2026, 10:00 · about @bob · private · next check-in Wed 17 Jun 2026\n"
        "What we talked about:\n"
        f"> {TALKED}\n"
        "What we agreed:\n"
        "> Stand-up moves to 10:00\n"
        "[Share with them]\n"
        "Only you can read this note, and the person if you share it. It is in no report, export, admin view "
        "or escalation record; an escalation case counts only its date."
    )
    assert text_of(await h.command("coach", "list @bob", user="carol")) == (
        "You have no coaching notes about @bob yet. /coach @person writes one."
    )


async def test_only_the_author_and_the_person_once_shared_can_read_it(h):
    await write(h)
    for user in ("bob", "carol", "root"):
        assert text_of(await h.click(ActionId.READ, "1", user=user)) == "I cannot show you that note."
    assert (
        text_of(await h.command("coach", "shared", user="bob"))
        == "Nobody has shared a coaching note with you."
    )
    assert text_of(await h.click(ActionId.SHARE, "1", user="root")) == "I cannot show you that note."
    assert h.posts() == []

    assert text_of(await h.click(ActionId.SHARE, "1")) == "Shared with @bob. They can read it now."
    assert text_of(await h.click(ActionId.SHARE, "1")) == "Already shared with @bob."  # a double click
    assert h.posts() == [
        (
            "@bob",
            "📝 @alice shared a coaching note with you.\n[Read it]\n"
            "Only the two of you can read it. It is not part of any formal record.",
        )
    ]
    assert TALKED in text_of(await h.click(ActionId.READ, "1", user="bob"))
    assert TALKED in text_of(await h.command("coach", "shared", user="bob"))
    assert text_of(await h.click(ActionId.UNSHARE, "1", user="bob")) == (
        "Only the note's author can share it or stop sharing it."
    )
    assert text_of(await h.click(ActionId.READ, "1", user="carol")) == "I cannot show you that note."

    assert text_of(await h.click(ActionId.UNSHARE, "1")) == (
        "No longer shared. Only you can read it; @bob cannot open it any more."
    )
    assert text_of(await h.click(ActionId.READ, "1", user="bob")) == "I cannot show you that note."
    assert TALKED in text_of(await h.click(ActionId.READ, "1"))
    assert len(h.posts()) == 1


async def test_sharing_when_writing_tells_the_person_without_the_text(h):
    assert await write(h, share=["yes"]) == "Kept. Shared with @bob."
    [(where, text)] = h.posts()
    assert where == "@bob" and TALKED not in text


async def test_the_author_is_reminded_once_on_the_check_in_date(tmp_path, database):
    first = Harness(tmp_path, FakeClock(WED_10_BERLIN), database=database)
    second = Harness(
        tmp_path, FakeClock(WED_10_BERLIN), database=database
    )  # another process on the same file
    try:
        await write(first, next_checkin="2026-06-15")  # a Monday
        for h in (first, second):
            h.clock.t = datetime(2026, 6, 15, 8, 59, tzinfo=BERLIN).timestamp()
            await h.run_jobs()
        assert first.posts() == []
        # Both were down at 09:00; they catch up at 11:00, and one of them sends it.
        for h in (second, first, second):
            h.clock.t = datetime(2026, 6, 15, 11, 0, tzinfo=BERLIN).timestamp()
            await h.run_jobs()
        assert first.posts() == [
            (
                "@alice",
                "📅 Your next check-in with @bob is today, Mon 15 Jun 2026.\n[Read your note]\n"
                "From your private coaching note; only you get this reminder.",
            )
        ]
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("", None),
        ("help", None),
        ("@alice", "A coaching note is about someone you coached; notes to yourself belong elsewhere."),
        ("@helper", "Coaching notes are about people, not bots."),
        ("@bob @carol", "A coaching note is about one person: write one note each."),
        (
            "@bob went well",
            "Start with the person you coached, mentioned with @.\nExample: /coach @alex. /coach help shows everything else.",
        ),
        (
            "bob",
            "Start with the person you coached, mentioned with @.\nExample: /coach @alex. /coach help shows everything else.",
        ),
        ("list", "Say whose notes, with one @mention: /coach list @alex."),
        ("list @bob @carol", "Say whose notes, with one @mention: /coach list @alex."),
        ("shared @bob", "/coach shared takes nothing after it."),
        ("x" * 4001, "That is too long to read as a command. Use /coach @person and write in the form."),
    ],
)
async def test_commands_that_cannot_be_done_say_why(h, text, answer):
    before = rows(h)
    reply = text_of(await h.command("coach", text))
    if answer is None:
        assert reply.startswith("Coaching notes, kept apart from formal records")
    else:
        assert reply == answer
    assert rows(h) == before


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        ({"talked": ""}, {"talked": "What we talked about cannot be empty."}),
        (
            {"talked": "t" * 2001},
            {"talked": "What we talked about is 2,001 characters; keep it to 2,000 characters."},
        ),
        ({"agreed": "\u200b\u200b"}, None),  # empty is fine: it is optional
        (
            {"agreed": "a" * 2001},
            {"agreed": "What we agreed is 2,001 characters; keep it to 2,000 characters."},
        ),
        ({"next_checkin": "2026-06-09"}, {"next_checkin": "The next check-in is a date from today on."}),
        ({"next_checkin": "2027-06-11"}, {"next_checkin": "Choose a date at most 365 days ahead."}),
        ({"next_checkin": "next week"}, {"next_checkin": "Give the date as YYYY-MM-DD, e.g. 2026-12-15."}),
    ],
)
async def test_a_refused_note_names_the_field_and_keeps_nothing(h, values, errors):
    form = (await h.command("coach", "@bob")).form
    before = rows(h)
    reply = await h.submit(form, {"talked": TALKED} | values)
    if errors is None:
        assert text_of(reply).startswith("Kept.")
        return
    assert reply.errors == errors
    assert rows(h) == before


async def test_a_note_form_sent_twice_keeps_one_note_and_a_forged_one_none(h):
    form = (await h.command("coach", "@bob")).form
    await h.submit(form, {"talked": TALKED})
    assert text_of(await h.submit(form, {"talked": TALKED})) == "That note is already kept."
    for context in ("", "{}", '{"n":"x","to":"alice","tz":"UTC"}', '{"n":"y","to":"helper","tz":"UTC"}'):
        reply = await h.submit(replace(form, context=context), {"talked": TALKED})
        assert reply.errors["talked"] in (
            "This form is out of date. Please start again.",
            "A coaching note is about someone you coached; notes to yourself belong elsewhere.",
            "Coaching notes are about people, not bots.",
        )
    assert h.count("coaching_notes") == 1


async def test_buttons_with_values_that_are_not_notes(h):
    await write(h)
    for value in ("", "x", "1:1", "9" * 13, "-1", "2"):
        assert text_of(await h.click(ActionId.READ, value)) == "I cannot show you that note."


async def test_the_longest_list_fits_in_one_slack_message(h):
    from bot.slack.render import reply_payload

    for _ in range(12):
        await write(h, talked="t" * 2000, agreed="a" * 2000, next_checkin="2026-06-17")
    listed = await h.command("coach", "list @bob")
    assert text_of(listed).count("What we talked about:") == 8  # the newest 8
    assert len(reply_payload(listed)["blocks"]) <= 50


async def test_two_processes_that_read_the_same_due_check_in_remind_once(tmp_path, database):
    from handlers.coaching import jobs

    first = Harness(tmp_path, FakeClock(WED_10_BERLIN), database=database)
    second = Harness(tmp_path, FakeClock(WED_10_BERLIN), database=database)
    try:
        await write(first, next_checkin="2026-06-11")
        for h in (first, second):
            h.clock.advance(86400)
        both = [await jobs.checkins_due(first.services), await jobs.checkins_due(second.services)]
        assert [len(found) for found in both] == [1, 1]
        assert await jobs.remind(second.services, both[1]) == 1
        assert await jobs.remind(first.services, both[0]) == 0
        assert len(first.posts()) == 1
    finally:
        first.close()
        second.close()
