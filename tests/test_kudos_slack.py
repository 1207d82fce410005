"""What a Slack user does with /kudos and what they, the channel and the receiver see."""

from __future__ import annotations

import pytest

from tests.support.candor import blocks_text


async def test_kudos_posts_in_channel_dms_receiver_and_confirms_ephemerally(candor, slack):
    status, reply = await candor.command("/kudos", "<@UBOB|bob> #mentoring thanks for pairing")
    assert status == 200
    assert reply["response_type"] == "ephemeral"
    assert "Kudos sent to <@UBOB>" in blocks_text(reply)
    await candor.settle()

    [public] = slack.delivered_to("CTEAM")
    text = blocks_text(public)
    assert "<@UALICE> recognised <@UBOB> for *Mentored someone*" in text
    assert "&gt; thanks for pairing" not in text and "> thanks for pairing" in text
    [dm] = slack.delivered_to("UBOB")
    assert "recognised you for *Mentored someone*" in blocks_text(dm)

    [row] = candor.db["kudos"].rows
    assert row["giver"] == "slack:T1:UALICE"
    assert row["receiver"] == "slack:T1:UBOB"
    assert row["behaviour"] == "mentoring"
    assert row["message"] == "thanks for pairing"
    assert {r["status"] for r in candor.outbox()} == {"sent"}


async def test_behaviour_may_come_before_the_person_and_is_case_insensitive(candor, slack):
    _status, reply = await candor.command("/kudos", "#Spoke-Up <@UBOB> flagged the expiring cert")
    assert "Kudos sent" in blocks_text(reply)
    assert candor.db["kudos"].get(1)["behaviour"] == "spoke-up"


async def test_message_keeps_its_line_breaks(candor, slack):
    await candor.command("/kudos", "<@UBOB> #feedback first line\nsecond line")
    assert candor.db["kudos"].get(1)["message"] == "first line\nsecond line"
    await candor.settle()
    assert "> first line\n> second line" in blocks_text(slack.delivered_to("CTEAM")[0])


@pytest.mark.parametrize("text", ["", "   ", "help", "HELP", "?"])
async def test_usage_with_examples(candor, text):
    status, reply = await candor.command("/kudos", text)
    shown = blocks_text(reply)
    assert status == 200 and reply["response_type"] == "ephemeral"
    assert "/kudos @person #behaviour" in shown and "Example:" in shown
    assert "#mentoring" in shown and "#owned-it" in shown
    assert candor.count("kudos") == 0


def _given(candor):
    return candor.count("kudos"), candor.count("outbox")


RULES = [
    ("<@UALICE> #mentoring me, myself", "Kudos are for someone else"),
    ("<@UHELPER> #mentoring you are a good bot", "Bots do not need kudos"),
    ("<@UCANDOR> #mentoring thanks candor", "Bots do not need kudos"),
    ("<@UNOBODY9> #mentoring who is this", "could not find that person"),
    ("<@UBOB> thanks for pairing", "Add the behaviour you saw"),
    ("<@UBOB> #heroics saved the day alone", "#heroics is not a behaviour Candor knows"),
    ("<@UBOB> #mentoring", "Say what they did"),
    ("<@UBOB> #mentoring    \t ", "Say what they did"),
    ("#mentoring thanks for pairing", "Start with the person"),
    ("@bob #mentoring typed without Slack's mention", "Start with the person"),
    ("bob #mentoring thanks", "Start with the person"),
    ("<@UBOB> #mentoring " + "x" * 1001, "keep it to 1,000"),
    ("<@UBOB> #mentoring " + "y" * 100_000, "too long for a kudos"),
    ("<@UBOB|bob> #mentoring \x00\x07\u202e\u2066", "Say what they did"),
]


@pytest.mark.parametrize(("text", "expected"), RULES)
async def test_each_rule_answers_ephemerally_and_stores_nothing(candor, slack, text, expected):
    await candor.command("/kudos", "<@UCAROL> #feedback an earlier kudos that must survive")
    before = _given(candor)
    status, reply = await candor.command("/kudos", text)
    assert status == 200
    assert reply["response_type"] == "ephemeral"
    assert expected in blocks_text(reply)
    assert _given(candor) == before
    assert candor.db["kudos"].get(1)["message"] == "an earlier kudos that must survive"


async def test_unknown_behaviour_lists_the_valid_ones(candor):
    _, reply = await candor.command("/kudos", "<@UBOB> #nope thanks")
    shown = blocks_text(reply)
    for slug in (
        "feedback",
        "owned-it",
        "mentoring",
        "spoke-up",
        "asked-for-help",
        "inclusion",
        "follow-through",
    ):
        assert f"#{slug}" in shown


async def test_exactly_1000_characters_is_accepted(candor):
    _, reply = await candor.command("/kudos", "<@UBOB> #mentoring " + "z" * 1000)
    assert "Kudos sent" in blocks_text(reply)


@pytest.mark.parametrize("settings_overrides", [{"kudos_daily_cap": 2}])
async def test_daily_cap_per_giver_resets_after_24_hours(candor, clock):
    for n in range(2):
        _, reply = await candor.command("/kudos", f"<@UBOB> #mentoring thanks {n}")
        assert "Kudos sent" in blocks_text(reply)
    _, reply = await candor.command("/kudos", "<@UCAROL> #feedback one too many")
    assert "You have given 2 kudos in the last 24 hours" in blocks_text(reply)
    assert candor.count("kudos") == 2
    # Someone else still can.
    _, reply = await candor.command("/kudos", "<@UCAROL> #feedback mine", user="UBOB")
    assert "Kudos sent" in blocks_text(reply)
    clock.advance(24 * 3600 + 1)
    _, reply = await candor.command("/kudos", "<@UCAROL> #feedback a new day")
    assert "Kudos sent" in blocks_text(reply)


async def test_stats_is_a_team_view_of_this_channel_over_30_days(candor, clock):
    _, reply = await candor.command("/kudos", "stats")
    assert "No kudos in this channel" in blocks_text(reply)

    await candor.command("/kudos", "<@UBOB> #mentoring old one")
    clock.advance(31 * 24 * 3600)
    await candor.command("/kudos", "<@UBOB> #mentoring a")
    await candor.command("/kudos", "<@UCAROL> #mentoring b")
    await candor.command("/kudos", "<@UALICE> #feedback c", user="UBOB")
    await candor.command("/kudos", "<@UBOB> #feedback elsewhere", channel="COTHER")

    _status, reply = await candor.command("/kudos", "stats")
    shown = blocks_text(reply)
    assert reply["response_type"] == "ephemeral"
    assert "3 kudos; 2 people gave and 3 received recognition." in shown
    assert "Mentored someone: 2" in shown
    assert "Gave constructive feedback: 1" in shown
    assert "Not yet recognised here:" in shown and "Spoke up about a risk" in shown
    # A team view: nobody is named or ranked.
    for user in ("UALICE", "UBOB", "UCAROL", "alice", "bob", "carol"):
        assert user not in shown


async def test_a_failing_directory_gets_a_clear_error_and_stores_nothing(candor, slack):
    slack.answer_next("users.info", status=500, ok=False, error="internal_error")
    _, reply = await candor.command("/kudos", "<@UBOB> #mentoring thanks")
    assert reply["response_type"] == "ephemeral"
    assert "could not reach Slack to check this, so nothing was saved" in blocks_text(reply)
    assert candor.count("kudos") == 0 and candor.count("outbox") == 0


async def test_mention_gets_an_intro_in_thread_and_bot_events_are_ignored(candor, slack):
    event = {
        "type": "app_mention",
        "user": "UBOB",
        "channel": "CTEAM",
        "ts": "111.222",
        "text": "<@UCANDOR> hi",
    }
    assert await candor.event(event, event_id="Ev1") == 200
    bot_event = dict(event, bot_id="BOTHER", ts="111.333")
    assert await candor.event(bot_event, event_id="Ev2") == 200
    own = dict(event, user="UCANDOR", bot_id="BCANDOR", ts="111.444")
    assert await candor.event(own, event_id="Ev3") == 200
    await candor.settle()
    [intro] = slack.delivered()
    assert intro["thread_ts"] == "111.222"
    assert "/kudos @person #behaviour" in blocks_text(intro)


async def test_zero_width_characters_are_dropped_from_a_kudos(candor):
    await candor.command("/kudos", "<@UBOB> #feedback clear\u200b and\u200f kind")
    assert candor.db["kudos"].get(1)["message"] == "clear and kind"
