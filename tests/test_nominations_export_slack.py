"""The evidence export on Slack arrives as a real file: the real server, signed requests, the fake
Slack Web API (whose upload flow records each file's name and bytes), a real SQLite file and an
injected clock.

Pressing an export button, or sharing, uploads one file (files.getUploadURLExternal, the bytes
POSTed to the address it gave, files.completeUploadExternal) into the DM of the person it is for,
with a short comment. The file holds the export as written; the comment is escaped like any message.
Failures are classified as a post's are, and the file goes through the outbox, so a restart loses
nothing.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot import outbox
from bot.messages import File, Message, Section, rich
from bot.outbox import Channel, Person
from bot.server import STORE
from bot.slack.render import block_dicts
from handlers.nominations.evidence_views import FILE_NAMES
from handlers.nominations.ids import ActionId, ExportFormat
from tests.support.candor import Candor, blocks_text, make_settings
from tests.test_nominations_slack import FIRST, HOSTILE, SECOND, nominate, open_cycle

BERLIN = ZoneInfo("Europe/Berlin")  # the fake Slack's people live here
CONCERN = "About the release plan: dates are set before anyone has estimated the work"
KUDOS = "thanks for pairing on the flaky test & for the notes"


@pytest.fixture
def settings_overrides():
    # Speak-up published at once, so an anonymous concern exists before the export.
    return {"speakup_channels": frozenset({"CCONCERNS"}), "speakup_delay_s": (0.0, 0.0)}


@pytest.fixture
def admin(slack) -> str:
    slack.add_user("UBOSS", "boss", is_admin=True)
    return "UBOSS"


def today(clock) -> str:
    return f"{datetime.fromtimestamp(clock.now(), BERLIN):%d %b %Y}"


async def bob_has_evidence(candor: Candor, slack, example_1: str = FIRST) -> None:
    """A nomination of bob by alice in a cycle that hides nominators, a kudos from carol, and an
    anonymous concern raised in the speak-up channel that mentions bob."""
    slack.add_user("UAUTHOR", "quinn.author")
    await open_cycle(candor, slack)
    await nominate(candor, slack, "UALICE", "UBOB", example_1=example_1)
    await candor.command("/nominate", "close", user="UBOSS")
    # As Slack sends a typed "&" in a command's text.
    await candor.command("/kudos", f"<@UBOB|bob> #mentoring {KUDOS.replace('&', '&amp;')}", user="UCAROL")
    await candor.command("/speakup", "", user="UAUTHOR")
    ack = await candor.submit(slack.opened_views()[-1], {"concern": f"<@UBOB> {CONCERN}"}, user="UAUTHOR")
    assert ack["response_action"] == "update", ack
    await candor.settle()
    assert any(CONCERN in blocks_text(p) for p in slack.delivered_to("CCONCERNS"))


async def bob_has_evidence_without_speakup(candor: Candor, slack) -> None:
    await open_cycle(candor, slack)
    await nominate(candor, slack, "UALICE", "UBOB")
    await candor.command("/nominate", "close", user="UBOSS")
    await candor.settle()


def expected_markdown(day: str, example_1: str = FIRST) -> str:
    return (
        "# Evidence: bob\n"
        "\n"
        f"Exported {day}. Nominations and kudos received, grouped by behaviour and level.\n"
        "\n"
        "## 💬 Gave constructive feedback\n"
        "\n"
        "### Competent\n"
        "\n"
        "_Gives specific, timely feedback on what was done and its effect._\n"
        "\n"
        f"- {day} · Nomination for Best feedback giver in \\#CTEAM\n"
        f"  - {example_1}\n"
        f"  - {SECOND}\n"
        "\n"
        "## 🧭 Mentored someone\n"
        "\n"
        "### Recognised with kudos\n"
        "\n"
        f"- {day} · Kudos in \\#CTEAM · from carol\n"
        f"  - {KUDOS}\n"
    )


async def export(candor: Candor, slack, fmt: str, user: str = "UBOB") -> None:
    assert await candor.click(ActionId.EXPORT, fmt, user=user) == 200
    await candor.settle()
    [answer] = [c.params for c in slack.calls_to("response_url")][-1:]
    assert blocks_text(answer).startswith(f"Your evidence as {fmt.title() if fmt == 'markdown' else 'CSV'}")


def anonymous_things_absent(data: bytes | str | None) -> None:
    """Hidden nominators and anonymous concerns are never in an export (the existing rule)."""
    text = data.decode() if isinstance(data, bytes) else str(data or "")
    for absent in ("alice", "UALICE", "quinn", "UAUTHOR", CONCERN, "release plan"):
        assert absent not in text


async def test_the_markdown_export_is_one_file_in_the_pressers_dm_only(candor, slack, clock, admin):
    await bob_has_evidence(candor, slack)
    posts_before = len(slack.calls_to("chat.postMessage"))
    await export(candor, slack, "markdown")

    [sent] = slack.shared_files()
    assert sent.channel == slack.dm_of("UBOB") and slack.shared_files("UBOB") == [sent]
    assert [c.params for c in slack.calls_to("conversations.open")] == [{"users": "UBOB"}]
    assert sent.name == FILE_NAMES[ExportFormat.MARKDOWN] == "evidence.md"
    assert sent.title == "Evidence (Markdown)"
    assert sent.content == expected_markdown(today(clock)).encode()
    assert sent.comment == "Your evidence as Markdown: 1 nomination and 1 kudos."
    assert sent.thread is None
    # The file is the whole message: nothing quoted as text alongside it, and no token sent to the
    # upload address (it is Slack's own and needs none).
    assert len(slack.calls_to("chat.postMessage")) == posts_before
    [upload] = slack.calls_to("upload")
    assert upload.params["auth"] is None and upload.params["bytes"] == sent.content
    [row] = [r for r in candor.outbox() if r["conversation"] == "UBOB"][-1:]
    assert (row["status"], row["sent_ref"], row["attempts"]) == ("sent", sent.id, 1)
    anonymous_things_absent(sent.content)
    anonymous_things_absent(sent.comment)


async def test_the_csv_export_is_one_file_whose_rows_are_the_evidence(candor, slack, clock, admin):
    await bob_has_evidence(candor, slack)
    await export(candor, slack, "csv")
    [sent] = slack.shared_files("UBOB")
    assert len(slack.shared_files()) == 1
    assert (sent.name, sent.title) == ("evidence.csv", "Evidence (CSV)")
    assert sent.comment == "Your evidence as CSV: 1 nomination and 1 kudos."
    day = today(clock)
    assert sent.content.decode() == (
        "date,behaviour,level,source,from,channel,evidence 1,evidence 2,evidence 3\n"
        f"{day},💬 Gave constructive feedback,Competent,Nomination for Best feedback giver,,#CTEAM,"
        f'"{FIRST}","{SECOND}",\n'
        f"{day},🧭 Mentored someone,Recognised with kudos,Kudos,carol,#CTEAM,{KUDOS},,\n"
    )
    rows = list(csv.reader(io.StringIO(sent.content.decode())))
    assert [len(r) for r in rows] == [9, 9, 9]
    anonymous_things_absent(sent.content)


async def test_sharing_sends_the_file_to_the_chosen_person_only(candor, slack, clock, admin):
    await bob_has_evidence(candor, slack)
    posts_before = len(slack.calls_to("chat.postMessage"))
    assert await candor.click(ActionId.SHARE, "share", user="UBOB") == 200
    ack = await candor.submit(
        slack.opened_views()[-1], {"person": "UCAROL", "format": "markdown"}, user="UBOB"
    )
    assert ack["response_action"] == "update", ack
    assert (
        blocks_text(ack["view"]).strip() == "Your evidence is on its way to <@UCAROL> as Markdown, privately."
    )
    await candor.settle()

    [sent] = slack.shared_files()
    assert slack.shared_files("UCAROL") == [sent] and slack.shared_files("UBOB") == []
    assert [c.params for c in slack.calls_to("conversations.open")] == [{"users": "UCAROL"}]
    assert sent.name == "evidence.md"
    assert sent.content == expected_markdown(today(clock)).encode()
    assert sent.comment == (
        "<@UBOB> shared their evidence with you, as Markdown: 1 nomination and 1 kudos. Only you received it."
    )
    assert len(slack.calls_to("chat.postMessage")) == posts_before
    anonymous_things_absent(sent.content)


async def test_hostile_text_is_in_the_file_as_written(candor, slack, clock, admin):
    await bob_has_evidence(candor, slack, example_1=HOSTILE)
    await export(candor, slack, "csv")
    clock.advance(1)
    await export(candor, slack, "markdown")
    csv_file, md_file = slack.shared_files("UBOB")
    # A file is not mrkdwn: nothing in it is Slack-escaped, and CSV holds the text exactly as typed.
    [nominated] = [
        r for r in csv.reader(io.StringIO(csv_file.content.decode())) if r[3].startswith("Nomination")
    ]
    assert nominated[6] == HOSTILE
    assert b"&lt;" not in csv_file.content and b"&amp;amp;" not in csv_file.content
    # Markdown escapes its own markup (a reader would act on it), and nothing else.
    escaped = "\\<!channel\\> \\<@UCAROL\\> \\*bold\\* &amp; \\<https://evil.example\\|click here\\> reviewed"
    assert md_file.content == expected_markdown(today(clock), escaped + " my code kindly").encode()
    # The comments carry none of it.
    for sent in (csv_file, md_file):
        assert "<" not in (sent.comment or "") and "&" not in (sent.comment or "")


async def test_a_files_comment_is_escaped_while_the_file_is_sent_as_written(candor, slack):
    hostile = "<!channel> <@U123> & <https://evil.example|click>"
    message = Message((Section(rich(hostile)), File("notes.txt", hostile + "\n", "Notes")))
    with candor.app[STORE].transaction() as tx:
        for to in (Person("UBOB"), Channel("CTEAM")):
            outbox.enqueue(tx, platform="slack", to=to, message=message, now=candor.clock.now())
    await candor.settle()
    [in_dm] = slack.shared_files("UBOB")
    [in_channel] = [f for f in slack.shared_files() if f.channel == "CTEAM"]
    assert in_dm.channel == slack.dm_of("UBOB") and len(slack.shared_files()) == 2
    # A channel id is a conversation already; only the person's DM had to be opened.
    assert [c.params["users"] for c in slack.calls_to("conversations.open")] == ["UBOB"]
    for sent in (in_dm, in_channel):
        assert sent.content == (hostile + "\n").encode()
        assert sent.comment == "&lt;!channel&gt; &lt;@U123&gt; &amp; &lt;https://evil.example|click&gt;"
    # Where a message must be blocks (an edit), the file is its text, quoted and escaped.
    shown = "\n".join(b["text"]["text"] for b in block_dicts(message) if b["type"] == "section")
    assert "&lt;!channel&gt; &lt;@U123&gt; &amp;" in shown and "<!channel>" not in shown
    assert "Copy the text below into a file named notes.txt to keep it." in blocks_text(
        {"blocks": block_dicts(message)}
    )


@pytest.mark.parametrize(
    ("method", "answer", "reason"),
    [
        ("conversations.open", {"ok": False, "error": "missing_scope"}, "missing_scope"),
        ("files.getUploadURLExternal", {"ok": False, "error": "missing_scope"}, "missing_scope"),
        ("upload", {"status": 403, "ok": False}, "upload_http_403"),
        ("files.completeUploadExternal", {"ok": False, "error": "channel_not_found"}, "channel_not_found"),
    ],
)
async def test_a_permanent_upload_failure_is_recorded_as_failed_and_not_retried(
    candor, slack, clock, admin, method, answer, reason
):
    await bob_has_evidence(candor, slack)
    slack.answer_next(method, **answer)
    await export(candor, slack, "markdown")
    [row] = [r for r in candor.outbox() if r["conversation"] == "UBOB"][-1:]
    assert (row["status"], row["last_error"], row["attempts"]) == ("failed", reason, 1)
    calls = len(slack.calls)
    clock.advance(3600)
    candor.dispatcher.wake()
    await candor.settle()
    assert len(slack.calls) == calls  # not tried again
    assert slack.shared_files() == []


@pytest.mark.parametrize(
    ("method", "answer", "reason"),
    [
        ("upload", {"status": 503, "ok": False}, "upload_http_503"),
        (
            "files.completeUploadExternal",
            {"status": 500, "ok": False, "error": "internal_error"},
            "internal_error",
        ),
        ("conversations.open", {"ok": False, "error": "service_unavailable"}, "service_unavailable"),
    ],
)
async def test_a_transient_failure_is_retried_and_the_file_arrives_once(
    candor, slack, clock, admin, method, answer, reason
):
    await bob_has_evidence(candor, slack)
    slack.answer_next(method, **answer)
    await export(candor, slack, "markdown")
    [row] = [r for r in candor.outbox() if r["conversation"] == "UBOB"][-1:]
    assert (row["status"], row["last_error"], row["attempts"]) == ("pending", reason, 1)
    assert slack.shared_files() == []
    clock.advance(60)
    candor.dispatcher.wake()
    await candor.settle()
    [sent] = slack.shared_files("UBOB")
    assert sent.content == expected_markdown(today(clock)).encode()
    [row] = [r for r in candor.outbox() if r["conversation"] == "UBOB"][-1:]
    assert (row["status"], row["attempts"]) == ("sent", 2)


async def test_a_rate_limited_upload_waits_for_retry_after_then_arrives_once(candor, slack, clock, admin):
    await bob_has_evidence(candor, slack)
    slack.answer_next(
        "files.getUploadURLExternal", status=429, headers={"Retry-After": "7"}, ok=False, error="ratelimited"
    )
    await export(candor, slack, "markdown")
    limited, ok = slack.calls_to("files.getUploadURLExternal")
    assert (limited.answered, ok.answered) == (429, 200) and ok.at - limited.at >= 7.0
    assert len(slack.shared_files("UBOB")) == 1


async def test_an_export_queued_before_a_restart_arrives_once_after_it(tmp_path, clock, slack, admin):
    settings = make_settings(tmp_path / "c.db", slack.url)
    first = await Candor(settings, clock, slack).start()
    try:
        await bob_has_evidence_without_speakup(first, slack)
        slack.answer_always("files.getUploadURLExternal", status=503, ok=False, error="service_unavailable")
        await export(first, slack, "csv")
        assert [r["status"] for r in first.outbox() if r["conversation"] == "UBOB"][-1] == "pending"
    finally:
        await first.stop()
    slack.back_to_normal("files.getUploadURLExternal")
    clock.advance(60)
    second = await Candor(settings, clock, slack).start()
    try:
        await second.settle()
        [sent] = slack.shared_files("UBOB")
        assert sent.name == "evidence.csv" and FIRST.encode() in sent.content
        assert [r["status"] for r in second.outbox()] == ["sent"] * len(second.outbox())
    finally:
        await second.stop()
