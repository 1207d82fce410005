"""The quality index and the blame check, on fixtures of good and poor reviews; the data files they
read (data/review_rubric.yml, data/blame_words.yml) and what a mistake in them says."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest

from bot.config import REPO_ROOT
from bot.messages import Message, Reply, plain_text
from handlers.catalog import CatalogError
from handlers.reviews import blame
from handlers.reviews.content import content_for, load_blame, load_rubric
from handlers.reviews.ids import Criterion, Section
from handlers.reviews.model import ActionItem, Sections
from handlers.reviews.quality import score
from tests.support.harness import text_of
from tests.test_reviews_rules import GOOD, due, h, open_form, row, write  # noqa: F401 (h: the fixture)

DATA = REPO_ROOT / "data"
CONTENT = content_for(DATA)
NOW = 1_781_000_000.0  # 2026-06-09, far from any DST change
TODAY = "2026-06-09"


def sections(**changed: str) -> Sections:
    return Sections(**{s.value: GOOD[s] for s in Section} | changed)


def scored(review: Sections, actions: tuple[ActionItem, ...] = ()) -> dict[Criterion, int]:
    findings = blame.check(review, CONTENT.blame)
    quality = score(
        review,
        actions,
        CONTENT.rubric,
        at=NOW,
        factors_blame=any(f.section == Section.FACTORS for f in findings),
    )
    assert quality.score == sum(p.points for p in quality.parts)
    return {p.criterion: p.points for p in quality.parts}


ACTION = ActionItem("add a canary step", "bob", "2026-07-01", "Europe/Berlin")


def test_the_rubric_and_its_weights():
    rubric = load_rubric(DATA / "review_rubric.yml")
    assert [(r.id, r.weight) for r in rubric.criteria] == [
        (Criterion.COMPLETE, 30),
        (Criterion.LEARNING, 15),
        (Criterion.ACTIONS, 30),
        (Criterion.PROCESS, 10),
        (Criterion.NOT_PERSON, 15),
    ]
    assert sum(r.weight for r in rubric.criteria) == 100


# --- the quality index on fixtures --------------------------------------------------------------
def test_a_good_review_scores_100():
    assert scored(sections(), (ACTION,)) == {
        Criterion.COMPLETE: 30,
        Criterion.LEARNING: 15,
        Criterion.ACTIONS: 30,
        Criterion.PROCESS: 10,
        Criterion.NOT_PERSON: 15,
    }


def test_a_poor_review_scores_0_and_says_what_would_raise_it():
    poor = Sections(
        title="Outage",
        happened="It broke.",
        impact="n/a",
        factors="Bob was careless.",
        learned="",
        next_time="tbd",
    )
    quality = score(poor, (), CONTENT.rubric, at=NOW, factors_blame=True)
    assert quality.score == 0
    assert [(p.criterion, p.raise_it) for p in quality.missing()] == [
        (
            Criterion.COMPLETE,
            "Say more in What happened, Impact, Contributing factors, What we learned and What we will try "
            "next time: a sentence or two each, not a token answer.",
        ),
        (Criterion.ACTIONS, "Add action items, each with an owner and a due date that is still ahead."),
        (Criterion.LEARNING, "Write down what you learned, or what you will try next time."),
        (
            Criterion.NOT_PERSON,
            "Reframe Contributing factors toward the process: what made the mistake easy to make, or hard to "
            "catch?",
        ),
        (
            Criterion.PROCESS,
            "Name the process, tool or expectation that let it happen in Contributing factors (for example "
            '"process", "procedure", "checklist").',
        ),
    ]


@pytest.mark.parametrize(
    ("changed", "actions", "points"),
    [
        # one token section: 6 of the 30 points for completeness go
        ({"impact": "none"}, (ACTION,), {Criterion.COMPLETE: 24}),
        ({"impact": "Some users, briefly."}, (ACTION,), {Criterion.COMPLETE: 24}),  # three words: a token
        # a learning or a recommendation is enough for the learning points
        ({"learned": ""}, (ACTION,), {Criterion.COMPLETE: 24}),
        ({"learned": "", "next_time": "n/a"}, (ACTION,), {Criterion.COMPLETE: 18, Criterion.LEARNING: 0}),
        # actions: a share of them dated in the future, nothing without any
        ({}, (), {Criterion.ACTIONS: 0}),
        ({}, (ACTION, ActionItem("x", "bob", "2026-06-01", "UTC")), {Criterion.ACTIONS: 15}),
        ({}, (ActionItem("x", "bob", TODAY, "UTC"),), {}),  # due today still counts
        ({}, (ActionItem("x", "", TODAY, "UTC"),), {Criterion.ACTIONS: 0}),
        # contributing factors that name a process, and no person
        (
            {"factors": "Nobody could have seen it coming, honestly, it was bad luck."},
            (ACTION,),
            {Criterion.PROCESS: 0},
        ),
        (
            {"factors": "Sam forgot the migration step on the checklist."},
            (ActionItem("x", "sam", "2026-07-01", "UTC"),),
            {},  # the name is known only as an owner's: see the next test
        ),
        (
            {"factors": "Someone forgot the migration step on the checklist."},
            (ACTION,),
            {Criterion.NOT_PERSON: 0},
        ),
        ({"factors": "The rota was careless about handovers."}, (ACTION,), {Criterion.NOT_PERSON: 0}),
    ],
)
def test_each_criterion_on_fixtures(changed, actions, points):
    full = {Criterion.COMPLETE: 30, Criterion.LEARNING: 15, Criterion.ACTIONS: 30, Criterion.PROCESS: 10}
    assert scored(sections(**changed), actions) == {**full, Criterion.NOT_PERSON: 15, **points}


def test_an_owners_name_as_the_cause_costs_the_not_person_points():
    review = sections(factors="Sam forgot the migration step on the checklist.")
    findings = blame.check(review, CONTENT.blame, names=["Sam Lee"])
    assert [f.words for f in findings] == ["Sam forgot"]
    quality = score(review, (ACTION,), CONTENT.rubric, at=NOW, factors_blame=True)
    assert quality.score == 85


def test_an_action_due_today_counts_on_the_owners_own_calendar():
    # At 23:30 UTC on 9 June it is already 10 June in Berlin: an action due the 9th is past there.
    at = NOW - NOW % 86400 + 86400 - 30 * 60  # 23:30 UTC on TODAY
    assert datetime.fromtimestamp(at, UTC).date().isoformat() == TODAY
    for tz, expected in (("Europe/Berlin", 0), ("America/New_York", 30)):
        action = ActionItem("x", "bob", TODAY, tz)
        quality = score(sections(), (action,), CONTENT.rubric, at=at, factors_blame=False)
        assert {p.criterion: p.points for p in quality.parts}[Criterion.ACTIONS] == expected, tz


# --- the blame check on fixtures ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("It was Sam's fault for not checking the flag.", ["Sam's fault"]),
        ("It was Sam’s fault.", ["Sam's fault"]),  # a typographic apostrophe
        ("He should have known better than to deploy on Friday.", ["He should have known better"]),
        ("A careless deploy on Friday.", ["careless"]),
        ("An incompetent review let it through.", ["incompetent"]),
        ("@sam broke the build before lunch.", ["@sam broke"]),
        ("It happened because of @sam.", ["because of @sam"]),
        ("She simply forgot the migration.", ["She simply forgot"]),
        ("Human error, plain and simple.", ["Human error"]),
        ("The on-call engineer dropped the ball. Totally negligent.", ["dropped the ball", "negligent"]),
        ("", []),
        ("The deploy pipeline has no canary step.", []),
        ("A careful review would not have caught it either.", []),
        ("We use a blameless format and fault-tolerant queues.", []),
        ("The alert didn't fire, so nobody saw the errors.", []),
        ("She joined the call at once and rolled back.", []),
    ],
)
def test_the_blame_check_on_fixtures(text, found):
    review = sections(happened=text, factors="The pipeline has no canary step.")
    assert [f.words for f in blame.check(review, CONTENT.blame)] == found


def test_the_blame_check_reads_only_what_happened_and_the_contributing_factors():
    review = sections(impact="Sam's fault", learned="careless", title="careless", factors="careless")
    assert [(f.section, f.words) for f in blame.check(review, CONTENT.blame)] == [
        (Section.FACTORS, "careless")
    ]


# --- the gentle check before publishing: never blocking -----------------------------------------
async def test_blaming_words_bring_a_gentle_suggestion_once_then_it_publishes_as_written(h):  # noqa: F811
    form = await open_form(h)
    blaming = {
        Section.FACTORS: "Bob was careless and the pipeline has no canary step.",
        **row(1, "add a canary", "bob", due(h, 9)),
    }
    first = await h.submit(form, {**GOOD, **blaming})
    assert isinstance(first, Reply) and first.form is not None  # the form again, as it was left
    shown = plain_text(Message(first.form.intro))
    assert shown.startswith(
        "💬 A gentle check before this is published: some words may read as blaming a person: "
        "“careless” (Contributing factors).\n"
        "Blameless reviews look for what made the mistake easy to make and hard to catch"
    )
    assert shown.count("press Publish to publish it as it is") == 1
    assert {f.id: f.initial for f in first.form.fields}[Section.FACTORS] == blaming[Section.FACTORS]
    assert (h.count("reviews"), h.posts()) == (0, [])

    # Changed, with a new blaming phrase: the check again, for the new words.
    again = await h.submit(first.form, {Section.HAPPENED: GOOD[Section.HAPPENED] + " Bob forgot the flag."})
    assert "“Bob forgot” (What happened)" in plain_text(Message(again.form.intro))
    published = await h.submit(again.form, {})  # as it is: published, with its quality showing it
    assert text_of(published).startswith("Published.")
    assert "Quality index: 85/100" in text_of(published)
    assert "Reframe Contributing factors toward the process" in h.posts()[0][1]


async def test_a_review_without_blame_is_published_at_once(h):  # noqa: F811
    reply = await write(h, **row(1, "add a canary", "bob", due(h, 9)))
    assert text_of(reply).startswith("Published.")


# --- the data files -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ("weight: 30\n    label: Every section", "weight: 31\n    label: Every section"),
            "the weights add up to 101",
        ),
        (("id: learning", "id: learnings"), "id must be one of complete, learning, actions"),
        (("id: learning", "id: complete"), "list each criterion once"),
        (
            ("weight: 15\n    label: At least", "weight: -1\n    label: At least"),
            "weight must be a whole number",
        ),
        (("  min_words: 4", "  min_words: many"), "token_answer.min_words must be a whole number"),
        (("process_words:", "process_wordz:"), "expected a non-empty list of words under 'process_words'"),
        (("criteria:", "criteria: {"), "cannot read"),
    ],
)
def test_a_mistake_in_the_rubric_is_one_clear_message(tmp_path, edit, message):
    text = (DATA / "review_rubric.yml").read_text().replace(*edit, 1)
    (tmp_path / "review_rubric.yml").write_text(text)
    with pytest.raises(CatalogError, match=message):
        load_rubric(tmp_path / "review_rubric.yml")


def test_a_mistake_in_the_blame_words_is_one_clear_message(tmp_path):
    path = tmp_path / "blame_words.yml"
    path.write_text((DATA / "blame_words.yml").read_text().replace("cause_words:", "cause_word:"))
    with pytest.raises(CatalogError, match="expected a non-empty list of words under 'cause_words'"):
        load_blame(path)
    path.write_text((DATA / "blame_words.yml").read_text().replace("  - careless\n", "  - '!!'\n"))
    with pytest.raises(CatalogError, match="'!!' has no letters"):
        load_blame(path)


def test_candor_data_dir_finds_edited_files_and_falls_back_to_the_shipped_ones(tmp_path):
    for name in ("behaviours.yml", "checkins.yml", "nudges.yml"):
        shutil.copy(DATA / name, tmp_path / name)
    assert content_for(tmp_path).rubric == CONTENT.rubric  # a data dir from before reviews: shipped files
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "blame_words.yml").write_text(
        (DATA / "blame_words.yml").read_text().replace("  - careless\n", "  - careless\n  - hopeless\n")
    )
    assert "hopeless" in content_for(mine).blame.phrases


async def test_what_the_form_remembers_of_the_check_stays_small(h):  # noqa: F811
    from handlers.reviews.forms import FormState

    many = " ".join(f"He {c * 40} {c * 40} broke it." for c in "abcdefgh")  # 8 long findings, 6 shown
    form = await open_form(h)
    reply = await h.submit(
        form, {**GOOD, Section.HAPPENED: many, Section.FACTORS: many + " Someone broke it."}
    )
    context = reply.form.context
    assert len(context) < 3000  # Slack keeps 3,000 characters of a modal's private metadata
    state = FormState.decode(context)
    assert state is not None and len(state.seen) == 12
    published = await h.submit(reply.form, {})
    assert text_of(published).startswith("Published.")
