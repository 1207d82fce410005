"""The one aiohttp server: each platform's routes, the health check, and the runtime's lifecycle.

It knows no platform. Each adapter mounts its own routes (bot/platform.py), and Candor's own pages
theirs (bot/web: the dashboard); at start-up the
server opens them, builds the services with their directories and syntaxes, gives the outbox
their senders, lets them serve, and starts the scheduler with every practice's timed work.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import gc
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from sqlite_utils import Database

from bot import postgres, retention
from bot.checkpoints import BackgroundCheckpoints
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.dispatcher import Dispatcher
from bot.edge import GUARD, ConnectionGuard, EdgeLimits, handler_args, read_limits
from bot.logs import request_id
from bot.platform import Adapter, Connected
from bot.platforms import mounts
from bot.replays import ReplayGuard
from bot.scheduler import Scheduler
from bot.store import Store, open_store
from bot.web import mount as mount_pages
from handlers.catalog import load_catalog
from handlers.context import Services
from handlers.practice import Registry
from handlers.registry import REGISTRY
from handlers.schedules.store import Schedule

log = logging.getLogger("candor.http")

STORE = web.AppKey("store", Store)
SERVICES = web.AppKey("services", Services)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
SCHEDULER = web.AppKey("scheduler", Scheduler)
REPLAYS = web.AppKey("replays", ReplayGuard)
ADAPTERS = web.AppKey("adapters", dict[str, Adapter])

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def request_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    rid = secrets.token_hex(8)
    token = request_id.set(rid)
    postgres.SERVING.set(True)  # this request's own context: see bot/postgres.py
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


async def healthz(request: web.Request) -> web.Response:
    """503 when a write would be lost or fail (the database) or a platform can post nothing (a
    rejected credential); "degraded" while a platform does not answer; otherwise ok."""
    store = request.app[STORE]
    database = await store.call(lambda _db: store.health())  # a real write: off the loop on PostgreSQL
    platforms = {name: adapter.health() for name, adapter in request.app[ADAPTERS].items()}
    if database != "ok" or any(h.unavailable for h in platforms.values()):
        status, code = "unavailable", 503
    elif any(h.state != "ok" for h in platforms.values()):
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    body = {"status": status, "database": database} | {name: h.state for name, h in platforms.items()}
    return web.json_response(body, status=code)


def build_scheduler(services: Services, registry: Registry) -> Scheduler:
    """Every practice's schedule kinds and periodic jobs, plus the runtime's own retention."""

    def fire(tx: Database, schedule: Schedule, occurrence: float, now: float) -> None:
        registry.fire(tx, schedule, occurrence, now, services)

    def periodic(run: Callable[[Services], Awaitable[object]]) -> Callable[[], Awaitable[object]]:
        async def job() -> object:
            return await run(services)

        return job

    async def prune_old_rows() -> None:
        await retention.prune(
            services.store,
            services.clock.now(),
            references=registry.outbox_references,
            permanent_keys=registry.permanent_keys,
        )

    jobs = tuple((job.name, periodic(job.run), job.every_s) for job in registry.periodic)
    return Scheduler(
        services.store,
        services.clock,
        fire,
        grace_s=services.settings.schedule_grace_s,
        periodic=(*jobs, ("retention", prune_old_rows, retention.PRUNE_EVERY_S)),
    )


def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    limits: EdgeLimits | None = None,
    registry: Registry = REGISTRY,
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
    adapters = {
        adapter.platform: adapter for adapter in (mount(app, settings, clock) for mount in mounts(settings))
    }
    app[ADAPTERS] = adapters
    mount_pages(app, settings, clock, lambda: app.get(SERVICES))

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        store = open_store(settings.database)
        opened: dict[str, Connected] = {}
        try:
            catalog = load_catalog(settings.data_dir)
            for name, adapter in adapters.items():
                opened[name] = await adapter.open(store)  # a rejected credential stops start-up here
        except BaseException:
            for name in opened:
                await adapters[name].close()
            store.close()
            raise
        services = Services(
            store=store,
            clock=clock,
            settings=settings,
            catalog=catalog,
            registry=registry,
            directories={name: c.people for name, c in opened.items()},
            syntaxes={name: adapter.syntax for name, adapter in adapters.items()},
            schedules_changed=lambda: scheduler.rebuild(),
        )
        scheduler = build_scheduler(services, registry)
        dispatcher = Dispatcher(
            store, {name: c.sender for name, c in opened.items()}, clock, lease_s=settings.outbox_lease_s
        )
        replays = ReplayGuard(store, clock)
        app[STORE] = store
        app[SCHEDULER] = scheduler
        app[SERVICES] = services
        app[DISPATCHER] = dispatcher
        app[REPLAYS] = replays
        for adapter in adapters.values():
            adapter.serve(services, replays)
        # The dispatcher and the scheduler's jobs serve too (bot/postgres.py SERVING); a copied
        # context keeps the flag off the caller's own, so a test's own reads are not counted.
        serving = contextvars.copy_context()
        serving.run(postgres.SERVING.set, True)
        task = asyncio.create_task(dispatcher.run(), name="outbox-dispatcher", context=serving)
        if reason := await store.values_logged():  # said once, for the operator; pulse users are told too
            log.warning("the pulse is paused: the database logs statement values", extra={"reason": reason})
        checkpoints = BackgroundCheckpoints(store)
        checkpoints.start()
        await asyncio.create_task(scheduler.start(), context=serving)  # awaited: it reads the schedules
        # What start-up loaded lives for the whole process: keep it out of the garbage collector's
        # full passes, which otherwise stall the event loop for tens of ms under load.
        gc.freeze()
        try:
            yield
        finally:
            await scheduler.shutdown()
            await dispatcher.stop()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await checkpoints.stop()
            for adapter in adapters.values():
                await adapter.close()
            store.close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_get("/healthz", healthz)
    return app
