"""Hostile text typed by a user must never notify, mention or link anyone through Candor."""

from __future__ import annotations

import re

import pytest

from bot.messages import Mention, Message, Quote, Section, rich
from bot.slack.render import escape, message_payload
from tests.support.candor import blocks_text

HOSTILE = [
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


@pytest.mark.parametrize("hostile", HOSTILE)
async def test_hostile_kudos_text_is_escaped_everywhere(candor, slack, hostile):
    status, reply = await candor.command("/kudos", f"<@UBOB> #feedback {hostile}")
    assert status == 200
    assert_no_injection(blocks_text(reply))
    await candor.settle()
    assert len(slack.delivered()) == 2
    for post in slack.delivered():
        assert_no_injection(blocks_text(post))
    stored = candor.db["kudos"].get(1)["message"]
    assert "\u202e" not in stored  # direction overrides are dropped, the rest is kept verbatim
    assert stored.replace("\u202e", "").replace("\u202c", "") in (
        hostile.replace("\u202e", "").replace("\u202c", ""),
    )


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
