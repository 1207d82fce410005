"""Candor's own web pages, on the same aiohttp server as the platforms: the dashboard.

`mount(app, settings, clock, services_of)` adds `GET /dashboard`; the server calls it as it mounts
the platforms, and knows nothing else about it. `services_of` gives the running services (None
while Candor starts).
"""

from __future__ import annotations

from aiohttp import web

from bot.clock import Clock
from bot.config import Settings
from bot.web.dashboard import Dashboard, ServicesOf


def mount(app: web.Application, settings: Settings, clock: Clock, services_of: ServicesOf) -> None:
    app.router.add_get("/dashboard", Dashboard(settings, clock, services_of).get)


__all__ = ["mount"]
