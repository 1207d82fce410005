"""A private message to an anonymous author (their case code), sent so that nothing remembers it.

It bypasses the outbox (no durable row names the author), runs after the answer in a task without
the request's context (no log line carries the request's id, and the request's duration does not
grow by it), and a failure is never logged when it happens, only counted: the count is logged once
a day, as a number, so no log line's time says when someone wrote.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from typing import TYPE_CHECKING

from bot.messages import Message
from handlers.anonymity.limits import Limits

if TYPE_CHECKING:  # handlers.context imports the limiter from this package
    from handlers.context import People

log = logging.getLogger("candor.anonymity")
_in_flight: set[asyncio.Task[None]] = set()  # messages being sent (a reference keeps each task alive)


def send_privately(people: People, user: str, message: Message, limits: Limits) -> None:
    """Start delivering `message` to `user` alone; returns at once. Call it from a request."""
    task = asyncio.get_running_loop().create_task(
        _send(people, user, message, limits), context=contextvars.Context()
    )
    _in_flight.add(task)
    task.add_done_callback(_in_flight.discard)


def sending() -> int:
    """How many private messages are still on their way (tests wait for none)."""
    return len(_in_flight)


async def _send(people: People, user: str, message: Message, limits: Limits) -> None:
    try:
        delivered = await people.send_private(user, message)
    except Exception:
        delivered = False
    if not delivered:
        limits.note_undelivered()


def report_undelivered(limits: Limits, now: float) -> None:
    """Log the failures since the last report, at most once a UTC day; a periodic job calls it."""
    count = limits.undelivered_report(now)
    if count:
        log.warning(
            "anonymous authors' private messages that could not be delivered since the last report",
            extra={"count": count},
        )
