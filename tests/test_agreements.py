"""Agreements' rules called the way an adapter calls them: a stub directory, the real store and
outbox, an injected clock. Each test reads as a transcript of what people did and what was posted
("@bob" is a DM to bob)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.agreements.ids import ActionId
from tests.support.clock import FakeClock
from tests.support.harness import Harness, text_of

BERLIN = ZoneInfo("Europe/Berlin")
WED_10_BERLIN = datetime(2026, 6, 10, 10, 0, tzinfo=BERLIN).timestamp()  # a Wednesday morning


@pytest.fixture
def h(tmp_path):
    harness = Harness(tmp_path, FakeClock(WED_10_BERLIN))
    harness.people.add("helper", is_bot=True)
    yield harness
    harness.close()


def day(h: Harness, days: int, tz: ZoneInfo = BERLIN) -> str:
    return (datetime.fromtimestamp(h.clock.now(), tz).date() + timedelta(days=days)).isoformat()


async def ask(
    h: Harness, *, by="alice", to="bob", what="Draft the Q3 plan", days=9, at="17:00", **more
) -> int:
    """alice asks bob (by default) in #team; returns the agreement's number."""
    form = (await h.command("agree", f"@{to}", user=by)).form
    assert form is not None
    values = {"what": what, "done_means": "Finance has reviewed it", "due_date": day(h, days), "due_time": at}
    reply = await h.submit(form, values | more, user=by)
    assert text_of(reply).startswith(f"Sent to @{to}."), text_of(reply)
    (number,) = h.store.db.execute("select max(id) from agreements").fetchone()
    return number


def state(h: Harness, number: int) -> tuple:
    return h.store.db.execute(
        "select state, turn, offer_seq from agreements where id = ?", [number]
    ).fetchone()


def rows(h: Harness) -> tuple[int, ...]:
    return tuple(
        h.count(t) for t in ("agreements", "agreement_offers", "agreement_reviews", "outbox", "processed")
    )


async def test_a_request_accepted_done_and_accepted_as_done(h):
    form = (await h.command("agree", "@bob Draft the Q3 plan")).form
    assert [f.id for f in form.fields] == [
        "person",
        "what",
        "done_means",
        "due_date",
        "due_time",
        "process_goal",
    ]
    assert (form.fields[0].initial, form.fields[1].initial) == ("bob", "Draft the Q3 plan")
    assert form.fields[4].label == "Due time (Europe/Berlin)"
    reply = await h.submit(
        form,
        {
            "done_means": "Finance has reviewed it",
            "due_date": "2026-06-19",
            "due_time": "17:00",
            "process_goal": "3 customer interviews written up",
        },
    )
    assert text_of(reply) == (
        "Sent to @bob. It becomes an agreement when they accept it.\nYou will hear here when they answer."
    )
    assert h.posts() == [
        (
            "@bob",
            "📝 @alice asks you to agree to this:\n"
            "> Draft the Q3 plan\n"
            "Done means\n"
            "> Finance has reviewed it\n"
            "Process goal\n"
            "> 3 customer interviews written up\n"
            "Due Fri 19 Jun 2026, 17:00 (Europe/Berlin)\n"
            "[Accept]  [Propose a change]  [Decline]\n"
            "A clear request names the task, what done looks like and when it is due. Nothing is an "
            "agreement until they accept it; they can propose a change or decline, with a reason.",
        )
    ]
    assert state(h, 1) == ("offered", "performer", 1)

    assert text_of(await h.click(ActionId.ACCEPT, "1:1", user="bob")) == (
        "Agreed: #1. You both have it in your messages, and in /agree list."
    )
    posts = h.posts()
    assert posts[0][1].endswith("Due Fri 19 Jun 2026, 17:00 (Europe/Berlin)\n✅ Accepted.")  # no buttons left
    assert posts[1] == (
        "@alice",
        "🤝 Agreed with @bob\n> Draft the Q3 plan\nDone means\n> Finance has reviewed it\nProcess goal\n"
        "> 3 customer interviews written up\nDue Fri 19 Jun 2026, 17:00 (Europe/Berlin)\n"
        "You both said yes to the same thing. If something changes, renegotiate before the due date: "
        "that is a good sign, not a failure.",
    )
    assert (
        posts[2][0] == "@bob"
        and (
            "Candor reminds you once, on Thu 18 Jun 2026, 17:00 (Europe/Berlin).\n[Done]  [Need to renegotiate]"
        )
        in posts[2][1]
    )

    assert text_of(await h.click(ActionId.DONE, "1", user="bob")) == (
        "Marked done. @alice is asked to accept it as done."
    )
    assert h.posts()[3] == (
        "@alice",
        "✅ @bob says this is done:\n> Draft the Q3 plan\nDone means\n> Finance has reviewed it\nProcess goal\n"
        "> 3 customer interviews written up\nDue Fri 19 Jun 2026, 17:00 (Europe/Berlin)\n"
        "Does it meet what done means?\n[Accept as done]  [Not yet]",
    )
    assert text_of(await h.click(ActionId.ACCEPT_DONE, "1")) == (
        "Accepted as done. @bob hears it from Candor. Thank you both."
    )
    assert h.posts()[4] == (
        "@bob",
        "🎉 @alice accepted this as done:\n> Draft the Q3 plan\n"
        "Done, and accepted as done. Following through is how a team learns to trust its plans.",
    )
    assert state(h, 1) == ("kept", None, 1)
    # Pressed again: nothing changes, nothing is sent.
    before = rows(h)
    assert text_of(await h.click(ActionId.ACCEPT_DONE, "1")) == "Agreement #1 has moved on: it is kept ✅."
    assert (
        text_of(await h.click(ActionId.DONE, "1", user="bob")) == "Agreement #1 has moved on: it is kept ✅."
    )
    assert rows(h) == before


async def test_propose_counter_accept_keeps_the_thread_of_offers(h):
    await ask(h)
    form = (await h.click(ActionId.PROPOSE, "1:1", user="bob")).form
    assert form is not None and form.fields[0].initial == day(h, 9) and form.fields[1].initial == "17:00"
    reply = await h.submit(
        form, {"due_date": day(h, 16), "reason": "The finance review is only on Thursdays"}, user="bob"
    )
    assert text_of(reply) == "Your proposal is sent to @alice."
    assert state(h, 1) == ("offered", "requester", 2)
    first, proposal = h.posts()
    assert first[1].endswith("↪️ Answered with another proposal.")
    assert proposal == (
        "@alice",
        "↪️ @bob proposes this instead:\n> Draft the Q3 plan\nDone means\n> Finance has reviewed it\n"
        "Due Fri 26 Jun 2026, 17:00 (Europe/Berlin) (was Fri 19 Jun 2026, 17:00)\n"
        "Why\n> The finance review is only on Thursdays\n"
        "[Accept]  [Propose another]\nNothing is agreed until one of you accepts the other's offer.",
    )
    # alice answers with another: a day earlier, and a lighter standard.
    form = (await h.click(ActionId.PROPOSE, "1:2")).form
    reply = await h.submit(
        form,
        {
            "due_date": day(h, 15),
            "done_means": "A draft finance has seen",
            "reason": "The board meets Friday",
        },
    )
    assert text_of(reply) == "Your proposal is sent to @bob."
    counter = h.posts()[2]
    assert (
        counter[0] == "@bob"
        and "Done means\n> A draft finance has seen\nWas: Finance has reviewed it" in counter[1]
    )
    assert "[Accept]  [Propose a change]  [Decline]" in counter[1]
    # An old button changes nothing.
    assert text_of(await h.click(ActionId.ACCEPT, "1:1", user="bob")) == (
        "Agreement #1 has moved on: it is waiting for your answer."
    )
    assert text_of(await h.click(ActionId.ACCEPT, "1:3", user="bob")).startswith("Agreed: #1.")
    assert state(h, 1) == ("accepted", None, 3)
    thread = h.store.db.execute(
        "select seq, by_user, kind, outcome, done_means, reason from agreement_offers order by seq"
    ).fetchall()
    assert thread == [
        (1, "alice", "request", "countered", "Finance has reviewed it", None),
        (
            2,
            "bob",
            "proposal",
            "countered",
            "Finance has reviewed it",
            "The finance review is only on Thursdays",
        ),
        (3, "alice", "proposal", "accepted", "A draft finance has seen", "The board meets Friday"),
    ]
    shown = text_of(await h.command("agree", "show 1", user="bob"))
    assert (
        "1. @alice asked on Wed 10 Jun 2026, 10:00: due Fri 19 Jun 2026, 17:00 · answered with another proposal"
        in shown
    )
    assert "3. @alice proposed on Wed 10 Jun 2026, 10:00: due Thu 25 Jun 2026, 17:00 · accepted" in shown
    assert "> The board meets Friday" in shown


async def test_decline_with_a_reason(h):
    await ask(h)
    form = (await h.click(ActionId.DECLINE, "1:1", user="bob")).form
    assert (
        text_of(await h.submit(form, {"reason": "  "}, user="bob"))
        == '{"reason": "The reason cannot be empty."}'
    )
    assert text_of(await h.submit(form, {"reason": "I am on leave that week"}, user="bob")) == (
        "Declined. @alice sees your reason."
    )
    assert h.posts()[1] == (
        "@alice",
        "✖️ @bob declined your request:\n> Draft the Q3 plan\nWhy\n> I am on leave that week\n"
        "Nothing was agreed. Talking it through may lead to a request that works for both.",
    )
    assert h.posts()[0][1].endswith("✖️ Declined.")
    assert state(h, 1) == ("declined", None, 1)
    assert h.store.db.execute("select answer from agreement_offers").fetchone() == (
        "I am on leave that week",
    )
    # The same form sent again, or an old Accept: nothing changes.
    before = rows(h)
    again = await h.submit(form, {"reason": "I am on leave that week"}, user="bob")
    assert (
        text_of(again)
        == '{"reason": "Agreement #1 has moved on since this form opened: it is declined now."}'
    )
    assert (
        text_of(await h.click(ActionId.ACCEPT, "1:1", user="bob"))
        == "Agreement #1 has moved on: it is declined."
    )
    assert rows(h) == before


REVIEW_ANSWERS = {  # by side: the one who asked, the one who agreed
    "requester": {
        "clear": "The standard was vague",
        "agreed": "Yes, on the 10th",
        "differently": "Write the standard down",
    },
    "performer": {
        "in_the_way": "The data came late",
        "would_help": "A check-in mid-way",
        "differently": "Say so earlier",
    },
}


async def answer_review(h: Harness, number: int, user: str) -> str:
    form = (await h.click(ActionId.REVIEW, str(number), user=user)).form
    assert form is not None, user
    (requester,) = h.store.db.execute("select requester from agreements where id = ?", [number]).fetchone()
    answers = REVIEW_ANSWERS["requester" if user == requester else "performer"]
    return text_of(await h.submit(form, answers, user=user))


async def test_a_miss_asks_both_sides_how_to_do_better_and_closes_as_reviewed(h):
    await ask(h, days=2)
    await h.click(ActionId.ACCEPT, "1:1", user="bob")
    h.clock.t = datetime(2026, 6, 12, 16, 59, tzinfo=BERLIN).timestamp()
    await h.run_jobs()
    before = len(h.posts())
    assert h.posts()[-1][1].startswith("⏰ A reminder")  # and nothing else: it is due at 17:00
    h.clock.advance(60)
    await h.run_jobs()
    cards = h.posts()[before:]
    assert [where for where, _ in cards] == ["@alice", "@bob"]
    assert (
        cards[0][1]
        == cards[1][1]
        == (
            "🔁 How can we do this better next time?\n> Draft the Q3 plan\n"
            "It was due Fri 12 Jun 2026, 17:00 (Europe/Berlin)\n"
            "The due time passed before this was marked done. That tells us something about how the work was "
            "set up, not about anyone's worth. Let us find out what got in the way.\n"
            "We look at the process, not the person. Each of you answers your own questions; you both see both "
            "answers once you have both answered.\n"
            "For @alice, who asked: Was the request clear — task, deadline, standard of done? Did they agree to it, "
            "or only hear it?\n"
            "For @bob, who agreed: What got in the way? What would have helped?\n"
            "For both of you: What will each of us do differently?\n"
            "[Answer]"
        )
    )
    assert state(h, 1) == ("reviewing", None, 1)
    await h.run_jobs()  # the job again, or a late Done: nothing twice
    assert (
        text_of(await h.click(ActionId.DONE, "1", user="bob"))
        == "Agreement #1 has moved on: it is in review (how can we do this better next time)."
    )
    assert len(h.posts()) == before + 2

    form = (await h.click(ActionId.REVIEW, "1")).form
    assert [f.label for f in form.fields] == [
        "Was the request clear — task, deadline, standard of done?",
        "Did they agree to it, or only hear it?",
        "What will each of us do differently?",
    ]
    assert text_of(await h.submit(form, {"clear": "", "agreed": "x", "differently": "y"})) == (
        '{"clear": "This answer cannot be empty."}'
    )
    assert await answer_review(h, 1, "alice") == (
        "Thank you. Your answers are kept; both of you will see both sides once the other has answered too.\n"
        "Waiting for @bob."
    )
    assert text_of(await h.click(ActionId.REVIEW, "1")) == (
        "You have answered this review. Both answers are shown once @bob has answered too."
    )
    assert len(h.posts()) == before + 2  # nobody sees anything before both answered
    assert await answer_review(h, 1, "bob") == (
        "Reviewed together. The learning is kept with the agreement, so the next one can go better.\n"
        "Both of you have the answers in your messages."
    )
    results = h.posts()[before + 2 :]
    assert [where for where, _ in results] == ["@alice", "@bob"] and results[0][1] == results[1][1]
    assert results[0][1] == (
        "🔁 How can we do this better next time? — both answers\n> Draft the Q3 plan\n"
        "@alice answered:\nWas the request clear — task, deadline, standard of done?\n> The standard was vague\n"
        "Did they agree to it, or only hear it?\n> Yes, on the 10th\n"
        "What will each of us do differently?\n> Write the standard down\n"
        "@bob answered:\nWhat got in the way?\n> The data came late\nWhat would have helped?\n> A check-in mid-way\n"
        "What will each of us do differently?\n> Say so earlier\n"
        "Reviewed together. The learning is kept with the agreement, so the next one can go better."
    )
    assert state(h, 1)[0] == "reviewed"
    assert h.store.db.execute("select miss from agreements").fetchone() == ("missed",)
    shown = text_of(await h.command("agree", "show 1", user="bob"))
    assert (
        "State: reviewed" in shown and "> The data came late" in shown and "> The standard was vague" in shown
    )


async def test_not_yet_says_what_is_missing_and_leads_to_the_same_review(h):
    await ask(h)
    await h.click(ActionId.ACCEPT, "1:1", user="bob")
    await h.click(ActionId.DONE, "1", user="bob")
    assert text_of(await h.click(ActionId.NOT_YET, "1", user="bob")) == (
        "Only @alice, who asked for it, can accept it as done."
    )
    form = (await h.click(ActionId.NOT_YET, "1")).form
    assert text_of(await h.submit(form, {"missing": "The Q3 numbers are not in it"})) == (
        "Sent. You and @bob are both asked how to do this better next time."
    )
    card = h.posts()[-1][1]
    assert "It is not done yet. That is information about the plan, not a verdict on anyone.\n" in card
    assert "@alice says what is missing:\n> The Q3 numbers are not in it\n" in card
    assert [w for w, _ in h.posts()[-2:]] == ["@alice", "@bob"]
    assert h.store.db.execute("select state, miss, missing from agreements").fetchone() == (
        "reviewing",
        "not_yet",
        "The Q3 numbers are not in it",
    )
    await answer_review(h, 1, "bob")
    await answer_review(h, 1, "alice")
    assert state(h, 1)[0] == "reviewed"


async def test_renegotiating_before_the_due_time_changes_the_terms_once_both_agree(h):
    await ask(h)
    await h.click(ActionId.ACCEPT, "1:1", user="bob")
    assert text_of(await h.click(ActionId.RENEGOTIATE, "1")) == (
        "Only @bob, who agreed to it, can say this is done or renegotiate it."
    )
    form = (await h.click(ActionId.RENEGOTIATE, "1", user="bob")).form
    assert text_of(await h.submit(form, {"reason": "nothing changed"}, user="bob")) == (
        '{"due_date": "Change the date or the standard of done, or accept it as it is."}'
    )
    reply = await h.submit(form, {"due_date": day(h, 12), "reason": "Finance moved its review"}, user="bob")
    assert text_of(reply) == (
        "Your proposal is sent to @alice. The agreement stands as it was until they accept the change."
    )
    proposal = h.posts()[-1]
    assert proposal[0] == "@alice" and proposal[1].startswith("↪️ @bob proposes a change to your agreement:")
    assert (
        "[Accept the change]  [Propose another]\nUntil you accept a change, the agreement stands as it was."
        in proposal[1]
    )
    assert text_of(await h.click(ActionId.RENEGOTIATE, "1", user="bob")) == (
        "Your proposed change waits for @alice's answer."
    )
    assert h.store.db.execute("select state, due_at from agreements").fetchone()[0] == "accepted"
    await h.click(ActionId.ACCEPT, "1:2")
    state_row = h.store.db.execute(
        "select state, renegotiated_at is not null, remind_at from agreements"
    ).fetchone()
    assert state_row[:2] == ("accepted", 1)
    assert datetime.fromtimestamp(state_row[2], BERLIN).isoformat() == "2026-06-19T17:00:00+02:00"
    assert "🤝 Agreed, with the change: @alice" in h.posts()[-1][1]
    assert "Renegotiated before the due date: plans changed in the open" in h.posts()[-1][1]


# --- the one reminder ---------------------------------------------------------------------------------
def at(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


async def agreed_at(
    tmp_path, start: str, due: str, *, performer_tz="Europe/Berlin", name="h", database=None
) -> Harness:
    """A harness whose clock starts at `start`; alice asks bob for `due` (local to alice, in
    Berlin) and bob, in `performer_tz`, accepts."""
    (tmp_path / name).mkdir()
    h = Harness(tmp_path / name, FakeClock(at(start)), database=database)
    h.people.add("bob", tz=performer_tz)
    due_day, due_time = due.split("T")
    form = (await h.command("agree", "@bob")).form
    await h.submit(form, {"what": "Ship it", "done_means": "Live", "due_date": due_day, "due_time": due_time})
    await h.click(ActionId.ACCEPT, "1:1", user="bob")
    return h


async def reminders_between(h: Harness, start: str, end: str, step_s: int = 300) -> list[str]:
    """Run the jobs every `step_s` from `start` to `end`; when each reminder was queued (UTC)."""
    h.clock.t = at(start)
    found = []
    while h.clock.t <= at(end):
        before = len(h.posts())
        await h.run_jobs()
        found += [
            datetime.fromtimestamp(h.clock.t, ZoneInfo("UTC")).isoformat()
            for _, text in h.posts()[before:]
            if text.startswith("⏰")
        ]
        h.clock.advance(step_s)
    return found


@pytest.mark.parametrize(
    ("due", "performer_tz", "reminded"),
    [
        # One working day before, at the same local time.
        ("2026-06-18T15:00", "Europe/Berlin", ["2026-06-17T13:00:00+00:00"]),
        # Due on a Monday: the working day before is the Friday.
        ("2026-06-22T11:00", "Europe/Berlin", ["2026-06-19T09:00:00+00:00"]),
        # Due early on a Tuesday: 07:00 on Monday is quiet, so at 09:00 when the quiet hours end.
        ("2026-06-23T07:00", "Europe/Berlin", ["2026-06-22T07:00:00+00:00"]),
        # Due on a Tuesday evening: 20:00 on Monday is quiet, so 09:00 on Tuesday, still before.
        ("2026-06-23T20:00", "Europe/Berlin", ["2026-06-23T07:00:00+00:00"]),
        # Due on a Saturday: the Friday before.
        ("2026-06-20T12:00", "Europe/Berlin", ["2026-06-19T10:00:00+00:00"]),
        # The performer is in New York: a working day before 11:00 Berlin (05:00 there) is Thursday
        # 05:00 New York, quiet, so 09:00 New York.
        ("2026-06-19T11:00", "America/New_York", ["2026-06-18T13:00:00+00:00"]),
    ],
)
async def test_the_reminder_comes_once_a_working_day_before_in_the_performers_own_hours(
    tmp_path, due, performer_tz, reminded
):
    h = await agreed_at(tmp_path, "2026-06-15T08:00:00+00:00", due, performer_tz=performer_tz)
    try:
        assert await reminders_between(h, "2026-06-15T08:00:00+00:00", "2026-06-24T00:00:00+00:00", 1800) == (
            reminded
        )
        # bob was told when, in his own zone, when he agreed.
        local = datetime.fromisoformat(reminded[0]).astimezone(ZoneInfo(performer_tz))
        told = local.strftime("%a %d %b %Y, %H:%M") + f" ({performer_tz})"
        assert f"Candor reminds you once, on {told}." in next(
            t for w, t in h.posts() if t.startswith("🤝") and w == "@bob"
        )
    finally:
        h.close()


async def test_the_reminder_keeps_its_local_time_across_a_dst_change(tmp_path):
    # Due Monday 30 March 10:00 in Berlin, the day after the clocks go forward: the reminder is on
    # Friday 27 March at 10:00 Berlin time (09:00 UTC), not 72 hours before (08:00 UTC).
    h = await agreed_at(tmp_path, "2026-03-25T09:00:00+00:00", "2026-03-30T10:00", name="berlin")
    try:
        assert await reminders_between(h, "2026-03-27T08:00:00+00:00", "2026-03-27T10:00:00+00:00", 60) == [
            "2026-03-27T09:00:00+00:00"
        ]
        assert "Due Mon 30 Mar 2026, 10:00 (Europe/Berlin)" in h.posts()[-1][1]
    finally:
        h.close()
    # New York springs forward on 8 March; a performer there, due Monday 9 March 10:00 New York
    # time (16:00 Berlin), is reminded on Friday 6 March at 10:00 New York time (15:00 UTC).
    h = await agreed_at(
        tmp_path, "2026-03-04T09:00:00+00:00", "2026-03-09T15:00", performer_tz="America/New_York", name="ny"
    )
    try:
        assert await reminders_between(h, "2026-03-06T13:00:00+00:00", "2026-03-06T16:00:00+00:00", 60) == [
            "2026-03-06T15:00:00+00:00"
        ]
        assert "Due Mon 09 Mar 2026, 10:00 (America/New_York)" in h.posts()[-1][1]
    finally:
        h.close()


async def test_after_downtime_a_due_reminder_and_a_miss_fire_once_in_two_processes(tmp_path, database):
    first = await agreed_at(tmp_path, "2026-06-15T08:00:00+00:00", "2026-06-18T15:00", database=database)
    second = Harness(
        tmp_path / "h", database=database, clock=FakeClock(at("2026-06-15T08:00:00+00:00"))
    )  # the same database file
    try:
        # Both were down when the reminder came due (Wed 15:00 Berlin); they catch up at 16:00.
        for h in (first, second):
            h.clock.t = at("2026-06-17T14:00:00+00:00")
            await h.run_jobs()
        assert [t for _, t in first.posts() if t.startswith("⏰")] == [first.posts()[-1][1]]
        # Down again past the due time: the review starts once, in whichever process runs first.
        for h in (second, first, second):
            h.clock.t = at("2026-06-19T08:00:00+00:00")
            await h.run_jobs()
        cards = [w for w, t in first.posts() if t.startswith("🔁")]
        assert cards == ["@alice", "@bob"]
    finally:
        first.close()
        second.close()


async def test_a_reminder_caught_up_in_quiet_hours_waits_for_morning_unless_that_is_too_late(tmp_path):
    # Due Thursday 17:00: the reminder was for Wednesday 17:00. Back at 19:00 (quiet): Thursday 09:00.
    h = await agreed_at(tmp_path, "2026-06-15T08:00:00+00:00", "2026-06-18T17:00", name="waits")
    try:
        assert await reminders_between(h, "2026-06-17T17:00:00+00:00", "2026-06-18T14:00:00+00:00", 1800) == [
            "2026-06-18T07:00:00+00:00"
        ]
    finally:
        h.close()
    # Due Thursday 08:30: the reminder was for Wednesday 09:00. Back at 22:00: the morning is too late.
    h = await agreed_at(tmp_path, "2026-06-15T08:00:00+00:00", "2026-06-18T08:30", name="late")
    try:
        assert (
            await reminders_between(h, "2026-06-17T20:00:00+00:00", "2026-06-18T07:00:00+00:00", 1800) == []
        )
        assert [w for w, t in h.posts() if t.startswith("🔁")] == ["@alice", "@bob"]  # the review, at 08:30
    finally:
        h.close()


# --- refusals: each says why, and nothing stored changes -----------------------------------------------
@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("@alice", "An agreement needs two people: ask someone else."),
        ("@helper", "Agreements are between people; a bot cannot agree to anything."),
        ("@bob @carol", "An agreement is between two people: ask one person at a time."),
        (
            "bob please",
            "Start with the person you are asking, mentioned with @, or leave it empty to choose them in the "
            "form.\nExample: /agree @alex. /agree help shows everything else.",
        ),
        (
            "x" * 5000,
            "That is too long to read as a command. Use /agree @person and write the request in the form.",
        ),
        ("list everything", "/agree list takes nothing after it."),
        ("show", "Say which agreement, by its number: /agree show 12."),
        ("show 99", "I cannot find agreement #99 among yours."),
        ("show 1; drop table agreements", "Say which agreement, by its number: /agree show 12."),
    ],
)
async def test_commands_that_cannot_be_done_say_why(h, text, answer):
    before = rows(h)
    assert text_of(await h.command("agree", text)) == answer
    assert rows(h) == before


async def test_a_person_unknown_to_the_directory_is_refused(h):
    marked = [("@zed", "UZED")]
    assert (
        text_of(await h.command("agree", "@zed", mentions=marked))
        == "I could not find that person in this workspace."
    )


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        ({"person": "alice"}, {"person": "An agreement needs two people: ask someone else."}),
        ({"person": "helper"}, {"person": "Agreements are between people; a bot cannot agree to anything."}),
        ({"person": ""}, {"person": "Choose the person you are asking."}),
        ({"what": " \u200b\u202e "}, {"what": "What is asked cannot be empty."}),
        ({"what": "w" * 2001}, {"what": "What is asked is 2,001 characters; keep it to 2,000 characters."}),
        (
            {"done_means": "\ud83d"},
            {
                "done_means": "Done means contains a broken character (part of an emoji?) that cannot be saved. Please retype it."
            },
        ),
        (
            {"process_goal": "p" * 2001},
            {"process_goal": "The process goal is 2,001 characters; keep it to 2,000 characters."},
        ),
        (
            {"due_date": "2026-06-09"},
            {"due_date": "Tue 09 Jun 2026, 17:00 (Europe/Berlin) has passed. Choose a time from now on."},
        ),
        (
            {"due_date": "2026-06-10", "due_time": "09:59"},
            {"due_date": "Wed 10 Jun 2026, 09:59 (Europe/Berlin) has passed. Choose a time from now on."},
        ),
        ({"due_date": "2027-06-11"}, {"due_date": "Choose a date at most 365 days ahead."}),
        ({"due_date": "11/06/2026"}, {"due_date": "Give the date as YYYY-MM-DD, e.g. 2026-12-15."}),
        ({"due_date": "2026-02-30"}, {"due_date": "2026-02-30 is not a date in the calendar."}),
        ({"due_date": None}, {"due_date": "Give the date as YYYY-MM-DD, e.g. 2026-12-15."}),
        ({"due_time": "25:00"}, {"due_time": "25:00 is not a time of day. Use 00:00 to 23:59."}),
        (
            {"due_date": "2027-03-28", "due_time": "02:30"},
            {"due_time": "02:30 does not exist on 2027-03-28 in Europe/Berlin: the clocks go forward then."},
        ),
    ],
)
async def test_a_refused_form_names_the_field_and_stores_nothing(h, values, errors):
    form = (await h.command("agree")).form
    assert form.fields[0].initial is None
    good = {
        "person": "bob",
        "what": "Draft it",
        "done_means": "Reviewed",
        "due_date": "2026-06-19",
        "due_time": "17:00",
    }
    before = rows(h)
    reply = await h.submit(form, good | values)
    assert getattr(reply, "errors", None) == errors
    assert rows(h) == before


async def test_hostile_text_is_kept_as_text(h):
    await ask(h, what="<!channel> *bold* <https://evil|click> @here")
    assert "> <!channel> *bold* <https://evil|click> @here" in h.posts()[0][1]
    assert h.store.db.execute("select what from agreements").fetchone() == (
        "<!channel> *bold* <https://evil|click> @here",
    )


async def test_a_form_sent_twice_makes_one_request(h):
    form = (await h.command("agree", "@bob")).form
    values = {"what": "Draft it", "done_means": "Reviewed", "due_date": "2026-06-19", "due_time": "17:00"}
    assert text_of(await h.submit(form, values)).startswith("Sent to @bob.")
    assert text_of(await h.submit(form, values)) == "That request is already sent."
    assert (h.count("agreements"), h.count("outbox")) == (1, 1)


@pytest.mark.parametrize(
    "context", ["", "not json", "[1]", '{"n": 1}', '{"n":"x","tz":"UTC","case":true}', "{" * 600]
)
async def test_a_form_whose_context_is_not_ours_is_refused(h, context):
    from dataclasses import replace

    form = (await h.command("agree", "@bob")).form
    values = {"what": "Draft it", "done_means": "Reviewed", "due_date": "2026-06-19", "due_time": "17:00"}
    reply = await h.submit(replace(form, context=context), values)
    assert reply.errors == {"what": "This form is out of date. Please start again."}
    assert h.count("agreements") == 0


async def test_only_the_two_parties_act_and_only_on_their_turn(h):
    await ask(h)
    before = rows(h)
    for action in ActionId:
        assert (
            text_of(await h.click(action, "1:1", user="carol")) == "I cannot find agreement #1 among yours."
        )
        assert text_of(await h.click(action, "1", user="carol")) == "I cannot find agreement #1 among yours."
    assert (
        text_of(await h.command("agree", "show 1", user="carol")) == "I cannot find agreement #1 among yours."
    )
    assert text_of(await h.click(ActionId.ACCEPT, "1:1")) == "This waits for @bob's answer."
    assert text_of(await h.click(ActionId.PROPOSE, "1:1")) == "This waits for @bob's answer."
    assert text_of(await h.click(ActionId.DONE, "1", user="bob")) == (
        "Agreement #1 has moved on: it is waiting for your answer."
    )
    for value in ("", "x", "1:", ":1", "1:2:3", "9" * 13, "-1", "1:-1"):
        assert text_of(await h.click(ActionId.ACCEPT, value, user="bob")).startswith(
            "I cannot find agreement #"
        )
    assert rows(h) == before


async def test_a_double_click_on_accept_agrees_once(h):
    await ask(h)
    first = await h.click(ActionId.ACCEPT, "1:1", user="bob")
    second = await h.click(ActionId.ACCEPT, "1:1", user="bob")
    assert text_of(first).startswith("Agreed: #1.")
    assert text_of(second) == "Agreement #1 has moved on: it is agreed."
    assert len([w for w, t in h.posts() if t.startswith("🤝")]) == 2  # one for each side, once


async def test_an_offer_whose_date_passed_is_not_accepted_and_an_agreement_past_due_goes_to_review(h):
    await ask(h, days=1)
    h.clock.advance(2 * 86400)
    assert text_of(await h.click(ActionId.ACCEPT, "1:1", user="bob")) == (
        "The due time of this offer has passed. Propose a new date for agreement #1 instead."
    )
    assert state(h, 1) == ("offered", "performer", 1)
    await ask(h, days=1)
    await h.click(ActionId.ACCEPT, "2:1", user="bob")
    h.clock.advance(2 * 86400)  # no job ran: Done itself finds the due time passed
    assert text_of(await h.click(ActionId.DONE, "2", user="bob")) == (
        "Agreement #2 is past its due time, so it goes to a short review instead: how can we do this better "
        "next time?"
    )
    assert state(h, 2)[0] == "reviewing"
    await h.run_jobs()
    assert len([t for _, t in h.posts() if t.startswith("🔁")]) == 2


# --- the views: list, show, stats, the report ----------------------------------------------------------
async def test_list_shows_both_sides_with_their_state(h):
    await ask(h, what="Draft the Q3 plan")
    await ask(h, by="bob", to="alice", what="Review my PR", days=3)
    await h.click(ActionId.ACCEPT, "2:1")
    assert text_of(await h.command("agree", "list")) == (
        "Due times in Europe/Berlin.\n"
        "Agreed to or asked of you\n"
        "#2 Review my PR · with @bob · due Sat 13 Jun 2026, 17:00 · agreed\n"
        "You asked for\n"
        "#1 Draft the Q3 plan · with @bob · due Fri 19 Jun 2026, 17:00 · waiting for @bob's answer\n"
        "/agree show 12 shows one in full."
    )
    assert text_of(await h.command("agree", "list", user="carol")) == (
        "You have no agreements yet, open or from the last 90 days.\nAsk for one with /agree @person."
    )


async def make(h: Harness, how: str, channel: str = "team") -> None:
    """One agreement in `channel` that ends `how`: kept, missed, reviewed, renegotiated, open, declined."""
    form = (await h.command("agree", "@bob", channel=channel)).form
    await h.submit(form, {"what": how, "done_means": "d", "due_date": day(h, 2), "due_time": "17:00"})
    (n,) = h.store.db.execute("select max(id) from agreements").fetchone()
    if how == "declined":
        form = (await h.click(ActionId.DECLINE, f"{n}:1", user="bob")).form
        await h.submit(form, {"reason": "no"}, user="bob")
        return
    await h.click(ActionId.ACCEPT, f"{n}:1", user="bob")
    if how == "kept":
        await h.click(ActionId.DONE, str(n), user="bob")
        await h.click(ActionId.ACCEPT_DONE, str(n))
    if how == "renegotiated":
        form = (await h.click(ActionId.RENEGOTIATE, str(n), user="bob")).form
        await h.submit(form, {"due_date": day(h, 3), "reason": "r"}, user="bob")
        await h.click(ActionId.ACCEPT, f"{n}:2")
    if how in ("missed", "reviewed"):
        await h.click(ActionId.DONE, str(n), user="bob")
        form = (await h.click(ActionId.NOT_YET, str(n))).form
        await h.submit(form, {"missing": "m"})
    if how == "reviewed":
        await answer_review(h, n, "alice")
        await answer_review(h, n, "bob")


async def test_stats_is_a_team_view_that_waits_for_enough_agreements(tmp_path):
    h = Harness(tmp_path, FakeClock(WED_10_BERLIN), anonymity_k=2)
    try:
        assert text_of(await h.command("agree", "stats")) == (
            "No agreements were made from this channel in the last 90 days yet.\nStart with /agree @person."
        )
        await make(h, "kept")
        assert text_of(await h.command("agree", "stats")) == (
            "Agreements made from this channel, last 90 days\n"
            "1 made (accepted by the person asked).\n"
            "Kept on time: not shown until at least 2 that came to an end (now 1).\n"
            "Renegotiated before the due date: not shown until at least 2 made (now 1).\n"
            "Reviewed after a miss: not shown until at least 2 missed (now 0).\n"
            "A team view: no one is listed by name."
        )
        for how in ("kept", "missed", "reviewed", "renegotiated", "open", "declined"):
            await make(h, how)
        await make(h, "kept", channel="elsewhere")
        assert text_of(await h.command("agree", "stats")) == (
            "Agreements made from this channel, last 90 days\n"
            "6 made (accepted by the person asked).\n"
            "Kept on time: 50% of 4 that came to an end.\n"
            "Renegotiated before the due date: 17% of 6 made. A good sign: plans changed in the open.\n"
            "Reviewed after a miss: 50% of 2 missed.\n"
            "A team view: no one is listed by name."
        )
        assert text_of(await h.command("agree", "stats everyone")) == "/agree stats takes nothing after it."
        h.clock.advance(91 * 86400)
        assert text_of(await h.command("agree", "stats")).startswith("No agreements were made")
    finally:
        h.close()


async def test_the_report_has_team_figures_and_withholds_small_ones(h):
    from handlers.agreements.report import figures
    from handlers.reporting import ReportScope
    from tests.support.harness import PLATFORM, WORKSPACE

    for how in ("kept", "kept", "missed", "reviewed", "renegotiated"):
        await make(h, how)
    now = h.clock.now()
    scope = ReportScope(PLATFORM, WORKSPACE, None, now - 86400, now + 1, k=2)
    assert [(f.key, f.value, f.count) for f in figures(h.store.db, scope)] == [
        ("agreements.made", 5.0, 5),
        ("agreements.kept_on_time", 50.0, 4),
        ("agreements.renegotiated_before_due", 20.0, 5),
        ("agreements.reviewed_after_miss", 50.0, 2),
    ]
    small = ReportScope(PLATFORM, WORKSPACE, "team", now - 86400, now + 1, k=5)
    assert [(f.key, f.value, f.count, f.note) for f in figures(h.store.db, small)] == [
        ("agreements.made", 5.0, 5, ""),
        ("agreements.kept_on_time", None, 4, "fewer than 5: not shown"),
        ("agreements.renegotiated_before_due", 20.0, 5, "a good sign: plans changed in the open"),
        ("agreements.reviewed_after_miss", None, 2, "fewer than 5: not shown"),
    ]
    from handlers.registry import REGISTRY

    assert figures in REGISTRY.reports


async def test_the_words_of_a_miss_and_the_review_come_from_the_data_file(tmp_path):
    import shutil

    from bot.config import REPO_ROOT

    content = tmp_path / "content"
    shutil.copytree(
        REPO_ROOT / "data", content, ignore=shutil.ignore_patterns("*.py", "__pycache__", "*.db*")
    )
    words = (content / "agreements.yml").read_text()
    words = words.replace(
        "title: How can we do this better next time?", "title: What did the process teach us?"
    )
    words = words.replace("text: What got in the way?", "text: Which step of the process got in the way?")
    (content / "agreements.yml").write_text(words)
    h = Harness(tmp_path, FakeClock(WED_10_BERLIN), data_dir=content)
    try:
        await make(h, "missed")
        assert h.posts()[-1][1].startswith("🔁 What did the process teach us?")
        form = (await h.click(ActionId.REVIEW, "1", user="bob")).form
        assert form.fields[0].label == "Which step of the process got in the way?"
    finally:
        h.close()


async def test_a_long_negotiation_shows_its_latest_offers_within_one_slack_message(h):
    from bot.slack.render import reply_payload

    await ask(h, what="w" * 2000)
    for seq in range(1, 15):
        user = "bob" if seq % 2 else "alice"
        form = (await h.click(ActionId.PROPOSE, f"1:{seq}", user=user)).form
        await h.submit(form, {"due_date": day(h, 9 + seq), "reason": "r" * 2000}, user=user)
    shown = await h.command("agree", "show 1")
    assert "5 earlier offers are not shown." in text_of(shown)
    assert len(reply_payload(shown)["blocks"]) <= 50


def test_the_words_file_is_checked_when_candor_starts(tmp_path):
    import shutil

    from bot.config import REPO_ROOT
    from handlers.catalog import CatalogError, load_catalog

    content = tmp_path / "content"
    content.mkdir()
    for name in ("behaviours.yml", "checkins.yml", "nudges.yml"):
        shutil.copy(REPO_ROOT / "data" / name, content / name)
    # A data directory set up before agreements existed uses the shipped words.
    assert load_catalog(content).agreements == load_catalog(REPO_ROOT / "data").agreements
    shipped = (REPO_ROOT / "data" / "agreements.yml").read_text()
    for broken, message in [
        (shipped.replace("missed: >-", "mised: >-"), "agreements.yml: missed needs text"),
        (
            shipped.replace("      - id: clear", "      - id: Clear!"),
            "review.questions.requester: id 'Clear!' is malformed",
        ),
        (
            shipped.replace("      - id: differently", "      - id: clear"),
            "review.questions.both: id 'clear' is malformed or repeated",
        ),
        ("review: [", "cannot read"),
    ]:
        (content / "agreements.yml").write_text(broken)
        with pytest.raises(CatalogError, match=message.replace("(", r"\(").replace("?", r"\?")):
            load_catalog(content)


async def test_forms_sent_twice_change_nothing_twice(h):
    await ask(h)
    form = (await h.click(ActionId.PROPOSE, "1:1", user="bob")).form
    values = {"due_date": day(h, 12), "reason": "Finance is away"}
    assert text_of(await h.submit(form, values, user="bob")) == "Your proposal is sent to @alice."
    again = await h.submit(form, values, user="bob")
    assert again.errors == {
        "reason": "Agreement #1 has moved on since this form opened: it is waiting for an answer now."
    }
    assert h.count("agreement_offers") == 2
    await h.click(ActionId.ACCEPT, "1:2")
    await h.click(ActionId.DONE, "1", user="bob")
    form = (await h.click(ActionId.NOT_YET, "1")).form
    await h.submit(form, {"missing": "m"})
    assert (await h.submit(form, {"missing": "m"})).errors == {
        "missing": "Agreement #1 has moved on since this form opened: it is in review now."
    }
    review = (await h.click(ActionId.REVIEW, "1", user="bob")).form
    answers = REVIEW_ANSWERS["performer"]
    await h.submit(review, answers, user="bob")
    posts = len(h.posts())
    assert text_of(await h.submit(review, answers, user="bob")) == (
        "You have answered this review. Both answers are shown once @alice has answered too."
    )
    assert (h.count("agreement_reviews"), len(h.posts())) == (1, posts)


async def test_two_processes_that_read_the_same_due_rows_remind_and_start_the_review_once(tmp_path, database):
    from handlers.agreements import jobs

    first = await agreed_at(tmp_path, "2026-06-15T08:00:00+00:00", "2026-06-18T15:00", database=database)
    second = Harness(tmp_path / "h", database=database, clock=FakeClock(at("2026-06-15T08:00:00+00:00")))
    try:
        for h in (first, second):
            h.clock.t = at("2026-06-17T13:00:00+00:00")
        both = [await jobs.reminders_due(first.services), await jobs.reminders_due(second.services)]
        assert [len(found) for found in both] == [1, 1]  # each read the row before either claimed it
        assert await jobs.remind(first.services, both[0]) == 1
        assert await jobs.remind(second.services, both[1]) == 0
        assert len([t for _, t in first.posts() if t.startswith("⏰")]) == 1

        for h in (first, second):
            h.clock.t = at("2026-06-18T13:00:00+00:00")
        both = [await jobs.misses_due(first.services), await jobs.misses_due(second.services)]
        assert await jobs.start_reviews(second.services, both[1]) == 1
        assert await jobs.start_reviews(first.services, both[0]) == 0
        assert len([t for _, t in first.posts() if t.startswith("🔁")]) == 2
    finally:
        first.close()
        second.close()


async def test_two_processes_taking_the_same_click_at_once_agree_once(tmp_path, database):
    import asyncio

    first = Harness(tmp_path, FakeClock(WED_10_BERLIN), database=database)
    second = Harness(tmp_path, FakeClock(WED_10_BERLIN), database=database)
    try:
        await ask(first)
        answers = await asyncio.gather(
            first.click(ActionId.ACCEPT, "1:1", user="bob"), second.click(ActionId.ACCEPT, "1:1", user="bob")
        )
        assert sorted(text_of(a)[:20] for a in answers) == ["Agreed: #1. You both", "Agreement #1 has mov"]
        assert len([t for _, t in first.posts() if t.startswith("🤝")]) == 2
        # Done pressed after the due time in one process while the other's job found the miss.
        first.clock.advance(10 * 86400)
        second.clock.advance(10 * 86400)
        from handlers.agreements import jobs

        found = await jobs.misses_due(second.services)
        await first.click(ActionId.DONE, "1", user="bob")
        assert await jobs.start_reviews(second.services, found) == 0
        assert len([t for _, t in first.posts() if t.startswith("🔁")]) == 2
    finally:
        first.close()
        second.close()


async def test_a_change_still_on_the_table_closes_when_the_work_is_done_or_missed(h):
    await ask(h)
    await h.click(ActionId.ACCEPT, "1:1", user="bob")
    form = (await h.click(ActionId.RENEGOTIATE, "1", user="bob")).form
    await h.submit(form, {"due_date": day(h, 12), "reason": "More time"}, user="bob")
    assert text_of(await h.click(ActionId.DONE, "1", user="bob")).startswith("Marked done.")
    proposal = next(t for w, t in h.posts() if t.startswith("↪️"))
    assert proposal.endswith("This offer is no longer open.")  # its buttons are gone
    assert h.store.db.execute("select outcome from agreement_offers where seq = 2").fetchone() == (
        "superseded",
    )
    assert text_of(await h.click(ActionId.ACCEPT, "1:2")) == (
        "Agreement #1 has moved on: it is done, waiting for @alice to accept it."
    )
    await ask(h)
    await h.click(ActionId.ACCEPT, "2:1", user="bob")
    form = (await h.click(ActionId.RENEGOTIATE, "2", user="bob")).form
    await h.submit(form, {"due_date": day(h, 12), "reason": "More time"}, user="bob")
    h.clock.advance(10 * 86400)
    await h.run_jobs()
    assert h.store.db.execute(
        "select outcome from agreement_offers where agreement_id = 2 and seq = 2"
    ).fetchone() == ("superseded",)


async def test_retention_keeps_the_message_of_an_open_offer_and_lets_answered_ones_go(h):
    from bot.retention import RETENTION_S, prune
    from handlers.registry import REGISTRY

    await ask(h)
    await ask(h, what="Second", days=60)
    await h.click(ActionId.ACCEPT, "1:1", user="bob")
    h.store.db.execute("update outbox set status = 'sent', sent_at = ?", [h.clock.now()])
    h.clock.advance(RETENTION_S + 3600)
    await prune(
        h.store, h.clock.now(), references=REGISTRY.outbox_references, permanent_keys=REGISTRY.permanent_keys
    )
    [(kept,)] = h.store.db.execute("select id from outbox").fetchall()
    assert h.store.db.execute("select dm_outbox from agreement_offers where agreement_id = 2").fetchone() == (
        kept,
    )
    # Answering it later still edits the message it was sent in.
    await h.click(ActionId.ACCEPT, "2:1", user="bob")
    assert h.store.db.execute("select count(*) from outbox where replaces = ?", [kept]).fetchone() == (1,)


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        ({"reason": ""}, {"reason": "The reason cannot be empty."}),
        ({"reason": "r" * 2001}, {"reason": "The reason is 2,001 characters; keep it to 2,000 characters."}),
        ({"done_means": " "}, {"done_means": "Done means cannot be empty."}),
        (
            {"due_date": "2020-01-01"},
            {"due_date": "Wed 01 Jan 2020, 17:00 (Europe/Berlin) has passed. Choose a time from now on."},
        ),
        ({"due_time": "noon"}, {"due_time": "Give the time as HH:MM on a 24-hour clock, e.g. 09:30."}),
    ],
)
async def test_a_refused_proposal_names_the_field_and_changes_nothing(h, values, errors):
    await ask(h)
    form = (await h.click(ActionId.PROPOSE, "1:1", user="bob")).form
    before = (rows(h), state(h, 1))
    reply = await h.submit(form, {"due_date": day(h, 12), "reason": "Later"} | values, user="bob")
    assert reply.errors == errors
    assert (rows(h), state(h, 1)) == before
