"""/coach: write a private note, list one's notes about a person, read notes shared with you.

A note is read by its author, and by the person it is about once shared; everyone else (an admin,
the person before it is shared, another manager) gets the same answer as for a note that does not
exist.
"""

from __future__ import annotations

from sqlite_utils import Database

from bot import outbox
from bot.messages import FormErrors, Reply, privately
from bot.outbox import Person
from bot.store import claim_once
from handlers.agreements.forms import context, nonce, read_context
from handlers.agreements.when import first_working_hour, iso_day, read_date, today
from handlers.coaching import store, views
from handlers.coaching.ids import Claim, Verb
from handlers.coaching.rules import LIST_LIMIT, MAX_AHEAD_DAYS, MAX_TEXT, VERB_CHARS
from handlers.context import Action, Command, Services, Submission, timezone_of
from handlers.people import Who, refusal
from handlers.text import MAX_COMMAND_CHARS, clean_user_text, read_text
from handlers.timing import InputError

_HELP_WORDS = ("", Verb.HELP, "?", "-h", "--help")
MAX_ID_DIGITS = 12


async def handle(cmd: Command, services: Services) -> Reply:
    syntax = services.syntax_for(cmd.platform)
    if len(cmd.text) > MAX_COMMAND_CHARS:
        return views.too_long(syntax)
    words = clean_user_text(cmd.text[:VERB_CHARS]).split()
    verb = words[0].lower() if words else ""
    if verb in _HELP_WORDS:
        return views.usage(syntax)
    # Notes are read by their author, and by their person while shared: nobody else.
    if verb == Verb.SHARED:
        if len(words) > 1:
            return views.takes_nothing(syntax, Verb.SHARED)
        return privately(await shared(cmd, services))
    if verb == Verb.LIST:
        return privately(await listing(cmd, services))
    return await note_form(cmd, services)


def _people(cmd: Command, start: int) -> list[str] | None:
    """The people marked from `start` on, if the rest of the text is nothing but them."""
    text = cmd.text
    marked = sorted(
        (m for m in cmd.mentions if m.at >= start and text.startswith(m.text, m.at)), key=lambda m: m.at
    )
    people, pos = [], start
    for m in marked:
        if text[pos : m.at].strip():
            return None
        end = m.at + len(m.text)
        if end < len(text) and not text[end].isspace():
            return None
        people.append(m.user)
        pos = end
    return people if not text[pos:].strip() else None


def _after_first_word(text: str) -> int:
    start = len(text) - len(text.lstrip())
    end = start
    while end < len(text) and not text[end].isspace():
        end += 1
    return end


async def person_problem(services: Services, platform: str, asker: str, person: str) -> str | None:
    return await refusal(services, platform, asker, person, _WHO)


_WHO = {
    Who.NOBODY: views.NOT_FOUND,
    Who.YOURSELF: views.NOT_YOURSELF,
    Who.UNKNOWN: views.NOT_FOUND,
    Who.BOT: views.NOT_A_BOT,
}


async def note_form(cmd: Command, services: Services) -> Reply:
    syntax = services.syntax_for(cmd.platform)
    people = _people(cmd, 0)
    if not people:
        return views.not_a_person(syntax)
    if len(set(people)) > 1:
        return views.refused(views.ONE_PERSON)
    person = people[0]
    problem = await person_problem(services, cmd.platform, cmd.user, person)
    if problem:
        return views.refused(problem)
    tz = await timezone_of(services, cmd.platform, cmd.user)
    return views.note_form(person, context(n=nonce(), to=person, tz=tz))


async def submit_note(sub: Submission, services: Services) -> Reply | FormErrors:
    ctx = read_context(sub.context) or {}
    form_key, person, tz = ctx.get("n"), ctx.get("to"), ctx.get("tz")
    if not isinstance(form_key, str) or not isinstance(person, str) or not isinstance(tz, str):
        return FormErrors({"talked": views.OUT_OF_DATE})
    problem = await person_problem(services, sub.platform, sub.user, person)
    if problem:
        return FormErrors({"talked": problem})
    errors: dict[str, str] = {}
    talked, problem = read_text(
        sub.values.get("talked"), label="What we talked about", limit=MAX_TEXT, required=True
    )
    if problem:
        errors["talked"] = problem
    agreed, problem = read_text(
        sub.values.get("agreed"), label="What we agreed", limit=MAX_TEXT, required=False
    )
    if problem:
        errors["agreed"] = problem
    now = services.clock.now()
    raw_day = sub.values.get("next_checkin")
    day = None
    if raw_day not in (None, ""):
        try:
            day = read_date(raw_day)
        except InputError as exc:
            errors["next_checkin"] = str(exc)
        else:
            first = today(now, tz)
            if day < first:
                errors["next_checkin"] = "The next check-in is a date from today on."
            elif (day - first).days > MAX_AHEAD_DAYS:
                errors["next_checkin"] = f"Choose a date at most {MAX_AHEAD_DAYS} days ahead."
    if errors:
        return FormErrors(errors)
    share = "yes" in (sub.values.get("share") or [])
    remind_at = None if day is None else max(now, first_working_hour(day, tz, services.settings.quiet_hours))

    def record(tx: Database) -> bool:
        if not claim_once(tx, f"{Claim.FORM}{form_key}", now):
            return False
        note_id = store.add_note(
            tx,
            platform=sub.platform,
            workspace=sub.workspace,
            author=sub.user,
            person=person,
            talked=talked,
            agreed=agreed or None,
            next_checkin=day.isoformat() if day else None,
            remind_at=remind_at,
            shared=share,
            now=now,
        )
        if share:
            note = store.note(tx, note_id=note_id, platform=sub.platform, workspace=sub.workspace)
            assert note is not None
            outbox.enqueue(
                tx, platform=sub.platform, to=Person(person), message=views.shared_message(note), now=now
            )
        return True

    if not await services.store.run(record):
        return views.already_saved()
    return views.saved(person, share, day)


async def listing(cmd: Command, services: Services) -> Reply:
    syntax = services.syntax_for(cmd.platform)
    people = _people(cmd, _after_first_word(cmd.text))
    if not people or len(set(people)) > 1:
        return views.list_usage(syntax)
    notes = await services.store.read(
        lambda db: store.by_author(
            db,
            platform=cmd.platform,
            workspace=cmd.workspace,
            author=cmd.user,
            person=people[0],
            limit=LIST_LIMIT,
        )
    )
    tz = await timezone_of(services, cmd.platform, cmd.user)
    return views.listing(syntax, people[0], notes, tz, iso_day(services.clock.now(), tz))


async def shared(cmd: Command, services: Services) -> Reply:
    notes = await services.store.read(
        lambda db: store.shared_with(
            db, platform=cmd.platform, workspace=cmd.workspace, person=cmd.user, limit=LIST_LIMIT
        )
    )
    tz = await timezone_of(services, cmd.platform, cmd.user)
    return views.shared_listing(notes, tz, cmd.user)


# --- buttons --------------------------------------------------------------------------------------
async def _note(services: Services, action: Action) -> store.Note | None:
    raw = action.value.strip()
    if not raw.isdigit() or len(raw) > MAX_ID_DIGITS:
        return None
    return await services.store.read(
        lambda db: store.note(db, note_id=int(raw), platform=action.platform, workspace=action.workspace)
    )


async def read(action: Action, services: Services) -> Reply:
    note = await _note(services, action)
    if note is None or not note.readable_by(action.user):
        return views.refused(views.CANNOT_SHOW)
    tz = await timezone_of(services, action.platform, action.user)
    return views.note_view(note, tz, action.user)


async def _set_shared(action: Action, services: Services, shared: bool) -> Reply:
    note = await _note(services, action)
    if note is None or not note.readable_by(action.user):
        return views.refused(views.CANNOT_SHOW)
    if action.user != note.author:
        return views.only_author()
    now = services.clock.now()

    def record(tx: Database) -> bool:
        if not store.set_shared(tx, note_id=note.id, shared=shared, now=now):
            return False
        if shared:
            outbox.enqueue(
                tx,
                platform=note.platform,
                to=Person(note.person),
                message=views.shared_message(note),
                now=now,
            )
        return True

    changed = await services.store.run(record)
    return views.shared_reply(note.person, shared, changed)


async def share(action: Action, services: Services) -> Reply:
    return await _set_shared(action, services, True)


async def unshare(action: Action, services: Services) -> Reply:
    return await _set_shared(action, services, False)
