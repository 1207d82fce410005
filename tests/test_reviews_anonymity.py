"""The invariant for anonymous reviews, proved as for speak-up: nothing anyone but the author can
see links an anonymous review to its author.

After a whole flow (the form with its steps, a refused answer, publication, owners marking done,
reminders, the author's edit and follow-up with the case code, lists and figures), the author's
user id, names and DM channel (and plain hashes of the id) appear nowhere in the database file (WAL
included), the logs, or any call Candor made to Slack; no stored instant is a moment they wrote.
"""

from __future__ import annotations

import json
import math
import struct
from datetime import UTC, datetime

import pytest

from bot.server import SERVICES
from handlers import anonymity
from handlers.reviews import jobs
from handlers.reviews.ids import ActionId, FieldId, Section, row_field
from tests.support.candor import blocks_text
from tests.test_reviews_slack import GOOD, open_form
from tests.test_speakup_anonymity import database_bytes, secrets_of_the_author

AUTHOR = "UAUTHOR"
DELAY = (300.0, 1800.0)


@pytest.fixture
def settings_overrides():
    return {"reviews_channel": "CREVIEWS", "speakup_delay_s": DELAY}


@pytest.fixture(autouse=True)
def people(slack):
    slack.add_user(AUTHOR, "quinn.author", real_name="Quinn Author", profile={"display_name": "Quinn Author"})


def day(clock, days: int) -> str:
    """A due date `days` from now (the test clock may start anywhere)."""
    return datetime.fromtimestamp(clock.now() + days * 86400, UTC).date().isoformat()


def code_from(ack) -> str:
    return blocks_text(ack["view"]).split("Your case code: *")[1].split("*")[0]


async def publish(candor, clock) -> None:
    clock.advance(1801 + anonymity.BATCH_EVERY_S)  # past the longest delay and its batch mark
    await jobs.publish_due(candor.app[SERVICES])  # what the minute job does
    await candor.settle()


async def full_flow(candor, slack, clock) -> list[float]:
    """Everything an anonymous author and the people around them do; returns the moments the
    author wrote."""
    written = []
    clock.advance(0.125)  # a moment no batch mark or day can equal
    view = await open_form(candor, slack, AUTHOR, channel="DAUTHOR")  # in their own chat with Candor
    owned = {
        row_field(1, "what"): "add a canary step",
        row_field(1, "owner"): "UBOB",
        row_field(1, "due"): "2026-12-15",
    }
    # Refused: the hidden author cannot own an action.
    ack = await candor.submit(
        view,
        {**GOOD, **owned, FieldId.ANONYMOUS: ["yes"], FieldId.LINES: f"<@UAUTHOR> {day(clock, 30)} me"},
        user=AUTHOR,
    )
    assert ack["response_action"] == "errors"
    # More rows, then the gentle blame check, then published.
    ack = await candor.submit(
        view, {**GOOD, **owned, FieldId.ANONYMOUS: ["yes"], FieldId.MORE_ROWS: ["yes"]}, user=AUTHOR
    )
    ack = await candor.submit(
        ack["view"],
        {
            Section.FACTORS: "Someone forgot the checklist step.",
            FieldId.LINES: "<@UCAROL> 2026-12-20 write the runbook",
        },
        user=AUTHOR,
    )
    assert "gentle check" in blocks_text(ack["view"])
    ack = await candor.submit(ack["view"], {}, user=AUTHOR)
    code = code_from(ack)
    written.append(clock.now())
    clock.advance(0.5)
    await publish(candor, clock)
    assert any("by a team member (anonymous)" in blocks_text(p) for p in slack.delivered_to("CREVIEWS"))
    # The owners open their Home tab: their actions are listed there (views.publish is a call to Slack
    # the invariant checks, like every other).
    for owner, what in (("UBOB", "add a canary step"), ("UCAROL", "write the runbook")):
        event = {"type": "app_home_opened", "user": owner, "channel": "D" + owner, "tab": "home"}
        assert await candor.event(event, event_id="EvHome" + owner) == 200
        home = slack.calls_to("views.publish")[-1].params
        assert home["user_id"] == owner and what in json.dumps(home["view"])

    [canary, _] = [r[0] for r in candor.db.execute("select id from review_actions order by position")]
    await candor.click(ActionId.DONE, str(canary), user="UBOB", channel="DBOB")
    await candor.command("/review", f"edit {code}", user=AUTHOR)
    await candor.settle()  # the fake clock stands still: let nothing else happen at the author's instant
    clock.advance(7.375)
    await candor.submit(
        slack.opened_views()[-1],
        {Section.IMPACT: "About 320 customers could not pay.", FieldId.FOLLOW_UP: "The canary is live now."},
        user=AUTHOR,
    )
    written.append(clock.now())
    clock.advance(0.5)
    await candor.command("/review", "edit WRONG", user=AUTHOR)
    await candor.command("/review", "list", user=AUTHOR)
    await candor.command("/review", "stats", user="UBOB")
    await candor.command("/review", "actions", user="UCAROL")
    await publish(candor, clock)
    clock.t = math.floor(clock.t / 86400) * 86400 + 300 * 86400  # long after: reminders and digests ran
    await jobs.send_reminders(candor.app[SERVICES])
    await jobs.send_digests(candor.app[SERVICES])
    await candor.settle()
    thread = [blocks_text(p) for p in slack.delivered_to("CREVIEWS") if p.get("thread_ts")]
    assert any("The canary is live now." in t for t in thread)
    return written


async def test_the_author_of_an_anonymous_review_appears_nowhere(production_logs, candor, slack, clock):
    written = await full_flow(candor, slack, clock)
    [(author, anonymous)] = candor.db.execute("select author, anonymous from reviews").fetchall()
    assert (author, anonymous) == (None, 1)
    wal = candor.settings.db_path.with_name(candor.settings.db_path.name + "-wal")
    assert wal.exists()

    leaks = secrets_of_the_author()
    never_kept = [*leaks, b"trig.", b"/respond/", b"hooks.slack"]
    stored = database_bytes(candor.settings.db_path)
    assert [s for s in never_kept if s in stored] == []
    assert [t for t in written if struct.pack(">d", t) in stored] == []  # no moment of writing

    logs = production_logs.getvalue()
    assert logs.count('"msg": "request"') >= 8  # the log really captured the requests
    assert [s for s in never_kept if s.decode("utf-8", "ignore") in logs] == []

    # Every form opened in this flow is the author's own (views.open with their trigger), and the
    # form remembers where they ran /review (their chat with Candor) for a named review.
    to_others = [c for c in slack.calls if c.params.get("channel") != AUTHOR and c.method != "views.open"]
    assert any(b"DAUTHOR" in json.dumps(c.params).encode() for c in slack.calls_to("views.open"))
    assert len(to_others) > 8
    sent = json.dumps([c.params for c in to_others])
    assert [s for s in leaks if s.decode("utf-8", "ignore") in sent] == []
    assert slack.calls_to("users.info") and all(
        c.params.get("user") != AUTHOR for c in slack.calls_to("users.info")
    )

    await candor.stop()  # and after a checkpoint on close, the main file too
    assert [s for s in leaks if s in database_bytes(candor.settings.db_path)] == []


async def test_the_anonymous_reviews_rows_carry_only_batch_times_and_random_numbers(candor, slack, clock):
    clock.t = 1_800_000_123.0  # mid-day
    view = await open_form(candor, slack, AUTHOR)
    owned = {
        FieldId.LINES: f"<@UBOB> {day(clock, 20)} add a canary\n<@UCAROL> {day(clock, 21)} write the runbook"
    }
    await candor.submit(view, {**GOOD, **owned, FieldId.ANONYMOUS: ["yes"]}, user=AUTHOR)
    await publish(candor, clock)
    [(review_id, publish_at, published_on)] = candor.db.execute(
        "select id, publish_at, published_on from reviews"
    ).fetchall()
    assert publish_at % anonymity.BATCH_EVERY_S == 0 and len(published_on) == 10
    rows = candor.outbox()
    assert len(rows) == 3 and all(r["created_at"] % anonymity.BATCH_EVERY_S == 0 for r in rows)
    assert all(r["not_before"] == r["created_at"] for r in rows)
    ids = [r[0] for r in candor.db.execute("select id from review_actions")]
    assert all(i > 2**31 for i in ids) and abs(ids[0] - ids[1]) != 1  # random: no order or count
    assert 1_000_000 <= review_id <= 9_999_999


async def test_a_due_review_waits_for_the_batch_job_not_for_the_next_writer(candor, slack, clock):
    clock.advance(0.125)
    view = await open_form(candor, slack, AUTHOR)
    ack = await candor.submit(view, {**GOOD, FieldId.ANONYMOUS: ["yes"]}, user=AUTHOR)
    held = anonymity.code_hash(code_from(ack)).encode()
    wal = candor.settings.db_path.with_name(candor.settings.db_path.name + "-wal")
    assert held in database_bytes(candor.settings.db_path)  # the searches below are not vacuous
    assert held not in wal.read_bytes()  # the author's commit left the log right after it
    clock.advance(1800 + anonymity.BATCH_EVERY_S + 1.25)  # its batch time has passed
    view = await open_form(candor, slack, "UBOB")
    await candor.submit(
        view, {**GOOD, FieldId.ANONYMOUS: ["yes"], Section.TITLE: "Written second"}, user="UBOB"
    )
    await candor.settle()
    # Someone else writing does not release it: the moment they wrote is stored nowhere.
    assert candor.count("outbox") == 0 and slack.delivered_to("CREVIEWS") == []
    await jobs.publish_due(candor.app[SERVICES])  # the job releases it, and then empties the WAL
    await candor.settle()
    assert len(slack.delivered_to("CREVIEWS")) == 1
    assert held not in wal.read_bytes()
