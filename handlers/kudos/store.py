"""All of kudos' SQL, as keyword-only functions returning typed rows.

The SQL is what PostgreSQL also accepts (explicit column lists, no rowid, `?` placeholders that
the port translates). A kudos is one row per receiver: the receivers of one /kudos share its
channel post (`post_outbox`), each has their own DM (`dm_outbox`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from handlers.reporting import ReportScope, shown_teams


@dataclass(frozen=True)
class LastKudos:
    """The giver's most recent kudos, as /kudos undo needs it."""

    post_outbox: int | None  # None for kudos given before undo existed: they cannot be taken back
    created_at: float
    undone_at: float | None


@dataclass(frozen=True)
class Recognition:
    """One receiver of a kudos and the DM that told them."""

    id: int
    behaviour: str
    receiver: str  # the platform's user id the DM went to
    dm_outbox: int


@dataclass(frozen=True)
class ChannelStats:
    """A channel's kudos over a period: totals and a count per behaviour, never per person."""

    total: int
    givers: int
    receivers: int
    by_behaviour: tuple[tuple[str, int], ...]  # (slug, count), only slugs with kudos

    def count(self, slug: str) -> int:
        return dict(self.by_behaviour).get(slug, 0)


@dataclass(frozen=True)
class Received:
    """A kudos one person received, as their own evidence shows it (/nominate mine)."""

    giver: str  # person key, platform:workspace:user
    behaviour: str
    message: str
    conversation: str
    created_at: float


def delivery_recorded(db: Database, *, key: str) -> bool:
    """Whether a /kudos delivery was already claimed (see handlers/kudos/ids.py: Claim)."""
    return db.execute("select 1 from processed where key = ?", [key]).fetchone() is not None


def counted_since(db: Database, *, giver: str, since: float) -> list[float]:
    """When each kudos that counts towards the giver's cap was given, oldest first."""
    rows = db.execute(
        "select created_at from kudos where giver = ? and created_at > ? and undone_at is null "
        "order by created_at",
        [giver, since],
    )
    return [created_at for (created_at,) in rows]


def insert_kudos(
    db: Database,
    *,
    platform: str,
    workspace: str,
    conversation: str,
    giver: str,
    receiver: str,
    behaviour: str,
    message: str,
    created_at: float,
    post_outbox: int,
    dm_outbox: int,
) -> None:
    db.execute(
        "insert into kudos (platform, workspace, conversation, giver, receiver, behaviour, message, "
        "created_at, post_outbox, dm_outbox) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            platform,
            workspace,
            conversation,
            giver,
            receiver,
            behaviour,
            message,
            created_at,
            post_outbox,
            dm_outbox,
        ],
    )


def last_given(db: Database, *, giver: str) -> LastKudos | None:
    row = db.execute(
        "select post_outbox, created_at, undone_at from kudos where giver = ? "
        "order by created_at desc, id desc limit 1",
        [giver],
    ).fetchone()
    return LastKudos(*row) if row else None


def recognitions(db: Database, *, post_outbox: int) -> list[Recognition]:
    """Everyone one /kudos recognised, in the order named, with their DM still in the outbox
    (a DM pruned long ago leaves nothing to edit)."""
    rows = db.execute(
        "select k.id, k.behaviour, o.conversation, k.dm_outbox from kudos k "
        "join outbox o on o.id = k.dm_outbox where k.post_outbox = ? order by k.id",
        [post_outbox],
    )
    return [Recognition(*row) for row in rows]


def take_back(db: Database, *, post_outbox: int, at: float) -> None:
    """Stop counting a kudos anywhere and forget its message."""
    db.execute("update kudos set undone_at = ?, message = null where post_outbox = ?", [at, post_outbox])


def channel_stats(
    db: Database, *, platform: str, workspace: str, conversation: str, since: float
) -> ChannelStats:
    where = "platform = ? and workspace = ? and conversation = ? and created_at >= ? and undone_at is null"
    args = [platform, workspace, conversation, since]
    by_behaviour = db.execute(
        f"select behaviour, count(*) from kudos where {where} group by behaviour order by behaviour", args
    ).fetchall()
    total, givers, receivers = db.execute(
        f"select count(*), count(distinct giver), count(distinct receiver) from kudos where {where}", args
    ).fetchone()
    return ChannelStats(total, givers, receivers, tuple((slug, n) for slug, n in by_behaviour))


def received(db: Database, *, receiver: str) -> list[Received]:
    """Every kudos `receiver` (a person key) was given and that still counts, oldest first."""
    rows = db.execute(
        "select giver, behaviour, message, conversation, created_at from kudos "
        "where receiver = ? and undone_at is null and message is not null order by created_at, id",
        [receiver],
    )
    return [Received(*row) for row in rows]


@dataclass(frozen=True)
class PeriodCounts:
    """A team's (or a workspace's) kudos over a period, for the team report: counts, never people."""

    total: int
    givers: int
    by_behaviour: tuple[tuple[str, int], ...]  # (slug, count), most frequent first


def period_counts(db: Database, *, scope: ReportScope) -> PeriodCounts:
    """One channel's kudos, or the whole workspace's: then only the channels where at least k
    people gave kudos in the period, as a channel's own figures are withheld below that
    (handlers/reporting.py)."""
    platform, workspace, conversation = scope.platform, scope.workspace, scope.conversation
    since, until, k = scope.since, scope.until, scope.k
    where = "platform = ? and workspace = ? and created_at >= ? and created_at < ? and undone_at is null"
    args: list[object] = [platform, workspace, since, until]
    if conversation is not None:
        where += " and conversation = ?"
        args.append(conversation)
        total, givers = db.execute(
            f"select count(*), count(distinct giver) from kudos where {where}", args
        ).fetchone()
        by_behaviour = db.execute(
            f"select behaviour, count(*) as n from kudos where {where} "
            "group by behaviour order by n desc, behaviour",
            args,
        ).fetchall()
        return PeriodCounts(total, givers, tuple((slug, n) for slug, n in by_behaviour))
    # The channels' kudos are read channel by channel from the (platform, workspace, conversation,
    # created_at, undone_at, behaviour, giver) index alone: "conversation in (every channel)"
    # makes SQLite seek each channel's period rather than sort the whole period by channel.
    channels = (
        "conversation in (select distinct conversation from kudos where platform = ? and workspace = ?)"
    )
    shown, shown_args = shown_teams(
        team="conversation",
        rows=f"kudos where {where} and {channels}",
        params=[*args, platform, workspace],
        size="count(distinct giver)",
        k=k,
    )
    kept = f"{where} and conversation in (select conversation from shown)"
    rows = db.execute(
        f"with shown as ({shown}) "
        "select behaviour, count(*) as n, "
        f"(select count(distinct giver) from kudos where {kept}) "
        f"from kudos where {kept} group by behaviour order by n desc, behaviour",
        [*shown_args, *args, *args],
    ).fetchall()
    givers = rows[0][2] if rows else 0
    return PeriodCounts(sum(n for _, n, _ in rows), givers, tuple((slug, n) for slug, n, _ in rows))


@dataclass(frozen=True)
class RecentKudos:
    """A kudos a person received, as their home shows it."""

    giver: str  # person key
    behaviour: str
    created_at: float


def received_since(db: Database, *, receiver: str, since: float, limit: int) -> tuple[int, list[RecentKudos]]:
    """How many kudos `receiver` (a person key) got since `since`, and the latest few."""
    (count,) = db.execute(
        "select count(*) from kudos where receiver = ? and created_at >= ? and undone_at is null",
        [receiver, since],
    ).fetchone()
    rows = db.execute(
        "select giver, behaviour, created_at from kudos where receiver = ? and created_at >= ? "
        "and undone_at is null order by created_at desc, id desc limit ?",
        [receiver, since, limit],
    )
    return count, [RecentKudos(*row) for row in rows]
