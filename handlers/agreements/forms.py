"""The forms of agreements: a new request, a proposed change, a reason to decline, what is
missing, and the review. Each carries what it needs in its context, as JSON."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from bot.messages import Block, Context, Field, Form, Reply, Section, open_form, rich
from handlers.agreements.ids import FormId, Role
from handlers.agreements.posts import questions_for
from handlers.agreements.rules import DEFAULT_DUE_TIME, MAX_AHEAD_DAYS, MAX_TEXT
from handlers.agreements.store import Agreement, Offer
from handlers.agreements.when import iso_day, zone
from handlers.catalog import AgreementWords

MAX_CONTEXT = 500  # what comes back from a form of ours is small; anything longer is not ours


def context(**values: Any) -> str:
    return json.dumps(values, separators=(",", ":"))


def read_context(raw: str) -> dict[str, Any] | None:
    """The form's own context, or None for one that is not a well-formed object of ours."""
    if not raw or len(raw) > MAX_CONTEXT:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def nonce() -> str:
    """Names one opened form: submitting it twice sends one request."""
    return secrets.token_urlsafe(12)


def _due_fields(tz: str, due_at: float | None) -> tuple[Field, ...]:
    local = None if due_at is None else iso_day(due_at, tz)
    at = DEFAULT_DUE_TIME if due_at is None else _hhmm(due_at, tz)
    return (
        Field("due_date", "Due date", "date", initial=local, hint=f"At most {MAX_AHEAD_DAYS} days ahead."),
        Field("due_time", f"Due time ({tz})", "time", initial=at, hint="In your own timezone."),
    )


def _hhmm(instant: float, tz: str) -> str:
    return datetime.fromtimestamp(instant, zone(tz)).strftime("%H:%M")


def new_request(
    words: AgreementWords,
    *,
    tz: str,
    person: str | None,
    what: str | None,
    conversation: str,
    case_id: int | None = None,
) -> Reply:
    intro: list[Block] = [Section(rich(words.request))]
    if case_id is not None:
        intro.append(Context(rich(f"Part of the documented plan of escalation case #{case_id}.")))
    return open_form(
        Form(
            callback=FormId.NEW,
            title="Ask for an agreement",
            submit="Send request",
            fields=(
                Field("person", "Who are you asking?", "user", initial=person),
                Field("what", "What is asked (the outcome)", "multiline", initial=what, max_length=MAX_TEXT),
                Field(
                    "done_means",
                    "Done means…",
                    "multiline",
                    max_length=MAX_TEXT,
                    hint="The standard: how you will both know it is done.",
                ),
                *_due_fields(tz, None),
                Field(
                    "process_goal",
                    "A process goal to go with it",
                    "text",
                    optional=True,
                    max_length=MAX_TEXT,
                    hint='e.g. outcome "feature launched" with process "3 user interviews written up".',
                ),
            ),
            intro=tuple(intro),
            context=context(n=nonce(), tz=tz, case=case_id, **{"in": conversation}),
        )
    )


def propose(a: Agreement, current: Offer | None, *, tz: str, turn: Role | None) -> Reply:
    """A change of date or standard, with a reason; `turn` is whose answer the offer waited for
    (None: the performer starts renegotiating an agreement)."""
    done_means = current.done_means if current else a.done_means
    due_at = current.due_at if current else a.due_at
    return open_form(
        Form(
            callback=FormId.PROPOSE,
            title="Propose a change",
            submit="Send proposal",
            fields=(
                *_due_fields(tz, due_at),
                Field("done_means", "Done means…", "multiline", initial=done_means, max_length=MAX_TEXT),
                Field("reason", "Why the change?", "multiline", max_length=MAX_TEXT),
            ),
            intro=(Section(rich("Change the date, the standard of done, or both, and say why.")),),
            context=context(a=a.id, seq=a.offer_seq, tz=tz, turn=turn.value if turn else None),
        )
    )


def decline(a: Agreement) -> Reply:
    return open_form(
        Form(
            callback=FormId.DECLINE,
            title="Decline",
            submit="Decline",
            fields=(Field("reason", "Why are you declining?", "multiline", max_length=MAX_TEXT),),
            intro=(Section(rich("A reason helps the next request work for both of you.")),),
            context=context(a=a.id, seq=a.offer_seq),
        )
    )


def not_yet(a: Agreement) -> Reply:
    return open_form(
        Form(
            callback=FormId.NOT_YET,
            title="Not yet",
            submit="Send",
            fields=(Field("missing", "What is missing?", "multiline", max_length=MAX_TEXT),),
            intro=(Section(rich("Say what is missing against what done means; you will both review it.")),),
            context=context(a=a.id),
        )
    )


def review(a: Agreement, role: Role, words: AgreementWords) -> Reply:
    return open_form(
        Form(
            callback=FormId.REVIEW,
            title="Better next time",
            submit="Send answers",
            fields=tuple(
                Field(q.id, q.text, "multiline", max_length=MAX_TEXT) for q in questions_for(role, words)
            ),
            intro=(Section(rich(words.review_title)), Context(rich(words.review_intro))),
            context=context(a=a.id, role=role.value),
        )
    )
