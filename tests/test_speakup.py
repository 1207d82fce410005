"""Anonymous speak-up in Slack: submit, delayed publication, replies, the author's view, limits."""

from __future__ import annotations

import asyncio

import pytest

from bot.server import SERVICES
from handlers import anonymity
from handlers.speakup import jobs, views
from handlers.speakup.ids import ActionId
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


async def raise_concern(
    candor, slack, concern="Release dates are set before anyone estimates.", *, dm=False, user=AUTHOR, **more
):
    """Fill in and send the form; with `dm`, tick the box for a private copy and wait for it."""
    view = await open_new_form(candor, slack, user=user)
    calls_before = len(slack.calls_to("chat.postMessage"))
    answers = {"concern": concern, **more, **({"dm": ["yes"]} if dm else {})}
    ack = await candor.submit(view, answers, user=user)
    if dm and ack.get("response_action") == "update":  # the copy is sent just after the answer
        for _ in range(500):
            if any(
                c.params.get("channel") == user for c in slack.calls_to("chat.postMessage")[calls_before:]
            ):
                break
            await asyncio.sleep(0.01)
    return ack


def case_id(candor, body: str | None = None) -> str:
    """The public case number of the (only, or the given) concern, as buttons carry it."""
    where = ("body = ?", [body]) if body else ("1 = 1", [])
    return str(candor.db.execute(f"select id from concerns where {where[0]}", where[1]).fetchone()[0])


def code_from(ack) -> str:
    text = blocks_text(ack["view"])
    return text.split("Your case code: *")[1].split("*")[0]


async def publish(candor, clock):
    clock.advance(1801 + anonymity.BATCH_EVERY_S)  # past the longest delay and its batch boundary
    await jobs.publish_due(candor.app[SERVICES])  # what the minute job does
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
    ack = await raise_concern(candor, slack, wants="Ask the team before dates go out.", dm=True)
    assert ack["response_action"] == "update"
    code = code_from(ack)
    assert len(code.replace("-", "")) == 32  # 160 random bits in base32
    [dm] = slack.delivered_to(AUTHOR)
    assert code in blocks_text(dm)
    [button] = [e for b in dm["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert (button["action_id"], button["value"]) == (ActionId.VIEW, code)

    # Nothing in the channel, nor even queued, yet: publication waits a random 5 to 30 minutes,
    # then the next 5-minute boundary, when the batch is released together.
    await candor.settle()
    assert slack.delivered_to("CCONCERNS") == [] and candor.count("outbox") == 0  # the DM skips the queue
    publish_at = candor.db["concerns"].get(int(case_id(candor)))["publish_at"]
    assert publish_at % anonymity.BATCH_EVERY_S == 0
    assert 300 <= publish_at - clock.now() <= 1800 + anonymity.BATCH_EVERY_S
    await publish(candor, clock)
    row = next(r for r in candor.outbox() if r["conversation"] == "CCONCERNS")
    assert row["created_at"] % anonymity.BATCH_EVERY_S == 0
    [post] = slack.delivered_to("CCONCERNS")
    text = blocks_text(post)
    assert "A concern was raised anonymously" in text and "Release dates are set" in text
    assert "Ask the team before dates go out." in text
    assert f"case #{case_id(candor)}" in text and "Raised on" in text
    assert [e["action_id"] for b in post["blocks"] if b["type"] == "actions" for e in b["elements"]] == [
        ActionId.REPLY,
        ActionId.ACK,
        ActionId.RESOLVE,
        ActionId.HIDE,
    ]

    # A manager replies in the thread under their own name, and acknowledges.
    assert await candor.click(ActionId.REPLY, case_id(candor), user=MANAGER, channel="CCONCERNS") == 200
    ack = await candor.submit(
        slack.opened_views()[-1], {"text": "Thank you. We will change how dates are set."}, user=MANAGER
    )
    assert "reply is posted" in blocks_text(ack["view"])
    assert await candor.click(ActionId.ACK, case_id(candor), user=MANAGER, channel="CCONCERNS") == 200
    await candor.settle()
    thread = [p for p in slack.delivered_to("CCONCERNS") if p.get("thread_ts")]
    assert all(p["thread_ts"] == candor.db["outbox"].get(row["id"])["sent_ref"] for p in thread)
    assert "Reply from* <@UADMIN>" in blocks_text(thread[0]) or "Reply from <@UADMIN>" in blocks_text(
        thread[0]
    ).replace("*", "")
    assert candor.db["concerns"].get(int(case_id(candor)))["status"] == "acknowledged"
    edited = slack.calls_to("chat.update")[-1].params
    assert "acknowledged" in blocks_text(edited)

    # The author opens the case from their DM: status and replies, and adds a follow-up.
    assert await candor.click(ActionId.VIEW, code, user=AUTHOR, channel="DAUTHOR") == 200
    case = slack.opened_views()[-1]
    shown = blocks_text(case)
    assert "Status: acknowledged" in shown and "We will change how dates are set." in shown
    ack = await candor.submit(case, {"followup": "It happened again this sprint."}, user=AUTHOR)
    assert "appear in the case's thread as Author, after a random delay of 5 to 30 minutes" in (
        blocks_text(ack["view"])
    )
    await candor.settle()
    assert not any("It happened again" in blocks_text(p) for p in slack.delivered())  # delayed too
    await publish(candor, clock)
    follow_up = [p for p in slack.delivered_to("CCONCERNS") if "It happened again" in blocks_text(p)]
    assert len(follow_up) == 1 and "Author:" in blocks_text(follow_up[0]) and follow_up[0]["thread_ts"]

    # /speakup status <code> shows the same case; the code may be typed loosely.
    _status, reply = await candor.command("/speakup", f"status {code.lower().replace('-', ' ')}", user=AUTHOR)
    assert reply == {} and "It happened again this sprint." in blocks_text(slack.opened_views()[-1])

    # Resolve with a note, then hide with a reason: the channel message is replaced.
    assert await candor.click(ActionId.RESOLVE, case_id(candor), user=MANAGER, channel="CCONCERNS") == 200
    await candor.submit(
        slack.opened_views()[-1], {"text": "Dates now come from the team's estimate."}, user=MANAGER
    )
    assert await candor.click(ActionId.HIDE, case_id(candor), user=MANAGER, channel="CCONCERNS") == 200
    await candor.submit(slack.opened_views()[-1], {"text": "Names a colleague"}, user=MANAGER)
    await candor.settle()
    last_edit = blocks_text(slack.calls_to("chat.update")[-1].params)
    assert "hidden by a moderator: Names a colleague" in last_edit and "Release dates" not in last_edit
    assert candor.db["concerns"].get(int(case_id(candor)))["status"] == "resolved"
    # The author is told when they look.
    await candor.click(ActionId.VIEW, code, user=AUTHOR, channel="DAUTHOR")
    assert "Hidden by a moderator: Names a colleague" in blocks_text(slack.opened_views()[-1])


async def test_only_admins_acknowledge_resolve_or_hide(candor, slack, clock):
    await raise_concern(candor, slack)
    await publish(candor, clock)
    for action in (ActionId.ACK, ActionId.RESOLVE, ActionId.HIDE):
        assert await candor.click(action, case_id(candor), user="UBOB", channel="CCONCERNS") == 200
        said = slack.calls_to("response_url")[-1].params
        assert said["response_type"] == "ephemeral" and "Only Candor admins" in blocks_text(said)
    assert candor.db["concerns"].get(int(case_id(candor)))["status"] == "open"


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
    assert len(answers) == 1 and views.NO_CASE in answers.pop()
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
    assert candor.db["concerns"].get(int(case_id(candor)))["body"] == "One that must survive"


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
    assert await jobs.flag_overdue(services) == 0
    clock.advance(7 * 86400)
    assert await jobs.flag_overdue(services) == 1
    assert await jobs.flag_overdue(services) == 0
    clock.advance(23 * 86400)
    assert await jobs.flag_overdue(services) == 1  # no reply in 30 days
    clock.advance(60 * 86400)
    assert await jobs.flag_overdue(services) == 1  # open after 90 days
    await candor.settle()
    flags = [blocks_text(p) for p in slack.delivered_to("CCONCERNS") if "Overdue" in blocks_text(p)]
    assert len(flags) == 3
    assert "not been acknowledged within 7 days" in flags[0] and "still open after 90 days" in flags[2]


async def test_hiding_covers_the_authors_follow_ups_too(candor, slack, clock):
    ack = await raise_concern(candor, slack)
    code = code_from(ack)
    await publish(candor, clock)
    for text in ("first follow-up names Bob", "second, still waiting"):
        await candor.click(ActionId.VIEW, code, user=AUTHOR, channel="DAUTHOR")
        await candor.submit(slack.opened_views()[-1], {"followup": text}, user=AUTHOR)
        if text.startswith("first"):
            await publish(candor, clock)  # the first is out, the second still waits for its batch
    await candor.click(ActionId.HIDE, case_id(candor), user=MANAGER, channel="CCONCERNS")
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
        await candor.click(ActionId.REPLY, case_id(candor), user="UBOB", channel="CCONCERNS")
        await candor.submit(slack.opened_views()[-1], {"text": "&" * 3000}, user="UBOB")
    views_before = len(slack.opened_views())
    await candor.click(ActionId.VIEW, code, user=AUTHOR, channel="DAUTHOR")
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


# --- the case code: in the form, a private copy only on request ---------------------------------
async def test_the_form_gives_the_code_and_a_private_copy_only_on_request(candor, slack):
    view = await open_new_form(candor, slack)
    dm = next(b for b in view["blocks"] if b.get("block_id") == "dm")
    assert dm["optional"] is True and "initial_options" not in dm["element"]  # off by default
    assert "export" in dm["hint"]["text"] and "match the code" in dm["hint"]["text"]  # the risk, stated

    ack = await candor.submit(view, {"concern": "Nobody reviews the on-call rota."}, user=AUTHOR)
    shown = blocks_text(ack["view"])
    assert "Copy it now." in shown and "only this once" in shown and "private message" not in shown
    code = code_from(ack)
    await candor.settle()
    assert [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == AUTHOR] == []
    _status, reply = await candor.command("/speakup", f"status {code}", user=AUTHOR)
    assert reply == {}  # the code from the form is all the author needs

    ack = await raise_concern(candor, slack, concern="A second one, with a copy", dm=True)
    assert "You asked for a copy in a private message" in blocks_text(ack["view"])
    [copy] = slack.delivered_to(AUTHOR)
    assert code_from(ack) in blocks_text(copy)


# --- once the concern is stored, the author gets their code --------------------------------------
async def test_a_failure_after_the_commit_still_gives_the_author_their_code(candor, slack, caplog):
    def broken() -> None:
        raise RuntimeError("a step after the commit failed")

    candor.app[SERVICES].store.on_commit(broken)
    ack = await raise_concern(candor, slack, concern="Stored, whatever fails after it")
    assert ack["response_action"] == "update", ack
    code = code_from(ack)
    assert "nothing was saved" not in blocks_text(ack["view"])
    assert candor.db["concerns"].get(int(case_id(candor)))["code_hash"] == anonymity.code_hash(
        code.replace("-", "")
    )
    await raise_concern(candor, slack, concern="And the next one too")
    assert candor.count("concerns") == 2
    failures = [r for r in caplog.records if "after-commit callback failed" in r.getMessage()]
    assert len(failures) == 1  # logged once, not at every commit


@pytest.mark.parametrize(
    "settings_overrides", [{"speakup_channels": frozenset({"CCONCERNS"}), "speakup_delay_s": (0.0, 0.0)}]
)
async def test_with_no_delay_a_failure_to_publish_at_once_still_gives_the_code(candor, slack, clock):
    candor.db.execute(  # the outbox refuses new rows, as a full or broken disk would
        "create trigger no_posts before insert on outbox begin select raise(abort, 'disk is full'); end"
    )
    ack = await raise_concern(candor, slack, concern="Published later if not at once")
    assert ack["response_action"] == "update" and code_from(ack)
    assert candor.count("concerns") == 1 and candor.count("outbox") == 0
    candor.db.execute("drop trigger no_posts")
    await jobs.publish_due(candor.app[SERVICES])  # the next batch
    await candor.settle()
    assert "Published later" in blocks_text(slack.delivered_to("CCONCERNS")[0])


# --- what the form promises about the delay -------------------------------------------------------
@pytest.mark.parametrize(
    ("delay", "says", "does_not_say"),
    [
        ((300.0, 1800.0), "after a random delay of 5 to 30 minutes", "at once"),
        ((0.0, 600.0), "after a random delay of up to 10 minutes", "at once"),
        ((600.0, 600.0), "10 minutes after you send it", "random"),
        ((0.0, 0.0), "appears in the channel at once", "random"),
    ],
)
async def test_the_form_describes_the_delay_that_really_applies(
    tmp_path, clock, slack, delay, says, does_not_say
):
    settings = make_settings(
        tmp_path / "d.db", slack.url, speakup_channels=frozenset({"CCONCERNS"}), speakup_delay_s=delay
    )
    candor = await Candor(settings, clock, slack).start()
    try:
        text = blocks_text(await open_new_form(candor, slack))
        assert says in text and does_not_say not in text
        assert ("when exactly you wrote" in text) == (delay[0] < delay[1])  # only a random delay hides it
        _, reply = await candor.command("/speakup", "help")
        assert says in blocks_text(reply)
        ack = await raise_concern(candor, slack)
        assert says in blocks_text(ack["view"])
    finally:
        await candor.stop()


# --- day stamps ---------------------------------------------------------------------------------
async def test_raised_on_is_the_day_of_publication_and_deadlines_count_from_it(candor, slack, clock):
    clock.t = (clock.t // 86400 + 1) * 86400 - 60  # 23:59 UTC: published tomorrow, whatever the delay
    await raise_concern(candor, slack)
    concern = candor.db["concerns"].get(int(case_id(candor)))
    tomorrow = anonymity.day_of(clock.now() + 86400)
    assert concern["raised_on"] == anonymity.day_of(concern["publish_at"]) == tomorrow
    assert concern["ack_due_on"] == anonymity.day_of(clock.now() + 8 * 86400)


# --- public case numbers ------------------------------------------------------------------------
async def test_case_numbers_are_random_and_say_nothing_about_counts_or_order(candor, slack, clock):
    bodies = [f"Concern written {n}th" for n in range(12)]
    for n, body in enumerate(bodies):
        await raise_concern(candor, slack, concern=body, user=("UAUTHOR", "UBOB", "UCAROL", "UALICE")[n % 4])
    ids = [int(case_id(candor, body)) for body in bodies]
    assert all(1_000_000 <= i <= 9_999_999 for i in ids)  # seven digits read well
    assert sorted(ids) != ids  # neither in writing order nor consecutive
    in_file = [r[0] for r in candor.db.execute("select body from concerns")]  # rowid order
    assert in_file != bodies
    await publish(candor, clock)
    numbers = {
        int(t.split("case #")[1].split(" ")[0]) for t in map(blocks_text, slack.delivered_to("CCONCERNS"))
    }
    assert numbers == set(ids)
