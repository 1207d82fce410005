"""The evidence that follows a person: their nominations (once a cycle closes) and the kudos they
received, grouped by behaviour and level; exported privately as Markdown or CSV; shared with one
person by their choice; never anyone else's, never an anonymous item. And the team report."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.messages import File, FormErrors, Message, Section, decode, plain_text
from handlers.nominations.ids import ActionId, FieldId
from handlers.nominations.rules import RESEND_AFTER_S
from handlers.registry import REGISTRY
from handlers.reporting import ReportScope
from tests.support.harness import Harness, text_of
from tests.test_nominations_rules import FIRST, SECOND, close, nominate, nominations_harness, open_cycle

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def h(tmp_path):
    harness = nominations_harness(tmp_path)
    yield harness
    harness.close()


def today(h: Harness) -> str:
    return f"{datetime.fromtimestamp(h.clock.now(), BERLIN):%d %b %Y}"


async def bob_has_evidence(h: Harness) -> None:
    """Two kudos to bob (one taken back), a closed cycle that nominated him twice, an open one."""
    await h.command("kudos", "@bob #mentoring thanks for pairing on the flaky test", user="carol")
    await h.command("kudos", "@bob #feedback a kudos taken back at once", user="dan")
    await h.command("kudos", "undo", user="dan")
    await open_cycle(h)
    await nominate(h, "alice", "bob", level="role_model")
    await nominate(h, "carol", "bob", **{FieldId.EXAMPLE_1: "Gave me precise notes on my talk rehearsal"})
    await close(h)
    await open_cycle(h, award="mentor-of-the-month")
    await nominate(h, "erin", "bob", **{FieldId.EXAMPLE_1: "Not closed yet, so not evidence yet at all"})


async def test_mine_groups_nominations_and_kudos_by_behaviour_and_level(h):
    assert text_of(await h.command("nominate", "mine", user="bob")) == (
        "You have no evidence yet. Kudos you receive, and nominations of you once their cycle closes, "
        "appear here.\n/nominate status shows the cycles running now."
    )
    await bob_has_evidence(h)
    day = today(h)
    assert text_of(await h.command("nominate", "mine", user="bob")) == (
        "Your evidence: 2 nominations and 1 kudos, grouped by behaviour and level. Only you see this; "
        "export it for your next review, or share it with one person.\n"
        "💬 Gave constructive feedback\n"
        "Role model: Seeks and gives specific feedback unprompted, and others copy how they do it.\n"
        f"> {FIRST}\n"
        f"Nomination for Best feedback giver · {day}\n"
        "Competent: Gives specific, timely feedback on what was done and its effect.\n"
        "> Gave me precise notes on my talk rehearsal\n"
        f"Nomination for Best feedback giver · {day}\n"
        "🧭 Mentored someone\n"
        "Recognised with kudos\n"
        "> thanks for pairing on the flaky test\n"
        f"Kudos · {day} · from @carol\n"
        "[Export as Markdown]  [Export as CSV]  [Share with someone]"
    )


async def test_exports_go_privately_to_the_person_and_hold_everything_escaped(h):
    await bob_has_evidence(h)
    await h.command(
        "kudos",
        "@bob #inclusion <img src=x onerror=alert(1)> [x](javascript:y) # not a heading",
        user="carol",
    )
    await h.command("kudos", '@bob #inclusion =HYPERLINK("http://evil") made room for me', user="erin")
    before = len(h.posts())
    reply = await h.click(ActionId.EXPORT, "markdown", user="bob")
    assert text_of(reply) == "Your evidence as Markdown is on its way to you in a private message."
    [(where, markdown)] = h.posts()[before:]
    assert where == "@bob"
    day = today(h)
    assert markdown.startswith(
        "Your evidence as Markdown: 2 nominations and 3 kudos.\n"
        "Copy the text below into a file named evidence.md to keep it.\n"
        "> # Evidence: bob\n> \n"
        f"> Exported {day}. Nominations and kudos received, grouped by behaviour and level.\n> \n"
        "> ## 💬 Gave constructive feedback\n> \n> ### Role model\n> \n"
        "> _Seeks and gives specific feedback unprompted, and others copy how they do it._\n"
    )
    assert (
        f"> - {day} · Nomination for Best feedback giver in \\#team\n>   - {FIRST}\n>   - {SECOND}"
        in markdown
    )
    assert "\\<img src=x onerror=alert(1)\\> \\[x\\](javascript:y) # not a heading" in markdown
    assert f"> - {day} · Kudos in \\#team · from carol" in markdown
    assert "taken back" not in markdown and "Not closed yet" not in markdown

    reply = await h.click(ActionId.EXPORT, "csv", user="bob")
    [(where, sent)] = h.posts()[before + 1 :]
    assert where == "@bob" and "evidence.csv" in sent
    rows = list(csv.reader(io.StringIO("\n".join(line[2:] for line in sent.splitlines()[2:]))))
    assert rows[0] == [
        "date",
        "behaviour",
        "level",
        "source",
        "from",
        "channel",
        "evidence 1",
        "evidence 2",
        "evidence 3",
    ]
    assert [
        day,
        "💬 Gave constructive feedback",
        "Role model",
        "Nomination for Best feedback giver",
        "",
        "#team",
        FIRST,
        SECOND,
        "",
    ] in rows
    assert [r[6] for r in rows if "HYPERLINK" in r[6]] == ['\'=HYPERLINK("http://evil") made room for me']


async def test_only_the_person_can_export_their_evidence_and_a_double_click_sends_once(h):
    await bob_has_evidence(h)
    before = len(h.posts())
    # The button's value only says the format: whoever presses it gets their own evidence.
    reply = await h.click(ActionId.EXPORT, "markdown", user="alice")
    assert text_of(reply).startswith("You have no evidence yet.")
    reply = await h.click(ActionId.EXPORT, "bob", user="alice")
    assert text_of(reply) == "Pick Markdown or CSV."
    assert len(h.posts()) == before

    await h.click(ActionId.EXPORT, "markdown", user="bob")
    reply = await h.click(ActionId.EXPORT, "markdown", user="bob")  # a double click
    assert text_of(reply).startswith("That was sent a moment ago: check your private messages.")
    assert len(h.posts()) == before + 1
    h.clock.advance(RESEND_AFTER_S)
    await h.click(ActionId.EXPORT, "markdown", user="bob")
    assert len(h.posts()) == before + 2


async def test_new_evidence_can_be_exported_again_at_once(h):
    await bob_has_evidence(h)
    await h.click(ActionId.EXPORT, "markdown", user="bob")
    await h.command("kudos", "@bob #inclusion asked for my view in the planning meeting", user="erin")
    before = len(h.posts())
    await h.click(ActionId.EXPORT, "markdown", user="bob")
    assert len(h.posts()) == before + 1


async def test_sharing_sends_a_copy_to_one_chosen_person_only(h):
    await bob_has_evidence(h)
    form = (await h.click(ActionId.SHARE, "share", user="bob")).form
    assert [f.id for f in form.fields] == ["person", "format"]
    before = len(h.posts())
    for person, problem in (
        ("", "Pick the person to share it with."),
        ("bob", "That is you: the Export buttons send you a copy."),
        ("robot", "Bots cannot receive your evidence. Pick a person."),
        ("ghost", "I could not find that person in this workspace."),
    ):
        assert await h.submit(form, {FieldId.PERSON: person}, user="bob") == FormErrors({"person": problem})
    assert await h.submit(form, {FieldId.PERSON: "boss", FieldId.FORMAT: "pdf"}, user="bob") == FormErrors(
        {"format": "Pick Markdown or CSV."}
    )
    assert len(h.posts()) == before
    reply = await h.submit(form, {FieldId.PERSON: "boss"}, user="bob")
    assert text_of(reply) == "Your evidence is on its way to @boss as Markdown, privately."
    [(where, text)] = h.posts()[before:]
    assert where == "@boss" and text.startswith(
        "@bob shared their evidence with you, as Markdown: 2 nominations and 1 kudos. Only you received it."
    )
    assert FIRST in text
    assert await h.submit(form, {FieldId.PERSON: "boss"}, user="bob") == FormErrors(
        {"person": "You shared this with them a moment ago; the same again can be sent after 10 minutes."}
    )
    # Someone with nothing to share is told so; nobody can share another person's evidence.
    assert text_of(await h.click(ActionId.SHARE, "bob", user="alice")).startswith("You have no evidence yet.")
    assert await h.submit(form, {FieldId.PERSON: "boss"}, user="alice") == FormErrors(
        {"person": "You have no evidence to share yet."}
    )


async def test_hidden_nominators_and_anonymous_items_never_appear_in_the_evidence(h):
    h2 = h
    await open_cycle(h2)
    await nominate(h2, "alice", "bob", **{FieldId.EXAMPLE_1: "Named nowhere because the cycle hides them"})
    await close(h2)
    await open_cycle(h2, award="mentor-of-the-month", nominators=["show"])
    await nominate(h2, "carol", "bob")
    await close(h2)
    shown = text_of(await h2.command("nominate", "mine", user="bob"))
    assert "Nomination for Mentor of the month · " in shown and "from @carol" in shown
    assert "@alice" not in shown
    await h2.click(ActionId.EXPORT, "csv", user="bob")
    sent = h2.posts()[-1][1]
    assert "alice" not in sent and "carol" in sent


async def test_speak_up_concerns_never_reach_anyones_evidence(tmp_path):
    h = nominations_harness(tmp_path, speakup_channels=frozenset({"team"}), speakup_delay_s=(0.0, 0.0))
    try:
        form = (await h.command("speakup", "", user="alice")).form
        await h.submit(
            form, {"channel": "team", "concern": "About @bob: a concern raised anonymously"}, user="alice"
        )
        await h.command("kudos", "@bob #mentoring thanks for pairing on the flaky test", user="carol")
        for user in ("bob", "alice"):
            await h.click(ActionId.EXPORT, "markdown", user=user)
            assert "anonymously" not in text_of(await h.command("nominate", "mine", user=user))
        assert not any("anonymously" in text for where, text in h.posts() if where.startswith("@"))
    finally:
        h.close()


async def test_a_long_export_is_one_whole_file(h):
    for n in range(12):
        await h.command("kudos", f"@bob #mentoring {n} " + "a long and specific thanks " * 36, user="carol")
        h.clock.advance(86400)  # the daily cap
    before = h.count("outbox")
    await h.click(ActionId.EXPORT, "markdown", user="bob")
    [payload] = [row[0] for row in h.store.db.execute("select payload from outbox where id > ?", [before])]
    message = decode(json.loads(payload))
    assert [type(b) for b in message.blocks] == [Section, File]
    assert plain_text(Message(message.blocks[:1])) == "Your evidence as Markdown: 0 nominations and 12 kudos."
    file = message.blocks[1]
    assert (file.name, file.title) == ("evidence.md", "Evidence (Markdown)")
    assert len(file.content) > 12 * 36 * len("a long and specific thanks ")  # every word, in one file
    assert all(f"  - {n} a long and specific thanks" in file.content for n in range(12))


# --- the team report ----------------------------------------------------------------------------
def report(h: Harness, k: int, conversation: str | None = "team") -> dict:
    scope = ReportScope("stub", "W1", conversation, since=h.clock.now() - 86400, until=h.clock.now() + 1, k=k)
    [source] = [p.report for p in REGISTRY.practices if p.name == "nominations"]
    assert source is not None
    return {f.key: (f.value, f.note) for f in source(h.store.db, scope)}


async def test_the_report_counts_the_teams_cycles_and_withholds_small_groups(h):
    await open_cycle(h, voting="1")
    for voter, whom, level in (
        ("alice", "bob", "role_model"),
        ("carol", "bob", "competent"),
        ("dan", "erin", "competent"),
    ):
        await nominate(h, voter, whom, level=level)
    await close(h)
    await close(h)
    figures = report(h, k=3)
    assert figures["nominations.cycles"] == (1, "")
    assert figures["nominations.total"] == (3, "")
    assert figures["nominations.nominators"] == (3, "")
    assert figures["nominations.role_model_share"] == (33.3, "")
    assert figures["nominations.examples_per_nomination"] == (2.0, "")
    assert figures["nominations.nominees"] == (None, "fewer than 3 nominees, not shown to protect anonymity")
    assert figures["nominations.voters"] == (None, "fewer than 3 voters, not shown to protect anonymity")
    assert report(h, k=5)["nominations.total"] == (
        None,
        "fewer than 5 nominators, not shown to protect anonymity",
    )
    assert report(h, k=2, conversation="eng")["nominations.cycles"] == (0, "")
    assert report(h, k=2, conversation=None)["nominations.nominees"] == (2, "")
