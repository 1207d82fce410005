"""Escalation in Slack end to end: the rubric for anyone, a case opened in a modal, the person told
by DM at every step, buttons that refuse a move too early and do nothing on a replay."""

from __future__ import annotations

import json

import pytest

from handlers.escalation.ids import ActionId, FormId
from tests.support.candor import blocks_text


@pytest.fixture
def settings_overrides():
    return {"managers": frozenset({"UALICE"})}  # who opens the cases here


def buttons(message: dict) -> list[tuple[str, str]]:
    blocks = message.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return [
        (e["action_id"], e.get("value", "")) for b in blocks if b["type"] == "actions" for e in b["elements"]
    ]


async def test_a_case_in_slack_from_the_public_rubric_to_resolved(candor, slack, clock):
    status, reply = await candor.command("/escalation", "rubric", user="UCAROL")
    assert status == 200 and reply["response_type"] == "ephemeral"
    rubric = blocks_text(reply)
    assert (
        "*1. Observation*" in rubric and "*4. Corrective action*" in rubric and "no secret stages" in rubric
    )

    status, reply = await candor.command("/escalation", "open <@UBOB|bob>")
    assert (status, reply) == (200, {})
    view = slack.opened_views()[-1]
    assert view["callback_id"] == FormId.OPEN
    ack = await candor.submit(view, {"seen": "Skipped the <!here> review twice", "impact": "Bugs shipped"})
    assert "Case #1 is open at stage 1" in blocks_text(ack["view"])
    await candor.settle()
    [told] = slack.delivered_to("UBOB")
    text = blocks_text(told)
    assert "<@UALICE> opened an escalation case about you, #1" in text
    assert "&lt;!here&gt;" in text and "<!here>" not in text  # typed markup notifies no one
    assert "What happens next" in text and "Corrective action" in text

    _, reply = await candor.command("/escalation", "show 1")
    assert buttons(reply) == [(ActionId.MOVE, "1:observation"), (ActionId.CLOSE, "1")]
    await candor.click(ActionId.MOVE, "1:observation")
    assert "Too early" in blocks_text(slack.calls_to("response_url")[-1].params)
    clock.advance(3 * 86400)
    assert await candor.click(ActionId.MOVE, "1:observation", trigger_id="t-move") == 200
    assert await candor.click(ActionId.MOVE, "1:observation", trigger_id="t-move") == 200  # Slack's replay
    await candor.settle()
    assert len(slack.delivered_to("UBOB")) == 2
    assert "moved case #1 about you to stage 2 of 4: Coaching" in blocks_text(slack.delivered_to("UBOB")[-1])

    await candor.click(ActionId.CLOSE, "1", user="UBOB", channel="DBOB")
    assert "Only the manager who opened case #1, or a Candor admin" in blocks_text(
        slack.calls_to("response_url")[-1].params
    )
    await candor.click(ActionId.CLOSE, "1")
    view = slack.opened_views()[-1]
    assert view["callback_id"] == FormId.CLOSE
    await candor.submit(view, {"note": "Thanks for sorting the reviews out."})
    await candor.settle()
    last = blocks_text(slack.delivered_to("UBOB")[-1])
    assert "closed as resolved. Thank you for the work you put into it" in last
    assert candor.db.execute("select status, outcome from escalation_cases").fetchone() == (
        "closed",
        "resolved",
    )


async def test_a_colleague_who_is_no_manager_cannot_open_a_case(candor, slack):
    status, reply = await candor.command("/escalation", "open <@UBOB|bob>", user="UCAROL")
    assert status == 200 and reply["response_type"] == "ephemeral"
    assert "Only managers (CANDOR_MANAGERS) and Candor admins open escalation cases" in blocks_text(reply)
    assert slack.opened_views() == [] and candor.count("escalation_cases") == 0
