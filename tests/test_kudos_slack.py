"""What a Slack user does with /kudos and what they, the channel and the receiver see."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

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
    # One length rule and one message, however far over the limit.
    ("<@UBOB> #mentoring " + "x" * 1001, "Your message is 1,001 characters; keep it to 1,000 characters."),
    ("<@UBOB> #mentoring " + "y" * 10_016, "Your message is 10,016 characters; keep it to 1,000 characters."),
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


async def test_several_people_in_one_kudos_each_count_towards_the_cap(candor, slack):
    _, reply = await candor.command("/kudos", "<@UBOB|bob> <@UCAROL|carol> #mentoring thanks both")
    assert "Kudos sent to <@UBOB> and <@UCAROL> for *Mentored someone*" in blocks_text(reply)
    assert "You can give 3 more in the next 24 hours" in blocks_text(reply)
    rows = list(candor.db["kudos"].rows_where(order_by="id"))
    assert [r["receiver"] for r in rows] == ["slack:T1:UBOB", "slack:T1:UCAROL"]
    assert {r["message"] for r in rows} == {"thanks both"}
    await candor.settle()
    [post] = slack.delivered_to("CTEAM")  # one post for the channel
    assert "<@UALICE> recognised <@UBOB> and <@UCAROL> for *Mentored someone*" in blocks_text(post)
    assert "recognised you together with <@UCAROL>" in blocks_text(slack.delivered_to("UBOB")[0])
    assert "recognised you together with <@UBOB>" in blocks_text(slack.delivered_to("UCAROL")[0])

    # The behaviour may come first, and a repeated person counts once.
    slack.add_user("UDAN", "dan")
    _, reply = await candor.command("/kudos", "#feedback <@UDAN|dan> <@UDAN|dan> <@UBOB|bob> clear")
    assert "Kudos sent to <@UDAN> and <@UBOB>" in blocks_text(reply)
    assert candor.count("kudos") == 4
    # One left of five: a kudos for two is refused, saying how many are left.
    before = (candor.count("kudos"), candor.count("outbox"))
    _, reply = await candor.command("/kudos", "<@UBOB> <@UCAROL> #feedback again")
    shown = blocks_text(reply)
    assert "This kudos is for 2 people, one kudos each, but you have 1 left" in shown
    assert "Recognise fewer people now, or all of them in 24 h" in shown
    assert (candor.count("kudos"), candor.count("outbox")) == before


async def test_everyone_in_a_kudos_must_be_someone_else_and_a_person(candor):
    for text, expected in [
        ("<@UBOB> <@UALICE> #mentoring us", "Kudos are for someone else"),
        ("<@UBOB> <@UHELPER> #mentoring you two", "Bots do not need kudos"),
        ("<@UBOB> <@UNOBODY9> #mentoring who", "I could not find <@UNOBODY9>"),
    ]:
        _, reply = await candor.command("/kudos", text)
        assert expected in blocks_text(reply)
    assert candor.count("kudos") == 0


@pytest.mark.parametrize("text", ["stats <@UBOB|bob>", "stats me", "undo <@UBOB|bob>", "undo 3"])
async def test_stats_and_undo_with_extra_words_get_usage(candor, text):
    await candor.command("/kudos", "<@UBOB> #mentoring one to keep")
    _, reply = await candor.command("/kudos", text)
    shown = blocks_text(reply)
    assert f"/kudos {text.split()[0]} " in shown
    assert "Start with the person" not in shown
    assert candor.count("kudos") == 1 and candor.db["kudos"].get(1)["undone_at"] is None


@pytest.mark.parametrize("settings_overrides", [{"kudos_daily_cap": 2}])
async def test_the_cap_says_when_the_next_kudos_is_possible_in_the_givers_time(candor, clock):
    await candor.command("/kudos", "<@UBOB> #mentoring first")
    clock.advance(40 * 60)
    await candor.command("/kudos", "<@UCAROL> #mentoring second")
    clock.advance(60 * 60)
    _, reply = await candor.command("/kudos", "<@UCAROL> #feedback third")
    shown = blocks_text(reply)
    # The first turns 24 hours old in 22 h 20 min; alice is in Europe/Berlin.
    free_at = datetime.fromtimestamp(clock.now() + (22 * 60 + 20) * 60, ZoneInfo("Europe/Berlin"))
    today = datetime.fromtimestamp(clock.now(), ZoneInfo("Europe/Berlin")).date()
    day = "" if free_at.date() == today else "tomorrow "
    assert f"You can give the next one in 22 h 20 min ({day}at {free_at:%H:%M} your time)." in shown
    clock.advance(22 * 3600 + 19 * 60 + 30)
    _, reply = await candor.command("/kudos", "<@UCAROL> #feedback third")
    assert "in 1 min (" in blocks_text(reply)  # rounded up, never "in 0 min"
    clock.advance(31)
    _, reply = await candor.command("/kudos", "<@UCAROL> #feedback third")
    assert "Kudos sent" in blocks_text(reply)


async def test_undo_within_ten_minutes_edits_the_posts_and_stops_counting(candor, slack, clock):
    _, reply = await candor.command("/kudos", "undo")
    assert "nothing to take back" in blocks_text(reply)
    await candor.command("/kudos", "<@UBOB|bob> <@UCAROL|carol> #mentoring thanks both")
    await candor.settle()
    clock.advance(9 * 60)
    _, reply = await candor.command("/kudos", "undo")
    assert "Taken back: your kudos to <@UBOB> and <@UCAROL> for *Mentored someone*" in blocks_text(reply)
    await candor.settle()
    updates = [c.params for c in slack.calls_to("chat.update")]
    assert sorted(u["channel"] for u in updates) == ["CTEAM", "UBOB", "UCAROL"]
    sent = {r["conversation"]: r["sent_ref"] for r in candor.outbox() if r["replaces"] is None}
    for update in updates:
        assert update["ts"] == sent[update["channel"]]  # the very message that was posted
        assert "<@UALICE> took back this kudos." in blocks_text(update)
        assert "thanks both" not in blocks_text(update)
    assert all(r["undone_at"] and r["message"] is None for r in candor.db["kudos"].rows)
    _, reply = await candor.command("/kudos", "stats")
    assert "No kudos in this channel" in blocks_text(reply)  # stats no longer count it
    _, reply = await candor.command("/kudos", "undo")
    assert "already taken back" in blocks_text(reply)
    assert len(slack.calls_to("chat.update")) == 3


@pytest.mark.parametrize("settings_overrides", [{"kudos_daily_cap": 1}])
async def test_undo_frees_the_cap_and_is_refused_after_ten_minutes(candor, slack, clock):
    slack.answer_always("chat.postMessage", status=503, ok=False, error="service_unavailable")
    await candor.command("/kudos", "<@UBOB> #mentoring oops, wrong person")
    await candor.command("/kudos", "undo")  # its posts are still waiting: they are changed in place
    slack.back_to_normal("chat.postMessage")
    clock.advance(60)  # past the back-off of any attempt made meanwhile
    _, reply = await candor.command("/kudos", "<@UCAROL> #mentoring the right person")
    assert "Kudos sent" in blocks_text(reply)  # the cap no longer counts the one taken back
    clock.advance(10 * 60 + 1)
    _, reply = await candor.command("/kudos", "undo")
    assert "more than 10 minutes old, so it stays" in blocks_text(reply)
    row = candor.db["kudos"].get(2)
    assert row["undone_at"] is None and row["message"] == "the right person"
    clock.advance(60)
    await candor.settle()
    assert slack.calls_to("chat.update") == []  # the first was taken back before it was posted
    assert "took back this kudos" in blocks_text(slack.delivered_to("CTEAM")[0])
    assert "took back this kudos" in blocks_text(slack.delivered_to("UBOB")[0])
    assert "oops" not in str(slack.delivered())


async def test_stats_say_person_for_one(candor):
    await candor.command("/kudos", "<@UBOB> #mentoring thanks")
    _, reply = await candor.command("/kudos", "stats")
    assert "1 kudos; 1 person gave and 1 received recognition." in blocks_text(reply)


async def test_a_message_of_nothing_visible_is_empty(candor):
    for invisible in ("\u200d", "\u200d\u200d \u3164", "\u2800", "\ufe0f"):
        _, reply = await candor.command("/kudos", f"<@UBOB> #mentoring {invisible}")
        assert "Say what they did" in blocks_text(reply)
    assert candor.count("kudos") == 0
    _, reply = await candor.command("/kudos", "<@UBOB> #mentoring 👩\u200d💻 pairing")
    assert candor.db["kudos"].get(1)["message"] == "👩\u200d💻 pairing"  # the joiner stays in emoji


async def test_a_typed_at_name_before_slacks_own_mention_is_text(candor):
    # Slack marks only "<@UBOB|bob>" (at the end); the typed "@bob" reads the same but is text, so
    # it does not stand in for the mention: the kudos starts with no person.
    _, reply = await candor.command("/kudos", "@bob #feedback thanks <@UBOB|bob>")
    assert "Start with the person" in blocks_text(reply)
    _, reply = await candor.command("/kudos", "<@UCAROL|carol> #feedback thanks @bob and <@UBOB|bob>")
    assert "Kudos sent to <@UCAROL> for" in blocks_text(reply)
    assert candor.db["kudos"].get(1)["message"] == "thanks @bob and @bob"
