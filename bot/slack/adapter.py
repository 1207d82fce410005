"""Slack on the platform seam: its route, its Web API client, its directory, sender and syntax.

`mount` adds `POST /slack/events` to the app. Requests are read within the edge's limits, their
signature checked with the injected clock, their shape checked, a replayed click or submission
answered at once, and only then handed to Bolt, which routes them to the practices.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock
from bot.config import Settings
from bot.platform import Connected, Health
from bot.replays import ReplayGuard
from bot.slack import payloads
from bot.slack.app import answer_command, build_bolt_app
from bot.slack.identity import BotIdentity, identity_for
from bot.slack.people import SlackPeople
from bot.slack.sender import SlackSender
from bot.slack.verify import SlackVerifier
from bot.store import Store
from bot.syntax import SlashSyntax
from handlers.context import Services, Syntax
from handlers.practice import CommandHandler

log = logging.getLogger("candor.slack")


class SlackAdapter:
    platform = "slack"
    syntax: Syntax = SlashSyntax()

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.verifier = SlackVerifier(settings.slack_signing_secret, clock)
        self._session: aiohttp.ClientSession | None = None
        self._client: AsyncWebClient | None = None
        self._identity: BotIdentity | None = None
        self._bolt: AsyncApp | None = None
        self._replays: ReplayGuard | None = None
        self._anonymous: frozenset[str] = frozenset()
        self._services: Services | None = None
        self._commands: dict[str, CommandHandler] = {}

    async def open(self, store: Store) -> Connected:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        self._client = AsyncWebClient(
            token=self.settings.slack_bot_token,
            base_url=self.settings.slack_api_url,
            session=self._session,
            retry_handlers=[],  # the outbox owns retries, with back-off and Retry-After
        )
        self._identity = identity_for(self._client, retry_s=self.settings.slack_auth_retry_s)
        try:
            await self._identity.check_at_start()  # a rejected token stops start-up here
        except BaseException:
            await self.close()
            raise
        people = SlackPeople(self._client, self.clock, self.settings.slack_request_timeout_s)
        return Connected(people=people, sender=SlackSender(self._client))

    def serve(self, services: Services, replays: ReplayGuard) -> None:
        assert self._client is not None, "open() first"
        self._replays = replays
        self._services = services
        self._commands = services.registry.commands
        self._anonymous = services.registry.anonymous
        self._bolt = build_bolt_app(self._client, services)

    def health(self) -> Health:
        state = self._identity.state if self._identity else "checking"
        return Health(state=state, unavailable=state == "rejected")

    async def close(self) -> None:
        if self._identity is not None:
            await self._identity.stop()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()  # already read, within the edge's limits (bot/edge.py)
        timestamp = request.headers.get("X-Slack-Request-Timestamp")
        if not self.verifier.is_valid(body, timestamp, request.headers.get("X-Slack-Signature")):
            return web.json_response({"error": "invalid signature"}, status=401)
        if self._bolt is None or self._replays is None:
            return web.json_response({"error": "starting"}, status=503)
        try:
            parsed = payloads.parse(body, request.content_type)
        except payloads.Refused as refused:
            log.warning("malformed Slack request; refused", extra={"reason": refused.reason})
            return web.json_response({"error": refused.reason}, status=refused.status)
        if not await self._first_delivery(parsed, float(timestamp or 0)):
            return web.Response(status=200)  # a replay: the first delivery was answered already
        practice = self._commands.get(str(parsed.get("command") or "").removeprefix("/"))
        if practice is not None and self._client is not None and self._services is not None:
            # Slash commands, the busiest path, go straight to their practice (see answer_command);
            # Bolt routes buttons, forms and events.
            answer = await answer_command(practice, parsed, self._services, self._client)
            return web.json_response(answer) if answer else web.Response(status=200)
        headers: dict[str, str | Sequence[str]] = {
            k: v for k, v in request.headers.items() if k.lower() != "content-type"
        }
        bolt_request = AsyncBoltRequest(
            body=json.dumps(parsed),  # parsed once here; Bolt's own guess misreads some forms
            query=request.query_string,
            headers={**headers, "Content-Type": "application/json"},
        )
        return await to_aiohttp_response(await self._bolt.async_dispatch(bolt_request))

    async def _first_delivery(self, body: dict[str, Any], signed_at: float) -> bool:
        """False for a button click or form submission seen before (Slack's trigger_id)."""
        assert self._replays is not None
        if body.get("type") == "block_actions":
            flow = body["actions"][0]["action_id"]
        elif body.get("type") == "view_submission":
            flow = body["view"]["callback_id"]
        else:
            return True  # commands and events are deduplicated by the practices, in their transaction
        anonymous = flow in self._anonymous
        try:
            first = await self._replays.first_time(
                body["trigger_id"], anonymous=anonymous, signed_at=signed_at
            )
        except Exception as exc:  # the store cannot record it; the practice will say nothing was saved
            log.warning("could not record an interaction as handled", extra={"error": type(exc).__name__})
            return True
        if not first and not anonymous:
            log.info("repeated interaction ignored", extra={"flow": flow})
        return first


def mount(app: web.Application, settings: Settings, clock: Clock) -> SlackAdapter:
    """Slack's entry point on the platform seam: one route for commands, interactivity, events."""
    adapter = SlackAdapter(settings, clock)
    app.router.add_post("/slack/events", adapter.handle)
    return adapter
