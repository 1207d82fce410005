"""The one aiohttp server: Slack's endpoint, the health check, and the lifecycle of the runtime."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot import retention
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.edge import GUARD, ConnectionGuard, EdgeLimits, handler_args, read_limits
from bot.logs import request_id
from bot.outbox import Dispatcher
from bot.replays import ReplayGuard
from bot.scheduler import Scheduler
from bot.slack import payloads
from bot.slack.app import ANONYMOUS_FLOWS, build_bolt_app
from bot.slack.identity import BotIdentity, identity_for
from bot.slack.people import SlackPeople
from bot.slack.sender import SlackSender
from bot.slack.verify import SlackVerifier
from bot.store import Store, open_store
from handlers import checkins, speakup
from handlers.catalog import load_catalog
from handlers.context import Services
from handlers.registry import FIRERS

log = logging.getLogger("candor.http")

STORE = web.AppKey("store", Store)
SERVICES = web.AppKey("services", Services)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
BOLT = web.AppKey("bolt", object)
VERIFIER = web.AppKey("verifier", SlackVerifier)
SCHEDULER = web.AppKey("scheduler", Scheduler)
REPLAYS = web.AppKey("replays", ReplayGuard)
IDENTITY = web.AppKey("identity", BotIdentity)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def request_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    rid = uuid.uuid4().hex[:16]
    token = request_id.set(rid)
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": status,
                "ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
        request_id.reset(token)


async def slack_events(request: web.Request) -> web.Response:
    body = await request.read()  # already read, within the edge's limits (bot/edge.py)
    verifier = request.app[VERIFIER]
    timestamp = request.headers.get("X-Slack-Request-Timestamp")
    if not verifier.is_valid(body, timestamp, request.headers.get("X-Slack-Signature")):
        return web.json_response({"error": "invalid signature"}, status=401)
    try:
        parsed = payloads.parse(body, request.content_type)
    except payloads.Refused as refused:
        log.warning("malformed Slack request; refused", extra={"reason": refused.reason})
        return web.json_response({"error": refused.reason}, status=refused.status)
    if not _first_delivery(request.app[REPLAYS], parsed, float(timestamp or 0)):
        return web.Response(status=200)  # a replay: the first delivery was answered already
    headers = {k: v for k, v in request.headers.items() if k.lower() != "content-type"}
    bolt_request = AsyncBoltRequest(
        body=json.dumps(parsed),  # parsed once here; Bolt's own guess misreads some forms
        query=request.query_string,
        headers=headers | {"Content-Type": "application/json"},
    )
    bolt_response = await request.app[BOLT].async_dispatch(bolt_request)  # type: ignore[attr-defined]
    return await to_aiohttp_response(bolt_response)


def _first_delivery(replays: ReplayGuard, body: dict[str, Any], signed_at: float) -> bool:
    """False for a button click or form submission seen before (Slack's trigger_id)."""
    if body.get("type") == "block_actions":
        flow = body["actions"][0]["action_id"]
    elif body.get("type") == "view_submission":
        flow = body["view"]["callback_id"]
    else:
        return True  # commands and events are deduplicated by the practices, in their transaction
    try:
        first = replays.first_time(body["trigger_id"], anonymous=flow in ANONYMOUS_FLOWS, signed_at=signed_at)
    except Exception as exc:  # the store cannot record it; the practice will say nothing was saved
        log.warning("could not record an interaction as handled", extra={"error": type(exc).__name__})
        return True
    if not first and flow not in ANONYMOUS_FLOWS:
        log.info("repeated interaction ignored", extra={"flow": flow})
    return first


async def healthz(request: web.Request) -> web.Response:
    """503 when a write would be lost or fail (the database) or nothing can be posted (a token
    Slack rejected); "degraded" while Slack does not answer; otherwise ok."""
    database = request.app[STORE].health()
    slack = request.app[IDENTITY].state
    if database != "ok" or slack == "rejected":
        status, code = "unavailable", 503
    elif slack != "ok":
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return web.json_response({"status": status, "database": database, "slack": slack}, status=code)


def build_scheduler(services: Services) -> Scheduler:
    def fire(tx: Any, row: dict[str, Any], occurrence: float, now: float) -> None:
        FIRERS[row["kind"]](tx, row, occurrence, now, services)

    async def reminders() -> None:
        await checkins.send_due_reminders(services)

    async def speakup_deadlines() -> None:
        speakup.flag_overdue(services)

    async def speakup_publications() -> None:
        speakup.publish_due(services)

    async def prune_old_rows() -> None:
        await retention.prune(services.store, services.clock.now())

    return Scheduler(
        services.store,
        services.clock,
        fire,
        grace_s=services.settings.schedule_grace_s,
        periodic=(
            ("checkin-reminders", reminders, 60.0),
            ("speakup-publications", speakup_publications, 60.0),
            ("speakup-deadlines", speakup_deadlines, 3600.0),
            ("retention", prune_old_rows, retention.PRUNE_EVERY_S),
        ),
    )


def build_app(
    settings: Settings, *, clock: Clock | None = None, limits: EdgeLimits | None = None
) -> web.Application:
    """The whole runtime; nothing touches the network or the disk until the app starts."""
    clock = clock or SystemClock()
    limits = limits or EdgeLimits()
    app = web.Application(
        middlewares=[request_log, read_limits],
        client_max_size=limits.max_body,
        handler_args=handler_args(limits),
    )
    app[GUARD] = ConnectionGuard(limits)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        store = open_store(settings.db_path)
        catalog = load_catalog(settings.data_dir)
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        client = AsyncWebClient(
            token=settings.slack_bot_token,
            base_url=settings.slack_api_url,
            session=session,
            retry_handlers=[],  # the outbox owns retries, with back-off and Retry-After
        )
        identity = identity_for(client, retry_s=settings.slack_auth_retry_s)
        try:
            await identity.check_at_start()  # a rejected token stops start-up here
        except BaseException:
            await session.close()
            store.close()
            raise
        services = Services(
            store=store,
            people=SlackPeople(client, clock, settings.slack_request_timeout_s),
            clock=clock,
            settings=settings,
            catalog=catalog,
            schedules_changed=lambda: scheduler.rebuild(),
        )
        scheduler = build_scheduler(services)
        dispatcher = Dispatcher(store, {"slack": SlackSender(client)}, clock)
        app[STORE] = store
        app[IDENTITY] = identity
        app[SCHEDULER] = scheduler
        app[SERVICES] = services
        app[DISPATCHER] = dispatcher
        app[VERIFIER] = SlackVerifier(settings.slack_signing_secret, clock)
        app[REPLAYS] = ReplayGuard(store, clock)
        app[BOLT] = build_bolt_app(client, services)
        task = asyncio.create_task(dispatcher.run(), name="outbox-dispatcher")
        scheduler.start()
        # What start-up loaded lives for the whole process: keep it out of the garbage collector's
        # full passes, which otherwise stall the event loop for tens of ms under load.
        gc.freeze()
        try:
            yield
        finally:
            await identity.stop()
            await scheduler.shutdown()
            await dispatcher.stop()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await session.close()
            store.close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_post("/slack/events", slack_events)
    app.router.add_get("/healthz", healthz)
    return app
