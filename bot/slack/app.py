"""Bolt wiring: each listener hands a neutral request to a practice and renders what comes back.

Requests are verified before Bolt sees them (bot/slack/verify.py), so Bolt's own verification,
which logs whole request bodies, is off. With `process_before_response=True` the ack is the HTTP
response, sent when the listener returns; the slow work (posting) is left to the outbox. Slash
commands are answered by `answer_command` before Bolt (bot/slack/adapter.py): the same neutral
request and rendering, without Bolt's per-request dispatch.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.messages import FormErrors, Reply, error
from bot.slack.forms import form_mentions, form_values, form_view, home_view, result_view
from bot.slack.identity import authorize_with, failure_code
from bot.slack.render import reply_payload
from bot.slack.wire import command_text
from bot.store import DB_ERRORS, StoreUnavailable, error_name, is_storage_error
from handlers import intro
from handlers.context import Action, Command, Services, Submission
from handlers.reports import home

log = logging.getLogger("candor.slack")

SOMETHING_WENT_WRONG = error(
    "Something went wrong on Candor's side and nothing was saved. Please try again in a minute."
)
NOT_SAVED = error(
    "Candor cannot save anything right now (its database is not taking changes), so this was "
    "not saved. Please try again in a few minutes."
)
SLACK_UNREACHABLE = error(
    "Candor could not reach Slack to check this, so nothing was saved. Please try again in a minute."
)


def to_command(body: dict[str, Any]) -> Command:
    text, mentions = command_text(str(body.get("text") or ""))
    return Command(
        platform="slack",
        workspace=str(body.get("team_id") or ""),
        user=str(body.get("user_id") or ""),
        conversation=str(body.get("channel_id") or ""),
        text=text,
        mentions=mentions,
        delivery_id=body.get("trigger_id"),
    )


def _team(body: dict[str, Any]) -> str:
    return str((body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id") or "")


def to_action(body: dict[str, Any]) -> Action:
    action = (body.get("actions") or [{}])[0]
    return Action(
        platform="slack",
        workspace=_team(body),
        user=str((body.get("user") or {}).get("id") or ""),
        conversation=str((body.get("channel") or {}).get("id") or ""),
        action_id=str(action.get("action_id") or ""),
        value=str(action.get("value") or ""),
        delivery_id=body.get("trigger_id"),
    )


def to_submission(body: dict[str, Any]) -> Submission:
    view = body.get("view") or {}
    return Submission(
        platform="slack",
        workspace=_team(body),
        user=str((body.get("user") or {}).get("id") or ""),
        callback=str(view.get("callback_id") or ""),
        values=form_values(view),
        context=str(view.get("private_metadata") or ""),
        mentions=form_mentions(view),
    )


async def run_safely(handler: Callable[..., Awaitable[Any]], request: Any, services: Services) -> Any:
    """A practice's answer, or a clear ephemeral error.

    A database that cannot take writes, or a failed call to Slack, is one log line with its code
    and a "not saved, try again" answer; anything else is a bug, logged with its trace.
    """
    practice = getattr(handler, "__qualname__", "?")
    try:
        # Checked first: a write into a deleted file would be acknowledged and then lost.
        services.store.check_file()
        return await handler(request, services)
    except StoreUnavailable:
        log.error("not saved: the database file was deleted or replaced", extra={"practice": practice})
        return NOT_SAVED
    except DB_ERRORS as exc:
        if not is_storage_error(exc):
            log.exception("practice failed", extra={"practice": practice})
            return SOMETHING_WENT_WRONG
        log.error(
            "not saved: the database refused the write",
            extra={"practice": practice, "error": error_name(exc)},
        )
        return NOT_SAVED
    except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
        log.warning("a call to Slack failed", extra={"practice": practice, "error": failure_code(exc)})
        return SLACK_UNREACHABLE
    except Exception:
        log.exception("practice failed", extra={"practice": practice})
        return SOMETHING_WENT_WRONG


async def open_or_reply(
    reply: Reply, trigger_id: str | None, client: AsyncWebClient, limit_s: float
) -> Reply | None:
    """Open the reply's form if it has one; None when it opened, else the reply to show."""
    if reply.form is None:
        return reply
    try:
        await asyncio.wait_for(client.views_open(trigger_id=trigger_id, view=form_view(reply.form)), limit_s)
    except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
        log.warning("views.open failed", extra={"error": failure_code(exc)})  # one line, no trace
        return error("I could not open the form. Please run the command again.")
    except Exception:
        log.exception("views.open failed")
        return error("I could not open the form. Please run the command again.")
    return None


async def answer_command(
    practice: Callable[..., Awaitable[Reply]],
    body: dict[str, Any],
    services: Services,
    client: AsyncWebClient,
) -> dict[str, Any] | None:
    """Run a slash command's practice: the ephemeral answer to ack with, or None when it opened a
    form. The adapter calls it for every registered command, before Bolt: Bolt's dispatch (a
    new context, its middleware, listener matching) costs more than the practice itself."""
    reply = await run_safely(practice, to_command(body), services)
    shown = await open_or_reply(
        reply, body.get("trigger_id"), client, services.settings.slack_request_timeout_s
    )
    return None if shown is None else reply_payload(shown)


def _from_bot(body: dict[str, Any]) -> bool:
    event = body.get("event") or {}
    return bool(event.get("bot_id") or event.get("subtype") == "bot_message")


class _ExpectedNotice(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN is ignored when `authorize` is given: true, and intended."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "will be ignored" not in record.getMessage() and "will be unused" not in record.getMessage()


def build_bolt_app(client: AsyncWebClient, services: Services) -> AsyncApp:
    bolt_log = logging.getLogger("candor.bolt")
    if not any(isinstance(f, _ExpectedNotice) for f in bolt_log.filters):
        bolt_log.addFilter(_ExpectedNotice())
    app = AsyncApp(
        client=client,
        token=None,
        authorize=authorize_with(client, services.settings.slack_request_timeout_s),
        signing_secret=services.settings.slack_signing_secret,
        process_before_response=True,
        request_verification_enabled=False,
        logger=bolt_log,
    )

    timeout = services.settings.slack_request_timeout_s

    @app.middleware
    async def ignore_bots(body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> Any:
        if _from_bot(body):
            return BoltResponse(status=200, body="")
        return await next()

    async def publish_home(workspace: str, user: str) -> None:
        """Build the person's home (handlers/reports/home.py) and publish it for them alone."""
        try:
            services.store.check_file()
            content = await home.for_person(services, "slack", workspace, user)
            await asyncio.wait_for(client.views_publish(user_id=user, view=home_view(content)), timeout)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("views.publish failed", extra={"error": failure_code(exc)})
        except Exception:
            log.exception("the home tab could not be built")

    def action(handler: Callable[..., Awaitable[Reply]]) -> Callable[..., Awaitable[None]]:
        async def listener(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
            pressed = to_action(body)
            reply = await run_safely(handler, pressed, services)
            shown = await open_or_reply(reply, body.get("trigger_id"), client, timeout)
            if (body.get("view") or {}).get("type") == "home":
                # A button on the Home tab (a review action's Mark done) has no response_url to
                # answer on: the home is published again, so what the press changed shows there.
                await publish_home(pressed.workspace, pressed.user)
            await ack()
            if shown is not None and body.get("response_url"):
                await respond(replace_original=False, **reply_payload(shown))

        return listener

    def submission(handler: Callable[..., Awaitable[Reply | FormErrors]]) -> Callable[..., Awaitable[None]]:
        async def listener(ack: AsyncAck, body: dict[str, Any]) -> None:
            sub = to_submission(body)
            result = await run_safely(handler, sub, services)
            if isinstance(result, FormErrors):
                await ack(response_action="errors", errors=result.errors)
                return
            if result.form is not None:  # the next step: the modal becomes the form it answered
                await ack(response_action="update", view=form_view(result.form))
                return
            title = (body.get("view") or {}).get("title", {}).get("text") or "Candor"
            await ack(response_action="update", view=result_view(result.message, title))

        return listener

    # Slash commands never reach Bolt: the adapter answers them itself (answer_command).
    registry = services.registry
    for action_id, pressed in registry.actions.items():
        app.action(action_id)(action(pressed))
    for callback, submitted in registry.forms.items():
        app.view(callback)(submission(submitted))

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], body: dict[str, Any]) -> None:
        await intro.answer_mention(
            services,
            platform="slack",
            conversation=event.get("channel", ""),
            thread=event.get("thread_ts") or event.get("ts"),
            user=event.get("user", ""),
            delivery_id=str(body.get("event_id") or event.get("ts")),
        )

    @app.event("app_home_opened")
    async def on_home(event: dict[str, Any], body: dict[str, Any]) -> None:
        """The Home tab: what is the person's own, and for admins the team report and the dashboard
        link (handlers/reports/home.py); published for that person alone."""
        user = str(event.get("user") or "")
        if event.get("tab") != "home" or not user:
            return
        await publish_home(str(body.get("team_id") or ""), user)

    return app
