"""Bolt wiring: each listener acks fast, hands a neutral request to a practice, renders the reply.

Requests are verified before Bolt sees them (bot/slack/verify.py), so Bolt's own verification,
which logs whole request bodies, is off.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.messages import Reply, error
from bot.slack.identity import authorize_with
from bot.slack.render import reply_payload
from handlers import intro
from handlers.context import Command, Services
from handlers.registry import COMMANDS, Practice

log = logging.getLogger("candor.slack")

SOMETHING_WENT_WRONG = error(
    "Something went wrong on Candor's side and nothing was saved. Please try again in a minute."
)


def to_command(body: dict[str, Any]) -> Command:
    return Command(
        platform="slack",
        workspace=str(body.get("team_id") or ""),
        user=str(body.get("user_id") or ""),
        conversation=str(body.get("channel_id") or ""),
        text=str(body.get("text") or ""),
        delivery_id=body.get("trigger_id"),
    )


async def run_practice(practice: Practice, cmd: Command, services: Services) -> Reply:
    try:
        return await practice(cmd, services)
    except Exception:
        log.exception("practice failed", extra={"practice": practice.__module__})
        return SOMETHING_WENT_WRONG


def _from_bot(body: dict[str, Any]) -> bool:
    event = body.get("event") or {}
    return bool(event.get("bot_id") or event.get("subtype") == "bot_message")


def build_bolt_app(client: AsyncWebClient, services: Services) -> AsyncApp:
    app = AsyncApp(
        client=client,
        token=None,
        authorize=authorize_with(client),
        signing_secret=services.settings.slack_signing_secret,
        process_before_response=True,
        request_verification_enabled=False,
        logger=logging.getLogger("candor.bolt"),
    )

    @app.middleware
    async def ignore_bots(body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> Any:
        if _from_bot(body):
            return BoltResponse(status=200, body="")
        return await next()

    def command(practice: Practice) -> Callable[..., Awaitable[None]]:
        async def listener(ack: AsyncAck, body: dict[str, Any]) -> None:
            reply = await run_practice(practice, to_command(body), services)
            await ack(**reply_payload(reply))

        return listener

    for name, practice in COMMANDS.items():
        app.command(name)(command(practice))

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], body: dict[str, Any]) -> None:
        intro.answer_mention(
            services,
            platform="slack",
            conversation=event.get("channel", ""),
            thread=event.get("thread_ts") or event.get("ts"),
            user=event.get("user", ""),
            delivery_id=str(body.get("event_id") or event.get("ts")),
        )

    return app
