"""Runs the real Candor server on 127.0.0.1 and talks to it as Slack does: signed HTTP requests."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from bot.config import REPO_ROOT, Settings
from bot.edge import EdgeLimits, GuardedSite
from bot.server import DISPATCHER, STORE, build_app
from tests.support.clock import FakeClock
from tests.support.fake_slack import FakeSlackApi

SECRET = "test-signing-secret-0123456789abcdef"
TOKEN = "xoxb-test-token-never-log-me-4242"
TEAM = "T1"


def hold_log(db_path: Path) -> sqlite3.Connection:
    """A reader's snapshot from now on: while it is open no checkpoint can empty the write-ahead
    log, so a test that searches the WAL for what a flow wrote finds all of it, however long the
    flow takes (the background task empties the file once commits pause). Close it when done."""
    reader = sqlite3.connect(db_path)
    reader.execute("begin")
    reader.execute("select count(*) from sqlite_master").fetchone()
    return reader


def make_settings(db_path: Path | str, api_url: str, **overrides: Any) -> Settings:
    """`db_path`: a SQLite file, or a PostgreSQL URL (the file is then not used)."""
    url = db_path if isinstance(db_path, str) else ""
    values: dict[str, Any] = {
        "db_path": Path("unused.db") if url else db_path,
        "database_url": url,
        "data_dir": REPO_ROOT / "data",
        "port": 0,
        "slack_bot_token": TOKEN,
        "slack_signing_secret": SECRET,
        "slack_api_url": api_url,
    }
    values.update(overrides)
    return Settings(**values)


class Candor:
    """One running server plus helpers to act as Slack and as a user."""

    def __init__(
        self, settings: Settings, clock: FakeClock, slack: FakeSlackApi, limits: EdgeLimits | None = None
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.slack = slack
        self.app = build_app(settings, clock=clock, limits=limits)
        self.runner = web.AppRunner(self.app, access_log=None)
        self.url = ""
        self.http: aiohttp.ClientSession | None = None
        self._triggers = 0

    async def start(self) -> Candor:
        await self.runner.setup()
        site = GuardedSite(self.runner, "127.0.0.1", 0)  # as `candor serve` listens
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self.http = aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        if self.http:
            await self.http.close()
        await self.runner.cleanup()

    @property
    def db(self) -> Any:
        return self.app[STORE].db

    @property
    def dispatcher(self) -> Any:
        return self.app[DISPATCHER]

    # --- as Slack -----------------------------------------------------------------------
    def sign(self, body: str, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
        ts = str(int(self.clock.now()) if timestamp is None else timestamp)
        signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
        assert signature is not None  # None only without a timestamp
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}

    async def post(self, body: str, content_type: str, headers: dict[str, str]) -> aiohttp.ClientResponse:
        assert self.http
        response = await self.http.post(
            self.url + "/slack/events",
            data=body.encode(),
            headers={"Content-Type": content_type, **headers},
        )
        await response.read()
        return response

    async def command(
        self,
        name: str,
        text: str,
        *,
        user: str = "UALICE",
        channel: str = "CTEAM",
        trigger_id: str | None = None,
        sign: Callable[[str], dict[str, str]] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Send a slash command; returns (HTTP status, the JSON Slack would show the user)."""
        self._triggers += 1
        form = {
            "token": "legacy-unused",
            "team_id": TEAM,
            "team_domain": "acme",
            "channel_id": channel,
            "channel_name": "team",
            "user_id": user,
            "user_name": user.lower(),
            "command": name,
            "text": text,
            "response_url": "https://hooks.slack.invalid/commands/1",
            "trigger_id": trigger_id or f"trig.{self._triggers}.{time.monotonic_ns()}",
            "api_app_id": "A1",
        }
        body = urllib.parse.urlencode(form)
        headers = (sign or self.sign)(body)
        response = await self.post(body, "application/x-www-form-urlencoded", headers)
        raw = await response.text()
        return response.status, (json.loads(raw) if raw.startswith("{") else {})

    async def interactive(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Send an interactivity payload (button press, form submission) as Slack does."""
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        response = await self.post(body, "application/x-www-form-urlencoded", self.sign(body))
        raw = await response.text()
        return response.status, (json.loads(raw) if raw.startswith("{") else {})

    async def click(
        self,
        action_id: str,
        value: str,
        *,
        user: str = "UALICE",
        channel: str = "CTEAM",
        trigger_id: str | None = None,
    ) -> int:
        """Press a button; the same `trigger_id` twice is Slack's request sent again (a replay)."""
        self._triggers += 1
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM},
            "user": {"id": user, "team_id": TEAM},
            "api_app_id": "A1",
            "trigger_id": trigger_id or f"trig.action.{self._triggers}",
            "channel": {"id": channel},
            "container": {"type": "message", "channel_id": channel},
            "response_url": self.slack.url.replace("/api/", f"/respond/{self._triggers}"),
            "actions": [{"type": "button", "action_id": action_id, "value": value, "block_id": "b"}],
        }
        status, _ = await self.interactive(payload)
        return status

    async def submit(
        self,
        view: dict[str, Any],
        answers: dict[str, Any],
        *,
        user: str = "UALICE",
        trigger_id: str | None = None,
    ) -> dict[str, Any]:
        """Fill in an opened modal like a person would and submit it; returns Slack's ack JSON.

        Each submission has its own trigger id, as in Slack; pass one again to replay a request."""
        self._triggers += 1
        values: dict[str, dict[str, Any]] = {}
        for block in view["blocks"]:
            if block.get("type") != "input":
                continue
            element = block["element"]
            kind, field = element["type"], block["block_id"]
            answer = answers.get(field, _initial(element))
            state: dict[str, Any] = {"type": kind}
            if kind == "plain_text_input":
                state["value"] = answer
            elif kind == "rich_text_input":  # typed text; each <@U…> in it is a person Slack marked
                state["rich_text_value"] = answer if isinstance(answer, dict) else rich_text(answer)
            elif kind == "static_select":
                state["selected_option"] = {"value": answer} if answer else None
            elif kind in ("multi_static_select", "checkboxes"):
                state["selected_options"] = [{"value": v} for v in (answer or [])]
            elif kind == "timepicker":
                state["selected_time"] = answer
            elif kind == "datepicker":
                state["selected_date"] = answer
            elif kind == "conversations_select":
                state["selected_conversation"] = answer
            elif kind == "users_select":
                state["selected_user"] = answer
            values[field] = {element["action_id"]: state}
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM},
            "user": {"id": user, "team_id": TEAM},
            "api_app_id": "A1",
            "trigger_id": trigger_id or f"trig.view.{self._triggers}",
            "view": {**view, "id": "V1", "state": {"values": values}},
        }
        status, ack = await self.interactive(payload)
        assert status == 200
        return ack

    async def event(self, event: dict[str, Any], *, event_id: str, retry: int | None = None) -> int:
        payload = {
            "token": "legacy-unused",
            "team_id": TEAM,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(self.clock.now()),
            "event": event,
        }
        body = json.dumps(payload)
        headers = self.sign(body)
        if retry is not None:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        response = await self.post(body, "application/json", headers)
        return response.status

    # --- waiting for the outbox ---------------------------------------------------------
    async def settle(self, timeout: float = 10.0) -> None:
        """Wait (real time, bounded) until the outbox has nothing due and no send in flight.

        Starting a pass here is safe: passes are synchronous and skip busy conversations.
        """
        deadline = time.monotonic() + timeout
        while await self.dispatcher.deliver_due() or self.dispatcher._workers:
            if time.monotonic() > deadline:
                raise AssertionError("the outbox did not settle")
            await asyncio.sleep(0.01)

    def outbox(self) -> list[dict[str, Any]]:
        cursor = self.db.execute("select * from outbox order by id")
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def count(self, table: str) -> int:
        return self.db.execute(f"select count(*) from {table}").fetchone()[0]


def rich_text(text: str | None) -> dict[str, Any]:
    """What Slack's rich_text_input sends for typed text: a section per line, <@U…> a user element."""
    sections = []
    for line in (text or "").split("\n"):
        elements: list[dict[str, Any]] = []
        for i, part in enumerate(re.split(r"<@([UW][A-Z0-9]+)>", line)):
            if i % 2:
                elements.append({"type": "user", "user_id": part})
            elif part:
                elements.append({"type": "text", "text": part})
        sections.append({"type": "rich_text_section", "elements": elements})
    return {"type": "rich_text", "elements": sections}


def _initial(element: dict[str, Any]) -> Any:
    """What Slack would submit for a field the person left as it was."""
    if "initial_value" in element:
        return element["initial_value"]  # for a rich_text_input, its rich text as it is
    if "initial_option" in element:
        return element["initial_option"]["value"]
    if "initial_options" in element:
        return [o["value"] for o in element["initial_options"]]
    for key in ("initial_time", "initial_date", "initial_conversation", "initial_user"):
        if key in element:
            return element[key]
    return None


def blocks_text(params: dict[str, Any]) -> str:
    """Every piece of text Slack would render from a message payload, joined."""
    texts = [str(params.get("text", ""))]
    blocks = params.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and "text" in node:
                texts.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return "\n".join(texts)
