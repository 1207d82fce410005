"""Escalation in Teams, end to end over HTTP: the public rubric in a channel, a case opened by
@mentioning the person, every refusal to move said to the manager alone, the whole path through
coaching notes and agreements missed and reviewed (each in Teams), and the person told in their
own chat with Candor at every step."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.support.teams import (
    ALICE,
    BOB,
    CAROL,
    CHANNEL,
    MANAGER,
    TeamsClient,
    ask,
    button_data,
    dialog_text,
    fields_of,
    last_reply,
    open_from_reply,
    personal_chat,
    run_jobs,
    seen_text,
)

BERLIN = ZoneInfo("Europe/Berlin")
DAY = 86400
SEEN = "Skipped the design review twice <at>Carol Diaz</at> **without a word**"


@pytest.fixture
def teams_overrides():
    return {"managers": frozenset({MANAGER})}  # only managers and admins open a case


@pytest.fixture(autouse=True)
async def installed(teams: TeamsClient):
    assert await teams.install_team(MANAGER) == 200
    assert await teams.install_personal(MANAGER) == 200  # Bob's chat is opened when he is first told


def day(clock, days: int) -> str:
    return (datetime.fromtimestamp(clock.now(), BERLIN).date() + timedelta(days=days)).isoformat()


def told(fake) -> list[str]:
    """What Bob was told in his own chat with Candor."""
    path = f"/v3/conversations/{personal_chat(BOB)}/activities"
    return [seen_text(c.body or {}) for c in fake.sent() if c.path == path]


async def say_privately(teams: TeamsClient, fake, text: str, user: str = MANAGER) -> str:
    """A command in the person's own chat, and what Candor answered them."""
    return await ask(teams, fake, text, user=user)


async def press(teams: TeamsClient, fake, user: str, label: str) -> dict:
    """A button on the last message Candor sent to `user`'s own chat."""
    data = button_data(fake.sent_to(personal_chat(user))[-1], label)
    status, answer = await teams.press(
        data["action"], data["value"], user=user, conversation=personal_chat(user)
    )
    assert status == 200
    return answer


async def agreement_missed_and_reviewed(teams: TeamsClient, fake, clock, form: dict) -> None:
    """Mara's request form (from `agree` or the case's button): sent, accepted, missed, reviewed."""
    _, sent = await teams.submit(
        form,
        {
            "person": BOB,
            "what": "Send the review notes",
            "done_means": "In the wiki",
            "due_date": day(clock, 2),
        },
        user=MANAGER,
        conversation=personal_chat(MANAGER),
    )
    assert "Sent to @Bob Jones" in dialog_text(sent)
    await teams.candor.settle()
    await press(teams, fake, BOB, "Accept")
    clock.advance(3 * DAY)
    await run_jobs(teams.candor)
    for user, answers in (
        (MANAGER, {"clear": "Yes", "agreed": "Yes", "differently": "Check in midway"}),
        (BOB, {"in_the_way": "Two incidents", "would_help": "A heads-up", "differently": "Say it early"}),
    ):
        review = await press(teams, fake, user, "Answer")
        await teams.submit(review, answers, user=user, conversation=personal_chat(user))
    await teams.candor.settle()


async def test_a_case_in_teams_from_the_public_rubric_through_every_stage(
    teams: TeamsClient, fake_teams, clock
):
    await teams.say("escalation rubric", user=CAROL, conversation=CHANNEL)
    rubric = last_reply(fake_teams, CHANNEL)  # public: the same for everyone, in the channel
    assert "1. Observation" in rubric and "4. Corrective action" in rubric and "no secret stages" in rubric

    await teams.say(
        "escalation open <at>Bob Jones</at>",
        user=MANAGER,
        conversation=CHANNEL,
        mentions=((BOB, "Bob Jones"),),
    )
    assert "Bob" not in last_reply(fake_teams, CHANNEL) and "A case about" not in last_reply(
        fake_teams, CHANNEL
    )
    form = await open_from_reply(teams, fake_teams, CHANNEL, MANAGER)
    assert "A case about @Bob Jones starts at stage 1" in dialog_text(form)
    _, opened = await teams.submit(
        form, {"seen": SEEN, "impact": "Bugs shipped"}, user=MANAGER, conversation=CHANNEL
    )
    assert "Case #1 is open at stage 1" in dialog_text(opened)
    await teams.candor.settle()
    [first] = told(fake_teams)
    assert "@Mara Manager opened an escalation case about you, #1" in first
    assert SEEN in first and "What happens next" in first and "Corrective action" in first
    notified = fake_teams.sent_to(personal_chat(BOB))[0]
    assert [e["mentioned"]["id"] for e in notified["entities"]] == [MANAGER]  # Carol's typed <at> is text
    assert not any("Skipped" in seen_text(b) for b in fake_teams.sent_to(CHANNEL))

    # Each refusal, said to the manager alone: in a channel behind "Show it to me".
    await teams.say("escalation move 1", user=MANAGER, conversation=CHANNEL)
    assert "Only for you" in last_reply(fake_teams, CHANNEL) and "Too early" not in last_reply(
        fake_teams, CHANNEL
    )
    assert "Too early: case #1 has been at Observation" in dialog_text(
        await open_from_reply(teams, fake_teams, CHANNEL, MANAGER)
    )
    skip = await say_privately(teams, fake_teams, "escalation move 1 plan")
    assert "Candor does not skip stages" in skip and "Coaching always comes before any formal step" in skip
    assert "already at Observation" in await say_privately(teams, fake_teams, "escalation move 1 observation")
    assert "Only the manager who opened case #1 can move it" in await say_privately(
        teams, fake_teams, "escalation move 1", user=BOB
    )
    assert "I cannot find case #1" in await say_privately(teams, fake_teams, "escalation move 1", user=CAROL)
    assert len(told(fake_teams)) == 1

    clock.advance(3 * DAY + 60)
    await teams.say("escalation move 1", user=MANAGER, conversation=CHANNEL)
    await teams.candor.settle()
    for _ in range(2):  # the answer given when she moved it, not the command run again (a second move)
        moved = await open_from_reply(teams, fake_teams, CHANNEL, MANAGER)
        assert "Case #1 moved to Coaching. @Bob Jones is told now." in dialog_text(moved)
    assert "moved case #1 about you to stage 2 of 4: Coaching" in told(fake_teams)[-1]
    back = await say_privately(teams, fake_teams, "escalation move 1 observation")
    assert "A case only moves forward" in back

    clock.advance(14 * DAY + 60)
    unmet = await say_privately(teams, fake_teams, "escalation move 1")
    assert "Not yet: before Documented plan, the rubric asks for:" in unmet
    assert "✗ At least one coaching conversation at this stage. (now 0, needs 1)" in unmet

    await teams.say("coach <at>Bob Jones</at>", user=MANAGER, mentions=((BOB, "Bob Jones"),))
    note = await open_from_reply(teams, fake_teams, personal_chat(MANAGER), MANAGER)
    _, kept = await teams.submit(
        note, {"talked": "What gets in the way of reviews"}, user=MANAGER, conversation=personal_chat(MANAGER)
    )
    assert "Kept. Only you can read it." in dialog_text(kept)
    await teams.say("agree <at>Bob Jones</at>", user=MANAGER, mentions=((BOB, "Bob Jones"),))
    request = await open_from_reply(teams, fake_teams, personal_chat(MANAGER), MANAGER)
    await agreement_missed_and_reviewed(teams, fake_teams, clock, request)
    moved = await say_privately(teams, fake_teams, "escalation move 1")
    assert "Case #1 moved to Documented plan" in moved
    await teams.candor.settle()
    assert "stage 3 of 4: Documented plan" in told(fake_teams)[-1]

    await teams.say("escalation show 1", user=MANAGER)
    record = await open_from_reply(teams, fake_teams, personal_chat(MANAGER), MANAGER)
    _, plan = await teams.press_in_dialog(record, "Add a plan agreement", user=MANAGER)
    assert "Part of the documented plan of escalation case #1" in dialog_text(plan)
    assert fields_of(plan)["person"]["value"] == BOB
    await agreement_missed_and_reviewed(teams, fake_teams, clock, plan)
    clock.advance(30 * DAY)
    assert "Case #1 moved to Corrective action" in await say_privately(teams, fake_teams, "escalation move 1")
    last = await say_privately(teams, fake_teams, "escalation move 1")
    assert "the last stage: it can only be closed now" in last

    await teams.say("escalation show 1", user=MANAGER)
    record = await open_from_reply(teams, fake_teams, personal_chat(MANAGER), MANAGER)
    _, closing = await teams.press_in_dialog(record, "Close the case", user=MANAGER)
    _, closed = await teams.submit(
        closing,
        {"note": "Thanks for sorting the reviews out."},
        user=MANAGER,
        conversation=personal_chat(MANAGER),
    )
    assert "Case #1 is closed as resolved" in dialog_text(closed)
    assert "Case #1 is closed." in await say_privately(teams, fake_teams, "escalation move 1")
    await teams.candor.settle()
    steps = told(fake_teams)
    assert "closed as resolved. Thank you for the work you put into it" in steps[-1]
    about_the_case = [s.splitlines()[0] for s in steps if "case #1" in s or "case about you, #1" in s]
    assert len(about_the_case) == 5, about_the_case  # opened, three moves, closed
    assert "What gets in the way of reviews" not in "".join(steps)  # the note's text: never in a record
    assert ALICE not in "".join(steps)
