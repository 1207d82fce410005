"""The hard invariant: nothing anyone but the author can see links a concern to its author.

After a full speak-up flow, the author's user id, user name and display name (and plain hashes of
the id) appear nowhere in the database file (WAL included), the logs, or any API call Candor made
to anyone but the author.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging

import pytest

from bot.logs import setup_logging
from handlers import speakup
from tests.support.candor import blocks_text
from tests.test_speakup import AUTHOR, MANAGER, code_from, publish, raise_concern

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


@pytest.fixture
def production_logs():
    """Logs as `candor serve` writes them (JSON, libraries at WARNING), at DEBUG for Candor."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    out = io.StringIO()
    setup_logging("DEBUG", stream=out)
    yield out
    root.handlers[:], _ = saved
    root.setLevel(saved[1])


async def full_flow(candor, slack, clock) -> None:
    ack = await raise_concern(
        candor, slack, concern="Estimates are overruled & nobody says so", wants="Ask us"
    )
    code = code_from(ack)
    await publish(candor, clock)
    await candor.click(speakup.REPLY, "1", user=MANAGER, channel="CCONCERNS")
    await candor.submit(slack.opened_views()[-1], {"text": "Thanks, we will look at it."}, user=MANAGER)
    await candor.click(speakup.ACK, "1", user=MANAGER, channel="CCONCERNS")
    await candor.click(speakup.VIEW, code, user=AUTHOR, channel="DAUTHOR")
    await candor.submit(slack.opened_views()[-1], {"followup": "It happened again."}, user=AUTHOR)
    await candor.command("/speakup", f"status {code}", user=AUTHOR)
    await candor.command("/speakup", "status WRONG", user=AUTHOR)
    view = slack.opened_views()[0]
    await candor.submit(view, {"concern": "<!channel>"}, user=AUTHOR)  # a refused one, too
    await publish(candor, clock)
    await candor.click(speakup.RESOLVE, "1", user=MANAGER, channel="CCONCERNS")
    await candor.submit(slack.opened_views()[-1], {"text": "Estimates now come first."}, user=MANAGER)
    await candor.click(speakup.HIDE, "1", user=MANAGER, channel="CCONCERNS")
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
    wal = candor.settings.db_path.with_name(candor.settings.db_path.name + "-wal")
    assert wal.exists() and wal.stat().st_size > 0  # the WAL really is part of what we search

    leaks = secrets_of_the_author()
    never_kept = [*leaks, b"trig.", b"/respond/", b"hooks.slack"]  # no trigger id or response URL
    stored = database_bytes(candor.settings.db_path)
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


def test_the_leak_search_would_find_an_author_id(tmp_path):
    """The search above is not vacuous: a stored author id is found in the file bytes."""
    from bot.store import open_store

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
    },
    "speakup_channels": {"platform", "workspace", "conversation", "enabled_by", "created_at"},
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
    await candor.click(speakup.VIEW, code_from(ack), user=AUTHOR, channel="DAUTHOR")
    await candor.submit(slack.opened_views()[-1], {"followup": "more"}, user=AUTHOR)
    [author_row] = candor.db["concern_messages"].rows_where("kind = 'author'")
    assert author_row["by_user"] is None and len(author_row["created_on"]) == 10
    assert author_row["id"] > 2**31  # random, so its place among rows does not date it
    await publish(candor, clock)
    rows = [
        r
        for r in candor.outbox()
        if (r["conversation"] == "CCONCERNS" and r["reply_to"] is None) or "more" in r["payload"]
    ]
    assert len(rows) == 2
    for row in rows:  # the queue keeps only the batch time, not the moment of writing
        assert row["created_at"] % speakup.PUBLISH_EVERY_S == 0
    assert len(candor.db["concerns"].get(1)["raised_on"]) == 10
