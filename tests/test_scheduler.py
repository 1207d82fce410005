"""When schedules fire: local wall-clock time across DST, downtime, grace, restarts, holidays."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest

from bot.server import SCHEDULER
from handlers.schedules import store as schedules
from handlers.timing import next_working_moment
from tests.support.candor import Candor, blocks_text, make_settings
from tests.support.clock import FakeClock
from tests.support.harness import PLATFORM, WORKSPACE, Harness, text_of


def at(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


async def schedule(candor, text: str, channel: str = "CTEAM") -> int:
    _, reply = await candor.command("/checkin", f"add {text}", channel=channel)
    assert "is scheduled" in blocks_text(reply), blocks_text(reply)
    return candor.db.execute("select max(id) from schedules").fetchone()[0]


async def fire_at(candor, clock, when: float) -> int:
    clock.t = when
    report = await candor.app[SCHEDULER].fire_due()
    return report.fired


# (timezone, [(just before, on time) in UTC]) for Monday 09:00 local across both DST changes.
DST_CASES = [
    (
        "Europe/Berlin",
        [
            (at(2027, 3, 22, 7, 59), at(2027, 3, 22, 8, 0, 30)),  # CET, UTC+1
            (at(2027, 3, 29, 6, 59), at(2027, 3, 29, 7, 0, 30)),  # CEST from 28 March, UTC+2
            (at(2027, 10, 25, 6, 59), at(2027, 10, 25, 7, 0, 30)),  # still CEST
            (at(2027, 11, 1, 7, 59), at(2027, 11, 1, 8, 0, 30)),  # CET again from 31 October
        ],
    ),
    (
        "America/New_York",
        [
            (at(2027, 3, 8, 13, 59), at(2027, 3, 8, 14, 0, 30)),  # EST, UTC-5
            (at(2027, 3, 15, 12, 59), at(2027, 3, 15, 13, 0, 30)),  # EDT from 14 March
            (at(2027, 11, 1, 12, 59), at(2027, 11, 1, 13, 0, 30)),  # still EDT
            (at(2027, 11, 8, 13, 59), at(2027, 11, 8, 14, 0, 30)),  # EST from 7 November
        ],
    ),
    (
        "Asia/Kolkata",
        [
            (at(2027, 3, 22, 3, 29), at(2027, 3, 22, 3, 30, 30)),  # IST, no DST
            (at(2027, 3, 29, 3, 29), at(2027, 3, 29, 3, 30, 30)),
            (at(2027, 11, 1, 3, 29), at(2027, 11, 1, 3, 30, 30)),
        ],
    ),
]


@pytest.mark.parametrize(("tz", "moments"), DST_CASES)
async def test_fires_at_local_wall_clock_time_across_dst(candor, clock, slack, tz, moments):
    clock.t = moments[0][0] - 86400
    await schedule(candor, f"mon 09:00 {tz} retro")
    for before, on_time in moments:
        assert await fire_at(candor, clock, before) == 0, datetime.fromtimestamp(before, UTC)
        assert await fire_at(candor, clock, on_time) == 1, datetime.fromtimestamp(on_time, UTC)
        assert await fire_at(candor, clock, on_time + 60) == 0  # once per occurrence
        clock.t = on_time + 3600
        await candor.app[SCHEDULER].fire_due()  # keep up between the cases, as the live job does
    await candor.settle()
    assert len(slack.delivered_to("CTEAM")) == len(moments)


async def test_after_downtime_a_missed_occurrence_fires_once_not_n_times(candor, clock):
    clock.t = at(2027, 1, 4, 12, 0)  # a Monday
    await schedule(candor, "daily 09:00 Europe/Berlin retro")
    # Down from Monday noon until Thursday 08:20 UTC (09:20 Berlin): three occurrences missed.
    assert await fire_at(candor, clock, at(2027, 1, 7, 8, 20)) == 1
    assert candor.count("checkin_runs") == 1
    assert candor.db["checkin_runs"].get(1)["local_date"] == "2027-01-07"


async def test_an_occurrence_later_than_the_grace_period_is_skipped_and_logged(candor, clock, caplog):
    caplog.set_level(logging.WARNING, logger="candor.scheduler")
    clock.t = at(2027, 1, 4, 12, 0)
    await schedule(candor, "daily 09:00 Europe/Berlin retro")
    # Up again at 10:30 Berlin: today's 09:00 is 90 minutes late, more than the 1 hour grace.
    assert await fire_at(candor, clock, at(2027, 1, 5, 9, 30)) == 0
    assert candor.count("checkin_runs") == 0
    [record] = [r for r in caplog.records if "grace period" in r.getMessage()]
    assert record.count == 1 and record.grace_s == 3600
    assert await fire_at(candor, clock, at(2027, 1, 6, 8, 1)) == 1  # the next day is normal


@pytest.mark.parametrize("settings_overrides", [{"schedule_grace_s": 3 * 3600}])
async def test_the_grace_period_is_configurable(candor, clock):
    clock.t = at(2027, 1, 4, 12, 0)
    await schedule(candor, "daily 09:00 Europe/Berlin retro")
    assert await fire_at(candor, clock, at(2027, 1, 5, 9, 30)) == 1


async def test_skip_dates_do_not_fire(candor, clock, slack):
    clock.t = at(2027, 12, 20, 12, 0)
    _, _reply = await candor.command("/checkin", "")
    view = slack.opened_views()[-1]
    ack = await candor.submit(
        view, {"days": ["mon", "fri"], "time": "09:00", "skip": "2027-12-24, 2027-12-31"}
    )
    assert ack["response_action"] == "update"
    assert await fire_at(candor, clock, at(2027, 12, 24, 8, 0, 30)) == 0  # Christmas Eve, a Friday
    assert await fire_at(candor, clock, at(2027, 12, 27, 8, 0, 30)) == 1  # the Monday after


async def test_jobs_are_rebuilt_from_the_rows_after_a_restart(tmp_path, clock, slack):
    settings = make_settings(tmp_path / "c.db", slack.url)
    first = await Candor(settings, clock, slack).start()
    await schedule(first, "mon,thu 09:30 Europe/Berlin retro")
    await schedule(first, "mon,thu 09:30 Europe/Berlin weekly", channel="COTHER")  # same group
    await schedule(first, "fri 16:00 Asia/Kolkata expectations")
    assert len(await first.app[SCHEDULER].groups()) == 2
    await first.stop()

    second = await Candor(settings, clock, slack).start()
    try:
        jobs = {j.id: j for j in second.app[SCHEDULER].aps.get_jobs() if j.id.startswith("group:")}
        assert len(jobs) == 2
        berlin = next(j for j in jobs.values() if "Europe/Berlin" in j.id)
        assert str(berlin.trigger.timezone) == "Europe/Berlin"
        assert berlin.next_run_time.strftime("%H:%M %a") in ("09:30 Mon", "09:30 Thu")
        # Pausing the only member of a group removes its job; resuming brings it back.
        kolkata = second.db.execute("select id from schedules where tz = 'Asia/Kolkata'").fetchone()[0]
        await second.command("/checkin", f"pause {kolkata}")
        assert not any("Asia/Kolkata" in j.id for j in second.app[SCHEDULER].aps.get_jobs())
        await second.command("/checkin", f"resume {kolkata}")
        assert any("Asia/Kolkata" in j.id for j in second.app[SCHEDULER].aps.get_jobs())
    finally:
        await second.stop()


async def test_a_burst_of_schedules_in_one_minute_fires_in_chunks(candor, clock):
    clock.t = at(2027, 1, 4, 6, 0)
    rows = [
        {
            "platform": "slack",
            "workspace": "T1",
            "conversation": f"C{i:05d}",
            "kind": "checkin",
            "owner": "UALICE",
            "days": "mon",
            "at": "09:00",
            "tz": "Europe/Berlin",
            "every_weeks": 1,
            "anchor": "",
            "template": "retro",
            "paused": 0,
            "checked_until": clock.t,
            "created_at": clock.t,
            "tags": "[]",
            "skip_dates": "[]",
            "remind": 0,
        }
        for i in range(450)
    ]
    candor.db["schedules"].insert_all(rows)
    turns = 0
    done = False

    async def other_work():  # stands for requests arriving during the fan-out
        nonlocal turns
        while not done:
            turns += 1
            await asyncio.sleep(0)

    neighbour = asyncio.create_task(other_work())
    await asyncio.sleep(0)
    turns = 0
    assert await fire_at(candor, clock, at(2027, 1, 4, 8, 0, 10)) == 450
    done = True
    await neighbour
    assert turns >= 450 // 25 - 1  # the event loop ran between chunks
    assert candor.count("checkin_runs") == 450
    assert candor.db.execute("select count(distinct conversation) from outbox").fetchone()[0] == 450


async def test_weekly_schedules_made_in_different_weeks_share_one_job(candor, clock):
    clock.t = at(2027, 1, 4, 12, 0)
    await schedule(candor, "mon 09:00 Europe/Berlin retro")
    clock.advance(14 * 86400)
    await schedule(candor, "mon 09:00 Europe/Berlin weekly", channel="COTHER")
    assert len(await candor.app[SCHEDULER].groups()) == 1


# Times that happen twice (autumn) or not at all (spring) on the change day itself.
async def test_a_wall_time_repeated_in_autumn_fires_once_and_nothing_hangs(candor, clock):
    clock.t = at(2027, 10, 30, 12, 0)
    await schedule(candor, "sun 02:30 Europe/Berlin retro")
    assert await fire_at(candor, clock, at(2027, 10, 31, 0, 30, 30)) == 1  # first 02:30 (CEST)
    assert await fire_at(candor, clock, at(2027, 10, 31, 1, 30, 30)) == 0  # second 02:30 (CET)
    assert await fire_at(candor, clock, at(2027, 10, 31, 3, 0)) == 0
    assert await fire_at(candor, clock, at(2027, 11, 7, 1, 30, 30)) == 1  # next Sunday, CET


async def test_a_wall_time_missing_in_spring_fires_once_an_hour_later(candor, clock):
    clock.t = at(2027, 3, 27, 12, 0)
    await schedule(candor, "sun 02:30 Europe/Berlin retro")
    assert await fire_at(candor, clock, at(2027, 3, 28, 1, 10)) == 0  # 03:10 CEST: not yet due
    assert candor.count("checkin_runs") == 0
    assert await fire_at(candor, clock, at(2027, 3, 28, 1, 30, 30)) == 1
    assert await fire_at(candor, clock, at(2027, 3, 28, 2, 0)) == 0


async def test_new_york_repeated_hour(candor, clock):
    clock.t = at(2027, 11, 6, 12, 0)
    await schedule(candor, "sun 01:15 America/New_York retro")
    assert await fire_at(candor, clock, at(2027, 11, 7, 5, 15, 30)) == 1  # 01:15 EDT
    assert await fire_at(candor, clock, at(2027, 11, 7, 6, 15, 30)) == 0  # 01:15 EST


BERLIN = "Europe/Berlin"


def local(*args: int) -> float:
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo(BERLIN)).timestamp()


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (local(2027, 1, 5, 11, 0), local(2027, 1, 5, 11, 0)),  # Tuesday 11:00: fine as it is
        (local(2027, 1, 5, 19, 0), local(2027, 1, 6, 9, 0)),  # evening: next morning
        (local(2027, 1, 6, 6, 30), local(2027, 1, 6, 9, 0)),  # early morning: same day 09:00
        (local(2027, 1, 8, 20, 0), local(2027, 1, 11, 9, 0)),  # Friday evening: Monday
        (local(2027, 1, 9, 12, 0), local(2027, 1, 11, 9, 0)),  # Saturday: Monday
        (local(2027, 12, 23, 19, 0), local(2027, 12, 27, 9, 0)),  # skip 24th, weekend
    ],
)
def test_reminders_wait_out_quiet_hours_weekends_and_skip_dates(start, expected):
    assert next_working_moment(start, BERLIN, (18, 9), ["2027-12-24"]) == expected


# --- two processes on one database -----------------------------------------------------------
def add_schedules(h: Harness, count: int, *, kind: str) -> list[int]:
    with h.store.transaction() as tx:
        return [
            schedules.insert(
                tx,
                platform=PLATFORM,
                workspace=WORKSPACE,
                conversation=f"{kind}-{i}",
                kind=kind,
                owner="alice",
                days="mon",
                at="09:00",
                tz="Europe/Berlin",
                now=h.clock.now(),
                template="retro",
            )
            for i in range(count)
        ]


async def test_two_processes_on_one_database_fire_each_schedule_once(tmp_path, database):
    clock = FakeClock(at(2027, 1, 4, 6, 0))  # Monday 07:00 in Berlin
    first = Harness(tmp_path, clock=clock, database=database)
    second = Harness(tmp_path, clock=clock, database=database)  # one database
    try:
        checkins = add_schedules(first, 90, kind="checkin")
        nudges = add_schedules(first, 30, kind="nudge")
        clock.t = at(2027, 1, 4, 8, 0, 10)
        # Both fire the same due group at once, interleaving between their transactions.
        one, other = await asyncio.gather(first.scheduler().fire_due(), second.scheduler().fire_due())
        assert one.fired + other.fired == 120 and one.failed + other.failed == 0
        runs = first.store.db.execute("select schedule_id, count(*) from checkin_runs group by schedule_id")
        assert dict(runs.fetchall()) == dict.fromkeys(checkins, 1)
        rotation = first.store.db.execute("select scope, count(*) from nudge_log group by scope").fetchall()
        assert dict(rotation) == {f"schedule:{n}": 1 for n in nudges}
        posts = first.posts()
        assert len(posts) == 120 and len(set(posts)) == 120  # one prompt or nudge per channel
        # The next minute, neither fires anything again.
        clock.advance(60)
        again = await asyncio.gather(first.scheduler().fire_due(), second.scheduler().fire_due())
        assert [r.fired for r in again] == [0, 0]
    finally:
        first.close()
        second.close()


async def test_a_schedule_paused_while_its_group_fires_is_not_fired(tmp_path, database):
    clock = FakeClock(at(2027, 1, 4, 6, 0))
    h = Harness(tmp_path, clock=clock, database=database)
    try:
        ids = add_schedules(h, 60, kind="checkin")
        clock.t = at(2027, 1, 4, 8, 0, 10)

        async def pause_the_last_one() -> None:
            await asyncio.sleep(0)  # after the group's due rows were read, between two transactions
            reply = await h.command("checkin", f"pause {ids[-1]}")
            assert text_of(reply) == f"Schedule #{ids[-1]} (Retro) is paused."

        report, _ = await asyncio.gather(h.fire_schedules(), pause_the_last_one())
        assert report.fired == 59
        fired = {r[0] for r in h.store.db.execute("select schedule_id from checkin_runs")}
        assert fired == set(ids[:-1])
    finally:
        h.close()
