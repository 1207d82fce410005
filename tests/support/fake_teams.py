"""A fake of Microsoft's side of Teams on loopback (port 0): the Bot Connector a bot posts to
(reached through each activity's `serviceUrl`), the OpenID metadata and signing keys that tokens
are checked against, and the login endpoint where the bot gets its own token.

Like fake_slack.py it records every call and can be told to answer with an error. The signing
key is made here, so tests sign tokens Candor validates for real (issuer, audience, expiry,
signature, endorsements, service URL).
"""

from __future__ import annotations

import json
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.com"
APP_ID = "00000000-0000-0000-0000-00000000c4d0"
APP_PASSWORD = "test-teams-secret-never-log-me"
TENANT = "tenant-1"
BOT = "28:" + APP_ID
CANDOR_TOKEN = "candor-outbound-token-never-log-me"


@dataclass
class Call:
    method: str
    path: str
    body: dict[str, Any] | None
    authorization: str | None
    answered: int


@dataclass
class Canned:
    status: int
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # drop the connection without answering (the request did reach us)
    normal: bool = False  # answer as usual (lets a test fail a later post, not the next one)


class FakeTeams:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.dialogs: list[dict[str, Any]] = []  # cards Candor answered task modules with
        self.members: dict[str, list[dict[str, Any]]] = defaultdict(list)  # conversation -> roster
        self.people: dict[str, dict[str, Any]] = {}  # user id -> account
        self._canned: list[Canned] = []
        self.token_refusal: Canned | None = None  # how the login endpoint answers, while set
        self.token_lifetime = 3600  # seconds; Candor renews a token 5 minutes before it expires
        self._next_id = 0
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-key-1"
        self.runner: web.AppRunner | None = None
        self.url = ""

    # --- what tests arrange -------------------------------------------------------------
    def add_person(self, user: str, name: str, aad: str | None = None, teams: tuple[str, ...] = ()) -> None:
        account = {"id": user, "name": name, "aadObjectId": aad or f"aad-{user[3:]}", "tenantId": TENANT}
        self.people[user] = account
        for team in teams:
            self.members[team].append(account)

    def answer_next(self, status: int, code: str = "", headers: dict[str, str] | None = None) -> None:
        """The next post, reply or update gets this answer (then back to normal)."""
        body = {"error": {"code": code, "message": code}} if code else {}
        self._canned.append(Canned(status, body, headers or {}))

    def answer_later(self, posts_first: int, status: int, code: str = "") -> None:
        """`posts_first` posts are answered as usual, then the next gets this answer."""
        self._canned.extend(Canned(0, normal=True) for _ in range(posts_first))
        self.answer_next(status, code)

    def refuse_tokens(self, status: int = 401, code: str = "invalid_client") -> None:
        """Every token request from now on gets this answer (a revoked secret, an outage)."""
        self.token_refusal = Canned(status, {"error": code} if code else {})

    def accept_tokens(self) -> None:
        self.token_refusal = None

    def hang_up_next(self) -> None:
        self._canned.append(Canned(0, hang=True))

    # --- tokens -------------------------------------------------------------------------
    def token(self, **claims: Any) -> str:
        """A Bot Connector token as Teams sends one; override any claim (exp, aud, serviceurl…)."""
        kid = claims.pop("kid", self.kid)
        now = int(time.time())  # PyJWT checks expiry against the real clock
        payload = {
            "iss": ISSUER,
            "aud": APP_ID,
            "serviceurl": self.url,
            "nbf": now - 60,
            "exp": now + 3600,
        } | claims
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": kid})

    def forged(self) -> str:
        """Every claim right, signed by a key Microsoft never published."""
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = int(time.time())
        payload = {"iss": ISSUER, "aud": APP_ID, "serviceurl": self.url, "nbf": now - 60, "exp": now + 3600}
        return jwt.encode(payload, other, algorithm="RS256", headers={"kid": self.kid})

    # --- what tests read ----------------------------------------------------------------
    def sent(self) -> list[Call]:
        """Posts, replies and updates the fake accepted."""
        return [c for c in self.calls if "/activities" in c.path and c.answered in (200, 201)]

    def sent_to(self, conversation: str) -> list[dict[str, Any]]:
        return [c.body or {} for c in self.sent() if c.path.split("/")[3].split(";")[0] == conversation]

    def answers_to(self, conversation: str) -> list[dict[str, Any]]:
        """What Candor answered people's messages there: replies to an activity (POST
        …/activities/<id>), not the outbox's own posts (POST …/activities) nor edits (PUT)."""
        return [
            c.body or {}
            for c in self.sent()
            if c.method == "POST"
            and c.path.split("/")[3].split(";")[0] == conversation
            and c.path.rstrip("/").split("/activities")[-1].strip("/")
        ]

    def cards(self) -> list[dict[str, Any]]:
        found = []
        for call in self.sent():
            for attachment in (call.body or {}).get("attachments") or []:
                found.append(attachment["content"])
        return found

    # --- the server ---------------------------------------------------------------------
    async def start(self) -> FakeTeams:
        app = web.Application()
        app.router.add_get("/openid", self._openid)
        app.router.add_get("/keys", self._keys)
        app.router.add_post("/login/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_route("*", "/v3/conversations", self._create)
        app.router.add_route("*", "/v3/conversations/{conversation}/activities", self._activity)
        app.router.add_route("*", "/v3/conversations/{conversation}/activities/{activity}", self._activity)
        app.router.add_get("/v3/conversations/{conversation}/members", self._roster)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/"
        return self

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()

    @property
    def openid_url(self) -> str:
        return self.url + "openid"

    @property
    def login_url(self) -> str:
        return self.url + "login/"

    async def _openid(self, request: web.Request) -> web.Response:
        self.calls.append(Call("GET", request.path, None, None, 200))
        return web.json_response({"issuer": ISSUER, "jwks_uri": self.url + "keys"})

    async def _keys(self, request: web.Request) -> web.Response:
        self.calls.append(Call("GET", request.path, None, None, 200))
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk |= {"kid": self.kid, "use": "sig", "endorsements": ["msteams"]}
        return web.json_response({"keys": [jwk]})

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.calls.append(Call("POST", request.path, {"grant_type": form.get("grant_type")}, None, 200))
        if self.token_refusal is not None:
            return web.json_response(self.token_refusal.body, status=self.token_refusal.status)
        if form.get("client_id") != APP_ID or form.get("client_secret") != APP_PASSWORD:
            return web.json_response({"error": "invalid_client"}, status=401)
        return web.json_response(
            {"access_token": CANDOR_TOKEN, "expires_in": self.token_lifetime, "token_type": "Bearer"}
        )

    def token_requests(self) -> int:
        return sum(1 for c in self.calls if c.path.startswith("/login/"))

    async def _body(self, request: web.Request) -> dict[str, Any] | None:
        if not request.can_read_body:
            return None
        return await request.json()

    async def _activity(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        auth = request.headers.get("Authorization")
        if request.method in ("POST", "PUT") and self._canned and self._canned[0].normal:
            self._canned.pop(0)
        elif request.method in ("POST", "PUT") and self._canned:
            canned = self._canned.pop(0)
            self.calls.append(Call(request.method, request.path, body, auth, canned.status))
            if canned.hang:
                assert request.transport is not None
                request.transport.close()
                return web.Response(status=500)  # never reaches the client
            return web.json_response(canned.body, status=canned.status, headers=canned.headers)
        self.calls.append(
            Call(request.method, request.path, body, auth, 200 if request.method == "PUT" else 201)
        )
        if request.method == "PUT":
            return web.json_response({"id": request.match_info["activity"]})
        self._next_id += 1
        return web.json_response({"id": f"msg-{self._next_id}"}, status=201)

    async def _create(self, request: web.Request) -> web.Response:
        body = await self._body(request) or {}
        self.calls.append(Call(request.method, request.path, body, request.headers.get("Authorization"), 201))
        user = ((body.get("members") or [{}])[0]).get("id", "")
        return web.json_response({"id": f"a:personal-{user}", "activityId": str(uuid.uuid4())}, status=201)

    async def _roster(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conversation"]
        self.calls.append(Call("GET", request.path, None, request.headers.get("Authorization"), 200))
        return web.json_response(self.members.get(conversation, []))

    async def _member(self, request: web.Request) -> web.Response:
        member = request.match_info["member"]
        self.calls.append(Call("GET", request.path, None, request.headers.get("Authorization"), 200))
        if member not in self.people:
            return web.json_response({"error": {"code": "MemberNotFoundInConversation"}}, status=404)
        return web.json_response(self.people[member])
