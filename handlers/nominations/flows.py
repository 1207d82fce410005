"""Nominations' rules: who may open, nominate, vote and close, and what each changes.

The SQL is in store.py, the texts in views.py, the close in closing.py, a person's own evidence in
evidence.py; this module decides.
"""

from __future__ import annotations

from sqlite_utils import Database

from bot import outbox
from bot.messages import FormErrors, Reply, Values, open_form
from bot.outbox import Channel
from handlers.context import Action, Command, Services, Submission, is_admin, timezone_of
from handlers.nominations import closing, cycles, evidence, nominating, posts, store, views
from handlers.nominations.closing import Moved
from handlers.nominations.content import content_of
from handlers.nominations.ids import (
    NO_VOTE,
    SHOW_NOMINATORS,
    FieldId,
    Phase,
    Verb,
)
from handlers.nominations.parse import split
from handlers.nominations.rules import (
    DEFAULT_OPEN_DAYS,
    DEFAULT_TOP_N,
    HISTORY_PER_AWARD,
    MAX_OPEN_DAYS,
    MAX_TOP_N,
    MIN_OPEN_S,
    MIN_TOP_N,
    VOTING_DAYS,
)
from handlers.nominations.store import Cycle
from handlers.nominations.when import closing_instant, default_close_day, read_day
from handlers.text import MAX_COMMAND_CHARS
from handlers.timing import InputError, parse_tz

DAY_S = 24 * 3600
_HELP_WORDS = ("", Verb.HELP, "?", "-h", "--help")


# --- the command --------------------------------------------------------------------------------
async def handle(cmd: Command, services: Services) -> Reply:
    """/nominate @person, or a verb: open, close, status, history, mine, help."""
    syntax = services.syntax_for(cmd.platform)
    if len(cmd.text) > MAX_COMMAND_CHARS:
        return views.too_long(syntax)
    parsed = split(cmd)
    if parsed.people:
        if len(parsed.people) > 1 or parsed.words:
            return views.one_person(syntax)
        return await nominating.nominate_command(cmd, services, parsed.people[0])
    verb = parsed.words[0].lower() if parsed.words else ""
    if verb in _HELP_WORDS:
        return views.usage(syntax)
    try:
        known = Verb(verb)
    except ValueError:
        return views.unknown(syntax, parsed.words[0])
    if len(parsed.words) > 1:
        return views.takes_nothing(syntax, known)
    if known == Verb.OPEN:
        return await open_command(cmd, services)
    if known == Verb.CLOSE:
        return await close_command(cmd, services)
    if known == Verb.STATUS:
        return await status(cmd, services)
    if known == Verb.HISTORY:
        return await history(cmd, services)
    return await evidence.show_mine(cmd, services)


# --- opening a cycle (admins) -------------------------------------------------------------------
async def open_command(cmd: Command, services: Services) -> Reply:
    if not await is_admin(services, cmd.platform, cmd.user):
        return views.admins_only(Verb.OPEN)
    tz = await timezone_of(services, cmd.platform, cmd.user)
    day = default_close_day(services.clock.now(), tz, DEFAULT_OPEN_DAYS)
    return open_form(views.open_form(content_of(services), cmd.conversation, tz, day))


def _read_closing(values: Values, tz: str, now: float, errors: dict[str, str]) -> float:
    try:
        day = read_day(values.get(FieldId.CLOSES_ON))
    except InputError as exc:
        errors[FieldId.CLOSES_ON] = str(exc)
        return 0.0
    try:
        closes_at = closing_instant(day, values.get(FieldId.CLOSES_AT), tz)
    except InputError as exc:
        errors[FieldId.CLOSES_AT] = str(exc)
        return 0.0
    if closes_at < now + MIN_OPEN_S:
        errors[FieldId.CLOSES_ON] = views.too_soon()
    elif closes_at > now + MAX_OPEN_DAYS * DAY_S:
        errors[FieldId.CLOSES_ON] = views.too_far()
    return closes_at


def _read_voting(values: Values, errors: dict[str, str]) -> tuple[float, int]:
    """(how long the vote runs, 0 for none; how many finalists)."""
    choice = str(values.get(FieldId.VOTING) or NO_VOTE)
    if choice == NO_VOTE:
        return 0.0, DEFAULT_TOP_N
    if choice not in {str(d) for d in VOTING_DAYS}:
        errors[FieldId.VOTING] = views.bad_voting()
        return 0.0, DEFAULT_TOP_N
    raw = str(values.get(FieldId.TOP_N) or "").strip()
    if not raw:
        return int(choice) * DAY_S, DEFAULT_TOP_N
    if not raw.isdigit() or not MIN_TOP_N <= int(raw) <= MAX_TOP_N:
        errors[FieldId.TOP_N] = views.bad_top_n()
        return 0.0, DEFAULT_TOP_N
    return int(choice) * DAY_S, int(raw)


async def submit_open(sub: Submission, services: Services) -> Reply | FormErrors:
    if not await is_admin(services, sub.platform, sub.user):
        return FormErrors({FieldId.AWARD: "Only Candor admins can open a nomination cycle."})
    content = content_of(services)
    errors: dict[str, str] = {}
    award = content.award(str(sub.values.get(FieldId.AWARD) or ""))
    if award is None:
        errors[FieldId.AWARD] = views.unknown_award()
    conversation = str(sub.values.get(FieldId.CHANNEL) or "").strip()
    if not conversation:
        errors[FieldId.CHANNEL] = views.no_channel()
    try:
        tz = parse_tz(sub.context)
    except InputError:
        tz = "UTC"
    now = services.clock.now()
    closes_at = _read_closing(sub.values, tz, now, errors)
    voting_s, top_n = _read_voting(sub.values, errors)
    nominators = sub.values.get(FieldId.NOMINATORS) or []
    show = SHOW_NOMINATORS in (nominators if isinstance(nominators, list) else [nominators])
    if not errors and not await services.people_for(sub.platform).bot_is_member(conversation):
        errors[FieldId.CHANNEL] = views.bot_not_in_channel(services.syntax_for(sub.platform))
    if errors or award is None:
        return FormErrors(errors)
    chosen = award

    def record(tx: Database) -> Cycle | FormErrors:
        here = store.running(tx, platform=sub.platform, workspace=sub.workspace, conversation=conversation)
        if any(c.award == chosen.slug for c in here):
            return FormErrors({FieldId.AWARD: views.already_running(chosen)})
        cycle_id = store.open_cycle(
            tx,
            platform=sub.platform,
            workspace=sub.workspace,
            conversation=conversation,
            award=chosen.slug,
            opened_by=sub.user,
            tz=tz,
            opened_at=now,
            closes_at=closes_at,
            show_nominators=show,
            voting_s=voting_s,
            top_n=top_n,
        )
        cycle = store.cycle(tx, cycle_id=cycle_id, platform=sub.platform, workspace=sub.workspace)
        assert cycle is not None
        post = outbox.enqueue(
            tx,
            platform=sub.platform,
            to=Channel(conversation),
            message=posts.announcement(cycle, chosen),
            now=now,
        )
        store.set_posts(tx, cycle_id=cycle_id, announce=post)
        return cycle

    opened = await services.store.run(record)
    return opened if isinstance(opened, FormErrors) else views.opened(opened, award)


# --- closing (admins) ---------------------------------------------------------------------------
async def _close(services: Services, cycle: Cycle) -> Reply:
    label = content_of(services).award_label(cycle.award)
    moved = await closing.advance(services, cycle)
    if moved == Moved.VOTE_STARTED:
        return views.vote_started(label)
    if moved == Moved.CLOSED:
        return views.closed_now(label)
    return views.already_moved()


async def close_command(cmd: Command, services: Services) -> Reply:
    if not await is_admin(services, cmd.platform, cmd.user):
        return views.admins_only(Verb.CLOSE)
    here = await cycles.running_here(services, cmd)
    if not here:
        return views.nothing_to_close(services.syntax_for(cmd.platform))
    if len(here) > 1:
        return views.which_to_close(here, content_of(services))
    return await _close(services, here[0])


async def close_button(action: Action, services: Services) -> Reply:
    if not await is_admin(services, action.platform, action.user):
        return views.admins_only(Verb.CLOSE)
    cycle = await cycles.named(services, action, action.value)
    if cycle is None or cycle.phase == Phase.CLOSED:
        return views.already_moved()
    return await _close(services, cycle)


# --- status and history -------------------------------------------------------------------------
async def status(cmd: Command, services: Services) -> Reply:
    """Running cycles, the time left and what the asker gave; the running tally only for admins."""
    admin = await is_admin(services, cmd.platform, cmd.user)
    tz = await timezone_of(services, cmd.platform, cmd.user)

    def read(db: Database) -> list[views.StatusLine]:
        lines = []
        for cycle in store.running(db, platform=cmd.platform, workspace=cmd.workspace):
            voting = cycle.phase == Phase.VOTING
            lines.append(
                views.StatusLine(
                    cycle,
                    given=store.nominees_of(db, cycle_id=cycle.id, nominator=cmd.user),
                    my_vote=store.vote_of(db, cycle_id=cycle.id, voter=cmd.user) if voting else None,
                    tally=store.nominators_per_nominee(db, cycle_id=cycle.id) if admin else None,
                    votes=store.votes_per_nominee(db, cycle_id=cycle.id) if admin and voting else None,
                )
            )
        return lines

    lines = await services.store.read(read)
    now = services.clock.now()
    return views.status(now, tz, content_of(services), lines, services.syntax_for(cmd.platform))


async def history(cmd: Command, services: Services) -> Reply:
    content = content_of(services)
    past = await services.store.read(
        lambda db: store.history(
            db, platform=cmd.platform, workspace=cmd.workspace, per_award=HISTORY_PER_AWARD
        )
    )
    order = {a.slug: i for i, a in enumerate(content.awards)}
    past.sort(key=lambda p: (order.get(p.award, len(order)), p.award, -p.closed_at))
    tz = await timezone_of(services, cmd.platform, cmd.user)
    return views.history(past, content, tz, services.syntax_for(cmd.platform))
