"""The outbox delivers every post exactly once, paced, through rate limits, errors and restarts."""

from __future__ import annotations

import asyncio
import itertools
import logging
import sqlite3
import time

import pytest

from bot import dispatcher, outbox, retention
from bot.messages import text_message
from bot.outbox import Channel
from bot.server import SCHEDULER, STORE
from bot.store import open_store
from handlers.checkins.ids import CheckinAction
from handlers.registry import REGISTRY
from tests.support.candor import Candor, blocks_text, make_settings
from tests.support.clock import FakeClock
from tests.support.turns import LoopTurns


async def wait_until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


async def test_posts_to_one_channel_are_paced_one_per_second(candor, slack):
    for n in range(3):
        await candor.command("/kudos", f"<@UBOB> #mentoring thanks {n}", user="UALICE")
    await candor.settle()
    channel_rows = [r for r in candor.outbox() if r["conversation"] == "CTEAM"]
    assert [r["status"] for r in channel_rows] == ["sent"] * 3
    sent_at = [r["sent_at"] for r in channel_rows]
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(sent_at)), sent_at
    # ... and in the order they were written
    texts = [blocks_text(p) for p in slack.delivered_to("CTEAM")]
    assert [t.index(f"thanks {n}") > 0 for n, t in enumerate(texts)] == [True] * 3


async def test_429_pauses_for_retry_after_then_sends_once(candor, slack):
    slack.answer_next(
        "chat.postMessage", status=429, headers={"Retry-After": "7"}, ok=False, error="ratelimited"
    )
    await candor.command("/kudos", "<@UBOB> #mentoring thanks")
    await candor.settle()
    attempts = slack.calls_to("chat.postMessage")
    limited = [c for c in attempts if c.answered == 429]
    assert len(limited) == 1
    assert len(slack.delivered()) == 2  # the channel post and the DM, each once
    retried = [c for c in attempts if c.answered == 200]
    assert min(c.at for c in retried) - limited[0].at >= 7.0


async def test_server_error_is_retried_with_backoff(candor, slack, clock):
    slack.answer_next("chat.postMessage", status=500, ok=False, error="internal_error")
    await candor.command("/kudos", "<@UBOB> #mentoring thanks")
    await wait_until(lambda: any(r["attempts"] == 1 and r["status"] == "pending" for r in candor.outbox()))
    failed_once = next(r for r in candor.outbox() if r["attempts"] == 1 and r["status"] == "pending")
    assert failed_once["last_error"] == "internal_error"
    assert failed_once["not_before"] > clock.now()  # backing off, not hammering
    clock.advance(60)
    candor.dispatcher.wake()
    await candor.settle()
    assert [r["status"] for r in candor.outbox()] == ["sent", "sent"]
    assert len(slack.delivered()) == 2


async def test_permanent_error_marks_the_row_failed_with_the_reason_and_logs_it(candor, slack, caplog):
    slack.answer_next("chat.postMessage", ok=False, error="not_in_channel")
    caplog.set_level(logging.ERROR, logger="candor.outbox")
    await candor.command("/kudos", "<@UBOB> #mentoring thanks")
    await candor.settle()
    rows = candor.outbox()
    assert [(r["status"], r["last_error"]) for r in rows] == [
        ("failed", "not_in_channel"),
        ("sent", None),
    ]
    assert any(getattr(r, "error", None) == "not_in_channel" for r in caplog.records)
    assert len(slack.calls_to("chat.postMessage")) == 2  # not retried


async def test_an_outage_is_retried_for_hours_then_the_row_fails_with_the_reason(candor, slack, clock):
    slack.answer_always("chat.postMessage", status=503, ok=False, error="service_unavailable")
    await candor.command("/kudos", "<@UBOB> #mentoring thanks")
    await wait_until(lambda: all(r["attempts"] >= 1 for r in candor.outbox()))
    clock.advance(3600)  # an hour-long outage is not enough to give up
    candor.dispatcher.wake()
    await wait_until(lambda: all(r["attempts"] >= 2 for r in candor.outbox()))
    assert {r["status"] for r in candor.outbox()} == {"pending"}
    clock.advance(6 * 3600)
    candor.dispatcher.wake()
    await wait_until(lambda: all(r["status"] == "failed" for r in candor.outbox()))
    assert all(
        r["last_error"].startswith("gave up after 3 attempts: service_unavailable") for r in candor.outbox()
    )


async def test_a_failed_send_holds_back_later_posts_to_the_same_channel(candor, slack, clock):
    slack.answer_next("chat.postMessage", status=500, ok=False, error="internal_error")
    await candor.command("/kudos", "<@UBOB> #mentoring first")
    await wait_until(lambda: candor.outbox()[0]["attempts"] == 1)
    await candor.command("/kudos", "<@UCAROL> #mentoring second")
    await candor.settle()
    assert [blocks_text(p).count("second") for p in slack.delivered_to("CTEAM")] == []
    clock.advance(60)
    candor.dispatcher.wake()
    await candor.settle()
    texts = [blocks_text(p) for p in slack.delivered_to("CTEAM")]
    assert ["first" in texts[0], "second" in texts[1]] == [True, True]


async def test_an_unreadable_row_fails_alone_and_the_queue_goes_on(candor, slack):
    with candor.app[STORE].transaction() as tx:
        tx["outbox"].insert(
            {
                "platform": "slack",
                "conversation": "CX",
                "payload": "{broken",
                "status": "pending",
                "attempts": 0,
                "not_before": 0.0,
                "created_at": 0.0,
            }
        )
    await candor.command("/kudos", "<@UBOB> #mentoring still delivered")
    await candor.settle()
    rows = candor.outbox()
    assert (rows[0]["status"], rows[0]["last_error"]) == ("failed", "the stored message could not be read")
    assert len(slack.delivered()) == 2


async def test_a_row_for_an_unknown_kind_of_recipient_fails_alone_and_its_channel_goes_on(candor, slack):
    """Before, the worker raised on it, ended, and the next pass started it again on the same row:
    the channel's later posts never went, and the error was logged every pass."""
    with candor.app[STORE].transaction() as tx:
        outbox.enqueue(tx, platform="slack", to=Channel("CX"), message=text_message("first"), now=0.0)
        tx.execute("update outbox set recipient = 'robot'")
        outbox.enqueue(tx, platform="slack", to=Channel("CX"), message=text_message("second"), now=0.0)
    candor.dispatcher.wake()
    await wait_until(lambda: len(slack.delivered_to("CX")) == 1)
    await candor.settle()
    rows = candor.outbox()
    assert [(r["status"], r["last_error"]) for r in rows] == [
        ("failed", "unknown recipient kind 'robot'"),
        ("sent", None),
    ]
    assert ["second" in blocks_text(p) for p in slack.delivered_to("CX")] == [True]


async def test_a_send_in_flight_at_shutdown_finishes_and_is_not_sent_again(tmp_path, clock, slack):
    settings = make_settings(tmp_path / "candor.db", slack.url)
    slack.delays["chat.postMessage"] = 0.3
    first = await Candor(settings, clock, slack).start()
    await first.command("/kudos", "<@UBOB> #mentoring during shutdown")
    await wait_until(
        lambda: len(slack.calls) > 0 and not slack.delivered() and bool(first.dispatcher._workers)
    )
    await first.stop()
    del slack.delays["chat.postMessage"]
    second = await Candor(settings, clock, slack).start()
    try:
        await second.settle()
        await asyncio.sleep(0.2)
        assert len(slack.delivered_to("CTEAM")) == 1
        assert len(slack.delivered_to("UBOB")) == 1
    finally:
        await second.stop()


async def test_pending_rows_are_sent_exactly_once_after_a_restart(tmp_path, clock, slack):
    settings = make_settings(tmp_path / "candor.db", slack.url)
    slack.answer_always("chat.postMessage", status=500, ok=False, error="internal_error")
    first = await Candor(settings, clock, slack).start()
    await first.command("/kudos", "<@UBOB> #mentoring before the restart")
    await wait_until(lambda: all(r["attempts"] >= 1 for r in first.outbox()) and len(first.outbox()) == 2)
    await first.stop()

    slack.back_to_normal("chat.postMessage")
    clock.advance(600)
    second = await Candor(settings, clock, slack).start()
    try:
        await second.settle()
        await asyncio.sleep(0.2)  # give a double send the chance to happen
        assert len(slack.delivered_to("CTEAM")) == 1
        assert len(slack.delivered_to("UBOB")) == 1
        assert {r["status"] for r in second.outbox()} == {"sent"}
    finally:
        await second.stop()
    third = await Candor(settings, clock, slack).start()
    try:
        await asyncio.sleep(0.2)
        assert len(slack.delivered()) == 2  # a sent row is never sent again
    finally:
        await third.stop()


async def test_the_retry_window_counts_from_the_first_failure_not_from_creation(candor, slack, clock):
    # Speak-up rows carry created_at rounded to the day; an outage must not fail them at once.
    with candor.app[STORE].transaction() as tx:
        from bot import outbox
        from bot.messages import text_message

        outbox.enqueue(
            tx,
            platform="slack",
            to=Channel("CX"),
            message=text_message("hi"),
            now=clock.now(),
            created_at=clock.now() - 20 * 3600,
        )
    slack.answer_next("chat.postMessage", status=500, ok=False, error="internal_error")
    await wait_until(lambda: candor.outbox()[0]["attempts"] == 1)
    assert candor.outbox()[0]["status"] == "pending"
    clock.advance(60)
    candor.dispatcher.wake()
    await candor.settle()
    assert candor.outbox()[0]["status"] == "sent"


async def test_a_reply_waits_for_its_delayed_parent_without_polling(candor, slack, clock):
    from bot import outbox
    from bot.messages import text_message

    with candor.app[STORE].transaction() as tx:
        parent = outbox.enqueue(
            tx,
            platform="slack",
            to=Channel("CX"),
            message=text_message("parent"),
            now=clock.now(),
            not_before=clock.now() + 600,
        )
        outbox.enqueue(
            tx,
            platform="slack",
            to=Channel("CX"),
            message=text_message("child"),
            now=clock.now(),
            reply_to=parent,
        )
    await candor.settle()
    child = candor.outbox()[1]
    assert child["status"] == "pending" and child["not_before"] >= clock.now() + 600
    clock.advance(700)
    candor.dispatcher.wake()
    await candor.settle()
    posts = slack.delivered_to("CX")
    assert [blocks_text(p).split("\n")[0] for p in posts] == ["parent", "child"]
    assert posts[1]["thread_ts"] == candor.outbox()[0]["sent_ref"]


# --- the database refusing writes -------------------------------------------------------------


def refuse_writes(candor, how: str):
    """Make the real SQLite database refuse Candor's writes; returns what undoes it."""
    if how == "read-only":  # what a read-only file or mount answers: "attempt to write a readonly database"
        candor.db.execute("PRAGMA query_only = 1")
        return lambda: candor.db.execute("PRAGMA query_only = 0")
    # Another process holds the write lock: "database is locked" once the busy timeout passes
    # (shortened here so the test does not block for the production 5 s on each try).
    candor.db.execute("PRAGMA busy_timeout = 20")
    other = sqlite3.connect(candor.settings.db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    def release() -> None:
        other.execute("ROLLBACK")
        other.close()

    return release


@pytest.mark.parametrize("how", ["read-only", "locked"])
async def test_a_send_the_database_cannot_record_is_not_repeated_and_is_recorded_later(
    candor, slack, clock, caplog, how
):
    with candor.app[STORE].transaction() as tx:
        first = outbox.enqueue(
            tx, platform="slack", to=Channel("CX"), message=text_message("one"), now=clock.now()
        )
        outbox.enqueue(tx, platform="slack", to=Channel("CX"), message=text_message("two"), now=clock.now())
        outbox.enqueue(
            tx,
            platform="slack",
            to=Channel("CY"),
            message=text_message("elsewhere"),
            now=clock.now(),
            not_before=clock.now() + 30,
        )
    # The database starts refusing while Slack takes the first post: it went out, and its record
    # cannot be written.
    undo: list = []
    slack.meanwhile["chat.postMessage"] = lambda: undo.append(refuse_writes(candor, how))
    caplog.set_level(logging.INFO, logger="candor.outbox")
    for _ in range(5):  # passes, with time enough for pacing, back-off and the delayed row
        await candor.settle()
        clock.advance(60)
        candor.dispatcher.wake()
    assert [blocks_text(p).split("\n")[0] for p in slack.delivered()] == ["one"]
    assert {r["status"] for r in candor.outbox()} == {"pending"}
    [paused] = [r for r in caplog.records if r.levelno >= logging.WARNING]  # once, not once a pass
    assert paused.levelno == logging.ERROR and "database refuses writes" in paused.getMessage()

    [restore] = undo
    restore()
    recovered_at = clock.now()
    await candor.settle()
    texts = [blocks_text(p).split("\n")[0] for p in slack.delivered()]
    assert sorted(texts) == ["elsewhere", "one", "two"]  # each once
    rows = {r["id"]: r for r in candor.outbox()}
    assert {r["status"] for r in rows.values()} == {"sent"}
    sent = slack.calls_to("chat.postMessage")[0]
    assert rows[first]["sent_ref"] and rows[first]["sent_at"] == sent.at < recovered_at
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING][1:] == [
        "outbox resumed: the database accepts writes again"
    ]


# --- wall-clock steps -------------------------------------------------------------------------


def posts_to(slack, channel):
    return [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == channel]


@pytest.mark.parametrize("step", [3600.0, -3600.0])
async def test_a_wall_clock_step_neither_freezes_nor_hurries_a_conversation(candor, slack, clock, step):
    await candor.command("/kudos", "<@UBOB> #mentoring before the step")
    await candor.settle()
    clock.step(step)  # an operator or NTP sets the clock; no time passes
    await candor.command("/kudos", "<@UCAROL> #mentoring after the step")
    await candor.settle()
    before, after = posts_to(slack, "CTEAM")
    # Exactly the pacing interval of real time later: not an hour more, not a second less.
    assert after.at - before.at - step == pytest.approx(1.0, abs=0.01)


async def test_a_wall_clock_step_back_during_a_rate_limit_pause_does_not_extend_it(candor, slack, clock):
    slack.answer_next(
        "chat.postMessage", status=429, headers={"Retry-After": "7"}, ok=False, error="ratelimited"
    )
    clock.step_during_next_sleep(-3600)
    started = clock.monotonic()
    await candor.command("/kudos", "<@UBOB> #mentoring thanks")
    await candor.settle()
    attempts = slack.calls_to("chat.postMessage")
    [limited] = [c for c in attempts if c.answered == 429]
    retried = [c for c in attempts if c.answered == 200]
    assert len(retried) == 2
    assert all(c.at < limited.at - 3500 for c in retried)  # right after the pause, not an hour later
    assert clock.monotonic() - started >= 7.0  # and the pause was kept


# --- back-off ---------------------------------------------------------------------------------


async def test_backoff_is_capped_so_a_conversation_moves_within_a_minute_once_slack_answers(
    candor, slack, clock
):
    slack.answer_always("chat.postMessage", status=500, ok=False, error="internal_error")
    with candor.app[STORE].transaction() as tx:
        outbox.enqueue(tx, platform="slack", to=Channel("CX"), message=text_message("hi"), now=clock.now())
    waits = []
    for attempt in range(1, 13):  # twelve failures in a row: the old back-off reached 300 s
        await wait_until(lambda attempt=attempt: candor.outbox()[0]["attempts"] == attempt)
        waits.append(candor.outbox()[0]["not_before"] - clock.now())
        if attempt < 12:
            clock.advance(waits[-1] + 0.001)
            candor.dispatcher.wake()
    assert all(0 < w <= 60 for w in waits)
    assert len({round(w, 6) for w in waits[7:]}) > 1  # jittered, so failed conversations spread out
    slack.back_to_normal("chat.postMessage")  # Slack answers again: a minute later the post is out
    clock.advance(60)
    candor.dispatcher.wake()
    await candor.settle()
    assert candor.outbox()[0]["status"] == "sent"


# --- forgetting -------------------------------------------------------------------------------


async def test_idle_conversations_are_forgotten_by_the_pacing_map(candor, slack, clock):
    await candor.command("/kudos", "<@UBOB> #mentoring thanks")
    await candor.settle()
    assert candor.dispatcher.remembered == 2  # the channel and the DM, paced for a second
    clock.advance(dispatcher.FORGET_EVERY_S + 1)
    await candor.settle()  # any pass forgets what has passed
    assert candor.dispatcher.remembered == 0


# --- retention --------------------------------------------------------------------------------


async def prune_now(candor) -> None:
    """Run the hourly retention job the server registered, as the scheduler would."""
    job = candor.app[SCHEDULER].aps.get_job("periodic:retention")
    await job.func()


async def test_old_sent_rows_and_keys_are_pruned_but_rows_a_thread_still_needs_are_kept(candor, slack, clock):
    await candor.command("/kudos", "<@UBOB> #mentoring an old kudos")
    await candor.settle()
    old_kudos = [r["id"] for r in candor.outbox()]
    old_keys = [r["key"] for r in candor.db["processed"].rows]
    await candor.command("/checkin", "add mon 09:30 Europe/Berlin retro")
    await candor.command("/checkin", "run 1")
    with candor.app[STORE].transaction() as tx:  # a published concern and an author's follow-up
        post = outbox.enqueue(
            tx, platform="slack", to=Channel("CCONCERNS"), message=text_message("concern"), now=clock.now()
        )
        follow_up = outbox.enqueue(
            tx,
            platform="slack",
            to=Channel("CCONCERNS"),
            message=text_message("follow-up"),
            now=clock.now(),
            reply_to=post,
        )
        concern = (
            tx["concerns"]
            .insert(
                {
                    "platform": "slack",
                    "workspace": "T1",
                    "conversation": "CCONCERNS",
                    "code_hash": "0" * 64,
                    "body": "concern",
                    "status": "open",
                    "raised_on": "2026-06-10",
                    "post_outbox": post,
                }
            )
            .last_pk
        )
        tx["concern_messages"].insert(
            {"concern_id": concern, "kind": "author", "body": "follow-up", "outbox_id": follow_up}
        )
        # A post planned long ahead in the thread of the old kudos.
        late_reply = outbox.enqueue(
            tx,
            platform="slack",
            to=Channel("CTEAM"),
            message=text_message("much later"),
            now=clock.now(),
            reply_to=old_kudos[0],
            not_before=clock.now() + 32 * 86400,
        )
    await candor.settle()
    prompt = candor.db["checkin_runs"].get(1)["prompt_outbox"]
    run_ref = f"1:{int(candor.db['checkin_runs'].get(1)['occurrence'])}"

    clock.advance(31 * 86400)
    await candor.command("/kudos", "<@UCAROL> #mentoring a recent one")
    await candor.settle()
    recent = [r["id"] for r in candor.outbox() if r["id"] > late_reply]
    await prune_now(candor)

    kept = {r["id"] for r in candor.outbox()}
    assert kept == {old_kudos[0], prompt, post, follow_up, late_reply, *recent}
    assert old_kudos[1] not in kept  # the DM: nothing refers to it
    keys = {r["key"] for r in candor.db["processed"].rows}
    assert old_keys and not keys & set(old_keys) and len(keys) == 1  # only the recent kudos' key

    # What still needs an old row works: an answer to the old check-in, the planned reply.
    assert await candor.click(CheckinAction.RESPOND, run_ref, user="UBOB") == 200
    await candor.submit(slack.opened_views()[-1], {"q0": "late but here"}, user="UBOB")
    clock.advance(86400)
    candor.dispatcher.wake()
    await candor.settle()
    sent_ref = {r["id"]: r["sent_ref"] for r in candor.outbox()}
    threaded = {blocks_text(p).split("\n")[0]: p.get("thread_ts") for p in slack.delivered_to("CTEAM")}
    assert threaded["Answers from <@UBOB>"] == sent_ref[prompt]
    assert threaded["much later"] == sent_ref[old_kudos[0]]


async def test_pruning_goes_in_small_chunks(candor, slack, clock):
    for n in range(4):
        await candor.command("/kudos", f"<@UBOB> #mentoring thanks {n}")
    await candor.settle()
    clock.advance(31 * 86400)
    pruned = await retention.prune(
        candor.app[STORE],
        clock.now(),
        references=REGISTRY.outbox_references,
        permanent_keys=REGISTRY.permanent_keys,
        chunk=3,
    )
    assert pruned == retention.Pruned(outbox=8, processed=4)
    assert candor.count("outbox") == candor.count("processed") == 0


@pytest.mark.parametrize("settings_overrides", [{"speakup_channels": frozenset({"CCONCERNS"})}])
async def test_a_disabled_seeded_speakup_channel_stays_disabled_after_pruning(candor, slack, clock):
    slack.add_user("UADMIN", "mara.manager", is_admin=True)
    _, reply = await candor.command("/speakup", "disable", user="UADMIN", channel="CCONCERNS")
    assert "no longer takes new concerns" in blocks_text(reply)
    clock.advance(31 * 86400)
    await prune_now(candor)
    _, reply = await candor.command("/speakup", "", user="UALICE")  # the setting is not applied again
    assert "Speak-up is not set up yet" in blocks_text(reply)


async def test_an_edit_made_while_a_post_waits_behind_others_is_what_goes_out(candor, slack, clock):
    # The worker reads a conversation's queue ahead (up to 100 rows); an edit made in the meantime,
    # say /kudos undo behind a long queue, must not be lost.
    with candor.app[STORE].transaction() as tx:
        ids = [
            outbox.enqueue(tx, platform="slack", to=Channel("CX"), message=text_message(t), now=clock.now())
            for t in ("one", "two", "three")
        ]

    def undo_the_third() -> None:
        with candor.app[STORE].transaction() as tx:
            outbox.edit(tx, original=ids[2], message=text_message("taken back"), now=clock.now())

    slack.meanwhile["chat.postMessage"] = undo_the_third  # while Slack takes "one"
    await candor.settle()
    assert [blocks_text(p).split("\n")[0] for p in slack.delivered_to("CX")] == ["one", "two", "taken back"]
    assert [r["status"] for r in candor.outbox()] == ["sent"] * 3


class _Noting:
    """A platform that sends everything, noting `note()` as each send starts."""

    def __init__(self, note) -> None:
        self.note = note
        self.noted: list[int] = []

    async def send(self, item: outbox.OutboxItem) -> outbox.SendOutcome:
        self.noted.append(self.note())
        await asyncio.sleep(0)
        return outbox.SendOutcome("sent", ref=f"ts.{item.id}")


def _channels_due(store, clock, count: int) -> None:
    with store.transaction() as tx:
        for n in range(count):
            outbox.enqueue(
                tx, platform="slack", to=Channel(f"C{n}"), message=text_message("hi"), now=clock.now()
            )


async def test_a_fan_out_to_many_channels_is_worked_on_a_few_conversations_at_a_time(tmp_path, clock):
    # Each waiting conversation holds its rows in memory; thousands of them made every garbage
    # collection slow. Beyond the limit they wait in the database, and all are still delivered.
    store = open_store(tmp_path / "fanout.db")
    platform = _Noting(lambda: len(sending._workers))
    _channels_due(store, clock, 20)
    sending = dispatcher.Dispatcher(store, {"slack": platform}, clock, max_workers=3)
    try:
        await sending.drain()
        assert len(platform.noted) == 20 and max(platform.noted) == 3
        assert store.db.execute("select count(*) from outbox where status = 'sent'").fetchone() == (20,)
    finally:
        store.close()


async def test_a_burst_of_sends_starts_one_per_turn_of_the_loop(tmp_path, clock):
    """Twenty channels due at once: each send starts in a turn of its own (bot/turnstile.py), so
    a request waiting behind a turn waits for one send at most, and all twenty are delivered."""
    store = open_store(tmp_path / "burst.db")
    turns = LoopTurns()
    platform = _Noting(lambda: turns.count)
    _channels_due(store, clock, 20)
    sending = dispatcher.Dispatcher(store, {"slack": platform}, clock)
    try:
        await sending.drain()
        turns.stop()
        assert len(platform.noted) == 20 and len(set(platform.noted)) == 20, platform.noted
        assert store.db.execute("select count(*) from outbox where status = 'sent'").fetchone() == (20,)
    finally:
        store.close()


class _RealSleeps(FakeClock):
    """The wall clock stays fixed; the monotonic clock and sleeps are real, so a pause lasts."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def test_a_rate_limit_that_begins_while_sends_wait_their_turn_holds_them_too(tmp_path):
    """Twenty channels due; the first send is answered 429 (a pause of at least 1 s). The sends
    still waiting at the turnstile then wait the pause out instead of sending into it."""
    store, clock = open_store(tmp_path / "paused.db"), _RealSleeps()
    started: list[float] = []
    limited_at: list[float] = []

    class Limited:
        async def send(self, item: outbox.OutboxItem) -> outbox.SendOutcome:
            started.append(time.monotonic())
            if not limited_at:
                await asyncio.sleep(0)  # the others queue at the turnstile meanwhile
                limited_at.append(time.monotonic())
                return outbox.SendOutcome("rate_limited", retry_after=1.0)
            return outbox.SendOutcome("sent", ref=f"ts.{item.id}")

    _channels_due(store, clock, 20)
    sending = dispatcher.Dispatcher(store, {"slack": Limited()}, clock)
    try:
        await sending.drain()
        pause = (limited_at[0], limited_at[0] + 1.0)
        assert [at for at in started if pause[0] < at < pause[1]] == []
        assert len(started) == 21  # the limited one again, and the other nineteen, once each
        assert store.db.execute("select count(*) from outbox where status = 'sent'").fetchone() == (20,)
    finally:
        store.close()
