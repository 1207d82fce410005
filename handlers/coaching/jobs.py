"""The check-in reminder: on a note's next check-in date, its author gets one DM (not its text).

Due notes are found by time, so a process that was down catches up; each is claimed with a
conditional update in the transaction that queues the DM, so it is sent once however many
processes run the job.
"""

from __future__ import annotations

from functools import partial

from sqlite_utils import Database

from bot import outbox
from bot.outbox import Person
from handlers.coaching import store, views
from handlers.coaching.store import Note
from handlers.context import Services

BATCH = 100


def _remind(tx: Database, note: Note, now: float) -> bool:
    if not store.claim_checkin(tx, note_id=note.id, now=now):
        return False
    outbox.enqueue(
        tx, platform=note.platform, to=Person(note.author), message=views.checkin_message(note), now=now
    )
    return True


async def checkins_due(services: Services) -> list[Note]:
    """Notes whose check-in date came (not yet claimed)."""
    now = services.clock.now()
    return await services.store.read(lambda db: store.due_checkins(db, now=now, limit=BATCH))


async def remind(services: Services, due: list[Note]) -> int:
    """Remind each author, claiming each note first: one another process reminded is not sent again."""
    now = services.clock.now()
    sent = 0
    for note in due:
        if await services.store.run(partial(_remind, note=note, now=now)):
            sent += 1
    return sent


async def remind_checkins(services: Services) -> int:
    """The job."""
    return await remind(services, await checkins_due(services))
