"""Neutral forms become Slack modals validated by slack_sdk's models, and their answers come back."""

from __future__ import annotations

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
