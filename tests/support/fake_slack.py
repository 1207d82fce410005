"""A fake of Slack's Web API on loopback (port 0) that records every call.

Like opsdroid's external_api: per-method stacks of canned answers, and a record of what the bot
sent. It fakes *Slack's* server, never Candor's code.

Files go as in Slack's upload flow: `files.getUploadURLExternal` gives an address on this server,
the bytes are POSTed there (answered as the method "upload"), and `files.completeUploadExternal`
shares the uploaded files in a conversation id (never a user id, as Slack insists), which for a
person is the DM `conversations.open` gave. `shared_files()` is what people received.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    answered: int  # the HTTP status the fake gave


@dataclass
class SharedFile:
    """A file completeUploadExternal shared: what the recipients can open."""

    id: str
    name: str
    title: str | None
    content: bytes
    channel: str
    comment: str | None
    thread: str | None


@dataclass
class Canned:
    status: int = 200
    body: dict[str, Any] = field(default_factory=lambda: {"ok": True})
    headers: dict[str, str] = field(default_factory=dict)


class FakeSlackApi:
    BOT_USER = "UCANDOR"

    def __init__(self, clock: Any = None) -> None:
        self.clock = clock
        self.calls: list[Call] = []
        self.users: dict[str, dict[str, Any]] = {
            self.BOT_USER: {"id": self.BOT_USER, "name": "candor", "is_bot": True},
        }
        self._canned: dict[str, list[Canned]] = defaultdict(list)
        self._always: dict[str, Canned] = {}
        self._ts = 1000
        self.delays: dict[str, float] = {}  # method -> seconds to wait before answering
        self.outside: set[str] = set()  # channels the bot has not been invited to
        self.members: dict[str, list[str]] = {}  # channel -> member ids
        # method -> what happens elsewhere while Slack handles the next call (run once, then dropped)
        self.meanwhile: dict[str, Callable[[], Any]] = {}  # may return an awaitable
        self.runner: web.AppRunner | None = None
        self.url = ""
        self.dms: dict[str, str] = {}  # DM id -> the person conversations.open opened it with
        self.uploads: dict[str, dict[str, Any]] = {}  # file id -> name, length, bytes once POSTed
        self.shared: list[SharedFile] = []
        self._files = 0
        self._base = ""

    # --- what tests arrange -------------------------------------------------------------
    def add_user(self, user_id: str, name: str, **flags: Any) -> None:
        self.users[user_id] = {
            "id": user_id,
            "name": name,
            "real_name": name.title(),
            "profile": {"display_name": name},
            "tz": flags.pop("tz", "Europe/Berlin"),
            **flags,
        }

    def answer_next(self, method: str, status: int = 200, headers: dict | None = None, **body: Any) -> None:
        """Queue one answer for the next call of `method` (then back to normal)."""
        body = body or {"ok": status == 200}
        self._canned[method].append(Canned(status, body, headers or {}))

    def answer_always(self, method: str, status: int = 200, **body: Any) -> None:
        self._always[method] = Canned(status, body or {"ok": status == 200})

    def back_to_normal(self, method: str) -> None:
        self._always.pop(method, None)
        self._canned.pop(method, None)

    # --- what tests read ----------------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def delivered(self) -> list[dict[str, Any]]:
        """chat.postMessage calls that the fake accepted."""
        return [c.params for c in self.calls_to("chat.postMessage") if c.answered == 200]

    def delivered_to(self, channel: str) -> list[dict[str, Any]]:
        return [p for p in self.delivered() if p.get("channel") == channel]

    def dm_of(self, user: str) -> str:
        """The DM conversation id Slack has for a person (conversations.open answers it)."""
        return "D" + user.removeprefix("U")

    def shared_files(self, user: str | None = None) -> list[SharedFile]:
        """Files shared by completeUploadExternal; with `user`, those in that person's DM."""
        if user is None:
            return list(self.shared)
        return [f for f in self.shared if self.dms.get(f.channel) == user]

    def opened_views(self) -> list[dict[str, Any]]:
        views = []
        for call in self.calls_to("views.open"):
            view = call.params["view"]
            views.append(json.loads(view) if isinstance(view, str) else view)
        return views

    # --- the server ---------------------------------------------------------------------
    async def start(self) -> FakeSlackApi:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle)
        app.router.add_post("/respond/{id}", self._respond)
        app.router.add_post("/upload/{file_id}", self._upload)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._base = f"http://127.0.0.1:{port}"
        self.url = f"{self._base}/api/"
        return self

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update(dict(await request.post()))
        if method in self.delays:
            await asyncio.sleep(self.delays[method])
        if method in self.meanwhile:
            done = self.meanwhile.pop(method)()
            if inspect.isawaitable(done):
                await done
        canned = self._next_canned(method)
        status, body, headers = self._answer(method, params, canned)
        now = self.clock.now() if self.clock else 0.0
        self.calls.append(Call(method, params, now, status))
        return web.Response(
            status=status, text=json.dumps(body), headers=headers, content_type="application/json"
        )

    async def _respond(self, request: web.Request) -> web.Response:
        """A command's or action's response_url: Slack shows the JSON to the user."""
        self.calls.append(
            Call("response_url", await request.json(), self.clock.now() if self.clock else 0.0, 200)
        )
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        """An address files.getUploadURLExternal gave: takes the file's bytes (raw, as slack_sdk
        sends them, or a multipart form's `file`). Recorded as the method "upload"."""
        file_id = request.match_info["file_id"]
        if request.content_type == "multipart/form-data":
            part = (await request.post()).get("file")
            data = part.file.read() if isinstance(part, web.FileField) else str(part or "").encode()
        else:
            data = await request.read()
        canned = self._next_canned("upload")
        known = self.uploads.get(file_id)
        if canned:
            status, text = canned.status, json.dumps(canned.body)
        elif known is None:
            status, text = 404, "not found"
        else:
            known["content"] = data
            status, text = 200, f"OK - {len(data)}"
        now = self.clock.now() if self.clock else 0.0
        self.calls.append(
            Call(
                "upload",
                {"file_id": file_id, "bytes": data, "auth": request.headers.get("Authorization")},
                now,
                status,
            )
        )
        return web.Response(status=status, text=text, headers=canned.headers if canned else {})

    def _next_canned(self, method: str) -> Canned | None:
        if self._canned.get(method):
            return self._canned[method].pop(0)
        return self._always.get(method)

    def _answer(self, method: str, params: dict[str, Any], canned: Canned | None) -> tuple[int, dict, dict]:
        if canned:
            return canned.status, canned.body, canned.headers
        if method == "auth.test":
            return (
                200,
                {"ok": True, "user_id": self.BOT_USER, "bot_id": "BCANDOR", "team_id": "T1"},
                {},
            )
        if method == "users.info":
            user = self.users.get(params.get("user", ""))
            if user is None:
                return 200, {"ok": False, "error": "user_not_found"}, {}
            return 200, {"ok": True, "user": user}, {}
        if method == "conversations.info":
            channel = params.get("channel", "")
            return 200, {"ok": True, "channel": {"id": channel, "is_member": channel not in self.outside}}, {}
        if method == "conversations.members":
            everyone = [u for u in self.users if u != self.BOT_USER]
            return 200, {"ok": True, "members": self.members.get(params.get("channel", ""), everyone)}, {}
        if method == "views.open":
            return 200, {"ok": True, "view": {"id": "V1"}}, {}
        if method == "conversations.open":
            users = params.get("users", "")
            if users not in self.users or "," in users:
                return 200, {"ok": False, "error": "user_not_found"}, {}
            dm = self.dm_of(users)
            self.dms[dm] = users
            return 200, {"ok": True, "channel": {"id": dm}}, {}
        if method == "files.getUploadURLExternal":
            self._files += 1
            file_id = f"F{self._files:04d}"
            self.uploads[file_id] = {"name": params.get("filename"), "length": int(params.get("length", 0))}
            return 200, {"ok": True, "upload_url": f"{self._base}/upload/{file_id}", "file_id": file_id}, {}
        if method == "files.completeUploadExternal":
            return self._complete(params)
        if method == "chat.postMessage":
            self._ts += 1
            return (
                200,
                {"ok": True, "channel": params.get("channel"), "ts": f"{self._ts}.000100"},
                {},
            )
        return 200, {"ok": True}, {}

    def _complete(self, params: dict[str, Any]) -> tuple[int, dict, dict]:
        channel = params.get("channel_id") or ""
        if channel and not re.fullmatch(r"[CGDZ][A-Z0-9]{2,}", channel):
            error = "invalid_arguments"  # Slack: channel_id must match ^[CGDZ][A-Z0-9]{8,}$
            return 200, {"ok": False, "error": error}, {}
        files = json.loads(params.get("files") or "[]")
        uploads = [self.uploads.get(f.get("id"), {}) for f in files]
        if not files or any("content" not in u for u in uploads):
            return 200, {"ok": False, "error": "file_not_found"}, {}
        if any(u["length"] != len(u["content"]) for u in uploads):
            return 200, {"ok": False, "error": "file_upload_size_mismatch"}, {}
        for f, upload in zip(files, uploads, strict=True):
            del self.uploads[f["id"]]
            if not channel:  # uploaded, shared nowhere: only Candor could see it
                continue
            self.shared.append(
                SharedFile(
                    id=f["id"],
                    name=upload["name"],
                    title=f.get("title"),
                    content=upload["content"],
                    channel=channel,
                    comment=params.get("initial_comment"),
                    thread=params.get("thread_ts"),
                )
            )
        return 200, {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}, {}
