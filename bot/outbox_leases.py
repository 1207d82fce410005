"""Which dispatcher works on which conversation's queue, and until when (`outbox_leases`).

Several dispatchers may share the database (two processes now, several hosts later). Each works
only the conversations whose lease it holds: taken with a conditional write whose row count says
who won (the lease is free, ran out, or is already ours), renewed before every send and while a
worker waits, and given up when a worker ends. A dispatcher that dies lets go `LEASE_S` after its
last renewal. A lease given up runs until the moment the conversation's next post may go, so
whoever takes it over keeps the pacing. It also names the row being sent: whoever takes over a
lease that ran out during a send holds that row back for `INTERRUPTED_WAIT_S`, since the post may
be out and its sender, alive but unable to write, may yet record it.

Instants here are wall-clock times, the only clock two hosts share: a step of the wall clock moves
when another dispatcher may take a conversation over (a step back of an hour delays taking over
from a dead one by an hour), never when the holder sends.

Every function runs its own transaction, except `released`, which gives the statement to write
with a send's record. Each transaction writes before it reads, so it holds SQLite's write lock
from its first statement. The SQL is SQLite's and PostgreSQL's alike.
"""

from __future__ import annotations

from sqlite_utils import Database

LEASE_S = 30.0  # a dispatcher that dies lets go of its conversations this long after its last renewal
RENEW_EVERY_S = LEASE_S / 3  # how often a waiting worker's lease is renewed
INTERRUPTED_WAIT_S = LEASE_S  # how long a post whose send was interrupted waits for its record

Key = tuple[str, str]  # (platform, conversation)
Statement = tuple[str, dict[str, object]]

# Free, run out, or ours already: the row count says whether this dispatcher won.
_CLAIM = """
insert into outbox_leases (platform, conversation, owner, lease_until, sending)
values (:platform, :conversation, :me, :until, null)
on conflict (platform, conversation) do update
  set owner = excluded.owner, lease_until = excluded.lease_until, sending = null
  where outbox_leases.owner = excluded.owner or outbox_leases.lease_until <= :now
"""
# Before taking over a lease that ran out during a send: that row waits as a failed attempt does
# (the rows after it with it), long enough for its sender's record to land.
_HOLD_INTERRUPTED = """
update outbox set attempts = attempts + 1, not_before = :now + :wait, last_error = :reason,
  failing_since = coalesce(failing_since, :now)
where status = 'pending' and id = (
  select sending from outbox_leases
  where platform = :platform and conversation = :conversation and owner != :me and lease_until <= :now)
"""
_SENDING = "select sending from outbox_leases where platform = :platform and conversation = :conversation"
_RENEW = """
update outbox_leases set lease_until = :until
where platform = :platform and conversation = :conversation and owner = :me
"""
_RENEW_SENDING = """
update outbox_leases set lease_until = :until, sending = :sending
where platform = :platform and conversation = :conversation and owner = :me
"""
_RELEASE = """
update outbox_leases set lease_until = :until, sending = null
where platform = :platform and conversation = :conversation and owner = :me
"""
_ROW_NOW = "select status, payload from outbox where id = :sending"
_FORGET = "delete from outbox_leases where lease_until <= :cutoff and sending is null"

INTERRUPTED = "interrupted during its send"


def _params(key: Key, owner: str, **values: object) -> dict[str, object]:
    return {"platform": key[0], "conversation": key[1], "me": owner, **values}


def claim(
    db: Database, *, keys: list[Key], owner: str, now: float, lease_s: float = LEASE_S
) -> tuple[list[Key], list[int]]:
    """Take these conversations' leases in one transaction: the ones won, and the rows held back
    because a lease taken over ran out during their send."""
    won: list[Key] = []
    held: list[int] = []
    with db.atomic():
        for key in keys:
            hold = _params(key, owner, now=now, wait=lease_s, reason=INTERRUPTED)
            if db.execute(_HOLD_INTERRUPTED, hold).rowcount:  # (no RETURNING: SQLite before 3.35)
                held.append(db.execute(_SENDING, hold).fetchone()[0])
            if db.execute(_CLAIM, _params(key, owner, now=now, until=now + lease_s)).rowcount == 1:
                won.append(key)
    return won, held


def renew(db: Database, *, keys: list[Key], owner: str, now: float, lease_s: float = LEASE_S) -> list[Key]:
    """Extend these leases by `lease_s`; the ones that were no longer ours."""
    with db.atomic():
        return [
            key for key in keys if db.execute(_RENEW, _params(key, owner, until=now + lease_s)).rowcount == 0
        ]


def begin_send(
    db: Database, *, key: Key, owner: str, outbox_id: int, now: float, lease_s: float = LEASE_S
) -> tuple[str, str] | None:
    """Just before a send: renew the lease, name the row in flight, and read the row as it is now
    (an edit may have changed it since the worker read it). Its status and payload, or None if the
    lease is no longer ours."""
    with db.atomic():
        params = _params(key, owner, until=now + lease_s, sending=outbox_id)
        if db.execute(_RENEW_SENDING, params).rowcount == 0:
            return None
        row = db.execute(_ROW_NOW, params).fetchone()
    return (row[0], row[1]) if row else ("gone", "")


def released(*, key: Key, owner: str, until: float) -> Statement:
    """The lease write that goes with a send's record: nothing in flight, held until `until`."""
    return _RELEASE, _params(key, owner, until=until)


def let_go(db: Database, *, key: Key, owner: str, until: float) -> None:
    """A worker ends: its lease runs out at `until`, when the conversation's next post may go."""
    with db.atomic():
        db.execute(_RENEW, _params(key, owner, until=until))


def forget(db: Database, *, now: float, lease_s: float = LEASE_S) -> None:
    """Delete leases that ran out a while ago with nothing in flight: one row per conversation
    ever posted to would add up."""
    with db.atomic():
        db.execute(_FORGET, {"cutoff": now - lease_s})
