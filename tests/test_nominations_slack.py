"""Nomination cycles as Slack people use them: the real server, signed requests, the fake Slack Web
API, a real SQLite file and an injected clock.

A full cycle with and without a vote, ties, hidden nominators, the nominees' messages, hostile text
escaped in everything Slack is sent, and the close at its time across a restart.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.server import SCHEDULER
from tests.support.candor import Candor, blocks_text, make_settings

DAY = 86400
BERLIN = ZoneInfo("Europe/Berlin")  # the fake Slack's people live here, the admin too
FIRST = "In the retro on Tuesday she told me my estimates ignored review time, and showed me how"
SECOND = "She reviewed my design doc within a day, with specific notes on the failure modes"
HOSTILE = "<!channel> <@UCAROL> *bold* &amp; <https://evil.example|click here> reviewed my code kindly"


def day_after(clock, days: int) -> str:
    """The admin's local date `days` from the test clock's now (which moves with CANDOR_TEST_NOW)."""
    return (datetime.fromtimestamp(clock.now(), BERLIN).date() + timedelta(days=days)).isoformat()


def instant(day: str, at: str) -> float:
    hour, minute = map(int, at.split(":"))
    return datetime.combine(date.fromisoformat(day), time(hour, minute), BERLIN).timestamp()


def shown(when: float) -> str:
    return f"{datetime.fromtimestamp(when, BERLIN):%a %d %b %H:%M} (Europe/Berlin)"


@pytest.fixture
def admin(slack):
    slack.add_user("UBOSS", "boss", is_admin=True)
    slack.add_user("UDAN", "dan")
    return "UBOSS"


def view_for(slack, callback: str) -> dict:
    return next(v for v in reversed(slack.opened_views()) if v["callback_id"] == callback)


def block(view: dict, block_id: str) -> dict:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


async def open_cycle(candor: Candor, slack, **answers) -> None:
    status, _ = await candor.command("/nominate", "open", user="UBOSS")
    assert status == 200
    ack = await candor.submit(view_for(slack, "nominate_open"), answers, user="UBOSS")
    assert ack["response_action"] == "update", ack
    await candor.settle()


async def nominate(candor: Candor, slack, user: str, nominee: str, level: str = "competent", **more) -> dict:
    """`/nominate @nominee`, then the form filled in and sent."""
    _, reply = await candor.command("/nominate", f"<@{nominee}|x>", user=user)
    assert reply == {}, blocks_text(reply)  # the form opened instead of a message
    answers = {"example_1": FIRST, "example_2": SECOND, "level": level} | more
    return await candor.submit(view_for(slack, "nominate_person"), answers, user=user)


async def close_job(candor: Candor) -> None:
    """The periodic job the server registered, run as the scheduler runs it."""
    await candor.app[SCHEDULER].aps.get_job("periodic:nominations-close").func()
    await candor.settle()


def dms(slack, user: str) -> list[str]:
    return [blocks_text(p) for p in slack.delivered_to(user)]


def edits(slack) -> list[str]:
    """What chat.update changed earlier posts to (the announcement, the ballot)."""
    return [blocks_text(c.params) for c in slack.calls_to("chat.update") if c.answered == 200]


def channel_texts(slack) -> list[str]:
    return [blocks_text(p) for p in slack.delivered_to("CTEAM")]


async def test_a_full_cycle_without_a_vote(candor, slack, clock, admin):
    _, reply = await candor.command("/nominate", "open", user="UALICE")
    assert "Only Candor admins can open" in blocks_text(reply)
    assert not slack.opened_views()

    await candor.command("/nominate", "open", user="UBOSS")
    form = view_for(slack, "nominate_open")
    assert block(form, "award")["element"]["initial_option"]["value"] == "best-feedback-giver"
    assert {o["text"]["text"] for o in block(form, "award")["element"]["options"]} >= {
        "Best feedback giver",
        "Most candid post-mortem",
        "Mentor of the month",
    }
    assert block(form, "channel")["element"]["initial_conversation"] == "CTEAM"
    assert block(form, "closes_at")["element"]["initial_time"] == "17:00"
    assert "Europe/Berlin" in block(form, "closes_on")["hint"]["text"]  # the admin's timezone
    assert "initial_options" not in block(form, "nominators")["element"]  # hidden by default
    closes_on = day_after(clock, 2)
    assert block(form, "closes_on")["element"]["initial_date"] == day_after(clock, 7)
    ack = await candor.submit(form, {"closes_on": closes_on, "closes_at": "17:00"}, user="UBOSS")
    assert ack["response_action"] == "update"
    await candor.settle()
    [announcement] = slack.delivered_to("CTEAM")
    assert "Nominations are open: *Best feedback giver*" in blocks_text(announcement)
    closes_at = instant(closes_on, "17:00")
    assert shown(closes_at) in blocks_text(announcement)
    button = announcement["blocks"][-1]["elements"][0]
    assert (button["action_id"], button["value"], button["text"]["text"]) == (
        "nominate_someone",
        "1",
        "Nominate someone",
    )

    # The button opens the form for that cycle; the person is chosen in it.
    assert await candor.click("nominate_someone", "1", user="UALICE") == 200
    form = view_for(slack, "nominate_person")
    assert block(form, "nominee")["element"]["type"] == "users_select"
    ack = await candor.submit(
        form,
        {"nominee": "UBOB", "example_1": FIRST, "example_2": SECOND, "level": "role_model"},
        user="UALICE",
    )
    assert ack["response_action"] == "update"
    assert "You nominated <@UBOB>" in blocks_text(ack["view"])
    await nominate(candor, slack, "UCAROL", "UBOB")
    await nominate(candor, slack, "UDAN", "UCAROL", level="developing")
    await candor.settle()
    assert len(slack.delivered_to("CTEAM")) == 1  # nothing is shown until the close
    assert not slack.delivered_to("UBOB")

    clock.t = closes_at - 60  # a minute before: not yet
    await close_job(candor)
    assert candor.db["nomination_cycles"].get(1)["phase"] == "open"
    clock.advance(61)
    await close_job(candor)
    [edited] = edits(slack)
    assert "Nominations for *Best feedback giver* are closed: the result is posted below." in edited
    [_, result] = channel_texts(slack)
    assert "*Best feedback giver*: <@UBOB>" in result and "(2 nominators)" in result
    assert FIRST in result and "nominated by" not in result  # nominators hidden by default
    assert "<@UALICE>" not in result and "<@UCAROL>" not in result
    # Every nominee, winner or not, gets what was written about them, without the nominators.
    [bob] = dms(slack, "UBOB")
    assert "You won!" in bob and bob.count(FIRST) == 2 and "*Role model*" in bob and "*Competent*" in bob
    assert "<@UALICE>" not in bob and "<@UCAROL>" not in bob
    [carol] = dms(slack, "UCAROL")
    assert "The award went to <@UBOB>" in carol and "*Developing*" in carol and SECOND in carol
    assert "<@UDAN>" not in carol

    _, reply = await candor.command("/nominate", "history", user="UDAN")
    assert f"{datetime.fromtimestamp(clock.now(), BERLIN):%d %b %Y} in <#CTEAM>: <@UBOB>" in blocks_text(
        reply
    )


async def test_a_full_cycle_with_a_vote_a_changed_vote_and_named_nominators(candor, slack, clock, admin):
    slack.members["CTEAM"] = ["UALICE", "UBOB", "UCAROL", "UDAN", "UBOSS"]
    await open_cycle(
        candor,
        slack,
        voting="2",
        top_n="2",
        nominators=["show"],
    )
    await nominate(candor, slack, "UALICE", "UBOB")
    await nominate(candor, slack, "UCAROL", "UBOB")
    await nominate(candor, slack, "UBOB", "UCAROL")
    await nominate(candor, slack, "UALICE", "UDAN")
    await nominate(candor, slack, "UBOSS", "UDAN")  # dan ties bob for the ballot's second place…
    await nominate(candor, slack, "UBOSS", "UALICE")  # …alice has one nominator: out
    _, reply = await candor.command("/nominate", "close", user="UBOSS")
    assert "the vote is posted in the channel" in blocks_text(reply)
    await candor.settle()
    ballot = channel_texts(slack)[-1]
    assert "Vote for one of the most nominated" in ballot
    assert "<@UBOB>" in ballot and "<@UDAN>" in ballot and "<@UCAROL>" not in ballot
    assert shown(clock.now() + 2 * DAY) in ballot  # two days from now, in the admin's timezone

    assert await candor.click("nominate_vote", "1", user="UCAROL") == 200
    form = view_for(slack, "nominate_ballot")
    options = [o["value"] for o in block(form, "choice")["element"]["options"]]
    assert options == ["UBOB", "UDAN"]
    assert [o["text"]["text"] for o in block(form, "choice")["element"]["options"]] == ["bob", "dan"]
    ack = await candor.submit(form, {"choice": "UDAN"}, user="UCAROL")
    assert "Your vote for <@UDAN> is in" in blocks_text(ack["view"])
    await candor.click("nominate_vote", "1", user="UCAROL")
    form = view_for(slack, "nominate_ballot")
    assert block(form, "choice")["element"]["initial_option"]["value"] == "UDAN"  # their vote, to change
    ack = await candor.submit(form, {"choice": "UBOB"}, user="UCAROL")
    assert "Your vote is changed to <@UBOB>" in blocks_text(ack["view"])
    ack = await candor.submit(form, {"choice": "UBOB"}, user="UBOB")
    assert ack["errors"]["choice"] == "You cannot vote for yourself. Pick one of the others."
    await candor.submit(form, {"choice": "UBOB"}, user="UALICE")
    assert candor.count("nomination_votes") == 2

    clock.advance(2 * DAY + 1)
    await close_job(candor)
    result = channel_texts(slack)[-1]
    assert "*Best feedback giver*: <@UBOB>" in result and "(2 nominators, 2 votes)" in result
    assert "nominated by <@UALICE> and <@UCAROL>" in result  # the cycle names nominators
    assert "The vote for *Best feedback giver* is closed" in edits(slack)[-1]
    assert "closed: the vote is on below" in edits(slack)[0]
    # Everyone nominated is told, finalists or not, with the nominators named.
    assert "from <@UBOSS>" in dms(slack, "UALICE")[0]
    assert "The award went to <@UBOB>" in dms(slack, "UDAN")[0]


async def test_a_tie_gives_joint_winners(candor, slack, clock, admin):
    await open_cycle(candor, slack)
    await nominate(candor, slack, "UALICE", "UBOB")
    await nominate(candor, slack, "UDAN", "UCAROL")
    await candor.command("/nominate", "close", user="UBOSS")
    await candor.settle()
    assert "*Best feedback giver*: joint winners <@UBOB> and <@UCAROL>" in channel_texts(slack)[-1]
    assert "You won, jointly." in dms(slack, "UBOB")[0] and "You won, jointly." in dms(slack, "UCAROL")[0]
    assert [r["winner"] for r in candor.db["nomination_results"].rows] == [1, 1]


async def test_hostile_text_is_escaped_everywhere_slack_renders_it(candor, slack, clock, admin):
    await open_cycle(candor, slack)
    await nominate(candor, slack, "UALICE", "UBOB", example_1=HOSTILE)
    await candor.command("/nominate", "close", user="UBOSS")
    await candor.settle()
    for where in ("CTEAM", "UBOB"):
        sent = slack.delivered_to(where)[-1]
        rendered = blocks_text(sent)
        assert "&lt;!channel&gt; &lt;@UCAROL&gt;" in rendered
        assert "<!channel>" not in rendered and "<@UCAROL>" not in rendered
        assert "<https://evil.example|click here>" not in rendered
        assert sent["link_names"] in (False, "False", "0", 0)
    _, reply = await candor.command("/nominate", "mine", user="UBOB")
    assert "&lt;!channel&gt;" in blocks_text(reply) and "<!channel>" not in blocks_text(reply)


async def test_the_close_fires_at_its_time_across_a_restart_and_once(tmp_path, clock, slack, admin):
    settings = make_settings(tmp_path / "c.db", slack.url)
    first = await Candor(settings, clock, slack).start()
    try:
        await open_cycle(first, slack, closes_on=day_after(clock, 1), closes_at="09:00")
        await nominate(first, slack, "UALICE", "UBOB")
    finally:
        await first.stop()

    clock.advance(2 * DAY)  # Candor was down when the cycle was due
    second = await Candor(settings, clock, slack).start()
    try:
        await close_job(second)
        await close_job(second)  # the next run finds nothing left to do
        results = [t for t in channel_texts(slack) if "*Best feedback giver*: <@UBOB>" in t]
        assert len(results) == 1 and len(slack.delivered_to("UBOB")) == 1
        assert second.count("nomination_results") == 1
    finally:
        await second.stop()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<@UALICE|alice>", "You cannot nominate yourself"),
        ("<@UHELPER|helperbot>", "Bots cannot be nominated"),
        ("<@UNOBODY9|x>", "I could not find that person"),
        ("<@UBOB|bob> <@UCAROL|carol>", "Nominate one person at a time"),
        ("bob", "does not know 'bob'"),
        ("@bob", "does not know '@bob'"),
        ("status please", "/nominate status takes nothing after it"),
        ("x" * 5000, "That is too long for /nominate"),
        ("close", "Only Candor admins can close"),
    ],
)
async def test_each_command_rule_answers_ephemerally_and_stores_nothing(candor, slack, admin, text, expected):
    await open_cycle(candor, slack)
    before = [candor.count(t) for t in ("nominations", "nomination_cycles", "outbox")]
    status, reply = await candor.command("/nominate", text)
    assert status == 200 and reply["response_type"] == "ephemeral"
    assert expected in blocks_text(reply)
    assert [candor.count(t) for t in ("nominations", "nomination_cycles", "outbox")] == before


async def test_a_retried_submission_changes_nothing_twice(candor, slack, admin):
    await open_cycle(candor, slack)
    _, _ = await candor.command("/nominate", "<@UBOB|bob>")
    form = view_for(slack, "nominate_person")
    answers = {"example_1": FIRST, "example_2": SECOND, "level": "competent"}
    await candor.submit(form, answers, trigger_id="trig.same")
    status, ack = await candor.interactive(
        {
            "type": "view_submission",
            "team": {"id": "T1"},
            "user": {"id": "UALICE", "team_id": "T1"},
            "trigger_id": "trig.same",
            "view": {**form, "state": {"values": {}}},
        }
    )
    assert status == 200 and ack == {}  # Slack's retry: answered at once, nothing run again
    assert candor.count("nominations") == 1
