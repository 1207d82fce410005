"""Two Candor servers on one database file, as in a rolling deploy or with a second replica: every
post, every scheduled prompt and every reminder happens exactly once, whichever server takes it.

Each server has its own connection, outbox dispatcher (its own lease owner), scheduler and Slack
client; they share the file, the (fake) Slack and the clock. Work is claimed through rows, so the
two may run the same job at the same moment.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
from datetime import UTC, datetime

import pytest

from bot.server import SCHEDULER, SERVICES
from handlers.checkins import flows as checkins
from handlers.speakup import jobs as speakup_jobs
from tests.support.candor import Candor, blocks_text, make_settings

WEDNESDAY_9_UTC = datetime(2026, 6, 10, 9, 0, tzinfo=UTC).timestamp()  # 11:00 in Berlin


@pytest.fixture
async def pair(database, clock, slack):
    settings = make_settings(
        database,
        slack.url,
        speakup_channels=frozenset({"CCONCERNS"}),
        speakup_delay_s=(300.0, 1800.0),
        kudos_daily_cap=100,
    )
    first = await Candor(settings, clock, slack).start()
    second = await Candor(settings, clock, slack).start()
    # Their start-up catch-ups (fire_due on APScheduler's clock) are done before a test moves
    # the clock, so the firings a test makes itself are the only ones.
    for server in (first, second):
        await asyncio.wait_for(server.app[SCHEDULER].caught_up.wait(), timeout=10)
    yield first, second
    await second.stop()
    await first.stop()


async def settle_both(first: Candor, second: Candor) -> None:
    for _ in range(3):  # a conversation one leaves may be taken by the other
        await asyncio.gather(first.settle(), second.settle())


def posts(slack, channel: str) -> list[str]:
    return [blocks_text(p) for p in slack.delivered_to(channel)]


async def test_kudos_through_both_are_each_posted_once(pair, slack):
    first, second = pair
    for n in range(20):
        server = first if n % 2 else second
        status, reply = await server.command("/kudos", f"<@UBOB|bob> #mentoring thanks, round {n}")
        assert status == 200 and "Kudos sent" in blocks_text(reply)
    await settle_both(first, second)
    rounds = collections.Counter(
        line.split("round ")[1].split()[0]
        for text in posts(slack, "CTEAM")
        for line in text.splitlines()
        if "round " in line
    )
    assert rounds == {str(n): 1 for n in range(20)}
    assert len(slack.delivered_to("UBOB")) == 20
    # The channel kept its order and its pace across the two senders.
    sent = [r for r in first.outbox() if r["conversation"] == "CTEAM"]
    assert [r["status"] for r in sent] == ["sent"] * 20
    times = sorted(r["sent_at"] for r in sent)
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(times))


async def test_a_scheduled_check_in_and_its_reminder_happen_once(pair, slack, clock):
    first, second = pair
    clock.t = WEDNESDAY_9_UTC
    slack.members["CTEAM"] = ["UALICE", "UBOB", "UCAROL"]
    _, reply = await first.command("/checkin", "add mon,tue,wed,thu,fri 11:30 Europe/Berlin weekly")
    assert "is scheduled" in blocks_text(reply)
    first.db.execute("update schedules set remind = 1 where id = 1")
    clock.advance(31 * 60)  # 11:31 in Berlin: the occurrence is due
    reports = await asyncio.gather(first.app[SCHEDULER].fire_due(), second.app[SCHEDULER].fire_due())
    assert sorted(r.fired for r in reports) == [0, 1]
    await settle_both(first, second)
    assert sum("Weekly team check-in" in text for text in posts(slack, "CTEAM")) == 1

    clock.advance(5 * 3600)  # past the reminder's time, still in working hours
    sent = await asyncio.gather(
        checkins.send_due_reminders(first.app[SERVICES]), checkins.send_due_reminders(second.app[SERVICES])
    )
    assert sorted(sent) == [0, 3]
    await settle_both(first, second)
    reminded = collections.Counter(
        p["channel"] for p in slack.delivered() if "gentle reminder" in blocks_text(p)
    )
    assert reminded == {"UALICE": 1, "UBOB": 1, "UCAROL": 1}


async def test_a_speak_up_batch_is_published_once(pair, slack, clock):
    first, second = pair
    status, _ = await first.command("/speakup", "", user="UBOB")
    assert status == 200
    view = slack.opened_views()[-1]
    ack = await first.submit(view, {"concern": "Estimates are overruled"}, user="UBOB")
    assert ack["response_action"] == "update"
    clock.advance(1801 + 300)
    due = [await speakup_jobs.due(first.app[SERVICES]), await speakup_jobs.due(second.app[SERVICES])]
    assert all(len(d) == 1 for d in due)  # both see it due at the same moment...
    released = [
        await speakup_jobs.release(first.app[SERVICES], due[0]),
        await speakup_jobs.release(second.app[SERVICES], due[1]),
    ]
    assert sorted(released) == [0, 1]  # ...and one of them publishes it
    await settle_both(first, second)
    assert sum("Estimates are overruled" in text for text in posts(slack, "CCONCERNS")) == 1
