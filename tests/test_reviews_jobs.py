"""Failure reviews over time, through the harness: anonymous reviews published in batches and edited
with their case code, reminders on each owner's calendar, the weekly overdue digest, two processes
on one database file, and the figures for the team report."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from handlers import anonymity
from handlers.registry import REGISTRY
from handlers.reporting import ReportScope
from handlers.reviews import jobs, report
from handlers.reviews.ids import ActionId, FieldId, Section
from handlers.reviews.local_time import today_in
from tests.support.clock import FakeClock
from tests.support.harness import Harness, text_of
from tests.test_reviews_rules import GOOD, TABLES, open_form, reviews_harness, row

DELAY = (300.0, 1800.0)
LATER = 1800 + anonymity.BATCH_EVERY_S  # past the longest delay and its batch mark


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def due(h: Harness, days: int, tz: str = "Europe/Berlin") -> str:
    return (today_in(h.clock.now(), tz) + timedelta(days=days)).isoformat()


def reminders(h: Harness) -> list[tuple[str, str]]:
    return [(to, text.split("\n")[0]) for to, text in h.posts() if "Reminder:" in text]


async def anonymous_review(h: Harness, *, user: str = "alice", **answers) -> str:
    """Write an anonymous review; return the case code the form shows."""
    reply = await h.submit(
        await open_form(h, user), {**GOOD, FieldId.ANONYMOUS: ["yes"], **answers}, user=user
    )
    return text_of(reply).split("Your case code: ")[1].split("\n")[0]


@pytest.fixture
async def h(tmp_path):
    harness = reviews_harness(tmp_path, speakup_delay_s=DELAY)
    await harness.command("review", "help")
    yield harness
    harness.close()


# --- anonymous reviews --------------------------------------------------------------------------
async def test_an_anonymous_review_keeps_no_author_and_waits_for_its_batch(h):
    form = await open_form(h)
    reply = await h.submit(
        form, {**GOOD, FieldId.ANONYMOUS: ["yes"], **row(1, "add a canary step", "bob", due(h, 20))}
    )
    text = text_of(reply)
    code = text.split("Your case code: ")[1].split("\n")[0]
    assert len(code.replace("-", "")) == 32
    assert "Copy it now." in text and "/review edit <code>" in text
    assert "It appears in #reviews after a random delay of 5 to 30 minutes" in text
    [row_] = h.store.db.execute(
        "select id, author, anonymous, code_hash, publish_at, conversation from reviews"
    ).fetchall()
    number, author, anonymous, code_hash, publish_at, conversation = row_
    assert (author, anonymous, code_hash) == (None, 1, anonymity.code_hash(code))
    assert conversation == "reviews"  # not where it was written: that could point at the author
    assert publish_at % anonymity.BATCH_EVERY_S == 0 and 1_000_000 <= number <= 9_999_999
    await h.run_jobs()
    assert h.posts() == []  # not even queued before its batch
    h.clock.advance(LATER)
    await h.run_jobs()
    [(where, post), (to, dm)] = h.posts()
    assert where == "#reviews" and post.split("\n")[1].startswith("by a team member (anonymous) · ")
    assert "alice" not in post
    assert to == "@bob" and dm.startswith(
        "📝 You own an action from the failure review Checkout errors after Tuesday's release (anonymous)."
    )
    created = [r[0] for r in h.store.db.execute("select created_at from outbox")]
    assert all(t % anonymity.BATCH_EVERY_S == 0 for t in created)  # the batch's time, not the writing's


async def test_in_an_anonymous_review_the_author_cannot_own_an_action(h):
    form = await open_form(h)
    before = tuple(h.count(t) for t in TABLES)
    reply = await h.submit(
        form,
        {**GOOD, FieldId.ANONYMOUS: ["yes"], FieldId.LINES: f"@alice {due(h, 9)} add a canary step"},
    )
    assert text_of(reply) == (
        '{"action_lines": "Line 1: In an anonymous review you cannot own an action yourself: it would show '
        'who wrote it. Pick someone else, or untick Anonymous."}'
    )
    assert tuple(h.count(t) for t in TABLES) == before
    named = await h.submit(form, {**GOOD, FieldId.LINES: f"@alice {due(h, 9)} add a canary step"})
    assert text_of(named).startswith("Published.")  # under their name, they may


async def test_the_author_edits_and_follows_up_with_the_case_code_each_in_a_batch(h):
    code = await anonymous_review(h)
    assert text_of(await h.command("review", "edit WRONG-CODE")) == (
        "No review matches that code. Check the code (letters A–Z and digits 2–7) and try again."
    )
    # Before publication an edit just changes what will be posted.
    form = (await h.command("review", f"edit {code.lower().replace('-', ' ')}")).form
    assert form is not None and "Not published yet" in str(form.intro)
    await h.submit(form, {Section.IMPACT: "About 320 customers could not pay for 40 minutes."})
    h.clock.advance(LATER)
    await h.run_jobs()
    assert "> About 320 customers could not pay" in h.posts()[0][1]

    form = (await h.command("review", f"edit {code}")).form
    reply = await h.submit(
        form, {Section.IMPACT: "About 330 customers.", FieldId.FOLLOW_UP: "The canary is live."}
    )
    assert text_of(reply) == (
        "Saved: your changes and your follow-up will appear after a random delay of 5 to 30 minutes, at the "
        "next 5 minutes mark, together with anything else due then."
    )
    await h.run_jobs()
    assert "About 330" not in h.posts()[0][1] and len(h.posts()) == 1  # both wait for their batch
    h.clock.advance(LATER)
    await h.run_jobs()
    posts = h.posts()
    assert "> About 330 customers." in posts[0][1]
    assert posts[-1] == ("#reviews", "Author:\n> The canary is live.")
    [(by_user, created_on)] = h.store.db.execute("select by_user, created_on from review_messages").fetchall()
    assert by_user is None and len(created_on) == 10  # no author, the day only


async def test_a_due_edit_waits_for_the_batch_job_not_for_the_next_editor(h):
    first, second = await anonymous_review(h), await anonymous_review(h, user="bob")
    h.clock.advance(LATER)
    await h.run_jobs()
    await h.submit((await h.command("review", f"edit {first}")).form, {Section.IMPACT: "First edit."})
    h.clock.advance(LATER)  # its batch time has passed
    form = (await h.command("review", f"edit {second}", user="bob")).form
    await h.submit(form, {Section.IMPACT: "Second edit."}, user="bob")
    assert not any("First edit." in text for _, text in h.posts())  # not released by bob's request
    await h.run_jobs()
    assert sum("First edit." in text for _, text in h.posts()) == 1


async def test_wrong_codes_are_limited_per_hour_and_a_number_does_not_open_an_anonymous_review(h):
    await anonymous_review(h)
    [(number,)] = h.store.db.execute("select id from reviews").fetchall()
    assert (
        text_of(await h.command("review", f"edit {number}"))
        == "That review is anonymous: open it with its case code."
    )
    for _ in range(10):
        assert "No review matches" in text_of(await h.command("review", "edit AAAA", user="bob"))
    assert text_of(await h.command("review", "edit AAAA", user="bob")) == (
        "Too many codes tried. Please wait an hour and try again."
    )
    assert "No review matches" in text_of(await h.command("review", "edit AAAA", user="carol"))
    h.clock.advance(3600)
    assert "No review matches" in text_of(await h.command("review", "edit AAAA", user="bob"))


async def test_five_anonymous_reviews_a_day(h):
    for _ in range(5):
        await anonymous_review(h)
    reply = await h.submit(await open_form(h), {**GOOD, FieldId.ANONYMOUS: ["yes"]})
    assert text_of(reply) == (
        '{"anonymous": "You can publish 5 anonymous reviews a day. Please try again tomorrow, or publish '
        'this one under your name."}'
    )
    assert h.count("reviews") == 5


# --- reminders ----------------------------------------------------------------------------------
async def test_reminders_come_at_nine_on_each_owners_calendar_across_dst(tmp_path):
    """bob (Berlin) and dana (New York), each with a due date just after their clocks change."""
    h = reviews_harness(tmp_path, clock=FakeClock(utc("2026-03-01T12:00:00")))
    try:
        form = await open_form(h)
        await h.submit(
            form,
            {
                **GOOD,
                **row(1, "add a canary", "bob", "2026-03-31"),
                **row(2, "fix the alert", "dana", "2026-03-10"),
            },
        )
        expected = [
            # 09:00 EDT (UTC-4): the US moved its clocks that morning
            ("2026-03-08T13:00:00", ("@dana", "⏰ Reminder: an action is due in 2 days (10 Mar 2026)")),
            ("2026-03-10T13:00:00", ("@dana", "⏰ Reminder: an action is due today (10 Mar 2026)")),
            # 09:00 CEST (UTC+2): Europe moved its clocks that night
            ("2026-03-29T07:00:00", ("@bob", "⏰ Reminder: an action is due in 2 days (31 Mar 2026)")),
            ("2026-03-31T07:00:00", ("@bob", "⏰ Reminder: an action is due today (31 Mar 2026)")),
        ]
        sent: list[tuple[str, str]] = []
        for at, reminder in expected:
            h.clock.t = utc(at) - 1
            await h.run_jobs()
            assert reminders(h) == sent, at  # not a second early
            h.clock.t = utc(at)
            await h.run_jobs()
            sent.append(
                (
                    reminder[0],
                    reminder[1]
                    + " from the failure review Checkout errors after Tuesday's release by @alice.",
                )
            )
            assert reminders(h) == sent, at
        await h.run_jobs()
        assert len(reminders(h)) == 4  # and each once
    finally:
        h.close()


async def test_a_done_action_gets_no_more_reminders(h):
    await h.submit(await open_form(h), {**GOOD, **row(1, "add a canary", "bob", due(h, 5))})
    [(action, before_at)] = h.store.db.execute("select id, remind_before_at from review_actions").fetchall()
    await h.click(ActionId.DONE, str(action), user="bob")
    h.clock.t = before_at + 5 * 86400
    await h.run_jobs()
    assert reminders(h) == []


async def test_a_reminder_whose_moment_has_passed_is_settled_not_sent(h):
    # Due tomorrow: the "2 days before" moment passed already; only the due-day reminder will come.
    await h.submit(await open_form(h), {**GOOD, **row(1, "add a canary", "bob", due(h, 1))})
    [(before, due_state, due_at, overdue_at)] = h.store.db.execute(
        "select before_state, due_state, remind_due_at, overdue_at from review_actions"
    ).fetchall()
    assert (before, due_state) == ("skipped", "pending")
    # After downtime past the whole due day, the reminder is settled as skipped: the digest says it.
    h.clock.t = overdue_at + 60
    await h.run_jobs()
    assert reminders(h) == []
    assert h.store.db.execute("select due_state from review_actions").fetchone()[0] == "skipped"
    assert due_at < overdue_at


async def test_after_downtime_a_late_first_reminder_gives_way_to_the_due_day_one(h):
    await h.submit(await open_form(h), {**GOOD, **row(1, "add a canary", "bob", due(h, 5))})
    [(due_at,)] = h.store.db.execute("select remind_due_at from review_actions").fetchall()
    h.clock.t = due_at + 3600  # down from before the first reminder until after the second's time
    await h.run_jobs()
    assert [text for _, text in reminders(h)] == [
        f"⏰ Reminder: an action is due today ({shown(due(h, 0))}) from the failure review Checkout errors after Tuesday's release by @alice."
    ]


def shown(iso: str) -> str:
    day = datetime.fromisoformat(iso)
    return f"{day.day} {day:%b %Y}"


# --- the weekly overdue digest ------------------------------------------------------------------
async def test_overdue_actions_are_summarised_on_mondays_at_nine_in_the_reviews_channel(tmp_path):
    h = reviews_harness(tmp_path, clock=FakeClock(utc("2026-06-03T12:00:00")))  # a Wednesday
    try:
        await h.command("review", "channel", user="boss", channel="reviews")  # boss: UTC
        form = await open_form(h)
        await h.submit(
            form,
            {
                **GOOD,
                **row(1, "add a canary", "bob", "2026-06-05"),
                **row(2, "fix the alert", "dana", "2026-06-20"),
            },
        )
        [(number,)] = h.store.db.execute("select id from reviews").fetchall()
        digests = lambda: [text for where, text in h.posts() if where == "#reviews" and "Overdue" in text]  # noqa: E731
        h.clock.t = utc("2026-06-08T08:59:59")
        await h.run_jobs()
        assert digests() == []
        h.clock.t = utc("2026-06-08T09:00:00")  # Monday 09:00 in the channel's timezone (UTC)
        await h.run_jobs()
        assert digests() == [
            "⏰ Overdue actions from failure reviews (1)\n"
            f"• add a canary — @bob, due 5 Jun 2026 · review #{number} Checkout errors after Tuesday's release\n"
            "A nudge, not a scorecard: if an action no longer fits, say so in its review's thread. Owners can "
            "mark an action done from the message they got."
        ]
        h.clock.advance(3 * 86400)
        await h.run_jobs()
        assert len(digests()) == 1  # once a week
        [(action,)] = h.store.db.execute("select id from review_actions where owner = 'bob'").fetchall()
        await h.click(ActionId.DONE, str(action), user="bob")
        h.clock.t = utc("2026-06-15T09:00:00")
        await h.run_jobs()
        assert len(digests()) == 1  # nothing overdue this week: no post
        h.clock.t = utc("2026-06-22T09:00:00")
        await h.run_jobs()
        assert len(digests()) == 2 and "fix the alert — @dana, due 20 Jun 2026" in digests()[1]
    finally:
        h.close()


# --- two processes on one database file ---------------------------------------------------------
@pytest.fixture
def two(tmp_path):
    """Two Candor processes' services on one database file: their own connections, limits, memory."""
    clock = FakeClock()
    first = reviews_harness(tmp_path, clock=clock, speakup_delay_s=DELAY)
    second = reviews_harness(tmp_path, clock=clock, speakup_delay_s=DELAY)
    yield first, second
    first.close()
    second.close()


async def test_two_processes_publish_each_anonymous_review_edit_and_follow_up_once(two):
    first, second = two
    code = await anonymous_review(first, **row(1, "add a canary", "bob", due(first, 9)))
    first.clock.advance(LATER)
    seen = await jobs.due(first.services), await jobs.due(second.services)  # both read it as due...
    assert len(seen[0]) == len(seen[1]) == 1
    released = await jobs.release(first.services, seen[0]), await jobs.release(second.services, seen[1])
    assert released == (1, 0)
    assert len(first.posts()) == 2  # ...and it is posted once, its owner told once

    form = (await second.command("review", f"edit {code}")).form
    await second.submit(form, {Section.IMPACT: "Edited once.", FieldId.FOLLOW_UP: "Followed up once."})
    first.clock.advance(LATER)
    seen = await jobs.due(second.services), await jobs.due(first.services)
    released = await jobs.release(second.services, seen[0]), await jobs.release(first.services, seen[1])
    assert released == (2, 0)
    texts = [text for _, text in first.posts()]
    assert texts.count("Author:\n> Followed up once.") == 1
    assert first.store.db.execute("select impact from reviews").fetchone()[0] == "Edited once."


async def test_two_processes_send_each_reminder_and_digest_once(two):
    first, second = two
    await first.command("review", "help")
    await first.submit(await open_form(first), {**GOOD, **row(1, "add a canary", "bob", due(first, 5))})
    [(before_at,)] = first.store.db.execute("select remind_before_at from review_actions").fetchall()
    first.clock.t = before_at
    seen = await jobs.reminders_due(first.services), await jobs.reminders_due(second.services)
    assert len(seen[0]) == len(seen[1]) == 1
    assert (await jobs.remind(second.services, seen[1]), await jobs.remind(first.services, seen[0])) == (1, 0)
    assert len(reminders(first)) == 1

    # A week after the due date it is overdue; a Monday 09:00 UTC comes within that week.
    first.clock.t += 14 * 86400
    monday = today_in(first.clock.now(), "UTC") - timedelta(days=today_in(first.clock.now(), "UTC").weekday())
    first.clock.t = utc(f"{monday.isoformat()}T09:00:00")
    seen_digests = await jobs.digests_due(first.services), await jobs.digests_due(second.services)
    assert len(seen_digests[0]) == len(seen_digests[1]) == 1
    posted = (
        await jobs.digest(first.services, seen_digests[0]),
        await jobs.digest(second.services, seen_digests[1]),
    )
    assert posted == (1, 0)
    assert sum("Overdue actions" in text for _, text in first.posts()) == 1


async def test_two_clicks_at_once_in_two_processes_mark_an_action_done_once(two):
    first, second = two
    await first.submit(await open_form(first), {**GOOD, **row(1, "add a canary", "bob", due(first, 5))})
    [(action,)] = first.store.db.execute("select id from review_actions").fetchall()
    looked_up = second.people.lookup

    async def slow_directory(user):  # the admin check waits on the directory, as over the network
        await asyncio.sleep(0.01)
        return await looked_up(user)

    second.people.lookup = slow_directory  # type: ignore[method-assign]
    replies = await asyncio.gather(
        second.click(ActionId.DONE, str(action), user="boss"),  # reads it as open, then waits...
        first.click(ActionId.DONE, str(action), user="bob"),  # ...while the owner marks it done
    )
    assert sorted(text_of(r).split(":")[0] for r in replies) == [
        "This action is already done",
        "✅ Marked done",
    ]
    [(done_by,)] = first.store.db.execute("select done_by from review_actions").fetchall()
    assert done_by == "bob"


# --- the team report ----------------------------------------------------------------------------
async def test_the_report_gives_reviews_mean_quality_and_actions_on_time_withheld_below_k(h):
    assert report.figures in [p.report for p in REGISTRY.practices]
    start = h.clock.now()
    for n in range(5):
        answers = {**GOOD, **row(1, f"step {n}", "bob", due(h, 2))}
        if n == 4:
            answers[Section.NEXT_TIME] = ""  # 94
        await h.submit(await open_form(h), answers)
    ids = [r[0] for r in h.store.db.execute("select id from review_actions")]
    for action in ids[:3]:
        await h.click(ActionId.DONE, str(action), user="bob")
    h.clock.advance(4 * 86400)
    for action in ids[3:4]:
        await h.click(ActionId.DONE, str(action), user="bob")  # too late
    scope = ReportScope("stub", "W1", None, start - 1, h.clock.now(), k=5)
    figures = {f.key: f for f in report.figures(h.store.db, scope)}
    assert (figures["reviews.count"].value, figures["reviews.count"].count) == (5.0, 5)
    assert figures["reviews.mean_quality"].value == 98.8
    assert (figures["reviews.actions_on_time"].value, figures["reviews.actions_on_time"].unit) == (60.0, "%")
    assert figures["reviews.actions_on_time"].count == 5

    small = {
        f.key: f
        for f in report.figures(h.store.db, ReportScope("stub", "W1", "team", start - 1, h.clock.now(), k=6))
    }
    assert small["reviews.mean_quality"].value is None
    assert small["reviews.mean_quality"].note == "fewer than 6 reviews, not shown to protect anonymity"
    assert small["reviews.actions_on_time"].value is None
    other = {
        f.key: f
        for f in report.figures(
            h.store.db, ReportScope("stub", "W1", "elsewhere", start - 1, h.clock.now(), k=5)
        )
    }
    assert other["reviews.count"].value == 0.0
