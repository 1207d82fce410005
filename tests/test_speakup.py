"""Anonymous speak-up in Slack: submit, delayed publication, replies, the author's view, limits."""

from __future__ import annotations

import asyncio

import pytest

from bot.server import SERVICES
from handlers import speakup
from tests.support.candor import Candor, blocks_text, make_settings

AUTHOR = "UAUTHOR"
MANAGER = "UADMIN"


@pytest.fixture
def settings_overrides():
    return {"speakup_channels": frozenset({"CCONCERNS"}), "speakup_delay_s": (300.0, 1800.0)}


@pytest.fixture(autouse=True)
def people(slack):
    slack.add_user(AUTHOR, "quinn.author", real_name="Quinn Author", is_admin=False)
    slack.add_user(MANAGER, "mara.manager", is_admin=True)


async def open_new_form(candor, slack, user=AUTHOR):
    status, reply = await candor.command("/speakup", "", user=user)
    assert status == 200 and reply == {}, blocks_text(reply)
    return slack.opened_views()[-1]


async def raise_concern(candor, slack, concern="Release dates are set before anyone estimates.", **more):
    view = await open_new_form(candor, slack)
    keys_before = len(slack.delivered_to(AUTHOR))
    ack = await candor.submit(view, {"concern": concern, **more}, user=AUTHOR)
    if ack.get("response_action") == "update":  # the key arrives by DM just after the answer
        for _ in range(500):
            if len(slack.delivered_to(AUTHOR)) > keys_before:
                break
            await asyncio.sleep(0.01)
    return ack


def code_from(ack) -> str:
    text = blocks_text(ack["view"])
    return text.split("Your case code: *")[1].split("*")[0]


async def publish(candor, clock):
    clock.advance(1801 + speakup.PUBLISH_EVERY_S)  # past the longest delay and its batch boundary
    speakup.publish_due(candor.app[SERVICES])  # what the minute job does
    await candor.settle()


async def test_the_form_says_what_is_kept_and_lists_enabled_channels(candor, slack):
    view = await open_new_form(candor, slack)
    text = blocks_text(view)
    assert "What Candor keeps" in text and "does not keep: who you are" in text
    channel = next(b for b in view["blocks"] if b.get("block_id") == "channel")["element"]
    assert [o["value"] for o in channel["options"]] == ["CCONCERNS"]
    concern = next(b for b in view["blocks"] if b.get("block_id") == "concern")["element"]
    assert concern["max_length"] == 3000 and concern["multiline"] is True


async def test_full_flow_submit_publish_reply_view_follow_up_resolve_hide(candor, slack, clock):
    ack = await raise_concern(candor, slack, wants="Ask the team before dates go out.")
    assert ack["response_action"] == "update"
    code = code_from(ack)
    assert len(code.replace("-", "")) == 32  # 160 random bits in base32
    [dm] = slack.delivered_to(AUTHOR)
    assert code in blocks_text(dm)
    [button] = [e for b in dm["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert (button["action_id"], button["value"]) == (speakup.VIEW, code)

    # Nothing in the channel, nor even queued, yet: publication waits a random 5 to 30 minutes,
    # then the next 5-minute boundary, when the batch is released together.
    await candor.settle()
    assert slack.delivered_to("CCONCERNS") == [] and candor.count("outbox") == 0  # the DM skips the queue
    publish_at = candor.db["concerns"].get(1)["publish_at"]
    assert publish_at % speakup.PUBLISH_EVERY_S == 0
    assert 300 <= publish_at - clock.now() <= 1800 + speakup.PUBLISH_EVERY_S
    await publish(candor, clock)
    row = next(r for r in candor.outbox() if r["conversation"] == "CCONCERNS")
    assert row["created_at"] % speakup.PUBLISH_EVERY_S == 0
    [post] = slack.delivered_to("CCONCERNS")
    text = blocks_text(post)
    assert "A concern was raised anonymously" in text and "Release dates are set" in text
    assert "Ask the team before dates go out." in text
    assert "case #1" in text and "Raised on" in text
    assert [e["action_id"] for b in post["blocks"] if b["type"] == "actions" for e in b["elements"]] == [
        speakup.REPLY,
        speakup.ACK,
        speakup.RESOLVE,
        speakup.HIDE,
    ]

    # A manager replies in the thread under their own name, and acknowledges.
    assert await candor.click(speakup.REPLY, "1", user=MANAGER, channel="CCONCERNS") == 200
    ack = await candor.submit(
        slack.opened_views()[-1], {"text": "Thank you. We will change how dates are set."}, user=MANAGER
    )
    assert "reply is posted" in blocks_text(ack["view"])
    assert await candor.click(speakup.ACK, "1", user=MANAGER, channel="CCONCERNS") == 200
    await candor.settle()
    thread = [p for p in slack.delivered_to("CCONCERNS") if p.get("thread_ts")]
    assert all(p["thread_ts"] == candor.db["outbox"].get(row["id"])["sent_ref"] for p in thread)
    assert "Reply from* <@UADMIN>" in blocks_text(thread[0]) or "Reply from <@UADMIN>" in blocks_text(
        thread[0]
    ).replace("*", "")
    assert candor.db["concerns"].get(1)["status"] == "acknowledged"
    edited = slack.calls_to("chat.update")[-1].params
    assert "acknowledged" in blocks_text(edited)

    # The author opens the case from their DM: status and replies, and adds a follow-up.
    assert await candor.click(speakup.VIEW, code, user=AUTHOR, channel="DAUTHOR") == 200
    case = slack.opened_views()[-1]
    shown = blocks_text(case)
    assert "Status: acknowledged" in shown and "We will change how dates are set." in shown
    ack = await candor.submit(case, {"followup": "It happened again this sprint."}, user=AUTHOR)
    assert "appear in the case's thread after a short delay" in blocks_text(ack["view"])
    await candor.settle()
    assert not any("It happened again" in blocks_text(p) for p in slack.delivered())  # delayed too
    await publish(candor, clock)
    follow_up = [p for p in slack.delivered_to("CCONCERNS") if "It happened again" in blocks_text(p)]
    assert len(follow_up) == 1 and "Author:" in blocks_text(follow_up[0]) and follow_up[0]["thread_ts"]

    # /speakup status <code> shows the same case; the code may be typed loosely.
    _status, reply = await candor.command("/speakup", f"status {code.lower().replace('-', ' ')}", user=AUTHOR)
    assert reply == {} and "It happened again this sprint." in blocks_text(slack.opened_views()[-1])

    # Resolve with a note, then hide with a reason: the channel message is replaced.
    assert await candor.click(speakup.RESOLVE, "1", user=MANAGER, channel="CCONCERNS") == 200
    await candor.submit(
        slack.opened_views()[-1], {"text": "Dates now come from the team's estimate."}, user=MANAGER
    )
    assert await candor.click(speakup.HIDE, "1", user=MANAGER, channel="CCONCERNS") == 200
    await candor.submit(slack.opened_views()[-1], {"text": "Names a colleague"}, user=MANAGER)
    await candor.settle()
    last_edit = blocks_text(slack.calls_to("chat.update")[-1].params)
    assert "hidden by a moderator: Names a colleague" in last_edit and "Release dates" not in last_edit
    assert candor.db["concerns"].get(1)["status"] == "resolved"
    # The author is told when they look.
    await candor.click(speakup.VIEW, code, user=AUTHOR, channel="DAUTHOR")
    assert "Hidden by a moderator: Names a colleague" in blocks_text(slack.opened_views()[-1])


async def test_only_admins_acknowledge_resolve_or_hide(candor, slack, clock):
    await raise_concern(candor, slack)
    await publish(candor, clock)
    for action in (speakup.ACK, speakup.RESOLVE, speakup.HIDE):
        assert await candor.click(action, "1", user="UBOB", channel="CCONCERNS") == 200
        said = slack.calls_to("response_url")[-1].params
        assert said["response_type"] == "ephemeral" and "Only Candor admins" in blocks_text(said)
    assert candor.db["concerns"].get(1)["status"] == "open"


async def test_a_pending_publication_survives_a_restart_and_is_published_once(tmp_path, clock, slack):
    settings = make_settings(
        tmp_path / "s.db",
        slack.url,
        speakup_channels=frozenset({"CCONCERNS"}),
        speakup_delay_s=(300.0, 1800.0),
    )
    first = await Candor(settings, clock, slack).start()
    await raise_concern(first, slack)
    await first.stop()
    clock.advance(3600)
    second = await Candor(settings, clock, slack).start()
    try:
        await second.settle()
        await asyncio.sleep(0.1)
        assert len(slack.delivered_to("CCONCERNS")) == 1
    finally:
        await second.stop()


async def test_three_concerns_a_day_per_person(candor, slack, clock):
    for n in range(3):
        assert (await raise_concern(candor, slack, concern=f"Concern number {n}"))[
            "response_action"
        ] == "update"
    ack = await raise_concern(candor, slack, concern="A fourth one")
    assert ack["response_action"] == "errors" and "3 concerns a day" in ack["errors"]["concern"]
    assert candor.count("concerns") == 3
    clock.advance(86401)
    assert (await raise_concern(candor, slack, concern="The next day"))["response_action"] == "update"


async def test_a_wrong_code_gets_one_uniform_answer_and_guessing_is_limited(candor, slack):
    ack = await raise_concern(candor, slack)
    real = code_from(ack)
    answers = set()
    for guess in (
        "",
        "nonsense",
        "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA",
        real[:-1] + ("A" if real[-1] != "A" else "B"),
    ):
        _, reply = await candor.command("/speakup", f"status {guess}", user="UBOB")
        answers.add(blocks_text(reply))
    assert len(answers) == 1 and speakup.NO_CASE in answers.pop()
    for _ in range(10):
        await candor.command("/speakup", "status AAAA", user="UBOB")
    _, reply = await candor.command("/speakup", f"status {real}", user="UBOB")
    assert "Too many codes tried" in blocks_text(reply)  # even the right code, once limited
    _, reply = await candor.command("/speakup", f"status {real}", user=AUTHOR)
    assert reply == {}  # others are not affected


BAD_FIELDS = [
    ({"concern": ""}, "concern", "cannot be empty"),
    ({"concern": "   \n\t  "}, "concern", "cannot be empty"),
    ({"concern": "x" * 3001}, "concern", "3,001 characters; keep it to 3,000"),
    ({"concern": "y" * 100_000}, "concern", "keep it to 3,000"),
    # The text rule every practice shares (handlers/text.py): invisible characters are dropped,
    # nothing visible left is empty, a lone surrogate cannot be stored. @here is accepted.
    ({"concern": "\x07\x00 \u202e\u200f\u200b"}, "concern", "cannot be empty"),
    ({"concern": "\u200d"}, "concern", "cannot be empty"),
    ({"concern": "half an emoji \ud83d here"}, "concern", "broken character"),
    ({"wants": "z" * 1001}, "wants", "keep it to 1,000"),
    ({"wants": "\udc00"}, "wants", "broken character"),
    ({"channel": "CNOTENABLED"}, "channel", "Pick one of the channels"),
    ({"channel": None}, "channel", "Pick one of the channels"),
]


@pytest.mark.parametrize(("answers", "field", "expected"), BAD_FIELDS)
async def test_bad_input_is_answered_in_the_modal_and_nothing_is_stored(
    candor, slack, answers, field, expected
):
    await raise_concern(candor, slack, concern="One that must survive")
    before = (candor.count("concerns"), candor.count("outbox"), len(slack.delivered_to(AUTHOR)))
    view = await open_new_form(candor, slack)
    ack = await candor.submit(view, {"concern": "A valid concern", **answers}, user=AUTHOR)
    assert ack["response_action"] == "errors"
    assert expected in ack["errors"][field]
    assert (candor.count("concerns"), candor.count("outbox"), len(slack.delivered_to(AUTHOR))) == before
    assert candor.db["concerns"].get(1)["body"] == "One that must survive"


async def test_user_mentions_and_markup_in_a_concern_are_shown_as_text(candor, slack, clock):
    await raise_concern(candor, slack, concern="<@UBOB> & <https://x.example|click> *bold*")
    await publish(candor, clock)
    text = blocks_text(slack.delivered_to("CCONCERNS")[0])
    assert "&lt;@UBOB&gt; &amp; &lt;https://x.example|click&gt;" in text
    assert "<@UBOB>" not in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bogus", "I don't know /speakup bogus"),
        ("enable", "Only Candor admins"),
        ("stats", "Only Candor admins"),
        ("x" * 5000, "too long"),
    ],
)
async def test_bad_commands(candor, text, expected):
    _, reply = await candor.command("/speakup", text, user="UBOB")
    assert reply["response_type"] == "ephemeral" and expected in blocks_text(reply)


async def test_help_explains_in_plain_words(candor):
    _, reply = await candor.command("/speakup", "help")
    text = blocks_text(reply)
    assert "case code" in text and "cannot message you later" in text and "What Candor keeps" in text


async def test_admins_enable_channels_and_see_counts_only_for_groups_of_k(candor, slack, clock):
    _, reply = await candor.command("/speakup", "enable", user=MANAGER, channel="CSMALL")
    assert "now takes anonymous concerns" in blocks_text(reply)
    for n in range(3):
        await raise_concern(candor, slack, concern=f"big {n}")
    clock.advance(86401)
    for n in range(2):
        await raise_concern(candor, slack, concern=f"big again {n}")
    view = await open_new_form(candor, slack)
    await candor.submit(view, {"channel": "CSMALL", "concern": "small one"}, user="UBOB")
    _, reply = await candor.command("/speakup", "stats", user=MANAGER)
    text = blocks_text(reply)
    assert "<#CCONCERNS>: 5 concerns; 5 open" in text
    assert "<#CSMALL>: fewer than 5 concerns, not shown" in text
    _, reply = await candor.command("/speakup", "disable", user=MANAGER, channel="CSMALL")
    view = await open_new_form(candor, slack)
    channel = next(b for b in view["blocks"] if b.get("block_id") == "channel")["element"]
    assert [o["value"] for o in channel["options"]] == ["CCONCERNS"]


async def test_deadlines_are_flagged_in_the_thread_once_each(candor, slack, clock):
    await raise_concern(candor, slack)
    await publish(candor, clock)
    services = candor.app[__import__("bot.server", fromlist=["SERVICES"]).SERVICES]
    assert speakup.flag_overdue(services) == 0
    clock.advance(7 * 86400)
    assert speakup.flag_overdue(services) == 1
    assert speakup.flag_overdue(services) == 0
    clock.advance(23 * 86400)
    assert speakup.flag_overdue(services) == 1  # no reply in 30 days
    clock.advance(60 * 86400)
    assert speakup.flag_overdue(services) == 1  # open after 90 days
    await candor.settle()
    flags = [blocks_text(p) for p in slack.delivered_to("CCONCERNS") if "Overdue" in blocks_text(p)]
    assert len(flags) == 3
    assert "not been acknowledged within 7 days" in flags[0] and "still open after 90 days" in flags[2]


async def test_hiding_covers_the_authors_follow_ups_too(candor, slack, clock):
    ack = await raise_concern(candor, slack)
    code = code_from(ack)
    await publish(candor, clock)
    for text in ("first follow-up names Bob", "second, still waiting"):
        await candor.click(speakup.VIEW, code, user=AUTHOR, channel="DAUTHOR")
        await candor.submit(slack.opened_views()[-1], {"followup": text}, user=AUTHOR)
        if text.startswith("first"):
            await publish(candor, clock)  # the first is out, the second still waits for its batch
    await candor.click(speakup.HIDE, "1", user=MANAGER, channel="CCONCERNS")
    await candor.submit(slack.opened_views()[-1], {"text": "Names a colleague"}, user=MANAGER)
    await publish(candor, clock)
    posted = [blocks_text(p) for p in slack.delivered_to("CCONCERNS")]
    assert not any("second, still waiting" in t for t in posted)  # never published
    edits = [blocks_text(c.params) for c in slack.calls_to("chat.update")]
    assert (
        sum("hidden by a moderator: Names a colleague" in e for e in edits) == 2
    )  # the post and the follow-up


async def test_many_replies_never_lock_the_author_out_of_their_case(candor, slack, clock):
    ack = await raise_concern(candor, slack)
    code = code_from(ack)
    await publish(candor, clock)
    for _ in range(30):
        await candor.click(speakup.REPLY, "1", user="UBOB", channel="CCONCERNS")
        await candor.submit(slack.opened_views()[-1], {"text": "&" * 3000}, user="UBOB")
    views_before = len(slack.opened_views())
    await candor.click(speakup.VIEW, code, user=AUTHOR, channel="DAUTHOR")
    assert len(slack.opened_views()) == views_before + 1
    view = slack.opened_views()[-1]
    assert len(view["blocks"]) <= 100
    assert "earlier messages are not shown" in blocks_text(view)
    assert view["blocks"][-1]["block_id"] == "followup"


async def test_disabling_a_seeded_channel_sticks(candor, slack):
    _, reply = await candor.command("/speakup", "disable", user=MANAGER, channel="CCONCERNS")
    assert "no longer takes new concerns" in blocks_text(reply)
    _, reply = await candor.command("/speakup", "", user=AUTHOR)  # CANDOR_SPEAKUP_CHANNELS seeds only once
    assert "Speak-up is not set up yet" in blocks_text(reply)
