"""Nomination cycles' rules, called the way an adapter calls them: a stub directory, the real store
and outbox, an injected clock. Most tests read as transcripts of what people saw and what was
queued ("#team" for the channel, "@bob" for a private message); every refusal stores nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.messages import FormErrors, Message, Reply
from handlers.context import PersonInfo
from handlers.nominations import closing, store
from handlers.nominations.closing import Moved
from handlers.nominations.ids import ActionId, FieldId
from tests.support.harness import Harness, StubPeople, text_of

DAY = 86400
BERLIN = ZoneInfo("Europe/Berlin")
FIRST = "Told me in the retro that my estimates ignored review time"
SECOND = "Reviewed my design doc within a day, with specific notes"
THIRD = "Paired with me on the flaky test and explained what she saw"
TABLES = ("nomination_cycles", "nominations", "nomination_votes", "nomination_results", "outbox")


def nominations_harness(tmp_path, **kwargs) -> Harness:
    h = Harness(tmp_path, **kwargs)
    h.people.add("boss", is_platform_admin=True, tz="Europe/Berlin")
    for name in ("dan", "erin", "finn"):
        h.people.add(name, tz="Europe/Berlin")
    h.people.add("robot", is_bot=True)
    return h


@pytest.fixture
def h(tmp_path):
    harness = nominations_harness(tmp_path)
    yield harness
    harness.close()


def stored(h: Harness) -> tuple[int, ...]:
    return tuple(h.count(t) for t in TABLES)


def day_after(h: Harness, days: int) -> str:
    return (datetime.fromtimestamp(h.clock.now(), BERLIN).date() + timedelta(days=days)).isoformat()


def berlin(day: str, at: str) -> float:
    hour, minute = map(int, at.split(":"))
    return datetime.combine(date.fromisoformat(day), time(hour, minute), BERLIN).timestamp()


def shown(instant: float) -> str:
    return f"{datetime.fromtimestamp(instant, BERLIN):%a %d %b %H:%M} (Europe/Berlin)"


async def open_form(h: Harness, user: str = "boss", channel: str = "team"):
    reply = await h.command("nominate", "open", user=user, channel=channel)
    assert reply.form is not None, text_of(reply)
    return reply.form


async def open_cycle(h: Harness, channel: str = "team", **values) -> int:
    reply = await h.submit(await open_form(h, channel=channel), values, user="boss")
    assert not isinstance(reply, FormErrors), reply
    return h.store.db.execute("select max(id) from nomination_cycles").fetchone()[0]


async def nominate(
    h: Harness, who: str, whom: str, level: str = "competent", channel: str = "team", **values
) -> Reply | FormErrors:
    reply = await h.command("nominate", f"@{whom}", user=who, channel=channel)
    assert reply.form is not None, text_of(reply)
    answers = {FieldId.EXAMPLE_1: FIRST, FieldId.EXAMPLE_2: SECOND, FieldId.LEVEL: level} | values
    return await h.submit(reply.form, answers, user=who)


async def close(h: Harness, user: str = "boss", channel: str = "team") -> str:
    return text_of(await h.command("nominate", "close", user=user, channel=channel))


def result(h: Harness) -> str:
    """The latest result posted in the channel (not an announcement or a ballot)."""
    return [t for w, t in h.posts() if w == "#team" and t.startswith("🏆 ") and "Nominations" not in t[:20]][
        -1
    ]


# --- opening a cycle ----------------------------------------------------------------------------
async def test_only_admins_open_a_cycle(h):
    reply = await h.command("nominate", "open", user="alice")
    assert text_of(reply) == "Only Candor admins can open a nomination cycle."
    form = await open_form(h)
    assert text_of(await h.submit(form, {}, user="alice")) == (
        '{"award": "Only Candor admins can open a nomination cycle."}'
    )
    assert stored(h) == (0, 0, 0, 0, 0)


async def test_the_open_form_defaults_and_the_announcement(h):
    form = await open_form(h)
    fields = {f.id: f for f in form.fields}
    assert fields[FieldId.AWARD].initial == "best-feedback-giver"
    assert [c.label for c in fields[FieldId.AWARD].choices] == [
        "Best feedback giver",
        "Most candid post-mortem",
        "Mentor of the month",
        "Spoke up first",
    ]
    assert fields[FieldId.CHANNEL].initial == "team"
    assert fields[FieldId.CLOSES_ON].initial == day_after(h, 7)  # in the admin's timezone
    assert fields[FieldId.CLOSES_ON].hint == "Date and time in your timezone, Europe/Berlin."
    assert fields[FieldId.CLOSES_AT].initial == "17:00"
    assert fields[FieldId.NOMINATORS].initial is None  # nominators hidden unless asked
    assert fields[FieldId.VOTING].initial == "none" and fields[FieldId.TOP_N].initial == "5"

    reply = await h.submit(form, {}, user="boss")
    closes = shown(berlin(day_after(h, 7), "17:00"))
    assert text_of(reply) == (
        "The cycle for Best feedback giver is open: its announcement will appear in #team in a moment.\n"
        f"Nominations close {closes}. Nominators are not named, in the result or to the nominees."
    )
    assert h.posts() == [
        (
            "#team",
            "🏆 Nominations are open: Best feedback giver\n"
            "Gave feedback that was specific, kind and useful, and made it easy to hear.\n"
            "Nominate a colleague with two concrete examples of what they did and the level it shows. "
            f"Nominations close {closes}. You can nominate up to 3 people and change your nominations "
            "until then.\n"
            "Nominators are not named, in the result or to the nominees.\n"
            "[Nominate someone]",
        )
    ]


async def test_a_cycle_with_a_vote_and_named_nominators_says_so(h):
    await open_cycle(h, voting="3", top_n="4", nominators=["show"], award="mentor-of-the-month")
    [(_, post)] = h.posts()
    assert "Nominations are open: Mentor of the month" in post
    assert (
        "Nominators are named in the result and to the nominees. Then the 4 most nominated go to a vote "
        "of this channel for 3 days."
    ) in post


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({FieldId.AWARD: "best-coffee"}, "award", "Pick one of the awards in the list."),
        ({FieldId.CHANNEL: ""}, "channel", "Pick the channel the cycle belongs to."),
        ({FieldId.CLOSES_ON: "next friday"}, "closes_on", "Pick a date, e.g. 2026-06-19."),
        ({FieldId.CLOSES_ON: None}, "closes_on", "Pick a date, e.g. 2026-06-19."),
        ({FieldId.CLOSES_AT: "25:00"}, "closes_at", "25:00 is not a time of day. Use 00:00 to 23:59."),
        ({FieldId.CLOSES_AT: "<b>"}, "closes_at", "Give the time as HH:MM on a 24-hour clock, e.g. 09:30."),
        ({FieldId.CLOSES_ON: "2020-01-01"}, "closes_on", "Pick a closing time at least 10 minutes from now."),
        ({FieldId.CLOSES_ON: "2099-01-01"}, "closes_on", "Pick a closing date within 90 days."),
        (
            {FieldId.CLOSES_ON: "2026-03-29", FieldId.CLOSES_AT: "02:30"},
            "closes_at",
            "2026-03-29 02:30 does not exist in Europe/Berlin: the clocks change then. Pick another time.",
        ),
        ({FieldId.VOTING: "forever"}, "voting", "Pick one of the voting choices in the list."),
        ({FieldId.VOTING: "2", FieldId.TOP_N: "1"}, "top_n", "Give a whole number from 2 to 20."),
        ({FieldId.VOTING: "2", FieldId.TOP_N: "21"}, "top_n", "Give a whole number from 2 to 20."),
        ({FieldId.VOTING: "2", FieldId.TOP_N: "five"}, "top_n", "Give a whole number from 2 to 20."),
        (
            {FieldId.CHANNEL: "secret"},
            "channel",
            "Candor is not in that channel yet: type /invite @candor there, then open the cycle again.",
        ),
    ],
)
async def test_each_open_form_rule_answers_in_the_form_and_stores_nothing(h, values, field, message):
    h.people.outside.add("secret")
    form = await open_form(h)
    reply = await h.submit(form, values, user="boss")
    assert isinstance(reply, FormErrors) and reply.errors == {field: message}
    assert stored(h) == (0, 0, 0, 0, 0)


async def test_one_cycle_per_award_per_channel_at_a_time(h):
    await open_cycle(h)
    before = stored(h)
    reply = await h.submit(await open_form(h), {}, user="boss")  # the same form sent twice
    assert (
        text_of(reply)
        == '{"award": "Best feedback giver already has a cycle running in that channel; close it first."}'
    )
    assert stored(h) == before
    await open_cycle(h, award="mentor-of-the-month")  # another award may run beside it
    await open_cycle(h, channel="eng")  # and the same award in another channel
    assert h.count("nomination_cycles") == 3


# --- nominating ---------------------------------------------------------------------------------
async def test_nominating_from_the_command_and_from_the_button(h):
    cycle = await open_cycle(h)
    reply = await nominate(h, "alice", "bob", level="role_model", **{FieldId.EXAMPLE_3: THIRD})
    closes = shown(berlin(day_after(h, 7), "17:00"))
    assert text_of(reply) == (
        "You nominated @bob for Best feedback giver.\n"
        f"Nobody sees it until nominations close {closes}; until then you can change it by nominating "
        "them again. You have nominated 1 of at most 3 people in this cycle."
    )
    form = (await h.click(ActionId.NOMINATE, str(cycle), user="carol")).form
    assert [f.id for f in form.fields] == ["nominee", "example_1", "example_2", "example_3", "level"]
    assert form.fields[0].kind == "user" and form.fields[0].initial is None
    assert [c.label for c in form.fields[-1].choices] == ["Role model", "Competent", "Developing"]
    reply = await h.submit(
        form,
        {FieldId.NOMINEE: "bob", FieldId.EXAMPLE_1: FIRST, FieldId.EXAMPLE_2: SECOND, "level": "competent"},
        user="carol",
    )
    assert text_of(reply).startswith("You nominated @bob")
    rows = list(h.store.db.table("nominations").rows_where(order_by="id"))
    assert [(r["nominator"], r["nominee"], r["level"], r["example_3"]) for r in rows] == [
        ("alice", "bob", "role_model", THIRD),
        ("carol", "bob", "competent", None),
    ]
    assert len(h.posts()) == 1  # nothing is posted until the close: no campaigning


@pytest.mark.parametrize(
    ("text", "user", "expected"),
    [
        ("@alice", "alice", "You cannot nominate yourself. Who has shown this behaviour lately?"),
        ("@robot", "alice", "Bots cannot be nominated. Nominate the person behind the work instead."),
        (
            "@bob @carol",
            "alice",
            "Nominate one person at a time: /nominate @person. Your examples go in the form that opens.",
        ),
        (
            "@bob she is great",
            "alice",
            "Nominate one person at a time: /nominate @person. Your examples go in the form that opens.",
        ),
        (
            "bob",
            "alice",
            "/nominate does not know 'bob'. Mention the person you nominate with @, or type /nominate help.",
        ),
        (
            "@nobody",
            "alice",
            "/nominate does not know '@nobody'. Mention the person you nominate with @, or type /nominate help.",
        ),
        ("status now", "alice", "/nominate status takes nothing after it."),
        ("x" * 4001, "alice", "That is too long for /nominate. Type /nominate help for the options."),
        ("\u202e\u200b", "alice", "Peer nominations: recognise colleagues with concrete evidence"),
        ("close", "alice", "Only Candor admins can close a nomination cycle."),
    ],
)
async def test_each_command_rule_answers_privately_and_stores_nothing(h, text, user, expected):
    await open_cycle(h)
    before = stored(h)
    reply = await h.command("nominate", text, user=user)
    assert reply.form is None and text_of(reply).splitlines()[0] == expected
    assert stored(h) == before


async def test_a_person_the_directory_does_not_know_is_refused(h):
    await open_cycle(h)
    reply = await h.command("nominate", "@ghost", mentions=[("@ghost", "ghost")])
    assert text_of(reply) == "I could not find that person in this workspace."


async def test_no_cycle_in_this_channel(h):
    await open_cycle(h, channel="eng")
    reply = await h.command("nominate", "@bob")
    assert text_of(reply) == (
        "No nomination cycle is taking nominations in this channel. /nominate status lists the open ones."
    )


LONG = "y" * 1001


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        (
            {FieldId.EXAMPLE_1: "", FieldId.EXAMPLE_2: ""},
            {
                "example_1": "Example 1 cannot be empty: every nomination needs two concrete examples.",
                "example_2": "Example 2 cannot be empty: every nomination needs two concrete examples.",
            },
        ),
        (
            {FieldId.EXAMPLE_2: "helped me a lot"},
            {
                "example_2": "Example 2 is 15 characters; give at least 20: what they did, when, and what it changed."
            },
        ),
        (
            {FieldId.EXAMPLE_1: LONG},
            {"example_1": "Example 1 is 1,001 characters; keep it to 1,000 characters."},
        ),
        (
            {FieldId.EXAMPLE_3: "y" * 50_000},
            {"example_3": "Example 3 is 50,000 characters; keep it to 1,000 characters."},
        ),
        (
            {FieldId.EXAMPLE_2: "\u200b\u202e  \u2800"},
            {"example_2": "Example 2 cannot be empty: every nomination needs two concrete examples."},
        ),
        (
            {FieldId.EXAMPLE_2: "  " + FIRST.upper() + " "},
            {"example_2": "Example 2 repeats example 1: give a separate instance."},
        ),
        (
            {FieldId.EXAMPLE_3: SECOND},
            {"example_3": "Example 3 repeats example 2: give a separate instance."},
        ),
        (
            {FieldId.EXAMPLE_1: "half an emoji \ud83d here"},
            {
                "example_1": "Example 1 contains a broken character (part of an emoji?) that cannot be saved. Please retype it."
            },
        ),
        ({FieldId.LEVEL: None}, {"level": "Pick the level they show."}),
        ({FieldId.LEVEL: "genius"}, {"level": "Pick the level they show."}),
        ({FieldId.NOMINEE: ""}, {"nominee": "Pick the person you are nominating."}),
        (
            {FieldId.NOMINEE: "alice"},
            {"nominee": "You cannot nominate yourself. Who has shown this behaviour lately?"},
        ),
        (
            {FieldId.NOMINEE: "robot"},
            {"nominee": "Bots cannot be nominated. Nominate the person behind the work instead."},
        ),
        ({FieldId.NOMINEE: "ghost"}, {"nominee": "I could not find that person in this workspace."}),
    ],
)
async def test_each_form_rule_answers_in_the_form_and_stores_nothing(h, values, errors):
    await open_cycle(h)
    before = stored(h)
    reply = await nominate(h, "alice", "bob", **values)
    assert isinstance(reply, FormErrors) and reply.errors == errors
    assert stored(h) == before


async def test_examples_of_exactly_20_and_1000_characters_are_taken(h):
    await open_cycle(h)
    reply = await nominate(h, "alice", "bob", **{FieldId.EXAMPLE_1: "z" * 20, FieldId.EXAMPLE_2: "w" * 1000})
    assert text_of(reply).startswith("You nominated @bob")


@pytest.mark.parametrize(
    ("level", "message"),
    [
        (
            "role_model",
            "Role model is above expectations, so it needs at least two corroborating examples: add a second, separate one.",
        ),
        (
            "developing",
            "Developing is below expectations, so it needs at least two corroborating examples: add a second, separate one.",
        ),
        ("competent", "Example 2 cannot be empty: every nomination needs two concrete examples."),
    ],
)
async def test_the_calibration_rule_names_itself_above_and_below_expectations(h, level, message):
    await open_cycle(h)
    reply = await nominate(h, "alice", "bob", level=level, **{FieldId.EXAMPLE_2: ""})
    assert isinstance(reply, FormErrors) and reply.errors == {"example_2": message}
    assert h.count("nominations") == 0


async def test_at_most_three_nominees_per_nominator_and_an_edit_is_not_a_fourth(h):
    await open_cycle(h)
    for whom in ("bob", "carol", "dan"):
        assert text_of(await nominate(h, "alice", whom)).startswith(f"You nominated @{whom}")
    before = stored(h)
    reply = await nominate(h, "alice", "erin")
    assert reply == FormErrors(
        {
            "nominee": "You have nominated 3 people in this cycle, the limit. You can still change those "
            "nominations until it closes."
        }
    )
    assert stored(h) == before
    reply = await nominate(h, "alice", "carol", level="role_model")
    assert "Your nomination of @carol for Best feedback giver is updated." in text_of(reply)
    assert "You have nominated 3 of at most 3 people" in text_of(reply)
    # Another cycle has its own limit.
    await open_cycle(h, award="mentor-of-the-month")
    form = (await h.command("nominate", "@erin")).form
    assert [c.label for c in form.fields[0].choices] == ["Best feedback giver", "Mentor of the month"]
    reply = await h.submit(
        form,
        {FieldId.CYCLE: "2", FieldId.EXAMPLE_1: FIRST, FieldId.EXAMPLE_2: SECOND, FieldId.LEVEL: "competent"},
    )
    assert text_of(reply).startswith("You nominated @erin for Mentor of the month.")


async def test_one_nomination_per_nominee_is_edited_until_close_and_the_edit_is_what_counts(h):
    await open_cycle(h)
    await nominate(h, "alice", "bob", **{FieldId.EXAMPLE_2: "An early draft of my second example here"})
    form = (await h.command("nominate", "@bob")).form  # the form shows what they wrote
    assert [f.initial for f in form.fields][1:] == [
        FIRST,
        "An early draft of my second example here",
        None,
        "competent",
    ]
    assert "You nominated this person already" in text_of(Reply(Message(form.intro)))
    reply = await h.submit(form, {FieldId.EXAMPLE_2: SECOND, FieldId.LEVEL: "role_model"})
    assert text_of(reply).startswith("Your nomination of @bob for Best feedback giver is updated.")
    [row] = h.store.db.table("nominations").rows
    assert (row["example_2"], row["level"]) == (SECOND, "role_model")
    await close(h)
    [dm] = [text for where, text in h.posts() if where == "@bob"]
    assert SECOND in dm and "early draft" not in dm and "Role model" in dm


async def test_no_nominations_after_close(h):
    cycle = await open_cycle(h, **{FieldId.CLOSES_ON: day_after(h, 1), FieldId.CLOSES_AT: "09:00"})
    form = (await h.command("nominate", "@bob")).form
    h.clock.t = berlin(day_after(h, 1), "09:00")  # due; the job has not run yet
    before = stored(h)
    reply = await h.submit(
        form, {FieldId.EXAMPLE_1: FIRST, FieldId.EXAMPLE_2: SECOND, FieldId.LEVEL: "competent"}
    )
    assert reply == FormErrors({"nominee": "Nominations for this cycle are closed; nothing was saved."})
    assert text_of(await h.click(ActionId.NOMINATE, str(cycle))) == (
        "This nomination cycle is no longer taking nominations."
    )
    assert text_of(await h.command("nominate", "@bob")).startswith("No nomination cycle is taking")
    assert stored(h) == before


async def test_an_admin_closing_early_stops_nominations_at_once(h):
    await open_cycle(h)
    form = (await h.command("nominate", "@bob")).form
    assert await close(h) == "Best feedback giver is closed; the result is posted in the channel."
    reply = await h.submit(
        form, {FieldId.EXAMPLE_1: FIRST, FieldId.EXAMPLE_2: SECOND, FieldId.LEVEL: "competent"}
    )
    assert reply == FormErrors({"nominee": "Nominations for this cycle are closed; nothing was saved."})
    assert h.count("nominations") == 0


# --- the close ----------------------------------------------------------------------------------
async def test_the_job_closes_at_the_time_and_the_result_names_winners_with_short_quotes(h):
    await open_cycle(h, **{FieldId.CLOSES_ON: day_after(h, 2), FieldId.CLOSES_AT: "12:00"})
    long_first = "She " + "kindly " * 40 + "told me what to fix"
    await nominate(h, "alice", "bob", **{FieldId.EXAMPLE_1: long_first})
    await nominate(h, "carol", "bob", level="role_model")
    await nominate(h, "dan", "carol")
    h.clock.t = berlin(day_after(h, 2), "12:00") - 1
    await h.run_jobs()
    assert len(h.posts()) == 1
    h.clock.advance(1)
    await h.run_jobs()
    posts = h.posts()
    # The announcement was still waiting in the outbox: it is changed in place, not posted again.
    assert posts[0] == (
        "#team",
        "🏆 Nominations for Best feedback giver are closed: the result is posted below.",
    )
    quote = ("She " + "kindly " * 40)[:160].rsplit(" ", 1)[0] + "…"
    assert posts[1] == (
        "#team",
        "🏆 Best feedback giver: @bob\n"
        "For @bob (2 nominators):\n"
        f"> {quote}\n"
        f"> {FIRST}\n"
        "Thank you: 3 nominations for 2 people. Every nominee gets what was written about them.",
    )
    await h.run_jobs()  # the next run finds nothing to do
    assert len(h.posts()) == len(posts)


async def test_every_nominee_gets_the_evidence_about_them_without_the_nominators(h):
    await open_cycle(h)
    await nominate(h, "alice", "bob", level="role_model", **{FieldId.EXAMPLE_3: THIRD})
    await nominate(h, "carol", "bob")
    await nominate(h, "dan", "carol", level="developing")
    await close(h)
    dms = {where: text for where, text in h.posts() if where.startswith("@")}
    assert dms["@bob"] == (
        "You were nominated for Best feedback giver in #team. You won! 🎉\n"
        "Here is what colleagues wrote about you (2 nominations). It is yours: keep it for your next review.\n"
        "---\n"
        "Role model: Seeks and gives specific feedback unprompted, and others copy how they do it.\n"
        f"> {FIRST}\n> {SECOND}\n> {THIRD}\n"
        "---\n"
        "Competent: Gives specific, timely feedback on what was done and its effect.\n"
        f"> {FIRST}\n> {SECOND}"
    )
    assert dms["@carol"].startswith(
        "You were nominated for Best feedback giver in #team. The award went to @bob."
    )
    assert "Developing: Gives feedback when asked" in dms["@carol"]
    everything = "\n".join(text for _, text in h.posts())
    for nominator in ("@alice", "@dan"):
        assert nominator not in everything


async def test_named_nominators_are_shown_where_the_cycle_says_so(h):
    await open_cycle(h, nominators=["show"])
    await nominate(h, "alice", "bob")
    await nominate(h, "carol", "bob")
    await close(h)
    posts = dict(h.posts()[1:])
    assert "For @bob (2 nominators), nominated by @alice and @carol:" in posts["#team"]
    assert "Competent from @alice:" in posts["@bob"] and "Competent from @carol:" in posts["@bob"]


async def test_many_nominations_reach_the_nominee_over_several_messages(h):
    await open_cycle(h)
    nominators = [f"peer{n}" for n in range(8)]
    for name in nominators:
        h.people.add(name)
        await nominate(h, name, "bob")
    await close(h)
    to_bob = [text for where, text in h.posts() if where == "@bob"]
    assert len(to_bob) == 2 and to_bob[1].startswith(
        "More of what colleagues wrote about you for Best feedback giver (2/2)"
    )
    assert [text.count(f"> {FIRST}") for text in to_bob] == [6, 2]  # a message holds 6 nominations


async def test_ties_give_joint_winners_and_no_nominations_give_no_award(h):
    await open_cycle(h)
    await nominate(h, "alice", "carol")
    await nominate(h, "dan", "bob")
    await close(h)
    assert result(h).startswith("🏆 Best feedback giver: joint winners @bob and @carol\n")
    dms = [text for where, text in h.posts() if where.startswith("@")]
    assert all("You won, jointly." in text for text in dms) and len(dms) == 2

    await open_cycle(h, award="mentor-of-the-month")
    await close(h)
    assert h.posts()[-1] == ("#team", "🏆 Mentor of the month: no nominations this time, so no award.")


async def test_closing_twice_changes_nothing_the_second_time(h):
    cycle = await open_cycle(h)
    await h.command("nominate", "open", user="boss")
    await nominate(h, "alice", "bob")
    assert await close(h) == "Best feedback giver is closed; the result is posted in the channel."
    before = stored(h)
    assert await close(h) == "No nomination cycle is running in this channel. /nominate status lists them."
    assert text_of(await h.click(ActionId.CLOSE, str(cycle), user="boss")) == (
        "That cycle had already moved on; nothing else changed."
    )
    await h.run_jobs()
    assert stored(h) == before and h.count("nomination_results") == 1


async def test_an_admin_chooses_which_cycle_to_close_when_a_channel_has_several(h):
    await open_cycle(h)
    await open_cycle(h, award="mentor-of-the-month")
    reply = await h.command("nominate", "close", user="boss")
    assert text_of(reply) == (
        "Several cycles run in this channel. Which one ends its current phase now?\n"
        "[Close Best feedback giver]  [Close Mentor of the month]"
    )
    assert (
        text_of(await h.click(ActionId.CLOSE, "2", user="alice"))
        == "Only Candor admins can close a nomination cycle."
    )
    assert text_of(await h.click(ActionId.CLOSE, "2", user="boss")).startswith(
        "Mentor of the month is closed"
    )
    phases = [r["phase"] for r in h.store.db.table("nomination_cycles").rows_where(order_by="id")]
    assert phases == ["open", "closed"]


# --- the vote -----------------------------------------------------------------------------------
async def start_vote(h: Harness, top_n: str = "2") -> int:
    cycle = await open_cycle(h, voting="2", top_n=top_n)
    await nominate(h, "alice", "bob")
    await nominate(h, "carol", "bob")
    await nominate(h, "alice", "carol")
    await nominate(h, "dan", "carol")
    await nominate(h, "erin", "dan")
    assert (
        await close(h) == "Nominations for Best feedback giver are closed; the vote is posted in the channel."
    )
    return cycle


async def vote(h: Harness, cycle: int, voter: str, choice: str) -> Reply | FormErrors:
    reply = await h.click(ActionId.VOTE, str(cycle), user=voter)
    assert reply.form is not None, text_of(reply)
    return await h.submit(reply.form, {FieldId.CHOICE: choice}, user=voter)


async def test_the_vote_is_among_the_top_n_one_changeable_vote_per_member(h):
    h.people.channels["team"] = ["alice", "bob", "carol", "dan", "erin"]
    cycle = await start_vote(h)
    posts = h.posts()
    assert posts[-1][0] == "#team" and posts[-1][1].startswith(
        "🗳️ Nominations for Best feedback giver are closed. Vote for one of the most nominated:\n@bob and @carol\n"
    )
    assert posts[-1][1].endswith("[Vote]")
    assert text_of(await vote(h, cycle, "alice", "carol")).startswith("Your vote for @carol is in.")
    assert text_of(await vote(h, cycle, "alice", "bob")).startswith("Your vote is changed to @bob.")
    assert text_of(await vote(h, cycle, "alice", "bob")).startswith("Your vote for @bob is in.")
    await vote(h, cycle, "erin", "carol")
    await vote(h, cycle, "dan", "carol")
    before = stored(h)
    assert (await vote(h, cycle, "carol", "carol")) == FormErrors(
        {"choice": "You cannot vote for yourself. Pick one of the others."}
    )
    assert (await vote(h, cycle, "bob", "dan")) == FormErrors(
        {"choice": "Pick one of the people in the list."}
    )
    assert (await vote(h, cycle, "finn", "bob")) == FormErrors(
        {"choice": "Only members of the cycle's channel can vote."}
    )
    assert stored(h) == before and h.count("nomination_votes") == 3
    admin = text_of(await h.command("nominate", "status", user="boss"))
    assert admin.endswith("Running tally (admins only): @bob 2 (1 vote), @carol 2 (2 votes), @dan 1.")
    assert "tally" not in text_of(await h.command("nominate", "status", user="alice"))

    h.clock.advance(2 * DAY)
    form = await h.click(ActionId.VOTE, str(cycle), user="bob")
    assert text_of(form) == "This vote is closed."
    await h.run_jobs()
    assert ("#team", "🗳️ The vote for Best feedback giver is closed: the result is below.") in h.posts()
    assert result(h).startswith("🏆 Best feedback giver: @carol\nFor @carol (2 nominators, 2 votes):")
    rows = {
        r["nominee"]: (r["votes"], r["finalist"], r["winner"])
        for r in h.store.db.table("nomination_results").rows
    }
    assert rows == {"bob": (1, 1, 0), "carol": (2, 1, 1), "dan": (None, 0, 0)}
    assert any(where == "@dan" for where, _ in h.posts())  # not a finalist, still told


async def test_a_vote_tie_gives_joint_winners_and_no_votes_fall_back_to_nominators(h):
    h.people.channels["team"] = ["alice", "bob", "carol", "dan", "erin"]
    cycle = await start_vote(h)
    await vote(h, cycle, "alice", "carol")
    await vote(h, cycle, "erin", "bob")
    await close(h)
    assert result(h).startswith("🏆 Best feedback giver: joint winners @bob and @carol")

    cycle = await open_cycle(h, voting="1", award="mentor-of-the-month")
    await nominate(h, "alice", "bob")
    await nominate(h, "carol", "bob")
    await nominate(h, "dan", "carol")
    await close(h)
    await close(h)  # nobody voted: the most nominated win
    assert [
        r["winner"]
        for r in h.store.db.table("nomination_results").rows_where(
            "cycle_id = ?", [cycle], order_by="nominee"
        )
    ] == [1, 0]


async def test_ties_at_the_ballots_cut_are_all_finalists_and_one_nominee_needs_no_vote(h):
    await open_cycle(h, voting="2", top_n="2", award="mentor-of-the-month")
    for voter, whom in (("alice", "bob"), ("carol", "dan"), ("dan", "erin")):
        await nominate(h, voter, whom)
    await close(h)
    assert h.posts()[-1][1].split("\n")[1] == "@bob, @dan and @erin"
    await close(h)  # the vote ends at once

    await open_cycle(h, voting="2", award="risk-spotter")
    await nominate(h, "alice", "bob")
    assert await close(h) == "Spoke up first is closed; the result is posted in the channel."


async def test_a_vote_after_the_vote_closed_is_refused(h):
    h.people.channels["team"] = ["alice", "bob", "carol"]
    cycle = await start_vote(h)
    form = (await h.click(ActionId.VOTE, str(cycle), user="alice")).form
    h.clock.advance(2 * DAY)
    assert await h.submit(form, {FieldId.CHOICE: "bob"}, user="alice") == FormErrors(
        {"choice": "The vote is closed; nothing was saved."}
    )
    assert h.count("nomination_votes") == 0


# --- status and history -------------------------------------------------------------------------
async def test_status_shows_time_left_and_what_you_gave_and_the_tally_only_to_admins(h):
    await open_cycle(h, **{FieldId.CLOSES_ON: day_after(h, 3), FieldId.CLOSES_AT: "17:00"})
    await nominate(h, "alice", "bob")
    await nominate(h, "carol", "bob")
    await nominate(h, "carol", "dan")
    closes = berlin(day_after(h, 3), "17:00")
    minutes = int((closes - h.clock.now() + 59) // 60)
    left = f"{minutes // 1440} days" + (f" {minutes % 1440 // 60} h" if minutes % 1440 // 60 else "")
    mine = text_of(await h.command("nominate", "status", user="alice"))
    assert mine == (
        "Nomination cycles running now\n"
        f"🏆 Best feedback giver in #team: nominations close in {left}, {shown(closes)}. "
        "You have given 1 of at most 3 nominations: @bob."
    )
    assert "tally" not in mine and "@dan" not in mine
    admin = text_of(await h.command("nominate", "status", user="boss"))
    assert admin.endswith(
        "You have given 0 of at most 3 nominations.\n    Running tally (admins only): @bob 2, @dan 1."
    )


async def test_status_with_nothing_running_and_the_history_of_winners(h):
    assert text_of(await h.command("nominate", "status")) == (
        "No nomination cycle is running.\n/nominate history shows past winners."
    )
    assert text_of(await h.command("nominate", "history")).startswith("No nomination cycle has closed yet.")
    await open_cycle(h)
    await nominate(h, "alice", "bob")
    await nominate(h, "carol", "bob")
    await nominate(h, "alice", "dan")  # nominated, not a winner: not in the history
    await close(h)
    await open_cycle(h, award="mentor-of-the-month")
    await close(h)
    await open_cycle(h)
    await nominate(h, "alice", "carol")
    await nominate(h, "dan", "erin")
    await close(h)
    today = f"{datetime.fromtimestamp(h.clock.now(), BERLIN):%d %b %Y}"
    assert text_of(await h.command("nominate", "history")) == (
        "Past winners\n"
        "🏆 Best feedback giver\n"
        f"    {today} in #team: @carol and @erin (joint)\n"
        f"    {today} in #team: @bob\n"
        "🏆 Mentor of the month\n"
        f"    {today} in #team: no nominations"
    )


async def test_usage(h):
    for text in ("", "help", "?"):
        shown_text = text_of(await h.command("nominate", text))
        assert shown_text.startswith("Peer nominations: recognise colleagues with concrete evidence")
        assert "/nominate @person" in shown_text and "/nominate mine" in shown_text


# --- races, restarts, two processes -------------------------------------------------------------
async def test_two_processes_closing_at_once_close_once(tmp_path, database):
    first = nominations_harness(tmp_path)
    second = nominations_harness(tmp_path, clock=first.clock)
    try:
        await open_cycle(first, **{FieldId.CLOSES_ON: day_after(first, 1), FieldId.CLOSES_AT: "12:00"})
        await nominate(first, "alice", "bob")
        first.clock.advance(2 * DAY)
        seen = await closing.due(first.services), await closing.due(second.services)  # both see it due
        assert len(seen[0]) == len(seen[1]) == 1
        moved = (
            await closing.advance(first.services, seen[0][0]),
            await closing.advance(second.services, seen[1][0]),
        )
        assert moved == (Moved.CLOSED, Moved.NOT_MINE)
        assert [text for _, text in second.posts()].count(result(first)) == 1
        assert (
            second.count("nomination_results") == 1
            and len([p for p in second.posts() if p[0] == "@bob"]) == 1
        )
    finally:
        second.close()
        first.close()


async def test_two_processes_starting_the_vote_at_once_post_one_ballot(tmp_path, database):
    first = nominations_harness(tmp_path)
    second = nominations_harness(tmp_path, clock=first.clock)
    try:
        await open_cycle(first, voting="1")
        await nominate(first, "alice", "bob")
        await nominate(first, "alice", "carol")
        first.clock.advance(8 * DAY)
        [a], [b] = await closing.due(first.services), await closing.due(second.services)
        assert (await closing.advance(second.services, b), await closing.advance(first.services, a)) == (
            Moved.VOTE_STARTED,
            Moved.NOT_MINE,
        )
        assert len([t for _, t in first.posts() if t.startswith("🗳️")]) == 1
    finally:
        second.close()
        first.close()


class SlowMembers(StubPeople):
    """A directory whose member list arrives after something else happened (set `meanwhile`)."""

    meanwhile: object = None

    async def members(self, conversation: str) -> list[str]:
        if self.meanwhile is not None:
            meanwhile, self.meanwhile = self.meanwhile, None
            await meanwhile()  # type: ignore[operator]
        return await super().members(conversation)


async def test_a_vote_racing_the_end_of_the_vote_is_refused(tmp_path, database):
    first = nominations_harness(tmp_path)
    second = nominations_harness(tmp_path, clock=first.clock)
    try:
        slow = SlowMembers(people=first.people.people)
        first.services = replace(first.services, directories={"stub": slow})
        cycle = await start_vote(first)
        form = (await first.click(ActionId.VOTE, str(cycle), user="erin")).form

        async def the_time_runs_out() -> None:
            first.clock.advance(2 * DAY)  # the job has not run yet

        slow.meanwhile = the_time_runs_out
        refused = FormErrors({"choice": "The vote is closed; nothing was saved."})
        assert await first.submit(form, {FieldId.CHOICE: "bob"}, user="erin") == refused

        async def the_other_process_closes() -> None:
            await close(second)

        first.clock.advance(-2 * DAY)
        slow.meanwhile = the_other_process_closes
        assert await first.submit(form, {FieldId.CHOICE: "bob"}, user="erin") == refused
        assert first.count("nomination_votes") == 0
        assert result(first).startswith("🏆 Best feedback giver: joint winners @bob and @carol")  # no votes
    finally:
        second.close()
        first.close()


class ClosingWhileLookingUp(StubPeople):
    """A directory so slow that the close runs while a nomination is being checked."""

    race: object = None

    async def lookup(self, user: str) -> PersonInfo | None:
        if user == "bob" and self.race is not None:
            race, self.race = self.race, None
            await race()  # type: ignore[operator]
        return await super().lookup(user)


async def test_a_nomination_racing_the_close_is_refused_and_the_result_stands(tmp_path, database):
    first = nominations_harness(tmp_path)
    second = nominations_harness(tmp_path, clock=first.clock)
    try:
        slow = ClosingWhileLookingUp(people=first.people.people)
        first.services = replace(first.services, directories={"stub": slow})
        await open_cycle(first)
        await nominate(first, "carol", "dan")
        form = (await first.command("nominate", "@bob")).form

        async def close_in_the_other_process() -> None:
            assert (
                await close(second) == "Best feedback giver is closed; the result is posted in the channel."
            )

        slow.race = close_in_the_other_process
        reply = await first.submit(
            form, {FieldId.EXAMPLE_1: FIRST, FieldId.EXAMPLE_2: SECOND, FieldId.LEVEL: "competent"}
        )
        assert reply == FormErrors({"nominee": "Nominations for this cycle are closed; nothing was saved."})
        assert first.count("nominations") == 1
        assert [r["nominee"] for r in first.store.db.table("nomination_results").rows] == ["dan"]
    finally:
        second.close()
        first.close()


async def test_a_nomination_that_lands_first_is_counted_by_the_close_in_the_other_process(tmp_path):
    first = nominations_harness(tmp_path)
    second = nominations_harness(tmp_path, clock=first.clock)
    try:
        await open_cycle(first)
        await nominate(first, "carol", "dan")
        await nominate(second, "alice", "bob")
        await nominate(second, "erin", "bob")
        await close(first)
        assert result(first).startswith("🏆 Best feedback giver: @bob\nFor @bob (2 nominators)")
    finally:
        second.close()
        first.close()


async def test_a_restart_during_a_cycle_loses_nothing_and_the_close_fires_once(tmp_path, database):
    first = nominations_harness(tmp_path)
    await open_cycle(first, **{FieldId.CLOSES_ON: day_after(first, 1), FieldId.CLOSES_AT: "12:00"})
    await nominate(first, "alice", "bob")
    clock = first.clock
    first.close()

    second = nominations_harness(tmp_path, clock=clock)
    try:
        assert "You have given 1 of at most 3 nominations: @bob." in text_of(
            await second.command("nominate", "status")
        )
        clock.advance(3 * DAY)
        await second.run_jobs()
        await second.run_jobs()
        assert second.count("nomination_results") == 1
        assert len([p for p in second.posts() if p[0] == "@bob"]) == 1
    finally:
        second.close()


async def test_a_stale_read_of_a_cycle_moves_nothing(h):
    cycle = await open_cycle(h)
    stale = store.cycle(h.store.db, cycle_id=cycle, platform="stub", workspace="W1")
    await close(h)
    before = stored(h)
    assert await closing.advance(h.services, stale) == Moved.NOT_MINE
    assert stored(h) == before


# --- sizes: one message each, however many cycles or winners ------------------------------------
async def test_many_joint_winners_are_quoted_up_to_eight_in_one_post(h):
    await open_cycle(h)
    for n in range(9):
        h.people.add(f"peer{n}")
        await nominate(h, "bob" if n % 2 else "carol", f"peer{n}") if n < 3 else None
    for n in range(3, 9):
        h.people.add(f"fan{n}")
        await nominate(h, f"fan{n}", f"peer{n}")
    await close(h)
    post = result(h)
    assert post.startswith("🏆 Best feedback giver: joint winners @peer0, @peer1,")
    assert post.count("For @peer") == 8 and "For @peer8" not in post
    assert "Quotes for the first 8 winners; each winner has all of theirs." in post
    assert len([w for w, _ in h.posts() if w == "@peer8"]) == 1


async def test_status_and_history_stay_one_message_with_many_cycles(h):
    for n in range(22):
        await open_cycle(h, channel=f"team{n}")
    status = text_of(await h.command("nominate", "status"))
    assert status.count("🏆 Best feedback giver in #team") == 20 and status.endswith("…and 2 more.")
    for n in range(22):
        await close(h, channel=f"team{n}")
    history = text_of(await h.command("nominate", "history"))
    assert history.count("no nominations") == 5  # the latest 5 of each award


async def test_the_announcement_and_ballot_outlive_retention_so_the_close_can_edit_them(h):
    from bot import retention
    from handlers.registry import REGISTRY

    cycle = await open_cycle(
        h, voting="2", **{FieldId.CLOSES_ON: day_after(h, 80), FieldId.CLOSES_AT: "12:00"}
    )
    await nominate(h, "alice", "bob")
    await nominate(h, "alice", "carol")
    h.store.db.execute("update outbox set status = 'sent', sent_at = ?, sent_ref = '1.1'", [h.clock.now()])
    h.clock.advance(81 * DAY)
    await h.run_jobs()  # the vote starts: the announcement, sent 81 days ago, is edited
    h.store.db.execute("update outbox set status = 'sent', sent_at = ?, sent_ref = '2.2'", [h.clock.now()])
    h.clock.advance(40 * DAY)
    await retention.prune(
        h.store, h.clock.now(), references=REGISTRY.outbox_references, permanent_keys=REGISTRY.permanent_keys
    )
    row = h.store.db.table("nomination_cycles").get(cycle)
    kept = {r["id"] for r in h.store.db.table("outbox").rows}
    assert {row["announce_outbox"], row["vote_outbox"]} <= kept
    await close(h)
    edits = [r["replaces"] for r in h.store.db.table("outbox").rows_where("replaces is not null")]
    assert row["vote_outbox"] in edits
