"""Ack-latency benchmark: Candor's full /kudos against a bare aiohttp handler and a typical Bolt app.

Every server runs in its own process on 127.0.0.1; a fake Slack Web API (another process) answers
the bot's calls. The load generator pre-signs N `/kudos` requests and sends them at concurrency C.
A second case fans out 5,000 check-ins due in the same minute and reports the largest event-loop
stall, the /kudos ack latency measured meanwhile, and how long the outbox takes to deliver. A
third (`--case teams`) posts Teams kudos activities, each answered with a reply through a fake
Bot Connector, to Candor and to a bare botbuilder echo bot in the same run. A fourth
(`--case backlog`) starts Candor with 0 and then 20,000 posts waiting in one paced channel and
reports the server's idle CPU and the /kudos ack latency with each. `--case report` seeds
a million rows across practices and times a 90-day team report and the dashboard's page.
`--case pg` runs /kudos on PostgreSQL with 1, 2 and 3 instances (a throw-away server, as the tests
start) beside SQLite with one.
Run by hand (`make bench` or `python scripts/bench.py --case fanout`); it prints figures and never
fails on them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"


# --- the servers ---------------------------------------------------------------------------
def serve_fake_slack(port: int) -> None:
    """Slack's Web API, just enough for the bot: auth.test, users.info, chat.postMessage."""
    counter = {"ts": 0}

    async def api(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update({k: str(v) for k, v in (await request.post()).items()})
        if method == "users.info":
            user = params.get("user", "")
            return web.json_response({"ok": True, "user": {"id": user, "name": user.lower()}})
        if method == "chat.postMessage":
            counter["ts"] += 1
            return web.json_response({"ok": True, "ts": f"{counter['ts']}.0001"})
        return web.json_response({"ok": True, "user_id": "UCANDOR", "bot_id": "BCANDOR"})

    app = web.Application()
    app.router.add_route("*", "/api/{method}", api)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def serve_bare(port: int) -> None:
    async def ok(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="")

    app = web.Application()
    app.router.add_post("/slack/events", ok)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def serve_typical_bolt(port: int, api_url: str, db_path: str) -> None:
    """What a typical Bolt bot looks like: default settings, ack(), one SQLite insert.

    Python's sqlite3 defaults are kept on purpose: a rollback journal with synchronous=FULL, so each
    insert is committed on its own and fsynced (about 12 ms at C=1 here). That is what the Bolt
    samples and most small bots do (`sqlite3.connect(path)`, insert, commit); tuning it (WAL,
    synchronous=NORMAL) would measure a bot that Candor's comparison is not about. Candor's figure is
    made better by making Candor faster, never by weakening this reference.
    """
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    conn = sqlite3.connect(db_path)
    conn.execute("create table if not exists kudos (user text, text text, at real)")
    bolt = AsyncApp(client=AsyncWebClient(token=TOKEN, base_url=api_url), signing_secret=SECRET)

    @bolt.command("/kudos")
    async def kudos(ack: Any, command: dict[str, Any]) -> None:
        await ack("Thanks!")
        conn.execute("insert into kudos values (?, ?, ?)", (command["user_id"], command["text"], time.time()))
        conn.commit()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", events)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def slack_candor_env(port: int, db_path: str, api_url: str) -> dict[str, str]:
    """`candor serve` for Slack against the fake Web API: no daily cap (every request is a kudos
    stored), warnings only in its log."""
    return os.environ | {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api_url,
        "PORT": str(port),
        "CANDOR_DB": db_path,
        "CANDOR_KUDOS_DAILY_CAP": str(10**9),
        "CANDOR_LOG_LEVEL": "WARNING",
    }


# --- the load generator --------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def signed_kudos(n: int) -> list[tuple[bytes, dict[str, str]]]:
    verifier = SignatureVerifier(SECRET)
    ts = str(int(time.time()))
    requests = []
    for i in range(n):
        body = urllib.parse.urlencode(
            {
                "team_id": "T1",
                "channel_id": f"C{i % 50:04d}",
                # A giver per request: with 997 givers cycling, each had given some 80 kudos "in
                # the last day" by a run's end, all read back to apply the cap on every request
                # (a path Candor's default cap of 5 keeps short), and later rounds ran slower.
                "user_id": f"U{i:07d}",
                "command": "/kudos",
                "text": f"<@UBOB|bob> #mentoring thanks for the pairing, round {i}",
                "trigger_id": f"bench.{i}.{time.time_ns()}",
            }
        )
        signature = verifier.generate_signature(timestamp=ts, body=body)
        assert signature is not None  # None only without a timestamp
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
        }
        requests.append((body.encode(), headers))
    return requests


async def load(url: str, requests: list[tuple[bytes, dict[str, str]]], concurrency: int) -> dict:
    latencies: list[float] = []
    errors = 0
    queue = iter(requests)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal errors
            for body, headers in queue:
                started = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p95": pct(0.95),
        "p99": pct(0.99),
        "errors": errors,
    }


async def wait_ready(url: str) -> None:
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.post(url, data=b"") as response:
                    await response.read()
                    return
            except aiohttp.ClientError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)


# Fair measurement on a 2-core machine: each server under test on core 0, the load generator and
# the fake Slack on core 1 (when `taskset` is there), so the server's figures are one core's.
SERVER_CORE, LOAD_CORE = "0", "1"
FANOUT_LOAD_S = 6  # /kudos during the firing and the first seconds of delivery
WRK_SECONDS = 10.0
TASKSET = shutil.which("taskset")
WRK = shutil.which("wrk")


def pinned(core: str, args: list[str]) -> list[str]:
    return [TASKSET, "-c", core, *args] if TASKSET and (os.cpu_count() or 1) > 1 else args


def spawn(role: str, port: int, env: dict[str, str] | None = None, *extra: str) -> subprocess.Popen:
    if role == "candor":
        args = [sys.executable, "-m", "bot", "serve"]
    else:
        args = [sys.executable, __file__, "--role", role, "--port", str(port), *extra]
    core = LOAD_CORE if role in ("fake-slack", "fake-connector") else SERVER_CORE
    return subprocess.Popen(
        pinned(core, args), cwd=ROOT, env=env or os.environ.copy(), stderr=subprocess.DEVNULL
    )


# wrk replays pre-signed requests, each a different giver and trigger id, so no request is a
# cheap refusal or a deduplicated retry. One line per request: timestamp, signature, body.
WRK_SCRIPT = """
local requests, i = {}, 0
function init(args)
  for line in io.lines(args[1]) do
    local ts, sig, body = line:match("([^\t]+)\t([^\t]+)\t(.*)")
    requests[#requests + 1] = wrk.format("POST", nil, {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["X-Slack-Request-Timestamp"] = ts, ["X-Slack-Signature"] = sig }, body)
  end
end
function request()
  i = i + 1
  return requests[(i - 1) % #requests + 1]
end
"""
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk_requests(count: int) -> Path:
    """A directory with wrk's script and `count` distinct signed requests for it to replay."""
    work = Path(tempfile.mkdtemp(prefix="candor-wrk-"))
    (work / "requests.lua").write_text(WRK_SCRIPT)
    with open(work / "requests.tsv", "w", encoding="utf-8") as out:
        for body, headers in signed_kudos(count):
            ts, sig = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
            out.write(f"{ts}\t{sig}\t{body.decode()}\n")
    return work


def wrk_run(url: str, concurrency: int, seconds: float, work: Path) -> dict:
    """Requests/s and latency percentiles from wrk, replaying the requests in `work`."""
    command = [WRK or "wrk", "-t1", f"-c{concurrency}", f"-d{seconds:g}s", "--latency", "-s"]
    command += [str(work / "requests.lua"), url, "--", str(work / "requests.tsv")]
    output = subprocess.run(pinned(LOAD_CORE, command), capture_output=True, text=True, check=True).stdout
    found = {
        p: float(v) * _UNITS[u]
        for p, v, u in re.findall(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    }
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        "p50": found.get("50", 0.0),
        "p95": found.get("90", 0.0),  # wrk reports 90%, not 95%: shown in the p95 column as "p90"
        "p99": found.get("99", 0.0),
        "errors": int(errors.group(1)) if errors else 0,
    }


def wrk_load(url: str, concurrency: int, seconds: float, count: int) -> dict:
    return wrk_run(url, concurrency, seconds, wrk_requests(count))


async def warm_up(url: str, n: int) -> None:
    await wait_ready(url)
    if WRK:  # the fair load generator when it is installed (apt-get install wrk)
        await asyncio.get_running_loop().run_in_executor(None, wrk_load, url, 8, 2, 5000)
    else:
        await load(url, signed_kudos(min(300, n)), 8)  # warm up caches, connections, JIT-free paths


async def measure_once(url: str, n: int, concurrency: int, pid: int) -> tuple[int, dict]:
    """One row: requests made and their figures, with the server's CPU time per request (this
    machine's speed drifts, and the same code costs up to twice as much in a slow minute)."""
    before = cpu_seconds(pid)
    if WRK:
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(None, wrk_load, url, concurrency, WRK_SECONDS, 40_000)
        count = int(result["rps"] * WRK_SECONDS)
    else:
        count, result = n, await load(url, signed_kudos(n), concurrency)
    result["cpu_us"] = (cpu_seconds(pid) - before) / max(1, count) * 1e6
    return count, result


def median_row(runs: list[tuple[int, dict]]) -> tuple[int, dict, str]:
    """The run with the median p99 (its own req/s and p50 beside it, so the row is one real run),
    and the range of p99 across runs."""
    ordered = sorted(runs, key=lambda run: run[1]["p99"])
    count, result = ordered[(len(ordered) - 1) // 2]
    low, high = ordered[0][1]["p99"], ordered[-1][1]["p99"]
    return count, result, f"{low:.1f}-{high:.1f}"


async def main_async(n: int, concurrencies: list[int], rounds: int) -> None:
    """The three targets stay up side by side and are measured in turn, `rounds` times: this
    machine's speed drifts from minute to minute, and alternating spreads the drift over all of
    them instead of favouring whichever ran in the fast minute."""
    tmp = tempfile.mkdtemp(prefix="candor-bench-")
    slack_port = free_port()
    api_url = f"http://127.0.0.1:{slack_port}/api/"
    procs = [spawn("fake-slack", slack_port)]
    targets: list[tuple[str, str, int]] = []  # name, url, server pid
    runs: dict[tuple[str, int], list[tuple[int, dict]]] = {}
    try:
        await asyncio.sleep(0.5)
        port = free_port()
        procs.append(spawn("bare", port))
        targets.append(("bare aiohttp (ceiling)", f"http://127.0.0.1:{port}/slack/events", procs[-1].pid))
        port = free_port()
        procs.append(spawn("typical-bolt", port, None, "--api-url", api_url, "--db", f"{tmp}/typical.db"))
        targets.append(("typical Bolt + insert", f"http://127.0.0.1:{port}/slack/events", procs[-1].pid))
        port = free_port()
        procs.append(spawn("candor", port, slack_candor_env(port, f"{tmp}/candor.db", api_url)))
        targets.append(("Candor /kudos (full)", f"http://127.0.0.1:{port}/slack/events", procs[-1].pid))
        for _, url, _ in targets:
            await warm_up(url, n)
        for round_ in range(rounds):
            for name, url, pid in targets:
                for c in concurrencies:
                    count, result = await measure_once(url, n, c, pid)
                    runs.setdefault((name, c), []).append((count, result))
                    if rounds > 1:
                        print(
                            f"round {round_ + 1}: {name} C={c}: {result['rps']:.0f} req/s, "
                            f"p99 {result['p99']:.2f} ms",
                            flush=True,
                        )
        db = sqlite3.connect(f"{tmp}/candor.db")
        kudos, outbox = (db.execute(f"select count(*) from {t}").fetchone()[0] for t in ("kudos", "outbox"))
        print(f"candor stored {kudos} kudos and queued {outbox} outbox rows")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=10)
    header: tuple[str, ...] = ("target", "C", "n", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "cpu us")
    if rounds > 1:
        print(f"the run with the median p99 of {rounds}, and the p99 range across them")
        header += ("p99 range",)
    print(f"{header[0]:<26} " + " ".join(f"{h:>7}" for h in header[1:]))
    for (name, c), measured in runs.items():
        count, r, spread = median_row(measured)
        print(
            f"{name:<26} {c:>7} {count:>7} {r['rps']:>7.0f} {r['p50']:>7.2f} {r['p95']:>7.2f} "
            f"{r['p99']:>7.2f} {r['errors']:>7} {r['cpu_us']:>7.0f}" + (f" {spread:>9}" if rounds > 1 else "")
        )
    print(json.dumps({"cpus": os.cpu_count(), "python": sys.version.split()[0], "rounds": rounds}))


# --- fan-out: 5,000 channels due at once --------------------------------------------------
async def loop_stall_monitor(
    stop: asyncio.Event, wal: Path, interval: float = 0.005
) -> tuple[list[float], int]:
    """How late the event loop was to wake this task, at each tick (its stalls, sorted), and the
    largest size the write-ahead log reached: what emptying it costs grows with its size."""
    late, largest = [], 0
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(interval)
        late.append(time.perf_counter() - started - interval)
        largest = max(largest, file_size(wal))
    return sorted(late), largest


def file_size(path: Path) -> int:
    with contextlib.suppress(FileNotFoundError):
        return path.stat().st_size
    return 0


async def fanout_case(channels: int, api_url: str, tmp: str) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bot.config import Settings
    from bot.server import SCHEDULER, STORE, build_app

    port = free_port()
    settings = Settings(
        db_path=Path(tmp) / "fanout.db",
        port=port,
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=api_url,
        kudos_daily_cap=10**9,
        max_schedules_per_channel=10**6,
    )
    runner = web.AppRunner(build_app(settings), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        store, scheduler = runner.app[STORE], runner.app[SCHEDULER]
        now = time.time()
        zones = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney")
        rows = []
        for i in range(channels):
            tz = zones[i % len(zones)]
            local = datetime.fromtimestamp(now, ZoneInfo(tz))
            rows.append(
                {
                    "platform": "slack",
                    "workspace": "T1",
                    "conversation": f"CF{i:06d}",
                    "kind": "checkin",
                    "owner": "UBENCH",
                    "days": "mon,tue,wed,thu,fri,sat,sun",
                    "at": local.strftime("%H:%M"),
                    "tz": tz,
                    "every_weeks": 1,
                    "anchor": "",
                    "template": "weekly",
                    "paused": 0,
                    "checked_until": now - 120,
                    "created_at": now - 120,
                    "tags": "[]",
                    "skip_dates": "[]",
                    "remind": 0,
                }
            )
        columns = list(rows[0])
        insert = f"insert into schedules ({', '.join(columns)}) values ({', '.join('?' for _ in columns)})"

        def insert_all(tx: Any) -> None:  # plain SQL, as either engine runs it
            for row in rows:
                tx.execute(insert, [row[c] for c in columns])

        await store.run(insert_all)
        await scheduler.rebuild()
        url = f"http://127.0.0.1:{port}/slack/events"
        await wait_ready(url)
        loop = asyncio.get_running_loop()
        if WRK:  # on the other core, as in the ack case; a Python load generator competes for CPU
            requests = wrk_requests(20_000)
            acked = loop.run_in_executor(None, wrk_run, url, 8, FANOUT_LOAD_S, requests)
        else:
            load = subprocess.Popen(  # noqa: ASYNC220 (started once, read in an executor)
                [sys.executable, __file__, "--role", "load", "--url", url, "-n", "3000", "-c", "8"],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                text=True,
            )
            acked = loop.run_in_executor(None, lambda: json.loads(load.communicate()[0]))
        await asyncio.sleep(0.5)  # the load is running before the minute comes due
        stop = asyncio.Event()
        wal = settings.db_path.with_name(settings.db_path.name + "-wal")
        monitor = asyncio.create_task(loop_stall_monitor(stop, wal))
        started = time.perf_counter()
        report = await scheduler.fire_due()  # what the minute's jobs run, triggered now
        fired_in = time.perf_counter() - started
        fanout_pending = "select count(*) from outbox where status = 'pending' and conversation like 'CF%'"
        while store.db.execute(fanout_pending).fetchone()[0]:  # noqa: ASYNC110 (polling the database)
            await asyncio.sleep(0.25)  # seldom: this query is the bench's, not Candor's, work
        delivered_in = time.perf_counter() - started
        stop.set()
        stalls, wal_largest = await monitor
        acks = await acked
        (sent,) = store.db.execute(
            "select count(*) from outbox where status = 'sent' and conversation like 'CF%'"
        ).fetchone()
        print(f"fan-out: {report.fired} check-ins fired in {fired_in:.2f} s across {len(zones)} timezones")
        worst, p99 = stalls[-1] * 1000, stalls[min(len(stalls) - 1, int(0.99 * len(stalls)))] * 1000
        print(f"fan-out: largest event-loop stall {worst:.1f} ms (99th percentile {p99:.1f} ms)")
        print(f"fan-out: largest write-ahead log {wal_largest / 2**20:.1f} MB")
        print(f"fan-out: outbox delivered {sent} posts in {delivered_in:.2f} s (1 post/s per channel)")
        print(
            f"fan-out: /kudos during it, C=8: {acks['rps']:.0f} req/s, p50 {acks['p50']:.2f} ms, "
            f"p99 {acks['p99']:.2f} ms, errors {acks['errors']}"
        )
    finally:
        await runner.cleanup()


async def fanout_main(channels: int) -> None:
    cores = os.sched_getaffinity(0)
    if TASKSET and (os.cpu_count() or 1) > 1:  # Candor serves from this process: one core, as `serve`
        os.sched_setaffinity(0, {int(SERVER_CORE)})
    tmp = tempfile.mkdtemp(prefix="candor-fanout-")
    slack_port = free_port()
    fake = spawn("fake-slack", slack_port)
    try:
        await asyncio.sleep(0.5)
        await fanout_case(channels, f"http://127.0.0.1:{slack_port}/api/", tmp)
    finally:
        fake.terminate()
        fake.wait(timeout=10)
        os.sched_setaffinity(0, cores)


# --- Teams: a kudos message with its reply, against a bare botbuilder echo bot ---------------
def serve_fake_connector(port: int) -> None:
    """The Bot Connector, just enough: posts, replies, edits and new personal chats."""
    counter = {"n": 0}

    async def post(request: web.Request) -> web.Response:
        await request.read()
        counter["n"] += 1
        return web.json_response({"id": f"m{counter['n']}"}, status=201)

    async def create(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"id": "a:" + body["members"][0]["id"], "activityId": "x"}, status=201)

    app = web.Application()
    app.router.add_post("/v3/conversations", create)
    app.router.add_route("*", "/v3/conversations/{c}/activities", post)
    app.router.add_route("*", "/v3/conversations/{c}/activities/{a}", post)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def serve_echo_bot(port: int) -> None:
    """What a bare botbuilder bot looks like: the sample echo bot, SDK defaults, no auth."""
    from botbuilder.core import ActivityHandler, TurnContext
    from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication

    class Config:
        APP_ID = ""
        APP_PASSWORD = ""

    class EchoBot(ActivityHandler):
        async def on_message_activity(self, turn_context: TurnContext) -> None:
            await turn_context.send_activity(f"Echo: {turn_context.activity.text}")

    adapter, bot = CloudAdapter(ConfigurationBotFrameworkAuthentication(Config())), EchoBot()

    async def messages(request: web.Request) -> web.Response:
        response = await adapter.process(request, bot)  # 201 when done: counted as 200 here
        return web.Response(status=200) if response is None or response.status == 201 else response

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


TEAM_CHANNEL = "19:bench@thread.tacv2"


def teams_activity(service_url: str, i: int, **extra: object) -> dict:
    """An activity in one of 50 channels of one team (as the Slack case spreads over 50)."""
    channel = TEAM_CHANNEL if i < 0 else f"19:bench{i % 50}@thread.tacv2"
    return {
        "type": "message",
        "id": f"bench-{i}-{time.time_ns()}",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": f"29:giver{i}", "name": f"Giver {i}"},  # a giver per request, as in Slack's
        "recipient": {"id": "28:candor", "name": "Candor"},
        "conversation": {"id": channel, "conversationType": "channel", "tenantId": "T1"},
        "channelData": {"tenant": {"id": "T1"}, "team": {"id": TEAM_CHANNEL}, "channel": {"id": channel}},
        **extra,
    }


def teams_kudos(service_url: str, n: int) -> list[tuple[bytes, dict[str, str]]]:
    requests = []
    for i in range(n):
        receiver, name = f"29:receiver{i % 50}", f"Rae {i % 50}"
        text = f"<at>Candor</at> kudos <at>{name}</at> #mentoring thanks for the pairing, round {i}"
        entities = [
            {
                "type": "mention",
                "text": "<at>Candor</at>",
                "mentioned": {"id": "28:candor", "name": "Candor"},
            },
            {"type": "mention", "text": f"<at>{name}</at>", "mentioned": {"id": receiver, "name": name}},
        ]
        body = json.dumps(teams_activity(service_url, i, text=text, entities=entities)).encode()
        requests.append((body, {"Content-Type": "application/json"}))
    return requests


def cpu_seconds(pid: int) -> float:
    """CPU time a process has used (Linux /proc): the server's cost per activity whatever else runs."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def teams_load(url: str, service_url: str, n: int, concurrency: int, pid: int) -> dict:
    await load(url, teams_kudos(service_url, min(300, n)), 8)  # warm up
    requests = teams_kudos(service_url, n)
    before = cpu_seconds(pid)
    result = await load(url, requests, concurrency)
    result["cpu_ms"] = (cpu_seconds(pid) - before) * 1000 / n
    return result


async def teams_main(n: int, concurrencies: list[int]) -> None:
    tmp = tempfile.mkdtemp(prefix="candor-teams-")
    connector_port = free_port()
    service_url = f"http://127.0.0.1:{connector_port}/"
    procs = [spawn("fake-connector", connector_port)]
    rows: list[tuple] = []
    try:
        await asyncio.sleep(0.5)
        port = free_port()
        procs.append(spawn("echo-bot", port))
        url = f"http://127.0.0.1:{port}/api/messages"
        await wait_ready(url)
        for c in concurrencies:
            result = await teams_load(url, service_url, n, c, procs[-1].pid)
            rows.append(("bare botbuilder echo bot", c, n, result))
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))} | {
            "CANDOR_TEAMS_WITHOUT_AUTH": "yes",
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "CANDOR_DB": f"{tmp}/candor.db",
            "CANDOR_KUDOS_DAILY_CAP": str(10**9),
            "CANDOR_LOG_LEVEL": "ERROR",
        }
        procs.append(spawn("candor", port, env))
        url = f"http://127.0.0.1:{port}/api/messages"
        await wait_ready(url)
        install = teams_activity(
            service_url, -1, type="conversationUpdate", membersAdded=[{"id": "28:candor"}]
        )
        async with aiohttp.ClientSession() as session:
            await session.post(url, json=install)
        for c in concurrencies:
            result = await teams_load(url, service_url, n, c, procs[-1].pid)
            rows.append(("Candor kudos + reply", c, n, result))
        db = sqlite3.connect(f"{tmp}/candor.db")
        kudos, sent = (
            db.execute(q).fetchone()[0]
            for q in ("select count(*) from kudos", "select count(*) from outbox where status = 'sent'")
        )
        print(f"candor stored {kudos} kudos; the outbox delivered {sent} posts meanwhile")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=10)
    header = ("target (Teams)", "C", "n", "act/s", "p50 ms", "p95 ms", "p99 ms", "errors", "cpu ms")
    print(f"{header[0]:<26} " + " ".join(f"{h:>7}" for h in header[1:]))
    for name, c, count, r in rows:
        print(
            f"{name:<26} {c:>7} {count:>7} {r['rps']:>7.0f} {r['p50']:>7.2f} {r['p95']:>7.2f} "
            f"{r['p99']:>7.2f} {r['errors']:>7} {r['cpu_ms']:>7.2f}"
        )
    print("cpu ms: the server process's CPU time per activity (1,000 / cpu ms = activities/s on one core)")
    print(json.dumps({"cpus": os.cpu_count(), "python": sys.version.split()[0]}))


# --- backlog: posts waiting in one paced channel -------------------------------------------
BACKLOG_CHANNEL = "CBACKLOG"


def fill_backlog(db_path: str, waiting: int) -> None:
    """Queue `waiting` posts to one channel, all due now, as a burst of kudos or an outage would."""
    from bot import outbox
    from bot.messages import text_message
    from bot.store import open_store

    store = open_store(db_path)
    now = time.time()
    with store.transaction() as tx:
        for i in range(waiting):
            outbox.enqueue(
                tx,
                platform="slack",
                to=outbox.Channel(BACKLOG_CHANNEL),
                message=text_message(f"waiting post {i}"),
                now=now,
            )
    store.close()


async def backlog_case(waiting_counts: list[int], n: int, concurrencies: list[int], idle_s: float) -> None:
    tmp = tempfile.mkdtemp(prefix="candor-backlog-")
    slack_port = free_port()
    api_url = f"http://127.0.0.1:{slack_port}/api/"
    procs = [spawn("fake-slack", slack_port)]
    rows = []
    try:
        await asyncio.sleep(0.5)
        for run, waiting in enumerate(waiting_counts):
            db_path = f"{tmp}/backlog-{run}-{waiting}.db"  # a fresh database each run
            fill_backlog(db_path, waiting)
            port = free_port()
            server = spawn("candor", port, slack_candor_env(port, db_path, api_url))
            procs.append(server)
            url = f"http://127.0.0.1:{port}/slack/events"
            await wait_ready(url)
            await asyncio.sleep(2.0)  # start-up done, the backlog's worker running at 1 post/s
            before = cpu_seconds(server.pid)
            await asyncio.sleep(idle_s)
            idle_cpu = (cpu_seconds(server.pid) - before) / idle_s * 100
            await load(url, signed_kudos(min(300, n)), 8)  # warm up
            acks = []
            for c in concurrencies:
                before = cpu_seconds(server.pid)
                result = await load(url, signed_kudos(n), c)
                # The server's CPU per request is steadier than latency on a busy machine.
                result["cpu_ms"] = (cpu_seconds(server.pid) - before) / n * 1000
                acks.append((c, result))
            db = sqlite3.connect(db_path)
            (still,) = db.execute(
                "select count(*) from outbox where status = 'pending' and conversation = ?", [BACKLOG_CHANNEL]
            ).fetchone()
            db.close()
            rows.append((waiting, still, idle_cpu, acks))
            server.terminate()
            server.wait(timeout=10)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=10)
    print(f"backlog: idle CPU over {idle_s:.0f} s, then {n} /kudos per concurrency")
    print(
        f"{'waiting':>8} {'left':>8} {'idle CPU %':>10} {'C':>4} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'CPU ms/req':>10}"
    )
    for waiting, still, idle_cpu, acks in rows:
        for c, r in acks:
            print(
                f"{waiting:>8} {still:>8} {idle_cpu:>10.1f} {c:>4} {r['rps']:>7.0f} {r['p50']:>7.2f} "
                f"{r['p99']:>7.2f} {r['cpu_ms']:>10.3f}"
            )


# --- the team report and the dashboard on a million rows ----------------------------------
def report_main(rows: int, repeats: int = 5) -> None:
    """Seed `rows` rows across practices (a year of 50 teams), then time a 90-day report and the
    dashboard's page, for one team and for the whole workspace. Each time is the median of runs
    after one warm-up, on the file, as `candor serve` reads it."""
    from bot.config import Settings
    from bot.store import open_store
    from bot.web.dashboard import Request, render
    from handlers.catalog import load_catalog
    from handlers.context import Services
    from handlers.registry import REGISTRY
    from handlers.reporting import ReportScope
    from handlers.reports import gather
    from tests.support.clock import FakeClock
    from tests.support.seed import bulk

    clock = FakeClock()
    now = clock.now()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(db_path=Path(tmp) / "report.db")
        store = open_store(settings.db_path)
        started = time.perf_counter()
        with store.transaction() as tx:
            made = bulk(tx, now=now, rows=rows)
        store.db.execute("analyze")
        seeded_s = time.perf_counter() - started
        print(
            f"seeded {sum(made.values()):,} rows in {seeded_s:.1f} s: "
            + ", ".join(f"{k} {v:,}" for k, v in made.items())
        )
        services = Services(
            store=store,
            clock=clock,
            settings=settings,
            catalog=load_catalog(settings.data_dir),
            registry=REGISTRY,
            directories={},
            syntaxes={},  # figures and the dashboard only: no command is answered
        )

        def timed(work: Callable[[], object]) -> float:
            work()
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                work()
                times.append((time.perf_counter() - t) * 1000)
            return statistics.median(times)

        results = []
        for team in ("C0007", None):
            scope = ReportScope("slack", "TBENCH", team, now - 90 * 86400, now, 5, 12 if team else None)
            report_ms = timed(partial(gather.figures, store.db, REGISTRY, scope))
            req = Request("slack", "TBENCH", int(now) + 3600, "t", team, None, now)
            page_ms = timed(partial(render, store.db, services, req, {"C0007": "#team-7"}))
            results.append((team or "whole workspace", report_ms, page_ms))
        store.close()
    print(f"{'scope':<18} {'90-day report ms':>17} {'dashboard ms':>13}")
    for name, report_ms, page_ms in results:
        print(f"{name:<18} {report_ms:>17.1f} {page_ms:>13.1f}")
    print("target: under 500 ms each")
    print(json.dumps({"cpus": os.cpu_count(), "python": sys.version.split()[0], "rows": rows}))


# --- PostgreSQL: /kudos with 1, 2 and 3 instances on one database, beside SQLite with one ------
async def spread_load(urls: list[str], n: int, concurrency: int) -> dict:
    """N signed /kudos spread over the instances at once, as a load balancer would: total req/s,
    and the worst instance's p99."""
    requests = signed_kudos(n)
    started = time.perf_counter()
    results = await asyncio.gather(
        *(load(url, requests[i :: len(urls)], concurrency) for i, url in enumerate(urls))
    )
    elapsed = time.perf_counter() - started
    return {
        "rps": n / elapsed,
        "p99": max(r["p99"] for r in results),
        "errors": sum(r["errors"] for r in results),
    }


def unpinned_candor(env: dict[str, str]) -> subprocess.Popen:
    """`candor serve` free to use any core: the instances, PostgreSQL and the load share them."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"], cwd=ROOT, env=env, stderr=subprocess.DEVNULL
    )


async def pg_main(n: int, concurrency: int) -> None:
    from tests.support import postgres  # a throw-away PostgreSQL server, as the tests start

    server = postgres.start()
    if server is None:
        print(f"skipped: {postgres.SKIP_REASON}")
        return
    tmp = tempfile.mkdtemp(prefix="candor-bench-pg-")
    slack_port = free_port()
    fake = spawn("fake-slack", slack_port)
    api_url = f"http://127.0.0.1:{slack_port}/api/"
    rows = []
    try:
        for engine, count in (("SQLite", 1), ("PostgreSQL", 1), ("PostgreSQL", 2), ("PostgreSQL", 3)):
            url = server.new_database() if engine == "PostgreSQL" else ""
            procs, urls = [], []
            for _ in range(count):
                port = free_port()
                env = slack_candor_env(port, f"{tmp}/candor-{count}.db", api_url) | (
                    {"CANDOR_DATABASE_URL": url} if url else {}
                )
                procs.append(unpinned_candor(env))
                urls.append(f"http://127.0.0.1:{port}/slack/events")
            try:
                for url_ in urls:
                    await wait_ready(url_)
                await spread_load(urls, 200, concurrency)  # warm-up: connections, pools, caches
                rows.append((engine, count, await spread_load(urls, n, concurrency)))
            finally:
                for proc in procs:
                    proc.terminate()
                for proc in procs:
                    proc.wait(timeout=10)
    finally:
        fake.terminate()
        fake.wait(timeout=10)
        server.stop()
    print(f"{'engine':<12} {'instances':>9} {'req/s':>7} {'p99 ms':>7} {'errors':>7}")
    for engine, count, r in rows:
        print(f"{engine:<12} {count:>9} {r['rps']:>7.0f} {r['p99']:>7.1f} {r['errors']:>7}")
    print(json.dumps({"cpus": os.cpu_count(), "n": n, "concurrency per instance": concurrency}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="requests per run")
    parser.add_argument("-c", type=int, nargs="+", default=[1, 32], help="concurrency levels")
    parser.add_argument(
        "--case",
        choices=("ack", "fanout", "teams", "backlog", "report", "pg", "all"),
        default="all",
        help="which benchmark",
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="ack: measure the targets in turn this many times"
    )
    parser.add_argument("--channels", type=int, default=5000, help="fan-out: channels due at once")
    parser.add_argument(
        "--waiting", type=int, nargs="+", default=[0, 20000], help="backlog: posts waiting in one channel"
    )
    parser.add_argument("--idle-s", type=float, default=10.0, help="backlog: seconds of idle CPU measured")
    parser.add_argument("--rows", type=int, default=1_000_000, help="report: rows seeded across practices")
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--role", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "fake-slack":
        serve_fake_slack(args.port)
    elif args.role == "bare":
        serve_bare(args.port)
    elif args.role == "fake-connector":
        serve_fake_connector(args.port)
    elif args.role == "echo-bot":
        serve_echo_bot(args.port)
    elif args.role == "typical-bolt":
        serve_typical_bolt(args.port, args.api_url, args.db)
    elif args.role == "load":
        print(json.dumps(asyncio.run(load(args.url, signed_kudos(args.n), args.c[0]))))
    else:
        if args.case in ("ack", "all"):
            asyncio.run(main_async(args.n, args.c, args.rounds))
        if args.case in ("fanout", "all"):
            asyncio.run(fanout_main(args.channels))
        if args.case in ("teams", "all"):
            asyncio.run(teams_main(args.n, args.c))
        if args.case in ("backlog", "all"):
            asyncio.run(backlog_case(args.waiting, args.n, args.c, args.idle_s))
        if args.case in ("report", "all"):
            report_main(args.rows)
        if args.case in ("pg", "all"):
            asyncio.run(pg_main(args.n, args.c[-1]))


if __name__ == "__main__":
    main()
