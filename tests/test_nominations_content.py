"""The editable data behind nominations (data/awards.yml, data/competencies.yml), and requests that
name a cycle which is not there: refused in the form, nothing stored."""

from __future__ import annotations

import shutil

import pytest

from bot.config import REPO_ROOT
from bot.messages import FormErrors
from handlers.catalog import CatalogError, load_catalog
from handlers.nominations.content import load_content
from handlers.nominations.ids import ActionId, FieldId, FormId, Level
from handlers.registry import REGISTRY
from tests.support.harness import PLATFORM, WORKSPACE, text_of
from tests.test_nominations_rules import FIRST, SECOND, nominations_harness, open_cycle, stored

CATALOG = load_catalog(REPO_ROOT / "data")


def test_the_shipped_awards_and_descriptors():
    content = load_content(REPO_ROOT / "data", CATALOG)
    assert content.default_award == "best-feedback-giver"
    assert [a.label for a in content.awards][:3] == [
        "Best feedback giver",
        "Most candid post-mortem",
        "Mentor of the month",
    ]
    for behaviour in CATALOG.behaviours:  # one short observable sentence per level, for every behaviour
        for level in Level:
            sentence = content.descriptor(behaviour.slug, level)
            assert sentence.endswith(".") and len(sentence) < 120


def test_a_data_directory_from_before_nominations_still_works(tmp_path):
    for name in ("behaviours.yml", "checkins.yml", "nudges.yml"):
        shutil.copy(REPO_ROOT / "data" / name, tmp_path / name)
    content = load_content(tmp_path, load_catalog(tmp_path))
    assert content.default_award == "best-feedback-giver"


@pytest.mark.parametrize(
    ("awards", "problem"),
    [
        ("awards: []", "expected a non-empty list of entries under 'awards'"),
        (
            "awards:\n  - slug: x1\n    label: X\n    behaviour: feedback",
            "award #1 needs text for description",
        ),
        (
            "awards:\n  - {slug: Bad Slug, label: X, behaviour: feedback, description: d}",
            "slug 'Bad Slug' is malformed or repeated",
        ),
        (
            "awards:\n  - {slug: gossip, label: X, behaviour: gossiping, description: d}",
            "award 'gossip' names behaviour 'gossiping', not in behaviours.yml",
        ),
        (
            "awards:\n  - {slug: a1, label: A, behaviour: feedback, description: d, default: true}\n"
            "  - {slug: a2, label: B, behaviour: feedback, description: d, default: true}",
            "only one award can be the default",
        ),
        ("awards: [: broken", "cannot read"),
    ],
)
def test_a_malformed_awards_file_is_named_with_its_problem(tmp_path, awards, problem):
    (tmp_path / "awards.yml").write_text(awards)
    with pytest.raises(CatalogError, match=problem.replace("(", r"\(").replace("[", r"\[")):
        load_content(tmp_path, CATALOG)


def test_a_malformed_competencies_file_is_named_with_its_problem(tmp_path):
    (tmp_path / "competencies.yml").write_text(
        "competencies:\n  - {behaviour: feedback, developing: a, competent: b}"
    )
    with pytest.raises(CatalogError, match="behaviour 'feedback' needs text for role_model"):
        load_content(tmp_path, CATALOG)


@pytest.mark.parametrize(
    ("callback", "context", "values", "errors"),
    [
        (
            FormId.NOMINATE,
            "999",
            {},
            {"nominee": "Nominations for this cycle are closed; nothing was saved."},
        ),
        (
            FormId.NOMINATE,
            "<!channel>",
            {},
            {"nominee": "Nominations for this cycle are closed; nothing was saved."},
        ),
        (
            FormId.NOMINATE,
            "",
            {FieldId.CYCLE: "x" * 5000},
            {"cycle": "Pick the award you are nominating for."},
        ),
        (
            FormId.VOTE,
            "1" * 40,
            {FieldId.CHOICE: "bob"},
            {"choice": "The vote is closed; nothing was saved."},
        ),
        (FormId.VOTE, "1", {FieldId.CHOICE: "bob"}, {"choice": "Pick one of the people in the list."}),
        (
            FormId.OPEN,
            "Not/AZone",  # a timezone no machine knows: UTC, and the form's other answers checked
            {
                FieldId.AWARD: None,
                FieldId.CLOSES_ON: "2099-01-01",
                FieldId.CLOSES_AT: "12:00",
                FieldId.CHANNEL: "team",
            },
            {
                "award": "Pick one of the awards in the list.",
                "closes_on": "Pick a closing date within 90 days.",
            },
        ),
    ],
)
async def test_forms_naming_what_is_not_there_are_refused_and_store_nothing(
    tmp_path, callback, context, values, errors
):
    from handlers.context import Submission

    h = nominations_harness(tmp_path)
    try:
        await open_cycle(h)
        before = stored(h)
        answers = {FieldId.EXAMPLE_1: FIRST, FieldId.EXAMPLE_2: SECOND, FieldId.LEVEL: "competent"} | values
        sub = Submission(PLATFORM, WORKSPACE, "boss", callback, answers, context)
        assert await REGISTRY.forms[callback](sub, h.services) == FormErrors(errors)
        assert stored(h) == before
    finally:
        h.close()


async def test_buttons_naming_what_is_not_there_answer_plainly(tmp_path):
    h = nominations_harness(tmp_path)
    try:
        await open_cycle(h)
        before = stored(h)
        for action, value, answer in (
            (ActionId.NOMINATE, "42", "This nomination cycle is no longer taking nominations."),
            (ActionId.NOMINATE, "-1", "This nomination cycle is no longer taking nominations."),
            (ActionId.VOTE, "1", "This vote is closed."),  # open for nominations, no vote yet
            (ActionId.VOTE, "", "This vote is closed."),
        ):
            assert text_of(await h.click(action, value)) == answer
        assert stored(h) == before
    finally:
        h.close()
