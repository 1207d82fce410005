"""All of failure reviews' SQL: keyword-only functions over its tables, returning frozen dataclasses.

The SQL is what SQLite and PostgreSQL both accept. Work more than one process may pick up (an
anonymous review's publication, an edit or follow-up released in a batch, a reminder, the weekly
digest) is claimed by a conditional update whose row count says which process won, inside the
transaction that does the work. An anonymous review is stored with no author (the column stays
NULL), a case code's hash, a random id and no time of writing.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlite_utils import Database

from handlers.anonymity import random_id
from handlers.reporting import ReportScope, shown_sum
from handlers.reviews.ids import Reminder, Section
from handlers.reviews.model import ActionItem, Quality, Sections
from handlers.reviews.rules import REVIEW_IDS, ROW_IDS

# Marks a row claimed by the transaction that is publishing it; the same transaction replaces it
# with the outbox row's id before it commits, so no other process ever reads it.
_PUBLISHING = -1


@dataclass(frozen=True)
class ChannelSetting:
    platform: str
    workspace: str
    conversation: str
    set_by: str
    tz: str
    digest_on: str | None  # the Monday of the last digest claimed


@dataclass(frozen=True)
class Review:
    id: int
    platform: str
    workspace: str
    conversation: str  # the team's channel; an anonymous review's is the reviews channel
    channel: str  # the reviews channel
    author: str | None  # None when anonymous
    anonymous: int
    title: str
    happened: str
    impact: str
    factors: str
    learned: str
    next_time: str
    quality: int
    quality_detail: str | None
    published_on: str | None
    publish_at: float | None
    post_outbox: int | None

    @property
    def sections(self) -> Sections:
        return Sections(*(str(getattr(self, s.value) or "") for s in Section))

    @property
    def scored(self) -> Quality:
        return Quality.from_json(self.quality, self.quality_detail)


_REVIEW_FIELDS = tuple(f.name for f in fields(Review))
_REVIEW = ", ".join(_REVIEW_FIELDS)


@dataclass(frozen=True)
class Action:
    """An action item with what its messages need of its review."""

    id: int
    review_id: int
    position: int
    description: str
    owner: str
    due_on: str
    tz: str
    remind_before_at: float | None
    remind_due_at: float | None
    overdue_at: float | None
    before_state: str
    due_state: str
    done_at: float | None
    done_by: str | None
    dm_outbox: int | None
    # of its review
    platform: str
    workspace: str
    title: str
    author: str | None
    post_outbox: int | None

    @property
    def done(self) -> bool:
        return self.done_at is not None


_ACTION_COLUMNS = (
    "a.id, a.review_id, a.position, a.description, a.owner, a.due_on, a.tz, a.remind_before_at, "
    "a.remind_due_at, a.overdue_at, a.before_state, a.due_state, a.done_at, a.done_by, a.dm_outbox, "
    "r.platform, r.workspace, r.title, r.author, r.post_outbox"
)
_ACTIONS = f"select {_ACTION_COLUMNS} from review_actions a join reviews r on r.id = a.review_id"


@dataclass(frozen=True)
class Summary:
    """A review as /review list shows it."""

    id: int
    title: str
    published_on: str
    quality: int
    anonymous: int
    done: int
    total: int


@dataclass(frozen=True)
class Edit:
    """An anonymous author's edit waiting for its batch."""

    review_id: int
    sections: str  # JSON of the edited sections and their quality
    edit_at: float
    platform: str
    workspace: str


@dataclass(frozen=True)
class FollowUp:
    """An anonymous author's follow-up waiting for its batch, with where its review was posted."""

    id: int
    body: str
    platform: str
    channel: str
    review_post: int


@dataclass(frozen=True)
class Outcomes:
    """Actions whose due date has passed, and how many were done by the end of that day."""

    due: int
    on_time: int


def _scope(conversation: str | None) -> tuple[str, list[str]]:
    """A channel's reviews: started there, or posted there (the reviews channel sees them all)."""
    if conversation is None:
        return "", []
    return " and (r.conversation = ? or r.channel = ?)", [conversation, conversation]


# --- the reviews channel of a workspace ---------------------------------------------------------
def channel_setting(db: Database, *, platform: str, workspace: str) -> ChannelSetting | None:
    row = db.execute(
        "select platform, workspace, conversation, set_by, tz, digest_on from review_channels "
        "where platform = ? and workspace = ?",
        [platform, workspace],
    ).fetchone()
    return ChannelSetting(*row) if row else None


def channel_settings(db: Database) -> list[ChannelSetting]:
    rows = db.execute(
        "select platform, workspace, conversation, set_by, tz, digest_on from review_channels "
        "order by platform, workspace"
    ).fetchall()
    return [ChannelSetting(*row) for row in rows]


def set_channel(
    tx: Database,
    *,
    platform: str,
    workspace: str,
    conversation: str,
    set_by: str,
    tz: str,
    digest_on: str,
    day: float,
    replace: bool,
) -> None:
    """Choose the reviews channel; `replace=False` only seeds a workspace that has none."""
    on_conflict = (
        "do update set conversation = excluded.conversation, set_by = excluded.set_by, tz = excluded.tz, "
        "set_on = excluded.set_on"
        if replace
        else "do nothing"
    )
    tx.execute(
        "insert into review_channels (platform, workspace, conversation, set_by, tz, digest_on, set_on) "
        f"values (?, ?, ?, ?, ?, ?, ?) on conflict (platform, workspace) {on_conflict}",
        [platform, workspace, conversation, set_by, tz, digest_on, day],
    )


def claim_digest(tx: Database, *, platform: str, workspace: str, monday: str) -> bool:
    """Take this week's digest; False if it was taken already (by this process or another)."""
    cursor = tx.execute(
        "update review_channels set digest_on = ? where platform = ? and workspace = ? "
        "and (digest_on is null or digest_on < ?)",
        [monday, platform, workspace, monday],
    )
    return cursor.rowcount == 1


# --- reviews and their actions ------------------------------------------------------------------
def add_review(
    tx: Database,
    *,
    platform: str,
    workspace: str,
    conversation: str,
    channel: str,
    author: str | None,
    code_hash: str | None,
    sections: Sections,
    quality: Quality,
    published_on: str,
    publish_at: float,
) -> int:
    """Store a review under a random public number and return it. `author` None: anonymous."""
    review_id = random_id(tx, table="reviews", low=REVIEW_IDS[0], high=REVIEW_IDS[1])
    tx.execute(
        "insert into reviews (id, platform, workspace, conversation, channel, author, anonymous, code_hash, "
        "title, happened, impact, factors, learned, next_time, quality, quality_detail, published_on, "
        "publish_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            review_id,
            platform,
            workspace,
            conversation,
            channel,
            author,
            int(author is None),
            code_hash,
            *(sections.text(s) for s in Section),
            quality.score,
            quality.as_json(),
            published_on,
            publish_at,
        ],
    )
    return review_id


def add_action(
    tx: Database,
    *,
    review_id: int,
    position: int,
    item: ActionItem,
    times: tuple[float, float, float],
    now: float,
) -> int:
    """Store an action under a random id. A reminder whose time has passed already is skipped."""
    action_id = random_id(tx, table="review_actions", low=ROW_IDS[0], high=ROW_IDS[1])
    before_at, due_at, overdue_at = times
    tx.execute(
        "insert into review_actions (id, review_id, position, description, owner, due_on, tz, "
        "remind_before_at, remind_due_at, overdue_at, before_state, due_state) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            action_id,
            review_id,
            position,
            item.description,
            item.owner,
            item.due_on,
            item.tz,
            before_at,
            due_at,
            overdue_at,
            Reminder.SKIPPED if before_at <= now else Reminder.PENDING,
            Reminder.SKIPPED if due_at <= now else Reminder.PENDING,
        ],
    )
    return action_id


def review(db: Database, *, review_id: int, platform: str, workspace: str) -> Review | None:
    row = db.execute(
        f"select {_REVIEW} from reviews where id = ? and platform = ? and workspace = ?",
        [review_id, platform, workspace],
    ).fetchone()
    return Review(*row) if row else None


def review_by_code(db: Database, *, code_hash: str, platform: str, workspace: str) -> Review | None:
    row = db.execute(
        f"select {_REVIEW} from reviews where code_hash = ? and platform = ? and workspace = ?",
        [code_hash, platform, workspace],
    ).fetchone()
    return Review(*row) if row else None


def actions_of(db: Database, *, review_id: int) -> list[Action]:
    rows = db.execute(f"{_ACTIONS} where a.review_id = ? order by a.position", [review_id]).fetchall()
    return [Action(*row) for row in rows]


def action(db: Database, *, action_id: int, platform: str, workspace: str) -> Action | None:
    row = db.execute(
        f"{_ACTIONS} where a.id = ? and r.platform = ? and r.workspace = ?", [action_id, platform, workspace]
    ).fetchone()
    return Action(*row) if row else None


def set_review_post(tx: Database, *, review_id: int, post: int) -> None:
    tx.execute("update reviews set post_outbox = ? where id = ?", [post, review_id])


def set_action_dm(tx: Database, *, action_id: int, dm: int) -> None:
    tx.execute("update review_actions set dm_outbox = ? where id = ?", [dm, action_id])


def mark_done(tx: Database, *, action_id: int, at: float, by: str) -> bool:
    """Record an action as done; False if it was done already (a double click changes nothing)."""
    cursor = tx.execute(
        "update review_actions set done_at = ?, done_by = ? where id = ? and done_at is null",
        [at, by, action_id],
    )
    return cursor.rowcount == 1


def update_sections(tx: Database, *, review_id: int, sections: Sections, quality: Quality) -> None:
    tx.execute(
        "update reviews set title = ?, happened = ?, impact = ?, factors = ?, learned = ?, next_time = ?, "
        "quality = ?, quality_detail = ? where id = ?",
        [*(sections.text(s) for s in Section), quality.score, quality.as_json(), review_id],
    )


# An owner's open actions: not done, of a review that exists and is published (an anonymous one
# waiting for its batch shows nowhere yet).
_OPEN_OF = (
    "where r.platform = ? and r.workspace = ? and a.owner = ? and a.done_at is null "
    "and r.post_outbox is not null"
)


def open_actions_of(
    db: Database, *, platform: str, workspace: str, owner: str, limit: int | None = None
) -> list[Action]:
    """The owner's actions not done yet, of published reviews, soonest due first."""
    rows = db.execute(
        f"{_ACTIONS} {_OPEN_OF} order by a.due_on, a.id" + (" limit ?" if limit is not None else ""),
        [platform, workspace, owner, *([limit] if limit is not None else [])],
    ).fetchall()
    return [Action(*row) for row in rows]


def open_action_count(db: Database, *, platform: str, workspace: str, owner: str) -> int:
    """How many actions `open_actions_of` would list with no limit."""
    (count,) = db.execute(
        f"select count(*) from review_actions a join reviews r on r.id = a.review_id {_OPEN_OF}",
        [platform, workspace, owner],
    ).fetchone()
    return int(count)


def recent_reviews(
    db: Database, *, platform: str, workspace: str, conversation: str, limit: int
) -> list[Summary]:
    where, args = _scope(conversation)
    rows = db.execute(
        "select r.id, r.title, r.published_on, r.quality, r.anonymous, "
        "count(a.id) filter (where a.done_at is not null), count(a.id) "
        "from reviews r left join review_actions a on a.review_id = r.id "
        f"where r.platform = ? and r.workspace = ? and r.post_outbox is not null{where} "
        "group by r.id, r.title, r.published_on, r.quality, r.anonymous "
        "order by r.published_on desc, r.publish_at desc limit ?",
        [platform, workspace, *args, limit],
    ).fetchall()
    return [Summary(*row) for row in rows]


# --- the figures: /review stats and the team report ---------------------------------------------
@dataclass(frozen=True)
class Scored:
    published_at: float
    quality: int  # the rubric's index, 0-100


def qualities(db: Database, *, scope: ReportScope) -> list[Scored]:
    """The quality of each review published in the scope's period, oldest first."""
    where, args = _scope(scope.conversation)
    rows = db.execute(
        "select r.publish_at, r.quality from reviews r where r.platform = ? and r.workspace = ? "
        f"and r.post_outbox is not null and r.publish_at >= ? and r.publish_at < ?{where} "
        "order by r.publish_at",
        [scope.platform, scope.workspace, scope.since, scope.until, *args],
    ).fetchall()
    return [Scored(float(at), int(quality)) for at, quality in rows]


@dataclass(frozen=True)
class Published:
    """Reviews published in a period, for the team report."""

    reviews: int  # all of them: each review's post is public, so their number is never withheld
    scored: int  # those a mean quality may combine (the whole workspace: see `published`)
    quality: int  # the sum of their quality indexes


def published(db: Database, *, scope: ReportScope) -> Published:
    """Reviews published in [since, until) and their summed quality. For the whole workspace the
    mean combines only the teams (a review's `conversation`; anonymous ones: the reviews channel's)
    with at least k reviews in the period, as a team's own mean is withheld below that
    (handlers/reporting.py)."""
    platform, workspace, conversation = scope.platform, scope.workspace, scope.conversation
    since, until, k = scope.since, scope.until, scope.k
    rows = (
        "reviews r where r.platform = ? and r.workspace = ? and r.post_outbox is not null "
        "and r.publish_at >= ? and r.publish_at < ?"
    )
    params: list[object] = [platform, workspace, since, until]
    if conversation is not None:
        where, args = _scope(conversation)
        row = db.execute(
            f"select count(*), count(*), coalesce(sum(r.quality), 0) from {rows}{where}", [*params, *args]
        ).fetchone()
        return Published(*row)
    row = db.execute(
        f"select coalesce(sum(reviews), 0), {shown_sum('reviews', 'reviews')}, "
        f"{shown_sum('quality', 'reviews')} "
        "from (select count(*) as reviews, sum(r.quality) as quality "
        f"from {rows} group by r.conversation) as teams",
        [k, k, *params],
    ).fetchone()
    return Published(*row)


def outcomes(db: Database, *, scope: ReportScope) -> Outcomes:
    """Actions whose due date ended in [since, until), and how many were done before it ended. For
    the whole workspace, only the teams with at least k such actions, as a team's own share is
    withheld below that (handlers/reporting.py)."""
    platform, workspace, conversation = scope.platform, scope.workspace, scope.conversation
    since, until, k = scope.since, scope.until, scope.k
    rows = (
        "review_actions a join reviews r on r.id = a.review_id "
        "where r.platform = ? and r.workspace = ? and a.overdue_at >= ? and a.overdue_at < ?"
    )
    params: list[object] = [platform, workspace, since, until]
    counts = (
        "count(*) as due, "
        "count(*) filter (where a.done_at is not null and a.done_at < a.overdue_at) as on_time"
    )
    if conversation is not None:
        where, args = _scope(conversation)
        due, on_time = db.execute(f"select {counts} from {rows}{where}", [*params, *args]).fetchone()
        return Outcomes(due, on_time)
    due, on_time = db.execute(
        f"select {shown_sum('due', 'due')}, {shown_sum('on_time', 'due')} "
        f"from (select {counts} from {rows} group by r.conversation) as teams",
        [k, k, *params],
    ).fetchone()
    return Outcomes(due, on_time)


# --- publication of anonymous reviews, edits and follow-ups (batches) ---------------------------
def due_reviews(db: Database, *, now: float) -> list[Review]:
    rows = db.execute(
        f"select {_REVIEW} from reviews where post_outbox is null and publish_at <= ?", [now]
    ).fetchall()
    return [Review(*row) for row in rows]


def claim_review(tx: Database, *, review_id: int, now: float) -> bool:
    """Take a due review for the batch in `tx`; False if another process published it first.
    The caller posts it and calls `set_review_post` in the same transaction."""
    cursor = tx.execute(
        "update reviews set post_outbox = ? where id = ? and post_outbox is null and publish_at <= ?",
        [_PUBLISHING, review_id, now],
    )
    return cursor.rowcount == 1


def set_edit(tx: Database, *, review_id: int, edit: str, edit_at: float) -> None:
    """Keep an anonymous author's edit until its batch (a later edit replaces it)."""
    tx.execute("update reviews set edit = ?, edit_at = ? where id = ?", [edit, edit_at, review_id])


def due_edits(db: Database, *, now: float) -> list[Edit]:
    rows = db.execute(
        "select id, edit, edit_at, platform, workspace from reviews where edit is not null and edit_at <= ? "
        "and post_outbox is not null",
        [now],
    ).fetchall()
    return [Edit(*row) for row in rows]


def claim_edit(tx: Database, *, review_id: int, edit_at: float) -> bool:
    """Take a due edit; False if another process applied it, or the author replaced it meanwhile."""
    cursor = tx.execute(
        "update reviews set edit = null, edit_at = null where id = ? and edit_at = ? and edit is not null",
        [review_id, edit_at],
    )
    return cursor.rowcount == 1


def add_follow_up(
    tx: Database,
    *,
    review_id: int,
    by_user: str | None,
    body: str,
    created_on: str,
    publish_at: float | None = None,
    outbox_id: int | None = None,
) -> int:
    message_id = random_id(tx, table="review_messages", low=ROW_IDS[0], high=ROW_IDS[1])
    tx.execute(
        "insert into review_messages (id, review_id, by_user, body, created_on, publish_at, outbox_id) "
        "values (?, ?, ?, ?, ?, ?, ?)",
        [message_id, review_id, by_user, body, created_on, publish_at, outbox_id],
    )
    return message_id


def due_follow_ups(db: Database, *, now: float) -> list[FollowUp]:
    rows = db.execute(
        "select m.id, m.body, r.platform, r.channel, r.post_outbox from review_messages m "
        "join reviews r on r.id = m.review_id "
        "where m.outbox_id is null and m.publish_at <= ? and r.post_outbox is not null",
        [now],
    ).fetchall()
    return [FollowUp(*row) for row in rows]


def claim_follow_up(tx: Database, *, message_id: int, now: float) -> bool:
    cursor = tx.execute(
        "update review_messages set outbox_id = ? where id = ? and outbox_id is null and publish_at <= ?",
        [_PUBLISHING, message_id, now],
    )
    return cursor.rowcount == 1


def set_follow_up_post(tx: Database, *, message_id: int, post: int) -> None:
    tx.execute("update review_messages set outbox_id = ? where id = ?", [post, message_id])


# --- reminders and the overdue digest -----------------------------------------------------------
_REMINDER_COLUMNS = {"before": ("before_state", "remind_before_at"), "due": ("due_state", "remind_due_at")}


def due_reminders(db: Database, *, now: float) -> list[Action]:
    """Open actions of published reviews with a reminder whose time has come (not yet claimed)."""
    rows = db.execute(
        f"{_ACTIONS} where a.done_at is null and r.post_outbox is not null and "
        "((a.before_state = 'pending' and a.remind_before_at <= ?) or "
        "(a.due_state = 'pending' and a.remind_due_at <= ?)) order by a.remind_due_at, a.id",
        [now, now],
    ).fetchall()
    return [Action(*row) for row in rows]


def claim_reminder(tx: Database, *, action_id: int, which: str, state: Reminder) -> bool:
    """Settle one reminder ("before" or "due") as sent or skipped; False if another process did,
    or the action was done meanwhile (then nothing is sent)."""
    column, _ = _REMINDER_COLUMNS[which]
    cursor = tx.execute(
        f"update review_actions set {column} = ? where id = ? and {column} = 'pending' and done_at is null",
        [state, action_id],
    )
    return cursor.rowcount == 1


def overdue(db: Database, *, platform: str, workspace: str, now: float) -> list[Action]:
    """A workspace's actions past their due date and not done, of published reviews."""
    rows = db.execute(
        f"{_ACTIONS} where r.platform = ? and r.workspace = ? and a.done_at is null "
        "and a.overdue_at <= ? and r.post_outbox is not null order by a.due_on, r.id, a.position",
        [platform, workspace, now],
    ).fetchall()
    return [Action(*row) for row in rows]
