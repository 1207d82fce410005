"""Check-ins as a Slack user meets them: the form, the prompt, answers in the thread, a reminder."""

from __future__ import annotations

import pytest
from slack_sdk.models.views import View

from bot.server import SERVICES
from handlers.checkins import flows
from handlers.checkins.ids import CheckinAction
from tests.support.candor import blocks_text


async def open_checkin_form(candor, slack, user="UALICE"):
    status, reply = await candor.command("/checkin", "", user=user)
    assert status == 200 and reply == {}
    view = slack.opened_views()[-1]
    assert View(**view).to_dict()["callback_id"] == "checkin_create"  # Slack's own model accepts it
    return view


async def create(candor, slack, user="UALICE", **answers):
    view = await open_checkin_form(candor, slack, user)
    return await candor.submit(view, answers, user=user)


async def test_the_form_defaults_to_this_channel_and_the_creators_timezone(candor, slack):
    view = await open_checkin_form(candor, slack)
    fields = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert fields["channel"]["initial_conversation"] == "CTEAM"
    assert fields["tz"]["initial_value"] == "Europe/Berlin"
    assert [o["value"] for o in fields["template"]["options"]] == [
        "weekly",
        "retro",
        "expectations",
        "custom",
    ]
    assert [o["value"] for o in fields["days"]["options"]] == [
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
    ]


async def test_creating_a_check_in_confirms_in_the_modal_and_stores_the_schedule(candor, slack):
    ack = await create(candor, slack, days=["mon", "thu"], time="09:30", template="retro", remind=["yes"])
    assert ack["response_action"] == "update"
    assert "Check-in #1 is scheduled: Mon, Thu at 09:30 (Europe/Berlin)" in blocks_text(ack["view"])
    assert "<#CTEAM>" in blocks_text(ack["view"])
    row = candor.db["schedules"].get(1)
    assert (row["kind"], row["conversation"], row["days"], row["at"], row["tz"]) == (
        "checkin",
        "CTEAM",
        "mon,thu",
        "09:30",
        "Europe/Berlin",
    )
    assert (row["template"], row["remind"], row["owner"]) == ("retro", 1, "UALICE")
    assert candor.app[SERVICES].store.db["schedules"].count == 1


BAD_FORMS = [
    ({"tz": "Mars/Olympus_Mons"}, "tz", "not a timezone I know"),
    ({"tz": ""}, "tz", "not a timezone I know"),
    ({"time": "25:00"}, "time", "not a time of day"),
    ({"time": "9.30"}, "time", "HH:MM"),
    ({"time": None}, "time", "HH:MM"),
    ({"days": []}, "days", "at least one day"),
    ({"template": "custom", "custom": ""}, "custom", "Write your prompt"),
    ({"template": "custom", "custom": "x" * 501}, "custom", "500 characters"),
    ({"template": "no-such"}, "template", "Pick one of the prompts"),
    ({"skip": "tomorrow"}, "skip", "not a date"),
    ({"channel": None}, "channel", "Pick a channel"),
    ({"channel": "CELSEWHERE"}, "channel", "/invite @candor"),
]


@pytest.mark.parametrize(("answers", "field", "expected"), BAD_FORMS)
async def test_bad_input_is_answered_in_the_form_and_nothing_is_stored(
    candor, slack, answers, field, expected
):
    slack.outside.add("CELSEWHERE")
    await create(candor, slack, days=["mon"])  # one that must survive
    ack = await create(candor, slack, **answers)
    assert ack["response_action"] == "errors"
    assert expected in ack["errors"][field]
    assert candor.count("schedules") == 1


@pytest.mark.parametrize("settings_overrides", [{"max_schedules_per_channel": 2}])
async def test_too_many_schedules_in_one_channel(candor, slack):
    for _ in range(2):
        assert (await create(candor, slack))["response_action"] == "update"
    ack = await create(candor, slack)
    assert ack["response_action"] == "errors"
    assert "already has 2 schedules, the limit" in ack["errors"]["channel"]
    assert candor.count("schedules") == 2


async def respond(candor, slack, run_id, answers, user):
    assert await candor.click(CheckinAction.RESPOND, str(run_id), user=user) == 200
    view = slack.opened_views()[-1]
    assert view["callback_id"] == "checkin_response"
    return await candor.submit(view, answers, user=user), view


async def test_prompt_answers_in_thread_and_one_reminder_to_those_who_did_not_answer(candor, slack, clock):
    slack.members["CTEAM"] = ["UALICE", "UBOB", "UCAROL", "UHELPER"]
    await create(candor, slack, template="weekly", remind=["yes"])
    _status, reply = await candor.command("/checkin", "run 1")
    assert "fired now" in blocks_text(reply)
    await candor.settle()
    [prompt] = slack.delivered_to("CTEAM")
    assert "Weekly team check-in" in blocks_text(prompt)
    assert "/speakup" in blocks_text(prompt)
    [button] = [e for b in prompt["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert button["action_id"] == "checkin_respond"
    run = candor.db["checkin_runs"].get(1)
    assert button["value"] == f"1:{int(run['occurrence'])}"  # the run and its moment
    ref = button["value"]

    ack, view = await respond(candor, slack, ref, {"q0": "shipped the migration", "q1": ""}, "UALICE")
    assert ack["response_action"] == "update"
    assert "What went well this week?" in [b["label"]["text"] for b in view["blocks"]]
    await candor.settle()
    answer = slack.delivered_to("CTEAM")[-1]
    prompt_row = next(
        r for r in candor.outbox() if r["id"] == candor.db["checkin_runs"].get(1)["prompt_outbox"]
    )
    assert answer["thread_ts"] == prompt_row["sent_ref"] and answer["thread_ts"]
    assert "Answers from <@UALICE>" in blocks_text(answer)
    assert "shipped the migration" in blocks_text(answer)
    assert "What is in the way?" not in blocks_text(answer)  # unanswered questions are left out

    # An empty response is refused in the form.
    ack, _ = await respond(candor, slack, ref, {}, "UBOB")
    assert ack["response_action"] == "errors" and "at least one" in ack["errors"]["q0"]

    run = candor.db["checkin_runs"].get(1)
    # Measured from when the prompt fired, not from now: delivering posts moves the test clock.
    assert run["reminder_due_at"] >= run["created_at"] + 4 * 3600
    assert await flows.send_due_reminders(candor.app[SERVICES]) == 0  # not due yet
    clock.t = run["reminder_due_at"] + 1
    assert await flows.send_due_reminders(candor.app[SERVICES]) == 2
    await candor.settle()
    reminded = {p["channel"] for p in slack.delivered() if "gentle reminder" in blocks_text(p)}
    assert reminded == {"UBOB", "UCAROL"}  # not the one who answered, not the bot
    clock.advance(3600)
    assert await flows.send_due_reminders(candor.app[SERVICES]) == 0  # once per check-in


async def test_a_respond_button_from_a_deleted_check_in_does_not_open_a_newer_one(candor, slack):
    await create(candor, slack, template="retro")
    await candor.command("/checkin", "run 1")
    old_ref = flows.run_ref(1, candor.db["checkin_runs"].get(1)["occurrence"])
    await candor.command("/checkin", "delete 1")
    candor.clock.advance(5)
    await create(candor, slack, template="weekly")  # SQLite may hand out id 1 again
    await candor.command(
        "/checkin", f"run {candor.db.execute('select max(id) from schedules').fetchone()[0]}"
    )
    views_before = len(slack.opened_views())
    assert await candor.click(CheckinAction.RESPOND, old_ref) == 200
    assert len(slack.opened_views()) == views_before
    said = slack.calls_to("response_url")[-1].params
    assert "closed or was deleted" in blocks_text(said)


async def test_only_members_of_a_channel_or_admins_schedule_in_it(candor, slack):
    slack.members["CTEAM"] = ["UBOB"]
    ack = await create(candor, slack)  # alice is not in #team
    assert ack["response_action"] == "errors" and "a channel you are a member of" in ack["errors"]["channel"]
    assert candor.count("schedules") == 0
    slack.add_user("UADMIN", "ada", is_admin=True)
    ack = await create(candor, slack, user="UADMIN")
    assert ack["response_action"] == "update"


async def test_custom_prompts_and_answers_are_escaped(candor, slack):
    await create(candor, slack, template="custom", custom="<!channel> & <@UBOB> what blocks you?")
    await candor.command("/checkin", "run 1")
    await candor.settle()
    prompt = slack.delivered_to("CTEAM")[-1]
    text = blocks_text(prompt)
    assert "&lt;!channel&gt; &amp; &lt;@UBOB&gt;" in text and "<!channel>" not in text
    ref = next(e["value"] for b in prompt["blocks"] if b["type"] == "actions" for e in b["elements"])
    _ack, _ = await respond(candor, slack, ref, {"q0": "<!here> the <#C1> build"}, "UBOB")
    await candor.settle()
    answer = blocks_text(slack.delivered_to("CTEAM")[-1])
    assert "&lt;!here&gt; the &lt;#C1&gt; build" in answer and "<!here>" not in answer


async def test_a_slow_directory_still_opens_the_form_with_utc_as_the_default(candor, slack):
    slack.delays["users.info"] = 1.5  # longer than the form's lookup budget
    view = await open_checkin_form(candor, slack)
    fields = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert fields["tz"]["initial_value"] == "UTC"
