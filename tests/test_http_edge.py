"""The HTTP edge under hostile or broken traffic: slow clients, floods, replays, malformed bodies.

Slow clients are real sockets that send a little and wait; limits are shortened for the test so
the waits are short, and every wait is bounded (a test fails if the server never acts, never
because it was slow).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import json
import logging
import os
import resource
import socket
import subprocess
import sys
import urllib.parse
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import aiohttp
import pytest

from bot.config import REPO_ROOT
from bot.edge import GUARD, EdgeLimits
from bot.logs import JsonFormatter, RepeatLimiter, setup_logging
from bot.server import REPLAYS
from handlers.checkins.ids import CheckinAction
from handlers.speakup import rules
from handlers.speakup.ids import ActionId, FormId
from tests.support.candor import SECRET, TEAM, TOKEN, Candor, blocks_text, make_settings
from tests.test_speakup import AUTHOR, MANAGER, case_id, code_from, publish, raise_concern

BOUND_S = 10.0  # the longest any test waits for the server to act
QUICK = EdgeLimits(header_s=0.3, body_s=0.3, max_connections=8)
SPEAKUP = {"speakup_channels": frozenset({"CCONCERNS"}), "speakup_delay_s": (300.0, 1800.0)}


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """Logs as `candor serve` writes them: JSON lines through the same handler and filters."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    out = io.StringIO()
    setup_logging("INFO", stream=out)
    yield out
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def lines(out: io.StringIO) -> list[dict[str, Any]]:
    """Every record but the one-per-request access line."""
    records = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
    return [r for r in records if r["msg"] != "request"]


@pytest.fixture
async def quick(tmp_path, clock, slack) -> AsyncIterator[Candor]:
    """Candor with limits short enough to watch them act."""
    server = Candor(make_settings(tmp_path / "candor.db", slack.url), clock, slack, limits=QUICK)
    await server.start()
    yield server
    await server.stop()


async def connect(candor: Candor) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = candor.url.removeprefix("http://").split(":")
    return await asyncio.open_connection(host, int(port))


async def closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sent until it closed the connection (a reset counts as closing)."""
    received = b""
    try:
        while chunk := await asyncio.wait_for(reader.read(65536), BOUND_S):
            received += chunk
    except ConnectionResetError:
        pass
    return received


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(int(BOUND_S * 100)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the server did not act in time")


async def trickle(writer: asyncio.StreamWriter, piece: bytes) -> None:
    """A byte or so every 50 ms, for longer than any test waits."""
    for _ in range(int(BOUND_S * 20) + 20):
        if writer.is_closing():
            return
        writer.write(piece)
        await asyncio.sleep(0.05)


# --- slow clients -------------------------------------------------------------------------------
async def test_a_client_trickling_its_headers_is_cut_off(quick):
    reader, writer = await connect(quick)
    writer.write(b"POST /slack/events HTTP/1.1\r\nHost: candor\r\nX-Slow: ")
    slow = asyncio.create_task(trickle(writer, b"a"))
    try:
        assert await closed_by_server(reader) == b""
    finally:
        slow.cancel()
        writer.close()


async def test_a_client_trickling_its_body_gets_408(quick):
    reader, writer = await connect(quick)
    writer.write(
        b"POST /slack/events HTTP/1.1\r\nHost: candor\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n{"
    )
    slow = asyncio.create_task(trickle(writer, b" "))
    try:
        assert (await asyncio.wait_for(reader.readline(), BOUND_S)).startswith(b"HTTP/1.1 408")
    finally:
        slow.cancel()
        writer.close()


async def test_slow_connections_give_way_to_new_ones_but_busy_requests_finish(tmp_path, clock, slack):
    # At most 8 connections, and slow clients that would hold theirs for the full 10 s.
    limits = EdgeLimits(max_connections=8)
    candor = await Candor(
        make_settings(tmp_path / "candor.db", slack.url), clock, slack, limits=limits
    ).start()
    slow: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        # A /kudos in flight (Slack's users.info answers after 0.5 s) is busy: never evicted.
        slack.delays["users.info"] = 0.5
        in_flight = asyncio.create_task(candor.command("/kudos", "<@UBOB> #mentoring thanks"))
        await until(lambda: bool(slack.calls_to("users.info")))  # the handler has it
        for _ in range(3 * limits.max_connections):
            reader, writer = await connect(candor)
            writer.write(b"POST /slack/events HTTP/1.1\r\nHost: candor\r\n")
            slow.append((reader, writer))
        assert candor.http
        async with candor.http.get(
            candor.url + "/healthz", timeout=aiohttp.ClientTimeout(total=BOUND_S)
        ) as r:
            assert r.status == 200
        status, reply = await in_flight
        assert status == 200 and "Kudos sent" in blocks_text(reply)
        assert len(candor.app[GUARD]) <= limits.max_connections
        # The 16 that waited longest were closed by the server (their resets arrive as they may).
        await until(lambda: sum(r.at_eof() or r.exception() is not None for r, _ in slow) >= 2 * 8)
    finally:
        for _, writer in slow:
            writer.close()
        await candor.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_file_limit(ulimit: str, *command: str) -> list[str]:
    """The command run under `ulimit -n` (-Sn: only the soft limit, which Candor may raise)."""
    return ["/bin/sh", "-c", f'ulimit {ulimit} && exec "$@"', "sh", *command]


def test_start_up_raises_a_low_soft_file_limit_towards_the_hard_one():
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    code = (
        "import resource; from bot.edge import raise_file_limit; raise_file_limit(1256); "
        "print(*resource.getrlimit(resource.RLIMIT_NOFILE))"
    )
    result = subprocess.run(
        with_file_limit("-Sn 64", sys.executable, "-c", code), capture_output=True, text=True, timeout=60
    )
    soft, hard_after = (int(n) for n in result.stdout.split())
    assert hard_after == hard
    assert soft == (1256 if hard == resource.RLIM_INFINITY else min(1256, hard))


async def test_a_flood_past_the_file_limit_leaves_health_answering_and_the_log_short(tmp_path, slack):
    # `candor serve` in a process allowed 320 open files, then 400 connections that never finish
    # their headers. Without a cap, accept() fails once the files run out, nothing new gets in
    # (not /healthz) and asyncio logs every failed accept.
    port, limit = free_port(), 320
    stderr = tmp_path / "stderr.log"
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CANDOR_", "PORT"))}
    with stderr.open("w") as err:
        proc = await asyncio.create_subprocess_exec(
            *with_file_limit(f"-n {limit}", sys.executable, "-m", "bot", "serve"),
            cwd=REPO_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=environment
            | {
                "SLACK_BOT_TOKEN": TOKEN,
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": slack.url,
                "PORT": str(port),
                "CANDOR_DB": str(tmp_path / "flood.db"),
            },
        )
    base = f"http://127.0.0.1:{port}"
    flood: list[asyncio.StreamWriter] = []
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=BOUND_S)) as http:
            for _ in range(300):  # up within 30 s
                try:
                    async with http.get(base + "/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    assert proc.returncode is None, stderr.read_text()
                await asyncio.sleep(0.1)

            async def slow_client() -> None:
                try:
                    _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 2)
                except (OSError, TimeoutError):
                    return
                writer.write(b"POST /slack/events HTTP/1.1\r\nHost: candor\r\n")
                flood.append(writer)

            for _ in range(8):
                await asyncio.gather(*(slow_client() for _ in range(50)))
            assert len(flood) > limit  # more connections than the server has files

        checker = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=BOUND_S))  # a new connection
        async with checker, checker.get(base + "/healthz") as response:
            assert response.status == 200
    finally:
        for writer in flood:
            writer.close()
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 30)
    log = stderr.read_text()
    records = [json.loads(line) for line in log.splitlines()]
    assert "out of system resource" not in log
    assert any("connection limit reached" in r["msg"] for r in records)
    assert len(records) < 40, log[-3000:]
    assert not any("exc" in r for r in records)


# --- clients that send garbage ------------------------------------------------------------------
async def test_a_bad_header_line_is_one_short_warning(candor, logs):
    reader, writer = await connect(candor)
    writer.write(
        b"POST /slack/events HTTP/1.1\r\nHost: candor\r\nthis is no header\r\nContent-Length: 0\r\n\r\n"
    )
    assert (await closed_by_server(reader)).split(b"\r\n")[0].endswith(b" 400 Bad Request")
    writer.close()
    [line] = lines(logs)
    assert line["level"] == "warning" and "exc" not in line
    assert len(json.dumps(line)) < 400


async def test_a_client_that_hangs_up_mid_body_is_one_short_warning(candor, logs):
    _, writer = await connect(candor)
    writer.write(
        b"POST /slack/events HTTP/1.1\r\nHost: candor\r\nContent-Type: application/json\r\n"
        b'Content-Length: 1000\r\n\r\n{"type":'
    )
    await writer.drain()
    writer.close()
    await until(lambda: bool(lines(logs)))
    await asyncio.sleep(0.05)  # anything aiohttp would log after it
    [line] = lines(logs)
    assert line["level"] == "warning" and "exc" not in line and "went away" in line["msg"]


# --- signed bodies that are not what Slack sends ------------------------------------------------
def interaction(**fields: Any) -> dict[str, Any]:
    base = {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": "UALICE"}, "trigger_id": "t.1"}
    base |= {"actions": [{"action_id": CheckinAction.RESPOND, "value": "1"}]}
    return {k: v for k, v in (base | fields).items() if v is not None}


MALFORMED = {
    "payload is a list": ("payload", "[]"),
    "payload is a number": ("payload", "123"),
    "user is a string": ("payload", json.dumps(interaction(user="UALICE"))),
    "no actions": ("payload", json.dumps(interaction(actions=[]))),
    "an action is a string": ("payload", json.dumps(interaction(actions=["x"]))),
    "a view without type": (
        "payload",
        json.dumps(
            interaction(
                type="view_submission",
                actions=None,
                view={"callback_id": FormId.NEW, "state": {"values": {}}},
            )
        ),
    ),
    "a view whose state is a list": (
        "payload",
        json.dumps(
            interaction(
                type="view_submission",
                actions=None,
                view={"type": "modal", "callback_id": FormId.NEW, "state": {"values": []}},
            )
        ),
    ),
    "nested ten thousand deep": ("payload", "[" * 10000),
    "an event that is a string": (
        "json",
        json.dumps({"type": "event_callback", "event_id": "E1", "event": "x"}),
    ),
    "JSON that is a list": ("json", "[]"),
}


@pytest.mark.parametrize("case", MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_signed_malformed_body_is_400_with_one_short_line(candor, logs, case):
    kind, content = case
    if kind == "json":
        body, content_type = content, "application/json"
    else:
        body, content_type = urllib.parse.urlencode({kind: content}), "application/x-www-form-urlencoded"
    response = await candor.post(body, content_type, candor.sign(body))
    assert response.status == 400
    [line] = lines(logs)
    assert line["level"] == "warning" and "exc" not in line and line["msg"].startswith("malformed")
    assert candor.count("processed") == 0 and candor.count("outbox") == 0


@pytest.mark.parametrize("field", ["user_id", "channel_id", "team_id"])
async def test_a_signed_command_without_who_or_where_is_refused_and_nothing_stored(candor, slack, field):
    form = {"command": "/kudos", "text": "<@UBOB> #mentoring thanks", "trigger_id": "t.2"}
    form |= {"user_id": "UALICE", "channel_id": "CTEAM", "team_id": TEAM}
    for value in (None, ""):
        fields = {k: v for k, v in (form | {field: value}).items() if v is not None}
        body = urllib.parse.urlencode(fields)
        response = await candor.post(body, "application/x-www-form-urlencoded", candor.sign(body))
        assert response.status == 400
    await candor.settle()
    assert candor.count("kudos") == 0 and candor.count("outbox") == 0 and slack.delivered() == []


async def test_a_signed_body_that_is_not_utf8_is_refused_not_a_crash(candor, logs):
    body, timestamp = b"command=%2Fkudos&text=\xff\xfe", str(int(candor.clock.now()))
    digest = hmac.new(SECRET.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": "v0=" + digest.hexdigest()}
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    assert candor.http
    async with candor.http.post(candor.url + "/slack/events", data=body, headers=headers) as response:
        assert 400 <= response.status < 500
    assert not [line for line in lines(logs) if line["level"] == "error"]


async def test_slacks_url_check_and_certificate_check_still_pass(candor):
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "legacy"})
    response = await candor.post(body, "application/json", candor.sign(body))
    assert response.status == 200 and "c-123" in await response.text()
    body = urllib.parse.urlencode({"ssl_check": "1", "token": "legacy"})
    response = await candor.post(body, "application/x-www-form-urlencoded", candor.sign(body))
    assert response.status == 200


async def test_a_command_whose_text_says_payload_is_still_a_command(candor):
    # Bolt reads any form containing "payload" as an interaction; Candor parses the body itself.
    status, reply = await candor.command("/kudos", "<@UBOB> #mentoring shipped the payload parser")
    assert status == 200 and "Kudos sent" in blocks_text(reply)
    assert candor.count("kudos") == 1


# --- bodies too big to parse --------------------------------------------------------------------
async def test_bodies_and_forms_too_big_are_refused_before_parsing(candor, logs):
    limit = EdgeLimits().max_body
    many_fields = "&".join(f"f{i}=x" for i in range(200_000))  # about 1.5 MB...
    many_fields = many_fields[: limit - 10_000]  # ...cut to fit the size limit: the count refuses it
    few_too_many = urllib.parse.urlencode({"command": "/kudos", **{f"f{i}": "x" for i in range(60)}})
    big = urllib.parse.urlencode({"command": "/kudos", "text": "x" * limit})
    for body, status in ((many_fields, 413), (few_too_many, 413), (big, 413)):
        response = await candor.post(body, "application/x-www-form-urlencoded", candor.sign(body))
        assert response.status == status
    # A body without a length (chunked) is cut off as it passes the limit.
    assert candor.http

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536

    async with candor.http.post(candor.url + "/slack/events", data=chunks()) as response:
        assert response.status == 413
    assert len(lines(logs)) == 4 and candor.count("kudos") == 0


@pytest.mark.parametrize("settings_overrides", [SPEAKUP])
async def test_the_largest_form_candor_builds_fits_the_limit_even_in_emoji(candor, slack, clock):
    # The author's case view at its fullest: the concern and 12 replies shown, each cut to 1,000
    # characters, every one an emoji (12 bytes JSON-escaped, 16 URL-encoded), and a follow-up of
    # 3,000 more. Slack sends the whole view back with the answer.
    emoji = "\U0001f4e3"
    ack = await raise_concern(candor, slack, concern=emoji * rules.MAX_CONCERN)
    code = code_from(ack)
    await publish(candor, clock)
    for _ in range(rules.CASE_VIEW_MESSAGES):
        assert await candor.click(ActionId.REPLY, case_id(candor), user=MANAGER, channel="CCONCERNS") == 200
        ack = await candor.submit(slack.opened_views()[-1], {"text": emoji * rules.MAX_REPLY}, user=MANAGER)
        assert "reply is posted" in blocks_text(ack["view"])
    assert await candor.click(ActionId.VIEW, code, user=AUTHOR, channel="DAUTHOR") == 200
    view = slack.opened_views()[-1]
    answer = {"followup": {"followup": {"type": "plain_text_input", "value": emoji * rules.MAX_REPLY}}}
    payload = {"type": "view_submission", "view": {**view, "state": {"values": answer}}}
    size = len(urllib.parse.urlencode({"payload": json.dumps(payload)}))
    assert 200_000 < size < EdgeLimits().max_body * 0.6  # what the EdgeLimits comment says
    ack = await candor.submit(view, {"followup": emoji * rules.MAX_REPLY}, user=AUTHOR)  # not refused
    assert ack["response_action"] in ("update", "errors")


# --- replays ------------------------------------------------------------------------------------
@pytest.mark.parametrize("settings_overrides", [SPEAKUP])
async def test_a_replayed_manager_reply_is_posted_once(candor, slack, clock):
    await raise_concern(candor, slack)
    await publish(candor, clock)
    assert await candor.click(ActionId.REPLY, case_id(candor), user=MANAGER, channel="CCONCERNS") == 200
    form = slack.opened_views()[-1]
    for _ in range(2):  # the same signed request, twice
        await candor.submit(form, {"text": "We hear you."}, user=MANAGER, trigger_id="trig.reply.same")
    await candor.settle()
    replies = [p for p in slack.delivered_to("CCONCERNS") if "We hear you." in blocks_text(p)]
    assert len(replies) == 1
    assert candor.db.execute("select count(*) from concern_messages where kind = 'reply'").fetchone()[0] == 1


@pytest.mark.parametrize("settings_overrides", [SPEAKUP])
async def test_a_replayed_button_click_is_handled_once(candor, slack, clock):
    await raise_concern(candor, slack)
    await publish(candor, clock)
    opened = len(slack.opened_views())
    for _ in range(3):
        assert (
            await candor.click(
                ActionId.REPLY, case_id(candor), user=MANAGER, channel="CCONCERNS", trigger_id="trig.b"
            )
            == 200
        )
    assert len(slack.opened_views()) == opened + 1


@pytest.mark.parametrize("settings_overrides", [SPEAKUP])
async def test_an_anonymous_authors_replays_are_caught_in_memory_and_forgotten(candor, slack, clock):
    status, _ = await candor.command("/speakup", "", user=AUTHOR)
    assert status == 200
    new_form = slack.opened_views()[-1]
    processed = candor.count("processed")
    code = ""
    for _ in range(2):
        ack = await candor.submit(
            new_form, {"concern": "Dates are set for us."}, user=AUTHOR, trigger_id="trig.n"
        )
        code = code if ack == {} else code_from(ack)  # the first answer shows the code
    assert candor.count("concerns") == 1 and ack == {}  # the replay closes the form, nothing more
    replays = candor.app[REPLAYS]
    assert len(replays) == 1
    await publish(candor, clock)  # half an hour later
    opened = len(slack.opened_views())
    for _ in range(2):
        await candor.click(ActionId.VIEW, code, user=AUTHOR, channel="DAUTHOR", trigger_id="trig.v")
    assert len(slack.opened_views()) == opened + 1
    case_form = slack.opened_views()[-1]
    for _ in range(2):
        await candor.submit(case_form, {"followup": "And again today."}, user=AUTHOR, trigger_id="trig.c")
    assert candor.db.execute("select count(*) from concern_messages where kind = 'author'").fetchone()[0] == 1

    # Nothing about these interactions was written; they are held in memory, for 5 minutes: the
    # submission is forgotten by now, the click and the follow-up are not, yet.
    assert candor.count("processed") == processed
    assert len(replays) == 2
    clock.advance(301)
    await candor.click(ActionId.VIEW, code, user=AUTHOR, channel="DAUTHOR")
    assert len(replays) == 1  # only the new click


# --- logs that repeat ---------------------------------------------------------------------------
def test_the_same_failure_a_thousand_times_is_logged_a_few_times(logs):
    flood = logging.getLogger("asyncio")
    for _ in range(1000):
        flood.error("socket.accept() out of system resource", exc_info=OSError(24, "Too many open files"))
    logging.getLogger("candor.test").warning("something else")
    messages = [line["msg"] for line in lines(logs)]
    assert messages.count("socket.accept() out of system resource") == 5
    assert "something else" in messages


def test_held_back_records_are_counted_on_the_next_one_that_passes():
    now = [0.0]
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RepeatLimiter(burst=2, window_s=60, clock=lambda: now[0]))
    logger = logging.getLogger("candor.test.repeats")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        for address in range(50):
            logger.warning("Error handling request from %s", f"10.0.0.{address}")
            logger.info("routine")  # never held back
        now[0] = 61
        logger.warning("Error handling request from %s", "10.0.0.99")
    finally:
        logger.removeHandler(handler)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    warnings = [r for r in records if r["level"] == "warning"]
    assert len(warnings) == 3 and warnings[-1]["repeated"] == 48
    assert sum(r["msg"] == "routine" for r in records) == 50
