"""Candor's schema, one sqlite-utils migration per change; never edit one that has shipped."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

candor = Migrations("candor")


@candor()
def m001_outbox(db: Database) -> None:
    # Every message the bot posts; written in the same transaction as the domain row.
    db["outbox"].create(
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
    db["outbox"].create_index(["status", "not_before"])


@candor()
def m002_processed(db: Database) -> None:
    # Keys of deliveries already handled (Slack event ids, trigger ids), so a retry is a no-op.
    db["processed"].create({"key": str, "at": float}, pk="key", not_null={"at"})


@candor()
def m003_kudos(db: Database) -> None:
    db["kudos"].create(
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
    db["kudos"].create_index(["giver", "created_at"])
    db["kudos"].create_index(["platform", "workspace", "conversation", "created_at"])
