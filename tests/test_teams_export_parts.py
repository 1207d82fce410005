"""A long evidence export in Teams arrives whole, as several messages in order, each a card under
Teams' size limit; when a later part fails, the parts that arrived are not posted again."""

from __future__ import annotations

import pytest

from tests.support.teams import (
    ALICE,
    BOB,
    CHANNEL,
    TeamsClient,
    activity_text,
    assert_valid_card,
    open_from_reply,
    personal_chat,
)

KUDOS = 70  # of 1,000 characters each, most of them two bytes: about three cards' worth


@pytest.fixture
def teams_overrides():
    return {"kudos_daily_cap": 1000}


def example(i: int) -> str:
    return (f"Example {i:02d}: " + ("é" * 480 + " candid & kind feedback, in full ") * 2)[:1000].rstrip()


async def export(teams: TeamsClient, fake_teams, *, fail_second_part: bool = False) -> list[dict]:
    """Bob thanks Alice KUDOS times; she exports her evidence from her own chat. Her chat's posts
    from the export on."""
    assert await teams.install_team(BOB) == 200
    assert await teams.install_personal(ALICE) == 200
    for i in range(KUDOS):
        await teams.say(
            f"kudos <at>Alice Smith</at> #feedback {example(i)}",
            user=BOB,
            conversation=CHANNEL,
            mentions=((ALICE, "Alice Smith"),),
        )
    await teams.candor.settle()
    await teams.say("nominate mine", user=ALICE)
    mine = await open_from_reply(teams, fake_teams, personal_chat(ALICE), ALICE)
    before = len(fake_teams.sent_to(personal_chat(ALICE)))
    if fail_second_part:
        fake_teams.answer_later(1, 502, "BadGateway")  # the first part arrives, the second not
    await teams.press_in_dialog(mine, "Export as Markdown", user=ALICE)
    await teams.candor.settle()
    return fake_teams.sent_to(personal_chat(ALICE))[before:]


def exports(teams: TeamsClient) -> list[dict]:
    return [row for row in teams.candor.outbox() if "evidence.md" in row["payload"]]


async def test_a_long_export_arrives_whole_in_numbered_parts(teams: TeamsClient, fake_teams):
    parts = await export(teams, fake_teams)
    assert len(parts) >= 3
    for number, part in enumerate(parts, 1):
        text = activity_text(part)
        assert f"Part {number} of {len(parts)}" in text and "(shortened)" not in text
        for attachment in part["attachments"]:
            assert_valid_card(attachment["content"])
    assert "Copy the text below into a file named evidence.md" in activity_text(parts[0])
    whole = "".join(activity_text(p) for p in parts)
    missing = [i for i in range(KUDOS) if example(i) not in whole]
    assert not missing, (missing, whole[:3000])  # every example, whole and as typed
    [row] = exports(teams)  # one outbox row, sent once, in parts
    assert row["status"] == "sent"


async def test_a_part_that_fails_after_the_first_arrived_is_not_retried_so_nothing_comes_twice(
    teams: TeamsClient, fake_teams
):
    parts = await export(teams, fake_teams, fail_second_part=True)
    assert len(parts) == 1 and "Part 1 of " in activity_text(parts[0])
    [row] = exports(teams)
    assert row["status"] == "failed"
    assert row["last_error"].startswith("partial: 1 of ") and row["last_error"].endswith("not resent")
    seen = len(fake_teams.sent_to(personal_chat(ALICE)))
    await teams.candor.dispatcher.drain()  # nothing is due any more: the first part is not posted twice
    assert len(fake_teams.sent_to(personal_chat(ALICE))) == seen
