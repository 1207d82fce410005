"""`candor` as real processes: its environment, a running `serve`, and a fake Slack they can reach.

The fake Slack runs on its own event loop in a thread, so plain (sync) tests can block on
subprocesses while it answers.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from slack_sdk.signature import SignatureVerifier

from bot.config import REPO_ROOT
from tests.support.candor import SECRET, TOKEN
from tests.support.fake_slack import FakeSlackApi

CANDOR = [sys.executable, "-m", "bot"]
NOWHERE = "http://127.0.0.1:9/api/"  # the discard port: nothing listens, connections are refused


def candor_env(db: Path, **extra: str) -> dict[str, str]:
    """The test process's environment without any Candor or Slack setting, plus `extra`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CANDOR_", "PORT", "HOST"))}
    return base | {"CANDOR_DB": str(db)} | extra


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def fake_slack_in_a_thread() -> Iterator[FakeSlackApi]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    fake = asyncio.run_coroutine_threadsafe(FakeSlackApi().start(), loop).result(10)
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def get(url: str) -> tuple[int, Any]:
    """GET a URL; (status, JSON body) whatever the status."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def signed_command(
    base: str,
    text: str,
    command: str = "/kudos",
    *,
    channel: str = "C1",
    trigger: str | None = None,
    timeout: float = 10,
) -> dict[str, Any]:
    """Send a signed slash command as Slack would; the JSON the person would see."""
    body = urllib.parse.urlencode(
        {
            "command": command,
            "text": text,
            "user_id": "UALICE",
            "team_id": "T1",
            "channel_id": channel,
            "trigger_id": trigger or f"trig.{time.monotonic_ns()}",
        }
    )
    ts = str(int(time.time()))  # a real process checks signatures against the real clock
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)
    assert signature is not None  # None only without a timestamp
    request = urllib.request.Request(
        base + "/slack/events",
        data=body.encode(),
        method="POST",
        headers={
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


class Serve:
    """One `candor serve` process; its stderr is collected by a thread so a pipe never fills."""

    def __init__(self, db: Path, *, slack_url: str = NOWHERE, host: str = "127.0.0.1", **extra: str) -> None:
        self.port = free_port()
        self.base = f"http://{host}:{self.port}"
        env = candor_env(
            db,
            SLACK_BOT_TOKEN=TOKEN,
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=slack_url,
            PORT=str(self.port),
            HOST=host,
        )
        self.proc = subprocess.Popen(
            [*CANDOR, "serve"],
            cwd=REPO_ROOT,
            env=env | extra,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stderr or []))
        self._reader.start()

    def wait_until_listening(self, timeout: float = 30) -> tuple[int, Any]:
        """The first /healthz answer, whatever it says; raises if the process exits first."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return get(self.base + "/healthz")
            except OSError:
                if self.proc.poll() is not None:
                    self._reader.join(10)
                    raise AssertionError(f"candor serve exited: {self.stderr()}") from None
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def exit_code(self, timeout: float = 30) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(10)
        return code

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
        self.exit_code()
        return self.stderr()

    def stderr(self) -> str:
        return "".join(self.lines)

    def log(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines if line.startswith("{")]

    def __enter__(self) -> Serve:
        return self

    def __exit__(self, *_: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.exit_code()
