"""What coaching notes say. A note's text appears only in answers to its author, or to the person
once it is shared, shown to them alone; messages that stay in someone's DMs (the note was shared,
a check-in is today) carry a button to read it, never its text."""

from __future__ import annotations

from datetime import date

from bot.messages import (
    Actions,
    Block,
    Button,
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
from handlers.agreements.when import shown, shown_day
from handlers.coaching.ids import ActionId, Commands, FormId, Verb
from handlers.coaching.rules import MAX_AHEAD_DAYS, MAX_TEXT
from handlers.coaching.store import Note
from handlers.context import Syntax
from handlers.practice import HelpLine

HELP = (
    HelpLine(
        Commands.COACH,
        "@person",
        "a private coaching note: what you talked about and agreed, the next check-in.",
    ),
)
PRIVATE = (
    "Only you can read this note, and the person if you share it. It is in no report, export, admin "
    "view or escalation record; an escalation case counts only its date."
)


def _coach(syntax: Syntax, args: str = "") -> str:
    return syntax.command(Commands.COACH, args)


def usage(syntax: Syntax) -> Reply:
    return ok(
        rich(Strong("Coaching notes, kept apart from formal records")),
        f"{_coach(syntax, '@person')} writes a private note of a coaching conversation: what you talked "
        "about, what you agreed, and the next check-in, which Candor reminds you of on the day.",
        f"{_coach(syntax, Verb.LIST + ' @person')}: your notes about them and the next check-in dates.",
        f"{_coach(syntax, Verb.SHARED)}: notes others shared with you.",
        PRIVATE,
    )


def too_long(syntax: Syntax) -> Reply:
    return error(
        f"That is too long to read as a command. Use {_coach(syntax, '@person')} and write in the form."
    )


def not_a_person(syntax: Syntax) -> Reply:
    return error(
        "Start with the person you coached, mentioned with @.",
        f"Example: {_coach(syntax, '@alex')}. {_coach(syntax, Verb.HELP)} shows everything else.",
    )


def list_usage(syntax: Syntax) -> Reply:
    return error(f"Say whose notes, with one @mention: {_coach(syntax, Verb.LIST + ' @alex')}.")


def takes_nothing(syntax: Syntax, verb: str) -> Reply:
    return error(f"{_coach(syntax, verb)} takes nothing after it.")


ONE_PERSON = "A coaching note is about one person: write one note each."
NOT_YOURSELF = "A coaching note is about someone you coached; notes to yourself belong elsewhere."
NOT_A_BOT = "Coaching notes are about people, not bots."
NOT_FOUND = "I could not find that person in this workspace."
OUT_OF_DATE = "This form is out of date. Please start again."
CANNOT_SHOW = "I cannot show you that note."


def refused(problem: str) -> Reply:
    return error(problem)


def note_form(person: str, context: str) -> Reply:
    return open_form(
        Form(
            callback=FormId.NOTE,
            title="Coaching note",
            submit="Keep the note",
            fields=(
                Field("talked", "What we talked about", "multiline", max_length=MAX_TEXT),
                Field("agreed", "What we agreed", "multiline", optional=True, max_length=MAX_TEXT),
                Field(
                    "next_checkin",
                    "Next check-in",
                    "date",
                    optional=True,
                    hint=f"Candor reminds you on the day. At most {MAX_AHEAD_DAYS} days ahead.",
                ),
                Field(
                    "share",
                    "Share",
                    "checkboxes",
                    choices=(Choice("yes", "Share this note with them"),),
                    optional=True,
                ),
            ),
            intro=(Section(rich("A note about ", Mention(person), ".")), Context(rich(PRIVATE))),
            context=context,
        )
    )


def saved(person: str, shared: bool, next_checkin: date | None) -> Reply:
    lines: list[str | tuple[Span, ...]] = [
        rich("Kept. ", *(("Shared with ", Mention(person), ".") if shared else ("Only you can read it.",)))
    ]
    if next_checkin is not None:
        lines.append(f"Candor reminds you of the check-in on {shown_day(next_checkin)}.")
    return ok(*lines)


def already_saved() -> Reply:
    return ok("That note is already kept.")


def shared_message(note: Note) -> Message:
    return Message(
        (
            Section(rich("📝 ", Mention(note.author), " shared a coaching note with you.")),
            Actions((Button("Read it", ActionId.READ, str(note.id), "primary"),)),
            Context(rich("Only the two of you can read it. It is not part of any formal record.")),
        )
    )


def _note_blocks(note: Note, tz: str, viewer: str) -> list[Block]:
    """At most four blocks a note, so a list of LIST_LIMIT stays within a message's 50."""
    head: list[str | Span] = [f"#{note.id} · {shown(note.created_at, tz)} · "]
    if viewer == note.author:
        head += ["about ", Mention(note.person), " · ", "shared with them" if note.shared_at else "private"]
    else:
        head += ["from ", Mention(note.author)]
    if note.next_checkin:
        head.append(f" · next check-in {shown_day(date.fromisoformat(note.next_checkin))}")
    blocks: list[Block] = [Section(rich(*head, "\nWhat we talked about:")), Quote(note.talked)]
    if note.agreed:
        blocks += [Section(rich("What we agreed:")), Quote(note.agreed)]
    return blocks


def _share_button(note: Note) -> Button:
    if note.shared_at:
        return Button("Stop sharing", ActionId.UNSHARE, str(note.id))
    return Button("Share with them", ActionId.SHARE, str(note.id))


def note_view(note: Note, tz: str, viewer: str) -> Reply:
    blocks = _note_blocks(note, tz, viewer)
    if viewer == note.author:
        blocks.append(Actions((_share_button(note),)))
    return Reply(Message(tuple(blocks)))


def listing(syntax: Syntax, person: str, notes: list[Note], tz: str, today: str) -> Reply:
    if not notes:
        return ok(
            rich(
                "You have no coaching notes about ",
                Mention(person),
                f" yet. {_coach(syntax, '@person')} writes one.",
            )
        )
    upcoming = sorted(n.next_checkin for n in notes if n.next_checkin and n.next_checkin >= today)
    blocks: list[Block] = [Section(rich(Strong("Your coaching notes about "), Mention(person)))]
    if upcoming:
        blocks.append(Section(rich(f"Next check-in: {shown_day(date.fromisoformat(upcoming[0]))}")))
    for note in notes:
        blocks += _note_blocks(note, tz, note.author)
        blocks.append(Actions((_share_button(note),)))
    blocks.append(Context(rich(PRIVATE)))
    return Reply(Message(tuple(blocks)))


def shared_listing(notes: list[Note], tz: str, viewer: str) -> Reply:
    if not notes:
        return ok("Nobody has shared a coaching note with you.")
    blocks: list[Block] = [Section(rich(Strong("Coaching notes shared with you")))]
    for note in notes:
        blocks += _note_blocks(note, tz, viewer)
    return Reply(Message(tuple(blocks)))


def checkin_message(note: Note) -> Message:
    when = shown_day(date.fromisoformat(note.next_checkin or "1970-01-01"))
    return Message(
        (
            Section(rich("📅 Your next check-in with ", Mention(note.person), f" is today, {when}.")),
            Actions((Button("Read your note", ActionId.READ, str(note.id)),)),
            Context(rich("From your private coaching note; only you get this reminder.")),
        )
    )


def shared_reply(person: str, shared: bool, changed: bool) -> Reply:
    if not changed:
        return ok(rich("Already shared with ", Mention(person), ".") if shared else rich("Already private."))
    if shared:
        return ok(rich("Shared with ", Mention(person), ". They can read it now."))
    return ok(rich("No longer shared. Only you can read it; ", Mention(person), " cannot open it any more."))


def only_author() -> Reply:
    return error("Only the note's author can share it or stop sharing it.")
