"""Adaptive Card rendering on its own: size, escaping, forms round-tripping through a dialog
(tests/test_layers.py keeps botbuilder inside bot/teams/)."""

from __future__ import annotations

from bot.messages import Choice, Context, Field, Form, Mention, Message, Plain, Quote, Section, Strong, rich
from bot.teams.cards import (
    MAX_CARD_BYTES,
    MAX_PARTS,
    activity_parts,
    decode_form,
    encode_form,
    form_card,
    in_parts,
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


def quoted(message: Message) -> str:
    return "".join(b.text for b in message.blocks if isinstance(b, Quote))


def test_a_long_export_goes_whole_in_parts_that_each_fit_a_card():
    text = "".join(f"{i}. Ran the retro <!here> & **kept** it blameless {'é' * 150}\n" for i in range(2000))
    text += "x" * 200_000 + "\n\nlast line"  # a line longer than a part, and a blank line
    header = Section(rich("Evidence: Alice"))
    save = Context((Plain("Copy the text below into a file named evidence.md to keep it."),))
    after = Context((Plain("Sent because you asked."),))
    parts = in_parts(Message((header, save, Quote(text), after)))
    assert 3 < len(parts) <= MAX_PARTS
    assert parts[0].blocks[:2] == (header, save) and parts[-1].blocks[-1] == after
    assert all(header not in p.blocks and save not in p.blocks for p in parts[1:])
    assert all(after not in p.blocks for p in parts[:-1])
    for number, part in enumerate(parts, 1):
        label = f"Part {number} of {len(parts)}" + (", continued." if number > 1 else ".")
        assert Context((Plain(label),)) in part.blocks
        card = activity_parts(part, {})["attachments"][0]["content"]
        assert size_of(card) < MAX_CARD_BYTES and "(shortened)" not in card_text(card)
        assert_valid_card(card)
    assert "".join(quoted(p) for p in parts) == text  # every character, in order


def test_a_short_message_is_one_part_and_past_the_cap_the_last_part_is_shortened():
    short = Message((Quote("a short export\n"),))
    assert in_parts(short) == [short]
    huge = "".join(f"{i} {'y' * 1000}\n" for i in range(3000))  # ~3 MB: more than MAX_PARTS parts
    parts = in_parts(Message((Quote(huge),)))
    assert len(parts) == MAX_PARTS
    last = activity_parts(parts[-1], {})["attachments"][0]["content"]
    assert size_of(last) < MAX_CARD_BYTES and "… (shortened)" in card_text(last)


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
