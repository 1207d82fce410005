"""The hard invariant: nothing anyone but the author can see links a concern to its author.

After a full speak-up flow, the author's user id, user name and display name (and plain hashes of
the id) appear nowhere in the database file (WAL included), the logs, or any API call Candor made
to anyone but the author.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import struct

import pytest

from bot.server import SERVICES
from bot.store import open_store
from handlers import anonymity
from handlers.speakup import jobs
from handlers.speakup.ids import ActionId
from tests.support.candor import Candor, blocks_text, hold_log, make_settings
from tests.test_speakup import AUTHOR, MANAGER, case_id, code_from, publish, raise_concern

NAMES = ("UAUTHOR", "quinn.author", "Quinn Author", "quinn")


def secrets_of_the_author() -> list[bytes]:
    found = []
    for name in NAMES:
        for variant in (name, name.lower(), name.upper()):
            found += [variant.encode(), variant.encode("utf-16-le")]
    found.append(b"DAUTHOR")  # their DM channel
    for key in ("UAUTHOR", "slack:T1:UAUTHOR"):
        found += [
            hashlib.sha256(key.encode()).hexdigest().encode(),
            hashlib.md5(key.encode()).hexdigest().encode(),
        ]
    return found


@pytest.fixture
def settings_overrides():
    return {"speakup_channels": frozenset({"CCONCERNS"}), "speakup_delay_s": (300.0, 1800.0)}


@pytest.fixture(autouse=True)
def people(slack):
    slack.add_user(AUTHOR, "quinn.author", real_name="Quinn Author", profile={"display_name": "Quinn Author"})
    slack.add_user(MANAGER, "mara.manager", is_admin=True)


async def full_flow(candor, slack, clock) -> None:
    ack = await raise_concern(
        candor, slack, concern="Estimates are overruled & nobody says so", wants="Ask us", dm=True
    )
    code = code_from(ack)
    await publish(candor, clock)
    await candor.click(ActionId.REPLY, case_id(candor), user=MANAGER, channel="CCONCERNS")
    await candor.submit(slack.opened_views()[-1], {"text": "Thanks, we will look at it."}, user=MANAGER)
    await candor.click(ActionId.ACK, case_id(candor), user=MANAGER, channel="CCONCERNS")
    await candor.click(ActionId.VIEW, code, user=AUTHOR, channel="DAUTHOR")
    await candor.submit(slack.opened_views()[-1], {"followup": "It happened again."}, user=AUTHOR)
    await candor.command("/speakup", f"status {code}", user=AUTHOR)
    await candor.command("/speakup", "status WRONG", user=AUTHOR)
    view = slack.opened_views()[0]
    await candor.submit(view, {"concern": "<!channel>"}, user=AUTHOR)  # a refused one, too
    await publish(candor, clock)
    await candor.click(ActionId.RESOLVE, case_id(candor), user=MANAGER, channel="CCONCERNS")
    await candor.submit(slack.opened_views()[-1], {"text": "Estimates now come first."}, user=MANAGER)
    await candor.click(ActionId.HIDE, case_id(candor), user=MANAGER, channel="CCONCERNS")
    await candor.submit(slack.opened_views()[-1], {"text": "Too specific"}, user=MANAGER)
    await candor.settle()
    assert any("It happened again." in blocks_text(p) for p in slack.delivered_to("CCONCERNS"))


def database_bytes(path) -> bytes:
    data = b""
    for suffix in ("", "-wal", "-shm"):
        file = path.with_name(path.name + suffix)
        if file.exists():
            data += file.read_bytes()
    return data


async def test_the_author_appears_nowhere_but_in_their_own_messages(production_logs, candor, slack, clock):
    await full_flow(candor, slack, clock)
    leaks = secrets_of_the_author()
    never_kept = [*leaks, b"trig.", b"/respond/", b"hooks.slack"]  # no trigger id or response URL
    stored = database_bytes(candor.settings.db_path)  # the file, and the WAL unless emptied since
    assert b"Estimates now come first." in stored  # the search is not vacuous: the last writes are in it
    assert [s for s in never_kept if s in stored] == []

    logs = production_logs.getvalue()
    assert logs.count('"msg": "request"') >= 10  # the log really captured the requests
    assert [s for s in never_kept if s.decode("utf-8", "ignore") in logs] == []
    assert '"logger": "candor.http"' in logs  # configured before the app was built, as in `serve`

    to_others = [c for c in slack.calls if c.params.get("channel") != AUTHOR]
    assert len(to_others) > 10
    sent = json.dumps([c.params for c in to_others])
    assert [s for s in leaks if s.decode("utf-8", "ignore") in sent] == []
    # ...while the author did get their private key
    assert any("Your case code" in blocks_text(p) for p in slack.delivered_to(AUTHOR))

    await candor.stop()  # and after a checkpoint on close, the main file too
    assert [s for s in leaks if s in database_bytes(candor.settings.db_path)] == []


@pytest.mark.postgresql
async def test_on_postgresql_neither_a_dump_nor_the_statement_log_holds_the_author(
    production_logs, postgres_server, clock, slack, settings_overrides
):
    """The same flow on PostgreSQL with every statement logged (log_statement=all), bound
    parameters included: the author is in no row pg_dump shows, and in no logged statement or
    parameter."""
    url = postgres_server.new_database(log_statements=True)
    candor = await Candor(make_settings(url, slack.url, **settings_overrides), clock, slack).start()
    try:
        await full_flow(candor, slack, clock)
    finally:
        await candor.stop()
    leaks = secrets_of_the_author()
    never_kept = [*leaks, b"trig.", b"/respond/", b"hooks.slack"]
    dump = postgres_server.dump(url)
    assert b"Estimates are overruled" in dump  # the dump really holds the concern
    assert [s for s in never_kept if s in dump] == []
    log = postgres_server.server_log_of(url).encode()
    assert b"insert into concerns" in log.lower() and b"parameters: $1" in log  # values are logged
    assert MANAGER.encode() in log  # people who are not anonymous are there: the search is not vacuous
    assert [s for s in never_kept if s in log] == []


def test_the_leak_search_would_find_an_author_id(tmp_path):
    """The search above is not vacuous: a stored author id is found in the file bytes."""
    store = open_store(tmp_path / "leaky.db")
    with store.transaction() as tx:
        tx["processed"].insert({"key": "UAUTHOR", "at": 0.0})
    assert any(s in database_bytes(tmp_path / "leaky.db") for s in secrets_of_the_author())
    store.close()


# Every column of the anonymous tables, reviewed. Adding one (say, `author`) fails here first.
REVIEWED_COLUMNS = {
    "concerns": {
        "id",
        "platform",
        "workspace",
        "conversation",
        "code_hash",
        "body",
        "wants",
        "status",
        "hidden_reason",
        "raised_on",
        "post_outbox",
        "acknowledged_on",
        "first_reply_on",
        "publish_at",
        "resolved_on",
        "ack_due_on",
        "reply_due_on",
        "resolve_due_on",
        "flagged",
    },
    "concern_messages": {
        "id",
        "concern_id",
        "kind",
        "by_user",
        "body",
        "created_on",
        "outbox_id",
        "publish_at",
    },
    "outbox": {
        "id",
        "platform",
        "conversation",
        "thread",
        "payload",
        "status",
        "attempts",
        "not_before",
        "created_at",
        "sent_at",
        "sent_ref",
        "last_error",
        "reply_to",
        "replaces",
        "failing_since",
        "recipient",  # "channel" or "person": the kind, never who
    },
    "speakup_channels": {"platform", "workspace", "conversation", "enabled_by", "created_at"},
    # Failure reviews (handlers/reviews): tests/test_reviews_anonymity.py proves an anonymous one
    # leaves `author` NULL and nothing of its author anywhere else.
    "review_channels": {"platform", "workspace", "conversation", "set_by", "tz", "digest_on", "set_on"},
    "reviews": {
        "id",
        "platform",
        "workspace",
        "conversation",
        "channel",
        "author",  # a named review's author; NULL when anonymous
        "anonymous",
        "code_hash",
        "title",
        "happened",
        "impact",
        "factors",
        "learned",
        "next_time",
        "quality",
        "quality_detail",
        "published_on",
        "publish_at",
        "post_outbox",
        "edit",
        "edit_at",
    },
    "review_actions": {
        "id",
        "review_id",
        "position",
        "description",
        "owner",  # never an anonymous review's author (refused in the form)
        "due_on",
        "tz",  # the owner's
        "remind_before_at",
        "remind_due_at",
        "overdue_at",
        "before_state",
        "due_state",
        "done_at",
        "done_by",
        "dm_outbox",
    },
    "review_messages": {
        "id",
        "review_id",
        "by_user",  # a named author's follow-up; NULL for an anonymous author
        "body",
        "created_on",
        "publish_at",
        "outbox_id",
    },
    # The pulse: an answer has no user and no time; who answered is a flag on the invite, written
    # when the round opened (tests/test_pulse_anonymity.py proves the two cannot be joined).
    "pulse_answers": {"id", "round_id", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "comment"},
    "pulse_invites": {"round_id", "user", "answered", "dm_outbox"},
}


ALL_TABLES = {
    "_sqlite_migrations",
    "outbox",
    "processed",
    "kudos",
    "schedules",
    "checkin_runs",
    "checkin_responses",
    "nudge_log",
    "speakup_channels",
    "concerns",
    "concern_messages",
    "heartbeat",  # a counter the health check updates; nothing of anyone
    # Nominations are a named practice: nominators and voters are stored (shown only where a cycle
    # says so), never anything of a speak-up author.
    "nomination_cycles",
    "nominations",
    "nomination_votes",
    "nomination_results",
    # Teams' conversation references: a personal one names its member, written when Candor is
    # installed, never by a speak-up flow (tests/test_teams_speakup.py proves it for Teams).
    "teams_references",
    # Accountability: named by design (agreements, escalation, coaching); none is anonymous.
    "agreements",
    "agreement_offers",
    "agreement_reviews",
    "escalation_cases",
    "escalation_steps",
    "escalation_observations",
    "coaching_notes",
    "outbox_leases",  # which dispatcher works on which conversation until when; no author, no text
    # Failure reviews: tests/test_reviews_anonymity.py proves an anonymous one keeps no author.
    "review_channels",
    "reviews",
    "review_actions",
    "review_messages",
    # The pulse: schedules and rounds are an admin's or manager's, answers are anonymous (above).
    "pulse_schedules",
    "pulse_rounds",
    "pulse_invites",
    "pulse_answers",
    "team_sizes",  # a channel's member count, for the report's rates; never who
}


async def test_no_column_that_could_hold_an_author_was_added_unreviewed(candor):
    for table, reviewed in REVIEWED_COLUMNS.items():
        assert set(candor.db[table].columns_dict) == reviewed, table
    # A new table is reviewed too: add it here once it is known to hold nothing of an author.
    assert set(candor.db.table_names()) == ALL_TABLES


async def test_author_messages_carry_no_author_and_only_the_day(candor, slack, clock):
    clock.t = 1_800_000_123.0  # mid-day
    ack = await raise_concern(candor, slack)
    await publish(candor, clock)
    await candor.click(ActionId.VIEW, code_from(ack), user=AUTHOR, channel="DAUTHOR")
    await candor.submit(slack.opened_views()[-1], {"followup": "more"}, user=AUTHOR)
    [author_row] = candor.db["concern_messages"].rows_where("kind = 'author'")
    assert author_row["by_user"] is None and len(author_row["created_on"]) == 10
    assert author_row["id"] > 2**31  # random, so its place among rows does not date it
    await candor.click(ActionId.REPLY, case_id(candor), user=MANAGER, channel="CCONCERNS")
    await candor.submit(slack.opened_views()[-1], {"text": "Noted."}, user=MANAGER)
    [reply] = candor.db["concern_messages"].rows_where("kind = 'reply'")
    assert reply["id"] != author_row["id"] + 1  # a later row's id does not point at the follow-up
    await publish(candor, clock)
    rows = [
        r
        for r in candor.outbox()
        if (r["conversation"] == "CCONCERNS" and r["reply_to"] is None) or "more" in r["payload"]
    ]
    assert len(rows) == 2
    for row in rows:  # the queue keeps only the batch time, not the moment of writing
        assert row["created_at"] % anonymity.BATCH_EVERY_S == 0
    assert len(candor.db["concerns"].get(int(case_id(candor)))["raised_on"]) == 10


# --- time: only the batch job publishes, and its rows carry the batch's time ----------------------
async def test_a_due_concern_waits_for_the_batch_job_not_for_the_next_writer(candor, slack, clock):
    clock.advance(0.125)  # moments no batch boundary or day can equal
    code = code_from(await raise_concern(candor, slack, concern="Written first"))
    written = [clock.now()]
    clock.advance(1800 + anonymity.BATCH_EVERY_S + 1.25)  # its batch time has passed
    await raise_concern(candor, slack, concern="Written second", user="UBOB")
    written.append(clock.now())
    await candor.settle()
    # Someone else writing does not release it: the moment they wrote is stored nowhere.
    assert candor.count("outbox") == 0 and slack.delivered_to("CCONCERNS") == []

    clock.t = math.floor(clock.t / anonymity.BATCH_EVERY_S) * anonymity.BATCH_EVERY_S + 337  # the job, late
    batch = clock.t - 37
    await jobs.publish_due(candor.app[SERVICES])
    await candor.settle()
    [row] = [r for r in candor.outbox() if r["conversation"] == "CCONCERNS"]
    assert row["not_before"] == row["created_at"] == batch
    assert "Written first" in row["payload"] and row["sent_at"] is not None
    assert not {row["not_before"], row["created_at"], row["sent_at"]} & set(written)
    stored = database_bytes(candor.settings.db_path)  # SQLite keeps a REAL as 8 big-endian bytes
    assert [t for t in written if struct.pack(">d", t) in stored] == []

    # The same for follow-ups: one already due waits for the job, not for the next follow-up.
    for text in ("first follow-up", "second follow-up"):
        await candor.click(ActionId.VIEW, code, user=AUTHOR, channel="DAUTHOR")
        await candor.submit(slack.opened_views()[-1], {"followup": text}, user=AUTHOR)
        clock.advance(1800 + anonymity.BATCH_EVERY_S + 1)
    await candor.settle()
    assert not any("follow-up" in r["payload"] for r in candor.outbox())


# --- the write-ahead log ------------------------------------------------------------------------
def wal_bytes(candor) -> bytes:
    wal = candor.settings.db_path.with_name(candor.settings.db_path.name + "-wal")
    return wal.read_bytes() if wal.exists() else b""


async def concern_between_kudos(candor, slack) -> bytes:
    """The author gives kudos, raises a concern, gives kudos: the concern's row, as stored."""
    await candor.command("/kudos", "<@UBOB> #mentoring thanks for pairing", user=AUTHOR)
    ack = await raise_concern(candor, slack, concern="Written between two kudos of mine")
    await candor.command("/kudos", "<@UCAROL> #feedback thanks for the review", user=AUTHOR)
    held = anonymity.code_hash(code_from(ack).replace("-", "")).encode()  # only the concerns row has it
    assert held in candor.settings.db_path.read_bytes()  # the search is not vacuous: it is stored
    return held


async def test_the_concern_s_commit_leaves_the_wal_right_after_it(candor, slack):
    """Its commit, between its author's other writes, would show where it came in their
    sequence: the log is emptied right after it (and the background task empties it within
    seconds after any commit)."""
    held = await concern_between_kudos(candor, slack)
    assert held not in wal_bytes(candor)


async def test_a_concern_written_while_a_reader_holds_the_log_is_taken_and_logs_nothing(
    production_logs, candor, slack
):
    """A backup holding the log keeps it from being emptied; a line saying so, logged as the author
    writes, would tell when they wrote. The concern is taken, and the log is emptied later."""
    held = hold_log(candor.settings.db_path)
    try:
        ack = await raise_concern(candor, slack, concern="Written while a backup ran")
    finally:
        held.close()
    assert code_from(ack)  # taken: the author has their code
    assert candor.count("concerns") == 1
    logs = production_logs.getvalue()
    assert logs.count('"msg": "request"') >= 1  # the log really captured the request
    assert "write-ahead" not in logs and '"level": "warning"' not in logs


async def test_after_a_publication_batch_the_wal_no_longer_holds_the_concern(candor, slack, clock):
    held = await concern_between_kudos(candor, slack)
    await publish(candor, clock)  # the batch job, then the posts are sent and marked
    assert candor.count("outbox") >= 3
    assert held not in wal_bytes(candor)


def test_a_deleted_row_leaves_no_bytes_in_the_file(tmp_path):
    """secure_delete (compiled in by some SQLite builds, Debian's among them; set for all others)."""
    path = tmp_path / "deleted.db"
    store = open_store(path)
    with store.transaction() as tx:
        tx["processed"].insert({"key": "a-key-that-must-vanish", "at": 0.0})
        tx["processed"].insert({"key": "a-key-that-stays", "at": 0.0})
    assert store.checkpoint()
    with store.transaction() as tx:
        tx.execute("delete from processed where key = 'a-key-that-must-vanish'")
    assert store.checkpoint()
    stored = database_bytes(path)
    assert b"a-key-that-stays" in stored and b"a-key-that-must-vanish" not in stored
    store.close()


# --- the optional private copy of the code ---------------------------------------------------------
async def test_an_undelivered_copy_is_counted_never_logged_when_it_happens(
    production_logs, candor, slack, clock
):
    services = candor.app[SERVICES]
    await jobs.publish_due(services)  # the job's first run of the day
    slack.answer_next("chat.postMessage", status=500)  # Slack fails the author's private copy
    await raise_concern(candor, slack, dm=True)
    for _ in range(500):
        if not anonymity.sending():
            break
        await asyncio.sleep(0.01)
    assert [c.answered for c in slack.calls_to("chat.postMessage") if c.params["channel"] == AUTHOR] == [500]
    await jobs.publish_due(services)  # later the same day: still nothing said
    assert "deliver" not in production_logs.getvalue()

    clock.t = (clock.t // 86400 + 1) * 86400 + 60  # the job's first run the next day reports a number
    await jobs.publish_due(services)
    reports = [json.loads(line) for line in production_logs.getvalue().splitlines() if "deliver" in line]
    assert len(reports) == 1 and reports[0]["count"] == 1 and "request_id" not in reports[0]
