"""Agreements in Slack end to end: the real server, signed requests, the fake Slack Web API, a real
SQLite file and an injected clock. What each side sees, as Slack would show it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.server import SERVICES
from handlers.agreements import jobs
from handlers.agreements.ids import ActionId, FormId
from tests.support.candor import blocks_text


def due_day(clock, days: int) -> str:
    return (
        datetime.fromtimestamp(clock.now(), ZoneInfo("Europe/Berlin")).date() + timedelta(days=days)
    ).isoformat()


def buttons(message: dict) -> list[tuple[str, str]]:
    blocks = message.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return [
        (e["action_id"], e.get("value", "")) for b in blocks if b["type"] == "actions" for e in b["elements"]
    ]


def responses(slack) -> list[str]:
    """What clicks answered, each only to the person who clicked (their response_url)."""
    return [blocks_text(c.params) for c in slack.calls_to("response_url")]


async def ask(candor, slack, clock, text="<@UBOB|bob> Draft the Q3 plan", days=5):
    status, reply = await candor.command("/agree", text)
    assert (status, reply) == (200, {}), blocks_text(reply)
    view = slack.opened_views()[-1]
    assert view["callback_id"] == FormId.NEW
    ack = await candor.submit(
        view, {"done_means": "Finance has reviewed it", "due_date": due_day(clock, days)}
    )
    assert ack["response_action"] == "update", ack
    await candor.settle()
    return ack


async def test_a_whole_agreement_in_slack_request_accept_done_not_yet_and_the_review(candor, slack, clock):
    ack = await ask(candor, slack, clock, text="<@UBOB|bob> Draft the Q3 plan <!channel> *now*")
    assert "Sent to <@UBOB>" in blocks_text(ack["view"])
    [offer] = slack.delivered_to("UBOB")
    text = blocks_text(offer)
    assert "<@UALICE> asks you to agree to this" in text
    assert "> Draft the Q3 plan @channel *now*" in text and "<!channel>" not in text  # notifies no one
    assert "<!channel>" not in text
    assert buttons(offer) == [
        (ActionId.ACCEPT, "1:1"),
        (ActionId.PROPOSE, "1:1"),
        (ActionId.DECLINE, "1:1"),
    ]

    assert (
        await candor.click(ActionId.ACCEPT, "1:1", user="UBOB", channel="DBOB", trigger_id="t-accept") == 200
    )
    assert (
        await candor.click(ActionId.ACCEPT, "1:1", user="UBOB", channel="DBOB", trigger_id="t-accept") == 200
    )
    await candor.settle()
    assert "Agreed: #1." in responses(slack)[0] and len(responses(slack)) == 1  # the replay did nothing
    [edit] = slack.calls_to("chat.update")
    assert edit.params["channel"] == "UBOB" and buttons(edit.params) == []
    assert "Accepted." in blocks_text(edit.params)
    [_, agreed] = slack.delivered_to("UBOB")
    assert buttons(agreed) == [(ActionId.DONE, "1"), (ActionId.RENEGOTIATE, "1")]
    assert "Candor reminds you once" in blocks_text(agreed)
    assert "Agreed with <@UBOB>" in blocks_text(slack.delivered_to("UALICE")[0])

    await candor.click(ActionId.DONE, "1", user="UBOB", channel="DBOB")
    await candor.settle()
    done = slack.delivered_to("UALICE")[-1]
    assert buttons(done) == [(ActionId.ACCEPT_DONE, "1"), (ActionId.NOT_YET, "1")]
    await candor.click(ActionId.NOT_YET, "1", user="UALICE", channel="DALICE")
    view = slack.opened_views()[-1]
    assert view["callback_id"] == FormId.NOT_YET
    refused = await candor.submit(view, {"missing": ""}, user="UALICE")
    assert refused == {"response_action": "errors", "errors": {"missing": "What is missing cannot be empty."}}
    await candor.submit(view, {"missing": "The numbers for Q3"}, user="UALICE")
    await candor.settle()
    for user in ("UALICE", "UBOB"):
        card = slack.delivered_to(user)[-1]
        assert "How can we do this better next time?" in blocks_text(card)
        assert buttons(card) == [(ActionId.REVIEW, "1")]

    await candor.click(ActionId.REVIEW, "1", user="UALICE", channel="DALICE")
    alice_form = slack.opened_views()[-1]
    assert [b["block_id"] for b in alice_form["blocks"] if b["type"] == "input"] == [
        "clear",
        "agreed",
        "differently",
    ]
    await candor.submit(
        alice_form, {"clear": "Mostly", "agreed": "Yes", "differently": "Say the standard"}, user="UALICE"
    )
    await candor.click(ActionId.REVIEW, "1", user="UBOB", channel="DBOB")
    bob_form = slack.opened_views()[-1]
    assert [b["block_id"] for b in bob_form["blocks"] if b["type"] == "input"] == [
        "in_the_way",
        "would_help",
        "differently",
    ]
    ack = await candor.submit(
        bob_form,
        {"in_the_way": "Late data", "would_help": "A check-in", "differently": "Ask sooner"},
        user="UBOB",
    )
    assert "Reviewed together" in blocks_text(ack["view"])
    await candor.settle()
    for user in ("UALICE", "UBOB"):
        shown = blocks_text(slack.delivered_to(user)[-1])
        assert "Late data" in shown and "Say the standard" in shown
    assert candor.db.execute("select state from agreements").fetchone() == ("reviewed",)


async def test_a_miss_in_slack_sends_both_the_review_once(candor, slack, clock):
    await ask(candor, slack, clock, days=2)
    await candor.click(ActionId.ACCEPT, "1:1", user="UBOB", channel="DBOB")
    clock.advance(4 * 86400)
    services = candor.app[SERVICES]
    await jobs.run_due(services)
    await jobs.run_due(services)
    await candor.settle()
    for user in ("UALICE", "UBOB"):
        cards = [m for m in slack.delivered_to(user) if "How can we do this better" in blocks_text(m)]
        assert len(cards) == 1


async def test_a_retried_form_submission_sends_one_request(candor, slack, clock):
    await candor.command("/agree", "<@UBOB|bob>")
    view = slack.opened_views()[-1]
    answers = {"what": "Ship it", "done_means": "Live", "due_date": due_day(clock, 3)}
    await candor.submit(view, answers, trigger_id="t-form")
    again = await candor.submit(view, answers, trigger_id="t-form")  # Slack sending the same request again
    assert again == {}
    await candor.submit(view, answers)  # the same modal submitted a second time
    await candor.settle()
    assert candor.count("agreements") == 1 and len(slack.delivered_to("UBOB")) == 1


async def test_the_person_is_chosen_in_the_form_when_not_mentioned(candor, slack, clock):
    status, _ = await candor.command("/agree", "")
    assert status == 200
    view = slack.opened_views()[-1]
    person = next(b for b in view["blocks"] if b.get("block_id") == "person")
    assert person["element"]["type"] == "users_select" and "initial_user" not in person["element"]
    errors = await candor.submit(
        view, {"person": "UHELPER", "what": "x", "done_means": "y", "due_date": due_day(clock, 3)}
    )
    assert errors["errors"] == {"person": "Agreements are between people; a bot cannot agree to anything."}
    await candor.submit(
        view, {"person": "UCAROL", "what": "x", "done_means": "y", "due_date": due_day(clock, 3)}
    )
    await candor.settle()
    assert len(slack.delivered_to("UCAROL")) == 1


async def test_propose_counter_accept_then_done_and_accepted_as_done_in_slack(candor, slack, clock):
    await ask(candor, slack, clock, days=5)
    await candor.click(ActionId.PROPOSE, "1:1", user="UBOB", channel="DBOB")
    view = slack.opened_views()[-1]
    assert view["callback_id"] == FormId.PROPOSE
    date_field = next(b for b in view["blocks"] if b.get("block_id") == "due_date")["element"]
    assert date_field == {"type": "datepicker", "action_id": "due_date", "initial_date": due_day(clock, 5)}
    await candor.submit(
        view, {"due_date": due_day(clock, 8), "reason": "Finance reviews on Thursdays"}, user="UBOB"
    )
    await candor.settle()
    proposal = slack.delivered_to("UALICE")[-1]
    assert buttons(proposal) == [(ActionId.ACCEPT, "1:2"), (ActionId.PROPOSE, "1:2")]
    await candor.click(ActionId.PROPOSE, "1:2", user="UALICE", channel="DALICE")
    await candor.submit(
        slack.opened_views()[-1], {"due_date": due_day(clock, 7), "reason": "Board on Friday"}, user="UALICE"
    )
    await candor.settle()
    counter = slack.delivered_to("UBOB")[-1]
    assert buttons(counter) == [
        (ActionId.ACCEPT, "1:3"),
        (ActionId.PROPOSE, "1:3"),
        (ActionId.DECLINE, "1:3"),
    ]
    await candor.click(ActionId.ACCEPT, "1:3", user="UBOB", channel="DBOB")
    await candor.click(ActionId.DONE, "1", user="UBOB", channel="DBOB")
    await candor.click(ActionId.ACCEPT_DONE, "1", user="UALICE", channel="DALICE")
    await candor.settle()
    assert "accepted this as done" in blocks_text(slack.delivered_to("UBOB")[-1])
    assert candor.db.execute("select state, offer_seq from agreements").fetchone() == ("kept", 3)
    # Each answered offer's message was edited to say so, without its buttons.
    edited = [c.params for c in slack.calls_to("chat.update")]
    assert len(edited) == 3 and all(buttons(p) == [] for p in edited)


async def test_decline_in_slack(candor, slack, clock):
    await ask(candor, slack, clock)
    await candor.click(ActionId.DECLINE, "1:1", user="UBOB", channel="DBOB")
    view = slack.opened_views()[-1]
    assert view["callback_id"] == FormId.DECLINE
    await candor.submit(view, {"reason": "On leave <@UCAROL> that week"}, user="UBOB")
    await candor.settle()
    declined = blocks_text(slack.delivered_to("UALICE")[-1])
    assert "<@UBOB> declined your request" in declined and "&lt;@UCAROL&gt;" in declined


async def test_the_reminder_in_slack_at_the_local_time_across_dst(candor, slack, clock):
    clock.t = datetime(2026, 3, 25, 10, 0, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
    await candor.command("/agree", "<@UBOB|bob>")
    await candor.submit(
        slack.opened_views()[-1],
        {"what": "Ship it", "done_means": "Live", "due_date": "2026-03-30", "due_time": "10:00"},
    )
    await candor.click(ActionId.ACCEPT, "1:1", user="UBOB", channel="DBOB")
    services = candor.app[SERVICES]
    clock.t = datetime(2026, 3, 27, 9, 59, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
    await jobs.run_due(services)
    await candor.settle()
    assert not any("A reminder" in blocks_text(m) for m in slack.delivered_to("UBOB"))
    clock.advance(60)  # Friday 10:00 in Berlin (09:00 UTC; Monday's 10:00 is 08:00 UTC)
    await jobs.run_due(services)
    await jobs.run_due(services)
    await candor.settle()
    reminders = [m for m in slack.delivered_to("UBOB") if "A reminder" in blocks_text(m)]
    assert len(reminders) == 1 and "Mon 30 Mar 2026, 10:00 (Europe/Berlin)" in blocks_text(reminders[0])
    assert buttons(reminders[0]) == [(ActionId.DONE, "1"), (ActionId.RENEGOTIATE, "1")]
