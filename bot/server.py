"""The one aiohttp server: Slack's endpoint, the health check, and the lifecycle of the runtime."""

from __future__ import annotations

import asyncio
import contextlib
import gc
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

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.logs import request_id
from bot.outbox import Dispatcher
from bot.scheduler import Scheduler
from bot.slack.app import build_bolt_app
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
    body = await request.read()
    verifier = request.app[VERIFIER]
    if not verifier.is_valid(
        body,
        request.headers.get("X-Slack-Request-Timestamp"),
        request.headers.get("X-Slack-Signature"),
    ):
        return web.json_response({"error": "invalid signature"}, status=401)
    try:
        bolt_request = AsyncBoltRequest(
            body=body.decode("utf-8", errors="replace"),
            query=request.query_string,
            headers=dict(request.headers),
        )
    except ValueError:  # a signed body that is not the JSON or form it claims to be
        return web.json_response({"error": "malformed body"}, status=400)
    bolt_response = await request.app[BOLT].async_dispatch(bolt_request)  # type: ignore[attr-defined]
    return await to_aiohttp_response(bolt_response)


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

    return Scheduler(
        services.store,
        services.clock,
        fire,
        grace_s=services.settings.schedule_grace_s,
        periodic=(
            ("checkin-reminders", reminders, 60.0),
            ("speakup-publications", speakup_publications, 60.0),
            ("speakup-deadlines", speakup_deadlines, 3600.0),
        ),
    )


def build_app(settings: Settings, *, clock: Clock | None = None) -> web.Application:
    """The whole runtime; nothing touches the network or the disk until the app starts."""
    clock = clock or SystemClock()
    app = web.Application(middlewares=[request_log], client_max_size=1024**2)

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
