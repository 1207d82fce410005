"""What speak-up shows: the neutral messages and forms, apart from the rules that choose them.

Nothing here names a platform: commands are written with the request's `Syntax` ("/speakup" on
Slack), and each adapter's renderer fits texts to its platform's limits.
"""

from __future__ import annotations

from datetime import date

from bot.messages import (
    Actions,
    Block,
    Button,
    ChannelRef,
    Choice,
    Context,
    Field,
    Form,
    Mention,
    Message,
    Quote,
    Reply,
    Section,
    Span,
    Strong,
    error,
    ok,
    open_form,
    rich,
)
from handlers.anonymity import Delay, describe_delay, meets_k, withheld
from handlers.context import Syntax
from handlers.speakup.ids import ActionId, FormId, Kind, Status
from handlers.speakup.rules import CASE_VIEW_CHARS, CASE_VIEW_MESSAGES, MAX_CONCERN, MAX_REPLY, MAX_WANTS
from handlers.speakup.store import CaseMessage, ChannelCounts, Concern

COMMAND = "speakup"
DM_RISK = (
    "Off unless you tick it. The message stays in your direct messages with Candor, where anyone "
    "who can read the bot's messages (a workspace export on some plans) can match the code "
    "to your concern. Safer: copy the code from this form when you send it."
)
NO_CASE = "No case matches that code. Check the code (letters A–Z and digits 2–7) and try again."
TOO_MANY_CODES = "Too many codes tried. Please wait an hour and try again."


def _human_day(iso: str | None) -> str:
    return date.fromisoformat(iso).strftime("%d %b %Y") if iso else ""


# --- what the author is told about time and what is kept ----------------------------------------
def delay_text(delay: Delay) -> str:
    low, high = delay
    text = f"Your concern appears in the channel {describe_delay(delay)}, with no name."
    if high <= 0:
        return text + " Its time in the channel is the moment you send it."
    if low == high:
        return text + " Its time in the channel tells roughly when you sent it."
    return text


def kept_text(delay: Delay) -> str:
    not_kept = "who you are, your user ID or name, or the code itself"
    if delay[0] < delay[1]:
        not_kept = "who you are, your user ID or name, when exactly you wrote, or the code itself"
    return (
        "What Candor keeps: your words, the channel, the day it is published (not the time), and a "
        f"fingerprint of a case code that only you receive. What it does not keep: {not_kept}."
    )


def usage(syntax: Syntax, delay: Delay) -> Reply:
    status = syntax.command(COMMAND, "status <code>")
    return ok(
        rich(Strong("Speak up without your name")),
        f"{syntax.command(COMMAND)} opens a form: pick the channel, describe the concern, and optionally "
        "what would help.",
        "When you send it, the form shows your case code once: copy it then. It is the only link "
        "between you and the concern, and Candor cannot recover it. A private message with the code "
        "is optional (the form says what that risks).",
        delay_text(delay),
        kept_text(delay),
        "Managers can reply in the thread, acknowledge, resolve or hide it. Because Candor does not "
        f"know who you are, it cannot message you later: check the case with {status} "
        "(or the button in the private copy, if you asked for one).",
        f"Admins: {syntax.command(COMMAND, 'enable')} or {syntax.command(COMMAND, 'disable')} in a channel "
        f"chooses where concerns may go; {syntax.command(COMMAND, 'stats')} shows counts per channel "
        "(only for groups of at least 5).",
    )


def unknown(syntax: Syntax, verb: str) -> Reply:
    return error(
        f"I don't know {syntax.command(COMMAND, verb)}.",
        f"Type {syntax.command(COMMAND, 'help')} for what I can do.",
    )


def too_long(syntax: Syntax) -> Reply:
    return error(
        f"That is too long for {syntax.command(COMMAND)}. "
        f"Use {syntax.command(COMMAND)} on its own to open the form."
    )


def not_set_up(syntax: Syntax) -> Reply:
    return error(
        "Speak-up is not set up yet: no channel takes concerns. "
        f"Ask a Candor admin to run {syntax.command(COMMAND, 'enable')} "
        "in the channel where concerns should go."
    )


# --- raising a concern --------------------------------------------------------------------------
def new_form(channels: tuple[Choice, ...], delay: Delay) -> Reply:
    return open_form(
        Form(
            callback=FormId.NEW,
            title="Speak up anonymously",
            submit="Send anonymously",
            intro=(Section(rich(kept_text(delay))), Context(rich(delay_text(delay)))),
            fields=(
                Field(
                    "channel", "Where should it go?", "select", choices=channels, initial=channels[0].value
                ),
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


def received(syntax: Syntax, delay: Delay, code: str, copy_by_dm: bool) -> Reply:
    lines: list[str | tuple[Span, ...]] = [
        rich(Strong("Received. Thank you for speaking up.")),
        rich("Your case code: ", Strong(code)),
        rich(
            Strong("Copy it now."),
            " This form shows it only this once and Candor cannot recover it: it is the only link "
            f"between you and your concern. With it, {syntax.command(COMMAND, 'status <code>')} shows "
            "replies and lets you add more.",
        ),
        delay_text(delay),
    ]
    if copy_by_dm:
        lines.append(
            "You asked for a copy in a private message. It should arrive in a moment, "
            "but do not count on it: copy the code above."
        )
    return ok(*lines)


def author_key(code: str, delay: Delay) -> Message:
    """The optional private copy of the case code, sent only when the author ticked the box."""
    return Message(
        (
            Section(rich(Strong("Your concern was received."), " Only you can see this message.")),
            Section(rich("Your case code: ", Strong(code))),
            Context(
                rich(
                    "It is the only link between you and the concern; Candor cannot recover it. "
                    "Delete this message once you have the code somewhere safe. " + delay_text(delay)
                )
            ),
            Actions((Button("View replies / add more", ActionId.VIEW, code, "primary"),)),
        )
    )


# --- in the channel -----------------------------------------------------------------------------
def hidden_text(reason: str) -> str:
    return f"hidden by a moderator: {reason}"


def channel_post(concern: Concern) -> Message:
    blocks: list[Block] = [Section(rich(Strong("📣 A concern was raised anonymously")))]
    if concern.hidden_reason:
        blocks.append(Section(rich(hidden_text(concern.hidden_reason))))
    else:
        blocks.append(Quote(concern.body))
        if concern.wants:
            blocks += [Section(rich(Strong("What would help"))), Quote(concern.wants)]
    blocks.append(
        Context(rich(f"Raised on {_human_day(concern.raised_on)} · case #{concern.id} · {concern.status}"))
    )
    if not concern.hidden_reason and concern.status != Status.RESOLVED:
        value = str(concern.id)
        blocks.append(
            Actions(
                (
                    Button("Reply", ActionId.REPLY, value, "primary"),
                    Button("Acknowledge", ActionId.ACK, value),
                    Button("Mark resolved", ActionId.RESOLVE, value),
                    Button("Hide", ActionId.HIDE, value, "danger"),
                )
            )
        )
    return Message(tuple(blocks))


_DONE_BY = {
    Kind.REPLY: "Reply from ",
    Kind.ACKNOWLEDGED: "✅ Acknowledged by ",
    Kind.RESOLVED: "Resolved by ",
    Kind.HIDDEN: "Hidden by ",
}


def thread_post(kind: Kind, by_user: str, note: str | None) -> Message:
    """What a manager did, in the concern's thread under their name."""
    blocks: list[Block] = [Section(rich(Strong(_DONE_BY[kind]), Mention(by_user)))]
    if note and kind != Kind.HIDDEN:
        blocks.append(Quote(note))
    return Message(tuple(blocks))


def hidden_post(reason: str) -> Message:
    return Message((Section(rich(hidden_text(reason))),))


def author_post(text: str) -> Message:
    return Message((Section(rich(Strong("Author:"))), Quote(text)))


def overdue_post(concern_id: int, what: str) -> Message:
    return Message((Section(rich(Strong("⏰ Overdue: "), f"case #{concern_id} {what}.")),))


# --- the author's view of their case ------------------------------------------------------------
def case_form(concern: Concern, messages: list[CaseMessage], code: str, delay: Delay) -> Reply:
    return open_form(
        Form(
            callback=FormId.CASE,
            title=f"Case #{concern.id}",
            submit="Add follow-up",
            intro=_case_blocks(concern, messages),
            fields=(
                Field(
                    "followup",
                    f"Add more (optional; posted in the thread as Author {describe_delay(delay)})",
                    "multiline",
                    optional=True,
                    max_length=MAX_REPLY,
                ),
            ),
            context=code,
        )
    )


def _case_blocks(concern: Concern, messages: list[CaseMessage]) -> tuple[Block, ...]:
    blocks: list[Block] = [
        Section(rich(Strong(f"Status: {concern.status}"), f" · raised {_human_day(concern.raised_on)}")),
        Quote(concern.body[:CASE_VIEW_CHARS]),
    ]
    if concern.hidden_reason:
        blocks.append(Section(rich(f"Hidden by a moderator: {concern.hidden_reason}")))
    if len(messages) > CASE_VIEW_MESSAGES:
        blocks.append(Context(rich(f"{len(messages) - CASE_VIEW_MESSAGES} earlier messages are not shown.")))
        messages = messages[-CASE_VIEW_MESSAGES:]
    for msg in messages:
        when = _human_day(msg.created_on)
        body = (msg.body or "")[:CASE_VIEW_CHARS]
        if msg.kind == Kind.AUTHOR:
            blocks += [Section(rich(Strong("You"), f" · {when}")), Quote(body)]
        elif msg.kind == Kind.REPLY:
            blocks += [
                Section(rich(Strong("Reply from "), Mention(msg.by_user or ""), f" · {when}")),
                Quote(body),
            ]
        else:
            note = f": {body}" if body else ""
            blocks.append(
                Context(rich(f"{msg.kind.capitalize()} by ", Mention(msg.by_user or ""), f" · {when}{note}"))
            )
    return tuple(blocks)


def follow_up_added(delay: Delay) -> Reply:
    return ok(f"Added. It will appear in the case's thread as Author, {describe_delay(delay)}.")


# --- managers' forms ----------------------------------------------------------------------------
def note_form(
    callback: FormId, title: str, submit: str, label: str, concern_id: int, *, max_length: int
) -> Reply:
    return open_form(
        Form(
            callback=callback,
            title=title,
            submit=submit,
            context=str(concern_id),
            fields=(Field("text", label, "multiline", max_length=max_length),),
        )
    )


def reply_form(concern_id: int) -> Reply:
    return note_form(
        FormId.REPLY,
        "Reply",
        "Post reply",
        "Your reply (posted under your name)",
        concern_id,
        max_length=MAX_REPLY,
    )


def resolve_form(concern_id: int) -> Reply:
    return note_form(
        FormId.RESOLVE,
        "Mark resolved",
        "Resolve",
        "What was done (shown in the thread)",
        concern_id,
        max_length=MAX_REPLY,
    )


def hide_form(concern_id: int) -> Reply:
    return note_form(
        FormId.HIDE,
        "Hide concern",
        "Hide",
        "Why (shown instead of the text)",
        concern_id,
        max_length=MAX_REPLY,
    )


# --- admins -------------------------------------------------------------------------------------
def toggled(syntax: Syntax, enabled: bool) -> Reply:
    if enabled:
        return ok(
            f"This channel now takes anonymous concerns from {syntax.command(COMMAND)}. "
            "Make sure Candor is a member."
        )
    return ok("This channel no longer takes new concerns. Existing cases stay where they are.")


def stats(counts: list[ChannelCounts], enabled: list[str], k: int) -> Reply:
    by_channel = {c.conversation: c for c in counts}
    lines: list[str | tuple[Span, ...]] = [rich(Strong("Speak-up, last 90 days"))]
    for conversation in sorted(set(by_channel) | set(enabled)):
        found = by_channel.get(conversation)
        if found and meets_k(found.total, k):
            lines.append(
                rich(
                    ChannelRef(conversation),
                    f": {found.total} concerns; {found.open} open, {found.acknowledged} acknowledged, "
                    f"{found.resolved} resolved",
                )
            )
        else:
            lines.append(rich(ChannelRef(conversation), f": {withheld(k, 'concerns')}"))
    return ok(*lines)
