"""The stored conversation references: how Candor reaches a Teams conversation later (proactive
messages), kept in the `teams_references` table this adapter owns.

A reference is what Teams gave us when Candor was added to a conversation (its service URL, the
bot's and the conversation's ids, the tenant). A channel's reference is stored without the person
whose activity carried it; a personal chat's names its one member, which is how `Person(id)`
recipients are reached. Rows hold no time: a row says where Candor can post, never when anyone
did anything (speak-up authors write from their personal chat).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

PERSONAL = "personal"
CHANNEL = "channel"
GROUP = "groupChat"


@dataclass(frozen=True)
class StoredReference:
    conversation: str
    tenant: str
    kind: str
    user: str | None
    team: str | None
    name: str | None
    reference: dict[str, Any]  # the ConversationReference, serialised
    unreachable: bool

    @property
    def service_url(self) -> str:
        return str(self.reference.get("serviceUrl") or "")


_COLUMNS = "conversation, tenant, kind, user, team, name, reference, unreachable"


def _row(row: tuple[Any, ...] | None) -> StoredReference | None:
    if row is None:
        return None
    conversation, tenant, kind, user, team, name, reference, unreachable = row
    return StoredReference(
        conversation, tenant, kind, user, team, name, json.loads(reference), bool(unreachable)
    )


def save(
    db: Database,
    *,
    conversation: str,
    tenant: str,
    kind: str,
    reference: dict[str, Any],
    user: str | None = None,
    team: str | None = None,
    name: str | None = None,
) -> None:
    """Insert or refresh a reference (Candor was installed again: it is reachable again)."""
    db.execute(
        f"insert into teams_references ({_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, 0) "
        "on conflict (conversation) do update set tenant = excluded.tenant, kind = excluded.kind, "
        "user = excluded.user, team = excluded.team, name = coalesce(excluded.name, teams_references.name), "
        "reference = excluded.reference, unreachable = 0",
        [conversation, tenant, kind, user, team, name, json.dumps(reference, sort_keys=True)],
    )


def save_if_new(
    db: Database,
    *,
    conversation: str,
    tenant: str,
    kind: str,
    reference: dict[str, Any],
    team: str | None = None,
    name: str | None = None,
) -> bool:
    """Keep a channel Candor heard from, unless it is known already; True if it was new."""
    cursor = db.execute(
        f"insert into teams_references ({_COLUMNS}) values (?, ?, ?, null, ?, ?, ?, 0) "
        "on conflict (conversation) do nothing",
        [conversation, tenant, kind, team, name, json.dumps(reference, sort_keys=True)],
    )
    return cursor.rowcount == 1


def for_conversation(db: Database, *, conversation: str) -> StoredReference | None:
    return _row(
        db.execute(
            f"select {_COLUMNS} from teams_references where conversation = ?", [conversation]
        ).fetchone()
    )


def personal(db: Database, *, user: str) -> StoredReference | None:
    """The person's own chat with Candor, if Candor was ever added there."""
    return _row(
        db.execute(
            f"select {_COLUMNS} from teams_references where user = ? and kind = ? "
            "order by conversation limit 1",
            [user, PERSONAL],
        ).fetchone()
    )


def any_in_tenant(db: Database, *, tenant: str | None = None, limit: int = 5) -> list[StoredReference]:
    """Team and group references (of one tenant, or any), to ask Teams about people through."""
    where, params = "kind != ?", [PERSONAL]
    if tenant:
        where += " and tenant = ?"
        params.append(tenant)
    rows = db.execute(
        f"select {_COLUMNS} from teams_references where {where} order by kind, conversation limit ?",
        [*params, limit],
    ).fetchall()
    return [r for r in map(_row, rows) if r is not None]


def channels(db: Database, *, tenant: str, limit: int = 100) -> list[StoredReference]:
    """The channels Candor can post in, for a form's channel list."""
    rows = db.execute(
        f"select {_COLUMNS} from teams_references where tenant = ? and kind = ? "
        "order by coalesce(name, conversation) limit ?",
        [tenant, CHANNEL, limit],
    ).fetchall()
    return [r for r in map(_row, rows) if r is not None]


def mark_unreachable(db: Database, *, conversation: str) -> None:
    db.execute("update teams_references set unreachable = 1 where conversation = ?", [conversation])


def forget(db: Database, *, conversation: str) -> None:
    """Candor was removed from the conversation: it can no longer post there."""
    db.execute("update teams_references set unreachable = 1 where conversation = ?", [conversation])
