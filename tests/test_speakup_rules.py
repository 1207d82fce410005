"""Speak-up's rules called the way an adapter calls them: a stub directory, no HTTP, no Slack.

Each test reads as a transcript: what people did, what they were answered, what was posted. The
real-HTTP tests (tests/test_speakup.py, tests/test_speakup_anonymity.py) keep the Slack paths and
the anonymity proof.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import pytest

from bot.messages import Message, plain_text
from handlers import anonymity
from handlers.speakup import jobs
from handlers.speakup.ids import ActionId
from tests.support.harness import PLATFORM, Harness, text_of

DELAY = (300.0, 1800.0)
LATER = 1800 + anonymity.BATCH_EVERY_S  # past the longest delay and its batch mark


def speakup_harness(tmp_path, **settings) -> Harness:
    h = Harness(tmp_path, speakup_channels=frozenset({"concerns"}), speakup_delay_s=DELAY, **settings)
    h.people.add("boss", is_platform_admin=True)
    return h


@pytest.fixture
def h(tmp_path):
    harness = speakup_harness(tmp_path)
    yield harness
    harness.close()


async def raise_concern(h: Harness, concern: str, *, user: str = "alice", **answers) -> str:
    """Open the form, send it, and return the case code the answer shows."""
    form = (await h.command("speakup", user=user)).form
    assert form is not None
    reply = await h.submit(form, {"concern": concern, **answers}, user=user)
    return text_of(reply).split("Your case code: ")[1].split("\n")[0]


def case_number(h: Harness) -> int:
    [(number,)] = h.store.db.execute("select id from concerns").fetchall()
    return number


def today(h: Harness) -> str:
    return datetime.fromtimestamp(h.clock.now(), UTC).strftime("%d %b %Y")


def raised(h: Harness) -> str:
    """The day the concern is shown as raised: the day of its publication, not of its writing."""
    [(day,)] = h.store.db.execute("select raised_on from concerns").fetchall()
    return date.fromisoformat(day).strftime("%d %b %Y")


async def published(h: Harness, concern: str) -> tuple[str, int]:
    code = await raise_concern(h, concern)
    h.clock.advance(LATER)
    await h.run_jobs()
    return code, case_number(h)


async def test_a_concern_waits_for_its_batch_then_appears_without_a_name(h):
    code = await raise_concern(h, "Dates are set before anyone estimates", wants="Ask the team first")
    assert len(code.replace("-", "")) == 32
    await h.run_jobs()
    assert h.posts() == []  # not even queued before its batch
    h.clock.advance(LATER)
    await h.run_jobs()
    assert h.posts() == [
        (
            "#concerns",
            "📣 A concern was raised anonymously\n"
            "> Dates are set before anyone estimates\n"
            "What would help\n"
            "> Ask the team first\n"
            f"Raised on {raised(h)} · case #{case_number(h)} · open\n"
            "[Reply]  [Acknowledge]  [Mark resolved]  [Hide]",
        )
    ]
    assert h.people.private == []  # no private copy unless asked for


@pytest.mark.parametrize(
    ("answers", "refused"),
    [
        ({"concern": " \u200b "}, '{"concern": "Your concern cannot be empty."}'),
        ({"wants": "z" * 1001}, '{"wants": "This answer is 1,001 characters; keep it to 1,000 characters."}'),
        ({"channel": "elsewhere"}, '{"channel": "Pick one of the channels in the list."}'),
    ],
)
async def test_a_refused_answer_is_named_in_the_form_and_nothing_is_stored(h, answers, refused):
    form = (await h.command("speakup")).form
    reply = await h.submit(form, {"concern": "Valid words", **answers})
    assert text_of(reply) == refused
    assert (h.count("concerns"), h.posts(), h.people.private) == (0, [], [])


async def test_a_private_copy_of_the_code_only_when_the_author_asks(h):
    await raise_concern(h, "No copy, please")
    code = await raise_concern(h, "A copy, please", dm=["yes"])
    for _ in range(100):
        if not anonymity.sending():
            break
        await asyncio.sleep(0)
    [(to, text)] = h.people.private
    assert to == "alice" and f"Your case code: {code}" in text and "[View replies / add more]" in text
    assert h.posts() == []  # it never went through the outbox


async def test_managers_answer_in_the_thread_and_the_author_sees_it_with_their_code(h):
    code, case = await published(h, "Nobody reviews the on-call rota")
    form = (await h.click(ActionId.REPLY, str(case), user="bob", channel="concerns")).form
    assert text_of(await h.submit(form, {"text": "Thanks, we will look at it."}, user="bob")) == (
        f"Case #{case}: Your reply is posted in the thread."
    )
    assert text_of(await h.click(ActionId.ACK, str(case), user="boss", channel="concerns")) == (
        f"Case #{case} is acknowledged. The author sees it when they check the case."
    )
    assert h.posts()[1:] == [
        ("#concerns", "Reply from @bob\n> Thanks, we will look at it."),
        ("#concerns", "✅ Acknowledged by @boss"),
    ]
    view = (await h.command("speakup", f"status {code.lower()}", user="carol")).form  # whoever holds it
    assert view is not None and view.title == f"Case #{case}"
    shown = plain_text(Message(view.intro))
    assert f"Status: acknowledged · raised {raised(h)}" in shown
    assert f"Reply from @bob · {today(h)}\n> Thanks, we will look at it." in shown
    assert f"Acknowledged by @boss · {today(h)}" in shown


async def test_only_admins_acknowledge_resolve_or_hide(h):
    _, case = await published(h, "Estimates are overruled")
    for action in (ActionId.ACK, ActionId.RESOLVE, ActionId.HIDE):
        reply = await h.click(action, str(case), user="bob", channel="concerns")
        assert (
            text_of(reply)
            == "Only Candor admins can acknowledge, resolve or hide a concern. Anyone can reply."
        )
    assert len(h.posts()) == 1 and h.count("concern_messages") == 0


async def test_a_follow_up_waits_for_its_own_batch_and_hiding_withholds_it(h):
    code, case = await published(h, "Meetings run over")
    view = (await h.click(ActionId.VIEW, code, user="alice")).form
    answer = await h.submit(view, {"followup": "It happened again"}, user="alice")
    assert text_of(answer).startswith("Added. It will appear in the case's thread as Author, after a random")
    hide = (await h.click(ActionId.HIDE, str(case), user="boss", channel="concerns")).form
    assert (
        text_of(await h.submit(hide, {"text": "Names a colleague"}, user="boss")) == f"Case #{case}: Hidden."
    )
    h.clock.advance(LATER)
    await h.run_jobs()
    assert [text for _, text in h.posts()[1:]] == ["Hidden by @boss"]  # the follow-up never goes out
    closed = await h.submit(view, {"followup": "And once more"}, user="alice")
    assert text_of(closed) == '{"followup": "This case is closed. Raise a new concern with /speakup."}'


async def test_deadlines_are_flagged_in_the_thread_once_each(h):
    _, case = await published(h, "Open for too long")
    for days, flagged in ((7, 1), (0, 0), (23, 1), (60, 1)):
        h.clock.advance(days * 86400)
        assert await jobs.flag_overdue(h.services) == flagged
    assert [text for _, text in h.posts()[1:]] == [
        f"⏰ Overdue: case #{case} has not been acknowledged within 7 days.",
        f"⏰ Overdue: case #{case} has had no reply within 30 days.",
        f"⏰ Overdue: case #{case} is still open after 90 days.",
    ]


async def test_three_concerns_a_day_and_a_uniform_answer_to_wrong_codes(h):
    for n in range(3):
        await raise_concern(h, f"Concern {n}")
    form = (await h.command("speakup")).form
    refused = await h.submit(form, {"concern": "A fourth"})
    assert text_of(refused) == '{"concern": "You can raise 3 concerns a day. Please try again tomorrow."}'
    assert h.count("concerns") == 3
    answers = {
        text_of(await h.command("speakup", f"status {guess}", user="bob")) for guess in ("", "x", "A" * 32)
    }
    assert answers == {
        "No case matches that code. Check the code (letters A–Z and digits 2–7) and try again."
    }
    for _ in range(7):
        await h.command("speakup", "status nonsense", user="bob")
    assert text_of(await h.command("speakup", "status nonsense", user="bob")).startswith(
        "Too many codes tried."
    )
    assert text_of(await h.command("speakup", "status nonsense", user="carol")).startswith("No case matches")


async def test_admins_see_counts_only_for_channels_of_at_least_k(h):
    await h.command("speakup", "enable", user="boss", channel="small")
    for n, who in enumerate(("alice", "alice", "alice", "bob", "bob")):
        await raise_concern(h, f"Concern {n}", user=who)
    await raise_concern(h, "A small one", user="carol", channel="small")
    assert text_of(await h.command("speakup", "stats", user="boss")) == (
        "Speak-up, last 90 days\n"
        "#concerns: 5 concerns; 5 open, 0 acknowledged, 0 resolved\n"
        "#small: fewer than 5 concerns, not shown to protect anonymity"
    )
    assert text_of(await h.command("speakup", "stats", user="bob")) == "Only Candor admins can do that."


# --- wording comes from the platform's syntax ---------------------------------------------------
@dataclass(frozen=True)
class PlainWords:
    """A platform without slash commands, as Teams will be."""

    invite_hint: str = "add Candor to the channel"

    def command(self, name: str, args: str = "") -> str:
        return f"{name} {args}".rstrip()


async def test_help_and_errors_name_commands_the_platforms_way(h):
    h.services = replace(h.services, syntaxes={PLATFORM: PlainWords()})
    help_text = text_of(await h.command("speakup", "help"))
    assert "check the case with speakup status <code>" in help_text
    assert "Admins: speakup enable or speakup disable" in help_text and "/speakup" not in help_text
    assert (
        text_of(await h.command("speakup", "bogus"))
        == "I don't know speakup bogus.\nType speakup help for what I can do."
    )
    await h.command("speakup", "disable", user="boss", channel="concerns")
    assert "run speakup enable in the channel" in text_of(await h.command("speakup"))
    enabled = text_of(await h.command("speakup", "enable", user="boss", channel="concerns"))
    assert enabled == "This channel now takes anonymous concerns from speakup. Make sure Candor is a member."
    answer = text_of(await h.submit((await h.command("speakup")).form, {"concern": "Said plainly"}))
    assert "With it, speakup status <code> shows replies" in answer and "/speakup" not in answer


# --- two processes on one database file ---------------------------------------------------------
@pytest.fixture
def two(tmp_path):
    """Two Candor processes' services on one database file: their own connections, limits, memory."""
    first = speakup_harness(tmp_path)
    second = speakup_harness(tmp_path, clock=first.clock)
    assert first.services.store is not second.services.store
    yield first, second
    second.close()
    first.close()


async def test_two_processes_publishing_at_once_post_each_concern_and_follow_up_once(two):
    first, second = two
    code = await raise_concern(first, "Raised once, seen by both")
    first.clock.advance(LATER)
    seen = await jobs.due(first.services), await jobs.due(second.services)  # both read it as due...
    assert len(seen[0]) == len(seen[1]) == 1
    assert (await jobs.release(first.services, seen[0]), await jobs.release(second.services, seen[1])) == (
        1,
        0,
    )
    assert len(first.posts()) == 1  # ...and it is posted once

    view = (await second.click(ActionId.VIEW, code, user="alice")).form
    await second.submit(view, {"followup": "Followed up once"}, user="alice")
    first.clock.advance(LATER)
    seen = await jobs.due(second.services), await jobs.due(first.services)
    assert (await jobs.release(second.services, seen[0]), await jobs.release(first.services, seen[1])) == (
        1,
        0,
    )
    assert [text for _, text in first.posts()].count("Author:\n> Followed up once") == 1


async def test_two_processes_flagging_at_once_flag_each_deadline_once(two):
    first, second = two
    await raise_concern(first, "Waiting for an answer")
    first.clock.advance(LATER)
    await first.run_jobs()
    first.clock.advance(30 * 86400)  # two deadlines passed: acknowledgement and reply
    seen = await jobs.deadlines_due(first.services), await jobs.deadlines_due(second.services)
    assert (await jobs.flag(first.services, seen[0]), await jobs.flag(second.services, seen[1])) == (2, 0)
    assert len([text for _, text in first.posts() if "Overdue" in text]) == 2
