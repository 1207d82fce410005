"""The pulse over Slack end to end, and the anonymity proof: from the database file (WAL included),
the logs and every API call, no answer can be linked to the person who gave it.

What links could exist, and why each does not:
- a column: pulse_answers has no user and no time (pinned here and in test_speakup_anonymity.py);
- row order or rowid: answers get random ids, so their order is not the order of answering, while
  invites keep the order the channel listed its members, whoever answered first;
- a timestamp: no row written at answer time holds one, and no outbox row is written then;
- the write-ahead log, which holds commits in order: it is emptied right after each answer;
- the `processed` table: the answer form's replays are remembered in memory only.
"""

from __future__ import annotations

import json
import struct

import pytest

from bot.server import SERVICES
from handlers.pulse import jobs, store
from handlers.pulse.ids import ActionId
from tests.support.candor import blocks_text, hold_log

MEMBERS = ["UANA", "UBEN", "UCAT", "UDAN", "UEVA", "UFIN", "UGUS", "UHAL"]
ADMIN = "UADMIN"


@pytest.fixture
def settings_overrides():
    return {"admins": frozenset({ADMIN})}


@pytest.fixture(autouse=True)
def people(slack):
    for user in [*MEMBERS, ADMIN]:
        slack.add_user(user, user[1:].lower())
    slack.members["CTEAM"] = [*MEMBERS, "UHELPER"]  # a bot is never invited


async def start(candor) -> int:
    status, body = await candor.command("/pulse", "start", user=ADMIN)
    assert status == 200 and "Pulse scheduled" in blocks_text(body)
    await jobs.run(candor.app[SERVICES])
    await candor.settle()
    [round_id] = [r for (r,) in candor.db.execute("select id from pulse_rounds where state = 'open'")]
    return round_id


async def answer(
    candor, slack, round_id: int, user: str, values, comment: str = "", trigger: str | None = None
):
    assert await candor.click(ActionId.ANSWER, str(round_id), user=user, channel=f"D{user}") == 200
    view = slack.opened_views()[-1]
    filled = {f"q{n}": str(v) for n, v in enumerate(values, start=1)} | {"comment": comment}
    return await candor.submit(view, filled, user=user, trigger_id=trigger)


def database_bytes(path) -> bytes:
    return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())


def wal(candor) -> bytes:
    path = candor.settings.db_path.with_name(candor.settings.db_path.name + "-wal")
    return path.read_bytes() if path.exists() else b""


async def test_over_slack_members_get_a_card_answer_in_a_form_and_see_the_results(candor, slack, clock):
    round_id = await start(candor)
    cards = {c.params["channel"]: blocks_text(c.params) for c in slack.calls_to("chat.postMessage")}
    assert set(cards) == {*MEMBERS, "CTEAM"}  # a card to every member, the announcement in the channel
    assert "It is safe to take a risk on this team." in cards["UANA"]
    for i, user in enumerate(MEMBERS[:6]):
        ack = await answer(candor, slack, round_id, user, (2, 6, 2, 6, 2, 6, 6 - i % 2))
        assert ack["response_action"] == "update" and "Your answer is recorded" in json.dumps(ack)
    refused = await answer(candor, slack, round_id, "UANA", (1,) * 7)
    assert refused["response_action"] == "errors" and "already answered" in refused["errors"]["q1"]
    out_of_range = await answer(candor, slack, round_id, "UGUS", (9, 4, 4, 4, 4, 4, 4))
    assert out_of_range == {"response_action": "errors", "errors": {"q1": "Pick one of the seven answers."}}
    await candor.command("/pulse", "close", user=ADMIN)
    await candor.settle()
    [results] = [blocks_text(p) for p in slack.delivered_to("CTEAM") if "results" in blocks_text(p)]
    assert "Team score: *5.93* out of 7" in results  # (3 × 6 + 3 × (41/7)) / 6
    assert "Response rate: 75% (6 of 8 members)" in results
    late = await answer(candor, slack, round_id, "UHAL", (4,) * 7)
    assert "closed" in late["errors"]["q1"]


async def test_no_answer_can_be_linked_to_its_author_from_the_file_the_logs_or_the_api(
    production_logs, candor, slack, clock
):
    round_id = await start(candor)
    order = ["UHAL", "UGUS", "UFIN", "UEVA", "UDAN", "UCAT", "UBEN", "UANA"]  # the reverse of the channel's
    moments = []
    outbox_before, processed_before = candor.count("outbox"), candor.count("processed")
    for i, user in enumerate(order):
        clock.advance(37.125 + i)  # moments no batch, day or other row could share
        moments.append(clock.now())
        await answer(candor, slack, round_id, user, (i % 7 + 1, 4, 4, 4, 4, 4, 4), comment=f"note {i}")
        # The commit that wrote the flag and the answer side by side is out of the log at once. (Not
        # "the log is empty": a periodic job may have written an unrelated row since.)
        held = wal(candor)
        assert [j for j in range(i + 1) if f"note {j}".encode() in held] == []
    assert candor.count("outbox") == outbox_before  # answering writes no post anyone could date

    answers = candor.db.execute("select id, q1 from pulse_answers order by id").fetchall()
    assert len(answers) == 8
    # row order is not the order of answering (which gave q1 = 1, 2, …, 7, 1)
    assert [q1 for _, q1 in answers] != [i % 7 + 1 for i in range(8)]
    assert all(answer_id > 2**31 for answer_id, _ in answers)  # random over [1, 2**62]: no count, no order
    # invites keep the channel's order, whoever answered first
    invited = [
        u
        for (u,) in candor.db.execute(
            "select user from pulse_invites where round_id = ? order by rowid", [round_id]
        )
    ]
    assert invited == MEMBERS
    # no row holds the moments people answered, in any column, as SQLite stores a REAL
    stored = database_bytes(candor.settings.db_path)
    assert all(f"note {j}".encode() in stored for j in range(8))  # the search above can find them
    assert [t for t in moments if struct.pack(">d", t) in stored] == []
    assert [t for t in moments if str(int(t)).encode() in stored] == []
    # nothing in `processed` for the card's button or the form (their replays are held in memory only)
    assert candor.count("processed") == processed_before

    logs = production_logs.getvalue()
    assert logs.count('"msg": "request"') >= 16
    for user in order:
        assert user not in logs
        assert not any(
            user in json.dumps(c.params) and "note" in json.dumps(c.params)
            for c in slack.calls
            if c.params.get("channel") != user
        )


async def test_a_closed_round_below_k_keeps_nothing(candor, slack, clock):
    round_id = await start(candor)
    for user in MEMBERS[:3]:
        await answer(candor, slack, round_id, user, (1, 7, 1, 7, 1, 7, 7), comment="three of us")
    await candor.command("/pulse", "close", user=ADMIN)
    await candor.settle()
    assert candor.count("pulse_answers") == 0
    assert b"three of us" not in database_bytes(candor.settings.db_path)
    closed = store.get_round(candor.db, round_id=round_id, platform="slack", workspace="T1")
    assert closed is not None and closed.score is None and closed.item_means is None


async def test_a_round_closed_while_a_reader_holds_the_log_is_closed_and_says_so(
    production_logs, candor, slack, clock
):
    """The close is a job at a public moment: a backup holding the log may be logged then (it
    names nobody), and the closed round stands; the log is emptied once the reader lets go."""
    round_id = await start(candor)
    for user in MEMBERS[:3]:
        await answer(candor, slack, round_id, user, (1, 7, 1, 7, 1, 7, 7), comment="three of us")
    held = hold_log(candor.settings.db_path)
    try:
        status, body = await candor.command("/pulse", "close", user=ADMIN)
    finally:
        held.close()
    assert status == 200 and "closed" in blocks_text(body).lower()
    closed = store.get_round(candor.db, round_id=round_id, platform="slack", workspace="T1")
    assert closed is not None and closed.state == "closed"
    assert candor.count("pulse_answers") == 0
    logs = production_logs.getvalue()
    assert logs.count("a reader holds the write-ahead log") == 1
    assert not any(user in logs for user in MEMBERS)
    assert candor.app[SERVICES].store.checkpoint()  # the reader let go: the log empties
    assert b"three of us" not in database_bytes(candor.settings.db_path)


async def test_a_replayed_submission_changes_nothing(candor, slack, clock):
    round_id = await start(candor)
    await answer(candor, slack, round_id, "UANA", (4,) * 7, trigger="trig.same")
    view = slack.opened_views()[-1]
    again = await candor.submit(
        view, {f"q{n}": "1" for n in range(1, 8)}, user="UANA", trigger_id="trig.same"
    )
    assert again == {} or again.get("response_action") != "update"
    assert candor.count("pulse_answers") == 1


def test_the_answer_tables_hold_no_user_and_no_time(tmp_path):
    from bot.store import open_store

    db = open_store(tmp_path / "x.db").db
    assert set(db["pulse_answers"].columns_dict) == {
        "id",
        "round_id",
        "q1",
        "q2",
        "q3",
        "q4",
        "q5",
        "q6",
        "q7",
        "comment",
    }
    assert set(db["pulse_invites"].columns_dict) == {"round_id", "user", "answered", "dm_outbox"}
    db.close()


async def pg_candor(postgres_server, slack, clock, settings_overrides, url: str):
    from tests.support.candor import Candor, make_settings

    return await Candor(make_settings(url, slack.url, **settings_overrides), clock, slack).start()


@pytest.mark.postgresql
async def test_on_postgresql_logging_statement_values_pauses_the_pulse_before_anyone_is_named(
    production_logs, postgres_server, slack, clock, settings_overrides
):
    """With the server logging bound values (log_statement = all, as PostgreSQL logs them by
    default once statements are logged), a member's "who" and "what" would sit side by side in the
    server log: the pulse refuses to schedule, to open the form and to take an answer, and says why."""
    url = postgres_server.new_database()
    candor = await pg_candor(postgres_server, slack, clock, settings_overrides, url)
    try:
        round_id = await start(candor)  # the server logged nothing then
        assert await candor.click(ActionId.ANSWER, str(round_id), user="UANA", channel="DUANA") == 200
        form = slack.opened_views()[-1]  # opened before the operator turned statement logging on
    finally:
        await candor.stop()
    postgres_server.admin(f"alter database {url.rsplit('/', 1)[1]} set log_statement = 'all'")
    candor = await pg_candor(postgres_server, slack, clock, settings_overrides, url)
    try:
        logs = production_logs.getvalue()
        assert "the pulse is paused" in logs and "log_statement = all" in logs  # the operator is told
        filled = {f"q{n}": "4" for n in range(1, 8)} | {"comment": "late at night"}
        refused = await candor.submit(form, filled, user="UANA")
        assert refused["response_action"] == "errors"
        assert "The pulse is paused" in refused["errors"]["q1"]
        assert "log_parameter_max_length = 0" in refused["errors"]["q1"]
        assert await candor.click(ActionId.ANSWER, str(round_id), user="UBEN", channel="DUBEN") == 200
        await candor.settle()
        [shown] = [c.params for c in slack.calls_to("response_url")][-1:]
        assert "The pulse is paused" in blocks_text(shown) and shown.get("response_type") != "in_channel"
        assert candor.count("pulse_answers") == 0
        assert candor.db.execute("select count(*) from pulse_invites where answered = 1").fetchone()[0] == 0
        status, body = await candor.command("/pulse", "start fortnightly", user=ADMIN, channel="COTHER")
        assert status == 200 and "The pulse is paused" in blocks_text(body)
        assert body.get("response_type") != "in_channel"
    finally:
        await candor.stop()
    log = postgres_server.server_log_of(url)
    assert "UANA" not in log and "UBEN" not in log  # refused before any statement named them


@pytest.mark.postgresql
async def test_on_postgresql_statements_logged_without_their_values_the_pulse_runs_and_names_nobody(
    postgres_server, slack, clock, settings_overrides
):
    url = postgres_server.new_database(log_statements=True, log_values=False)
    candor = await pg_candor(postgres_server, slack, clock, settings_overrides, url)
    try:
        round_id = await start(candor)
        for i, user in enumerate(MEMBERS):
            clock.advance(41.5)
            ack = await answer(
                candor, slack, round_id, user, (i % 7 + 1, 4, 4, 4, 4, 4, 4), comment=f"note {i}"
            )
            assert ack["response_action"] == "update"
        assert candor.count("pulse_answers") == 8
    finally:
        await candor.stop()
    log = postgres_server.server_log_of(url)
    assert "insert into pulse_answers" in log.lower() and "update pulse_invites" in log.lower()
    assert [u for u in MEMBERS if u in log] == [] and "note 3" not in log
