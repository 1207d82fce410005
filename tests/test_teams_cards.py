"""Adaptive Card rendering on its own: size, escaping, forms round-tripping through a dialog, and
botbuilder kept inside bot/teams/."""

from __future__ import annotations

import re
from pathlib import Path

from bot.config import REPO_ROOT
from bot.messages import Choice, Field, Form, Mention, Message, Quote, Section, Strong, rich
from bot.teams.cards import (
    MAX_CARD_BYTES,
    activity_parts,
    decode_form,
    encode_form,
    form_card,
    message_card,
    size_of,
)
from tests.support.teams import assert_valid_card, card_text


def test_a_huge_message_is_shortened_under_80_kb_and_stays_valid():
    message = Message(tuple(Quote("é" * 3000 + f" end {i}") for i in range(60)))  # ~360 kB of text
    card = message_card(message, {})
    assert size_of(card) < MAX_CARD_BYTES
    assert_valid_card(card)
    assert "… (shortened)" in card_text(card)


def test_only_candors_mentions_notify_and_names_are_escaped():
    message = Message(
        (Section(rich(Mention("29:a"), " thanked ", Mention("29:b"), " for ", Strong("<at>x</at> & **y**"))),)
    )
    parts = activity_parts(message, {"29:a": "Ann <script>", "29:b": "Ben"})
    assert (
        parts["text"]
        == "<at>Ann &lt;script&gt;</at> thanked <at>Ben</at> for <b>&lt;at&gt;x&lt;/at&gt; &amp; **y**</b>"
    )
    assert [e["mentioned"]["id"] for e in parts["entities"]] == ["29:a", "29:b"]
    quiet = activity_parts(message, {"29:a": "Ann", "29:b": "Ben"}, notify=False)
    assert "entities" not in quiet and "@Ann thanked @Ben" in card_text(quiet["attachments"][0]["content"])


def test_a_form_survives_the_round_trip_through_its_submit_button():
    form = Form(
        callback="checkin_create",
        title="Schedule a check-in",
        submit="Schedule",
        intro=(Section(rich("Pick ", Strong("days"))),),
        fields=(
            Field(
                "days",
                "Days",
                "checkboxes",
                choices=(Choice("mon", "Monday"), Choice("tue", "Tuesday")),
                initial=("mon",),
            ),
            Field("note", "Note", "multiline", optional=True, max_length=500, hint="A hint"),
        ),
        context="ctx-1",
    )
    card = form_card(form, {}, errors={"note": "Too long", "other": "Somewhere else"})
    assert_valid_card(card)
    assert decode_form(card["actions"][0]["data"]["form"]) == form
    assert encode_form(form)["callback"] == "checkin_create"
    text = card_text(card)
    assert "Too long" in text and "Somewhere else" in text and "A hint" in text


def test_botbuilder_is_imported_only_inside_bot_teams():
    pattern = re.compile(r"^\s*(from|import)\s+(botbuilder|botframework|msrest|msal)\b", re.MULTILINE)
    outside = []
    for path in [*(REPO_ROOT / "bot").rglob("*.py"), *(REPO_ROOT / "handlers").rglob("*.py")]:
        if Path("bot", "teams") in path.relative_to(REPO_ROOT).parents:
            continue
        if pattern.search(path.read_text()):
            outside.append(str(path.relative_to(REPO_ROOT)))
    assert outside == []
