"""Staged escalation through the harness: the public rubric, a case through every stage with each
refusal (skip, too early, not yet ready, wrong person), plan agreements, closing kindly."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from handlers.agreements.ids import ActionId as AgreeAction
from handlers.catalog import load_catalog
from handlers.escalation.ids import ActionId
from tests.support.clock import FakeClock
from tests.support.harness import Harness, text_of
from tests.test_agreements import answer_review

BERLIN = ZoneInfo("Europe/Berlin")
WED_10_BERLIN = datetime(2026, 6, 10, 10, 0, tzinfo=BERLIN).timestamp()
SEEN = "Missed the last three stand-ups without a word"
IMPACT = "The team planned around work nobody could update"
MANAGERS = frozenset({"mara"})  # CANDOR_MANAGERS: only managers and admins open a case

RUBRIC = (
    "How escalation works here\n"
    "Accountability here is staged and public: the same four steps for everyone, in this order, and "
    "coaching always comes before any formal step. The person is told at every step; there are no secret "
    "stages.\n"
    "1. Observation · at least 3 days\n"
    "A manager noticed a specific behaviour and wrote down what was seen, when, and its impact: behaviour, "
    "not personality. Nothing formal has happened.\n"
    "Before the next stage: At least one observed behaviour is written down, with when it happened and its "
    "impact.\n"
    "2. Coaching · at least 14 days\n"
    "Private coaching conversations and clear agreements (Candor's agree), reviewed together when they "
    "are missed. Coaching notes stay private; only their dates count here.\n"
    "Before the next stage: At least one coaching conversation at this stage. At least one agreement "
    "between you that was missed and reviewed together.\n"
    "3. Documented plan · at least 30 days\n"
    "A set of agreements with dates, each accepted by the person, that says what success looks like. "
    "Misses are reviewed together, as always.\n"
    "Before the next stage: The plan has at least one agreement the person accepted. Plan agreements were "
    "missed, and every miss was reviewed together.\n"
    "4. Corrective action · no minimum time\n"
    "A formal consequence, decided with HR under the company's policy, after coaching and a documented "
    "plan did not work."
)


@pytest.fixture
def h(tmp_path):
    harness = Harness(tmp_path, FakeClock(WED_10_BERLIN), admins=frozenset({"root"}), managers=MANAGERS)
    for user in ("mara", "root"):
        harness.people.add(user, tz="Europe/Berlin")
    harness.people.add("helper", is_bot=True)
    yield harness
    harness.close()


async def say(h: Harness, text: str, user: str = "mara") -> str:
    return text_of(await h.command("escalation", text, user=user))


async def open_case(h: Harness, about: str = "bob", by: str = "mara") -> str:
    form = (await h.command("escalation", f"open @{about}", user=by)).form
    assert form is not None
    return text_of(await h.submit(form, {"seen": SEEN, "impact": IMPACT}, user=by))


def until(h: Harness, iso_local: str) -> None:
    h.clock.t = datetime.fromisoformat(iso_local).replace(tzinfo=BERLIN).timestamp()


def counts(h: Harness) -> tuple[int, ...]:
    tables = ("escalation_cases", "escalation_steps", "escalation_observations", "outbox", "agreements")
    return tuple(h.count(t) for t in tables)


async def test_the_rubric_is_public(h):
    assert (
        await say(h, "rubric", user="carol")
        == RUBRIC + "\nNo stage is skipped. /escalation help shows the commands."
    )


async def test_only_managers_and_admins_open_a_case_even_with_a_kept_or_forged_form(h):
    h.people.add("carol", tz="Europe/Berlin")
    refused = await h.command("escalation", "open @bob", user="carol")
    assert refused.form is None
    assert text_of(refused).startswith(
        "Only managers (CANDOR_MANAGERS) and Candor admins open escalation cases: it is a formal step."
    )
    assert "/escalation rubric shows how the path works." in text_of(refused)
    # A form opened by a manager and submitted by someone else (a kept or forged form) stores nothing.
    form = (await h.command("escalation", "open @bob", user="mara")).form
    assert form is not None
    before = counts(h)
    again = await h.submit(form, {"seen": SEEN, "impact": IMPACT}, user="carol")
    assert "Only managers (CANDOR_MANAGERS) and Candor admins" in json.loads(text_of(again))["seen"]
    assert counts(h) == before and h.posts() == []
    # A manager CANDOR_MANAGERS names, and an admin, may.
    assert await open_case(h, by="mara") == "Case #1 is open at stage 1. @bob is told now, with the rubric."
    assert await open_case(h, by="root") == "Case #2 is open at stage 1. @bob is told now, with the rubric."


async def test_a_case_through_every_stage_with_each_refusal(h):
    form = (await h.command("escalation", "open @bob", user="mara")).form
    assert [(f.id, f.kind, f.initial) for f in form.fields] == [
        ("seen", "multiline", None),
        ("seen_on", "date", "2026-06-10"),
        ("impact", "multiline", None),
    ]
    assert "Behaviour, not personality" in form.fields[0].hint
    reply = await h.submit(form, {"seen": SEEN, "seen_on": "2026-06-08", "impact": IMPACT}, user="mara")
    assert text_of(reply) == "Case #1 is open at stage 1. @bob is told now, with the rubric."
    [(where, told)] = h.posts()
    assert where == "@bob"
    assert told.startswith(
        "📋 @mara opened an escalation case about you, #1. It starts at stage 1 of 4: Observation.\n"
        "What was seen · Mon 08 Jun 2026\n"
        f"> {SEEN}\n"
        "Its impact\n"
        f"> {IMPACT}\n"
        "What this stage means: A manager noticed a specific behaviour"
    )
    assert "What happens next: Your manager will talk it through with you." in told
    assert "The whole path, the same for everyone\n1. Observation · at least 3 days" in told
    assert "4. Corrective action · no minimum time" in told
    assert told.endswith("Talk to @mara about it. /escalation show 1 shows the case at any time.")

    # Observation: no skipping, not too early, and only the manager.
    before = counts(h)
    assert await say(h, "move 1 plan") == (
        "Candor does not skip stages: case #1 is at Observation, so it can move to Coaching next, not to "
        "Documented plan.\nCoaching always comes before any formal step."
    )
    assert await say(h, "move 1 corrective action") == (
        "Candor does not skip stages: case #1 is at Observation, so it can move to Coaching next, not to "
        "Corrective action.\nCoaching always comes before any formal step."
    )
    assert await say(h, "move 1") == (
        "Too early: case #1 has been at Observation since Wed 10 Jun 2026, and a case stays there at least "
        "3 days. It can move on from Sat 13 Jun 2026, 10:00 (Europe/Berlin)."
    )
    assert (
        await say(h, "move 1", user="bob") == "Only the manager who opened case #1 can move it or add to it."
    )
    assert (
        await say(h, "move 1", user="root") == "Only the manager who opened case #1 can move it or add to it."
    )
    assert await say(h, "move 1", user="carol") == "I cannot find case #1 among the cases you can see."
    assert text_of(await h.click(ActionId.MOVE, "1:observation", user="bob")) == (
        "Only the manager who opened case #1 can move it or add to it."
    )
    # A coaching note before the coaching stage does not count for it.
    form = (await h.command("coach", "@bob", user="mara")).form
    await h.submit(form, {"talked": "An early chat"}, user="mara")
    assert counts(h) == before

    until(h, "2026-06-13T10:00")
    assert text_of(await h.click(ActionId.MOVE, "1:observation", user="mara")) == (
        "Case #1 moved to Coaching. @bob is told now."
    )
    assert (
        text_of(await h.click(ActionId.MOVE, "1:observation", user="mara"))
        == "Case #1 is already at Coaching."
    )
    told = h.posts()[-1]
    assert told[0] == "@bob" and told[1].startswith(
        "📋 @mara moved case #1 about you to stage 2 of 4: Coaching.\nWhat this stage means: Private coaching"
    )
    assert len([w for w, t in h.posts() if t.startswith("📋")]) == 2

    # Coaching: at least 14 days, a coaching conversation and an agreement missed and reviewed.
    until(h, "2026-06-27T09:59")
    assert (await say(h, "move 1")).startswith(
        "Too early: case #1 has been at Coaching since Sat 13 Jun 2026"
    )
    until(h, "2026-06-27T10:00")
    assert await say(h, "move 1 documented plan") == (
        "Not yet: before Documented plan, the rubric asks for:\n"
        "✗ At least one coaching conversation at this stage. (now 0, needs 1)\n"
        "✗ At least one agreement between you that was missed and reviewed together. (now 0, needs 1)"
    )
    form = (await h.command("coach", "@bob", user="mara")).form
    await h.submit(form, {"talked": "What gets in the way in the mornings"}, user="mara")
    form = (await h.command("agree", "@bob", user="mara")).form
    await h.submit(
        form,
        {
            "what": "Post a stand-up note",
            "done_means": "In #team",
            "due_date": "2026-06-29",
            "due_time": "10:00",
        },
        user="mara",
    )
    await h.click(AgreeAction.ACCEPT, "1:1", user="bob")
    assert (await say(h, "move 1")).startswith(
        "Not yet: before Documented plan, the rubric asks for:\n✓ At least"
    )
    until(h, "2026-06-29T10:00")
    await h.run_jobs()  # missed: the review
    await answer_review(h, 1, "bob")
    assert "✗ At least one agreement between you" in await say(h, "move 1")
    await answer_review(h, 1, "mara")
    record = await say(h, "show 1", user="bob")
    assert (
        "Coaching conversations since the case reached coaching: 1 (Sat 27 Jun 2026). The notes are private"
        in record
    )
    assert "What gets in the way" not in record and "An early chat" not in record
    assert await say(h, "move 1") == "Case #1 moved to Documented plan. @bob is told now."

    # The documented plan: agreements with dates, accepted by the person.
    assert text_of(await h.click(ActionId.PLAN, "1", user="bob")) == (
        "Only the manager who opened case #1 can move it or add to it."
    )
    form = (await h.click(ActionId.PLAN, "1", user="mara")).form
    assert form.fields[0].initial == "bob" and "Part of the documented plan of escalation case #1." in str(
        form.intro
    )
    refused = await h.submit(
        form,
        {"person": "carol", "what": "x", "done_means": "y", "due_date": "2026-07-03", "due_time": "17:00"},
        user="mara",
    )
    assert refused.errors == {"person": "A plan agreement of case #1 is with the person the case is about."}
    await h.submit(
        form,
        {
            "what": "Stand-up notes every day",
            "done_means": "Five in #team",
            "due_date": "2026-07-03",
            "due_time": "17:00",
        },
        user="mara",
    )
    await h.click(AgreeAction.ACCEPT, "2:1", user="bob")
    form = (await h.click(ActionId.PLAN, "1", user="mara")).form
    plan = {
        "what": "Say so by 09:30 when late",
        "done_means": "Told",
        "due_date": "2026-07-10",
        "due_time": "09:30",
    }
    await h.submit(form, plan, user="mara")
    await h.click(AgreeAction.ACCEPT, "3:1", user="bob")
    assert h.store.db.execute("select id, case_id from agreements where id > 1").fetchall() == [
        (2, 1),
        (3, 1),
    ]
    until(h, "2026-07-29T09:59")
    await h.run_jobs()  # the plan agreement was missed
    assert (await say(h, "move 1")).startswith(
        "Too early: case #1 has been at Documented plan since Mon 29 Jun 2026"
    )
    until(h, "2026-07-29T10:00")
    assert await say(h, "move 1") == (
        "Not yet: before Corrective action, the rubric asks for:\n"
        "✓ The plan has at least one agreement the person accepted. (now 2, needs 1)\n"
        "✗ Plan agreements were missed, and every miss was reviewed together. (now 0, needs 1)"
    )
    await answer_review(h, 2, "bob")
    await answer_review(h, 2, "mara")
    assert (await say(h, "move 1")).endswith(  # one miss reviewed, the other still waiting for its review
        "✗ Plan agreements were missed, and every miss was reviewed together. (now 0, needs 1)"
    )
    await answer_review(h, 3, "mara")
    await answer_review(h, 3, "bob")
    record = await say(h, "show 1")
    assert (
        "The documented plan\n#2 Stand-up notes every day · due Fri 03 Jul 2026, 17:00 · reviewed" in record
    )
    assert record.endswith("[Move to Corrective action]  [Add a plan agreement]  [Close the case]")
    assert await say(h, "move 1") == "Case #1 moved to Corrective action. @bob is told now."

    # Corrective action is the last stage; the person can see the whole record; an admin closes it.
    assert (
        await say(h, "move 1")
        == "Case #1 is at Corrective action, the last stage: it can only be closed now."
    )
    assert (await say(h, "show 1", user="root")).endswith("[Close the case]")
    assert not (await say(h, "show 1", user="bob")).endswith("]")  # the person has no buttons
    assert text_of(await h.click(ActionId.CLOSE, "1", user="bob")) == (
        "Only the manager who opened case #1, or a Candor admin, can close it."
    )
    form = (await h.click(ActionId.CLOSE, "1", user="root")).form
    assert (
        text_of(await h.submit(form, {"outcome": "closed"}, user="root"))
        == "Case #1 is closed. @bob is told."
    )
    assert h.posts()[-1] == (
        "@bob",
        "📋 @root closed case #1 about you.\nThis case is closed. Nothing further follows from it.",
    )
    steps = h.store.db.execute("select kind, stage, by_user from escalation_steps order by id").fetchall()
    assert steps == [
        ("opened", "observation", "mara"),
        ("moved", "coaching", "mara"),
        ("moved", "plan", "mara"),
        ("moved", "corrective", "mara"),
        ("closed", "corrective", "root"),
    ]
    told = [t.split("\n")[0] for w, t in h.posts() if w == "@bob" and t.startswith("📋")]
    assert told == [
        "📋 @mara opened an escalation case about you, #1. It starts at stage 1 of 4: Observation.",
        "📋 @mara moved case #1 about you to stage 2 of 4: Coaching.",
        "📋 @mara moved case #1 about you to stage 3 of 4: Documented plan.",
        "📋 @mara moved case #1 about you to stage 4 of 4: Corrective action.",
        "📋 @root closed case #1 about you.",
    ]


async def test_closing_as_resolved_says_so_kindly(h):
    await open_case(h)
    assert (
        text_of(await h.click(ActionId.CLOSE, "1", user="carol"))
        == "I cannot find case #1 among the cases you can see."
    )
    form = (await h.command("escalation", "close 1", user="mara")).form
    assert [(f.id, f.initial) for f in form.fields] == [("outcome", "resolved"), ("note", None)]
    reply = await h.submit(form, {"note": "Thank you for turning the mornings around."}, user="mara")
    assert text_of(reply) == "Case #1 is closed as resolved. @bob is told."
    assert h.posts()[-1] == (
        "@bob",
        "🌱 @mara closed case #1 about you.\n"
        "This case is closed as resolved. Thank you for the work you put into it; nothing further follows "
        "from it.\n"
        "> Thank you for turning the mornings around.",
    )
    before = counts(h)
    assert text_of(await h.submit(form, {}, user="mara")) == "Case #1 is already closed."  # sent twice
    assert text_of(await h.click(ActionId.CLOSE, "1", user="mara")) == "Case #1 is already closed."
    assert await say(h, "move 1") == "Case #1 is closed."
    assert text_of(await h.click(ActionId.MOVE, "1:observation", user="mara")) == "Case #1 is closed."
    assert counts(h) == before
    # A new case can be opened once the old one is closed.
    assert (await open_case(h)).startswith("Case #2 is open")


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("open @mara", "A case is about someone else."),
        ("open @helper", "Escalation is about people; a bot has no case."),
        ("open @bob @carol", "Say who the case is about, with one @mention: /escalation open @alex."),
        ("open bob", "Say who the case is about, with one @mention: /escalation open @alex."),
        ("open @bob is lazy", "Say who the case is about, with one @mention: /escalation open @alex."),
        ("open", "Say who the case is about, with one @mention: /escalation open @alex."),
        ("show", "Say which case, by its number: /escalation show 7."),
        ("move", "Say which case, by its number: /escalation move 7."),
        ("show 7", "I cannot find case #7 among the cases you can see."),
        ("show seven", "I cannot find case #seven among the cases you can see."),
        ("demote @bob", "'demote' is not something /escalation does.\n/escalation help shows what it does."),
        ("x" * 4001, "That is too long to read as a command. /escalation help shows what it takes."),
    ],
)
async def test_commands_that_cannot_be_done_say_why(h, text, answer):
    before = counts(h)
    assert await say(h, text) == answer
    assert counts(h) == before


async def test_one_open_case_per_manager_and_person_and_the_forms_refusals(h):
    form = (await h.command("escalation", "open @bob", user="mara")).form
    good = {"seen": SEEN, "seen_on": "2026-06-10", "impact": IMPACT}
    for values, errors in [
        ({"seen": " "}, {"seen": "What was seen cannot be empty."}),
        ({"impact": "i" * 2001}, {"impact": "The impact is 2,001 characters; keep it to 2,000 characters."}),
        (
            {"seen_on": "2026-06-11"},
            {"seen_on": "An observation is of something that already happened: choose today or earlier."},
        ),
        ({"seen_on": "2025-06-09"}, {"seen_on": "Choose a day within the last 365 days."}),
        ({"seen_on": "yesterday"}, {"seen_on": "Give the date as YYYY-MM-DD, e.g. 2026-12-15."}),
    ]:
        reply = await h.submit(form, good | values, user="mara")
        assert reply.errors == errors
    assert counts(h) == (0, 0, 0, 0, 0)
    forged = await h.submit(replace(form, context='{"n":"z","to":"mara","tz":"UTC"}'), good, user="mara")
    assert forged.errors == {"seen": "A case is about someone else."}
    second_form = (
        await h.command("escalation", "open @bob", user="mara")
    ).form  # opened before either is sent
    assert text_of(await h.submit(form, good, user="mara")).startswith("Case #1 is open")
    assert (await h.submit(second_form, good, user="mara")).errors == {
        "seen": "You already have an open case about them: #1."
    }
    assert text_of(await h.submit(form, good, user="mara")) == "That case is already open."  # sent twice
    assert (
        await say(h, "open @bob")
        == "You already have an open case about @bob: #1. Go on with it, or close it first."
    )
    again = (await h.command("escalation", "open @carol", user="mara")).form
    assert text_of(await h.submit(again, good, user="mara")).startswith("Case #2 is open")
    assert (await open_case(h, by="root")).startswith("Case #3 is open")  # another manager's own case


async def test_a_retried_move_command_moves_once(h):
    import shutil

    from bot.config import REPO_ROOT

    # A rubric where a case could move twice at once: only a retry must not do that.
    content = h.settings.db_path.parent / "content"
    shutil.copytree(
        REPO_ROOT / "data", content, ignore=shutil.ignore_patterns("*.py", "__pycache__", "*.db*")
    )
    rubric = (content / "escalation.yml").read_text().replace("min_days: 3", "min_days: 0")
    rubric = rubric.replace("min_days: 14", "min_days: 0").replace(
        "check: coaching_notes", "check: observations"
    )
    rubric = rubric.replace("check: reviewed_agreements", "check: observations")
    (content / "escalation.yml").write_text(rubric)
    h.services = replace(h.services, catalog=load_catalog(content))
    await open_case(h)
    first = await h.command("escalation", "move 1", user="mara", delivery_id="retried")
    again = await h.command("escalation", "move 1", user="mara", delivery_id="retried")
    assert text_of(first) == "Case #1 moved to Coaching. @bob is told now."
    assert text_of(again) == "Case #1 is already at Coaching."
    assert h.store.db.execute("select stage from escalation_cases").fetchone() == ("coaching",)
    assert h.count("escalation_steps") == 2
    assert (
        text_of(await h.command("escalation", "move 1", user="mara"))
        == "Case #1 moved to Documented plan. @bob is told now."
    )


async def test_who_sees_which_cases(h):
    await open_case(h)
    await open_case(h, about="carol", by="root")
    assert await say(h, "list", user="mara") == (
        "Cases you manage\n#1 about @bob · manager @mara · Observation · opened Wed 10 Jun 2026\n"
        "/escalation show 7 shows one case's record."
    )
    assert await say(h, "list", user="bob") == (
        "Cases about you\n#1 about @bob · manager @mara · Observation · opened Wed 10 Jun 2026\n"
        "/escalation show 7 shows one case's record."
    )
    assert await say(h, "list", user="root") == (
        "Cases you manage\n#2 about @carol · manager @root · Observation · opened Wed 10 Jun 2026\n"
        "Every other open case (you are an admin)\n"
        "#1 about @bob · manager @mara · Observation · opened Wed 10 Jun 2026\n"
        "/escalation show 7 shows one case's record."
    )
    assert await say(h, "list", user="alice") == (
        "There are no escalation cases for you to see.\n/escalation rubric shows how they work."
    )
    assert await say(h, "show 1", user="carol") == "I cannot find case #1 among the cases you can see."
    assert (await say(h, "show 1", user="root")).startswith(
        "Escalation case #1 about @bob · manager @mara · open"
    )


async def test_buttons_with_values_that_are_not_cases(h):
    await open_case(h)
    before = counts(h)
    for value in ("", "x", "1", "1:promoted", "2:observation", "9" * 13 + ":observation"):
        reply = text_of(await h.click(ActionId.MOVE, value, user="mara"))
        assert reply.startswith("I cannot find case #"), value
    for action in (ActionId.CLOSE, ActionId.PLAN):
        assert (
            text_of(await h.click(action, "x", user="mara"))
            == "I cannot find case #x among the cases you can see."
        )
    assert text_of(await h.click(ActionId.PLAN, "1", user="mara")) == (
        "Plan agreements are made while case #1 is at its documented plan stage."
    )
    assert counts(h) == before


async def test_a_plan_agreement_only_for_the_cases_manager_at_its_plan_stage(h):
    await open_case(h)
    form = (await h.command("agree", "@bob", user="mara")).form
    values = {"what": "x", "done_means": "y", "due_date": "2026-07-03", "due_time": "17:00"}
    for user, context in [
        ("mara", '{"n":"a","tz":"UTC","case":1}'),
        ("carol", '{"n":"b","tz":"UTC","case":1}'),
    ]:
        reply = await h.submit(replace(form, context=context), values, user=user)
        assert reply.errors == {
            "person": "Escalation case #1 is not at its documented plan stage with you as its manager."
        }
    assert h.count("agreements") == 0


def test_the_rubric_file_is_checked_when_candor_starts(tmp_path):
    import shutil

    from bot.config import REPO_ROOT
    from handlers.catalog import ESCALATION_CHECKS, ESCALATION_STAGES, CatalogError, load_catalog
    from handlers.escalation.ids import Check, Stage

    assert tuple(Stage) == ESCALATION_STAGES and set(Check) == ESCALATION_CHECKS
    content = tmp_path / "content"
    shutil.copytree(
        REPO_ROOT / "data", content, ignore=shutil.ignore_patterns("*.py", "__pycache__", "*.db*")
    )
    shipped = (content / "escalation.yml").read_text()
    for broken, message in [
        (
            shipped.replace("slug: coaching", "slug: chat"),
            "stages must be observation, coaching, plan, corrective",
        ),
        (
            shipped.replace("min_days: 14", "min_days: -1"),
            "stage 'coaching': min_days must be a whole number",
        ),
        (
            shipped.replace("check: coaching_notes", "check: vibes"),
            "stage 'coaching': each before_next needs a check",
        ),
        (shipped.replace("count: 1", "count: 0", 1), "stage 'observation': count must be 1 to 100"),
        (shipped.replace("  resolved: >-", "  fixed: >-"), "closing.resolved needs text"),
    ]:
        (content / "escalation.yml").write_text(broken)
        with pytest.raises(CatalogError, match=message):
            load_catalog(content)


async def test_a_rubric_edited_in_the_data_file_is_the_one_enforced_and_shown(tmp_path):
    import shutil

    from bot.config import REPO_ROOT

    content = tmp_path / "content"
    shutil.copytree(
        REPO_ROOT / "data", content, ignore=shutil.ignore_patterns("*.py", "__pycache__", "*.db*")
    )
    edited = (content / "escalation.yml").read_text().replace("min_days: 3", "min_days: 10")
    (content / "escalation.yml").write_text(edited)
    h = Harness(tmp_path, FakeClock(WED_10_BERLIN), data_dir=content, managers=MANAGERS)
    h.people.add("mara", tz="Europe/Berlin")
    try:
        assert "1. Observation · at least 10 days" in await say(h, "rubric")
        await open_case(h)
        until(h, "2026-06-13T10:00")
        assert (await say(h, "move 1")).endswith(
            "It can move on from Sat 20 Jun 2026, 10:00 (Europe/Berlin)."
        )
    finally:
        h.close()


async def test_a_move_decided_on_a_case_another_process_moved_meanwhile_changes_nothing(tmp_path):
    from handlers.context import Action
    from handlers.escalation import flows
    from handlers.escalation import store as cases
    from handlers.escalation.ids import Stage
    from tests.support.harness import PLATFORM, WORKSPACE

    first = Harness(tmp_path, FakeClock(WED_10_BERLIN), managers=MANAGERS)
    second = Harness(tmp_path, FakeClock(WED_10_BERLIN), managers=MANAGERS)
    try:
        first.people.add("mara")
        second.people.add("mara")
        await open_case(first)
        for h in (first, second):
            until(h, "2026-06-13T10:00")
        stale = cases.case(second.store.db, case_id=1, platform=PLATFORM, workspace=WORKSPACE)
        await first.click(ActionId.MOVE, "1:observation", user="mara")
        click = Action(PLATFORM, WORKSPACE, "mara", "team", ActionId.MOVE, "1:observation")
        assert text_of(await flows.move(click, second.services, stale, None, Stage.OBSERVATION)) == (
            "Case #1 is already at Coaching."
        )
        assert first.count("escalation_steps") == 2
        assert len([t for _, t in first.posts() if "moved case #1" in t]) == 1
    finally:
        first.close()
        second.close()


async def test_a_refused_close_changes_nothing(h):
    await open_case(h)
    form = (await h.click(ActionId.CLOSE, "1", user="mara")).form
    before = counts(h)
    assert (await h.submit(form, {"outcome": "fired"}, user="mara")).errors == {
        "outcome": "Choose how the case ends."
    }
    assert (await h.submit(form, {"note": "n" * 2001}, user="mara")).errors == {
        "note": "The note is 2,001 characters; keep it to 2,000 characters."
    }
    assert (await h.submit(form, {}, user="carol")).errors == {
        "note": "This form is out of date. Please start again."
    }
    assert (await h.submit(replace(form, context="{}"), {}, user="mara")).errors == {
        "note": "This form is out of date. Please start again."
    }
    assert counts(h) == before
    assert h.store.db.execute("select status from escalation_cases").fetchone() == ("open",)
