"""Teams on the platform seam: `POST /api/messages`, the Bot Connector clients, the directory,
the sender and the way commands are written.

A request is read within the edge's limits, then: JSON only (415 otherwise), a body that parses
into an activity of a type Teams sends (400 otherwise), its token checked by the SDK (401 for a
missing, forged, expired or wrong-audience token, never a 500), and only then handed to the bot.
An invoke (a dialog) is answered in the HTTP response; everything else with 200.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes

from bot.clock import Clock
from bot.config import Settings
from bot.platform import Connected, Health
from bot.replays import ReplayGuard
from bot.store import Store
from bot.teams.connector import CandorAuthentication, CandorToken, ReusedConnectors
from bot.teams.credentials import TokenCheck
from bot.teams.people import TeamsPeople
from bot.teams.sender import TeamsSender
from bot.teams.turns import CandorBot, on_turn_error
from handlers.context import Services, Syntax

log = logging.getLogger("candor.teams")

KNOWN_TYPES = frozenset(str(t.value) for t in ActivityTypes)  # what the Bot Framework defines


@dataclass(frozen=True)
class PlainSyntax:
    """Teams: commands are plain words to Candor ("kudos stats"), in its chat or @mentioning it."""

    invite_hint: str = "add Candor to that team (Apps, then Manage apps) or @mention Candor there once"

    def command(self, name: str, args: str = "") -> str:
        return f"{name} {args}".rstrip()


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def parse(body: bytes, content_type: str) -> Activity:
    """The activity in a request body, or Refused with the 4xx to answer."""
    if content_type != "application/json":
        raise Refused(415, "activities are JSON (Content-Type: application/json)")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, "the body is not JSON") from None
    if not isinstance(payload, dict):
        raise Refused(400, "an activity is a JSON object")
    kind = payload.get("type")
    if not isinstance(kind, str) or kind not in KNOWN_TYPES:
        raise Refused(400, "unknown activity type")
    service_url = payload.get("serviceUrl")
    if not isinstance(service_url, str) or not service_url.startswith(("https://", "http://")):
        raise Refused(400, "the activity has no serviceUrl")
    for part in ("conversation", "from", "recipient"):
        value = payload.get(part)
        if not isinstance(value, dict) or not isinstance(value.get("id"), str):
            raise Refused(400, f"the activity has no {part}")
    for part in ("entities", "membersAdded", "membersRemoved"):
        if part in payload and not isinstance(payload[part], list):
            raise Refused(400, f"{part} is not a list")
    try:
        return Activity().deserialize(payload)
    except Exception:
        raise Refused(400, "the activity could not be read") from None


class TeamsAdapter:
    platform = "teams"
    syntax: Syntax = PlainSyntax()

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._auth: CandorAuthentication | None = None
        self._inbound: CloudAdapter | None = None
        self._people: TeamsPeople | None = None
        self._bot: CandorBot | None = None
        self._credentials: TokenCheck | None = None
        self.connectors: ReusedConnectors | None = None

    async def open(self, store: Store) -> Connected:
        settings = self.settings
        self._session = aiohttp.ClientSession()
        token = CandorToken(settings, self._session) if settings.microsoft_app_id else None
        self._credentials = TokenCheck(token, settings.teams_auth_retry_s)
        try:
            await self._credentials.check_at_start()  # refused credentials stop start-up here
        except BaseException:
            await self.close()
            raise
        self.connectors = ReusedConnectors(self._session, token, settings.teams_request_timeout_s)
        self._auth = CandorAuthentication(settings, self.connectors)
        self._inbound = CloudAdapter(self._auth)
        self._inbound.on_turn_error = on_turn_error
        outbound = CloudAdapter(self._auth)  # no on_turn_error: a failed send must reach the outbox
        self._people = TeamsPeople(
            store,
            self.connectors,
            outbound,
            app_id=settings.microsoft_app_id,
            admins=settings.admins,
            timeout=settings.teams_request_timeout_s,
        )
        if not settings.microsoft_app_id:
            log.warning("Teams runs without token checks (CANDOR_TEAMS_WITHOUT_AUTH): for the Emulator only")
        sender = TeamsSender(outbound, store, self._people, settings.microsoft_app_id, token)
        return Connected(people=self._people, sender=sender)

    def serve(self, services: Services, replays: ReplayGuard) -> None:
        assert self._people is not None, "open() first"
        self._bot = CandorBot(services, self._people, replays)

    def health(self) -> Health:
        """Whether the last request for Candor's connector token got one (see credentials.py)."""
        state = self._credentials.state if self._credentials is not None else "checking"
        return Health(state=state, unavailable=state == "rejected")

    async def close(self) -> None:
        if self._credentials is not None:
            await self._credentials.stop()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()  # already read, within the edge's limits (bot/edge.py)
        try:
            activity = parse(body, request.content_type)
        except Refused as refused:
            log.warning("malformed Teams request; refused", extra={"reason": refused.reason})
            return web.json_response({"error": refused.reason}, status=refused.status)
        if self._bot is None or self._auth is None or self._inbound is None:
            return web.json_response({"error": "starting"}, status=503)
        try:
            authenticated = await self._auth.authenticate_request(
                activity, request.headers.get("Authorization")
            )
        except Exception as exc:  # whatever the SDK raised for a bad token: refused, never a 500
            log.warning(
                "Teams request with a missing or invalid token; refused", extra={"error": type(exc).__name__}
            )
            return web.json_response({"error": "unauthorized"}, status=401)
        try:
            response = await self._inbound.process_activity(authenticated, activity, self._bot.on_turn)
        except Exception:  # outside the turn (on_turn_error covers the turn itself): a bug of ours
            log.exception("a Teams activity could not be processed")
            return web.json_response({"error": "internal error"}, status=500)
        if response is not None:
            return web.json_response(_body(response.body), status=int(response.status))
        return web.Response(status=200)


def _body(body: Any) -> Any:
    return body.serialize() if hasattr(body, "serialize") else body


def mount(app: web.Application, settings: Settings, clock: Clock) -> TeamsAdapter:
    """Teams' entry point on the platform seam: one route for every activity."""
    adapter = TeamsAdapter(settings, clock)
    app.router.add_post("/api/messages", adapter.handle)
    return adapter
