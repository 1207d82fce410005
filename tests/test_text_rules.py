"""One rule for the text people write, in every practice: what is accepted, cleaned and refused."""

from __future__ import annotations

import re
import unicodedata

import pytest

from handlers.checkins.ids import CheckinAction
from handlers.text import clean_user_text, invisible, visible
from tests.support.candor import blocks_text
from tests.test_escaping import assert_no_injection

CONCERN = "The lead pings @here at 11pm and nobody dares say anything"


@pytest.fixture
def settings_overrides():
    # No delay: a concern is published at once, so these tests need no scheduler.
    return {"speakup_channels": frozenset({"CCONCERNS"}), "speakup_delay_s": (0.0, 0.0)}


async def submit_concern(candor, slack, **answers):
    _, reply = await candor.command("/speakup", "", user="UCAROL")
    assert reply == {}, blocks_text(reply)
    return await candor.submit(slack.opened_views()[-1], answers, user="UCAROL")


@pytest.mark.parametrize("concern", [CONCERN, "<!channel> <!here|here> @everyone read this"])
async def test_a_concern_about_at_here_is_accepted_and_notifies_no_one(candor, slack, concern):
    ack = await submit_concern(candor, slack, concern=concern, wants="<!everyone> stop it")
    assert ack["response_action"] == "update", ack
    await candor.settle()
    [post] = slack.delivered_to("CCONCERNS")
    text = blocks_text(post)
    assert concern.replace("<", "&lt;").replace(">", "&gt;") in text
    assert "&lt;!everyone&gt; stop it" in text
    assert_no_injection(text)
    assert post["parse"] == "none" and post["link_names"] in (False, 0, "0", "false")


async def test_a_lone_surrogate_in_a_concern_is_a_clear_error_not_a_crash(candor, slack):
    ack = await submit_concern(candor, slack, concern="half an emoji \ud83d here")
    assert ack["response_action"] == "errors"
    assert "broken character" in ack["errors"]["concern"]
    assert candor.count("concerns") == 0


LENGTH = re.compile(r"^(Your [a-z]+) is ([\d,]+) characters; keep it to ([\d,]+) characters\.$")


async def test_every_free_text_field_gets_the_same_length_message(candor, slack):
    messages = []
    for extra in (1, 10_000):
        _, reply = await candor.command("/kudos", "<@UBOB> #mentoring " + "k" * (1000 + extra))
        messages.append(blocks_text(reply).splitlines()[0])
        ack = await submit_concern(candor, slack, concern="c" * (3000 + extra))
        messages.append(ack["errors"]["concern"])
        await candor.command("/checkin", "", user="UALICE")
        ack = await candor.submit(
            slack.opened_views()[-1], {"template": "custom", "custom": "p" * (500 + extra)}
        )
        messages.append(ack["errors"]["custom"])
    shapes = [LENGTH.match(m) for m in messages]
    assert all(shapes), messages
    assert [(s.group(1), s.group(2), s.group(3)) for s in shapes] == [
        ("Your message", "1,001", "1,000"),
        ("Your concern", "3,001", "3,000"),
        ("Your prompt", "501", "500"),
        ("Your message", "11,000", "1,000"),
        ("Your concern", "13,000", "3,000"),
        ("Your prompt", "10,500", "500"),
    ]
    assert candor.count("kudos") == candor.count("concerns") == candor.count("schedules") == 0


async def fire_checkin(candor, slack):
    await candor.command("/checkin", "", user="UALICE")
    ack = await candor.submit(slack.opened_views()[-1], {"template": "weekly"})
    assert ack["response_action"] == "update"
    await candor.command("/checkin", "run 1")
    await candor.settle()
    run = candor.db["checkin_runs"].get(1)
    assert await candor.click(CheckinAction.RESPOND, f"1:{int(run['occurrence'])}", user="UBOB") == 200
    return slack.opened_views()[-1]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("a" * 1001, "Your answer is 1,001 characters; keep it to 1,000 characters."),
        ("split \udc00 here", "broken character"),
        ("\u200d", "Answer at least one question."),
    ],
)
async def test_check_in_answers_follow_the_same_rule(candor, slack, answer, expected):
    view = await fire_checkin(candor, slack)
    ack = await candor.submit(view, {"q0": answer}, user="UBOB")
    assert ack["response_action"] == "errors"
    assert expected in ack["errors"]["q0"]
    assert candor.count("checkin_responses") == 0


async def test_a_custom_prompt_of_only_a_joiner_is_empty(candor, slack):
    await candor.command("/checkin", "", user="UALICE")
    ack = await candor.submit(slack.opened_views()[-1], {"template": "custom", "custom": "\u200d "})
    assert "Write your prompt" in ack["errors"]["custom"]


@pytest.mark.parametrize("verb", ["pause", "resume", "delete", "run"])
async def test_checkin_changes_without_an_id_get_usage(candor, verb):
    _, reply = await candor.command("/checkin", verb)
    shown = blocks_text(reply)
    assert f"Usage: /checkin {verb} &lt;id&gt;, e.g. /checkin {verb} 3." in shown
    assert "I don't know" not in shown
    _, reply = await candor.command("/checkin", f"{verb} 3 4")
    assert f"Usage: /checkin {verb} &lt;id&gt;" in blocks_text(reply)


def test_ascii_text_is_cleaned_and_measured_by_the_same_rule_as_any_other():
    """ASCII text takes a quicker path (no look-up per character); it must agree with the rule
    stated per character (`invisible`, and Unicode's letter/number/punctuation/symbol classes)."""
    samples = [chr(c) for c in range(128)]
    samples += [" a\x00b\tc\nd\x7f ", "\x1f\x1e", "\x0b\x0c \r", "  \n\t ", "ok", "\x1bEsc!", "~"]
    samples += ["".join(chr(c) for c in range(128))]
    for text in samples:
        per_char = "".join(ch for ch in text if not invisible(ch)).strip()
        assert clean_user_text(text) == per_char, repr(text)
        draws = any(unicodedata.category(ch)[0] in "LNPS" for ch in text)
        assert visible(text) is draws, repr(text)
