"""Failure reviews' rules called the way an adapter calls them: a stub directory, no HTTP, no Slack.

Each test reads as a transcript: what people did, what they were answered, what was posted. The
real-HTTP tests (tests/test_reviews_slack.py, tests/test_reviews_anonymity.py) keep the Slack path,
the times of reminders across timezones and the anonymity proof.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from bot.messages import Form, FormErrors, Message, Reply, plain_text
from handlers.reviews.ids import ActionId, FieldId, FormId, Section, row_field
from handlers.reviews.local_time import today_in
from tests.support.harness import Harness, text_of

TABLES = ("reviews", "review_actions", "review_messages", "review_channels", "outbox", "processed")

GOOD = {
    Section.TITLE: "Checkout errors after Tuesday's release",
    Section.HAPPENED: "The release went out at 14:00 and checkout failed for 40 minutes until it was rolled back.",
    Section.IMPACT: "About 300 customers could not pay for 40 minutes.",
    Section.FACTORS: "The deploy pipeline has no canary step, and the error alert only fires after 30 minutes.",
    Section.LEARNED: "A canary would have caught the error within minutes.",
    Section.NEXT_TIME: "Roll out to 5% first and watch the error rate before going further.",
}


def reviews_harness(tmp_path, **settings) -> Harness:
    settings = {"reviews_channel": "reviews", "speakup_delay_s": (0.0, 0.0), **settings}
    h = Harness(tmp_path, **settings)
    h.people.add("boss", is_platform_admin=True)
    h.people.add("buildbot", is_bot=True)
    h.people.add("gone", deleted=True)
    h.people.add("dana", tz="America/New_York")
    return h


@pytest.fixture
async def h(tmp_path):
    harness = reviews_harness(tmp_path)
    await harness.command("review", "help")  # the first command applies CANDOR_REVIEWS_CHANNEL
    yield harness
    harness.close()


def due(h: Harness, days: int, tz: str = "Europe/Berlin") -> str:
    """A due date `days` from today on the owner's calendar."""
    return (today_in(h.clock.now(), tz) + timedelta(days=days)).isoformat()


def shown(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{day.day} {day:%b %Y}"


def row(n: int, what: str, owner: str, due_on: str) -> dict:
    return {row_field(n, "what"): what, row_field(n, "owner"): owner, row_field(n, "due"): due_on}


async def open_form(h: Harness, user: str = "alice", channel: str = "team") -> Form:
    reply = await h.command("review", user=user, channel=channel)
    assert reply.form is not None, text_of(reply)
    return reply.form


async def write(h: Harness, *, user: str = "alice", **answers) -> Reply | FormErrors:
    """Open the form and send it with GOOD's sections, as changed by `answers`."""
    return await h.submit(await open_form(h, user), {**GOOD, **answers}, user=user)


def counts(h: Harness) -> tuple[int, ...]:
    return tuple(h.count(t) for t in TABLES)


def review_id(h: Harness) -> int:
    [(number,)] = h.store.db.execute("select id from reviews").fetchall()
    return number


def action_ids(h: Harness) -> list[int]:
    return [r[0] for r in h.store.db.execute("select id from review_actions order by position")]


def intro(form: Form) -> str:
    return plain_text(Message(form.intro))


# --- the form -----------------------------------------------------------------------------------
async def test_the_form_guides_each_field(h):
    form = await open_form(h)
    assert (form.title, form.submit, form.callback) == ("Failure review", "Publish", FormId.NEW)
    by_id = {f.id: f for f in form.fields}
    labels = [by_id[s].label for s in Section]
    assert labels == [
        "Title",
        "What happened",
        "Impact",
        "Contributing factors",
        "What we learned (optional)",
        "What we will try next time (optional)",
    ]
    assert all(by_id[s].hint for s in Section)  # guidance text in every section
    assert "Process, tools, clarity of expectations, not people" in by_id[Section.FACTORS].hint
    assert by_id[Section.NEXT_TIME].hint == "How can we do this better next time?"
    assert [by_id[row_field(1, p)].kind for p in ("what", "owner", "due")] == ["text", "user", "date"]
    assert row_field(3, "due") in by_id and row_field(4, "due") not in by_id  # three rows to start
    assert by_id[FieldId.LINES].kind == "text_with_mentions"
    assert "@sam 2026-12-15 add a canary step" in by_id[FieldId.LINES].hint
    assert "keeps no trace of who wrote it" in by_id[FieldId.ANONYMOUS].hint
    assert by_id[Section.HAPPENED].max_length == 3000 and by_id[Section.TITLE].max_length == 150
    assert "It is posted in #reviews" in intro(form)


async def test_more_rows_come_three_at_a_time_up_to_ten_and_nothing_is_stored(h):
    form = await open_form(h)
    before = counts(h)
    typed = {**GOOD, **row(1, "add a canary step", "bob", due(h, 30)), FieldId.MORE_ROWS: ["yes"]}
    reply = await h.submit(form, typed)
    assert isinstance(reply, Reply) and reply.form is not None
    more = reply.form
    ids = {f.id: f for f in more.fields}
    assert row_field(6, "due") in ids and row_field(7, "what") not in ids
    assert ids[row_field(1, "owner")].initial == "bob" and ids[Section.TITLE].initial == GOOD[Section.TITLE]
    assert "Added 3 action rows. Nothing is published yet." in intro(more)
    assert counts(h) == before
    for _ in range(2):  # 6 → 9 → 10 rows, then no more box
        more = (await h.submit(more, {FieldId.MORE_ROWS: ["yes"]})).form
    ids = {f.id for f in more.fields}
    assert row_field(10, "due") in ids and row_field(11, "what") not in ids and FieldId.MORE_ROWS not in ids
    assert counts(h) == before


# --- a named review, published at once ----------------------------------------------------------
async def test_a_review_is_posted_with_its_sections_actions_and_quality_and_owners_hear_of_it(h):
    canary, runbook = due(h, 30), due(h, 40, "America/New_York")
    reply = await write(
        h,
        **row(1, "add a canary step to the deploy pipeline", "bob", canary),
        **{FieldId.LINES: f"@dana {runbook} write the rollback runbook"},
    )
    number = review_id(h)
    assert text_of(reply) == (
        f"Published. Review #{number} is posted in #reviews.\n"
        "Quality index: 100/100.\n"
        "2 action owners got a message with a Mark done button."
    )
    assert h.posts() == [
        (
            "#reviews",
            f"📝 Failure review #{number}: Checkout errors after Tuesday's release\n"
            f"by @alice · from #team · {shown(published_on(h))}\n"
            "What happened\n"
            f"> {GOOD[Section.HAPPENED]}\n"
            "Impact\n"
            f"> {GOOD[Section.IMPACT]}\n"
            "Contributing factors\n"
            f"> {GOOD[Section.FACTORS]}\n"
            "What we learned\n"
            f"> {GOOD[Section.LEARNED]}\n"
            "What we will try next time\n"
            f"> {GOOD[Section.NEXT_TIME]}\n"
            "Action items · 0 of 2 done\n"
            f"☐ add a canary step to the deploy pipeline — @bob, due {shown(canary)}\n"
            f"☐ write the rollback runbook — @dana, due {shown(runbook)}\n"
            "Quality index: 100/100",
        ),
        (
            "@bob",
            "📝 You own an action from the failure review Checkout errors after Tuesday's release by @alice.\n"
            "> add a canary step to the deploy pipeline\n"
            f"Due {shown(canary)} · reminders 2 days before and on the day, at 09:00 your time · review #{number}\n"
            "[Mark done]",
        ),
        (
            "@dana",
            "📝 You own an action from the failure review Checkout errors after Tuesday's release by @alice.\n"
            "> write the rollback runbook\n"
            f"Due {shown(runbook)} · reminders 2 days before and on the day, at 09:00 your time · review #{number}\n"
            "[Mark done]",
        ),
    ]
    [(author, anonymous, tz_bob), (_, _, tz_dana)] = h.store.db.execute(
        "select r.author, r.anonymous, a.tz from reviews r join review_actions a on a.review_id = r.id "
        "order by a.position"
    ).fetchall()
    assert (author, anonymous, tz_bob, tz_dana) == ("alice", 0, "Europe/Berlin", "America/New_York")


def published_on(h: Harness) -> str:
    [(day,)] = h.store.db.execute("select published_on from reviews").fetchall()
    return day


async def test_up_to_ten_action_items_from_rows_and_lines(h):
    form = (await h.submit(await open_form(h), {FieldId.MORE_ROWS: ["yes"]})).form  # six rows
    rows = {}
    for n in range(1, 7):
        rows |= row(n, f"step {n} of the rollout plan", "bob", due(h, n + 2))
    lines = "\n".join(f"@carol {due(h, 20 + n)} write part {n} of the runbook" for n in range(1, 5))
    reply = await h.submit(form, {**GOOD, **rows, FieldId.LINES: lines})
    assert text_of(reply).startswith("Published.")
    assert h.count("review_actions") == 10

    form = (await h.submit(await open_form(h), {FieldId.MORE_ROWS: ["yes"]})).form
    before = counts(h)
    lines += f"\n@carol {due(h, 30)} one too many"
    reply = await h.submit(form, {**GOOD, **rows, FieldId.LINES: lines})
    assert text_of(reply) == json.dumps(
        {FieldId.LINES: "At most 10 action items in all; this review has 11."}
    )
    assert counts(h) == before


# --- every bad input: an error in the form, and nothing stored ----------------------------------
def _bad_inputs(h: Harness) -> list[tuple[dict, dict]]:
    past, far = due(h, -1), due(h, 800)
    return [
        ({Section.TITLE: ""}, {Section.TITLE: "Title cannot be empty."}),
        ({Section.HAPPENED: " \u200b "}, {Section.HAPPENED: "What happened cannot be empty."}),
        (
            {Section.IMPACT: None, Section.FACTORS: ""},
            {
                Section.IMPACT: "Impact cannot be empty.",
                Section.FACTORS: "Contributing factors cannot be empty.",
            },
        ),
        (
            {Section.FACTORS: "x" * 3001},
            {Section.FACTORS: "Contributing factors is 3,001 characters; keep it to 3,000 characters."},
        ),
        ({Section.TITLE: "t" * 151}, {Section.TITLE: "Title is 151 characters; keep it to 150 characters."}),
        (
            {Section.LEARNED: "half an emoji \ud83d"},
            {
                Section.LEARNED: "What we learned contains a broken character (part of an emoji?) that cannot be "
                "saved. Please retype it."
            },
        ),
        (
            row(1, "add a canary", "bob", past),
            {row_field(1, "due"): f"{past} has passed. Pick today or a later date."},
        ),
        (
            row(1, "add a canary", "bob", far),
            {row_field(1, "due"): f"{far} is more than two years away. Pick a nearer date."},
        ),
        (
            row(1, "add a canary", "bob", "2026-02-30"),
            {row_field(1, "due"): "Pick a date from the calendar (YYYY-MM-DD)."},
        ),
        (
            row(1, "add a canary", "buildbot", due(h, 3)),
            {row_field(1, "owner"): "Bots cannot own an action: pick the person who will do it."},
        ),
        (
            row(1, "add a canary", "nobody", due(h, 3)),
            {row_field(1, "owner"): "I could not find that person in this workspace."},
        ),
        (
            row(1, "add a canary", "gone", due(h, 3)),
            {row_field(1, "owner"): "I could not find that person in this workspace."},
        ),
        (
            {row_field(2, "what"): "half a row"},
            {row_field(2, "owner"): "Pick who will do it.", row_field(2, "due"): "Pick a due date."},
        ),
        (
            {row_field(1, "owner"): "bob"},
            {row_field(1, "what"): "Action 1 cannot be empty.", row_field(1, "due"): "Pick a due date."},
        ),
        (
            row(1, "a" * 301, "bob", due(h, 3)),
            {row_field(1, "what"): "Action 1 is 301 characters; keep it to 300 characters."},
        ),
        (
            row(1, "add a canary", "<@U1|x> y", due(h, 3)),
            {row_field(1, "owner"): "Pick the owner from the list."},
        ),
    ]


@pytest.mark.parametrize("case", range(16))
async def test_each_bad_answer_is_named_in_the_form_and_nothing_is_stored(h, case):
    answers, refused = _bad_inputs(h)[case]
    before = counts(h)
    reply = await write(h, **answers)
    assert isinstance(reply, FormErrors), text_of(reply)
    assert reply.errors == refused
    assert counts(h) == before


def _bad_lines(h: Harness) -> list[tuple[str, str]]:
    ok_due = due(h, 5)
    example = "e.g. @sam 2026-12-15 add a canary step"
    return [
        (f"bob {ok_due} add a canary", f"Line 1: start with the owner as an @mention, {example}"),
        (
            f"@nobody {ok_due} add a canary",
            "Line 1: @nobody is not someone I can find. Type @ and pick the person from the list, or use an "
            "action row above.",
        ),
        ("@bob add a canary", f"Line 1: after the owner, write the due date as YYYY-MM-DD, {example}"),
        (
            "@bob 15/12/2026 add a canary",
            f"Line 1: after the owner, write the due date as YYYY-MM-DD, {example}",
        ),
        ("@bob 2026-13-01 add a canary", "Line 1: 2026-13-01 is not a date."),
        (f"@bob {ok_due}", f"Line 1: say what will be done after the date, {example}"),
        (f"@bob {ok_due}   \u200b", f"Line 1: say what will be done after the date, {example}"),
        (
            f"@bob {ok_due} fine\n\n@carol {ok_due}",
            f"Line 3: say what will be done after the date, {example}",
        ),
        (f"@bob {ok_due} " + "a" * 301, "Line 1: The action is 301 characters; keep it to 300 characters."),
        (f"@bob {due(h, -2)} add a canary", f"Line 1: {due(h, -2)} has passed. Pick today or a later date."),
        (
            f"@buildbot {ok_due} add a canary",
            "Line 1: Bots cannot own an action: pick the person who will do it.",
        ),
        (
            f"@bob{ok_due} add a canary",
            f"Line 1: @bob{ok_due} is not someone I can find. Type @ and pick the person from the list, or use "
            "an action row above.",
        ),
        (
            "\n".join(f"@bob {ok_due} step {n}" for n in range(11)),
            "At most 10 action items; these lines have 11.",
        ),
        ("x" * 3001, "The action lines is 3,001 characters; keep it to 3,000 characters."),
    ]


@pytest.mark.parametrize("case", range(14))
async def test_a_malformed_action_line_gets_a_clear_error_and_nothing_is_stored(h, case):
    lines, refused = _bad_lines(h)[case]
    before = counts(h)
    reply = await write(h, **{FieldId.LINES: lines})
    assert isinstance(reply, FormErrors), text_of(reply)
    assert reply.errors == {FieldId.LINES: refused}
    assert counts(h) == before


async def test_hostile_text_is_kept_as_text(h):
    hostile = "<!channel> <@U0123> *bold* ```code``` \u202egnp.exe"
    reply = await write(h, **{Section.IMPACT: hostile + " for all 300 customers"})
    assert text_of(reply).startswith("Published.")
    [(impact,)] = h.store.db.execute("select impact from reviews").fetchall()
    assert (
        impact == "<!channel> <@U0123> *bold* ```code``` gnp.exe for all 300 customers"
    )  # direction mark gone


async def test_a_form_candor_did_not_write_is_refused(h):
    form = await open_form(h)
    for context in ("", "not json", json.dumps({"c": "team", "r": 99, "s": []}), json.dumps({"r": 3})):
        forged = Form(form.callback, form.title, form.submit, form.fields, form.intro, context)
        reply = await h.submit(forged, GOOD)
        assert reply == FormErrors(
            {Section.TITLE: "This form is out of date. Please close it and open it again."}
        )
    assert h.count("reviews") == 0


# --- the reviews channel ------------------------------------------------------------------------
async def test_without_a_reviews_channel_an_admin_chooses_one(tmp_path):
    h = reviews_harness(tmp_path, reviews_channel="")
    try:
        assert text_of(await h.command("review")) == (
            "Failure reviews are not set up yet: there is no reviews channel. Ask a Candor admin to run "
            "/review channel in the channel where reviews should be posted."
        )
        assert text_of(await h.command("review", "channel", channel="retros")) == (
            "Only Candor admins can choose the reviews channel."
        )
        assert h.count("review_channels") == 0
        h.people.outside.add("retros")
        assert text_of(await h.command("review", "channel", user="boss", channel="retros")) == (
            "Failure reviews are now posted in #retros.\n"
            "The overdue digest goes out here every Monday at 09:00 your time.\n"
            "Candor cannot post here yet: type /invite @candor there."
        )
        assert "It is posted in #retros" in intro(await open_form(h))
        assert text_of(await h.command("review", "channel now", user="boss")) == (
            "/review channel takes nothing after it.\nType /review help for the rest."
        )
    finally:
        h.close()


async def test_the_seeded_channel_never_replaces_an_admins_choice(h):
    assert "It is posted in #reviews" in intro(await open_form(h))
    await h.command("review", "channel", user="boss", channel="retros")
    assert "It is posted in #retros" in intro(await open_form(h))  # CANDOR_REVIEWS_CHANNEL not again
    [(tz,)] = h.store.db.execute("select tz from review_channels").fetchall()
    assert tz == "UTC"  # boss has no timezone in the directory


async def test_a_review_goes_to_the_channel_chosen_when_it_was_sent(h):
    form = await open_form(h)
    await h.command("review", "channel", user="boss", channel="retros")
    await h.submit(form, GOOD)
    assert [where for where, _ in h.posts()] == ["#retros"]


# --- marking actions done -----------------------------------------------------------------------
async def published_with_two_actions(h: Harness) -> tuple[int, int]:
    reply = await write(
        h, **row(1, "add a canary step", "bob", due(h, 30)), **row(2, "fix the alert", "carol", due(h, 9))
    )
    assert text_of(reply).startswith("Published."), text_of(reply)
    first, second = action_ids(h)
    return first, second


async def test_the_owner_marks_an_action_done_and_the_post_and_message_say_so(h):
    canary, _ = await published_with_two_actions(h)
    reply = await h.click(ActionId.DONE, str(canary), user="bob", channel="Dbob")
    assert text_of(reply) == "✅ Marked done: add a canary step. Thank you for following through."
    posts = dict(h.posts())
    assert "Action items · 1 of 2 done\n✅ add a canary step — @bob" in posts["#reviews"]
    assert "☐ fix the alert — @carol" in posts["#reviews"]
    assert posts["@bob"] == (
        "✅ Done: an action from the failure review Checkout errors after Tuesday's release by @alice\n"
        "> add a canary step"
    )  # and its button is gone
    assert text_of(await h.command("review", "list")).endswith("actions 1/2 done")

    before = counts(h)  # a double click, or the same from another device, changes nothing
    again = await h.click(ActionId.DONE, str(canary), user="bob", channel="Dbob")
    assert text_of(again) == "This action is already done: add a canary step. Nothing changed."
    assert counts(h) == before


async def test_only_the_owner_or_an_admin_can_mark_it_done(h):
    _, alert = await published_with_two_actions(h)
    before = counts(h)
    reply = await h.click(ActionId.DONE, str(alert), user="alice")
    assert text_of(reply) == "Only @carol (its owner) or a Candor admin can mark this action done."
    assert counts(h) == before
    assert text_of(await h.click(ActionId.DONE, str(alert), user="boss")).startswith(
        "✅ Marked done: fix the alert"
    )
    [(done_by,)] = h.store.db.execute("select done_by from review_actions where id = ?", [alert]).fetchall()
    assert done_by == "boss"


@pytest.mark.parametrize("value", ["", "12x", "9" * 40, "123"])
async def test_a_button_for_no_action_says_so(h, value):
    await published_with_two_actions(h)
    before = counts(h)
    assert text_of(await h.click(ActionId.DONE, value, user="bob")) == "This action no longer exists."
    assert counts(h) == before


# --- lists, figures, help -----------------------------------------------------------------------
async def test_review_actions_lists_the_callers_open_actions_with_their_buttons(h):
    assert text_of(await h.command("review", "actions", user="bob")) == (
        "You have no open actions from failure reviews. 🎉"
    )
    canary, _ = await published_with_two_actions(h)
    number = review_id(h)
    reply = await h.command("review", "actions", user="bob")
    assert text_of(reply) == (
        "Your open actions (1)\n"
        f"☐ add a canary step · due {shown(due(h, 30))} · review #{number} Checkout errors after Tuesday's release\n"
        "[Mark done]"
    )
    await h.click(ActionId.DONE, str(canary), user="bob")
    assert "no open actions" in text_of(await h.command("review", "actions", user="bob"))


async def test_review_list_shows_the_channels_recent_reviews_with_their_follow_through(h):
    await published_with_two_actions(h)
    number = review_id(h)
    expected = (
        "Recent failure reviews\n"
        f"#{number} Checkout errors after Tuesday's release · {shown(published_on(h))} · quality 100 · "
        "actions 0/2 done"
    )
    assert text_of(await h.command("review", "list", channel="team")) == expected  # where it was written
    assert text_of(await h.command("review", "list", channel="reviews")) == expected  # where it is posted
    assert text_of(await h.command("review", "list", channel="elsewhere")) == (
        "No failure reviews from this channel yet. /review writes one."
    )


async def test_review_stats_gives_team_figures_for_the_last_90_days(h):
    assert text_of(await h.command("review", "stats")) == (
        "Failure reviews in this channel, last 90 days\nNone yet. /review writes one."
    )
    canary, alert = await published_with_two_actions(h)
    await write(h, **{Section.NEXT_TIME: ""})  # a section (6) and the action items (30) fewer: 64
    await h.click(ActionId.DONE, str(canary), user="bob")
    h.clock.advance(10 * 86400)  # the alert's due date (9 days) has passed, undone; the canary's not yet
    assert text_of(await h.command("review", "stats")) == (
        "Failure reviews in this channel, last 90 days\n"
        "Reviews: 2.\n"
        "Mean quality index: 82/100 (by 30 days, oldest first: – → – → 82).\n"
        "Actions done on time: 0 of 1 that came due (0%).\n"
        "Team figures only: never per person."
    )
    await h.click(ActionId.DONE, str(alert), user="carol")  # late: still not on time
    assert "Actions done on time: 0 of 1" in text_of(await h.command("review", "stats"))


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("list all", "/review list takes nothing after it.\nType /review help for the rest."),
        ("stats @bob", "/review stats takes nothing after it.\nType /review help for the rest."),
        ("actions mine", "/review actions takes nothing after it.\nType /review help for the rest."),
        ("frobnicate now", "I don't know /review frobnicate.\nType /review help for what I can do."),
        ("x" * 4001, "That is too long for /review. Use /review on its own to open the form."),
        (
            "edit",
            "/review edit <code> opens your anonymous review with its case code; /review edit <number> opens "
            "a review you wrote under your name.",
        ),
    ],
)
async def test_a_command_it_cannot_use_gets_a_clear_answer_and_changes_nothing(h, text, answer):
    before = counts(h)
    assert text_of(await h.command("review", text)) == answer
    assert counts(h) == before


async def test_review_help_explains_the_practice_in_two_short_paragraphs(h):
    for text in ("help", "?", "HELP"):
        lines = text_of(await h.command("review", text)).split("\n")
        assert lines[0] == "Blameless failure reviews" and len(lines) == 3
        assert "contributing factors (process, tools, clarity of expectations, not people)" in lines[1]
        assert "Mark done" in lines[2] and "/review actions" in lines[2] and "/review stats" in lines[2]
        assert all(len(p) < 800 for p in lines[1:])


# --- a named author edits their review, or follows it up ----------------------------------------
async def test_the_author_edits_a_named_review_and_adds_a_follow_up(h):
    await published_with_two_actions(h)
    number = review_id(h)
    assert text_of(await h.command("review", f"edit {number}", user="bob")) == (
        f"Only the author of review #{number} or a Candor admin can edit it."
    )
    form = (await h.command("review", f"edit {number}")).form
    assert form is not None and form.callback == FormId.EDIT
    assert {f.id: f.initial for f in form.fields}[Section.IMPACT] == GOOD[Section.IMPACT]
    reply = await h.submit(
        form,
        {
            Section.IMPACT: "About 320 customers could not pay for 40 minutes.",
            FieldId.FOLLOW_UP: "The canary is live.",
        },
    )
    assert text_of(reply) == "Saved: your changes and your follow-up will appear in a moment."
    posts = h.posts()
    assert "> About 320 customers could not pay for 40 minutes." in posts[0][1]
    assert posts[-1] == ("#reviews", "Follow-up from @alice\n> The canary is live.")
    [(reply_to,)] = h.store.db.execute("select reply_to from outbox order by id desc limit 1").fetchall()
    [(post,)] = h.store.db.execute("select post_outbox from reviews").fetchall()
    assert reply_to == post  # in the review's thread
    unchanged = (await h.command("review", f"edit {number}")).form
    assert text_of(await h.submit(unchanged, {})) == "Nothing was changed."
    assert text_of(await h.command("review", "edit 99")) == "There is no review #99."


@pytest.mark.parametrize(
    ("answers", "refused"),
    [
        ({Section.HAPPENED: ""}, {Section.HAPPENED: "What happened cannot be empty."}),
        (
            {FieldId.FOLLOW_UP: "f" * 3001},
            {FieldId.FOLLOW_UP: "The follow-up is 3,001 characters; keep it to 3,000 characters."},
        ),
        (
            {Section.TITLE: "\ud800"},
            {
                Section.TITLE: "Title contains a broken character (part of an emoji?) that cannot be saved. Please retype it."
            },
        ),
    ],
)
async def test_an_edit_with_a_bad_answer_is_refused_in_the_form_and_nothing_changes(h, answers, refused):
    await published_with_two_actions(h)
    form = (await h.command("review", f"edit {review_id(h)}")).form
    before = (counts(h), h.posts())
    assert await h.submit(form, answers) == FormErrors(refused)
    assert (counts(h), h.posts()) == before


async def test_a_form_shown_again_keeps_only_what_a_picker_can_show(h):
    form = await open_form(h)
    typed = {
        row_field(1, "due"): "2026-02-30",
        row_field(1, "owner"): "<@U1> x",
        Section.TITLE: "t" * 500,
        FieldId.MORE_ROWS: ["yes"],
    }
    more = (await h.submit(form, typed)).form
    initial = {f.id: f.initial for f in more.fields}
    assert initial[row_field(1, "due")] is None and initial[row_field(1, "owner")] is None
    assert initial[Section.TITLE] == "t" * 150  # cut to what the field takes


async def test_a_directory_that_does_not_answer_keeps_the_form_and_stores_nothing(h):
    async def unreachable(user):
        raise TimeoutError

    form = await open_form(h)
    h.people.lookup = unreachable  # type: ignore[method-assign]
    before = counts(h)
    reply = await h.submit(form, {**GOOD, **row(1, "add a canary", "bob", due(h, 9))})
    assert reply == FormErrors(
        {
            row_field(1, "owner"): "I could not check this person just now. Nothing is published yet: please "
            "send the form again in a moment."
        }
    )
    assert counts(h) == before
