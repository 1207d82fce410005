"""The outbox delivering to Teams: through stored references, with Teams' limits and failures
classified (retry with jittered back-off, a blocked recipient marked unreachable, no blind replay
of a post that may have arrived), and references that survive a restart."""

from __future__ import annotations

from bot.outbox import Channel, Person
from tests.support.candor import Candor
from tests.support.teams import (
    ALICE,
    BOB,
    CHANNEL,
    TeamsClient,
    activity_text,
    personal_chat,
    teams_settings,
)

KUDOS = "kudos <at>Bob Jones</at> #mentoring thanks for pairing"


async def give_kudos(teams: TeamsClient) -> None:
    await teams.say(KUDOS, user=ALICE, conversation=CHANNEL, mentions=((BOB, "Bob Jones"),))


def queue(candor, to, text: str, now: float) -> int:
    """A post in the outbox, as any practice writes one."""
    from bot import outbox
    from bot.messages import text_message
    from bot.server import STORE

    with candor.app[STORE].transaction() as tx:
        return outbox.enqueue(tx, platform="teams", to=to, message=text_message(text), now=now)


def attempts_at(fake, conversation: str) -> list[int]:
    return [
        c.answered
        for c in fake.calls
        if f"/conversations/{conversation}/activities" in c.path and c.method != "GET"
    ]


async def test_429_with_retry_after_pauses_then_delivers_once(teams: TeamsClient, fake_teams, clock):
    await teams.install_team(ALICE)
    fake_teams.answer_next(429, "Throttled", {"Retry-After": "2"})
    queue(teams.candor, Channel(CHANNEL), "hello", clock.now())
    started = clock.monotonic()
    await teams.candor.settle()
    assert attempts_at(fake_teams, CHANNEL) == [429, 201]
    assert 2.0 <= clock.monotonic() - started <= 3.0 + 1.0  # Retry-After, plus up to half again
    assert {r["status"] for r in teams.candor.outbox()} == {"sent"}


async def test_412_429_502_503_504_are_retried_with_jittered_backoff(teams: TeamsClient, fake_teams, clock):
    await teams.install_team(ALICE)
    await teams.install_personal(BOB)
    for status in (412, 429, 502, 503, 504):
        fake_teams.answer_next(status, "Transient")  # the channel post
        queue(teams.candor, Channel(CHANNEL), f"hello {status}", clock.now())
        await teams.candor.settle()
        row = teams.candor.db.execute(
            "select status, attempts, not_before, last_error from outbox where conversation = ? order by id desc limit 1",
            [CHANNEL],
        ).fetchone()
        assert row[0] == "pending" and row[1] == 1 and str(status) in row[3]
        assert 0.5 <= row[2] - clock.now() <= 1.0  # 1 s, 50-100 % of it at random
        clock.advance(1.0)
        await teams.candor.settle()
    # Each failure once, then the outbox's retry: no hidden retry inside the SDK's HTTP client.
    assert attempts_at(fake_teams, CHANNEL) == [412, 201, 429, 201, 502, 201, 503, 201, 504, 201]
    assert {r["status"] for r in teams.candor.outbox()} == {"sent"}


async def test_message_writes_blocked_marks_the_person_unreachable_and_is_not_retried(
    teams: TeamsClient, fake_teams, clock
):
    await teams.install_team(ALICE)
    await teams.install_personal(BOB)
    fake_teams.answer_next(403, "MessageWritesBlocked")  # Bob's message
    queue(teams.candor, Person(BOB), "for Bob", clock.now())
    await teams.candor.settle()
    dm = teams.candor.db.execute(
        "select status, last_error from outbox where recipient = 'person'"
    ).fetchone()
    assert dm == ("failed", "403 MessageWritesBlocked")
    assert teams.candor.db["teams_references"].get(personal_chat(BOB))["unreachable"] == 1
    calls = len(fake_teams.calls)
    clock.advance(11 * 60)
    await teams.say(
        "kudos <at>Bob Jones</at> #feedback and again",
        user=ALICE,
        conversation=CHANNEL,
        mentions=((BOB, "Bob Jones"),),
    )
    await teams.candor.settle()
    assert [c for c in fake_teams.calls[calls:] if personal_chat(BOB) in c.path] == []  # not even tried
    rows = teams.candor.db.execute("select status from outbox where recipient = 'person'").fetchall()
    assert rows == [("failed",), ("failed",)]
    await teams.install_personal(BOB)  # Bob adds Candor again: reachable again
    assert teams.candor.db["teams_references"].get(personal_chat(BOB))["unreachable"] == 0


async def test_a_post_that_may_have_arrived_is_not_sent_again(teams: TeamsClient, fake_teams, clock):
    await teams.install_team(ALICE)
    await teams.install_personal(BOB)
    fake_teams.hang_up_next()  # the channel post reached Teams; the answer never came
    queue(teams.candor, Channel(CHANNEL), "hello", clock.now())
    await teams.candor.settle()
    fake_teams.answer_next(500, "InternalServerError")  # Bob's message: Teams failed after taking it
    queue(teams.candor, Person(BOB), "for Bob", clock.now())
    await teams.candor.settle()
    clock.advance(3600)
    await teams.candor.settle()
    rows = {r["recipient"]: (r["status"], r["last_error"]) for r in teams.candor.outbox()}
    assert rows["channel"][0] == "failed" and rows["channel"][1].startswith("uncertain:")
    assert rows["person"][0] == "failed" and rows["person"][1].startswith("uncertain: 500")
    assert (
        len(attempts_at(fake_teams, CHANNEL)) == 1 and len(attempts_at(fake_teams, personal_chat(BOB))) == 1
    )


async def test_an_edit_that_may_have_arrived_is_retried_it_says_the_same(
    teams: TeamsClient, fake_teams, clock
):
    await teams.install_team(ALICE)
    await teams.install_personal(BOB)
    await give_kudos(teams)
    await teams.candor.settle()
    fake_teams.answer_next(200)  # the reply to undo
    fake_teams.answer_next(500, "InternalServerError")  # the first edit
    await teams.say("kudos undo", user=ALICE, conversation=CHANNEL)
    await teams.candor.settle()
    clock.advance(2.0)
    await teams.candor.settle()
    edits = [c for c in fake_teams.calls if c.method == "PUT"]
    assert [c.answered for c in edits].count(200) == 2 and len(edits) == 3
    assert {r["status"] for r in teams.candor.outbox()} == {"sent"}


async def test_connection_refused_is_retried_nothing_reached_teams(teams: TeamsClient, fake_teams, clock):
    await teams.install_team(ALICE)
    teams.candor.db.execute(
        "update teams_references set reference = replace(reference, ?, 'http://127.0.0.1:9/')",
        [fake_teams.url],
    )
    teams.candor.db.conn.commit()
    queue(teams.candor, Channel(CHANNEL), "hello", clock.now())
    await teams.candor.settle()
    row = teams.candor.db.execute("select status, attempts, last_error from outbox").fetchone()
    assert row[0] == "pending" and row[1] == 1 and "Connect" in row[2]


async def test_references_survive_a_restart(tmp_path, clock, slack, fake_teams):
    settings = teams_settings(tmp_path, fake_teams, auth=False)
    first = await Candor(settings, clock, slack).start()
    client = TeamsClient(first, fake_teams)
    await client.install_personal(ALICE)
    await client.say("nudge weekly on", user=ALICE)
    await first.stop()

    second = await Candor(settings, clock, slack).start()
    try:
        await TeamsClient(second, fake_teams).say("checkin run 1", user=ALICE)
        await second.settle()
        nudges = [
            b
            for b in fake_teams.sent_to(personal_chat(ALICE))
            if "Your weekly coaching nudge" in activity_text(b)
        ]
        assert len(nudges) == 1
        assert not any(c.path == "/v3/conversations" for c in fake_teams.calls)  # the stored one was used
    finally:
        await second.stop()
