"""Candor's schema, one sqlite-utils migration per change; never edit one that has shipped."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

candor = Migrations("candor")


@candor()
def m001_outbox(db: Database) -> None:
    # Every message the bot posts; written in the same transaction as the domain row.
    db.table("outbox").create(
        {
            "id": int,
            "platform": str,
            "conversation": str,  # channel id, or a user id for a direct message
            "thread": str,  # the platform's thread key, if the post belongs in one
            "payload": str,  # the platform-neutral message as JSON
            "status": str,  # pending | sent | failed
            "attempts": int,
            "not_before": float,  # epoch seconds; nothing is sent earlier
            "created_at": float,
            "sent_at": float,
            "sent_ref": str,  # what the platform called the sent message (Slack ts)
            "last_error": str,
        },
        pk="id",
        not_null={"platform", "conversation", "payload", "status", "attempts", "not_before"},
        defaults={"status": "pending", "attempts": 0},
    )
    db.table("outbox").create_index(["status", "not_before"])


@candor()
def m002_processed(db: Database) -> None:
    # Keys of deliveries already handled (Slack event ids, trigger ids), so a retry is a no-op.
    db.table("processed").create({"key": str, "at": float}, pk="key", not_null={"at"})


@candor()
def m003_kudos(db: Database) -> None:
    db.table("kudos").create(
        {
            "id": int,
            "platform": str,
            "workspace": str,
            "conversation": str,
            "giver": str,
            "receiver": str,
            "behaviour": str,
            "message": str,
            "created_at": float,
        },
        pk="id",
        not_null={"platform", "workspace", "conversation", "giver", "receiver", "behaviour"},
    )
    db.table("kudos").create_index(["giver", "created_at"])
    db.table("kudos").create_index(["platform", "workspace", "conversation", "created_at"])


@candor()
def m004_schedules(db: Database) -> None:
    # Timed work (check-ins, nudges, 1:1 reminders). The rows are the source of truth: the
    # scheduler's in-memory jobs are rebuilt from them.
    db.table("schedules").create(
        {
            "id": int,
            "platform": str,
            "workspace": str,
            "conversation": str,  # the channel, or the user id whose DM receives it
            "kind": str,  # checkin | nudge | one_on_one | weekly_nudge
            "owner": str,  # the platform user id of whoever created it
            "subject": str,  # one_on_one: the report the manager meets
            "days": str,  # "mon,thu"
            "at": str,  # "09:30", local wall-clock time
            "tz": str,  # IANA name
            "every_weeks": int,
            "anchor": str,  # a Monday (ISO date) that counts as week 0 for every_weeks > 1
            "template": str,  # check-in template slug, or "custom"
            "custom_text": str,
            "tags": str,  # JSON list of nudge tags; empty means all
            "remind": int,  # check-ins: remind non-responders once
            "skip_dates": str,  # JSON list of local ISO dates on which it does not fire
            "paused": int,
            "checked_until": float,  # occurrences up to this instant are accounted for
            "created_at": float,
        },
        pk="id",
        not_null={"platform", "workspace", "conversation", "kind", "owner", "days", "at", "tz"},
        defaults={"every_weeks": 1, "paused": 0, "remind": 0, "tags": "[]", "skip_dates": "[]"},
    )
    db.table("schedules").create_index(["platform", "workspace", "conversation"])
    db.table("schedules").create_index(["days", "at", "tz", "every_weeks", "anchor"])

    db.table("checkin_runs").create(
        {
            "id": int,
            "schedule_id": int,
            "occurrence": float,
            "local_date": str,
            "prompt_outbox": int,  # the outbox row of the prompt; answers are threaded under it
            "reminder_due_at": float,
            "reminder_sent_at": float,
            "created_at": float,
        },
        pk="id",
        not_null={"schedule_id", "occurrence"},
        foreign_keys=[("schedule_id", "schedules", "id")],
    )
    db.table("checkin_runs").create_index(["reminder_due_at"])
    db.table("checkin_responses").create(
        {"id": int, "run_id": int, "user": str, "answers": str, "created_at": float},
        pk="id",
        not_null={"run_id", "user", "answers"},
        foreign_keys=[("run_id", "checkin_runs", "id")],
    )
    db.table("checkin_responses").create_index(["run_id", "user"], unique=True)

    # Which nudges a person or a schedule has had in the current rotation.
    db.table("nudge_log").create(
        {"id": int, "scope": str, "nudge": str, "sent_at": float},
        pk="id",
        not_null={"scope", "nudge"},
    )
    db.table("nudge_log").create_index(["scope"])
    # A post can be a reply in the thread of an earlier post that may not be sent yet.
    db.table("outbox").add_column("reply_to", int)


@candor()
def m005_outbox_by_conversation(db: Database) -> None:
    # The dispatcher looks for earlier rows of the same conversation that are backing off; those
    # are few, so a partial index keeps the check cheap however long a conversation's queue is.
    db.execute(
        "create index idx_outbox_backing_off on outbox (platform, conversation, id) "
        "where status = 'pending' and attempts > 0"
    )
    db.table("outbox").create_index(["platform", "conversation", "status", "id"])


@candor()
def m006_speakup(db: Database) -> None:
    # Anonymous concerns. No column here, in concern_messages or in the outbox may ever hold who
    # wrote one: not a user id, name, hash or HMAC of one, nor a trigger or response URL.
    # tests/test_speakup_anonymity.py fails if a column is added without review.
    db.table("outbox").add_column("replaces", int)
    # When sends of a row started failing: the retry window counts from here, not from created_at
    # (which speak-up rounds to the day).
    db.table("outbox").add_column("failing_since", float)
    db.table("speakup_channels").create(
        {"platform": str, "workspace": str, "conversation": str, "enabled_by": str, "created_at": float},
        pk=("platform", "workspace", "conversation"),
    )
    db.table("concerns").create(
        {
            "id": int,
            "platform": str,
            "workspace": str,
            "conversation": str,
            "code_hash": str,  # SHA-256 of the case code only the author holds
            "body": str,
            "wants": str,  # "what would help", optional
            "status": str,  # open | acknowledged | resolved
            "hidden_reason": str,
            "raised_on": str,  # the day only
            "post_outbox": int,  # set when published; until then it waits for `publish_at`
            "publish_at": float,  # a batch boundary, so the moment of writing is not kept
            "acknowledged_on": str,
            "first_reply_on": str,
            "resolved_on": str,
            "ack_due_on": str,
            "reply_due_on": str,
            "resolve_due_on": str,
            "flagged": str,  # JSON list of deadlines already flagged
        },
        pk="id",
        not_null={"platform", "workspace", "conversation", "code_hash", "body", "status", "raised_on"},
    )
    db.table("concerns").create_index(["code_hash"], unique=True)
    db.table("concerns").create_index(["status"])
    db.table("concern_messages").create(
        {
            "id": int,
            "concern_id": int,
            "kind": str,  # reply | author | acknowledged | resolved | hidden
            "by_user": str,  # the manager who replied; always NULL for the author
            "body": str,
            "created_on": str,  # the day only
            "outbox_id": int,
            "publish_at": float,  # author follow-ups: published in a batch, like concerns
        },
        pk="id",  # random for author follow-ups, so row order does not date them
        not_null={"concern_id", "kind"},
        foreign_keys=[("concern_id", "concerns", "id")],
    )
    db.table("concern_messages").create_index(["concern_id"])
    db.table("concerns").create_index(["post_outbox", "publish_at"])


@candor()
def m007_kudos_undo(db: Database) -> None:
    # /kudos undo edits what a kudos posted and stops counting it: the outbox rows it made (one
    # channel post shared by every receiver of one /kudos, one DM each) and when it was taken back.
    db.table("kudos").add_column("post_outbox", int)
    db.table("kudos").add_column("dm_outbox", int)
    db.table("kudos").add_column("undone_at", float)


@candor()
def m008_heartbeat(db: Database) -> None:
    # One row the health check updates in a committed write, to prove writes still reach the disk
    # (a full disk, a read-only file). It keeps a counter, never a time.
    db.table("heartbeat").insert({"id": 1, "beats": 0}, pk="id", not_null={"beats"})


@candor()
def m009_outbox_recipient(db: Database) -> None:
    # Who a post goes to is said, not guessed from the id: a channel, or a person reached the way
    # their platform does it (Slack: a DM by user id; Teams: a stored conversation reference).
    db.table("outbox").add_column("recipient", str, not_null_default="channel")
    db.execute(
        "update outbox set recipient = 'person' where "
        "(platform = 'slack' and substr(conversation, 1, 1) in ('U', 'W')) or "
        "(platform = 'shell' and substr(conversation, 1, 1) != '#')"
    )


@candor()
def m014_reviews(db: Database) -> None:
    # Blameless failure reviews (handlers/reviews). An anonymous review keeps no author: `author`
    # is NULL, only the SHA-256 of its case code is kept, its id and its actions' ids are random,
    # and it has no time of writing (`publish_at` is a batch mark, `published_on` a day).
    # tests/test_speakup_anonymity.py pins these columns.
    db.table("review_channels").create(
        {
            "platform": str,
            "workspace": str,
            "conversation": str,  # where reviews are posted
            "set_by": str,  # the admin who chose it, or CANDOR_REVIEWS_CHANNEL
            "tz": str,  # the weekly overdue digest goes out on Mondays at 09:00 here
            "digest_on": str,  # the Monday (ISO date) of the last digest claimed
            "set_on": float,  # the day it was chosen
        },
        pk=("platform", "workspace"),
        not_null={"conversation", "tz"},
    )
    db.table("reviews").create(
        {
            "id": int,  # the public review number: random
            "platform": str,
            "workspace": str,
            "conversation": str,  # the team's channel, where /review was run
            "channel": str,  # the reviews channel it is posted to
            "author": str,  # the user id; NULL when anonymous
            "anonymous": int,
            "code_hash": str,  # anonymous only: SHA-256 of the case code only the author holds
            "title": str,
            "happened": str,
            "impact": str,
            "factors": str,
            "learned": str,
            "next_time": str,
            "quality": int,  # 0-100, from data/review_rubric.yml
            "quality_detail": str,  # JSON: points per criterion and what would raise it
            "published_on": str,  # the day of publication only
            "publish_at": float,  # anonymous: a batch mark; otherwise when it was sent
            "post_outbox": int,  # its channel post, once published
            "edit": str,  # JSON: an anonymous author's edit waiting for its batch
            "edit_at": float,  # that edit's batch mark
        },
        pk="id",
        not_null={"platform", "workspace", "conversation", "channel", "anonymous", "title", "quality"},
    )
    db.table("reviews").create_index(["code_hash"], unique=True)
    db.table("reviews").create_index(["platform", "workspace", "conversation", "published_on"])
    db.table("reviews").create_index(["platform", "workspace", "channel", "published_on"])
    db.table("reviews").create_index(["post_outbox", "publish_at"])
    db.table("review_actions").create(
        {
            "id": int,  # random, so no id dates an anonymous review's actions
            "review_id": int,
            "position": int,  # its place in the review
            "description": str,
            "owner": str,  # the platform user id; never an anonymous review's author
            "due_on": str,  # ISO date, the owner's local calendar
            "tz": str,  # the owner's timezone when the action was given
            "remind_before_at": float,  # 09:00 local two days before the due date
            "remind_due_at": float,  # 09:00 local on the due date
            "overdue_at": float,  # local midnight after the due date
            "before_state": str,  # pending | sent | skipped: claimed by a conditional update
            "due_state": str,
            "done_at": float,
            "done_by": str,
            "dm_outbox": int,  # the DM that told the owner
        },
        pk="id",
        not_null={"review_id", "position", "description", "owner", "due_on", "tz"},
        foreign_keys=[("review_id", "reviews", "id")],
        defaults={"before_state": "pending", "due_state": "pending"},
    )
    db.table("review_actions").create_index(["review_id"])
    db.table("review_actions").create_index(["owner", "done_at"])
    db.table("review_actions").create_index(["done_at", "overdue_at"])
    db.table("review_messages").create(
        {
            "id": int,  # random, so its place among rows does not date an anonymous follow-up
            "review_id": int,
            "by_user": str,  # the named author; NULL for an anonymous author
            "body": str,
            "created_on": str,  # the day only
            "publish_at": float,  # anonymous follow-ups wait for a batch, like reviews
            "outbox_id": int,
        },
        pk="id",
        not_null={"review_id", "body"},
        foreign_keys=[("review_id", "reviews", "id")],
    )
    db.table("review_messages").create_index(["review_id"])
