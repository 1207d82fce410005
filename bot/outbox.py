"""The durable outgoing queue: what a practice posts, to whom, and when at the earliest.

A handler writes its posts here in the same transaction as its own rows (`enqueue`, `edit`); the
dispatcher (bot/dispatcher.py) delivers them later through each platform's `Sender`. Recipients
are explicit: a channel, or a person reached the way their platform does it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal, Protocol

from sqlite_utils import Database

from bot.messages import Message, encode


@dataclass(frozen=True)
class Channel:
    """A conversation many people read: a Slack or Teams channel, a group chat."""

    id: str  # the platform's id of the conversation


@dataclass(frozen=True)
class Person:
    """One person, reached privately the way their platform does it (Slack: a DM opened by user id;
    Teams: the personal conversation whose reference the adapter stored)."""

    id: str  # the platform's user id


Recipient = Channel | Person
# How a row's `recipient` column names each kind.
KINDS: dict[str, type[Channel] | type[Person]] = {"channel": Channel, "person": Person}


def recipient_kind(to: Recipient) -> str:
    return "person" if isinstance(to, Person) else "channel"


@dataclass(frozen=True)
class OutboxItem:
    id: int
    platform: str
    to: Recipient
    thread: str | None
    message: Message
    reply_to: int | None = None
    replaces: int | None = None  # the outbox row whose sent message this one edits
    update_ref: str | None = None  # set at send time: the platform's id of the message to edit

    @property
    def conversation(self) -> str:
        """The id the queue is keyed and paced by: the channel's, or the person's."""
        return self.to.id


@dataclass(frozen=True)
class SendOutcome:
    kind: Literal["sent", "rate_limited", "transient", "permanent"]
    ref: str | None = None
    error: str | None = None
    retry_after: float = 0.0


class Sender(Protocol):
    """Delivers one row on one platform. A sender that can deliver a `File` part as a file says so
    with a class attribute `carries_files = True` (Slack's); any other is handed the message with
    each file shown as its text (`bot.messages.files_as_text`), as a Teams chat or the shell shows
    it."""

    async def send(self, item: OutboxItem) -> SendOutcome: ...


def enqueue(
    db: Database,
    *,
    platform: str,
    to: Recipient,
    message: Message,
    now: float,
    thread: str | None = None,
    reply_to: int | None = None,
    replaces: int | None = None,
    not_before: float | None = None,
    created_at: float | None = None,
) -> int:
    """Queue a post to a channel or a person; call inside the transaction that writes the domain
    change. Returns the outbox row's id.

    `reply_to` names an earlier outbox row: the post goes in that message's thread once sent.
    `replaces` names an earlier row whose message this one edits in place once it was sent.
    """
    # Plain SQL: sqlite-utils' Table.insert inspects the table's columns on every call, and this
    # runs for every post of every command.
    cursor = db.execute(
        "insert into outbox (platform, conversation, recipient, thread, reply_to, replaces, payload, "
        "status, attempts, not_before, created_at) values (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)",
        [
            platform,
            to.id,
            recipient_kind(to),
            thread,
            reply_to,
            replaces,
            json.dumps(encode(message), ensure_ascii=False, separators=(",", ":")),
            now if not_before is None else not_before,
            now if created_at is None else created_at,
        ],
    )
    return int(cursor.lastrowid or 0)


def edit(db: Database, *, original: int, message: Message, now: float) -> None:
    """Change what an earlier outbox row says: in place while it waits, else by editing the sent
    message (a new row to the same recipient)."""
    payload = json.dumps(encode(message), ensure_ascii=False)
    waiting = db.execute(
        "update outbox set payload = ? where id = ? and status = 'pending'", [payload, original]
    ).rowcount
    if waiting:
        return
    found = db.execute(
        "select platform, conversation, recipient from outbox where id = ?", [original]
    ).fetchone()
    if found is None:  # pruned long ago: nothing left to edit
        return
    platform, conversation, kind = found
    enqueue(db, platform=platform, to=KINDS[kind](conversation), message=message, now=now, replaces=original)
