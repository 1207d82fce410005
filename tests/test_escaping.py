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
# A working link whose label is its own address: <https://…> with no "|label".
PLAIN_LINK = re.compile(r"<https?://[^\s<>|]+>")


def assert_no_injection(text: str) -> None:
    leftovers = [m for m in ANGLE.findall(text) if m not in OURS and not PLAIN_LINK.fullmatch(m)]
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


def test_the_injection_check_allows_only_a_link_labelled_with_its_own_address():
    assert_no_injection("see <https://github.com/acme/app/pull/42> and <@UBOB>")
    for forged in ("<https://evil.example|click me>", "<!here>", "<@UCAROL>", "<mailto:a@b.c>", "<#C1>"):
        with pytest.raises(AssertionError):
            assert_no_injection(forged)


async def test_mentions_and_links_read_as_a_name_and_a_working_link(candor, slack):
    # The example as Slack sends it: the tokens raw, the typed text entity-escaped.
    typed = "<@UBOB|bob> #mentoring helped <@U333|carol> onboard, see <https://github.com/acme/app/pull/42>"
    _, reply = await candor.command("/kudos", typed)
    assert "Kudos sent" in blocks_text(reply)
    assert candor.db["kudos"].get(1)["message"] == (
        "helped @carol onboard, see https://github.com/acme/app/pull/42"
    )
    await candor.settle()
    for post in slack.delivered():
        text = blocks_text(post)
        assert "helped @carol onboard, see <https://github.com/acme/app/pull/42>" in text
        assert "&lt;" not in text and "<@U333" not in text  # a readable name that notifies no one
        assert_no_injection(text)


SLACK_TOKENS = [
    # (what Slack sends, how the post must read)
    ("<!here> pinged at 11pm", "@here pinged at 11pm"),
    ("<!channel> and <!everyone>", "@channel and @everyone"),
    ("ask <!subteam^S123|@platform-team>", "ask @platform-team"),
    ("<https://evil.example|https://good.example>", "<https://good.example> (<https://evil.example>)"),
    ("<https://evil.example|click here>", "click here (<https://evil.example>)"),
    ("<http://example.com|example.com>", "<http://example.com>"),
    ("<javascript:alert(1)|click>", "click (javascript:alert(1))"),
    ("<mailto:bob@acme.example|bob@acme.example>", "bob@acme.example"),
    ("in <#CSECRET|secret-channel>", "in #secret-channel"),
    ("https://acme.example/a?x=1&amp;y=2.", "<https://acme.example/a?x=1&amp;y=2>."),
]


@pytest.mark.parametrize(("sent", "shown"), SLACK_TOKENS)
async def test_slacks_own_tokens_notify_no_one_and_no_link_lies(candor, slack, sent, shown):
    await candor.command("/kudos", f"<@UBOB> #feedback {sent}")
    await candor.settle()
    for post in slack.delivered():
        text = blocks_text(post)
        assert f"> {shown}" in text
        assert_no_injection(text)


async def test_a_typed_look_alike_of_a_mention_is_text_not_a_receiver(candor, slack):
    # Typed "<@UBOB>" arrives entity-escaped; only Slack's own raw token is a mention.
    _, reply = await candor.command("/kudos", f"{wire('<@UBOB>')} #feedback clear and kind")
    assert "Start with the person" in blocks_text(reply)
    _, reply = await candor.command("/kudos", f"<@UBOB> #feedback thanks {wire('<@UCAROL|carol>')}")
    assert "Kudos sent" in blocks_text(reply)
    assert candor.db["kudos"].get(1)["message"] == "thanks <@UCAROL|carol>"
    await candor.settle()
    assert "thanks &lt;@UCAROL|carol&gt;" in blocks_text(slack.delivered_to("CTEAM")[0])


async def test_a_mention_slack_sent_without_a_name_reads_as_the_persons_name(candor, slack):
    await candor.command("/kudos", "<@UBOB> #mentoring paired with <@UCAROL> all week")
    assert candor.db["kudos"].get(1)["message"] == "paired with @carol all week"
