"""Failure reviews in Slack, end to end: the real server, signed requests, the fake Slack Web API,
a real SQLite file and an injected clock."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime

import pytest

from bot.server import SERVICES
from handlers.reviews import jobs
from handlers.reviews.ids import ActionId, FieldId, Section, row_field
from tests.support.candor import Candor, blocks_text, make_settings

ADMIN = "UADMIN"
GOOD = {
    Section.TITLE: "Checkout errors after Tuesday's release",
    Section.HAPPENED: "The release went out at 14:00 and checkout failed for 40 minutes until it was rolled back.",
    Section.IMPACT: "About 300 customers could not pay for 40 minutes.",
    Section.FACTORS: "The deploy pipeline has no canary step, and the error alert only fires after 30 minutes.",
    Section.LEARNED: "A canary would have caught the error within minutes.",
    Section.NEXT_TIME: "Roll out to 5% first and watch the error rate before going further.",
}


@pytest.fixture
def settings_overrides():
    return {"reviews_channel": "CREVIEWS", "speakup_delay_s": (0.0, 0.0)}


@pytest.fixture(autouse=True)
def people(slack):
    slack.add_user("UDANA", "dana", tz="America/New_York")
    slack.add_user(ADMIN, "mara.manager", is_admin=True, tz="UTC")


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


async def open_form(candor, slack, user="UALICE", channel="CTEAM"):
    status, reply = await candor.command("/review", "", user=user, channel=channel)
    assert status == 200 and reply == {}, blocks_text(reply)
    return slack.opened_views()[-1]


def block(view, block_id):
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


async def send(candor, slack, answers, *, user="UALICE"):
    return await candor.submit(await open_form(candor, slack, user), {**GOOD, **answers}, user=user)


def dms(slack, user):
    return [blocks_text(p) for p in slack.delivered_to(user)]


def review_number(candor) -> int:
    [(number,)] = candor.db.execute("select id from reviews").fetchall()
    return number


async def run_reminders(candor):
    await jobs.send_reminders(candor.app[SERVICES])  # what the minute job does
    await candor.settle()


# --- the modal ----------------------------------------------------------------------------------
async def test_the_modal_has_guidance_rows_a_rich_text_field_for_lines_and_the_anonymous_box(candor, slack):
    view = await open_form(candor, slack)
    assert view["type"] == "modal" and view["title"]["text"] == "Failure review"
    assert view["submit"]["text"] == "Publish"
    factors = block(view, Section.FACTORS)
    assert factors["hint"]["text"].startswith("Process, tools, clarity of expectations, not people.")
    assert factors["element"]["multiline"] is True and factors["element"]["max_length"] == 3000
    assert block(view, Section.NEXT_TIME)["hint"]["text"] == "How can we do this better next time?"
    assert block(view, row_field(1, "owner"))["element"]["type"] == "users_select"
    assert block(view, row_field(1, "due"))["element"]["type"] == "datepicker"
    assert block(view, FieldId.LINES)["element"]["type"] == "rich_text_input"
    assert block(view, FieldId.ANONYMOUS)["element"]["type"] == "checkboxes"
    assert "<#CREVIEWS>" in blocks_text(view)


# --- submit → post → owner DMs → reminders at 09:00 local, across a DST change ------------------
async def test_submit_post_dms_and_reminders_at_nine_local_in_two_timezones_across_dst(candor, slack, clock):
    clock.t = utc("2026-03-01T12:00:00")
    ack = await send(
        candor,
        slack,
        {
            **{
                row_field(1, "what"): "add a canary step",
                row_field(1, "owner"): "UBOB",
                row_field(1, "due"): "2026-03-31",
            },
            FieldId.LINES: "<@UDANA> 2026-03-10 fix the alert threshold with <@UCAROL>",
        },
    )
    assert ack["response_action"] == "update"
    number = review_number(candor)
    assert f"Review #{number} is posted in" in blocks_text(ack["view"])
    await candor.settle()
    [post] = slack.delivered_to("CREVIEWS")
    text = blocks_text(post)
    assert f"Failure review #{number}: Checkout errors after Tuesday" in text
    assert "by <@UALICE>" in text and "from <#CTEAM>" in text
    assert "add a canary step — <@UBOB>, due 31 Mar 2026" in text
    assert "fix the alert threshold with @carol — <@UDANA>, due 10 Mar 2026" in text  # a mention by name
    assert "Quality index: 100/100" in text
    [bob] = dms(slack, "UBOB")
    assert "You own an action from the failure review" in bob and "Mark done" in bob
    assert "fix the alert threshold" in dms(slack, "UDANA")[0]

    expected = [
        ("2026-03-08T13:00:00", "UDANA", "due in 2 days (10 Mar 2026)"),  # 09:00 EDT: US DST began that day
        ("2026-03-10T13:00:00", "UDANA", "due today (10 Mar 2026)"),
        (
            "2026-03-29T07:00:00",
            "UBOB",
            "due in 2 days (31 Mar 2026)",
        ),  # 09:00 CEST: Europe's began that night
        ("2026-03-31T07:00:00", "UBOB", "due today (31 Mar 2026)"),
    ]
    for at, owner, says in expected:
        before = len(dms(slack, owner))
        clock.t = utc(at) - 60
        await run_reminders(candor)
        assert len(dms(slack, owner)) == before, at
        clock.t = utc(at)
        await run_reminders(candor)
        assert len(dms(slack, owner)) == before + 1, at
        assert f"Reminder:* an action is {says}" in dms(slack, owner)[-1]
    assert len(slack.delivered_to("UBOB")) == len(slack.delivered_to("UDANA")) == 3


# --- mark done, and the overdue digest ----------------------------------------------------------
async def test_mark_done_edits_the_message_and_the_post_and_the_digest_names_what_is_overdue(
    candor, slack, clock
):
    clock.t = utc("2026-06-03T10:00:00")  # a Wednesday
    status, _ = await candor.command("/review", "channel", user=ADMIN, channel="CREVIEWS")
    assert status == 200
    await send(
        candor,
        slack,
        {FieldId.LINES: "<@UBOB> 2026-06-05 add a canary step\n<@UCAROL> 2026-06-05 fix the alert"},
    )
    await candor.settle()
    [canary, _] = [r[0] for r in candor.db.execute("select id from review_actions order by position")]
    assert await candor.click(ActionId.DONE, str(canary), user="UCAROL", channel="DCAROL") == 200
    [answer] = [c.params for c in slack.calls_to("response_url")]
    assert "Only <@UBOB> (its owner) or a Candor admin" in blocks_text(answer)
    assert await candor.click(ActionId.DONE, str(canary), user="UBOB", channel="DBOB") == 200
    assert (
        await candor.click(ActionId.DONE, str(canary), user="UBOB", channel="DBOB") == 200
    )  # again: harmless
    await candor.settle()
    updates = [blocks_text(c.params) for c in slack.calls_to("chat.update")]
    assert len(updates) == 2  # the DM and the channel post, once each
    assert any("Done:* an action" in u for u in updates)
    assert any("Action items* · 1 of 2 done" in u and "✅ add a canary step" in u for u in updates)
    answers = [blocks_text(c.params) for c in slack.calls_to("response_url")]
    assert "Marked done" in answers[1] and "already done" in answers[2]

    clock.t = utc("2026-06-08T09:00:00")  # Monday 09:00 in the admin's timezone (UTC)
    await jobs.send_digests(candor.app[SERVICES])
    await candor.settle()
    digest = blocks_text(slack.delivered_to("CREVIEWS")[-1])
    assert "Overdue actions from failure reviews (1)" in digest
    assert "fix the alert — <@UCAROL>, due 5 Jun 2026" in digest and "canary" not in digest
    await jobs.send_digests(candor.app[SERVICES])
    await candor.settle()
    assert sum("Overdue actions" in blocks_text(p) for p in slack.delivered_to("CREVIEWS")) == 1


# --- the gentle blame check, more rows: the modal becomes the next step -------------------------
async def test_the_blame_check_updates_the_modal_and_a_second_publish_goes_through(candor, slack):
    view = await open_form(candor, slack)
    ack = await candor.submit(
        view, {**GOOD, Section.FACTORS: "Bob was careless; the pipeline has no canary."}
    )
    assert ack["response_action"] == "update"
    again = ack["view"]
    assert "A gentle check before this is published" in blocks_text(again) and "careless" in blocks_text(
        again
    )
    assert (
        block(again, Section.FACTORS)["element"]["initial_value"]
        == "Bob was careless; the pipeline has no canary."
    )
    assert candor.count("reviews") == 0
    ack = await candor.submit({**again, "id": "V1"}, {})
    assert "Published." in blocks_text(ack["view"])
    await candor.settle()
    assert len(slack.delivered_to("CREVIEWS")) == 1


async def test_more_rows_update_the_modal_keeping_what_was_typed(candor, slack):
    view = await open_form(candor, slack)
    ack = await candor.submit(
        view,
        {Section.TITLE: "Kept", FieldId.LINES: "<@UBOB> 2026-12-15 kept too", FieldId.MORE_ROWS: ["yes"]},
    )
    more = ack["view"]
    assert block(more, row_field(6, "owner"))["element"]["type"] == "users_select"
    assert block(more, Section.TITLE)["element"]["initial_value"] == "Kept"
    lines = block(more, FieldId.LINES)["element"]["initial_value"]
    assert [e for s in lines["elements"] for e in s["elements"] if e["type"] == "user"] == [
        {"type": "user", "user_id": "UBOB"}
    ]
    assert candor.count("reviews") == 0


# --- bad input: response_action errors, nothing stored ------------------------------------------
@pytest.mark.parametrize(
    ("answers", "errors"),
    [
        ({Section.HAPPENED: ""}, {Section.HAPPENED: "What happened cannot be empty."}),
        (
            {Section.IMPACT: "x" * 3001},
            {Section.IMPACT: "Impact is 3,001 characters; keep it to 3,000 characters."},
        ),
        (
            {row_field(1, "what"): "a", row_field(1, "owner"): "UHELPER", row_field(1, "due"): "2030-01-01"},
            {row_field(1, "owner"): "Bots cannot own an action: pick the person who will do it."},
        ),
        (
            {row_field(1, "what"): "a", row_field(1, "owner"): "UBOB", row_field(1, "due"): "2020-01-01"},
            {row_field(1, "due"): "2020-01-01 has passed. Pick today or a later date."},
        ),
        (
            {FieldId.LINES: "@bob 2026-12-15 typed, not picked"},
            {
                FieldId.LINES: "Line 1: @bob is not someone I can find. Type @ and pick the person from the "
                "list, or use an action row above."
            },
        ),
        (
            {FieldId.LINES: "<@UBOB> tomorrow add a canary"},
            {
                FieldId.LINES: "Line 1: after the owner, write the due date as YYYY-MM-DD, e.g. @sam 2026-12-15 add a canary step"
            },
        ),
    ],
)
async def test_bad_input_is_answered_in_the_modal_and_nothing_is_stored(
    candor, slack, clock, answers, errors
):
    clock.t = utc("2026-06-10T08:00:00")
    view = await open_form(candor, slack)
    before = [candor.count(t) for t in ("reviews", "review_actions", "outbox")]
    ack = await candor.submit(view, {**GOOD, **answers})
    assert ack == {"response_action": "errors", "errors": {str(k): v for k, v in errors.items()}}
    assert [candor.count(t) for t in ("reviews", "review_actions", "outbox")] == before


async def test_markup_in_a_review_notifies_no_one_and_a_replayed_submission_is_ignored(candor, slack):
    view = await open_form(candor, slack)
    answers = {**GOOD, Section.IMPACT: "<!channel> and <@UBOB> saw it *first*"}
    await candor.submit(view, answers, trigger_id="trig.same")
    await candor.submit(view, answers, trigger_id="trig.same")  # Slack sent it again
    await candor.settle()
    assert candor.count("reviews") == 1
    [post] = slack.delivered_to("CREVIEWS")
    sent = json.dumps(post)
    assert "&lt;!channel&gt;" in sent and "<!channel>" not in sent and "<@UBOB>" not in sent


# --- restart with due reminders: each sent once -------------------------------------------------
async def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("not within the time")
        await asyncio.sleep(0.02)


async def test_after_a_restart_due_reminders_are_each_sent_once(tmp_path, clock, slack):
    settings = make_settings(
        tmp_path / "r.db", slack.url, reviews_channel="CREVIEWS", speakup_delay_s=(0.0, 0.0)
    )
    clock.t = utc("2026-06-10T08:00:00")
    first = await Candor(settings, clock, slack).start()
    try:
        await send(
            first,
            slack,
            {FieldId.LINES: "<@UBOB> 2026-06-15 add a canary step\n<@UDANA> 2026-06-15 fix the alert"},
        )
        await first.settle()
    finally:
        await first.stop()
    # Down over the "2 days before" reminders (13 June, 09:00 local) of both owners.
    clock.t = utc("2026-06-13T18:00:00")
    second = await Candor(settings, clock, slack).start()
    try:  # the first run at start-up catches up
        await wait_for(lambda: len(slack.delivered_to("UBOB")) == 2 and len(slack.delivered_to("UDANA")) == 2)
        await second.settle()
    finally:
        await second.stop()
    third = await Candor(settings, clock, slack).start()
    try:
        await asyncio.sleep(0.2)
        assert await jobs.send_reminders(third.app[SERVICES]) == 0
        await third.settle()
    finally:
        await third.stop()
    assert ["due in 2 days" in blocks_text(p) for p in slack.delivered_to("UBOB")] == [False, True]
    assert len(slack.delivered_to("UDANA")) == 2
