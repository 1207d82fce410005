"""Coaching nudges and 1:1 reminders for managers, and who may change a schedule."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.server import SCHEDULER, SERVICES
from tests.support.candor import Candor, blocks_text, make_settings


def at(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


async def test_nudges_rotate_without_repeating_until_all_were_given(candor):
    catalog = candor.app[SERVICES].catalog.nudges
    seen = []
    for _ in range(len(catalog)):
        status, reply = await candor.command("/nudge", "")
        assert status == 200 and reply["response_type"] == "ephemeral"
        seen.append(next(n.text for n in catalog if n.text in blocks_text(reply)))
    assert sorted(seen) == sorted(n.text for n in catalog)
    _, reply = await candor.command("/nudge", "")
    assert seen[0] in blocks_text(reply)  # a new round starts
    _, other = await candor.command("/nudge", "", user="UBOB")  # everyone has their own rotation
    assert seen[0] in blocks_text(other)


async def test_a_nudge_says_why(candor):
    _, reply = await candor.command("/nudge", "")
    assert "Why:" in blocks_text(reply)


async def test_weekly_nudges_by_dm_at_the_chosen_time_and_off_again(candor, clock, slack):
    clock.t = at(2027, 1, 4, 12, 0)
    _, reply = await candor.command("/nudge", "weekly on tue 08:15")
    assert "Weekly nudges are on: Tue at 08:15 (Europe/Berlin), in a private message." in blocks_text(reply)
    _, reply = await candor.command("/nudge", "weekly on wed 10:00")  # replaces, not adds
    assert candor.count("schedules") == 1
    clock.t = at(2027, 1, 6, 9, 0, 30)
    assert (await candor.app[SCHEDULER].fire_due()).fired == 1
    await candor.settle()
    [dm] = slack.delivered_to("UALICE")
    assert "Your weekly coaching nudge" in blocks_text(dm)
    _, reply = await candor.command("/nudge", "weekly off")
    assert "Weekly nudges are off." in blocks_text(reply)
    assert candor.count("schedules") == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("weekly", "Usage: /nudge weekly on"),
        ("weekly maybe", "Usage: /nudge weekly on"),
        ("weekly on funday", "is not a day"),
        ("weekly on mon 24:00", "not a time of day"),
        ("weekly on mon 09:00 extra", "Usage"),
        ("sometimes", "I don't know /nudge sometimes"),
        ("x" * 5000, "too long"),
    ],
)
async def test_bad_nudge_commands_change_nothing(candor, text, expected):
    await candor.command("/nudge", "weekly on mon 09:00")
    before = candor.db["schedules"].get(1)
    _, reply = await candor.command("/nudge", text)
    assert reply["response_type"] == "ephemeral" and expected in blocks_text(reply)
    assert candor.count("schedules") == 1 and candor.db["schedules"].get(1) == before


async def test_channel_nudges_with_chosen_topics(candor, clock, slack):
    clock.t = at(2027, 1, 4, 6, 0)
    await candor.command("/nudge", "schedule")
    view = slack.opened_views()[-1]
    assert view["callback_id"] == "nudge_schedule"
    ack = await candor.submit(view, {"days": ["mon"], "time": "09:00", "tags": ["feedback"]})
    assert ack["response_action"] == "update"
    ack = await candor.submit(view, {"tags": ["made-up"]})
    assert ack["response_action"] == "errors" and "topics" in ack["errors"]["tags"]
    for week in range(2):
        clock.t = at(2027, 1, 4 + 7 * week, 8, 0, 30)
        assert (await candor.app[SCHEDULER].fire_due()).fired == 1
    await candor.settle()
    posts = slack.delivered_to("CTEAM")
    assert len(posts) == 2
    assert all("How we give feedback here" in blocks_text(p) for p in posts)  # the only one with that tag


async def test_one_on_one_reminders_name_the_report_and_carry_a_prompt(candor, clock, slack):
    clock.t = at(2027, 1, 4, 6, 0)  # Monday of week 0
    await candor.command("/checkin", "remind")
    view = slack.opened_views()[-1]
    assert view["callback_id"] == "one_on_one_create"
    for answers, field, expected in (
        ({"report": "UALICE"}, "report", "other than yourself"),
        ({"report": "UHELPER"}, "report", "not a bot"),
        ({"report": None}, "report", "Pick the person"),
        ({"report": "UBOB", "tz": "Nowhere/Land"}, "tz", "not a timezone"),
        ({"report": "UBOB", "every": "9"}, "every", "how often"),
    ):
        ack = await candor.submit(view, answers)
        assert ack["response_action"] == "errors" and expected in ack["errors"][field]
    assert candor.count("schedules") == 0
    ack = await candor.submit(view, {"report": "UBOB", "every": "2", "day": "tue", "time": "10:00"})
    assert "every 2 weeks on Tue at 10:00 (Europe/Berlin)" in blocks_text(ack["view"])
    fired = []
    for week in range(4):
        clock.t = at(2027, 1, 5 + 7 * week, 9, 0, 30)  # Tuesdays, 10:00 Berlin
        fired.append((await candor.app[SCHEDULER].fire_due()).fired)
    assert fired == [1, 0, 1, 0]
    await candor.settle()
    dms = slack.delivered_to("UALICE")
    assert len(dms) == 2
    assert "Your 1:1 with <@UBOB> is due" in blocks_text(dms[0])
    assert "Why:" in blocks_text(dms[0])


async def test_only_the_creator_or_an_admin_may_change_a_schedule(tmp_path, clock, slack):
    slack.add_user("UADMIN", "ada", is_admin=True)
    settings = make_settings(tmp_path / "p.db", slack.url, admins=frozenset({"UCAROL"}))
    candor = await Candor(settings, clock, slack).start()
    try:
        await candor.command("/checkin", "add mon 09:00 Europe/Berlin retro")
        for verb in ("pause", "resume", "delete", "run"):
            _, reply = await candor.command("/checkin", f"{verb} 1", user="UBOB")
            assert "Only the person who created this schedule, or a Candor admin" in blocks_text(reply)
        assert candor.db["schedules"].get(1)["paused"] == 0 and candor.count("checkin_runs") == 0
        _, reply = await candor.command("/checkin", "pause 1", user="UADMIN")  # workspace admin
        assert "is paused" in blocks_text(reply)
        _, reply = await candor.command("/checkin", "resume 1", user="UCAROL")  # CANDOR_ADMINS
        assert "is resumed" in blocks_text(reply)
        _, reply = await candor.command("/checkin", "delete 1")  # the creator
        assert "is deleted" in blocks_text(reply) and candor.count("schedules") == 0
    finally:
        await candor.stop()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pause", "Usage: /checkin pause &lt;id&gt;"),
        ("pause abc", "Give the schedule's number"),
        ("pause 99", "There is no schedule #99 here"),
        ("delete 1 2", "Usage: /checkin delete &lt;id&gt;"),
        ("add", "Usage: /checkin add"),
        ("add mon", "Usage: /checkin add"),
        ("add someday 09:00", "is not a day"),
        ("add mon 9pm", "HH:MM"),
        ("add mon 09:00 Europe/Nowhere", "not a timezone"),
        ("add mon 09:00 UTC nosuch", "Pick one of the prompts"),
        ("frobnicate", "I don't know /checkin frobnicate"),
        ("x" * 5000, "too long"),
    ],
)
async def test_bad_checkin_commands_change_nothing(candor, text, expected):
    await candor.command("/checkin", "add mon 09:00 Europe/Berlin retro")
    before = candor.db["schedules"].get(1)
    _, reply = await candor.command("/checkin", text)
    assert reply["response_type"] == "ephemeral" and expected in blocks_text(reply), blocks_text(reply)
    assert candor.count("schedules") == 1 and candor.db["schedules"].get(1) == before


async def test_list_shows_check_ins_nudges_and_my_reminders(candor, clock):
    clock.t = at(2027, 1, 4, 6, 0)
    await candor.command("/checkin", "add mon,thu 09:30 Europe/Berlin retro")
    await candor.command("/nudge", "weekly on fri 08:00")
    await candor.command("/checkin", "add tue 10:00 Asia/Kolkata weekly", channel="COTHER")
    _, reply = await candor.command("/checkin", "list")
    shown = blocks_text(reply)
    assert "#1 · Retro · Mon, Thu at 09:30 (Europe/Berlin) · next Mon 04 Jan 09:30" in shown
    assert "#2 · Weekly coaching nudge · Fri at 08:00 (Europe/Berlin)" in shown
    assert "#3" not in shown  # another channel's
    _, reply = await candor.command("/checkin", "list", user="UBOB")
    assert "#2" not in blocks_text(reply)  # someone else's DM reminder
