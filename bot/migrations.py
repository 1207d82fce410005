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
def m010_outbox_lease(db: Database) -> None:
    # Which dispatcher works on a conversation's queue, and until when. Taken and renewed with
    # conditional writes, so two processes on one database never send a row twice and a
    # conversation keeps its order and pacing across them. `sending`: the outbox row whose send is
    # under way, so whoever takes over a lapsed lease knows that post may already be out.
    db.table("outbox_leases").create(
        {"platform": str, "conversation": str, "owner": str, "lease_until": float, "sending": int},
        pk=("platform", "conversation"),
        not_null={"platform", "conversation", "owner", "lease_until"},
    )
    # "Which conversations have a post due" walks this one conversation at a time, so its cost
    # follows the conversations waiting, not the length of one conversation's queue.
    db.execute(
        "create index idx_outbox_pending on outbox (platform, conversation, not_before) "
        "where status = 'pending'"
    )


@candor()
def m013_teams_references(db: Database) -> None:
    # Teams: how to reach each conversation Candor was added to (bot/teams/references.py). Saved
    # when Candor is installed in a team, a group chat or a person's own chat, and when it first
    # hears from a channel. A channel's reference names no person; a personal one names its one
    # member. No time is kept: a row says where, never when.
    db.table("teams_references").create(
        {
            "conversation": str,  # Teams' conversation id (a channel, a group chat, a personal chat)
            "tenant": str,
            "kind": str,  # personal | channel | groupChat
            "user": str,  # personal chats only: the one person in it
            "team": str,  # channels only: the team it belongs to
            "name": str,  # channels only: how people know it
            "reference": str,  # the ConversationReference, as JSON
            "unreachable": int,  # 1 after Teams answered 403 MessageWritesBlocked
        },
        pk="conversation",
        not_null={"tenant", "kind", "reference", "unreachable"},
        defaults={"unreachable": 0},
    )
    db.table("teams_references").create_index(["user"])
    db.table("teams_references").create_index(["tenant", "kind"])


@candor()
def m015_nominations(db: Database) -> None:
    # Peer nomination cycles (handlers/nominations). A cycle moves open → (voting →) closed; each
    # move is claimed by a conditional update of `phase`, so two processes close a cycle once.
    db.table("nomination_cycles").create(
        {
            "id": int,
            "platform": str,
            "workspace": str,
            "conversation": str,  # the channel the cycle belongs to
            "award": str,  # slug in data/awards.yml
            "opened_by": str,  # the admin's user id
            "tz": str,  # the admin's timezone: times are shown in it
            "opened_at": float,
            "closes_at": float,  # nominations close
            "show_nominators": int,  # 0: nominators are named nowhere
            "voting_s": float,  # 0: no vote; else how long the vote among the finalists runs
            "top_n": int,  # how many of the most nominated go to the vote
            "phase": str,  # open | voting | closed
            "finalists": str,  # JSON list of user ids, set when the vote starts
            "voting_opened_at": float,
            "voting_closes_at": float,
            "closed_at": float,  # when the result was tallied and posted
            "announce_outbox": int,  # the announcement, edited at each move
            "vote_outbox": int,  # the ballot post, edited when the vote ends
            "result_outbox": int,
        },
        pk="id",
        not_null={
            "platform",
            "workspace",
            "conversation",
            "award",
            "opened_by",
            "tz",
            "opened_at",
            "closes_at",
            "phase",
        },
        defaults={"phase": "open", "show_nominators": 0, "voting_s": 0, "top_n": 5},
    )
    db.table("nomination_cycles").create_index(["phase", "closes_at"])
    db.table("nomination_cycles").create_index(["platform", "workspace", "conversation", "phase"])
    db.table("nominations").create(
        {
            "id": int,
            "cycle_id": int,
            "nominator": str,  # user id; shown only if the cycle says so
            "nominee": str,  # user id
            "level": str,  # developing | competent | role_model
            "example_1": str,
            "example_2": str,
            "example_3": str,
            "created_at": float,
            "updated_at": float,
        },
        pk="id",
        not_null={"cycle_id", "nominator", "nominee", "level", "example_1", "example_2", "created_at"},
        foreign_keys=[("cycle_id", "nomination_cycles", "id")],
    )
    # One nomination per nominator per nominee per cycle: a second one edits the first.
    db.table("nominations").create_index(["cycle_id", "nominator", "nominee"], unique=True)
    db.table("nominations").create_index(["nominee"])
    db.table("nomination_votes").create(
        {"cycle_id": int, "voter": str, "nominee": str, "voted_at": float},
        pk=("cycle_id", "voter"),  # one vote per person per cycle; changing it updates the row
        not_null={"nominee", "voted_at"},
        foreign_keys=[("cycle_id", "nomination_cycles", "id")],
    )
    # The tally, written once by the transaction that claimed the close.
    db.table("nomination_results").create(
        {
            "cycle_id": int,
            "nominee": str,
            "nominators": int,  # distinct nominators
            "votes": int,  # NULL without a vote, or for a nominee not on the ballot
            "finalist": int,
            "winner": int,
        },
        pk=("cycle_id", "nominee"),
        not_null={"nominators", "finalist", "winner"},
        foreign_keys=[("cycle_id", "nomination_cycles", "id")],
    )
    # A person's evidence (/nominate mine) reads the kudos they received.
    db.table("kudos").create_index(["receiver"])


@candor()
def m016_accountability(db: Database) -> None:
    # Agreements (/agree): a request becomes an agreement only when the other side accepts it.
    # The current terms live here; every offer that led to them is kept in agreement_offers.
    db.table("agreements").create(
        {
            "id": int,
            "platform": str,
            "workspace": str,
            "conversation": str,  # where it was asked: the team /agree stats counts it for
            "requester": str,  # platform user ids
            "performer": str,
            "what": str,
            "done_means": str,
            "process_goal": str,
            "due_at": float,  # epoch seconds
            "due_tz": str,  # the zone the due time was written in
            "state": str,  # offered | accepted | done | kept | declined | reviewing | reviewed
            "turn": str,  # whose answer an open offer waits for: requester | performer | NULL
            "offer_seq": int,  # the latest offer; buttons carry it, so a stale one changes nothing
            "case_id": int,  # the escalation case whose documented plan it belongs to
            "created_at": float,
            "accepted_at": float,
            "done_at": float,  # when the performer said it was done
            "closed_at": float,
            "renegotiated_at": float,  # changed terms accepted after the first yes, before the due time
            "performer_tz": str,
            "remind_at": float,  # the one reminder: 1 working day before, in the performer's zone
            "reminded_at": float,  # claimed by the process that sends it
            "miss": str,  # missed | not_yet, once the review starts
            "missing": str,  # what the requester said was missing ("Not yet")
        },
        pk="id",
        not_null={
            "platform",
            "workspace",
            "conversation",
            "requester",
            "performer",
            "what",
            "done_means",
            "due_at",
            "state",
            "offer_seq",
            "created_at",
        },
    )
    db.table("agreements").create_index(["state", "due_at"])
    db.table("agreements").create_index(["state", "remind_at"])
    db.table("agreements").create_index(["platform", "workspace", "requester"])
    db.table("agreements").create_index(["platform", "workspace", "performer"])
    db.table("agreements").create_index(["platform", "workspace", "conversation", "accepted_at"])
    db.table("agreements").create_index(["case_id"])
    db.table("agreement_offers").create(
        {
            "agreement_id": int,
            "seq": int,
            "by_user": str,
            "kind": str,  # request | proposal
            "due_at": float,
            "due_tz": str,
            "done_means": str,
            "reason": str,
            "created_at": float,
            "outcome": str,  # accepted | countered | declined | superseded, once answered
            "answer": str,  # what the answer said: the reason to decline
            "dm_outbox": int,  # the message that carries an open offer, edited (and let go) once answered
        },
        pk=("agreement_id", "seq"),
        not_null={"agreement_id", "seq", "by_user", "kind", "due_at", "done_means", "created_at"},
        foreign_keys=[("agreement_id", "agreements", "id")],
    )
    # "How can we do this better next time?": one row per side, shown to both once both answered.
    db.table("agreement_reviews").create(
        {"agreement_id": int, "role": str, "by_user": str, "answers": str, "created_at": float},
        pk=("agreement_id", "role"),
        not_null={"agreement_id", "role", "by_user", "answers", "created_at"},
        foreign_keys=[("agreement_id", "agreements", "id")],
    )
    # Staged escalation (/escalation): one case per manager and person at a time, never secret.
    db.table("escalation_cases").create(
        {
            "id": int,
            "platform": str,
            "workspace": str,
            "person": str,
            "manager": str,
            "stage": str,  # observation | coaching | plan | corrective
            "stage_since": float,
            "status": str,  # open | closed
            "outcome": str,  # resolved | closed
            "opened_at": float,
            "closed_at": float,
            "closed_by": str,
        },
        pk="id",
        not_null={
            "platform",
            "workspace",
            "person",
            "manager",
            "stage",
            "stage_since",
            "status",
            "opened_at",
        },
    )
    db.table("escalation_cases").create_index(["platform", "workspace", "person"])
    db.table("escalation_cases").create_index(["platform", "workspace", "manager"])
    # The record of a case: every step, and the observed behaviour it started with.
    db.table("escalation_steps").create(
        {
            "id": int,
            "case_id": int,
            "kind": str,  # opened | moved | closed
            "stage": str,
            "by_user": str,
            "at": float,
            "note": str,
        },
        pk="id",
        not_null={"case_id", "kind", "stage", "by_user", "at"},
        foreign_keys=[("case_id", "escalation_cases", "id")],
    )
    db.table("escalation_steps").create_index(["case_id"])
    db.table("escalation_observations").create(
        {
            "id": int,
            "case_id": int,
            "seen": str,
            "seen_on": str,  # the day it happened, ISO
            "impact": str,
            "by_user": str,
            "created_at": float,
        },
        pk="id",
        not_null={"case_id", "seen", "seen_on", "impact", "by_user", "created_at"},
        foreign_keys=[("case_id", "escalation_cases", "id")],
    )
    db.table("escalation_observations").create_index(["case_id"])
    # Coaching notes (/coach): read only by their author, and by the person once shared. No
    # report, admin view or escalation record reads this table's text; escalation counts dates.
    db.table("coaching_notes").create(
        {
            "id": int,
            "platform": str,
            "workspace": str,
            "author": str,
            "person": str,
            "talked": str,
            "agreed": str,
            "next_checkin": str,  # ISO date, in the author's zone
            "created_at": float,
            "shared_at": float,  # NULL while private to the author
            "remind_at": float,  # the check-in date's first working hour, in the author's zone
            "reminded_at": float,
        },
        pk="id",
        not_null={"platform", "workspace", "author", "person", "talked", "created_at"},
    )
    db.table("coaching_notes").create_index(["platform", "workspace", "author", "person"])
    db.table("coaching_notes").create_index(["platform", "workspace", "person", "shared_at"])
    db.table("coaching_notes").create_index(["remind_at"])


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
            "conversation": str,  # the team's channel, where /review was run (anonymous: the reviews channel)
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


@candor()
def m017_pulse(db: Database) -> None:
    # The psychological-safety pulse (handlers/pulse). A schedule starts rounds; a round invites a
    # channel's members. Who answered (pulse_invites) and what was answered (pulse_answers) are kept
    # apart: an answer has no user, no time and a random id, and an invite's row is written when
    # the round opens (in member order) and only flips a flag, so neither order nor rowid nor a
    # timestamp joins the two. tests/test_pulse_anonymity.py pins these columns.
    db.table("pulse_schedules").create(
        {
            "id": int,
            "platform": str,
            "workspace": str,
            "conversation": str,  # the team: its members are invited
            "created_by": str,  # the admin or manager who scheduled it
            "repeat": str,  # monthly | fortnightly | quarterly | once
            "open_days": int,  # how long each round takes answers
            "tz": str,  # the scheduler's timezone: rounds open at 10:00 there
            "next_at": float,  # when the next round opens; NULL once stopped or done
            "created_at": float,
            "stopped_at": float,
        },
        pk="id",
        not_null={"platform", "workspace", "conversation", "created_by", "repeat", "open_days", "tz"},
    )
    db.table("pulse_schedules").create_index(["next_at"])
    db.table("pulse_schedules").create_index(["platform", "workspace", "conversation"])
    db.table("pulse_rounds").create(
        {
            "id": int,
            "platform": str,
            "workspace": str,
            "conversation": str,
            "schedule_id": int,
            "state": str,  # open | closed
            "opened_at": float,  # a round's times are the schedule's, never a person's
            "closes_at": float,
            "tz": str,  # the schedule's timezone: dates are shown in it
            "remind_at": float,  # the one reminder to those who have not answered
            "reminded_at": float,  # claimed by the process that sends it
            "closed_at": float,
            "invited": int,
            "answers": int,  # counted at close
            "published": int,  # 1: at least k answers and no overlap that could single anyone out
            "withheld": str,  # why the results were not shown: few | overlap
            "score": float,  # the team score (1-7), published rounds only
            "item_means": str,  # JSON list of seven means, published rounds only
            "announce_outbox": int,
            "result_outbox": int,
        },
        pk="id",
        not_null={"platform", "workspace", "conversation", "state", "opened_at", "closes_at", "invited"},
    )
    db.table("pulse_rounds").create_index(["state", "closes_at"])
    db.table("pulse_rounds").create_index(["state", "remind_at"])
    db.table("pulse_rounds").create_index(["platform", "workspace", "conversation", "closed_at"])
    db.table("pulse_rounds").create_index(["platform", "workspace", "closed_at"])
    db.table("pulse_invites").create(
        {"round_id": int, "user": str, "answered": int, "dm_outbox": int},
        pk=("round_id", "user"),
        not_null={"round_id", "user", "answered"},
        defaults={"answered": 0},
        foreign_keys=[("round_id", "pulse_rounds", "id")],
    )
    db.table("pulse_answers").create(
        {
            "id": int,  # random, so a row's place says nothing about when it was written
            "round_id": int,
            "q1": int,
            "q2": int,
            "q3": int,
            "q4": int,
            "q5": int,
            "q6": int,
            "q7": int,
            "comment": str,  # optional; shown only in rounds of at least 10 answers
        },
        pk="id",
        not_null={"round_id", "q1", "q2", "q3", "q4", "q5", "q6", "q7"},
        foreign_keys=[("round_id", "pulse_rounds", "id")],
    )
    db.table("pulse_answers").create_index(["round_id"])
    # The team report's sizes: how many people a channel had when Candor last looked, for rates
    # "per 100 members" (handlers/reports). A count per day, never who.
    db.table("team_sizes").create(
        {"platform": str, "workspace": str, "conversation": str, "day": str, "members": int},
        pk=("platform", "workspace", "conversation"),
        not_null={"day", "members"},
    )
    # Reports read whole periods of other practices' rows; these keep a 90-day report fast on a
    # million rows (scripts/bench.py --case report).
    db.table("concerns").create_index(["platform", "workspace", "conversation", "raised_on"])
    db.table("concerns").create_index(["platform", "workspace", "raised_on"])
    db.table("checkin_runs").create_index(["schedule_id", "occurrence"])
    db.table("agreements").create_index(["platform", "workspace", "accepted_at"])
    # A whole workspace's kudos by period, read from the index alone (counts, givers, behaviours).
    db.table("kudos").create_index(["platform", "workspace", "created_at", "undone_at", "behaviour", "giver"])


@candor()
def m018_kudos_by_channel(db: Database) -> None:
    # The whole workspace's kudos count only the channels where at least k people gave kudos
    # (handlers/reporting.py), so a whole-workspace report reads them channel by channel, givers
    # and behaviours from this index alone; one channel's report and /kudos stats read it too. It
    # replaces the narrower index on its leading columns and the whole workspace's index by period,
    # which nothing reads any more. (PostgreSQL cuts a name to its first 63 bytes, as it created it.)
    db.execute("drop index idx_kudos_platform_workspace_conversation_created_at")
    db.execute("drop index idx_kudos_platform_workspace_created_at_undone_at_behaviour_giver")
    db.table("kudos").create_index(
        ["platform", "workspace", "conversation", "created_at", "undone_at", "behaviour", "giver"]
    )
