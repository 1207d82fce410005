"""Check-in rules called the way an adapter calls them, as transcripts: a stub directory, no HTTP."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest

from bot.messages import Actions, Form, decode
from handlers.checkins.ids import CheckinAction
from tests.support.clock import FakeClock
from tests.support.harness import PLATFORM, Harness, StubPeople, text_of


def at(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


MONDAY_7_BERLIN = at(2027, 1, 4, 6, 0)


@pytest.fixture
def h(tmp_path):
    harness = Harness(tmp_path, clock=FakeClock(MONDAY_7_BERLIN))
    yield harness
    harness.close()


def respond_ref(h: Harness) -> str:
    """The value of the Respond button on the last queued post that has one."""
    for (payload,) in h.store.db.execute("select payload from outbox order by id desc"):
        for block in decode(json.loads(payload)).blocks:
            if isinstance(block, Actions):
                return next(b.value for b in block.buttons if b.action_id == CheckinAction.RESPOND)
    raise AssertionError("no post with a Respond button")


async def open_form(h: Harness, *args: str, **kwargs: str) -> Form:
    reply = await h.command(*args, **kwargs)
    assert reply.form is not None, text_of(reply)
    return reply.form


RETRO = (
    "🗓️ Retro\nA short retro, blameless as always. We look at the process, not the person.\n"
    "• How can we do this better next time?\n• What should we keep doing?\n[Respond]\n"
    "Answers are posted in this thread under your name."
)


async def test_a_check_in_posts_its_prompt_at_local_time_and_answers_go_in_its_thread(h):
    reply = await h.command("checkin", "add mon 09:30 Europe/Berlin retro")
    assert text_of(reply) == (
        "Check-in #1 is scheduled: Mon at 09:30 (Europe/Berlin). It will post in #team. "
        "/checkin list shows it."
    )
    assert (await h.fire_schedules()).fired == 0
    h.clock.t = at(2027, 1, 4, 8, 30, 5)  # 09:30 in Berlin
    assert (await h.fire_schedules()).fired == 1
    assert (await h.fire_schedules()).fired == 0  # once per occurrence
    assert h.posts() == [("#team", RETRO)]

    form = (await h.click(CheckinAction.RESPOND, respond_ref(h), user="bob")).form
    assert form is not None and [f.label for f in form.fields] == [
        "How can we do this better next time?",
        "What should we keep doing?",
    ]
    reply = await h.submit(form, {"q0": "smaller pull requests"}, user="bob")
    assert text_of(reply) == "Thanks, your answers are posted in the check-in's thread."
    form = (await h.click(CheckinAction.RESPOND, respond_ref(h), user="bob")).form
    assert form is not None and form.fields[0].initial == "smaller pull requests"  # to edit
    await h.submit(form, {"q0": "smaller pull requests", "q1": "pairing"}, user="bob")
    assert h.posts()[1:] == [
        ("#team", "Answers from @bob\nHow can we do this better next time?\n> smaller pull requests"),
        (
            "#team",
            "Updated answers from @bob\nHow can we do this better next time?\n> smaller pull requests\n"
            "What should we keep doing?\n> pairing",
        ),
    ]
    (prompt,) = h.store.db.execute("select min(id) from outbox").fetchone()
    threads = h.store.db.execute("select reply_to from outbox where id > ?", [prompt]).fetchall()
    assert threads == [(prompt,), (prompt,)]  # in the prompt's thread
    assert h.count("checkin_responses") == 1


async def test_an_empty_or_too_long_answer_is_refused_and_nothing_is_posted(h):
    await h.command("checkin", "add mon 09:30 Europe/Berlin retro")
    await h.command("checkin", "run 1")
    form = (await h.click(CheckinAction.RESPOND, respond_ref(h), user="bob")).form
    assert form is not None
    assert text_of(await h.submit(form, {}, user="bob")) == '{"q0": "Answer at least one question."}'
    refused = await h.submit(form, {"q1": "x" * 1001}, user="bob")
    assert "keep it to 1,000 characters" in text_of(refused)
    assert len(h.posts()) == 1 and h.count("checkin_responses") == 0


async def test_a_respond_button_of_a_deleted_check_in_is_closed(h):
    await h.command("checkin", "add mon 09:30 Europe/Berlin retro")
    await h.command("checkin", "run 1")
    ref = respond_ref(h)
    assert text_of(await h.command("checkin", "delete 1")) == "Schedule #1 (Retro) is deleted."
    assert h.count("checkin_runs") == 0
    reply = await h.click(CheckinAction.RESPOND, ref, user="bob")
    assert reply.form is None and text_of(reply) == "This check-in is closed or was deleted."


async def test_the_reminder_goes_once_to_people_who_did_not_answer_outside_quiet_hours(h):
    h.people.add("robot", is_bot=True)
    h.people.channels["team"] = ["alice", "bob", "carol", "robot"]
    form = await open_form(h, "checkin")
    values = {"days": ["mon"], "time": "16:00", "template": "retro", "remind": ["yes"]}
    assert "is scheduled" in text_of(await h.submit(form, values))
    h.clock.t = at(2027, 1, 4, 15, 0, 5)  # 16:00 in Berlin
    assert (await h.fire_schedules()).fired == 1
    form = (await h.click(CheckinAction.RESPOND, respond_ref(h), user="bob")).form
    assert form is not None
    await h.submit(form, {"q0": "fewer meetings"}, user="bob")

    h.clock.t = at(2027, 1, 4, 19, 30)  # four hours later: 20:30 in Berlin, quiet hours
    await h.run_jobs()
    assert len(h.posts()) == 2  # the prompt and bob's answers, no reminder yet
    h.clock.t = at(2027, 1, 5, 8, 0, 30)  # Tuesday 09:00 in Berlin
    await h.run_jobs()
    reminder = "A gentle reminder: the Retro is open.\n[Respond]\nYou get this once per check-in. A short answer is fine."
    assert h.posts()[2:] == [("@alice", reminder), ("@carol", reminder)]  # not bob, not the bot
    h.clock.advance(3600)
    await h.run_jobs()
    assert len(h.posts()) == 4  # once per check-in


@dataclass
class NetworkPeople(StubPeople):
    """A directory that, like a platform's, answers a member list after a round trip."""

    async def members(self, conversation: str) -> list[str]:
        await asyncio.sleep(0)
        return await super().members(conversation)


async def test_two_processes_send_a_check_in_reminder_once(tmp_path, database):
    clock = FakeClock(MONDAY_7_BERLIN)
    first, second = (
        Harness(tmp_path, database=database, clock=clock),
        Harness(tmp_path, database=database, clock=clock),
    )  # one database
    try:
        for h in (first, second):
            h.services = replace(h.services, directories={PLATFORM: NetworkPeople(people=h.people.people)})
        form = await open_form(first, "checkin")
        await first.submit(form, {"days": ["mon"], "time": "10:00", "template": "retro", "remind": ["yes"]})
        clock.t = at(2027, 1, 4, 9, 0, 5)
        await first.fire_schedules()
        clock.t = at(2027, 1, 4, 13, 30)  # 14:30 in Berlin, past the four hours
        sent = await asyncio.gather(
            *(h.services.registry.periodic[0].run(h.services) for h in (first, second))
        )
        assert sorted(sent) == [0, 3]
        assert [where for where, _ in first.posts()[1:]] == ["@alice", "@bob", "@carol"]
    finally:
        first.close()
        second.close()


async def test_skip_dates_pause_and_resume(h):
    form = await open_form(h, "checkin")
    values = {"days": ["mon", "tue"], "time": "09:00", "template": "weekly", "skip": "2027-01-05"}
    assert "is scheduled" in text_of(await h.submit(form, values))
    fired = []
    for day in (4, 5, 6, 11):  # Mon, Tue (a skip date), Wed (no check-in), the next Mon
        h.clock.t = at(2027, 1, day, 8, 0, 5)
        fired.append((await h.fire_schedules()).fired)
    assert fired == [1, 0, 0, 1]
    assert text_of(await h.command("checkin", "pause 1")) == "Schedule #1 (Weekly team check-in) is paused."
    h.clock.t = at(2027, 1, 12, 8, 0, 5)
    assert (await h.fire_schedules()).fired == 0
    assert "· paused" in text_of(await h.command("checkin", "list"))
    h.clock.t = at(2027, 1, 12, 8, 30)
    assert text_of(await h.command("checkin", "resume 1")) == "Schedule #1 (Weekly team check-in) is resumed."
    assert (await h.fire_schedules()).fired == 0  # missed while paused: not made up
    h.clock.t = at(2027, 1, 18, 8, 0, 5)
    assert (await h.fire_schedules()).fired == 1
    assert h.count("checkin_runs") == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("add mon 25:00", "25:00 is not a time of day. Use 00:00 to 23:59."),
        ("add mon 09:00 Mars/Base", "'Mars/Base' is not a timezone I know."),
        ("add someday 09:00", "'someday' is not a day. Use mon, tue, … sun, or weekdays."),
        ("pause", "Usage: /checkin pause <id>, e.g. /checkin pause 3."),
        ("pause x", "Give the schedule's number, e.g. /checkin pause 3. /checkin list shows them."),
        ("delete 99", "There is no schedule #99 here. /checkin list shows them."),
        ("shout", "I don't know /checkin shout.\nType /checkin help for what I can do."),
    ],
)
async def test_bad_commands_are_answered_and_change_nothing(h, text, expected):
    await h.command("checkin", "add mon 09:30 Europe/Berlin retro")
    before = h.store.db.execute("select * from schedules").fetchall()
    assert expected in text_of(await h.command("checkin", text))
    assert h.store.db.execute("select * from schedules").fetchall() == before


async def test_only_the_creator_or_an_admin_changes_a_schedule(h):
    h.people.add("ada", is_platform_admin=True)
    await h.command("checkin", "add mon 09:30 Europe/Berlin retro")
    refused = await h.command("checkin", "run 1", user="bob")
    assert text_of(refused) == "Only the person who created this schedule, or a Candor admin, can change it."
    assert h.posts() == []
    assert text_of(await h.command("checkin", "pause 1", user="ada")) == "Schedule #1 (Retro) is paused."


async def test_the_form_refuses_a_channel_candor_is_not_in_or_one_the_person_is_not_in(h):
    h.people.outside.add("elsewhere")
    h.people.channels["private"] = ["bob"]
    form = await open_form(h, "checkin")
    refused = await h.submit(form, {"channel": "elsewhere"})
    assert text_of(refused) == (
        '{"channel": "Candor is not in that channel yet: type /invite @candor there, then submit again."}'
    )
    refused = await h.submit(form, {"channel": "private"})
    assert "a channel you are a member of" in text_of(refused)
    assert h.count("schedules") == 0


async def test_a_channel_holds_at_most_the_configured_number_of_schedules(tmp_path):
    h = Harness(tmp_path, clock=FakeClock(MONDAY_7_BERLIN), max_schedules_per_channel=2)
    try:
        for _ in range(2):
            await h.command("checkin", "add mon 09:30 Europe/Berlin retro")
        reply = await h.command("checkin", "add tue 09:30 Europe/Berlin retro")
        assert text_of(reply) == (
            "That channel already has 2 schedules, the limit. Remove one with /checkin delete <id>."
        )
        assert h.count("schedules") == 2
    finally:
        h.close()


@dataclass(frozen=True)
class WordSyntax:
    """A platform where people write to the bot in words, without a slash (as on Teams)."""

    invite_hint: str = "add Candor to the channel"

    def command(self, name: str, args: str = "") -> str:
        return f"{name} {args}".rstrip()


async def test_what_check_ins_say_names_commands_the_platforms_way(h):
    h.services = replace(h.services, syntaxes={PLATFORM: WordSyntax()})
    h.people.outside.add("elsewhere")
    said = [
        text_of(await h.command("checkin", "help")),
        text_of(await h.command("checkin", "add mon 09:30 Europe/Berlin retro")),
        text_of(await h.command("checkin", "list")),
        text_of(await h.command("checkin", "pause")),
        text_of(await h.command("checkin", "pause 42")),
        text_of(await h.command("checkin", "frobnicate")),
        text_of(await h.submit(await open_form(h, "checkin"), {"channel": "elsewhere"})),
        text_of(await h.command("checkin", "list", channel="empty")),
    ]
    assert not [line for line in said if "/checkin" in line or "/nudge" in line or "/invite" in line]
    assert "checkin list shows it." in said[1]
    assert "Change one with checkin pause|resume|delete|run <id>." in said[2]
    assert "add Candor to the channel, then submit again" in said[6]
    assert said[7].endswith(
        "checkin opens the check-in form; nudge schedule sets coaching nudges for a channel; "
        "checkin remind sets 1:1 reminders."
    )
