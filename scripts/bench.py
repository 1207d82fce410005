"""Ack-latency benchmark: Candor's full /kudos against a bare aiohttp handler and a typical Bolt app.

Every server runs in its own process on 127.0.0.1; a fake Slack Web API (another process) answers
the bot's calls. The load generator pre-signs N `/kudos` requests and sends them at concurrency C.
A second case fans out 5,000 check-ins due in the same minute and reports the largest event-loop
stall, the /kudos ack latency measured meanwhile, and how long the outbox takes to deliver.
Run by hand (`make bench` or `python scripts/bench.py --case fanout`); it prints figures and never
fails on them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

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
                params.update(dict(await request.post()))
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
    """What a typical Bolt bot looks like: default settings, ack(), one SQLite insert."""
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    conn = sqlite3.connect(db_path)
    conn.execute("create table if not exists kudos (user text, text text, at real)")
    bolt = AsyncApp(client=AsyncWebClient(token=TOKEN, base_url=api_url), signing_secret=SECRET)

    @bolt.command("/kudos")
    async def kudos(ack, command) -> None:  # noqa: ANN001
        await ack("Thanks!")
        conn.execute("insert into kudos values (?, ?, ?)", (command["user_id"], command["text"], time.time()))
        conn.commit()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", events)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


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
                "user_id": f"U{i % 997:05d}",
                "command": "/kudos",
                "text": f"<@UBOB|bob> #mentoring thanks for the pairing, round {i}",
                "trigger_id": f"bench.{i}.{time.time_ns()}",
            }
        )
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": verifier.generate_signature(timestamp=ts, body=body),
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


def spawn(role: str, port: int, env: dict[str, str] | None = None, *extra: str) -> subprocess.Popen:
    if role == "candor":
        args = [sys.executable, "-m", "bot", "serve"]
    else:
        args = [sys.executable, __file__, "--role", role, "--port", str(port), *extra]
    return subprocess.Popen(args, cwd=ROOT, env=env or os.environ.copy(), stderr=subprocess.DEVNULL)


async def measure(name: str, url: str, n: int, concurrencies: list[int]) -> list[tuple]:
    await wait_ready(url)
    await load(url, signed_kudos(min(300, n)), 8)  # warm up caches, connections, JIT-free paths
    rows = []
    for c in concurrencies:
        result = await load(url, signed_kudos(n), c)
        rows.append((name, c, n, result))
    return rows


async def main_async(n: int, concurrencies: list[int]) -> None:
    tmp = tempfile.mkdtemp(prefix="candor-bench-")
    slack_port = free_port()
    api_url = f"http://127.0.0.1:{slack_port}/api/"
    procs = [spawn("fake-slack", slack_port)]
    rows: list[tuple] = []
    try:
        await asyncio.sleep(0.5)
        port = free_port()
        procs.append(spawn("bare", port))
        rows += await measure(
            "bare aiohttp (ceiling)", f"http://127.0.0.1:{port}/slack/events", n, concurrencies
        )
        port = free_port()
        procs.append(spawn("typical-bolt", port, None, "--api-url", api_url, "--db", f"{tmp}/typical.db"))
        rows += await measure(
            "typical Bolt + insert", f"http://127.0.0.1:{port}/slack/events", n, concurrencies
        )
        port = free_port()
        env = os.environ | {
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": api_url,
            "PORT": str(port),
            "CANDOR_DB": f"{tmp}/candor.db",
            "CANDOR_KUDOS_DAILY_CAP": str(10**9),
            "CANDOR_LOG_LEVEL": "WARNING",
        }
        procs.append(spawn("candor", port, env))
        rows += await measure(
            "Candor /kudos (full)", f"http://127.0.0.1:{port}/slack/events", n, concurrencies
        )
        db = sqlite3.connect(f"{tmp}/candor.db")
        kudos, outbox = (db.execute(f"select count(*) from {t}").fetchone()[0] for t in ("kudos", "outbox"))
        print(f"candor stored {kudos} kudos and queued {outbox} outbox rows")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=10)
    header = ("target", "C", "n", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors")
    print(f"{header[0]:<26} " + " ".join(f"{h:>7}" for h in header[1:]))
    for name, c, count, r in rows:
        print(
            f"{name:<26} {c:>7} {count:>7} {r['rps']:>7.0f} {r['p50']:>7.2f} {r['p95']:>7.2f} "
            f"{r['p99']:>7.2f} {r['errors']:>7}"
        )
    print(json.dumps({"cpus": os.cpu_count(), "python": sys.version.split()[0]}))


# --- fan-out: 5,000 channels due at once --------------------------------------------------
async def loop_stall_monitor(stop: asyncio.Event, interval: float = 0.005) -> list[float]:
    """How late the event loop was to wake this task, at each tick: its stalls, sorted."""
    late = []
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(interval)
        late.append(time.perf_counter() - started - interval)
    return sorted(late)


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
        store.db["schedules"].insert_all(rows, batch_size=1000)
        store.db.conn.commit()
        scheduler.rebuild()
        url = f"http://127.0.0.1:{port}/slack/events"
        await wait_ready(url)
        load = subprocess.Popen(  # noqa: ASYNC220 (started once, read in an executor)
            [sys.executable, __file__, "--role", "load", "--url", url, "-n", "3000", "-c", "8"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        await asyncio.sleep(0.5)  # the load is running before the minute comes due
        stop = asyncio.Event()
        monitor = asyncio.create_task(loop_stall_monitor(stop))
        started = time.perf_counter()
        report = await scheduler.fire_due()  # what the minute's jobs run, triggered now
        fired_in = time.perf_counter() - started
        fanout_pending = "select count(*) from outbox where status = 'pending' and conversation like 'CF%'"
        while store.db.execute(fanout_pending).fetchone()[0]:  # noqa: ASYNC110 (polling the database)
            await asyncio.sleep(0.25)  # seldom: this query is the bench's, not Candor's, work
        delivered_in = time.perf_counter() - started
        stop.set()
        stalls = await monitor
        out, _ = await asyncio.get_running_loop().run_in_executor(None, load.communicate)
        acks = json.loads(out)
        (sent,) = store.db.execute(
            "select count(*) from outbox where status = 'sent' and conversation like 'CF%'"
        ).fetchone()
        print(f"fan-out: {report.fired} check-ins fired in {fired_in:.2f} s across {len(zones)} timezones")
        worst, p99 = stalls[-1] * 1000, stalls[min(len(stalls) - 1, int(0.99 * len(stalls)))] * 1000
        print(f"fan-out: largest event-loop stall {worst:.1f} ms (99th percentile {p99:.1f} ms)")
        print(f"fan-out: outbox delivered {sent} posts in {delivered_in:.2f} s (1 post/s per channel)")
        print(
            f"fan-out: /kudos during it, C=8: {acks['rps']:.0f} req/s, p50 {acks['p50']:.2f} ms, "
            f"p99 {acks['p99']:.2f} ms, errors {acks['errors']}"
        )
    finally:
        await runner.cleanup()


async def fanout_main(channels: int) -> None:
    tmp = tempfile.mkdtemp(prefix="candor-fanout-")
    slack_port = free_port()
    fake = spawn("fake-slack", slack_port)
    try:
        await asyncio.sleep(0.5)
        await fanout_case(channels, f"http://127.0.0.1:{slack_port}/api/", tmp)
    finally:
        fake.terminate()
        fake.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="requests per run")
    parser.add_argument("-c", type=int, nargs="+", default=[1, 32], help="concurrency levels")
    parser.add_argument("--case", choices=("ack", "fanout", "all"), default="all", help="which benchmark")
    parser.add_argument("--channels", type=int, default=5000, help="fan-out: channels due at once")
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
    elif args.role == "typical-bolt":
        serve_typical_bolt(args.port, args.api_url, args.db)
    elif args.role == "load":
        print(json.dumps(asyncio.run(load(args.url, signed_kudos(args.n), args.c[0]))))
    else:
        if args.case in ("ack", "all"):
            asyncio.run(main_async(args.n, args.c))
        if args.case in ("fanout", "all"):
            asyncio.run(fanout_main(args.channels))


if __name__ == "__main__":
    main()
