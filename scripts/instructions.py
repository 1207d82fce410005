"""Instructions per /kudos: `candor serve` under valgrind's callgrind, counted after a warm-up.

This machine's speed drifts by tens of percent from one minute to the next, so a change of a few
percent in what a request costs cannot be seen in requests per second. An instruction count can:
it is the same from run to run within about 1 % (two runs of one commit: 3.93 M and 3.96 M). It
counts every thread of the process (the request path, the outbox's sends, the background
checkpoint) in user space only, so the kernel's share (socket and log writes) is not in it; the
ack bench (`scripts/bench.py`) still gives the figures that matter to people.

Run by hand from a checkout: `python scripts/instructions.py` (about two minutes; needs valgrind,
`apt-get install valgrind`). Compare two commits by running it in each.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import ROOT, free_port, load, signed_kudos, slack_candor_env, spawn, wait_ready

WARM_UP = 200  # requests before counting: imports, caches and the statement cache settle
CONCURRENCY = 4
START_S = 300  # Python under valgrind starts some 50 times slower


def counted(dump: Path) -> int:
    """The instructions in a callgrind dump (its `totals:` or `summary:` line)."""
    text = dump.read_text()
    found = re.search(r"^(?:totals|summary):\s+(\d+)", text, re.M)
    if found is None:
        raise SystemExit(f"no instruction total in {dump}")
    return int(found.group(1))


def kudos_stored(db_path: str) -> int:
    with contextlib.closing(sqlite3.connect(db_path)) as db:  # sqlite3's own `with` does not close
        return int(db.execute("select count(*) from kudos").fetchone()[0])


async def ready(url: str) -> None:
    deadline = time.monotonic() + START_S
    while True:
        try:
            await wait_ready(url)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise


def under_callgrind(env: dict[str, str], out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, "-m", "bot", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def control(server: subprocess.Popen, what: str) -> None:
    """`--zero` the counters, or `--dump` them to a file of their own."""
    subprocess.run(["callgrind_control", what, str(server.pid)], check=True, capture_output=True)


async def count(tmp: Path, requests: int) -> int:
    """Kudos stored while counting; the counts are in `tmp`'s callgrind dump."""
    slack_port, port = free_port(), free_port()
    fake = spawn("fake-slack", slack_port)
    db_path = str(tmp / "candor.db")
    server = under_callgrind(
        slack_candor_env(port, db_path, f"http://127.0.0.1:{slack_port}/api/"), tmp / "callgrind.out"
    )
    try:
        url = f"http://127.0.0.1:{port}/slack/events"
        await ready(url)
        signed = signed_kudos(WARM_UP + requests)
        await load(url, signed[:WARM_UP], CONCURRENCY)
        await asyncio.sleep(2)  # the warm-up's outbox sends and checkpoint pass go first
        control(server, "--zero")
        before = kudos_stored(db_path)
        result = await load(url, signed[WARM_UP:], CONCURRENCY)
        stored = kudos_stored(db_path) - before
        control(server, "--dump")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)
        fake.terminate()
        fake.wait(timeout=10)
    if result["errors"] or stored != requests:
        raise SystemExit(f"{result['errors']} errors, {stored} of {requests} kudos stored: not counted")
    return stored


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=600, help="requests counted")
    args = parser.parse_args()
    if not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    tmp = Path(tempfile.mkdtemp(prefix="candor-instructions-"))
    stored = asyncio.run(count(tmp, args.n))
    [dump] = tmp.glob("callgrind.out.*")  # the dump asked for; the exit's own is callgrind.out
    per_request = counted(dump) / stored / 1e6
    print(f"instructions per /kudos: {per_request:.2f} M ({stored} requests at C={CONCURRENCY})")


if __name__ == "__main__":
    main()
