"""Messages become Block Kit as plain dicts (fast), so they are checked here instead: each block is
what slack_sdk's own models make of it, and its validation (text limits, button ids) passes."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.messages import (
    Actions,
    Button,
    ChannelRef,
    Context,
    Divider,
    Mention,
    Message,
    Plain,
    Quote,
    Section,
    Strong,
)
from bot.slack.render import SECTION_LIMIT, block_dicts, message_payload, to_blocks

LONG = "word & <!channel> " * 600  # 10,800 characters with entities to escape near every cut
MESSAGES = [
    Message((Section((Plain("hello"),)),)),
    Message((Section((Strong("Kudos"), Plain(" to "), Mention("U0456"), Plain(" in "), ChannelRef("C1"))),)),
    Message((Section((Plain(LONG),)), Quote(LONG), Context((Plain(LONG),)), Divider())),
    Message((Quote("line one\nsee https://example.com/a_(b) <@U999>\n\n"),)),
    Message((Section((Mention("not an id"), ChannelRef("#general"))),)),
    Message(
        (
            Section((Plain("Pick one"),)),
            Actions((Button("Accept " * 20, "agree.accept", "42", "primary"), Button("No", "agree.no"))),
        )
    ),
    Message(
        (
            Actions(
                (
                    Button("Stop & <go>", "a" * 255, "v" * 2000, "danger"),
                    *(Button(str(i), f"b{i}") for i in range(24)),
                )
            ),
        )
    ),
]


@pytest.mark.parametrize("message", MESSAGES)
def test_each_block_is_what_slack_sdk_models_make_of_it_and_passes_their_validation(message):
    blocks = block_dicts(message)
    assert blocks
    assert [Block.parse(b).to_dict() for b in blocks] == blocks  # to_dict() validates
    assert [b.to_dict() for b in to_blocks(message)] == blocks
    for block in blocks:
        texts = [block["text"]] if "text" in block else block.get("elements", [])
        assert all(len(t.get("text", "")) <= SECTION_LIMIT for t in texts if isinstance(t.get("text"), str))
    payload = message_payload(message)
    assert payload["blocks"] == blocks and payload["text"]


def test_long_text_is_cut_between_entities_and_nothing_is_lost():
    blocks = block_dicts(Message((Section((Plain(LONG),)),)))
    escaped = LONG.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert len(blocks) == -(-len(escaped) // SECTION_LIMIT)  # 16,800 characters: six sections
    joined = "".join(b["text"]["text"] for b in blocks)
    assert joined == escaped
    assert "<!channel>" not in joined


@pytest.mark.parametrize(
    "buttons",
    [
        (Button("ok", "x" * 256),),
        (Button("ok", "x", "v" * 2001),),
        (Button("ok", "x", "v", "blue"),),
        tuple(Button(str(i), f"b{i}") for i in range(26)),
    ],
    ids=["action id", "value", "style", "26 buttons"],
)
def test_a_button_slack_would_refuse_is_refused_here(buttons):
    as_models = ActionsBlock(
        elements=[
            ButtonElement(text=b.label, action_id=b.action_id, value=b.value, style=b.style) for b in buttons
        ]
    )
    with pytest.raises(SlackObjectFormationError):
        as_models.to_dict()  # slack_sdk's validation refuses it
    with pytest.raises(SlackObjectFormationError):
        block_dicts(Message((Actions(buttons),)))
