"""Coaching-nudge rules called the way an adapter calls them, as transcripts: a stub directory, no HTTP."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.messages import Form
from tests.support.clock import FakeClock
from tests.support.harness import PLATFORM, Harness, text_of
from tests.test_checkin_rules import WordSyntax


def at(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


@pytest.fixture
def h(tmp_path):
    harness = Harness(tmp_path, clock=FakeClock(at(2027, 1, 4, 6, 0)))  # Monday 07:00 in Berlin
    yield harness
    harness.close()


async def open_form(h: Harness, *args: str, **kwargs: str) -> Form:
    reply = await h.command(*args, **kwargs)
    assert reply.form is not None, text_of(reply)
    return reply.form


def nudge_text(h: Harness, slug: str) -> str:
    nudge = next(n for n in h.services.catalog.nudges if n.slug == slug)
    return f"💡 {nudge.text}\nWhy: {nudge.why} · #{nudge.tag}"


async def test_nudges_rotate_per_person_without_repeating(h):
    catalog = [n.slug for n in h.services.catalog.nudges]
    given = [text_of(await h.command("nudge")) for _ in catalog]
    assert given == [nudge_text(h, slug) for slug in catalog]  # each once, in the catalog's order
    assert text_of(await h.command("nudge")) == nudge_text(h, catalog[0])  # then a new rotation
    assert text_of(await h.command("nudge", user="bob")) == nudge_text(h, catalog[0])  # bob's own
    assert h.posts() == []  # only the person who asked sees it


async def test_weekly_nudges_come_by_dm_at_the_chosen_time_until_turned_off(h):
    reply = await h.command("nudge", "weekly on tue 08:15")
    assert text_of(reply) == "Weekly nudges are on: Tue at 08:15 (Europe/Berlin), in a private message."
    await h.command("nudge", "weekly on wed 10:00")  # replaces the first: one per person
    assert h.count("schedules") == 1
    h.clock.t = at(2027, 1, 5, 7, 15, 5)  # Tuesday 08:15 in Berlin
    assert (await h.fire_schedules()).fired == 0
    h.clock.t = at(2027, 1, 6, 9, 0, 5)  # Wednesday 10:00
    assert (await h.fire_schedules()).fired == 1
    first = h.services.catalog.nudges[0].slug
    assert h.posts() == [("@alice", "Your weekly coaching nudge\n" + nudge_text(h, first))]
    assert text_of(await h.command("nudge", "weekly off")) == "Weekly nudges are off."
    assert text_of(await h.command("nudge", "weekly off")) == "You had no weekly nudges; nothing changed."
    h.clock.t = at(2027, 1, 13, 9, 0, 5)
    assert (await h.fire_schedules()).fired == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("weekly", "Usage: /nudge weekly on [day] [HH:MM], or /nudge weekly off"),
        ("weekly on funday", "'funday' is not a day."),
        ("weekly on mon 9am", "Give the time as HH:MM on a 24-hour clock, e.g. 09:30."),
        ("weekly on mon 09:00 now", "Usage: /nudge weekly on [day] [HH:MM], e.g. /nudge weekly on mon 09:00"),
        ("loudly", "I don't know /nudge loudly.\nType /nudge help for what I can do."),
    ],
)
async def test_bad_nudge_commands_are_answered_and_change_nothing(h, text, expected):
    await h.command("nudge", "weekly on mon 09:00")
    before = h.store.db.execute("select * from schedules").fetchall()
    assert expected in text_of(await h.command("nudge", text))
    assert h.store.db.execute("select * from schedules").fetchall() == before


async def test_channel_nudges_rotate_through_the_chosen_topics_and_are_forgotten_when_deleted(h):
    form = await open_form(h, "nudge", "schedule")
    refused = await h.submit(form, {"tags": ["gossip"]})
    assert text_of(refused) == '{"tags": "Pick topics from the list."}'
    reply = await h.submit(form, {"days": ["mon"], "time": "09:00", "tags": ["listening", "feedback"]})
    assert text_of(reply) == "Coaching nudges #1 are scheduled: Mon at 09:00 (Europe/Berlin)."
    for week in range(3):
        h.clock.t = at(2027, 1, 4 + 7 * week, 8, 0, 5)
        assert (await h.fire_schedules()).fired == 1
    listen, feedback = nudge_text(h, "listen-first"), nudge_text(h, "how-we-give-feedback")
    assert h.posts() == [("#team", listen), ("#team", feedback), ("#team", listen)]
    assert h.store.db.execute("select count(*) from nudge_log where scope = 'schedule:1'").fetchone() == (1,)
    assert text_of(await h.command("checkin", "delete 1")) == "Schedule #1 (Coaching nudge) is deleted."
    assert h.store.db.execute("select count(*) from nudge_log where scope = 'schedule:1'").fetchone() == (0,)


async def test_one_on_one_reminders_every_other_week_name_the_report(h):
    h.people.add("robot", is_bot=True)
    form = await open_form(h, "checkin", "remind")
    for values, expected in (
        ({"report": "alice"}, '{"report": "Pick someone other than yourself."}'),
        ({"report": "robot"}, '{"report": "Pick a person in this workspace (not a bot)."}'),
        ({"report": "bob", "every": "6"}, '{"every": "Pick how often you meet."}'),
    ):
        assert text_of(await h.submit(form, values)) == expected
    assert h.count("schedules") == 0
    reply = await h.submit(form, {"report": "bob", "every": "2", "day": "tue", "time": "10:00"})
    assert text_of(reply) == (
        "1:1 reminder #1 is set for your meetings with @bob: every 2 weeks on Tue at 10:00 (Europe/Berlin)."
    )
    fired = []
    for week in range(4):
        h.clock.t = at(2027, 1, 5 + 7 * week, 9, 0, 5)  # Tuesdays, 10:00 in Berlin
        fired.append((await h.fire_schedules()).fired)
    assert fired == [1, 0, 1, 0]
    catalog = h.services.catalog.nudges
    assert h.posts() == [
        ("@alice", f"🤝 Your 1:1 with @bob is due. One prompt for it:\n{nudge_text(h, catalog[i].slug)}")
        for i in (0, 1)
    ]


async def test_the_list_shows_the_channels_schedules_and_only_my_own_reminders(h):
    await h.command("checkin", "add mon,thu 09:30 Europe/Berlin retro")
    await h.command("nudge", "weekly on fri 08:00")
    form = await open_form(h, "checkin", "remind")
    await h.submit(form, {"report": "carol", "every": "1", "day": "wed", "time": "11:00"})
    await h.command("checkin", "add tue 10:00 Asia/Kolkata weekly", channel="other")
    assert text_of(await h.command("checkin", "list")) == (
        "Schedules in this channel and your reminders\n"
        "#1 · Retro · Mon, Thu at 09:30 (Europe/Berlin) · next Mon 04 Jan 09:30\n"
        "#2 · Weekly coaching nudge · Fri at 08:00 (Europe/Berlin) · next Fri 08 Jan 08:00\n"
        "#3 · 1:1 reminder with @carol · Wed at 11:00 (Europe/Berlin) · next Wed 06 Jan 11:00\n"
        "Change one with /checkin pause|resume|delete|run <id>."
    )
    assert text_of(await h.command("checkin", "list", user="bob")) == (
        "Schedules in this channel and your reminders\n"
        "#1 · Retro · Mon, Thu at 09:30 (Europe/Berlin) · next Mon 04 Jan 09:30\n"
        "Change one with /checkin pause|resume|delete|run <id>."
    )


async def test_what_nudges_say_names_commands_the_platforms_way(h):
    h.services = replace(h.services, syntaxes={PLATFORM: WordSyntax()})
    said = [
        text_of(await h.command("nudge", text)) for text in ("help", "weekly", "weekly on mon 9am", "loudly")
    ]
    assert not [line for line in said if "/nudge" in line or "/checkin" in line]
    assert "checkin remind sets recurring 1:1 reminders" in said[0]
    assert said[1] == "Usage: nudge weekly on [day] [HH:MM], or nudge weekly off"
    assert said[3] == "I don't know nudge loudly.\nType nudge help for what I can do."
