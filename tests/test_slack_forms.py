"""Neutral forms become Slack modals validated by slack_sdk's models, and their answers come back."""

from __future__ import annotations

import pytest
from slack_sdk.models.views import View

from bot.messages import Field, Form
from bot.slack.forms import form_values, form_view


def test_a_date_field_is_a_date_picker_and_its_answer_an_iso_date():
    form = Form("cb", "Dates", "Save", (Field("due", "Due date", "date", initial="2026-12-15"),))
    view = form_view(form)
    View(**view)  # Slack's own model accepts it
    element = view["blocks"][0]["element"]
    assert (element["type"], element["initial_date"]) == ("datepicker", "2026-12-15")
    state = {"values": {"due": {"due": {"type": "datepicker", "selected_date": "2027-01-04"}}}}
    assert form_values({"state": state}) == {"due": "2027-01-04"}


def test_a_text_with_mentions_field_is_rich_text_and_its_people_come_back_marked():
    from bot.slack.forms import form_mentions, read_rich_text
    from handlers.text import Mentioned

    shown = "@U1 2026-12-15 add a canary\n@U2 2026-12-20 pair with @U1"
    marks = (Mentioned("U1", "@U1", 0), Mentioned("U2", "@U2", 28), Mentioned("U1", "@U1", 53))
    form = Form(
        "cb",
        "Lines",
        "Save",
        (Field("lines", "Lines", "text_with_mentions", initial=shown, initial_mentions=marks),),
    )
    view = form_view(form)
    View(**view)  # Slack's own model accepts it
    element = view["blocks"][0]["element"]
    assert element["type"] == "rich_text_input"
    users = [
        e["user_id"]
        for s in element["initial_value"]["elements"]
        for e in s["elements"]
        if e["type"] == "user"
    ]
    assert users == ["U1", "U2", "U1"]
    # What Slack sends back: a section per line here, the people as user elements.
    state = {
        "values": {
            "lines": {"lines": {"type": "rich_text_input", "rich_text_value": element["initial_value"]}}
        }
    }
    assert form_values({"state": state}) == {"lines": shown}
    assert form_mentions({"state": state}) == {"lines": marks}
    # Lists, quotes, links, emoji and channels read as text; only people are marked.
    value = {
        "type": "rich_text",
        "elements": [
            {
                "type": "rich_text_list",
                "elements": [
                    {
                        "type": "rich_text_section",
                        "elements": [{"type": "user", "user_id": "U3"}, {"type": "text", "text": " one"}],
                    },
                    {
                        "type": "rich_text_section",
                        "elements": [
                            {"type": "emoji", "name": "tada"},
                            {"type": "channel", "channel_id": "C1"},
                        ],
                    },
                ],
            },
            {
                "type": "rich_text_quote",
                "elements": [{"type": "link", "url": "https://x.example", "text": "x"}],
            },
        ],
    }
    assert read_rich_text(value) == (
        "@U3 one\n:tada:#C1\nx (https://x.example)",
        (Mentioned("U3", "@U3", 0),),
    )


@pytest.mark.parametrize(
    "value",
    [None, "text", [], {"elements": "no"}, {"elements": [1, None, {"elements": [5, {"type": "user"}]}]}],
)
def test_a_rich_text_value_of_another_shape_reads_as_nothing_and_never_raises(value):
    from bot.slack.forms import read_rich_text

    text, mentions = read_rich_text(value)
    assert mentions == () and isinstance(text, str)
