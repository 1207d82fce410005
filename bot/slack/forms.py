"""Neutral forms to Slack modals (slack_sdk.models, so Slack's limits are checked) and back."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    CheckboxesElement,
    ConversationFilter,
    ConversationSelectElement,
    DatePickerElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticMultiSelectElement,
    StaticSelectElement,
    TimePickerElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.messages import Field, Form, Message, Values
from bot.slack.render import to_blocks


def _options(field: Field) -> list[Option]:
    return [Option(value=c.value[:150], label=c.label[:75]) for c in field.choices]


def _initial_options(field: Field) -> list[Option] | None:
    wanted = field.initial if isinstance(field.initial, tuple) else (field.initial,)
    chosen = [o for o, c in zip(_options(field), field.choices, strict=True) if c.value in wanted]
    return chosen or None


def _element(field: Field) -> Any:
    initial = field.initial if isinstance(field.initial, str) else None
    if field.kind in ("text", "multiline"):
        return PlainTextInputElement(
            action_id=field.id,
            multiline=field.kind == "multiline",
            initial_value=initial,
            max_length=field.max_length,
        )
    if field.kind == "select":
        chosen = _initial_options(field)
        return StaticSelectElement(
            action_id=field.id, options=_options(field), initial_option=chosen[0] if chosen else None
        )
    if field.kind == "multi_select":
        return StaticMultiSelectElement(
            action_id=field.id, options=_options(field), initial_options=_initial_options(field)
        )
    if field.kind == "checkboxes":
        return CheckboxesElement(
            action_id=field.id, options=_options(field), initial_options=_initial_options(field)
        )
    if field.kind == "time":
        return TimePickerElement(action_id=field.id, initial_time=initial)
    if field.kind == "date":  # ISO date, YYYY-MM-DD, both ways
        return DatePickerElement(action_id=field.id, initial_date=initial)
    if field.kind == "channel":
        return ConversationSelectElement(
            action_id=field.id,
            initial_conversation=initial,
            filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
        )
    if field.kind == "user":
        return UserSelectElement(action_id=field.id, initial_user=initial)
    raise ValueError(f"unknown field kind {field.kind!r}")


def form_view(form: Form) -> dict[str, Any]:
    blocks: list[Any] = to_blocks(Message(form.intro))
    for field in form.fields:
        blocks.append(
            InputBlock(
                block_id=field.id,
                label=field.label[:2000],
                element=_element(field),
                optional=field.optional,
                hint=field.hint,
            )
        )
    return View(
        type="modal",
        callback_id=form.callback,
        title=form.title[:24],
        submit=form.submit[:24],
        close="Cancel",
        blocks=blocks,
        private_metadata=form.context[:3000],
    ).to_dict()


def result_view(message: Message, title: str) -> dict[str, Any]:
    """What the modal turns into after a successful submission."""
    return View(type="modal", title=title[:24], close="Done", blocks=to_blocks(message)).to_dict()


def home_view(message: Message) -> dict[str, Any]:
    """A person's Home tab (views.publish): at most 100 blocks, as Slack allows."""
    return View(type="home", blocks=to_blocks(message)[:100]).to_dict()


def form_values(view: dict[str, Any]) -> Values:
    """Flatten Slack's view.state into {field id: value}, the shape the practices read."""
    values: Values = {}
    for block_id, actions in (view.get("state") or {}).get("values", {}).items():
        for state in actions.values():
            kind = state.get("type")
            if kind == "plain_text_input":
                values[block_id] = state.get("value")
            elif kind == "static_select":
                values[block_id] = (state.get("selected_option") or {}).get("value")
            elif kind in ("multi_static_select", "checkboxes"):
                values[block_id] = [o.get("value") for o in state.get("selected_options") or []]
            elif kind == "timepicker":
                values[block_id] = state.get("selected_time")
            elif kind == "datepicker":
                values[block_id] = state.get("selected_date")
            elif kind == "conversations_select":
                values[block_id] = state.get("selected_conversation")
            elif kind == "users_select":
                values[block_id] = state.get("selected_user")
    return values
