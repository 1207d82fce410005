"""How Candor talks to the Bot Connector, and how it checks Teams' tokens, with botbuilder's own
classes where they are right and three replacements where they are not:

- Connector clients are reused, one per (service URL, audience). botbuilder builds a new
  msrest client for every turn and every proactive message, and each build costs about 4 ms of
  CPU (retry policies, a requests session): that alone caps a core at ~100 replies a second.
- The clients send through one shared aiohttp session, without msrest's own retries: msrest
  retries a POST on any 5xx, which replays a message that may have been posted. The outbox owns
  retries (bot/teams/sender.py says which failures are safe to retry).
- Candor's own token (client credentials) and Microsoft's token signing keys are fetched with
  aiohttp. botbuilder fetches both with blocking calls (MSAL, requests) on the event loop.

Token validation itself (issuer, audience, expiry, signature, endorsements, service URL) is the
SDK's: `_ParameterizedBotFrameworkAuthentication` with Microsoft's public-cloud values, whose
OpenID metadata URL and login URL are settings so that tests can run real validation against
keys they made.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from botbuilder.schema import Activity, CallerIdConstants
from botframework.connector import AsyncBfPipeline
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConfiguration,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    BotFrameworkAuthenticationFactory,
    ClaimsIdentity,
    ConnectorFactory,
    PasswordServiceClientCredentialFactory,
    UserTokenClient,
)
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor
from botframework.connector.skills import BotFrameworkClient
from jwt.algorithms import RSAAlgorithm
from msrest.pipeline import AsyncHTTPPolicy, AsyncHTTPSender, Request, Response
from msrest.universal_http.aiohttp import AioHttpClientResponse

from bot.config import Settings

log = logging.getLogger("candor.teams")

BOT_FRAMEWORK = "https://api.botframework.com"  # the audience of Candor's token, the channel's issuer
USER_AGENT = "Candor (botbuilder-python 4.17)"
KEYS_MAX_AGE_S = 24 * 3600.0  # the SDK's own: signing keys are fetched again after a day
UNKNOWN_KEY_REFRESH_S = 3600.0  # and at most hourly when a token names a key not seen yet
TOKEN_MARGIN_S = 300.0  # a token is renewed this long before it expires


class _AiohttpSender(AsyncHTTPSender):
    """msrest's transport, replaced: one aiohttp session for every client, a timeout, no retries."""

    def __init__(self, session: aiohttp.ClientSession, timeout_s: float) -> None:
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def __aenter__(self) -> _AiohttpSender:
        return self

    async def __aexit__(self, *exc_details: object) -> None:
        return None

    def build_context(self) -> None:
        return None

    async def send(self, request: Request, **config: Any) -> Response:
        http = request.http_request
        async with self._session.request(
            http.method, http.url, headers=dict(http.headers), data=http.data, timeout=self._timeout
        ) as raw:
            response = AioHttpClientResponse(http, raw)
            await response.load_body()
        return Response(request, response)


# What the token endpoint's answer says about Candor's credentials: Entra answers a wrong secret,
# app id or tenant with 400 or 401 (invalid_client, unauthorized_client, invalid_request).
REFUSING = frozenset({400, 401, 403})


class TokenRefused(PermissionError):
    """The token endpoint answered without a token; `code` is its error code or HTTP status."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(f"token request refused: {status} {code}".rstrip())
        self.status = status
        self.code = code or f"http_{status}"


class CandorToken:
    """Candor's own access token for the Bot Connector (OAuth client credentials), fetched with
    aiohttp and kept until shortly before it expires.

    `state` is what the last request for a token found, for /healthz: "checking" before the first,
    "ok", "rejected" (the credentials were refused: nothing can be sent) or "unreachable"."""

    def __init__(self, settings: Settings, session: aiohttp.ClientSession) -> None:
        tenant = settings.microsoft_app_tenant_id or AuthenticationConstants.DEFAULT_CHANNEL_AUTH_TENANT
        self.url = f"{settings.teams_login_url}{tenant}/oauth2/v2.0/token"
        self._app_id = settings.microsoft_app_id
        self._secret = settings.microsoft_app_password
        self._session = session
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()
        self.state = "checking"

    async def get(self) -> str:
        if self._token and time.monotonic() < self._expires:
            return self._token
        async with self._lock:
            if not (self._token and time.monotonic() < self._expires):
                await self._fetch()
        assert self._token
        return self._token

    async def _fetch(self) -> None:
        form = {
            "grant_type": "client_credentials",
            "client_id": self._app_id,
            "client_secret": self._secret,
            "scope": BOT_FRAMEWORK + "/.default",
        }
        try:
            async with self._session.post(
                self.url, data=form, timeout=aiohttp.ClientTimeout(total=10)
            ) as raw:
                status = raw.status
                try:
                    body = await raw.json(content_type=None)
                except ValueError:
                    body = None
        except (aiohttp.ClientError, TimeoutError):
            self.state = "unreachable"
            raise
        if not isinstance(body, dict) or status != 200 or "access_token" not in body:
            self.state = "rejected" if status in REFUSING else "unreachable"
            # The error code only: the body may echo what was sent.
            code = body.get("error") if isinstance(body, dict) else None
            raise TokenRefused(status, code if isinstance(code, str) else "")
        self._token = str(body["access_token"])
        self._expires = time.monotonic() + float(body.get("expires_in", 3600)) - TOKEN_MARGIN_S
        self.state = "ok"


class _Bearer(AsyncHTTPPolicy):
    """Puts Candor's token on every call to the connector; nothing when Teams runs without auth."""

    def __init__(self, token: CandorToken | None) -> None:
        super().__init__()
        self._token = token

    async def send(self, request: Request, **kwargs: Any) -> Response:
        if self._token is not None:
            request.http_request.headers["Authorization"] = "Bearer " + await self._token.get()
        assert self.next is not None  # set when the pipeline is built
        return await self.next.send(request, **kwargs)


class ReusedConnectors(ConnectorFactory):
    """One connector client per (service URL, audience), built once and kept."""

    def __init__(self, session: aiohttp.ClientSession, token: CandorToken | None, timeout_s: float) -> None:
        self._sender = _AiohttpSender(session, timeout_s)
        self._token = token
        self._clients: dict[tuple[str, str], ConnectorClient] = {}

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        key = (service_url, audience or BOT_FRAMEWORK)
        client = self._clients.get(key)
        if client is None:
            client = ConnectorClient(
                _Bearer(self._token), base_url=service_url, pipeline_type=AsyncBfPipeline, sender=self._sender
            )
            # msrest builds its default (requests) pipeline after ours and links the credentials
            # policy into it; built again, last, ours is the chain every call goes through.
            client.config.pipeline = AsyncBfPipeline(client.config)
            # Activities are the SDK's own models, built by Candor: checking each one again before
            # sending costs a third of a millisecond and finds nothing.
            client._serialize.client_side_validation = False
            client.config.add_user_agent(USER_AGENT)
            self._clients[key] = client
        return client

    @property
    def built(self) -> int:
        """How many clients were built (not a `__len__`: the SDK tests the factory's truth)."""
        return len(self._clients)


@dataclass(frozen=True)
class _SigningKey:
    public_key: Any
    endorsements: list[str]


class _SigningKeys:
    """Microsoft's token signing keys, read from the OpenID metadata with aiohttp. It stands in
    for the SDK's `_OpenIdMetadata` (same `get`), which fetches with blocking requests."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._keys: list[dict[str, Any]] = []
        self._fetched = -1e18
        self._lock = asyncio.Lock()

    async def get(self, key_id: str | None) -> _SigningKey:
        if time.monotonic() - self._fetched > KEYS_MAX_AGE_S:
            await self._refresh()
        found = self._find(key_id)
        if found is None and time.monotonic() - self._fetched > UNKNOWN_KEY_REFRESH_S:
            await self._refresh()
            found = self._find(key_id)
        if found is None:
            raise PermissionError("the token names an unknown signing key")
        return found

    def _find(self, key_id: str | None) -> _SigningKey | None:
        for key in self._keys:
            if key.get("kid") == key_id:
                return _SigningKey(
                    RSAAlgorithm.from_jwk(json.dumps(key)), list(key.get("endorsements") or [])
                )
        return None

    async def _refresh(self) -> None:
        async with self._lock:
            timeout = aiohttp.ClientTimeout(total=10)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.get(self.url) as raw:
                    raw.raise_for_status()
                    keys_url = (await raw.json(content_type=None))["jwks_uri"]
                async with session.get(keys_url) as raw:
                    raw.raise_for_status()
                    self._keys = list((await raw.json(content_type=None))["keys"])
            self._fetched = time.monotonic()


class CandorAuthentication(BotFrameworkAuthentication):
    """The SDK's authentication (public cloud, parameterised), with reused connector clients and
    one user-token client: Candor signs nobody in, and building one per turn costs as much as a
    connector client."""

    def __init__(self, settings: Settings, connectors: ReusedConnectors) -> None:
        tenant = settings.microsoft_app_tenant_id or AuthenticationConstants.DEFAULT_CHANNEL_AUTH_TENANT
        self._credentials = PasswordServiceClientCredentialFactory(
            settings.microsoft_app_id, settings.microsoft_app_password, settings.microsoft_app_tenant_id
        )
        self._inner = BotFrameworkAuthenticationFactory.create(
            validate_authority=True,
            to_channel_from_bot_login_url=settings.teams_login_url + tenant,
            to_channel_from_bot_oauth_scope=BOT_FRAMEWORK,
            to_bot_from_channel_token_issuer=AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER,
            oauth_url=AuthenticationConstants.OAUTH_URL,
            to_bot_from_channel_open_id_metadata_url=settings.teams_openid_url,
            to_bot_from_emulator_open_id_metadata_url=AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
            caller_id=CallerIdConstants.public_azure_channel,
            credential_factory=self._credentials,
            auth_configuration=AuthenticationConfiguration(),
        )
        self._connectors = connectors
        self._user_tokens: UserTokenClient | None = None
        for url in (
            settings.teams_openid_url,
            AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
        ):
            JwtTokenExtractor.metadataCache[url] = _SigningKeys(url)

    async def authenticate_request(
        self, activity: Activity, auth_header: str | None
    ) -> AuthenticateRequestResult:
        result = await self._inner.authenticate_request(activity, auth_header or None)
        result.connector_factory = self._connectors
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        raise PermissionError("Candor takes no streaming connections")

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self._connectors

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        if self._user_tokens is None:
            self._user_tokens = await self._inner.create_user_token_client(claims_identity)
        return self._user_tokens

    def create_bot_framework_client(self) -> BotFrameworkClient:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return BOT_FRAMEWORK

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)
