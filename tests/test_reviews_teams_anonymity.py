"""The invariant for anonymous failure reviews, proved again for Teams (tests/test_reviews_anonymity.py
proves it for Slack): nothing anyone but the author can see links an anonymous review to its author.

The author writes in their own chat with Candor. After a whole flow (the form with its steps, a
refused answer, the blame check, the batch publication, an owner marking done, the author's edit
and follow-up with the case code, a wrong code, lists and figures, reminders and the digest), the
author's Teams user id, Entra object id, names and personal chat (and plain hashes of them) appear
nowhere in the database file (WAL included), the production logs, or anything Candor sent the Bot
Connector for any conversation but the author's own chat; no stored instant is a moment they wrote.
The one place that names them is the reference Candor keeps to reach their chat, written when they
installed Candor and never touched by the flow.
"""

from __future__ import annotations

import json
import struct
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from bot.server import STORE
from handlers import anonymity
from handlers.reviews.ids import FieldId, Section, row_field
from tests.support.teams import (
    BOB,
    CAROL,
    CHANNEL,
    MANAGER,
    TeamsClient,
    activity_text,
    button_data,
    card_text,
    dialog_card,
    open_from_reply,
    personal_chat,
    run_jobs,
)
from tests.support.teams_author import (
    AUTHOR,
    AUTHOR_AAD,
    AUTHOR_NAME,
    activity_secrets,
    bytes_without_the_install,
    file_bytes,
    secrets_of_the_author,
)
from tests.test_reviews_slack import GOOD
from tests.test_reviews_teams import ahead

DELAY = (300.0, 1800.0)


@pytest.fixture
def teams_overrides():
    return {"reviews_channel": CHANNEL, "speakup_delay_s": DELAY, "admins": frozenset({"aad-mara"})}


@pytest.fixture(autouse=True)
async def installed(production_logs, teams: TeamsClient, fake_teams):
    """Everyone installed Candor (the logs are set up first, as `candor serve` does)."""
    fake_teams.add_person(AUTHOR, AUTHOR_NAME, aad=AUTHOR_AAD, teams=(CHANNEL,))
    assert await teams.install_team(MANAGER) == 200
    for person in (MANAGER, AUTHOR, BOB, CAROL):
        assert await teams.install_personal(person) == 200
    for person in (BOB, CAROL):  # owners are people Candor knows, with their timezone
        assert await teams.say("help", user=person) == 200


def dialog_says(answer: dict[str, Any]) -> str:
    return card_text(dialog_card(answer))


async def publish(teams: TeamsClient, clock) -> None:
    clock.advance(1801 + anonymity.BATCH_EVERY_S)  # past the longest delay and its batch mark
    await run_jobs(teams.candor)  # the minute jobs: the batch, reminders, the digest


class Author:
    """The author's side of the flow, recording the ids of what they sent anonymously (Teams knows
    who sent each, so none may be kept)."""

    def __init__(self, teams: TeamsClient, fake_teams) -> None:
        self.teams, self.fake = teams, fake_teams
        self.activities: list[str] = []
        post = teams.post

        async def recorded(activity, **kwargs):
            if isinstance(activity, dict) and activity.get("from", {}).get("id") == AUTHOR and self.recording:
                self.activities.append(activity["id"])
            return await post(activity, **kwargs)

        teams.post = recorded  # type: ignore[method-assign]
        self.recording = True

    async def say(self, text: str) -> None:
        assert await self.teams.say(text, user=AUTHOR) == 200

    async def open_form(self, text: str) -> dict[str, Any]:
        await self.say(text)
        return await open_from_reply(self.teams, self.fake, personal_chat(AUTHOR), AUTHOR)

    async def submit(self, dialog: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
        status, answer = await self.teams.submit(dialog, answers, user=AUTHOR)
        assert status == 200
        return answer


async def full_flow(teams: TeamsClient, fake_teams, clock, author: Author) -> list[float]:
    """Everything an anonymous author and the people around them do; returns the moments the
    author wrote."""
    candor = teams.candor
    written = []
    clock.advance(0.125)  # a moment no batch mark or day can equal
    form = await author.open_form("review")
    owned = {
        row_field(1, "what"): "add a canary step",
        row_field(1, "owner"): BOB,
        row_field(1, "due"): ahead(clock, 20),
    }
    # Refused: the hidden author cannot own an action (the picker leaves them out; a hand-made
    # answer names them).
    refused = await author.submit(
        form, {**GOOD, **owned, FieldId.ANONYMOUS: "yes", row_field(1, "owner"): AUTHOR}
    )
    assert "In an anonymous review you cannot own an action yourself" in dialog_says(refused)
    # More rows, then the gentle blame check, then received.
    more = await author.submit(form, {**GOOD, **owned, FieldId.ANONYMOUS: "yes", FieldId.MORE_ROWS: "yes"})
    assert "Added 3 action rows" in dialog_says(more)
    check = await author.submit(
        more,
        {
            Section.FACTORS: "Someone forgot the checklist step.",
            row_field(2, "what"): "write the runbook",
            row_field(2, "owner"): CAROL,
            row_field(2, "due"): ahead(clock, 25),
        },
    )
    assert "gentle check" in dialog_says(check)
    received = await author.submit(check, {})
    code = dialog_says(received).split("Your case code: ")[1].split()[0]
    written.append(clock.now())
    await candor.settle()
    assert candor.count("reviews") == 1
    assert not any("Failure review #" in activity_text(b) for b in fake_teams.sent_to(CHANNEL))  # it waits
    clock.advance(0.5)
    await publish(teams, clock)
    [post] = [b for b in fake_teams.sent_to(CHANNEL) if "Failure review #" in activity_text(b)]
    assert "by a team member (anonymous)" in activity_text(post)

    told = [b for b in fake_teams.sent_to(personal_chat(BOB)) if "You own an action" in activity_text(b)]
    _, done = await teams.open(button_data(told[-1], "Mark done"), user=BOB)
    assert "Marked done: add a canary step" in dialog_says(done)

    edit = await author.open_form(f"review edit {code}")
    await candor.settle()  # the fake clock stands still: let nothing else happen at the author's instant
    clock.advance(7.375)
    saved = await author.submit(
        edit,
        {Section.IMPACT: "About 320 customers could not pay.", FieldId.FOLLOW_UP: "The canary is live now."},
    )
    assert "Saved: your changes and your follow-up will appear" in dialog_says(saved)
    written.append(clock.now())
    clock.advance(0.5)
    await author.say("review edit WRONG")
    assert "No review matches that code" in activity_text(fake_teams.answers_to(personal_chat(AUTHOR))[-1])
    author.recording = False  # what follows is not anonymous: Candor may keep that it answered it
    await author.say("review list")
    await teams.say("review stats", user=BOB, conversation=CHANNEL)
    await teams.say("review actions", user=CAROL)
    await publish(teams, clock)
    [(before_at,)] = candor.db.execute("select remind_before_at from review_actions where owner = ?", [CAROL])
    clock.t = before_at
    await run_jobs(candor)  # Carol's reminder: her action is still open
    # Long after, on a Tuesday afternoon: every reminder's moment has passed, a Monday's digest is due.
    later = datetime.fromtimestamp(clock.t, UTC).date() + timedelta(days=300)
    later += timedelta(days=(1 - later.weekday()) % 7)
    clock.t = datetime.combine(later, time(15), UTC).timestamp()
    await run_jobs(candor)
    await run_jobs(candor)
    replies = [activity_text(c.body) for c in fake_teams.sent() if c.body and ";messageid=" in c.path]
    assert any("The canary is live now." in r for r in replies)  # the follow-up, in the post's thread
    assert any(
        "About 320 customers could not pay." in activity_text(c.body)
        for c in fake_teams.sent()
        if c.method == "PUT"
    )
    assert any("Reminder:" in activity_text(b) for b in fake_teams.sent_to(personal_chat(CAROL)))
    assert any("Overdue actions" in activity_text(b) for b in fake_teams.sent_to(CHANNEL))
    return written


async def test_the_author_of_an_anonymous_review_written_in_teams_appears_nowhere(
    production_logs, log_held, teams: TeamsClient, fake_teams, clock
):
    candor = teams.candor
    db_path = candor.settings.db_path
    wal = db_path.with_name(db_path.name + "-wal")
    reference = dict(candor.db["teams_references"].get(personal_chat(AUTHOR)))
    assert reference["user"] == AUTHOR  # where Candor reaches them: written at install time
    assert candor.app[STORE].checkpoint()  # the installs are in the main file now, not the WAL
    held = log_held(db_path)  # everything the flow writes stays in the WAL, where it is searched
    calls_before = len(fake_teams.calls)
    author = Author(teams, fake_teams)

    written = await full_flow(teams, fake_teams, clock, author)
    [(author_column, anonymous)] = candor.db.execute("select author, anonymous from reviews").fetchall()
    assert (author_column, anonymous) == (None, 1)
    assert len(author.activities) >= 9

    leaks = secrets_of_the_author()
    leaks += activity_secrets(author.activities)  # Teams' ids of what they sent: Teams knows who
    in_wal = file_bytes(wal)
    held.close()
    assert BOB.encode() in in_wal and b"The canary is live now." in in_wal  # the search is not vacuous
    assert [s for s in leaks if s in in_wal] == []  # the flow wrote no page that holds them
    stored = file_bytes(db_path) + in_wal
    assert [t for t in written if struct.pack(">d", t) in stored] == []  # no moment of writing

    logs = production_logs.getvalue()
    assert logs.count('"msg": "request"') >= 15  # the log really captured the requests
    assert '"logger": "candor.http"' in logs
    assert [s for s in leaks if s.decode("utf-8", "ignore") in logs] == []

    # Everything Candor sent Teams for any other conversation: posts, replies, edits, roster calls,
    # their paths as well as their bodies.
    to_others = [c for c in fake_teams.calls[calls_before:] if personal_chat(AUTHOR) not in c.path]
    assert len(to_others) >= 10
    sent = json.dumps([[c.path, c.body] for c in to_others])
    assert BOB in sent  # Bob, an owner, is named there: the search is not vacuous
    assert [s for s in leaks if s.decode("utf-8", "ignore") in sent] == []
    # ...while the author's own chat got what was theirs: the forms' openers and answers.
    assert any(
        "No review matches that code" in activity_text(b) for b in fake_teams.sent_to(personal_chat(AUTHOR))
    )

    assert dict(candor.db["teams_references"].get(personal_chat(AUTHOR))) == reference  # untouched
    await candor.stop()
    stored = bytes_without_the_install(db_path)
    assert BOB.encode() in stored and b"The canary is live now." in stored  # not vacuous
    assert [s for s in leaks if s in stored] == []  # nothing else anywhere holds them
    assert [t for t in written if struct.pack(">d", t) in stored] == []
