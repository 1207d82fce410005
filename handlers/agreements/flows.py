"""/agree: the command, a new request (form and submission), and the views of one's agreements.

What happens to a request after it is sent is in answers.py (accept, propose, decline),
progress.py (done, not yet, the review) and jobs.py (the reminder, a miss).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from bot import outbox
from bot.messages import Button, FormErrors, Reply, privately
from bot.outbox import Person
from bot.store import claim_once
from handlers.agreements import forms, posts, store, views
from handlers.agreements.access import find, parse_ref, words, zone_of
from handlers.agreements.ids import ActionId, Claim, OfferKind, Role, State, Verb
from handlers.agreements.rules import DAY_S, LIST_LIMIT, MAX_AHEAD_DAYS, MAX_TEXT, STATS_DAYS, VERB_CHARS
from handlers.agreements.store import Agreement
from handlers.agreements.when import read_due
from handlers.context import Command, Services, Submission, Syntax
from handlers.people import Who, refusal
from handlers.reporting import ReportScope
from handlers.text import MAX_COMMAND_CHARS, clean_user_text, read_text

_HELP_WORDS = (Verb.HELP, "?", "-h", "--help")


async def handle(cmd: Command, services: Services) -> Reply:
    syntax = services.syntax_for(cmd.platform)
    if len(cmd.text) > MAX_COMMAND_CHARS:
        return views.too_long(syntax)
    words_typed = clean_user_text(cmd.text[:VERB_CHARS]).split()
    verb = words_typed[0].lower() if words_typed else ""
    if verb in _HELP_WORDS:
        return views.usage(syntax)
    if verb in (Verb.LIST, Verb.STATS):
        if len(words_typed) > 1:
            return views.takes_nothing(syntax, verb)
        return await listing(cmd, services) if verb == Verb.LIST else await stats(cmd, services)
    if verb == Verb.SHOW:
        return await show(cmd, services, words_typed[1:])
    return await new_form(cmd, services)


# --- a new request ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Typed:
    person: str | None
    what: str | None  # what followed the person: the form starts with it


def read_command(cmd: Command, syntax: Syntax) -> Typed | Reply:
    """'@person [what is asked]', or nothing. The person is a mention the adapter marked, first."""
    text = cmd.text
    start = len(text) - len(text.lstrip())
    if start == len(text):
        return Typed(None, None)
    marked = {m.at: m for m in cmd.mentions if text.startswith(m.text, m.at)}
    first = marked.get(start)
    end = start + len(first.text) if first else start
    if first is None or (end < len(text) and not text[end].isspace()):
        return views.not_a_person(syntax)
    rest = text[end:]
    following = end + len(rest) - len(rest.lstrip())
    if following in marked:
        return views.one_person()
    what, problem = read_text(rest, label="What is asked", limit=MAX_TEXT, required=False)
    return Typed(first.user, None if problem else what or None)


async def person_problem(services: Services, platform: str, requester: str, person: str) -> str | None:
    """Why this person cannot be asked, or None."""
    return await refusal(services, platform, requester, person, _WHO)


_WHO = {
    Who.NOBODY: views.NO_PERSON,
    Who.YOURSELF: views.NOT_YOURSELF,
    Who.UNKNOWN: views.NOT_FOUND,
    Who.BOT: views.NOT_A_BOT,
}


async def new_form(cmd: Command, services: Services) -> Reply:
    typed = read_command(cmd, services.syntax_for(cmd.platform))
    if isinstance(typed, Reply):
        return typed
    if typed.person is not None:
        problem = await person_problem(services, cmd.platform, cmd.user, typed.person)
        if problem:
            return views.person_problem(problem)
    tz = await zone_of(services, cmd.platform, cmd.user)
    return forms.new_request(
        words(services), tz=tz, person=typed.person, what=typed.what, conversation=cmd.conversation
    )


async def submit_new(sub: Submission, services: Services) -> Reply | FormErrors:
    ctx = forms.read_context(sub.context)
    tz = ctx.get("tz") if ctx else None
    form_key = ctx.get("n") if ctx else None
    case = ctx.get("case") if ctx else None
    if (
        ctx is None
        or not isinstance(tz, str)
        or not isinstance(form_key, str)
        or not (case is None or (isinstance(case, int) and not isinstance(case, bool)))
    ):
        return FormErrors({"what": views.OUT_OF_DATE})
    values = sub.values
    errors: dict[str, str] = {}
    performer = str(values.get("person") or "").strip()
    problem = await person_problem(services, sub.platform, sub.user, performer)
    if problem:
        errors["person"] = problem
    what, problem = read_text(values.get("what"), label="What is asked", limit=MAX_TEXT, required=True)
    if problem:
        errors["what"] = problem
    done_means, problem = read_text(
        values.get("done_means"), label="Done means", limit=MAX_TEXT, required=True
    )
    if problem:
        errors["done_means"] = problem
    goal, problem = read_text(
        values.get("process_goal"), label="The process goal", limit=MAX_TEXT, required=False
    )
    if problem:
        errors["process_goal"] = problem
    now = services.clock.now()
    due_at, date_problem, time_problem = read_due(
        values.get("due_date"), values.get("due_time"), tz, now, MAX_AHEAD_DAYS
    )
    if date_problem:
        errors["due_date"] = date_problem
    if time_problem:
        errors["due_time"] = time_problem
    if case is not None and "person" not in errors:
        person = await services.store.read(
            lambda db: store.open_plan_case(
                db, case_id=case, platform=sub.platform, workspace=sub.workspace, manager=sub.user
            )
        )
        if person is None:
            errors["person"] = (
                f"Escalation case #{case} is not at its documented plan stage with you as its manager."
            )
        elif person != performer:
            errors["person"] = f"A plan agreement of case #{case} is with the person the case is about."
    if errors:
        return FormErrors(errors)

    performer_tz = await zone_of(services, sub.platform, performer)
    word_list = words(services)

    def record(tx: Database) -> bool:
        if not claim_once(tx, f"{Claim.FORM}{form_key}", now):
            return False
        agreement_id = store.insert_agreement(
            tx,
            platform=sub.platform,
            workspace=sub.workspace,
            conversation=_conversation(ctx),
            requester=sub.user,
            performer=performer,
            what=what,
            done_means=done_means,
            process_goal=goal or None,
            due_at=due_at,
            due_tz=tz,
            case_id=case,
            now=now,
        )
        store.insert_offer(
            tx,
            agreement_id=agreement_id,
            seq=1,
            by_user=sub.user,
            kind=OfferKind.REQUEST,
            due_at=due_at,
            due_tz=tz,
            done_means=done_means,
            reason=None,
            now=now,
        )
        a = store.agreement(tx, agreement_id=agreement_id, platform=sub.platform, workspace=sub.workspace)
        offer = store.offer(tx, agreement_id=agreement_id, seq=1)
        assert a is not None and offer is not None
        dm = outbox.enqueue(
            tx,
            platform=sub.platform,
            to=Person(performer),
            message=posts.offer_message(a, offer, to=Role.PERFORMER, tz=performer_tz, words=word_list),
            now=now,
        )
        store.set_offer_dm(tx, agreement_id=agreement_id, seq=1, dm_outbox=dm)
        return True

    if not await services.store.run(record):
        return views.already_sent()
    return views.sent(performer)


def _conversation(ctx: dict[str, Any]) -> str:
    """Where /agree was typed: the team its figures count for."""
    where = ctx.get("in")
    return where if isinstance(where, str) and where else "direct"


# --- the views of one's agreements ---------------------------------------------------------------
async def listing(cmd: Command, services: Services) -> Reply:
    since = services.clock.now() - STATS_DAYS * DAY_S

    def side(db: Database, role: Role) -> list[Agreement]:
        return store.listing(
            db,
            platform=cmd.platform,
            workspace=cmd.workspace,
            user=cmd.user,
            role=role,
            since=since,
            limit=LIST_LIMIT,
        )

    tz = await zone_of(services, cmd.platform, cmd.user)
    performing, requested = await services.store.read(
        lambda db: (side(db, Role.PERFORMER), side(db, Role.REQUESTER))
    )
    return privately(views.listing(services.syntax_for(cmd.platform), cmd.user, tz, performing, requested))


async def show(cmd: Command, services: Services, args: list[str]) -> Reply:
    syntax = services.syntax_for(cmd.platform)
    if len(args) != 1:
        return views.show_usage(syntax)
    ref = parse_ref(args[0].lstrip("#"))
    if ref is None or ref[1] is not None:
        return views.show_usage(syntax)
    a = await find(services, cmd, ref[0])
    if a is None:
        return views.not_found(ref[0])
    tz = await zone_of(services, cmd.platform, cmd.user)
    offers, reviews = await services.store.read(
        lambda db: (store.offers(db, agreement_id=a.id), store.reviews(db, agreement_id=a.id))
    )
    return privately(
        views.show(a, cmd.user, tz, offers, reviews, words(services), buttons_for(a, cmd.user, set(reviews)))
    )


def buttons_for(a: Agreement, viewer: str, answered: set[Role]) -> tuple[Button, ...]:
    """What the viewer can press on this agreement now."""
    role = a.role_of(viewer)
    value = posts.ref(a, a.offer_seq)
    if a.turn is not None and a.turn == role and a.state in (State.OFFERED, State.ACCEPTED):
        buttons = [
            Button("Accept", ActionId.ACCEPT, value, "primary"),
            Button("Propose a change", ActionId.PROPOSE, value),
        ]
        if a.state == State.OFFERED and role == Role.PERFORMER:
            buttons.append(Button("Decline", ActionId.DECLINE, value, "danger"))
        if a.state == State.ACCEPTED and role == Role.PERFORMER:
            buttons.append(Button("Done", ActionId.DONE, posts.ref(a)))
        return tuple(buttons)
    if a.state == State.ACCEPTED and role == Role.PERFORMER:
        return (
            Button("Done", ActionId.DONE, posts.ref(a), "primary"),
            Button("Need to renegotiate", ActionId.RENEGOTIATE, posts.ref(a)),
        )
    if a.state == State.DONE and role == Role.REQUESTER:
        return (
            Button("Accept as done", ActionId.ACCEPT_DONE, posts.ref(a), "primary"),
            Button("Not yet", ActionId.NOT_YET, posts.ref(a)),
        )
    if a.state == State.REVIEWING and role is not None and role not in answered:
        return (Button("Answer the review", ActionId.REVIEW, posts.ref(a), "primary"),)
    return ()


async def stats(cmd: Command, services: Services) -> Reply:
    now = services.clock.now()
    k = services.settings.anonymity_k
    scope = ReportScope(cmd.platform, cmd.workspace, cmd.conversation, now - STATS_DAYS * DAY_S, now + 1, k)
    tally = await services.store.read(lambda db: store.tally(db, scope=scope))
    return views.stats(services.syntax_for(cmd.platform), tally, k)
