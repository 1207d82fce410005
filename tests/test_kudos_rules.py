"""Kudos rules called the way an adapter calls them: a stub directory, no HTTP, no Slack.

Most tests read as a transcript: what the giver typed after the command, what only they saw, and
what was queued for the channel ("#team") and for each receiver ("@bob"). Every refusal is
checked to store and queue nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from textwrap import dedent

import pytest

from bot.messages import Quote, Section, decode
from handlers.context import Command
from handlers.registry import REGISTRY
from handlers.text import Mentioned
from tests.support.harness import PLATFORM, WORKSPACE, Harness, text_of
from tests.support.turns import LoopTurns

DAY = 24 * 3600
# Where the transcripts that name a local time start: a Wednesday, 08:00 UTC (10:00 in Berlin).
# Those tests set it themselves, so they read the same whatever CANDOR_TEST_NOW says.
WEDNESDAY_8_UTC = datetime(2026, 6, 10, 8, 0, tzinfo=UTC).timestamp()


@dataclass(frozen=True)
class WordSyntax:
    """How Teams will have people write to Candor: plain words to the bot, no slash."""

    invite_hint: str = "add Candor to the team"

    def command(self, name: str, args: str = "") -> str:
        return f"{name} {args}".rstrip()


@pytest.fixture
def h(tmp_path):
    harness = Harness(tmp_path)
    yield harness
    harness.close()


async def say(h: Harness, *lines: str, user: str = "alice", channel: str = "team") -> str:
    """Each line typed after /kudos, then what only its sender saw, indented."""
    out = []
    for line in lines:
        reply = await h.command("kudos", line, user=user, channel=channel)
        out.append(f"{user}> /kudos {line}".rstrip())
        out += ["  " + shown for shown in text_of(reply).splitlines()]
    return "\n".join(out)


def transcript(text: str) -> str:
    return dedent(text).strip("\n")


def stored(h: Harness) -> tuple[int, int]:
    return h.count("kudos"), h.count("outbox")


def choices(h: Harness) -> str:
    """The behaviours as a refusal lists them (they come from data/behaviours.yml)."""
    return "\n".join(
        f"  #{b.slug} {b.emoji} {b.label}: {b.description}" for b in h.services.catalog.behaviours
    )


# --- giving -------------------------------------------------------------------------------------
async def test_a_kudos_posts_to_the_channel_and_tells_the_receiver(h):
    reply = await h.command("kudos", "@bob #mentoring thanks for pairing")
    assert text_of(reply).startswith("Kudos sent to @bob for Mentored someone")
    assert h.posts() == [
        (
            "#team",
            "🧭 @alice recognised @bob for Mentored someone\n> thanks for pairing\n"
            "Spent time helping a colleague learn or grow.",
        ),
        ("@bob", "@alice recognised you for Mentored someone 🧭\n> thanks for pairing"),
    ]
    [row] = h.store.db.table("kudos").rows
    assert (row["giver"], row["receiver"], row["behaviour"], row["message"]) == (
        "stub:W1:alice",
        "stub:W1:bob",
        "mentoring",
        "thanks for pairing",
    )


async def test_several_receivers_share_one_post_get_a_dm_each_and_count_once_each(h):
    h.people.add("dan")
    assert await say(h, "@bob @carol #mentoring thanks both") == transcript(
        """
        alice> /kudos @bob @carol #mentoring thanks both
          Kudos sent to @bob and @carol for Mentored someone 🧭. It will appear in this channel in a moment.
          You can give 3 more in the next 24 hours. Changed your mind? /kudos undo takes it back within 10 minutes.
        """
    )
    assert h.posts() == [
        (
            "#team",
            "🧭 @alice recognised @bob and @carol for Mentored someone\n> thanks both\n"
            "Spent time helping a colleague learn or grow.",
        ),
        ("@bob", "@alice recognised you together with @carol for Mentored someone 🧭\n> thanks both"),
        ("@carol", "@alice recognised you together with @bob for Mentored someone 🧭\n> thanks both"),
    ]
    # The behaviour may come first, in any case; a person named twice counts once.
    assert await say(h, "#FEEDBACK @dan @dan @bob @carol clear", user="bob") == transcript(
        """
        bob> /kudos #FEEDBACK @dan @dan @bob @carol clear
          Kudos are for someone else. Who helped you lately?
        """
    )
    reply = await h.command("kudos", "#FEEDBACK @dan @dan @carol @bob clear")
    assert text_of(reply).startswith("Kudos sent to @dan, @carol and @bob for Gave constructive feedback")
    assert "You can give 0 more in the next 24 hours." in text_of(reply)
    assert [r["receiver"] for r in h.store.db.table("kudos").rows_where(order_by="id")] == [
        "stub:W1:bob",
        "stub:W1:carol",
        "stub:W1:dan",
        "stub:W1:carol",
        "stub:W1:bob",
    ]


async def test_one_kudos_recognises_at_most_ten_people(h):
    names = [f"p{n}" for n in range(11)]
    for name in names:
        h.people.add(name)
    assert await say(h, " ".join("@" + n for n in names) + " #inclusion thanks all") == transcript(
        """
        alice> /kudos @p0 @p1 @p2 @p3 @p4 @p5 @p6 @p7 @p8 @p9 @p10 #inclusion thanks all
          One kudos can recognise at most 10 people.
        """
    )
    assert stored(h) == (0, 0)


async def test_the_message_keeps_its_line_breaks_and_loses_invisible_characters(h):
    await h.command("kudos", "@bob #feedback first line\nsecond\u200b line\u202e")
    assert h.store.db.table("kudos").get(1)["message"] == "first line\nsecond line"
    assert h.posts()[0][1].splitlines()[1:3] == ["> first line", "> second line"]


async def test_a_retried_delivery_is_recorded_once_and_a_refused_one_claims_nothing(tmp_path, database):
    h = Harness(tmp_path, database=database, kudos_daily_cap=1)
    try:
        first = await h.command("kudos", "@bob #mentoring thanks", delivery_id="T1")
        again = await h.command("kudos", "@bob #mentoring thanks", delivery_id="T1")
        assert text_of(first).startswith("Kudos sent") and text_of(again) == "That kudos is already recorded."
        assert stored(h) == (1, 2)
        # Refused at the cap: the same delivery, retried once the cap frees, is given.
        refused = await h.command("kudos", "@carol #mentoring thanks", delivery_id="T2")
        assert "the daily limit" in text_of(refused)
        h.clock.advance(DAY)
        assert text_of(await h.command("kudos", "@carol #mentoring thanks", delivery_id="T2")).startswith(
            "Kudos sent"
        )
    finally:
        h.close()


# --- the daily cap ------------------------------------------------------------------------------
async def test_the_cap_counts_each_receiver_and_stores_nothing_past_it(h):
    h.clock.t = WEDNESDAY_8_UTC
    for n in range(2):
        await h.command("kudos", f"@bob @carol #feedback round {n}")
    before = stored(h)
    assert await say(h, "@bob @carol #feedback two more") == transcript(
        """
        alice> /kudos @bob @carol #feedback two more
          This kudos is for 2 people, one kudos each, but you have 1 left: the limit is 5 in 24 hours.
          Recognise fewer people now, or all of them in 24 h (tomorrow at 10:00 your time).
        """
    )
    assert stored(h) == before == (4, 6)
    h.clock.advance(DAY)
    assert "Kudos sent" in text_of(await h.command("kudos", "@bob #feedback a new day"))


async def test_at_the_cap_the_giver_learns_when_the_next_one_is_possible_in_their_time(h):
    h.clock.t = WEDNESDAY_8_UTC
    for n in range(5):
        await h.command("kudos", f"@bob #mentoring thanks {n}")
        h.clock.advance(30 * 60)
    before = stored(h)
    # alice is in Europe/Berlin; the clock started at 08:00 UTC, and the first turns 24 h old at
    # 10:00 her time tomorrow, in 21 h 30 min.
    assert await say(h, "@carol #feedback one too many") == transcript(
        """
        alice> /kudos @carol #feedback one too many
          You have given 5 kudos in the last 24 hours, the daily limit. You can give the next one in 21 h 30 min (tomorrow at 10:00 your time).
          Until then, say thanks in the thread.
        """
    )
    assert stored(h) == before
    # Someone else still can; a directory without a (known) timezone gets UTC.
    assert "Kudos sent" in text_of(await h.command("kudos", "@carol #mentoring mine", user="bob"))
    h.people.add("alice", tz="Mars/Olympus_Mons")
    assert "(tomorrow at 08:00 UTC)" in text_of(await h.command("kudos", "@carol #feedback again"))
    h.clock.advance(21 * 3600 + 29 * 60 + 30)
    assert "in 1 min (" in text_of(await h.command("kudos", "@carol #feedback again"))  # never "0 min"
    h.clock.advance(30)
    assert "Kudos sent" in text_of(await h.command("kudos", "@carol #feedback again"))


async def test_more_people_than_the_whole_cap_is_refused_as_such(tmp_path):
    h = Harness(tmp_path, kudos_daily_cap=2)
    h.people.add("dan")
    try:
        assert await say(h, "@bob @carol @dan #inclusion thanks") == transcript(
            """
            alice> /kudos @bob @carol @dan #inclusion thanks
              You can give 2 kudos in 24 hours, so one kudos can recognise at most 2 people.
            """
        )
        assert stored(h) == (0, 0)
    finally:
        h.close()


# --- undo ---------------------------------------------------------------------------------------
async def test_undo_within_ten_minutes_changes_the_posts_and_stops_counting(h):
    assert await say(h, "undo") == transcript(
        """
        alice> /kudos undo
          You have not given a kudos yet, so there is nothing to take back.
        """
    )
    await h.command("kudos", "@carol #feedback not alice's to take back", user="bob")
    await h.command("kudos", "@bob @carol #mentoring thanks both")
    h.clock.advance(9 * 60)
    assert await say(h, "undo", "undo") == transcript(
        """
        alice> /kudos undo
          Taken back: your kudos to @bob and @carol for Mentored someone.
          The channel post and the message to them now say so, and it no longer counts.
        alice> /kudos undo
          Your last kudos is already taken back; there is nothing else to undo.
        """
    )
    # Not yet sent, the posts are changed in place: the message is gone everywhere.
    assert h.posts()[2:] == [
        ("#team", "↩️ @alice took back this kudos."),
        ("@bob", "↩️ @alice took back this kudos."),
        ("@carol", "↩️ @alice took back this kudos."),
    ]
    rows = list(h.store.db.table("kudos").rows_where("giver = ?", ["stub:W1:alice"]))
    assert all(r["undone_at"] == h.clock.now() and r["message"] is None for r in rows)
    assert h.store.db.table("kudos").get(1)["undone_at"] is None  # bob's kudos stays
    reply = await h.command("kudos", "stats")
    assert "1 kudos; 1 person gave and 1 received recognition." in text_of(reply)
    assert "You can give 4 more" in text_of(await h.command("kudos", "@carol #feedback again"))


async def test_undo_after_ten_minutes_is_refused_and_keeps_the_kudos(h):
    await h.command("kudos", "@bob #mentoring thanks")
    h.clock.advance(10 * 60 + 1)
    before = stored(h)
    assert await say(h, "undo") == transcript(
        """
        alice> /kudos undo
          Your last kudos is more than 10 minutes old, so it stays. /kudos undo works within 10 minutes of giving one.
        """
    )
    assert stored(h) == before
    assert h.store.db.table("kudos").get(1)["message"] == "thanks"


@pytest.mark.parametrize("line", ["stats @bob", "stats me", "undo @bob", "undo 3"])
async def test_stats_and_undo_take_nothing_after_them(h, line):
    await h.command("kudos", "@bob #mentoring one to keep")
    before = stored(h)
    verb = line.split()[0]
    shown = text_of(await h.command("kudos", line))
    assert shown.splitlines()[0] in ("/kudos stats takes no name.", "/kudos undo takes nothing after it.")
    assert shown.splitlines()[1].startswith(f"/kudos {verb} ")
    assert stored(h) == before and h.store.db.table("kudos").get(1)["undone_at"] is None


# --- stats --------------------------------------------------------------------------------------
async def test_stats_are_this_channels_last_30_days_by_behaviour_and_name_no_one(h):
    assert await say(h, "stats") == transcript(
        """
        alice> /kudos stats
          No kudos in this channel in the last 30 days yet.
          Start with /kudos @person #behaviour what they did.
        """
    )
    await h.command("kudos", "@bob #mentoring too old to count")
    h.clock.advance(31 * DAY)
    await h.command("kudos", "@bob #mentoring a")
    await h.command("kudos", "@carol #mentoring b")
    await h.command("kudos", "@alice #feedback c", user="bob")
    await h.command("kudos", "@bob #feedback elsewhere", channel="other")
    assert await say(h, "stats") == transcript(
        """
        alice> /kudos stats
          Kudos in this channel, last 30 days
          3 kudos; 2 people gave and 3 received recognition.
          💬 Gave constructive feedback: 1
          🧭 Mentored someone: 2
          Not yet recognised here: Owned a mistake and fixed it; Spoke up about a risk; Asked for help; Made the team more inclusive; Followed through on a commitment.
        """
    )


# --- who may receive ----------------------------------------------------------------------------
async def test_no_kudos_to_yourself_a_bot_or_someone_the_directory_does_not_know(h):
    h.people.add("robot", is_bot=True)
    h.people.add("gone", deleted=True)
    before = stored(h)
    assert await say(
        h,
        "@alice #mentoring me",
        "@bob @alice #mentoring us",
        "@robot #mentoring beep",
        "@bob @robot #mentoring you two",
    ) == transcript(
        """
        alice> /kudos @alice #mentoring me
          Kudos are for someone else. Who helped you lately?
        alice> /kudos @bob @alice #mentoring us
          Kudos are for someone else. Who helped you lately?
        alice> /kudos @robot #mentoring beep
          Bots do not need kudos. Recognise the person behind the work instead.
        alice> /kudos @bob @robot #mentoring you two
          Bots do not need kudos. Recognise the person behind the work instead.
        """
    )
    for text, mentions, expected in [
        ("@zed #mentoring who", [("@zed", "zed")], "I could not find that person in this workspace."),
        ("@bob @zed #mentoring who", [("@bob", "bob"), ("@zed", "zed")], "I could not find @zed in this"),
        ("@gone #mentoring left", [("@gone", "gone")], "I could not find that person in this workspace."),
    ]:
        assert expected in text_of(await h.command("kudos", text, mentions=mentions))
    assert stored(h) == before == (0, 0)


async def test_only_people_the_adapter_marked_are_receivers(h):
    # An @word no adapter marked (unknown to the stub directory) is text.
    assert await say(h, "@zed #mentoring typed, not mentioned", "bob #mentoring thanks") == transcript(
        """
        alice> /kudos @zed #mentoring typed, not mentioned
          Start with the person you are recognising, mentioned with @.
          Example: /kudos @alex #mentoring thanks for pairing on the flaky test
        alice> /kudos bob #mentoring thanks
          Start with the person you are recognising, mentioned with @.
          Example: /kudos @alex #mentoring thanks for pairing on the flaky test
        """
    )
    assert stored(h) == (0, 0)


async def test_a_mention_of_several_words_is_one_person(h):
    h.people.add("carol", name="Carol Smith")
    reply = await h.command(
        "kudos", "@Carol Smith @bob #mentoring thanks", mentions=[("@Carol Smith", "carol"), ("@bob", "bob")]
    )
    assert text_of(reply).startswith("Kudos sent to @carol and @bob for Mentored someone")
    assert h.store.db.table("kudos").get(1)["message"] == "thanks"


async def test_a_mention_is_found_by_its_place_not_by_its_name(h):
    """A typed "@bob" before a real mention of bob is text: the mention is where the adapter says."""
    text = "@bob #feedback thanks @bob"
    cmd = Command(PLATFORM, WORKSPACE, "alice", "team", text, "d1", (Mentioned("bob", "@bob", at=22),))
    reply = await REGISTRY.commands["kudos"](cmd, h.services)
    assert text_of(reply).startswith("Start with the person you are recognising")
    # Marked at its place, a mention that does not end its word is not a receiver either.
    cmd = replace(cmd, text="@bob, #feedback thanks", mentions=(Mentioned("bob", "@bob", at=0),))
    assert text_of(await REGISTRY.commands["kudos"](cmd, h.services)).startswith("Start with the person")
    assert stored(h) == (0, 0)


async def test_a_mention_sent_without_a_name_reads_as_the_persons_name_where_it_was_marked(h):
    h.people.add("U9", name="dana")
    reply = await h.command(
        "kudos",
        "@bob #mentoring paired with @U9 (typed: @U9) all week",
        mentions=[("@bob", "bob"), ("@U9", "U9")],
    )
    assert text_of(reply).startswith("Kudos sent")
    assert h.store.db.table("kudos").get(1)["message"] == "paired with @dana (typed: @U9) all week"


# --- the behaviour ------------------------------------------------------------------------------
async def test_the_behaviour_is_required_and_must_be_one_candor_knows(h):
    assert await say(h, "@bob thanks", "@bob #heroics saved the day alone") == "\n".join(
        [
            "alice> /kudos @bob thanks",
            "  Add the behaviour you saw, as #behaviour after the people. Choose one of:",
            choices(h),
            "alice> /kudos @bob #heroics saved the day alone",
            "  #heroics is not a behaviour Candor knows. Choose one of:",
            choices(h),
        ]
    )
    long_tag = "#" + "x" * 5000
    shown = text_of(await h.command("kudos", f"@bob {long_tag} thanks"))
    assert shown.splitlines()[0] == f"#{'x' * 40} is not a behaviour Candor knows. Choose one of:"
    assert stored(h) == (0, 0)
    # A second #tag is part of the message.
    await h.command("kudos", "@bob #Feedback #mentoring is a tag too")
    row = h.store.db.table("kudos").get(1)
    assert (row["behaviour"], row["message"]) == ("feedback", "#mentoring is a tag too")


# --- the message --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@bob #mentoring", "Say what they did, so the recognition means something."),
        ("@bob #mentoring   \t\n ", "Say what they did, so the recognition means something."),
        (
            "@bob #mentoring \u200d\u200b \u3164\u2800\ufe0f",
            "Say what they did, so the recognition means something.",
        ),
        ("@bob #mentoring " + "x" * 1001, "Your message is 1,001 characters; keep it to 1,000 characters."),
        (
            "@bob #mentoring " + "y" * 100_000,
            "Your message is 100,000 characters; keep it to 1,000 characters.",
        ),
        (
            "@bob #mentoring half an emoji \ud83d here",
            "Your message contains a broken character (part of an emoji?) that cannot be saved. Please retype it.",
        ),
    ],
)
async def test_an_empty_huge_or_broken_message_is_refused_and_stores_nothing(h, text, expected):
    assert text_of(await h.command("kudos", text)).splitlines()[0] == expected
    assert stored(h) == (0, 0)


async def test_exactly_1000_characters_is_a_message(h):
    assert "Kudos sent" in text_of(await h.command("kudos", "@bob #mentoring " + "z" * 1000))


HOSTILE = "<!channel> *bold* _it_ `code` ```block``` <@UBOB|bob> <https://evil.example|click> &amp; &lt;x&gt; > quote"


async def test_hostile_text_is_kept_as_typed_and_only_ever_travels_as_a_quote(h):
    assert "Kudos sent" in text_of(await h.command("kudos", f"@bob #feedback {HOSTILE}"))
    assert h.store.db.table("kudos").get(1)["message"] == HOSTILE
    for (payload,) in h.store.db.execute("select payload from outbox order by id"):
        message = decode(json.loads(payload))
        # The text is a Quote, which every renderer escapes; no section carries it as markup.
        assert Quote(HOSTILE) in message.blocks
        sections = [s for b in message.blocks if isinstance(b, Section) for s in b.spans]
        assert not any("channel" in getattr(s, "text", "") for s in sections)


# --- help and the platform's way of writing commands ---------------------------------------------
@pytest.mark.parametrize("line", ["", "   ", "help", "HELP", "?", "-h", "--help"])
async def test_help_shows_usage_with_examples_and_the_behaviours(h, line):
    shown = text_of(await h.command("kudos", line))
    assert shown.splitlines()[:2] == [
        "Recognise a colleague for something they did",
        "/kudos @person #behaviour what they did and why it mattered",
    ]
    assert "#mentoring" in shown and "#owned-it" in shown and "/kudos help shows this message." in shown
    assert stored(h) == (0, 0)


async def test_every_text_that_names_a_command_writes_it_the_platforms_way(h):
    h.services = replace(h.services, syntaxes={PLATFORM: WordSyntax()})
    await h.command("kudos", "@carol #feedback an early one", user="bob")
    shown = await say(
        h, "", "#mentoring nobody", "@bob #mentoring", "stats me", "undo 3", "undo", "@bob #mentoring thanks"
    )
    shown += "\n" + await say(h, "stats", channel="elsewhere")
    h.clock.advance(11 * 60)
    shown += "\n" + await say(h, "undo")
    for line in shown.splitlines():
        if line.startswith("alice> "):
            continue
        assert "/kudos" not in line, line
    for written in (
        "kudos @person #behaviour what they did and why it mattered",
        "Example: kudos @alex #mentoring thanks for pairing on the flaky test",
        "kudos stats takes no name.",
        "kudos undo takes nothing after it.",
        "Changed your mind? kudos undo takes it back within 10 minutes.",
        "Start with kudos @person #behaviour what they did.",
        "kudos undo works within 10 minutes of giving one.",
        "kudos help shows this message.",
    ):
        assert written in shown, written


async def test_kudos_to_one_person_the_directory_has_at_hand_answers_after_two_turns_of_the_loop(h):
    """`/kudos` is the busiest path. Its one lookup used to be gathered, which made a task of it and
    resumed the request two event-loop iterations later; awaited in place it costs none. The two
    turns left are the group commit's (bot/store.py): one in which the others asking join the
    commit, one in which the result comes back."""
    if h.store.engine != "sqlite":
        pytest.skip("PostgreSQL answers off the event loop: a transaction always awaits")
    turns = LoopTurns()
    reply = await h.command("kudos", "@bob #mentoring thanks for pairing")
    assert "Kudos sent to @bob" in text_of(reply), text_of(reply)
    assert turns.stop() == 2
    turns = LoopTurns()  # two receivers: looked up at once, across loop iterations
    reply = await h.command("kudos", "@bob @carol #mentoring thanks for pairing")
    assert "Kudos sent to @bob and @carol" in text_of(reply), text_of(reply)
    assert turns.stop() > 2
