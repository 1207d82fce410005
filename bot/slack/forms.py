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
    RichTextInputElement,
    StaticMultiSelectElement,
    StaticSelectElement,
    TimePickerElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.messages import Field, Form, Message, Values
from bot.slack.render import to_blocks
from handlers.text import Mentioned


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
    if field.kind == "text_with_mentions":  # Slack marks the people typed with @ as user elements
        return RichTextInputElement(
            action_id=field.id, initial_value=_rich_text(initial, field.initial_mentions)
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


def _rich_text(text: str | None, mentions: tuple[Mentioned, ...]) -> dict[str, Any] | None:
    """A text_with_mentions field's initial value: the text, each marked person a user element."""
    if not text:
        return None
    elements: list[dict[str, Any]] = []
    done = 0
    for mention in sorted(mentions, key=lambda m: m.at):
        if mention.at < done or not mention.text or not text.startswith(mention.text, mention.at):
            continue
        if mention.at > done:
            elements.append({"type": "text", "text": text[done : mention.at]})
        elements.append({"type": "user", "user_id": mention.user})
        done = mention.at + len(mention.text)
    if done < len(text):
        elements.append({"type": "text", "text": text[done:]})
    return {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": elements}]}


def _inline(element: Any) -> tuple[str, str | None]:
    """How one rich-text element reads as text, and the user it marks, if it is a person."""
    if not isinstance(element, dict):
        return "", None
    kind = element.get("type")
    if kind == "text":
        return str(element.get("text") or ""), None
    if kind == "user":
        user = str(element.get("user_id") or "")
        return ("@" + user, user) if user else ("", None)
    if kind == "channel":
        return "#" + str(element.get("channel_id") or ""), None
    if kind == "usergroup":
        return "@" + str(element.get("usergroup_id") or ""), None
    if kind == "broadcast":
        return "@" + str(element.get("range") or ""), None
    if kind == "emoji":
        return f":{element.get('name') or ''}:", None
    if kind == "link":
        url, label = str(element.get("url") or ""), str(element.get("text") or "")
        return (f"{label} ({url})" if label and label != url else url), None
    return "", None


def read_rich_text(value: Any) -> tuple[str, tuple[Mentioned, ...]]:
    """A rich_text_input's value as the text the person wrote (each person as "@" and their id)
    and the people Slack marked in it, each at its place. Shapes other than Slack's read as
    nothing, never as an error: the edge has checked that the payload is signed."""
    text = ""
    mentions: list[Mentioned] = []
    blocks = value.get("elements") if isinstance(value, dict) else None
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, dict):
            continue
        # A list holds one section per item; every other block is one run of inline elements.
        runs = block.get("elements") if block.get("type") == "rich_text_list" else [block]
        for run in runs if isinstance(runs, list) else []:
            inline = run.get("elements") if isinstance(run, dict) else None
            if text and not text.endswith("\n"):
                text += "\n"
            for element in inline if isinstance(inline, list) else []:
                shown, user = _inline(element)
                if user:
                    mentions.append(Mentioned(user=user, text=shown, at=len(text)))
                text += shown
    return text, tuple(mentions)


def form_mentions(view: dict[str, Any]) -> dict[str, tuple[Mentioned, ...]]:
    """The people Slack marked in each text_with_mentions field (a rich_text_input)."""
    found: dict[str, tuple[Mentioned, ...]] = {}
    for block_id, actions in (view.get("state") or {}).get("values", {}).items():
        for state in actions.values():
            if state.get("type") == "rich_text_input":
                found[block_id] = read_rich_text(state.get("rich_text_value"))[1]
    return found


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
            elif kind == "rich_text_input":
                values[block_id] = read_rich_text(state.get("rich_text_value"))[0]
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
