"""The dashboard's address with a fresh signed token (handlers/reports/tokens.py)."""

from __future__ import annotations

from urllib.parse import urlencode

from bot.config import Settings
from handlers.reports import tokens

PATH = "/dashboard"


def dashboard_url(settings: Settings, platform: str, workspace: str, now: float) -> tuple[str, bool]:
    """(the link, whether it is only a path because CANDOR_PUBLIC_URL is not set)."""
    token = tokens.sign(tokens.key_for(settings), platform=platform, workspace=workspace, now=now)
    path = f"{PATH}?{urlencode({'token': token})}"
    return (settings.public_url + path, False) if settings.public_url else (path, True)
