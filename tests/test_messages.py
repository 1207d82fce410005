"""Outbox payloads: every message part survives encode/decode, under tags that do not change.

Rows wait in the outbox across deploys, so what one version writes the next must read: the tags
are stable names (not class names), the stored form is pinned, and rows written under the old
class-name tags still read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, get_args

import pytest

from bot.messages import (
    Actions,
    Block,
    Button,
    ChannelRef,
    Context,
    Divider,
    File,
    Mention,
    Message,
    Plain,
    Quote,
    Section,
    Span,
    Strong,
    decode,
    encode,
)
from bot.server import STORE
from tests.support.candor import blocks_text

EVERY_SPAN = (Plain("Thanks & <welcome>"), Strong("bold"), Mention("U0456"), ChannelRef("C0123"))

# Every block, with every span nested in each block that holds spans.
SAMPLE = Message(
    (
        Section(EVERY_SPAN),
        Quote("line one\nline two"),
        Context(EVERY_SPAN),
        Divider(),
        Actions((Button("Respond", "checkin_respond", "1:2", "primary"), Button("Later", "later"))),
        File("evidence.md", "# Evidence\n<!channel> & *as written*\n", "Evidence (Markdown)"),
    )
)

# What this version stores for SAMPLE. A renamed class keeps its tag; a renamed or removed field
# changes this, and then rows already queued could no longer be read: keep the old name.
STORED = {
    "t": "message",
    "blocks": [
        {
            "t": "section",
            "spans": [
                {"t": "plain", "text": "Thanks & <welcome>"},
                {"t": "strong", "text": "bold"},
                {"t": "mention", "user": "U0456"},
                {"t": "channel_ref", "conversation": "C0123"},
            ],
        },
        {"t": "quote", "text": "line one\nline two"},
        {
            "t": "context",
            "spans": [
                {"t": "plain", "text": "Thanks & <welcome>"},
                {"t": "strong", "text": "bold"},
                {"t": "mention", "user": "U0456"},
                {"t": "channel_ref", "conversation": "C0123"},
            ],
        },
        {"t": "divider"},
        {
            "t": "actions",
            "buttons": [
                {
                    "t": "button",
                    "label": "Respond",
                    "action_id": "checkin_respond",
                    "value": "1:2",
                    "style": "primary",
                },
                {"t": "button", "label": "Later", "action_id": "later", "value": "", "style": None},
            ],
        },
        {
            "t": "file",
            "name": "evidence.md",
            "content": "# Evidence\n<!channel> & *as written*\n",
            "title": "Evidence (Markdown)",
        },
    ],
}

# A row as the outbox stored it before the tags were stable (tagged with the class names of then).
LEGACY_ROW = (
    '{"t": "Message", "blocks": [{"t": "Section", "spans": [{"t": "Plain", "text": "Thanks & <welcome>"}, '
    '{"t": "Strong", "text": "bold"}, {"t": "Mention", "user": "U0456"}, {"t": "ChannelRef", "conversation": '
    '"C0123"}]}, {"t": "Quote", "text": "line one\\nline two"}, {"t": "Context", "spans": [{"t": "Plain", '
    '"text": "Thanks & <welcome>"}, {"t": "Strong", "text": "bold"}, {"t": "Mention", "user": "U0456"}, '
    '{"t": "ChannelRef", "conversation": "C0123"}]}, {"t": "Divider"}, {"t": "Actions", "buttons": [{"t": '
    '"Button", "label": "Respond", "action_id": "checkin_respond", "value": "1:2", "style": "primary"}, '
    '{"t": "Button", "label": "Later", "action_id": "later", "value": "", "style": null}]}]}'
)


def types_in(obj: Any) -> set[type]:
    found: set[type] = set()
    if is_dataclass(obj) and not isinstance(obj, type):
        found.add(type(obj))
        for f in fields(obj):
            found |= types_in(getattr(obj, f.name))
    elif isinstance(obj, tuple):
        for part in obj:
            found |= types_in(part)
    return found


def test_the_sample_holds_every_message_type():
    # A new span or block type must join SAMPLE (and get a tag), or this fails.
    every_type = {*get_args(Span), *get_args(Block), Button, Message}
    assert types_in(SAMPLE) == every_type


def test_every_message_type_round_trips_through_the_stored_json():
    stored = json.dumps(encode(SAMPLE), ensure_ascii=False)
    assert decode(json.loads(stored)) == SAMPLE


def test_the_stored_form_uses_stable_tags_not_class_names():
    assert encode(SAMPLE) == STORED
    assert decode(STORED) == SAMPLE


def test_rows_written_with_the_old_class_name_tags_still_read():
    # File came after the tags were stable: it never had a class-name tag.
    assert decode(json.loads(LEGACY_ROW)) == Message(
        tuple(b for b in SAMPLE.blocks if not isinstance(b, File))
    )


def test_a_part_without_a_tag_is_refused_when_queued_not_when_read():
    @dataclass(frozen=True)
    class Sparkle:
        text: str

    with pytest.raises(TypeError, match="Sparkle has no outbox tag"):
        encode(Message((Section((Sparkle("new"),)),)))  # type: ignore[arg-type]


async def test_a_row_queued_before_the_tags_changed_is_delivered_after(candor, slack, clock):
    with candor.app[STORE].transaction() as tx:
        tx.execute(
            "insert into outbox (platform, conversation, recipient, payload, status, attempts, not_before, "
            "created_at) values ('slack', 'CTEAM', 'channel', ?, 'pending', 0, ?, ?)",
            [LEGACY_ROW, clock.now(), clock.now()],
        )
    await candor.settle()
    assert [r["status"] for r in candor.outbox()] == ["sent"]
    [post] = slack.delivered_to("CTEAM")
    assert "Thanks &amp; &lt;welcome&gt;" in blocks_text(post) and "<@U0456>" in blocks_text(post)
