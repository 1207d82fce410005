"""Failure review actions on their owner's home: `candor me` through the neutral harness, and Slack's
Home tab end to end (app_home_opened, views.publish on the fake Slack API, a Mark done pressed on
the Home). Teams' `candor me` is in tests/test_reviews_teams.py.

Every clock starts at a fixed instant: the due dates, "today" and "overdue" are known by hand.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.messages import Actions, Button, Reply
from handlers import anonymity
from handlers.reviews.home import SHOWN, TITLE
from handlers.reviews.ids import ActionId, FieldId, row_field
from tests.support.candor import TEAM, blocks_text
from tests.support.harness import Harness, text_of
from tests.test_escaping import all_text_objects, assert_no_injection
from tests.test_reviews_rules import GOOD, action_ids, due, review_id, reviews_harness, row, shown, write
from tests.test_reviews_slack import send

NOW = datetime(2026, 6, 10, 8, 0, tzinfo=UTC).timestamp()  # a Wednesday
TITLE_OF = GOOD["title"]


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@pytest.fixture
async def h(tmp_path):
    harness = reviews_harness(tmp_path)
    harness.clock.t = NOW
    await harness.command("review", "help")  # the first command applies CANDOR_REVIEWS_CHANNEL
    yield harness
    harness.close()


async def me(h: Harness, user: str) -> Reply:
    return await h.command("candor", "me", user=user)


def reviews_part(reply: Reply) -> list[str]:
    """The lines of the reviews section of a home, as a terminal shows them."""
    lines = text_of(reply).splitlines()
    start = lines.index(TITLE) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("Your ")), len(lines))
    return lines[start:end]


def home_buttons(reply: Reply) -> list[Button]:
    return [b for block in reply.message.blocks if isinstance(block, Actions) for b in block.buttons]


# --- candor me ----------------------------------------------------------------------------------
async def test_the_owner_sees_their_open_actions_soonest_first_with_mark_done(h):
    assert reviews_part(await me(h, "bob")) == ["None open."]
    reply = await write(
        h,
        **row(1, "add a canary step", "bob", due(h, 30)),
        **row(2, "fix the alert", "carol", due(h, 9)),
        **row(3, "tidy the dashboards", "bob", due(h, 2)),
    )
    assert text_of(reply).startswith("Published."), text_of(reply)
    canary, alert, tidy = action_ids(h)
    number = review_id(h)

    bob = await me(h, "bob")
    assert reviews_part(bob) == [
        f"☐ tidy the dashboards · due {shown(due(h, 2))} · review #{number} {TITLE_OF}",
        "[Mark done]",
        f"☐ add a canary step · due {shown(due(h, 30))} · review #{number} {TITLE_OF}",
        "[Mark done]",
    ]
    # The very button the owner's message has: the same action id, the action's id as its value.
    assert home_buttons(bob) == [
        Button("Mark done", ActionId.DONE, str(tidy), "primary"),
        Button("Mark done", ActionId.DONE, str(canary), "primary"),
    ]
    # Someone else's home lists only their own; the author's (who owns none) lists nothing.
    carol = await me(h, "carol")
    assert reviews_part(carol) == [
        f"☐ fix the alert · due {shown(due(h, 9))} · review #{number} {TITLE_OF}",
        "[Mark done]",
    ]
    assert home_buttons(carol) == [Button("Mark done", ActionId.DONE, str(alert), "primary")]
    assert reviews_part(await me(h, "alice")) == ["None open."]

    # Pressed on the home: the one flow, its answer, and the next home no longer lists it.
    [first, _] = home_buttons(bob)
    pressed = await h.click(first.action_id, first.value, user="bob", channel="")
    assert text_of(pressed) == "✅ Marked done: tidy the dashboards. Thank you for following through."
    assert "✅ add a canary step" not in dict(h.posts())["#reviews"]  # the post says which one is done
    assert "✅ tidy the dashboards — @bob" in dict(h.posts())["#reviews"]
    bob = await me(h, "bob")
    assert [line for line in reviews_part(bob) if "☐" in line] == [
        f"☐ add a canary step · due {shown(due(h, 30))} · review #{number} {TITLE_OF}"
    ]
    assert [b.value for b in home_buttons(bob)] == [str(canary)]
    await h.click(ActionId.DONE, str(canary), user="bob")  # from the message: the home follows
    assert reviews_part(await me(h, "bob")) == ["None open."]
    assert "fix the alert" in text_of(await me(h, "carol"))


async def test_due_today_and_overdue_are_judged_on_the_owners_own_calendar(h):
    # Dana is in New York: her 12 June ends at 04:00 UTC on the 13th.
    await write(h, **row(1, "fix the alert", "dana", "2026-06-12"))
    line = "☐ fix the alert · due 12 Jun 2026"
    assert reviews_part(await me(h, "dana"))[0].startswith(line + " · review #")

    h.clock.t = utc("2026-06-12T04:30:00")  # 00:30 on the 12th in New York
    assert reviews_part(await me(h, "dana"))[0].startswith(line + " (today) · review #")
    h.clock.t = utc("2026-06-13T02:00:00")  # the 13th in UTC, still the 12th in New York
    assert reviews_part(await me(h, "dana"))[0].startswith(line + " (today) · review #")
    h.clock.t = utc("2026-06-13T04:00:00")  # midnight in New York: now it is late
    assert reviews_part(await me(h, "dana"))[0].startswith(line + " (overdue) · review #")


async def test_at_most_a_few_are_listed_then_how_many_more(h):
    rows = (
        row(1, "step 1", "bob", due(h, 3))
        | row(2, "step 2", "bob", due(h, 4))
        | row(3, "step 3", "bob", due(h, 5))
    )
    lines = "\n".join(f"@bob {due(h, 5 + n)} step {3 + n}" for n in range(1, 5))
    assert text_of(await write(h, **rows, **{FieldId.LINES: lines})).startswith("Published.")
    bob = await me(h, "bob")
    listed = [line for line in reviews_part(bob) if line.startswith("☐")]
    assert [line.split(" · ")[0] for line in listed] == [f"☐ step {n}" for n in range(1, SHOWN + 1)]
    assert reviews_part(bob)[-1] == f"…and {7 - SHOWN} more, due later."
    assert len(home_buttons(bob)) == SHOWN  # a button for each action listed, none for the count


async def test_no_line_names_an_author_and_an_anonymous_reviews_actions_wait_for_its_batch(tmp_path):
    h = reviews_harness(tmp_path, speakup_delay_s=(300.0, 600.0))
    try:
        h.clock.t = NOW
        await h.command("review", "help")
        named = await write(h, **row(1, "add a canary step", "bob", due(h, 30)))
        assert text_of(named).startswith("Published.")
        anonymous = await write(
            h, **row(1, "fix the alert", "bob", due(h, 9)), **{FieldId.ANONYMOUS: ["yes"]}
        )
        assert "Your case code" in text_of(anonymous)

        # Not posted yet: nothing on the owner's home hints that a review is on its way.
        waiting = [line for line in reviews_part(await me(h, "bob")) if "☐" in line]
        assert len(waiting) == 1 and waiting[0].startswith("☐ add a canary step")
        h.clock.advance(600 + anonymity.BATCH_EVERY_S + 1)
        await h.run_jobs()
        bob = text_of(await me(h, "bob"))
        assert "☐ fix the alert" in bob and "☐ add a canary step" in bob
        assert "alice" not in bob  # neither the named review's author nor the hidden one
        [(author,)] = h.store.db.execute("select author from reviews where anonymous = 1").fetchall()
        assert author is None
    finally:
        h.close()


# --- Slack's Home tab ---------------------------------------------------------------------------
@pytest.fixture
def settings_overrides():
    return {"reviews_channel": "CREVIEWS", "speakup_delay_s": (0.0, 0.0)}


def published_view(slack, user: str) -> dict[str, Any]:
    call = slack.calls_to("views.publish")[-1]
    assert call.params["user_id"] == user
    view = call.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["type"] == "home"
    return view


async def open_home(candor, slack, user: str, event_id: str) -> dict[str, Any]:
    event = {"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": "home"}
    assert await candor.event(event, event_id=event_id) == 200
    return published_view(slack, user)


def mark_done_buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        element
        for block in view["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == ActionId.DONE
    ]


async def press_on_home(candor, view: dict[str, Any], button: dict[str, Any], user: str) -> int:
    """A button pressed on the Home tab, as Slack sends it: the view it is on, no channel and no
    response_url."""
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM},
        "user": {"id": user, "team_id": TEAM},
        "api_app_id": "A1",
        "trigger_id": f"trig.home.{button['value']}",
        "container": {"type": "view", "view_id": "VHOME"},
        "view": {**view, "id": "VHOME", "team_id": TEAM},
        "actions": [
            {"type": "button", "action_id": button["action_id"], "value": button["value"], "block_id": "b"}
        ],
    }
    status, _ = await candor.interactive(payload)
    return status


def slack_day(clock, days: int) -> str:
    return datetime.fromtimestamp(clock.now() + days * 86400, UTC).date().isoformat()


async def test_the_home_tab_lists_the_owners_actions_and_mark_done_there_removes_it(candor, slack, clock):
    clock.t = NOW
    await send(
        candor,
        slack,
        {
            FieldId.LINES: (
                f"<@UBOB> {slack_day(clock, 30)} add a canary step\n<@UCAROL> {slack_day(clock, 9)} fix the alert"
            )
        },
    )
    await candor.settle()
    [(canary,)] = candor.db.execute("select id from review_actions where owner = 'UBOB'").fetchall()
    [(number,)] = candor.db.execute("select id from reviews").fetchall()

    bob = await open_home(candor, slack, "UBOB", "Ev1")
    text = blocks_text({"blocks": bob["blocks"]})
    assert f"☐ add a canary step · due {shown(slack_day(clock, 30))} · review #{number} *{TITLE_OF}*" in text
    assert "fix the alert" not in text
    [button] = mark_done_buttons(bob)
    assert button["value"] == str(canary) and button["text"]["text"] == "Mark done"

    carol = await open_home(candor, slack, "UCAROL", "Ev2")
    assert "fix the alert" in blocks_text({"blocks": carol["blocks"]})
    assert "add a canary step" not in blocks_text({"blocks": carol["blocks"]})

    # Pressed on the Home: the action is done, and the Home is published again without it.
    published = len(slack.calls_to("views.publish"))
    assert await press_on_home(candor, bob, button, "UBOB") == 200
    [(done_at, done_by)] = candor.db.execute(
        "select done_at, done_by from review_actions where id = ?", [canary]
    ).fetchall()
    assert done_at is not None and done_by == "UBOB"
    assert len(slack.calls_to("views.publish")) == published + 1
    again = published_view(slack, "UBOB")
    assert "add a canary step" not in blocks_text({"blocks": again["blocks"]})
    assert mark_done_buttons(again) == []
    await candor.settle()
    updates = [blocks_text(c.params) for c in slack.calls_to("chat.update")]  # the same flow as the DM's
    assert any("Done:* an action" in u for u in updates) and any("✅ add a canary step" in u for u in updates)
    assert slack.calls_to("response_url") == []  # the Home has none: nothing was sent elsewhere

    reopened = await open_home(candor, slack, "UBOB", "Ev3")  # and on the next render too
    assert "add a canary step" not in blocks_text({"blocks": reopened["blocks"]})
    assert "fix the alert" in blocks_text(
        {"blocks": (await open_home(candor, slack, "UCAROL", "Ev4"))["blocks"]}
    )


async def test_hostile_text_in_an_action_and_its_title_is_escaped_on_the_home_tab(candor, slack, clock):
    clock.t = NOW
    hostile = "<!channel> ping <@U123> & R&D"
    await send(
        candor,
        slack,
        {
            "title": "R&D <!here> outage",
            row_field(1, "what"): hostile,  # typed text: no person is marked in it
            row_field(1, "owner"): "UBOB",
            row_field(1, "due"): slack_day(clock, 30),
        },
    )
    view = await open_home(candor, slack, "UBOB", "Ev1")
    for node in all_text_objects(view["blocks"]):
        assert_no_injection(node["text"])
    text = blocks_text({"blocks": view["blocks"]})
    assert "☐ &lt;!channel&gt; ping &lt;@U123&gt; &amp; R&amp;D · due " in text
    assert "*R&amp;D &lt;!here&gt; outage*" in text
