"""Anonymous speak-up: concerns posted without an author, answered in the open.

The author's only link to a concern is a random case code shown to them alone, in the form once
it is sent (and by private message only if they ask); Candor keeps just its SHA-256. No row,
outbox entry, log line or message anyone else can see holds who wrote it. Publication waits a
random delay and is released only by the batch job, in random order, with the batch's time; case
numbers are random and dates are the day of publication, so neither timing nor order points at
the author. Abuse limits live in memory only (handlers/anonymity).
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import hashlib
import json
import logging
import math
import re
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlite_utils import Database

from bot import outbox
from bot.messages import (
    Actions,
    Block,
    Button,
    ChannelRef,
    Choice,
    Context,
    Field,
    Form,
    FormErrors,
    Mention,
    Message,
    Quote,
    Reply,
    Section,
    Strong,
    error,
    ok,
    open_form,
    rich,
)
from bot.outbox import Channel
from bot.store import claim_once
from handlers.anonymity import DAY_S
from handlers.context import Action, Command, Services, Submission, is_admin
from handlers.practice import HelpLine, PeriodicJob, Practice
from handlers.text import MAX_COMMAND_CHARS, clean_user_text, read_text

log = logging.getLogger("candor.speakup")
_in_flight: set[asyncio.Task[None]] = set()  # author DMs being sent (a reference keeps them alive)

NEW_FORM = "speakup_new"
CASE_FORM = "speakup_case"
REPLY_FORM = "speakup_reply"
RESOLVE_FORM = "speakup_resolve"
HIDE_FORM = "speakup_hide"
VIEW = "speakup_view"
REPLY = "speakup_reply_open"
ACK = "speakup_ack"
RESOLVE = "speakup_resolve_open"
HIDE = "speakup_hide_open"

MAX_CONCERN = 3000
MAX_WANTS = 1000
MAX_REPLY = 3000
MAX_NOTE = 500
CONCERNS_PER_DAY = 3
CASE_VIEW_MESSAGES = 12  # newest messages in the author's view (a modal holds 100 blocks)
CASE_VIEW_CHARS = 1000  # of each message, escaped at most 5,000 characters: two sections
CODE_TRIES_PER_HOUR = 10
PUBLISH_EVERY_S = 300  # publications are released together on these boundaries
DEADLINES = (  # (flag, days after raising, what is overdue) after EU directive 2019/1937 art. 9
    ("ack", 7, "has not been acknowledged within 7 days"),
    ("reply", 30, "has had no reply within 30 days"),
    ("resolve", 90, "is still open after 90 days"),
)

CASE_IDS = (1_000_000, 9_999_999)  # public case numbers: random, so neither gaps nor order say anything
DM_RISK = (
    "Off unless you tick it. The message stays in your direct messages with Candor, where anyone "
    "who can read the bot's messages (a workspace export on some Slack plans) can match the code "
    "to your concern. Safer: copy the code from this form when you send it."
)
NO_CASE = "No case matches that code. Check the code (letters A–Z and digits 2–7) and try again."


# --- case codes ---------------------------------------------------------------------------------
def new_code() -> str:
    """160 random bits as 32 base32 characters in groups of four, easy to read and type."""
    raw = base64.b32encode(secrets.token_bytes(20)).decode()
    return "-".join(raw[i : i + 4] for i in range(0, 32, 4))


def normalise_code(raw: str) -> str | None:
    text = re.sub(r"[\s-]", "", raw.upper()).translate(str.maketrans("018", "OIB"))
    return text if re.fullmatch(r"[A-Z2-7]{32}", text) else None


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


# --- text ---------------------------------------------------------------------------------------
def check_text(raw: Any, *, label: str, limit: int, required: bool) -> tuple[str, str | None]:
    """(cleaned text, None) or ("", what is wrong) for one field a person filled in.

    The rule every practice shares (handlers/text.py). A typed @here or <!channel> is accepted:
    it is published escaped, so it notifies no one.
    """
    return read_text(raw, label=label, limit=limit, required=required)


def _duration(seconds: float) -> str:
    """90 → "90 seconds", 300 → "5 minutes", 3600 → "1 hour"."""
    for unit, size in (("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= size and seconds % size == 0:
            n = int(seconds // size)
            return f"{n} {unit}{'' if n == 1 else 's'}"
    return f"{seconds:g} seconds"


def _span(low: float, high: float) -> str:
    """(300, 1800) → "5 to 30 minutes"; (0, 600) → "up to 10 minutes"; (90, 3600) → "90 seconds to 1 hour"."""
    if low <= 0:
        return f"up to {_duration(high)}"
    lo, hi = _duration(low), _duration(high)
    if lo.split()[1].rstrip("s") == hi.split()[1].rstrip("s"):
        return f"{lo.split()[0]} to {hi}"
    return f"{lo} to {hi}"


def delayed(services: Services) -> bool:
    return services.settings.speakup_delay_s[1] > 0


def when_published(services: Services) -> str:
    """When something an author sends appears, as the settings really make it happen."""
    low, high = services.settings.speakup_delay_s
    if high <= 0:
        return "at once"
    mark = f"at the next {_duration(PUBLISH_EVERY_S)} mark, together with anything else due then"
    if low == high:
        return f"{_duration(low)} after you send it, {mark}"
    return f"after a random delay of {_span(low, high)}, {mark}"


def delay_text(services: Services) -> str:
    low, high = services.settings.speakup_delay_s
    text = f"Your concern appears in the channel {when_published(services)}, with no name."
    if high <= 0:
        return text + " Its time in the channel is the moment you send it."
    if low == high:
        return text + " Its time in the channel tells roughly when you sent it."
    return text


def kept_text(services: Services) -> str:
    not_kept = "who you are, your Slack ID or name, or the code itself"
    if services.settings.speakup_delay_s[0] < services.settings.speakup_delay_s[1]:
        not_kept = "who you are, your Slack ID or name, when exactly you wrote, or the code itself"
    return (
        "What Candor keeps: your words, the channel, the day it is published (not the time), and a "
        f"fingerprint of a case code that only you receive. What it does not keep: {not_kept}."
    )


def _day(now: float) -> float:
    """The start of the UTC day: when a first /speakup happened must not be kept precisely."""
    return float(math.floor(now / 86400) * 86400)


def today(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).date().isoformat()


def random_id(db: Database, table: str, low: int, high: int) -> int:
    """An unused id drawn at random from [low, high], inside the caller's transaction: the row's
    place in the table (SQLite orders rows by id) then says nothing about when it was written."""
    for _ in range(100):
        candidate = low + secrets.randbelow(high - low + 1)
        if db.execute(f"select 1 from [{table}] where id = ?", [candidate]).fetchone() is None:
            return candidate
    raise RuntimeError(f"no free id in {table} after 100 draws")


def _message_id(db: Database) -> int:
    # Every concern message (replies too), so none gets the id after an author's follow-up
    # and thereby dates it.
    return random_id(db, "concern_messages", 1, 2**62)


def publish_time(services: Services, now: float) -> float:
    """A random delay, then the next batch boundary: no trace of the moment of writing remains."""
    low, high = services.settings.speakup_delay_s
    if high <= 0:
        return now
    delayed = now + low + secrets.SystemRandom().uniform(0, high - low)
    return float(math.ceil(delayed / PUBLISH_EVERY_S) * PUBLISH_EVERY_S)


def _human_day(iso: str | None) -> str:
    return date.fromisoformat(iso).strftime("%d %b %Y") if iso else ""


# --- the command --------------------------------------------------------------------------------
def usage(services: Services) -> Reply:
    return ok(
        rich(Strong("Speak up without your name")),
        "/speakup opens a form: pick the channel, describe the concern, and optionally what would help.",
        "When you send it, the form shows your case code once: copy it then. It is the only link "
        "between you and the concern, and Candor cannot recover it. A private message with the code "
        "is optional (the form says what that risks).",
        delay_text(services),
        kept_text(services),
        "Managers can reply in the thread, acknowledge, resolve or hide it. Because Candor does not "
        "know who you are, it cannot message you later: check the case with /speakup status <code> "
        "(or the button in the private copy, if you asked for one).",
        "Admins: /speakup enable or /speakup disable in a channel chooses where concerns may go; "
        "/speakup stats shows counts per channel (only for groups of at least 5).",
    )


def _enabled(db: Database, cmd: Command | Submission | Action) -> list[str]:
    return [
        r[0]
        for r in db.execute(
            "select conversation from speakup_channels where platform = ? and workspace = ? "
            "order by created_at",
            [cmd.platform, cmd.workspace],
        )
    ]


def seed_channels(services: Services, platform: str, workspace: str) -> None:
    """CANDOR_SPEAKUP_CHANNELS: enabled once per workspace, so a later /speakup disable sticks."""
    if not services.settings.speakup_channels:
        return
    with services.store.transaction() as tx:
        if not claim_once(tx, f"speakup-seed:{platform}:{workspace}", _day(services.clock.now())):
            return
        for conversation in sorted(services.settings.speakup_channels):
            tx.execute(
                "insert or ignore into speakup_channels values (?, ?, ?, ?, ?)",
                [platform, workspace, conversation, "CANDOR_SPEAKUP_CHANNELS", _day(services.clock.now())],
            )


async def handle(cmd: Command, services: Services) -> Reply:
    if len(cmd.text) > MAX_COMMAND_CHARS:
        return error("That is too long for /speakup. Use /speakup on its own to open the form.")
    words = clean_user_text(cmd.text).split()
    verb = words[0].lower() if words else ""
    seed_channels(services, cmd.platform, cmd.workspace)
    if verb == "":
        return await new_form(cmd, services)
    if verb in ("help", "?"):
        return usage(services)
    if verb == "status":
        return await open_case(cmd, services, "".join(words[1:]))
    if verb in ("enable", "disable", "stats") and len(words) == 1:
        if not await is_admin(services, cmd.platform, cmd.user):
            return error("Only Candor admins can do that.")
        return stats(cmd, services) if verb == "stats" else toggle(cmd, services, verb == "enable")
    return error(f"I don't know /speakup {verb[:30]}.", "Type /speakup help for what I can do.")


async def new_form(cmd: Command, services: Services) -> Reply:
    channels = _enabled(services.store.db, cmd)
    if not channels:
        return error(
            "Speak-up is not set up yet: no channel takes concerns. "
            "Ask a Candor admin to run /speakup enable in the channel where concerns should go."
        )
    people = services.people_for(cmd.platform)
    choices = tuple([Choice(c, (await people.channel_name(c))[:75]) for c in channels])
    return open_form(
        Form(
            callback=NEW_FORM,
            title="Speak up anonymously",
            submit="Send anonymously",
            intro=(Section(rich(kept_text(services))), Context(rich(delay_text(services)))),
            fields=(
                Field("channel", "Where should it go?", "select", choices=choices, initial=choices[0].value),
                Field("concern", "Your concern", "multiline", max_length=MAX_CONCERN),
                Field(
                    "wants", "What would help? (optional)", "multiline", optional=True, max_length=MAX_WANTS
                ),
                Field(
                    "dm",
                    "A copy of the case code",
                    "checkboxes",
                    choices=(Choice("yes", "Also send me the code in a private message"),),
                    optional=True,
                    hint=DM_RISK,
                ),
            ),
        )
    )


def _channel_post(concern: dict[str, Any]) -> Message:
    blocks: list[Block] = [Section(rich(Strong("📣 A concern was raised anonymously")))]
    if concern.get("hidden_reason"):
        blocks.append(Section(rich(f"hidden by a moderator: {concern['hidden_reason']}")))
    else:
        blocks.append(Quote(concern["body"]))
        if concern.get("wants"):
            blocks += [Section(rich(Strong("What would help"))), Quote(concern["wants"])]
    blocks.append(
        Context(
            rich(
                f"Raised on {_human_day(concern['raised_on'])} · case #{concern['id']} · {concern['status']}"
            )
        )
    )
    if not concern.get("hidden_reason") and concern["status"] != "resolved":
        value = str(concern["id"])
        blocks.append(
            Actions(
                (
                    Button("Reply", REPLY, value, "primary"),
                    Button("Acknowledge", ACK, value),
                    Button("Mark resolved", RESOLVE, value),
                    Button("Hide", HIDE, value, "danger"),
                )
            )
        )
    return Message(tuple(blocks))


def _author_key(services: Services, code: str) -> Message:
    """The optional private copy of the case code, sent only when the author ticked the box."""
    return Message(
        (
            Section(rich(Strong("Your concern was received."), " Only you can see this message.")),
            Section(rich("Your case code: ", Strong(code))),
            Context(
                rich(
                    "It is the only link between you and the concern; Candor cannot recover it. "
                    "Delete this message once you have the code somewhere safe. " + delay_text(services)
                )
            ),
            Actions((Button("View replies / add more", VIEW, code, "primary"),)),
        )
    )


async def _send_key(services: Services, platform: str, user: str, code: str) -> None:
    """Best effort, and never logged when it fails: a failure is only counted (see publish_due)."""
    try:
        delivered = await services.people_for(platform).send_private(user, _author_key(services, code))
    except Exception:
        delivered = False
    if not delivered:
        services.anonymity_limits.note_undelivered()


def _publish_at_once(services: Services) -> None:
    """With the delay off (the shell, tests) a submission publishes itself. What it wrote is
    committed already, so a failure here must not turn the author's answer into an error; the
    next batch publishes it. (Logging the time is harmless: with no delay it is the post's time.)"""
    try:
        publish_due(services)
    except Exception:
        log.exception("speak-up: publishing at once failed; the next batch will publish it")


def _received(services: Services, code: str, copy_by_dm: bool) -> Reply:
    lines: list[str | tuple[Any, ...]] = [
        rich(Strong("Received. Thank you for speaking up.")),
        rich("Your case code: ", Strong(code)),
        rich(
            Strong("Copy it now."),
            " This form shows it only this once and Candor cannot recover it: it is the only link "
            "between you and your concern. With it, /speakup status <code> shows replies and lets you "
            "add more.",
        ),
        delay_text(services),
    ]
    if copy_by_dm:
        lines.append(
            "You asked for a copy in a private message. It should arrive in a moment, "
            "but do not count on it: copy the code above."
        )
    return ok(*lines)


async def submit_new(sub: Submission, services: Services) -> Reply | FormErrors:
    errors: dict[str, str] = {}
    conversation = str(sub.values.get("channel") or "")
    if conversation not in _enabled(services.store.db, sub):
        errors["channel"] = "Pick one of the channels in the list."
    body, problem = check_text(
        sub.values.get("concern"), label="Your concern", limit=MAX_CONCERN, required=True
    )
    if problem:
        errors["concern"] = problem
    wants, problem = check_text(sub.values.get("wants"), label="This answer", limit=MAX_WANTS, required=False)
    if problem:
        errors["wants"] = problem
    now = services.clock.now()
    person = f"{sub.platform}:{sub.workspace}:{sub.user}"
    if not errors and services.anonymity_limits.used("concern", person, DAY_S, now) >= CONCERNS_PER_DAY:
        errors["concern"] = f"You can raise {CONCERNS_PER_DAY} concerns a day. Please try again tomorrow."
    if errors:
        return FormErrors(errors)

    copy_by_dm = "yes" in (sub.values.get("dm") or [])
    code = new_code()
    publish_at = publish_time(services, now)
    raised = today(publish_at)  # the day it is published, not the day it was written
    due = {
        f"{flag}_due_on": (date.fromisoformat(raised) + timedelta(days=days)).isoformat()
        for flag, days, _ in DEADLINES
    }
    with services.store.transaction() as tx:
        tx.table("concerns").insert(
            {
                "id": random_id(tx, "concerns", *CASE_IDS),
                "platform": sub.platform,
                "workspace": sub.workspace,
                "conversation": conversation,
                "code_hash": code_hash(code.replace("-", "")),
                "body": body,
                "wants": wants or None,
                "status": "open",
                "raised_on": raised,
                "publish_at": publish_at,
                "flagged": "[]",
                **due,
            }
        )
    # The concern is stored: from here on the author must get their code, whatever fails.
    services.anonymity_limits.add("concern", person, DAY_S, now)
    if not delayed(services):  # with a delay only the batch job publishes, at its own time
        _publish_at_once(services)
    if copy_by_dm:
        # Sent after the answer, in a task that does not carry this request's id into any log
        # line, so the request's duration does not mark it as a submission.
        task = asyncio.get_running_loop().create_task(
            _send_key(services, sub.platform, sub.user, code), context=contextvars.Context()
        )
        _in_flight.add(task)
        task.add_done_callback(_in_flight.discard)
    return _received(services, code, copy_by_dm)


# --- the author's view --------------------------------------------------------------------------
def _find_by_code(services: Services, raw: str, platform: str, workspace: str) -> dict[str, Any] | None:
    code = normalise_code(raw)
    if code is None:
        return None
    rows = list(
        services.store.db.query(
            "select * from concerns where code_hash = ? and platform = ? and workspace = ?",
            [code_hash(code), platform, workspace],
        )
    )
    return rows[0] if rows else None


async def open_case(req: Command | Action, services: Services, raw_code: str) -> Reply:
    now = services.clock.now()
    person = f"{req.platform}:{req.workspace}:{req.user}"
    if services.anonymity_limits.used("code", person, 3600, now) >= CODE_TRIES_PER_HOUR:
        return error("Too many codes tried. Please wait an hour and try again.")
    concern = _find_by_code(services, raw_code, req.platform, req.workspace)
    if concern is None:
        services.anonymity_limits.add("code", person, 3600, now)
        return error(NO_CASE)
    code = normalise_code(raw_code) or ""
    return open_form(
        Form(
            callback=CASE_FORM,
            title=f"Case #{concern['id']}"[:24],
            submit="Add follow-up",
            intro=_case_blocks(services, concern),
            fields=(
                Field(
                    "followup",
                    f"Add more (optional; posted in the thread as Author {when_published(services)})",
                    "multiline",
                    optional=True,
                    max_length=MAX_REPLY,
                ),
            ),
            context=code,
        )
    )


async def view_case(action: Action, services: Services) -> Reply:
    return await open_case(action, services, action.value)


def _case_blocks(services: Services, concern: dict[str, Any]) -> tuple[Block, ...]:
    blocks: list[Block] = [
        Section(
            rich(Strong(f"Status: {concern['status']}"), f" · raised {_human_day(concern['raised_on'])}")
        ),
        Quote(concern["body"][:CASE_VIEW_CHARS]),
    ]
    if concern["hidden_reason"]:
        blocks.append(Section(rich(f"Hidden by a moderator: {concern['hidden_reason']}")))
    messages = list(
        services.store.db.query(
            "select * from concern_messages where concern_id = ? and "
            "(kind != 'author' or outbox_id is not null or publish_at is not null) "
            # as the thread shows them (ids are random): by outbox row, unpublished ones last
            "order by outbox_id is null, outbox_id, publish_at",
            [concern["id"]],
        )
    )
    if len(messages) > CASE_VIEW_MESSAGES:  # a modal holds 100 blocks: show the newest
        blocks.append(Context(rich(f"{len(messages) - CASE_VIEW_MESSAGES} earlier messages are not shown.")))
        messages = messages[-CASE_VIEW_MESSAGES:]
    for msg in messages:
        when = _human_day(msg["created_on"])
        body = (msg["body"] or "")[:CASE_VIEW_CHARS]
        if msg["kind"] == "author":
            blocks += [Section(rich(Strong("You"), f" · {when}")), Quote(body)]
        elif msg["kind"] == "reply":
            blocks += [
                Section(rich(Strong("Reply from "), Mention(msg["by_user"]), f" · {when}")),
                Quote(body),
            ]
        else:
            note = f": {body}" if body else ""
            blocks.append(
                Context(rich(f"{msg['kind'].capitalize()} by ", Mention(msg["by_user"]), f" · {when}{note}"))
            )
    return tuple(blocks)


async def submit_case(sub: Submission, services: Services) -> Reply | FormErrors:
    concern = _find_by_code(services, sub.context, sub.platform, sub.workspace)
    if concern is None:
        return FormErrors({"followup": NO_CASE})
    text, problem = check_text(
        sub.values.get("followup"), label="Your follow-up", limit=MAX_REPLY, required=False
    )
    if problem:
        return FormErrors({"followup": problem})
    if not text:
        return ok("Nothing was added.")
    if concern["status"] == "resolved" or concern["hidden_reason"]:
        return FormErrors({"followup": "This case is closed. Raise a new concern with /speakup."})
    if concern["post_outbox"] is None:
        return FormErrors({"followup": "Your concern is not published yet. Add more once it is."})
    publish_at = publish_time(services, services.clock.now())
    with services.store.transaction() as tx:
        tx.table("concern_messages").insert(
            {
                "id": _message_id(tx),
                "concern_id": concern["id"],
                "kind": "author",
                "body": text,
                "created_on": today(publish_at),  # like raised_on: the day it is published
                "publish_at": publish_at,
            }
        )
    if not delayed(services):
        _publish_at_once(services)
    return ok(f"Added. It will appear in the case's thread as Author, {when_published(services)}.")


# --- what managers do ---------------------------------------------------------------------------
def _concern(services: Services, req: Action | Submission, raw_id: str) -> dict[str, Any] | None:
    if not raw_id.isdigit() or len(raw_id) > 12:
        return None
    rows = list(
        services.store.db.query(
            "select * from concerns where id = ? and platform = ? and workspace = ?",
            [int(raw_id), req.platform, req.workspace],
        )
    )
    return rows[0] if rows else None


def _note_form(callback: str, title: str, submit: str, label: str, concern_id: int, optional: bool) -> Reply:
    return open_form(
        Form(
            callback=callback,
            title=title,
            submit=submit,
            context=str(concern_id),
            fields=(
                Field(
                    "text",
                    label,
                    "multiline",
                    optional=optional,
                    max_length=MAX_NOTE if optional else MAX_REPLY,
                ),
            ),
        )
    )


async def open_reply(action: Action, services: Services) -> Reply:
    concern = _concern(services, action, action.value)
    if concern is None:
        return error("This concern no longer exists.")
    return _note_form(
        REPLY_FORM, "Reply", "Post reply", "Your reply (posted under your name)", concern["id"], False
    )


async def _moderate(action: Action, services: Services) -> dict[str, Any] | Reply:
    concern = _concern(services, action, action.value)
    if concern is None:
        return error("This concern no longer exists.")
    if not await is_admin(services, action.platform, action.user):
        return error("Only Candor admins can acknowledge, resolve or hide a concern. Anyone can reply.")
    return concern


async def acknowledge(action: Action, services: Services) -> Reply:
    found = await _moderate(action, services)
    if isinstance(found, Reply):
        return found
    if found["status"] != "open":
        return ok(f"Case #{found['id']} is already {found['status']}.")
    _record(services, found, kind="acknowledged", by_user=action.user, note=None, status="acknowledged")
    return ok(f"Case #{found['id']} is acknowledged. The author sees it when they check the case.")


async def open_resolve(action: Action, services: Services) -> Reply:
    return await _moderator_form(
        action, services, RESOLVE_FORM, "Mark resolved", "Resolve", "What was done (shown in the thread)"
    )


async def open_hide(action: Action, services: Services) -> Reply:
    return await _moderator_form(
        action, services, HIDE_FORM, "Hide concern", "Hide", "Why (shown instead of the text)"
    )


async def _moderator_form(
    action: Action, services: Services, callback: str, title: str, submit: str, label: str
) -> Reply:
    found = await _moderate(action, services)
    if isinstance(found, Reply):
        return found
    return _note_form(callback, title, submit, label, found["id"], False)


def _record(
    services: Services,
    concern: dict[str, Any],
    *,
    kind: str,
    by_user: str,
    note: str | None,
    status: str | None,
) -> None:
    """Store what a manager did, post it in the thread, and refresh the channel message."""
    now = services.clock.now()
    with services.store.transaction() as tx:
        changes: dict[str, Any] = {}
        if status:
            changes["status"] = status
            changes[f"{status}_on"] = today(now)
        if kind == "reply" and not concern["first_reply_on"]:
            changes["first_reply_on"] = today(now)
        if kind == "hidden":
            changes["hidden_reason"] = note
        if changes:
            tx.table("concerns").update(concern["id"], changes)
        label = {
            "reply": "Reply from ",
            "acknowledged": "✅ Acknowledged by ",
            "resolved": "Resolved by ",
            "hidden": "Hidden by ",
        }[kind]
        blocks: list[Block] = [Section(rich(Strong(label), Mention(by_user)))]
        if note and kind != "hidden":
            blocks.append(Quote(note))
        post = outbox.enqueue(
            tx,
            platform=concern["platform"],
            to=Channel(concern["conversation"]),
            message=Message(tuple(blocks)),
            now=now,
            reply_to=concern["post_outbox"],
        )
        tx.table("concern_messages").insert(
            {
                "id": _message_id(tx),
                "concern_id": concern["id"],
                "kind": kind,
                "by_user": by_user,
                "body": note,
                "created_on": today(now),
                "outbox_id": post,
            }
        )
        if changes and kind != "reply":
            _refresh_channel_post(tx, tx.table("concerns").get(concern["id"]), now)
        if kind == "hidden":
            _hide_follow_ups(tx, concern, note or "", now)


def _hide_follow_ups(tx: Database, concern: dict[str, Any], reason: str, now: float) -> None:
    """Hiding covers the author's follow-ups too: unpublished ones never go out, sent ones are edited."""
    tx.execute(
        "update concern_messages set publish_at = null where concern_id = ? and kind = 'author' "
        "and outbox_id is null",
        [concern["id"]],
    )
    hidden = Message((Section(rich(f"hidden by a moderator: {reason}")),))
    for (outbox_id,) in tx.execute(
        "select outbox_id from concern_messages "
        "where concern_id = ? and kind = 'author' and outbox_id is not null",
        [concern["id"]],
    ).fetchall():
        outbox.edit(tx, original=outbox_id, message=hidden, now=now)


def _refresh_channel_post(tx: Database, concern: dict[str, Any], now: float) -> None:
    """Edit the channel message (or, while it still waits to be published, what it will say)."""
    if concern["post_outbox"] is None:  # not published yet: it will say the new state when it is
        return
    outbox.edit(tx, original=concern["post_outbox"], message=_channel_post(concern), now=now)


async def submit_reply(sub: Submission, services: Services) -> Reply | FormErrors:
    return await _submit_note(sub, services, kind="reply", status=None, label="Your reply")


async def submit_resolve(sub: Submission, services: Services) -> Reply | FormErrors:
    return await _submit_note(sub, services, kind="resolved", status="resolved", label="The note")


async def submit_hide(sub: Submission, services: Services) -> Reply | FormErrors:
    return await _submit_note(sub, services, kind="hidden", status=None, label="The reason")


async def _submit_note(
    sub: Submission, services: Services, *, kind: str, status: str | None, label: str
) -> Reply | FormErrors:
    concern = _concern(services, sub, sub.context)
    if concern is None:
        return FormErrors({"text": "This concern no longer exists."})
    if kind != "reply" and not await is_admin(services, sub.platform, sub.user):
        return FormErrors({"text": "Only Candor admins can resolve or hide a concern."})
    limit = MAX_REPLY if kind == "reply" else MAX_NOTE
    text, problem = check_text(sub.values.get("text"), label=label, limit=limit, required=True)
    if problem:
        return FormErrors({"text": problem})
    _record(services, concern, kind=kind, by_user=sub.user, note=text, status=status)
    done = {
        "reply": "Your reply is posted in the thread.",
        "resolved": "Marked resolved.",
        "hidden": "Hidden.",
    }
    return ok(f"Case #{concern['id']}: {done[kind]}")


# --- admins: channels, stats, deadlines ---------------------------------------------------------
def toggle(cmd: Command, services: Services, enable: bool) -> Reply:
    with services.store.transaction() as tx:
        if enable:
            tx.execute(
                "insert or ignore into speakup_channels values (?, ?, ?, ?, ?)",
                [cmd.platform, cmd.workspace, cmd.conversation, cmd.user, _day(services.clock.now())],
            )
        else:
            tx.execute(
                "delete from speakup_channels where platform = ? and workspace = ? and conversation = ?",
                [cmd.platform, cmd.workspace, cmd.conversation],
            )
    if enable:
        return ok("This channel now takes anonymous concerns from /speakup. Make sure Candor is a member.")
    return ok("This channel no longer takes new concerns. Existing cases stay where they are.")


def stats(cmd: Command, services: Services) -> Reply:
    k = services.settings.anonymity_k
    since = (date.fromisoformat(today(services.clock.now())) - timedelta(days=90)).isoformat()
    rows = services.store.db.execute(
        "select conversation, count(*), sum(status = 'open'), sum(status = 'acknowledged'), "
        "sum(status = 'resolved') from concerns where platform = ? and workspace = ? and raised_on >= ? "
        "group by conversation",
        [cmd.platform, cmd.workspace, since],
    ).fetchall()
    by_channel = {r[0]: r[1:] for r in rows}
    lines: list[Any] = [rich(Strong("Speak-up, last 90 days"))]
    for conversation in sorted(set(by_channel) | set(_enabled(services.store.db, cmd))):
        total, opened, acked, resolved = by_channel.get(conversation, (0, 0, 0, 0))
        if total >= k:
            lines.append(
                rich(
                    ChannelRef(conversation),
                    f": {total} concerns; {opened} open, {acked} acknowledged, {resolved} resolved",
                )
            )
        else:
            lines.append(
                rich(ChannelRef(conversation), f": fewer than {k} concerns, not shown to protect anonymity")
            )
    return ok(*lines)


def _author_post(text: str) -> Message:
    return Message((Section(rich(Strong("Author:"))), Quote(text)))


def publish_due(services: Services) -> int:
    """Release concerns and author follow-ups whose batch time has come, in random order.

    Their outbox rows are written now and carry the batch boundary as their times, so neither
    their ids nor their times say when the author wrote. Then the write-ahead log, which still
    holds the order of the authors' commits, is emptied. Runs every minute (the periodic job)
    and after a restart; from a request only when the delay is off.
    """
    now = services.clock.now()
    undelivered = services.anonymity_limits.undelivered_report(now)
    if undelivered:  # once a day, as a number: the report's time says nothing about a submission
        log.warning(
            "speak-up: case-code messages that could not be delivered since the last report",
            extra={"count": undelivered},
        )
    db = services.store.db
    concerns = list(db.query("select * from concerns where post_outbox is null and publish_at <= ?", [now]))
    follow_ups = list(
        db.query(
            "select m.id, m.body, c.platform, c.conversation, c.post_outbox from concern_messages m "
            "join concerns c on c.id = m.concern_id "
            "where m.kind = 'author' and m.outbox_id is null and m.publish_at <= ? "
            "and c.post_outbox is not null",
            [now],
        )
    )
    if not concerns and not follow_ups:
        return 0
    secrets.SystemRandom().shuffle(concerns)
    secrets.SystemRandom().shuffle(follow_ups)
    batch = float(math.floor(now / PUBLISH_EVERY_S) * PUBLISH_EVERY_S)
    with services.store.transaction() as tx:
        for concern in concerns:
            post = outbox.enqueue(
                tx,
                platform=concern["platform"],
                to=Channel(concern["conversation"]),
                message=_channel_post(concern),
                now=now,
                not_before=batch,
                created_at=batch,
            )
            tx.table("concerns").update(concern["id"], {"post_outbox": post})
        for item in follow_ups:
            post = outbox.enqueue(
                tx,
                platform=item["platform"],
                to=Channel(item["conversation"]),
                message=_author_post(item["body"]),
                now=now,
                reply_to=item["post_outbox"],
                not_before=batch,
                created_at=batch,
            )
            tx.table("concern_messages").update(item["id"], {"outbox_id": post})
    if delayed(services):  # with no delay this runs inside a request: its time is the post's anyway
        log.info("speak-up batch published", extra={"concerns": len(concerns), "follow_ups": len(follow_ups)})
    if not services.store.checkpoint():
        log.warning("speak-up: a reader holds the write-ahead log; the next batch truncates it")
    return len(concerns) + len(follow_ups)


def flag_overdue(services: Services) -> int:
    """Post a reminder in a concern's thread when a deadline passes; once per deadline."""
    now = services.clock.now()
    day = today(now)
    flagged = 0
    rows = list(
        services.store.db.query("select * from concerns where status != 'resolved' and hidden_reason is null")
    )
    for concern in rows:
        done = set(json.loads(concern["flagged"] or "[]"))
        due = []
        for flag, _, what in DEADLINES:
            late = concern[f"{flag}_due_on"] and concern[f"{flag}_due_on"] <= day and flag not in done
            pending = {
                "ack": concern["status"] == "open",
                "reply": not concern["first_reply_on"],
                "resolve": True,
            }[flag]
            if late and pending:
                due.append((flag, what))
        if not due:
            continue
        with services.store.transaction() as tx:
            for flag, what in due:
                outbox.enqueue(
                    tx,
                    platform=concern["platform"],
                    to=Channel(concern["conversation"]),
                    message=Message(
                        (Section(rich(Strong("⏰ Overdue: "), f"case #{concern['id']} {what}.")),)
                    ),
                    now=now,
                    reply_to=concern["post_outbox"],
                )
                done.add(flag)
                flagged += 1
            tx.table("concerns").update(concern["id"], {"flagged": json.dumps(sorted(done))})
    return flagged


async def _publish(services: Services) -> int:
    return publish_due(services)


async def _flag(services: Services) -> int:
    return flag_overdue(services)


PRACTICE = Practice(
    name="speakup",
    commands={"speakup": handle},
    actions={VIEW: view_case, REPLY: open_reply, ACK: acknowledge, RESOLVE: open_resolve, HIDE: open_hide},
    forms={
        NEW_FORM: submit_new,
        CASE_FORM: submit_case,
        REPLY_FORM: submit_reply,
        RESOLVE_FORM: submit_resolve,
        HIDE_FORM: submit_hide,
    },
    periodic=(
        PeriodicJob("speakup-publications", _publish, 60.0),
        PeriodicJob("speakup-deadlines", _flag, 3600.0),
    ),
    help=(HelpLine("speakup", "", "raise a concern anonymously; managers answer in the open."),),
    anonymous=frozenset({NEW_FORM, CASE_FORM, VIEW}),
    outbox_references=(("concerns", "post_outbox"), ("concern_messages", "outbox_id")),
    permanent_keys=("speakup-seed:",),
)
