"""Signed dashboard links: HMAC-SHA256 over the workspace and an expiry, one hour after issue.

There is no password store: whoever holds a valid link sees that workspace's dashboard until it
expires. The key is CANDOR_DASHBOARD_SECRET, or else derived from the platforms' own secrets (so
every process of one deployment agrees and nothing new must be configured), or else, with no
secret at all (the shell, tests), a random key that lives as long as the process.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from bot.config import Settings

TTL_S = 3600
MAX_TOKEN = 512
_PROCESS_KEY = secrets.token_bytes(32)
_CONTEXT = b"candor dashboard link v1"


class TokenError(Exception):
    """The link is expired or not one Candor signed; `expired` tells which."""

    def __init__(self, expired: bool) -> None:
        super().__init__("expired" if expired else "forged")
        self.expired = expired


@dataclass(frozen=True)
class Grant:
    platform: str
    workspace: str
    expires: int


def key_for(settings: Settings) -> bytes:
    secret = settings.dashboard_secret or (settings.slack_signing_secret + settings.microsoft_app_password)
    if not secret:
        return _PROCESS_KEY
    return hmac.new(secret.encode(), _CONTEXT, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, body: str) -> str:
    return _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())


def sign(key: bytes, *, platform: str, workspace: str, now: float) -> str:
    body = _b64(json.dumps([platform, workspace, int(now) + TTL_S], separators=(",", ":")).encode())
    return f"{body}.{_mac(key, body)}"


def verify(key: bytes, token: str, now: float) -> Grant:
    """The grant a token carries; TokenError if it is forged, altered, malformed or expired."""
    if not token or len(token) > MAX_TOKEN or token.count(".") != 1:
        raise TokenError(expired=False)
    body, mac = token.split(".")
    if not hmac.compare_digest(_mac(key, body), mac):
        raise TokenError(expired=False)
    try:
        platform, workspace, expires = json.loads(_unb64(body))
    except (ValueError, TypeError, binascii.Error):
        raise TokenError(expired=False) from None
    if not (isinstance(platform, str) and isinstance(workspace, str) and isinstance(expires, int)):
        raise TokenError(expired=False)
    if now >= expires:
        raise TokenError(expired=True)
    return Grant(platform, workspace, expires)
