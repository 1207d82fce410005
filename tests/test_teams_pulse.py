"""The psychological-safety pulse in Teams, end to end over HTTP: `pulse start` in a channel by an
admin named in CANDOR_ADMINS, the private card in each member's own chat with Candor (answered only
there, in a dialog), the results in the channel; and the anonymity proof repeated for Teams: nothing
stored, logged or sent to Teams links an answer to the person who gave it.

What could link them in Teams, and why nothing does:
- the activity ids of the button and the form (Teams knows who sent them): remembered in memory
  only, never in `processed`;
- a row written when someone answers: the answer has a random id and no time; the flag that they
  answered is apart; no outbox row, no conversation reference is written or changed;
- the write-ahead log: emptied right after each answer;
- a call to Teams: answering makes none (the dialogs are the HTTP answers to Teams' invokes);
- a log line: none names them.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import pytest

from tests.support.teams import (
    ALICE,
    BOB,
    CAROL,
    CHANNEL,
    HELPER_BOT,
    MANAGER,
    TeamsClient,
    button_data,
    buttons,
    dialog_text,
    fields_of,
    last_reply,
    personal_chat,
    run_jobs,
    seen_text,
)
from tests.support.teams_author import activity_secrets

MORE = {"29:dan": "Dan Evans", "29:erin": "Erin Fox", "29:finn": "Finn Gray"}
MEMBERS = [ALICE, BOB, CAROL, MANAGER, *MORE]  # the team's roster, in Teams' order


@pytest.fixture
def teams_overrides():
    return {"admins": frozenset({"aad-mara"})}


@pytest.fixture(autouse=True)
async def installed(teams: TeamsClient, fake_teams):
    for user, name in MORE.items():
        fake_teams.add_person(user, name, teams=(CHANNEL,))
    fake_teams.members[CHANNEL].append(fake_teams.people[HELPER_BOT])  # a bot is never invited
    assert await teams.install_team(MANAGER) == 200
    for person in (ALICE, MANAGER):  # the others' chats are opened when their card is sent
        assert await teams.install_personal(person) == 200


async def start(teams: TeamsClient, fake) -> int:
    await teams.say("pulse start", user=MANAGER, conversation=CHANNEL)
    assert "Pulse scheduled for General" in last_reply(fake, CHANNEL)
    await run_jobs(teams.candor)
    [(round_id,)] = teams.candor.db.execute("select id from pulse_rounds where state = 'open'").fetchall()
    return int(round_id)


def card_of(fake, user: str) -> dict[str, Any]:
    [card] = [b for b in fake.sent_to(personal_chat(user)) if "Answer" in [x["title"] for x in buttons(b)]]
    return card


async def answer(teams: TeamsClient, fake, user: str, values, comment: str = "") -> tuple[str, list[str]]:
    """The member presses Answer on their card, in their own chat, and sends the form; what the
    dialog said, and the ids of the two activities Teams sent for them."""
    pressed = teams.activity(
        "invoke",
        user=user,
        name="task/fetch",
        value={"type": "task/fetch", "data": button_data(card_of(fake, user), "Answer")},
    )
    _, form = await teams.post(pressed)
    if "actions" not in form["task"]["value"]["card"]["content"]:  # refused: no form to fill in
        return dialog_text(form), [pressed["id"]]
    filled = {f"q{n}": str(v) for n, v in enumerate(values, start=1)} | {"comment": comment}
    card = form["task"]["value"]["card"]["content"]
    submit = card["actions"][0]["data"]
    sent = teams.activity("invoke", user=user, name="task/submit", value={"data": {**submit, **filled}})
    _, done = await teams.post(sent)
    return dialog_text(done), [pressed["id"], sent["id"]]


def wal(teams: TeamsClient) -> bytes:
    path = teams.candor.settings.db_path.with_name(teams.candor.settings.db_path.name + "-wal")
    return path.read_bytes() if path.exists() else b""


def stored(teams: TeamsClient) -> bytes:
    return teams.candor.settings.db_path.read_bytes() + wal(teams)


async def test_members_answer_their_private_card_in_their_own_chat_and_the_channel_sees_results(
    teams: TeamsClient, fake_teams, clock
):
    await teams.say("pulse start", user=ALICE, conversation=CHANNEL)
    assert "Only Candor admins and managers" in last_reply(fake_teams, CHANNEL)
    round_id = await start(teams, fake_teams)
    announcement = [b for b in fake_teams.sent_to(CHANNEL) if "is open" in seen_text(b)]
    assert len(announcement) == 1 and "Each of the 7 members" in seen_text(announcement[0])
    for user in MEMBERS:  # a card in each member's own chat; none for the bot
        assert "It is safe to take a risk on this team." in seen_text(card_of(fake_teams, user))
    assert fake_teams.sent_to(personal_chat(HELPER_BOT)) == []

    # The card's button works only in the member's own chat: elsewhere it says so and opens nothing.
    data = button_data(card_of(fake_teams, BOB), "Answer")
    _, refused = await teams.press(data["action"], data["value"], user=BOB, conversation=CHANNEL)
    assert "only in your own chat with Candor" in dialog_text(refused)
    _, form = await teams.press(data["action"], data["value"], user=BOB)
    fields = fields_of(form)
    assert [f for f in fields if f.startswith("q")] == [f"q{n}" for n in range(1, 8)]
    assert [c["title"] for c in fields["q1"]["choices"]][::6] == [
        "1 · Strongly disagree",
        "7 · Strongly agree",
    ]
    _, refused = await teams.submit(form, {"q1": "9", "comment": "x" * 1001}, user=BOB)
    assert "Pick one of the seven answers." in dialog_text(refused) and "1,001 characters" in dialog_text(
        refused
    )
    assert teams.candor.count("pulse_answers") == 0

    for i, user in enumerate(MEMBERS[:5]):
        said, _ = await answer(teams, fake_teams, user, (2, 6, 2, 6, 2, 6, 6 - i % 2))
        assert "Your answer is recorded" in said
    again, _ = await answer(teams, fake_teams, ALICE, (1,) * 7)
    assert "You already answered this round" in again
    _, not_invited = await teams.press(data["action"], str(round_id), user="29:nobody")
    assert "This pulse is for the members its channel had when it opened." in dialog_text(not_invited)

    await teams.say("pulse close", user=MANAGER, conversation=CHANNEL)
    await teams.candor.settle()
    [results] = [seen_text(b) for b in fake_teams.sent_to(CHANNEL) if ": results" in seen_text(b)]
    assert "Team score: 5.94 out of 7" in results  # (6 × 6 + 5.6) / 7: items 1, 3, 5 scored 8 − answer
    assert "Response rate: 71% (5 of 7 members)" in results
    assert "Team score: 5.94 out of 7" in await _results(teams, fake_teams)
    late, _ = await answer(teams, fake_teams, "29:finn", (4,) * 7)
    assert "closed" in late


async def _results(teams: TeamsClient, fake) -> str:
    await teams.say("pulse results", user=CAROL, conversation=CHANNEL)
    return last_reply(fake, CHANNEL)


async def test_no_answer_can_be_linked_to_its_author_from_the_file_the_logs_or_teams(
    production_logs, teams: TeamsClient, fake_teams, clock
):
    round_id = await start(teams, fake_teams)
    await teams.candor.settle()
    order = list(reversed(MEMBERS))  # not the roster's order
    references = [dict(r) for r in teams.candor.db["teams_references"].rows]
    counts = {t: teams.candor.count(t) for t in ("outbox", "processed", "teams_references")}
    calls, logged = len(fake_teams.calls), len(production_logs.getvalue())
    moments, activities = [], []
    for i, user in enumerate(order):
        clock.advance(37.125 + i)  # moments no batch, day or other row could share
        moments.append(clock.now())
        said, ids = await answer(teams, fake_teams, user, (i % 7 + 1, 4, 4, 4, 4, 4, 4), comment=f"note {i}")
        assert "Your answer is recorded" in said
        activities += ids
        # The commit that wrote the flag and the answer side by side is out of the log at once (a
        # periodic job may have written an unrelated row since, so not "the log is empty").
        held = wal(teams)
        assert [j for j in range(i + 1) if f"note {j}".encode() in held] == []
    assert fake_teams.calls[calls:] == []  # answering made no call to Teams at all
    assert {t: teams.candor.count(t) for t in counts} == counts  # no post, no replay key, no reference
    assert [dict(r) for r in teams.candor.db["teams_references"].rows] == references

    answers = teams.candor.db.execute("select id, q1 from pulse_answers order by id").fetchall()
    assert len(answers) == len(MEMBERS)
    assert [q1 for _, q1 in answers] != [i % 7 + 1 for i in range(len(MEMBERS))]
    assert all(answer_id > 2**31 for answer_id, _ in answers)
    invited = [
        u
        for (u,) in teams.candor.db.execute(
            "select user from pulse_invites where round_id = ? order by rowid", [round_id]
        )
    ]
    assert invited == MEMBERS  # the roster's order, whoever answered first

    leaks = activity_secrets(activities)
    data = stored(teams)
    assert all(f"note {j}".encode() in data for j in range(len(MEMBERS)))  # found where they are
    assert [s for s in leaks if s in data] == []
    assert [t for t in moments if struct.pack(">d", t) in data or str(int(t)).encode() in data] == []
    while_answering = production_logs.getvalue()[logged:]
    assert while_answering.count('"msg": "request"') == 2 * len(MEMBERS)
    assert [u for u in MEMBERS if u in while_answering or u[3:] in while_answering] == []
    assert [s for s in leaks if s.decode() in while_answering] == []

    # The close: results in the channel, comments (fewer than 10 answers) shown nowhere and kept nowhere.
    await teams.say("pulse close", user=MANAGER, conversation=CHANNEL)
    await teams.candor.settle()
    sent = json.dumps([c.body for c in fake_teams.calls[calls:]])
    assert "Response rate: 100% (7 of 7 members)" in sent
    assert "note 3" not in sent and b"note 3" not in stored(teams)
