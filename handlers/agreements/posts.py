"""What each side of an agreement receives: the offers, the yes, done, the reminder, the review.

People read due times in their own zone. Every text a person wrote travels as `Quote` or `Strong`,
which each renderer escapes. The words for a miss, a "not yet" and the review come from
data/agreements.yml (`AgreementWords`): they hold the process accountable, never the person.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.messages import (
    Actions,
    Block,
    Button,
    Context,
    Mention,
    Message,
    Quote,
    Section,
    Strong,
    rich,
)
from handlers.agreements.ids import ActionId, Miss, Outcome, Role, State
from handlers.agreements.store import Agreement, Offer, Review
from handlers.agreements.when import shown
from handlers.catalog import AgreementWords, Question


def ref(a: Agreement, seq: int | None = None) -> str:
    """A button's value: the agreement, and the offer it answers."""
    return f"{a.id}:{seq}" if seq is not None else str(a.id)


def due_line(due_at: float, tz: str, prefix: str = "Due") -> str:
    return f"{prefix} {shown(due_at, tz)} ({tz})"


def terms(
    what: str, done_means: str, goal: str | None, due_at: float, tz: str, previous: tuple[float, str] | None
) -> list[Block]:
    blocks: list[Block] = [Quote(what), Section(rich(Strong("Done means")))]
    blocks.append(Quote(done_means))
    if previous is not None and previous[1] != done_means:
        blocks.append(Context(rich("Was: " + short(previous[1]))))
    if goal:
        blocks += [Section(rich(Strong("Process goal"))), Quote(goal)]
    due = due_line(due_at, tz)
    if previous is not None and previous[0] != due_at:
        due += f" (was {shown(previous[0], tz)})"
    blocks.append(Section(rich(due)))
    return blocks


def short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_ANSWERED = {
    Outcome.ACCEPTED: "✅ Accepted.",
    Outcome.COUNTERED: "↪️ Answered with another proposal.",
    Outcome.DECLINED: "✖️ Declined.",
    Outcome.SUPERSEDED: "This offer is no longer open.",
}


def offer_message(
    a: Agreement,
    offer: Offer,
    *,
    to: Role,
    tz: str,
    words: AgreementWords,
    previous: tuple[float, str] | None = None,
    answered: Outcome | None = None,
) -> Message:
    """An offer as the side who must answer it reads it: the first request, or a proposed change."""
    agreed = a.state != State.OFFERED
    if offer.seq == 1:
        head = rich("📝 ", Mention(offer.by_user), " asks you to agree to this:")
    elif agreed:
        head = rich("↪️ ", Mention(offer.by_user), " proposes a change to your agreement:")
    else:
        head = rich("↪️ ", Mention(offer.by_user), " proposes this instead:")
    blocks: list[Block] = [Section(head)]
    blocks += terms(a.what, offer.done_means, a.process_goal, offer.due_at, tz, previous)
    if offer.reason:
        blocks += [Section(rich(Strong("Why"))), Quote(offer.reason)]
    if answered is not None:
        blocks.append(Context(rich(_ANSWERED[answered])))
        return Message(tuple(blocks))
    value = ref(a, offer.seq)
    buttons: tuple[Button, ...]
    if to == Role.PERFORMER and not agreed:
        buttons = (
            Button("Accept", ActionId.ACCEPT, value, "primary"),
            Button("Propose a change", ActionId.PROPOSE, value),
            Button("Decline", ActionId.DECLINE, value, "danger"),
        )
        note = (
            words.request
            if offer.seq == 1
            else "Nothing is agreed until one of you accepts the other's offer."
        )
    else:
        accept = "Accept the change" if agreed else "Accept"
        buttons = (
            Button(accept, ActionId.ACCEPT, value, "primary"),
            Button("Propose another", ActionId.PROPOSE, value),
        )
        note = (
            "Until you accept a change, the agreement stands as it was."
            if agreed
            else "Nothing is agreed until one of you accepts the other's offer."
        )
    blocks += [Actions(buttons), Context(rich(note))]
    return Message(tuple(blocks))


# --- answers --------------------------------------------------------------------------------------
def accepted_message(
    a: Agreement, *, to: Role, tz: str, words: AgreementWords, renegotiated: bool
) -> Message:
    other = a.party(a.other(to))
    head = "🤝 Agreed, with the change: " if renegotiated else "🤝 Agreed with "
    blocks: list[Block] = [Section(rich(head, Mention(other)))]
    blocks += terms(a.what, a.done_means, a.process_goal, a.due_at, tz, None)
    if to == Role.PERFORMER:
        if a.remind_at is not None:
            blocks.append(Context(rich(f"Candor reminds you once, on {shown(a.remind_at, tz)} ({tz}).")))
        blocks.append(
            Actions(
                (
                    Button("Done", ActionId.DONE, ref(a), "primary"),
                    Button("Need to renegotiate", ActionId.RENEGOTIATE, ref(a)),
                )
            )
        )
    blocks.append(Context(rich(words.renegotiated if renegotiated else words.accepted)))
    return Message(tuple(blocks))


def declined_message(a: Agreement, reason: str) -> Message:
    return Message(
        (
            Section(rich("✖️ ", Mention(a.performer), " declined your request:")),
            Quote(a.what),
            Section(rich(Strong("Why"))),
            Quote(reason),
            Context(
                rich("Nothing was agreed. Talking it through may lead to a request that works for both.")
            ),
        )
    )


# --- done, kept, not yet ------------------------------------------------------------------------
def done_message(a: Agreement, tz: str) -> Message:
    blocks: list[Block] = [Section(rich("✅ ", Mention(a.performer), " says this is done:"))]
    blocks += terms(a.what, a.done_means, a.process_goal, a.due_at, tz, None)
    blocks += [
        Section(rich("Does it meet what done means?")),
        Actions(
            (
                Button("Accept as done", ActionId.ACCEPT_DONE, ref(a), "primary"),
                Button("Not yet", ActionId.NOT_YET, ref(a)),
            )
        ),
    ]
    return Message(tuple(blocks))


def kept_message(a: Agreement, words: AgreementWords) -> Message:
    return Message(
        (
            Section(rich("🎉 ", Mention(a.requester), " accepted this as done:")),
            Quote(a.what),
            Context(rich(words.kept)),
        )
    )


# --- the review --------------------------------------------------------------------------------------
def questions_for(role: Role, words: AgreementWords) -> tuple[Question, ...]:
    own = words.requester_questions if role == Role.REQUESTER else words.performer_questions
    return own + words.both_questions


def review_card(a: Agreement, *, tz: str, words: AgreementWords) -> Message:
    """The same card for both sides: what happened, every side's questions, one button."""
    blocks: list[Block] = [Section(rich("🔁 ", Strong(words.review_title)))]
    blocks.append(Quote(a.what))
    blocks.append(Section(rich(due_line(a.due_at, tz, "It was due"))))
    if a.miss == Miss.NOT_YET:
        blocks.append(Section(rich(words.not_yet)))
        if a.missing:
            blocks += [Section(rich(Mention(a.requester), " says what is missing:")), Quote(a.missing)]
    else:
        blocks.append(Section(rich(words.missed)))
    blocks.append(Context(rich(words.review_intro)))
    blocks.append(
        Section(rich("For ", Mention(a.requester), ", who asked: ", _asked(words.requester_questions)))
    )
    blocks.append(
        Section(rich("For ", Mention(a.performer), ", who agreed: ", _asked(words.performer_questions)))
    )
    blocks.append(Section(rich("For both of you: ", _asked(words.both_questions))))
    blocks.append(Actions((Button("Answer", ActionId.REVIEW, ref(a), "primary"),)))
    return Message(tuple(blocks))


def _asked(questions: Sequence[Question]) -> str:
    return " ".join(q.text for q in questions)


def review_answers(a: Agreement, reviews: dict[Role, Review], words: AgreementWords) -> list[Block]:
    blocks: list[Block] = []
    for role in (Role.REQUESTER, Role.PERFORMER):
        review = reviews.get(role)
        if review is None:
            continue
        blocks.append(Section(rich(Mention(review.by_user), " answered:")))
        for question in questions_for(role, words):
            answer = review.answers.get(question.id)
            if answer:
                blocks += [Context(rich(question.text)), Quote(answer)]
    return blocks


def reviewed_message(a: Agreement, reviews: dict[Role, Review], words: AgreementWords) -> Message:
    blocks: list[Block] = [Section(rich("🔁 ", Strong(words.review_title), " — both answers")), Quote(a.what)]
    blocks += review_answers(a, reviews, words)
    blocks.append(Context(rich(words.reviewed)))
    return Message(tuple(blocks))


# --- the reminder ---------------------------------------------------------------------------------
def reminder_message(a: Agreement, tz: str) -> Message:
    blocks: list[Block] = [Section(rich("⏰ A reminder: this is due in about a working day."))]
    blocks += terms(a.what, a.done_means, a.process_goal, a.due_at, tz, None)
    blocks += [
        Actions(
            (
                Button("Done", ActionId.DONE, ref(a), "primary"),
                Button("Need to renegotiate", ActionId.RENEGOTIATE, ref(a)),
            )
        ),
        Context(rich("Renegotiating before the due date is a good sign. You get this reminder once.")),
    ]
    return Message(tuple(blocks))
