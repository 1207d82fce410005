"""Hostile text typed by a user must never notify, mention or link anyone through Candor."""

from __future__ import annotations

import re

import pytest

from bot.messages import Mention, Message, Quote, Section, rich
from bot.slack.render import escape, message_payload
from tests.support.candor import blocks_text

HOSTILE = [
    "@channel and @here typed as plain words",
    "R&D shipped it",
    "<!channel> everyone look",
    "<!here|here> ping",
    "<!everyone>",
    "<@UCAROL> is tagged",
    "<#CSECRET|secret-channel>",
    "<https://evil.example|click me>",
    "&lt;!channel&gt; pre-escaped",
    "a & b < c > d",
    "*bold* _italic_ ~strike~ `code` ```block```",
    "\u202eevil reversed\u202c text",
    "ends with < and &",
    "<" * 400 + "&" * 400,
]

ANGLE = re.compile(r"<[^>]*>")
OURS = {"<@UALICE>", "<@UBOB>"}


def assert_no_injection(text: str) -> None:
    leftovers = [m for m in ANGLE.findall(text) if m not in OURS]
    assert leftovers == [], leftovers
    # every & starts an entity Slack decodes for display, nothing else
    assert re.findall(r"&(?!amp;|lt;|gt;)", text) == []


def wire(typed: str) -> str:
    """What Slack sends for text a person typed: its three control characters as entities."""
    return typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def all_text_objects(node):
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn":
            yield node
        for value in node.values():
            yield from all_text_objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from all_text_objects(value)


@pytest.mark.parametrize("hostile", HOSTILE)
async def test_hostile_kudos_text_is_escaped_once_everywhere(candor, slack, hostile):
    status, reply = await candor.command("/kudos", f"<@UBOB> #feedback {wire(hostile)}")
    assert status == 200
    assert_no_injection(blocks_text(reply))
    await candor.settle()
    assert len(slack.delivered()) == 2
    for post in slack.delivered():
        assert_no_injection(blocks_text(post))
        # Slack must not auto-link words like @here or #channel inside the text either
        assert all(t.get("verbatim") is True for t in all_text_objects(post["blocks"]))
        assert post["parse"] == "none" and post["link_names"] in (False, 0, "0", "false")
    stored = candor.db["kudos"].get(1)["message"]
    # what the person typed is stored as typed, less direction overrides
    assert stored == hostile.replace("\u202e", "").replace("\u202c", "").strip()


async def test_ampersands_are_escaped_exactly_once(candor, slack):
    await candor.command("/kudos", f"<@UBOB> #feedback {wire('R&D <3')}")
    await candor.settle()
    text = blocks_text(slack.delivered_to("CTEAM")[0])
    assert "R&amp;D &lt;3" in text


async def test_a_behaviour_slack_turned_into_a_channel_link_still_counts(candor):
    # should_escape: a typed #feedback becomes <#C…|feedback> when such a channel exists
    _, reply = await candor.command("/kudos", "<@UBOB> <#CFEEDBACK|feedback> clear and kind")
    assert "Kudos sent" in blocks_text(reply)
    assert candor.db["kudos"].get(1)["behaviour"] == "feedback"


def test_escape_covers_slacks_three_control_characters():
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"


def test_a_mention_span_with_a_forged_id_is_shown_as_text():
    payload = message_payload(Message((Section(rich(Mention("U1> <!channel"))),)))
    assert_no_injection(blocks_text(payload))


def test_escaped_text_is_split_across_sections_within_slacks_limit():
    payload = message_payload(Message((Quote("&" * 1000),)))
    texts = [b["text"]["text"] for b in payload["blocks"]]
    assert all(len(t) <= 3000 for t in texts)
    assert "".join(texts).count("&amp;") == 1000
