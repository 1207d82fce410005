"""The pulse survey's rules, called the way an adapter calls them: a stub directory, no HTTP.

Each test reads as a transcript: who scheduled, who answered, what was posted. The Slack path and
the anonymity proof are in tests/test_pulse_slack.py and tests/test_pulse_anonymity.py.
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.config import REPO_ROOT
from bot.messages import Mention, decode, plain_text
from handlers.pulse import jobs, scoring, store, when
from handlers.pulse.content import load_survey
from handlers.pulse.ids import ActionId, FormId, Repeat
from tests.support.clock import FakeClock
from tests.support.harness import Harness, text_of

WED_10_BERLIN = datetime(2026, 6, 10, 10, 0, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
TEAM = ["alice", "bob", "carol", "dave", "erin", "frank"]
DAY = 86400.0

EDMONDSON = (
    "If you make a mistake on this team, it is often held against you.",
    "Members of this team are able to bring up problems and tough issues.",
    "People on this team sometimes reject others for being different.",
    "It is safe to take a risk on this team.",
    "It is difficult to ask other members of this team for help.",
    "No one on this team would deliberately act in a way that undermines my efforts.",
    "Working with members of this team, my unique skills and talents are valued and utilized.",
)


def pulse_harness(tmp_path, members=TEAM, clock=None, admins=frozenset({"alice"}), **settings) -> Harness:
    h = Harness(tmp_path, clock or FakeClock(WED_10_BERLIN), admins=admins, **settings)
    for user in members:
        if user not in h.people.people:
            h.people.add(user, tz="Europe/Berlin")
    h.people.add("robot", is_bot=True)
    h.people.channels["team"] = [*members, "robot"]
    return h


@pytest.fixture
def h(tmp_path):
    harness = pulse_harness(tmp_path)
    yield harness
    harness.close()


def answers(values: tuple[int, ...] | list[int], comment: str | None = None) -> dict:
    filled: dict = {f"q{n}": str(v) for n, v in enumerate(values, start=1)}
    if comment is not None:
        filled["comment"] = comment
    return filled


async def open_round(h: Harness, text: str = "start", channel: str = "team") -> int:
    reply = await h.command("pulse", text, user="alice", channel=channel)
    assert "Pulse scheduled" in text_of(reply), text_of(reply)
    await h.run_jobs()
    return current_round(h, channel)


def current_round(h: Harness, channel: str = "team") -> int:
    found = store.open_round(h.store.db, platform="stub", workspace="W1", conversation=channel)
    assert found is not None
    return found.id


async def answer(h: Harness, round_id: int, user: str, values, comment: str | None = None):
    opened = await h.click(ActionId.ANSWER, str(round_id), user=user)
    assert opened.form is not None, text_of(opened)
    return await h.submit(opened.form, answers(values, comment), user=user)


async def close(h: Harness, round_id: int) -> None:
    round_ = store.get_round(h.store.db, round_id=round_id, platform="stub", workspace="W1")
    assert round_ is not None
    h.clock.t = max(h.clock.t, round_.closes_at)
    await h.run_jobs()


def last_post(h: Harness, where: str = "#team") -> str:
    return [text for to, text in h.posts() if to == where][-1]


def counts(h: Harness) -> tuple[int, ...]:
    tables = ("pulse_schedules", "pulse_rounds", "pulse_invites", "pulse_answers", "outbox")
    answered = h.store.db.execute("select count(*) from pulse_invites where answered = 1").fetchone()[0]
    return (*(h.count(t) for t in tables), answered)


# --- the scale and its scoring ------------------------------------------------------------------
def test_the_survey_is_edmondsons_seven_items_verbatim_with_1_3_5_reversed():
    survey = load_survey(REPO_ROOT / "data")
    assert tuple(i.text for i in survey.items) == EDMONDSON
    assert survey.reversed_items == (1, 3, 5)
    assert (
        len(survey.scale) == 7
        and survey.scale[0] == "Strongly disagree"
        and survey.scale[6] == "Strongly agree"
    )


@pytest.mark.parametrize(
    ("given", "scored"),
    [
        ((1, 7, 1, 7, 1, 7, 7), (7, 7, 7, 7, 7, 7, 7)),  # the safest possible answer
        ((7, 1, 7, 1, 7, 1, 1), (1, 1, 1, 1, 1, 1, 1)),  # the least safe
        ((4, 4, 4, 4, 4, 4, 4), (4, 4, 4, 4, 4, 4, 4)),  # neutral stays neutral
        ((2, 6, 3, 5, 6, 7, 4), (6, 6, 5, 5, 2, 7, 4)),
    ],
)
def test_items_1_3_and_5_are_scored_8_minus_the_answer(given, scored):
    assert scoring.scored(given, (1, 3, 5)) == scored


def test_the_team_score_is_the_mean_after_reversing_and_item_means_are_scored():
    result = scoring.score([(2, 6, 3, 5, 6, 7, 4), (1, 7, 1, 7, 1, 7, 7), (4, 4, 4, 4, 4, 4, 4)], (1, 3, 5))
    assert result is not None
    # scored rows: (6,6,5,5,2,7,4)=35, (7,...)=49, (4,...)=28 → (35 + 49 + 28) / 21
    assert result.score == round(112 / 21, 2) == 5.33
    assert result.item_means == (5.67, 5.67, 5.33, 5.33, 4.33, 6.0, 5.0)
    assert result.answers == 3
    assert scoring.score([], (1, 3, 5)) is None
    assert scoring.combined([(5, 4.0), (15, 6.0)]) == 5.5


@pytest.mark.parametrize("bad", [(0, 4, 4, 4, 4, 4, 4), (8, 4, 4, 4, 4, 4, 4), (4, 4, 4)])
def test_an_answer_out_of_range_cannot_be_scored(bad):
    with pytest.raises(ValueError):
        scoring.scored(bad, (1, 3, 5))


# --- a round from start to results --------------------------------------------------------------
async def test_a_round_invites_every_member_privately_and_posts_the_results_card(h):
    round_id = await open_round(h)
    cards = [(to, text) for to, text in h.posts() if to.startswith("@")]
    assert [to for to, _ in cards] == [f"@{u}" for u in TEAM]  # people only: no card to the bot
    assert all(EDMONDSON[0] in text and EDMONDSON[6] in text and "[Answer]" in text for _, text in cards)
    assert "Anonymous" in cards[0][1]
    assert "Team pulse is open until Mon 15 Jun 2026" in last_post(h)
    assert "Each of the 6 members" in last_post(h)

    given = {
        "alice": (2, 6, 3, 5, 6, 7, 4),
        "bob": (1, 7, 1, 7, 1, 7, 7),
        "carol": (4, 4, 4, 4, 4, 4, 4),
        "dave": (3, 5, 2, 6, 3, 5, 5),
        "erin": (2, 6, 2, 6, 2, 6, 6),
    }
    for user, values in given.items():
        reply = await answer(h, round_id, user, values, comment=f"a comment by {user}")
        assert "Your answer is recorded" in text_of(reply)
    await close(h, round_id)

    expected = scoring.score(list(given.values()), (1, 3, 5))
    assert expected is not None
    card = last_post(h)
    assert f"Team score: {expected.score:.2f} out of 7" in card
    assert "Response rate: 83% (5 of 6 members)" in card
    assert "this is the first round with results" in card
    for item, mean in zip(EDMONDSON, expected.item_means, strict=True):
        assert f"{mean:.2f} · " in card and item in card
    assert "1. If you make a mistake on this team, it is often held against you. (reverse-scored)" in card
    assert "Comments are shown only when at least 10 people answer." in card
    assert "a comment by" not in card
    # comments that are not shown are not kept either
    assert h.store.db.execute("select count(*) from pulse_answers where comment is not null").fetchone() == (
        0,
    )


async def test_the_next_round_opens_a_month_later_and_shows_the_change(h):
    first = await open_round(h)
    for user in TEAM[:5]:
        await answer(h, first, user, (4, 4, 4, 4, 4, 4, 4))
    await close(h, first)
    schedule = store.active_schedule(h.store.db, platform="stub", workspace="W1", conversation="team")
    assert schedule is not None and schedule.repeat == Repeat.MONTHLY
    assert schedule.next_at == datetime(2026, 7, 10, 10, 0, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()

    h.clock.t = schedule.next_at - 60
    await h.run_jobs()
    assert store.open_round(h.store.db, platform="stub", workspace="W1", conversation="team") is None
    h.clock.t = schedule.next_at
    await h.run_jobs()
    second = current_round(h)
    assert second != first
    for user in TEAM:
        await answer(h, second, user, (2, 6, 2, 6, 2, 6, 6))  # scored 6 on every item
    await close(h, second)
    card = last_post(h)
    assert "Team score: 6.00 out of 7" in card
    assert "Change since the last round (Mon 15 Jun 2026): +2.00" in card
    assert "Response rate: 100% (6 of 6 members)" in card


async def test_a_monthly_schedule_keeps_its_day_and_local_time_across_months_and_dst():
    berlin = "Europe/Berlin"
    jan_31 = datetime(2026, 1, 31, 10, 0, tzinfo=ZoneInfo(berlin)).timestamp()
    feb = when.next_round(Repeat.MONTHLY, jan_31, berlin)
    assert (
        feb is not None
        and datetime.fromtimestamp(feb, ZoneInfo(berlin)).isoformat() == "2026-02-28T10:00:00+01:00"
    )
    march_20 = datetime(2026, 3, 20, 10, 0, tzinfo=ZoneInfo(berlin)).timestamp()  # before the DST change
    april = when.next_round(Repeat.MONTHLY, march_20, berlin)
    assert (
        april is not None
        and datetime.fromtimestamp(april, ZoneInfo(berlin)).isoformat() == "2026-04-20T10:00:00+02:00"
    )
    fortnight = when.next_round(Repeat.FORTNIGHTLY, march_20, berlin)
    assert fortnight is not None and datetime.fromtimestamp(fortnight, ZoneInfo(berlin)).day == 3
    quarter = when.next_round(Repeat.QUARTERLY, jan_31, berlin)
    assert (
        quarter is not None
        and datetime.fromtimestamp(quarter, ZoneInfo(berlin)).date().isoformat() == "2026-04-30"
    )
    assert when.next_round(Repeat.ONCE, jan_31, berlin) is None


async def test_the_schedule_form_starts_at_10_on_the_chosen_day_and_refuses_bad_values(h):
    form = (await h.command("pulse", user="alice")).form
    assert form is not None and form.callback == FormId.SCHEDULE
    before = counts(h)
    for values, field in (
        ({"start": "2026-06-09"}, "start"),  # the past
        ({"start": "yesterday"}, "start"),
        ({"start": "2028-01-01"}, "start"),  # more than a year ahead
        ({"repeat": "hourly"}, "repeat"),
        ({"days": "30"}, "days"),
        ({"channel": ""}, "channel"),
    ):
        refused = await h.submit(form, values, user="alice")
        assert field in json.loads(text_of(refused)), values
    refused = await h.submit(form, {"start": "2026-06-12"}, user="bob")  # not an admin or manager
    assert "Only Candor admins and managers" in text_of(refused)
    assert counts(h) == before

    done = await h.submit(form, {"start": "2026-06-12", "repeat": "fortnightly", "days": "3"}, user="alice")
    assert "every two weeks, the first round on Fri 12 Jun 2026, open 3 days" in text_of(done)
    h.clock.t = datetime(2026, 6, 12, 9, 59, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
    await h.run_jobs()
    assert h.count("pulse_rounds") == 0
    h.clock.advance(60)
    await h.run_jobs()
    assert h.count("pulse_rounds") == 1
    again = await h.submit(form, {"start": "2026-06-20"}, user="alice")
    assert "already has a pulse schedule" in text_of(again)


async def test_a_manager_named_in_the_settings_may_run_a_pulse_and_others_may_not(tmp_path):
    h = pulse_harness(tmp_path, managers=frozenset({"bob"}))
    before = counts(h)
    for user in ("carol", "dave"):
        assert "Only Candor admins and managers" in text_of(await h.command("pulse", "start", user=user))
        assert "Only Candor admins and managers" in text_of(await h.command("pulse", user=user))
    assert counts(h) == before
    assert "Pulse scheduled" in text_of(await h.command("pulse", "start once", user="bob"))
    h.close()


async def test_a_channel_smaller_than_k_cannot_have_a_pulse(tmp_path):
    h = pulse_harness(tmp_path, members=["alice", "bob", "carol", "dave"])
    reply = await h.command("pulse", "start", user="alice")
    assert "That channel has 4 members. A pulse needs at least 5" in text_of(reply)
    assert h.count("pulse_schedules") == 0
    h.close()


# --- k-thresholds -------------------------------------------------------------------------------
async def test_fewer_than_k_answers_show_nothing_and_keep_nothing(h):
    round_id = await open_round(h)
    for user in TEAM[:4]:
        await answer(h, round_id, user, (1, 7, 1, 7, 1, 7, 7), comment="only four of us")
    await close(h, round_id)
    card = last_post(h)
    assert "Not enough answers yet: results are shown only when at least 5 people answer." in card
    assert "Team score" not in card and "only four" not in card
    assert h.count("pulse_answers") == 0  # nothing kept that could point at anyone
    assert "Not enough answers yet" in text_of(await h.command("pulse", "results", user="carol"))


async def test_k_is_never_below_3_whatever_the_setting(tmp_path):
    h = pulse_harness(tmp_path, anonymity_k=2)
    round_id = await open_round(h)
    for user in TEAM[:2]:
        await answer(h, round_id, user, (4, 4, 4, 4, 4, 4, 4))
    await close(h, round_id)
    assert "at least 3 people answer" in last_post(h)

    h.clock.advance(40 * DAY)
    await h.run_jobs()
    second = current_round(h)
    for user in TEAM[:3]:
        await answer(h, second, user, (4, 4, 4, 4, 4, 4, 4))
    await close(h, second)
    assert "Team score: 4.00 out of 7" in last_post(h)
    h.close()


async def test_comments_are_shown_only_from_ten_answers(tmp_path):
    people = [f"p{i}" for i in range(11)]
    h = pulse_harness(tmp_path, members=people, admins=frozenset({"p0"}))
    reply = await h.command("pulse", "start", user="p0")
    assert "Pulse scheduled" in text_of(reply)
    await h.run_jobs()
    round_id = current_round(h)
    for user in people[:9]:
        await answer(h, round_id, user, (4, 4, 4, 4, 4, 4, 4), comment=f"nine: {user}")
    await close(h, round_id)
    assert "nine:" not in last_post(h)

    h.clock.advance(40 * DAY)
    await h.run_jobs()
    second = current_round(h)
    for user in people[:10]:
        await answer(h, second, user, (4, 4, 4, 4, 4, 4, 4), comment=f"ten: {user}")
    await answer(h, second, people[10], (4, 4, 4, 4, 4, 4, 4))  # no comment
    await close(h, second)
    card = last_post(h)
    assert "Comments (in random order)" in card
    assert sorted(line for line in card.splitlines() if line.startswith("> ten:")) == sorted(
        f"> ten: {u}" for u in people[:10]
    )
    h.close()


async def test_two_overlapping_groups_cannot_single_out_the_one_person_between_them(tmp_path):
    """Team A has six people, channel B the same six plus Xavier. Both pulses run in the same days.
    If both were shown, B's total minus A's would be Xavier's answer: B's results are withheld."""
    six = ["alice", "bob", "carol", "dave", "erin", "frank"]
    h = pulse_harness(tmp_path, members=six)
    h.people.add("xavier")
    h.people.channels["b-plus-one"] = [*six, "xavier"]
    h.people.add("yan")
    h.people.add("zoe")
    a = await open_round(h)
    b = await open_round(h, channel="b-plus-one")
    for user in six:
        await answer(h, a, user, (4, 4, 4, 4, 4, 4, 4))
        await answer(h, b, user, (4, 4, 4, 4, 4, 4, 4))
    await answer(h, b, "xavier", (7, 1, 7, 1, 7, 1, 1))
    await close(h, a)
    assert "Team score: 4.00" in last_post(h, "#team")
    await close(h, b)
    card = last_post(h, "#b-plus-one")
    assert "Team score" not in card and "would single out fewer than 5 people" in card
    assert store.answers_of(h.store.db, round_id=b) == []
    # the workspace's figures count only published rounds: A's
    from handlers.pulse import report
    from handlers.reporting import ReportScope

    [score, *_] = report.figures(
        h.store.db, ReportScope("stub", "W1", None, WED_10_BERLIN, WED_10_BERLIN + 30 * DAY, 5)
    )
    assert score.value == 4.0 and score.count == 6
    h.close()


async def test_concurrent_rounds_of_different_people_are_both_shown(tmp_path):
    six, others = TEAM, ["gil", "hana", "ivo", "jon", "kim"]
    h = pulse_harness(tmp_path)
    for user in others:
        h.people.add(user)
    h.people.channels["other"] = [*others, "alice"]  # one person in both: 5 apart on either side
    a = await open_round(h)
    b = await open_round(h, channel="other")
    for user in six:
        await answer(h, a, user, (4, 4, 4, 4, 4, 4, 4))
    for user in [*others, "alice"]:
        await answer(h, b, user, (5, 3, 5, 3, 5, 3, 3))
    await close(h, a)
    await close(h, b)
    assert "Team score: 4.00" in last_post(h, "#team")
    assert "Team score: 3.00" in last_post(h, "#other")
    h.close()


# --- one answer per person, and nothing after the close ------------------------------------------
@pytest.mark.parametrize(
    ("values", "fields"),
    [
        ({"q3": "9"}, {"q3"}),
        ({"q1": "0", "q7": "8"}, {"q1", "q7"}),
        ({"q2": ""}, {"q2"}),
        ({"q4": None}, {"q4"}),
        ({"q5": "4.0"}, {"q5"}),
        ({"q6": "-1"}, {"q6"}),
        ({"q2": "٤"}, {"q2"}),  # an Arabic-Indic four is not one of the seven answers
        ({"q1": "1; drop table pulse_answers"}, {"q1"}),
        ({"comment": "x" * 1001}, {"comment"}),
        ({"comment": "\ud800"}, {"comment"}),
    ],
)
async def test_a_bad_answer_is_refused_in_the_form_and_changes_nothing(h, values, fields):
    round_id = await open_round(h)
    form = (await h.click(ActionId.ANSWER, str(round_id), user="bob")).form
    assert form is not None
    before = counts(h)
    refused = await h.submit(form, {**answers((4, 4, 4, 4, 4, 4, 4)), **values}, user="bob")
    assert set(json.loads(text_of(refused))) == fields
    assert counts(h) == before
    assert "recorded" in text_of(await h.submit(form, answers((4, 4, 4, 4, 4, 4, 4)), user="bob"))


async def test_one_answer_per_person_per_round(h):
    round_id = await open_round(h)
    form = (await h.click(ActionId.ANSWER, str(round_id), user="bob")).form
    assert form is not None
    await h.submit(form, answers((4, 4, 4, 4, 4, 4, 4)), user="bob")
    before = counts(h)
    again = await h.submit(form, answers((1, 1, 1, 1, 1, 1, 1)), user="bob")  # a double submission
    assert "You already answered this round" in text_of(again)
    assert "You already answered this round" in text_of(
        await h.click(ActionId.ANSWER, str(round_id), user="bob")
    )
    assert counts(h) == before
    assert h.count("pulse_answers") == 1


async def test_an_answer_after_the_close_is_refused_and_changes_nothing(h):
    round_id = await open_round(h)
    form = (await h.click(ActionId.ANSWER, str(round_id), user="bob")).form
    assert form is not None
    round_ = store.get_round(h.store.db, round_id=round_id, platform="stub", workspace="W1")
    assert round_ is not None
    h.clock.t = round_.closes_at  # the close is due, even before the job has run
    before = counts(h)
    late = await h.submit(form, answers((4, 4, 4, 4, 4, 4, 4)), user="bob")
    assert "This pulse closed on Mon 15 Jun 2026. Your answer was not recorded." in text_of(late)
    await h.run_jobs()
    after_close = counts(h)
    late = await h.submit(form, answers((4, 4, 4, 4, 4, 4, 4)), user="carol")
    assert "Your answer was not recorded" in text_of(late)
    assert "Your answer was not recorded" in text_of(
        await h.click(ActionId.ANSWER, str(round_id), user="dave")
    )
    assert counts(h) == after_close and after_close[3] == before[3] == 0


async def test_only_the_members_invited_may_answer_and_a_forged_round_finds_nothing(h):
    round_id = await open_round(h)
    h.people.add("newcomer")
    assert "for the members its channel had when it opened" in text_of(
        await h.click(ActionId.ANSWER, str(round_id), user="newcomer")
    )
    form = (await h.click(ActionId.ANSWER, str(round_id), user="bob")).form
    assert form is not None
    before = counts(h)
    stolen = await h.submit(form, answers((4, 4, 4, 4, 4, 4, 4)), user="newcomer")
    assert "for the members" in text_of(stolen)
    for forged in ("999", "abc", "", "1" * 40, "-1"):
        assert "no longer exists" in text_of(await h.click(ActionId.ANSWER, forged, user="bob"))
        refused = await h.submit(
            form.__class__(**{**form.__dict__, "context": forged}), answers((4,) * 7), user="bob"
        )
        assert "no longer exists" in text_of(refused)
    assert counts(h) == before


# --- the one reminder ---------------------------------------------------------------------------
async def test_non_responders_get_one_reminder_outside_quiet_hours(h):
    round_id = await open_round(h)
    for user in ("alice", "bob"):
        await answer(h, round_id, user, (4, 4, 4, 4, 4, 4, 4))
    round_ = store.get_round(h.store.db, round_id=round_id, platform="stub", workspace="W1")
    assert round_ is not None and round_.remind_at is not None
    # halfway through (Fri 22:00) is quiet: the reminder waits for Monday 09:00 Berlin
    assert (
        datetime.fromtimestamp(round_.remind_at, ZoneInfo("Europe/Berlin")).isoformat()
        == "2026-06-15T09:00:00+02:00"
    )
    h.clock.t = round_.remind_at - 1
    await h.run_jobs()
    assert not any("gentle reminder" in text for _, text in h.posts())
    h.clock.t = round_.remind_at
    await h.run_jobs()
    await h.run_jobs()
    reminded = [to for to, text in h.posts() if "gentle reminder" in text]
    assert reminded == ["@carol", "@dave", "@erin", "@frank"]


async def test_a_round_under_any_test_clock_reminds_once_before_it_closes(tmp_path):
    """Whatever day CANDOR_TEST_NOW starts on (a Friday evening, a Sunday, a DST day)."""
    h = pulse_harness(tmp_path, clock=FakeClock())
    round_id = await open_round(h)
    round_ = store.get_round(h.store.db, round_id=round_id, platform="stub", workspace="W1")
    assert round_ is not None
    assert round_.remind_at is not None and round_.opened_at < round_.remind_at < round_.closes_at
    for _ in range(5 * 24):
        h.clock.advance(3600)
        await h.run_jobs()
    assert len([1 for _, text in h.posts() if "gentle reminder" in text]) == 6
    assert "Not enough answers yet" in last_post(h)
    h.close()


# --- more than one process ----------------------------------------------------------------------
async def test_two_processes_open_remind_and_close_a_round_once(tmp_path):
    first = pulse_harness(tmp_path)
    second = pulse_harness(tmp_path, clock=first.clock)
    await first.command("pulse", "start", user="alice")
    due = store.due_schedules(first.store.db, now=first.clock.now(), limit=5)
    assert [await jobs._open(first.services, s) for s in due] == [1]
    assert [await jobs._open(second.services, s) for s in due] == [0]  # read as due, claimed by the first
    round_id = current_round(first)
    for user in TEAM[:5]:
        await answer(second if user in ("bob", "dave") else first, round_id, user, (4, 4, 4, 4, 4, 4, 4))
    round_ = store.get_round(first.store.db, round_id=round_id, platform="stub", workspace="W1")
    assert round_ is not None and round_.remind_at is not None
    first.clock.t = round_.remind_at
    assert (await jobs.remind_due(second.services), await jobs.remind_due(first.services)) == (1, 0)
    first.clock.t = round_.closes_at
    [seen_first] = store.due_closes(first.store.db, now=first.clock.now(), limit=5)
    [seen_second] = store.due_closes(second.store.db, now=first.clock.now(), limit=5)
    closed = (await jobs.close(first.services, seen_first), await jobs.close(second.services, seen_second))
    assert closed == (True, False)
    assert len([1 for _, text in first.posts() if "results" in text]) == 1
    assert len([1 for _, text in first.posts() if "gentle reminder" in text]) == 1
    second.close()
    first.close()


async def test_a_retried_start_schedules_once(h):
    await h.command("pulse", "start", user="alice", delivery_id="same")
    again = await h.command("pulse", "start", user="alice", delivery_id="same")
    assert "already" in text_of(again)
    assert h.count("pulse_schedules") == 1


# --- the command --------------------------------------------------------------------------------
async def test_status_results_close_and_stop(h):
    assert "No schedule" in text_of(await h.command("pulse", "status", user="bob"))
    round_id = await open_round(h, "start once")
    assert "A round is open until Mon 15 Jun 2026" in text_of(await h.command("pulse", "status", user="bob"))
    for user in TEAM[:5]:
        await answer(h, round_id, user, (4, 4, 4, 4, 4, 4, 4))
    assert "Only Candor admins and managers" in text_of(await h.command("pulse", "close", user="bob"))
    assert "Closed" in text_of(await h.command("pulse", "close", user="alice"))
    assert "No pulse round is open" in text_of(await h.command("pulse", "close", user="alice"))
    assert "Team score: 4.00 out of 7" in text_of(await h.command("pulse", "results", user="carol"))
    status = text_of(await h.command("pulse", "status", user="bob"))
    assert "No schedule" in status and "team score 4.00 of 7, response rate 83%" in status  # "once" is done

    await h.command("pulse", "start", user="alice")
    assert "Only Candor admins" in text_of(await h.command("pulse", "stop", user="bob"))
    assert "is stopped" in text_of(await h.command("pulse", "stop", user="alice"))
    assert "no pulse schedule" in text_of(await h.command("pulse", "stop", user="alice"))


@pytest.mark.parametrize(
    "text", ["sideways", "start hourly", "start monthly now", "status please", "x" * 5000, "close 3"]
)
async def test_unknown_or_malformed_commands_get_usage_and_change_nothing(h, text):
    before = counts(h)
    reply = text_of(await h.command("pulse", text, user="alice"))
    assert "/pulse" in reply and len(reply) < 600
    assert counts(h) == before


async def test_help_names_the_commands_and_what_is_kept(h):
    reply = text_of(await h.command("pulse", "help", user="bob"))
    assert "/pulse start [monthly|fortnightly|quarterly|once]" in reply
    assert "stored without your name" in reply and "at least 5 people" in reply


async def test_a_hostile_comment_is_shown_as_text_on_both_platforms_and_notifies_nobody(tmp_path):
    """Comments are people's words in a channel post: `<!channel>`, a forged mention or a link with
    a label are shown as typed, escaped, on Slack and in Teams; none becomes a mention."""
    from bot.slack.render import message_payload
    from bot.teams.cards import activity_parts

    people = [f"p{i}" for i in range(10)]
    h = pulse_harness(tmp_path, members=people, admins=frozenset({"p0"}))
    await h.command("pulse", "start", user="p0")
    await h.run_jobs()
    round_id = current_round(h)
    hostile = "<!channel> & <@U0BOSS> see <https://evil.example|our wiki> **now**"
    for user in people:
        await answer(h, round_id, user, (4, 4, 4, 4, 4, 4, 4), comment=hostile)
    await close(h, round_id)
    posted = [
        decode(json.loads(p))
        for (p,) in h.store.db.execute("select payload from outbox where recipient = 'channel' order by id")
    ]
    [message] = [m for m in posted if "Comments (in random order)" in plain_text(m)]
    assert not any(isinstance(s, Mention) for b in message.blocks for s in getattr(b, "spans", ()))

    slack = json.dumps(message_payload(message))
    assert "<!channel>" not in slack and "<@U0BOSS>" not in slack and "|our wiki>" not in slack
    assert slack.count("&lt;!channel&gt; &amp; &lt;@U0BOSS&gt;") == 10  # every comment, as typed

    teams = activity_parts(message, {})
    assert "entities" not in teams  # nobody is mentioned
    card = json.dumps(teams)
    assert "<at>" not in card and card.count("<!channel> & <@U0BOSS>") == 10  # TextRuns show text as is
    h.close()
