"""What Slack sends, checked once at the edge: a body that is not shaped like it is refused.

Slack signs every request, so a malformed signed body is a bug or a leaked secret, never a person
to help; it gets a 400 and one log line whose reason is fixed text (never request content, which
may come from an anonymous author). Everything after this module may rely on the shapes checked
here. The body is parsed here once and handed on as JSON, so Bolt never guesses the format.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from bot.slack.forms import form_values

# A slash command has about 15 fields and interactivity sends one (`payload`): far more is not
# Slack, and parsing hundreds of thousands of fields would hold up the event loop.
MAX_FORM_FIELDS = 50


class Refused(Exception):
    """The body is not one Slack would send. `reason` is fixed text, safe to log."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def parse(raw: bytes, content_type: str) -> dict[str, Any]:
    """The request as Bolt reads it (a command's fields, or the JSON payload), or Refused."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("the body is not UTF-8") from None
    if content_type == "application/json":
        body = _json(text)
        _check_event(body)
        return body
    if content_type != "application/x-www-form-urlencoded":
        raise Refused("unexpected content type")
    fields = _form(text)
    if "payload" in fields:
        body = _json(fields["payload"])
        _check_interaction(body)
        return body
    if "ssl_check" in fields:  # Slack checking the certificate; Bolt answers it
        return fields
    if "command" in fields:
        _check_command(fields)
        return fields
    raise Refused("neither a command nor an interaction")


def _form(text: str) -> dict[str, str]:
    if text.count("&") >= MAX_FORM_FIELDS:
        raise Refused("too many form fields", status=413)
    try:
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise Refused("the body is not a form") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise Refused("a form field is repeated")
    return fields


def _json(text: str) -> dict[str, Any]:
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested thousands of levels deep
        raise Refused("the body is not JSON") from None
    if not isinstance(body, dict):
        raise Refused("the JSON is not an object")
    return body


def _text(container: dict[str, Any], key: str, what: str, *, required: bool = True) -> None:
    value = container.get(key)
    if value is None and not required:
        return
    if not isinstance(value, str) or (required and not value):
        raise Refused(f"{what} is missing or not text")


def _object(container: dict[str, Any], key: str, what: str, *, required: bool = True) -> dict[str, Any]:
    value = container.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise Refused(f"{what} is missing or not an object")
    return value


def _check_command(fields: dict[str, str]) -> None:
    if not fields["command"].startswith("/"):
        raise Refused("the command does not start with /")
    for key in ("user_id", "channel_id", "team_id"):
        if not fields.get(key, "").strip():
            raise Refused(f"the command has no {key}")


def _check_event(body: dict[str, Any]) -> None:
    _text(body, "type", "type")
    if body["type"] == "url_verification":
        _text(body, "challenge", "challenge")
    elif body["type"] == "event_callback":
        _text(body, "event_id", "event_id")
        _text(body, "team_id", "team_id")
        event = _object(body, "event", "event")
        _text(event, "type", "event.type")
        if event["type"] == "app_mention":
            for key in ("channel", "ts"):
                _text(event, key, f"event.{key}")
            for key in ("user", "thread_ts", "text"):  # a bot's mention has no user
                _text(event, key, f"event.{key}", required=False)


def _check_interaction(body: dict[str, Any]) -> None:
    _text(body, "type", "type")
    user = _object(body, "user", "user")
    _text(user, "id", "user.id")
    team = _object(body, "team", "team", required=False)  # null when the app is org-installed
    if not isinstance(team.get("id") or user.get("team_id"), str):
        raise Refused("the team is missing")
    if body["type"] == "block_actions":
        _check_actions(body)
    elif body["type"] == "view_submission":
        _text(body, "trigger_id", "trigger_id")
        _check_view(_object(body, "view", "view"), submitted=True)


def _check_actions(body: dict[str, Any]) -> None:
    _text(body, "trigger_id", "trigger_id")
    _text(body, "response_url", "response_url", required=False)
    channel = _object(body, "channel", "channel", required=False)  # absent for buttons in a modal
    _text(channel, "id", "channel.id", required=bool(channel))
    if "view" in body:
        _check_view(_object(body, "view", "view"), submitted=False)
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions:
        raise Refused("actions is missing or empty")
    for action in actions:
        if not isinstance(action, dict):
            raise Refused("an action is not an object")
        _text(action, "action_id", "action_id")
        _text(action, "value", "action value", required=False)


def _check_view(view: dict[str, Any], *, submitted: bool) -> None:
    _text(view, "type", "view.type")
    _text(view, "callback_id", "view.callback_id", required=submitted)
    _text(view, "private_metadata", "view.private_metadata", required=False)
    if "title" in view:
        _text(_object(view, "title", "view.title"), "text", "view.title.text", required=False)
    try:
        values = form_values(view)
    except (AttributeError, TypeError):
        raise Refused("view.state is malformed") from None
    for value in values.values():
        if not (value is None or isinstance(value, str) or _texts(value)):
            raise Refused("a form value is malformed")


def _texts(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
