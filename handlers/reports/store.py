"""The reports practice's SQL: which teams and workspaces Candor has a record of, and the last
known size of each team (a count, never who)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

# Where rows name a team (platform, workspace, conversation): any channel that used a practice.
# A schedule's conversation is a person's own for 1:1 reminders and weekly nudges: not a team.
_TEAMS = (
    ("kudos", ""),
    ("concerns", ""),
    ("schedules", "kind in ('checkin', 'nudge')"),
    ("agreements", ""),
    ("reviews", ""),  # the channel a review was written in (an anonymous one's: the reviews channel)
    ("pulse_rounds", ""),
    ("nomination_cycles", ""),
)


def _union(columns: str, filtered: bool) -> str:
    parts = []
    for table, only in _TEAMS:
        conditions = [c for c in (only, "platform = ? and workspace = ?" if filtered else "") if c]
        where = f" where {' and '.join(conditions)}" if conditions else ""
        parts.append(f"select distinct {columns} from {table}{where}")
    return " union ".join(parts)


@dataclass(frozen=True)
class Place:
    platform: str
    workspace: str


def workspaces(db: Database) -> list[Place]:
    """Every (platform, workspace) that has used a practice in a channel, sorted."""
    rows = db.execute(
        f"select platform, workspace from ({_union('platform, workspace', False)}) as found order by 1, 2"
    )
    return [Place(platform, workspace) for platform, workspace in rows]


def teams(db: Database, *, platform: str, workspace: str) -> list[str]:
    """The channels of a workspace that used a practice, sorted."""
    params = [platform, workspace] * len(_TEAMS)
    rows = db.execute(
        f"select conversation from ({_union('conversation', True)}) as found order by 1", params
    )
    return [conversation for (conversation,) in rows]


def remember_size(
    tx: Database, *, platform: str, workspace: str, conversation: str, day: str, members: int
) -> None:
    tx.execute(
        "insert into team_sizes (platform, workspace, conversation, day, members) values (?, ?, ?, ?, ?) "
        "on conflict (platform, workspace, conversation) do update set day = excluded.day, "
        "members = excluded.members",
        [platform, workspace, conversation, day, members],
    )


def known_size(db: Database, *, platform: str, workspace: str, conversation: str) -> int | None:
    row = db.execute(
        "select members from team_sizes where platform = ? and workspace = ? and conversation = ?",
        [platform, workspace, conversation],
    ).fetchone()
    return int(row[0]) if row else None
