"""Settings read from the environment (12-factor); secrets never appear in repr or logs."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

# The source checkout, for tests and scripts; inside an installed wheel it means nothing.
REPO_ROOT = Path(__file__).resolve().parent.parent
# The *.yml shipped with Candor (data/ in the checkout, the candor_data package when installed).
SHIPPED_DATA = Path(str(files("candor_data")))
# Relative to the directory Candor runs in, never inside the installed package.
DEFAULT_DB = Path("data") / "candor.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_HOST = "0.0.0.0"
# Microsoft's public cloud: where Teams' tokens are checked and where Candor gets its own.
DEFAULT_TEAMS_OPENID_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
DEFAULT_TEAMS_LOGIN_URL = "https://login.microsoftonline.com/"
_YES_NO = {"yes": True, "no": False, "": False}


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it and never holds its value."""


def _int(
    env: Mapping[str, str], name: str, default: int, minimum: int = 0, maximum: int | None = None
) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name} must be at most {maximum}")
    return value


def _log_level(raw: str) -> str:
    level = raw.strip().upper() or "INFO"
    if level not in logging.getLevelNamesMapping():
        raise ConfigError("CANDOR_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
    return level


def _yes_no(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw not in _YES_NO:
        raise ConfigError(f"{name} must be yes or no")
    return _YES_NO[raw]


def _database_url(raw: str) -> str:
    url = raw.strip()
    if url and not url.startswith(("postgresql://", "postgres://")):
        raise ConfigError("CANDOR_DATABASE_URL must start with postgresql:// (or be unset for SQLite)")
    return url


def _ids(raw: str) -> frozenset[str]:
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


_DURATION = re.compile(r"^(\d+)\s*([smh]?)$")


def _seconds(raw: str) -> float:
    match = _DURATION.match(raw.strip().lower())
    if not match:
        raise ConfigError("CANDOR_SPEAKUP_DELAY must look like 5m-30m, 90s, or 0")
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def _delay_range(raw: str) -> tuple[float, float]:
    """ "5m-30m" → (300, 1800); "0" turns the delay off; one value means exactly that."""
    if not raw.strip():
        return (300.0, 1800.0)
    low, _, high = raw.partition("-")
    lo, hi = _seconds(low), _seconds(high or low)
    if lo > hi:
        raise ConfigError("CANDOR_SPEAKUP_DELAY: the first value must not be larger than the second")
    return (lo, hi)


def _one_id(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if re.search(r"[\s,]", value):
        raise ConfigError(f"{name} must be one channel id")
    return value


def _quiet_hours(raw: str) -> tuple[int, int]:
    """ "18-9" means quiet from 18:00 until 09:00 local time."""
    if not raw.strip():
        return (18, 9)
    try:
        start, end = (int(part) for part in raw.split("-"))
    except ValueError:
        raise ConfigError("CANDOR_QUIET_HOURS must look like 18-9") from None
    if not (0 <= start <= 23 and 0 <= end <= 23):
        raise ConfigError("CANDOR_QUIET_HOURS hours must be 0 to 23")
    return (start, end)


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set")
    return value


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    if not value.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must start with http:// or https://")
    return value


def _public_url(env: Mapping[str, str]) -> str:
    raw = env.get("CANDOR_PUBLIC_URL", "").strip()
    if raw and not raw.startswith(("http://", "https://")):
        raise ConfigError("CANDOR_PUBLIC_URL must start with https:// (or http://)")
    return raw.rstrip("/")


def _dashboard_secret(env: Mapping[str, str]) -> str:
    raw = env.get("CANDOR_DASHBOARD_SECRET", "").strip()
    if raw and len(raw) < 32:
        raise ConfigError("CANDOR_DASHBOARD_SECRET must be at least 32 characters")
    return raw


def _teams(env: Mapping[str, str]) -> dict[str, Any]:
    """Teams' settings: an app id needs its secret; no app id at all only when asked for."""
    app_id = env.get("MICROSOFT_APP_ID", "").strip()
    password = env.get("MICROSOFT_APP_PASSWORD", "").strip()
    without_auth = _yes_no(env, "CANDOR_TEAMS_WITHOUT_AUTH")
    if app_id and not password:
        raise ConfigError("MICROSOFT_APP_PASSWORD is not set (MICROSOFT_APP_ID is)")
    if app_id and without_auth:
        raise ConfigError("CANDOR_TEAMS_WITHOUT_AUTH=yes cannot be used with MICROSOFT_APP_ID")
    login = _url(env, "MICROSOFT_LOGIN_URL", DEFAULT_TEAMS_LOGIN_URL)
    return {
        "microsoft_app_id": app_id,
        "microsoft_app_password": password,
        "microsoft_app_tenant_id": env.get("MICROSOFT_APP_TENANT_ID", "").strip(),
        "teams_without_auth": without_auth,
        "teams_openid_url": _url(env, "MICROSOFT_OPENID_METADATA_URL", DEFAULT_TEAMS_OPENID_URL),
        "teams_login_url": login if login.endswith("/") else login + "/",
    }


@dataclass(frozen=True)
class Variable:
    """One environment variable, as `candor COMMAND --help` and the README describe it."""

    name: str
    meaning: str
    default: str
    commands: tuple[str, ...]  # the subcommands that use it
    shell_default: str | None = None  # where the shell's own default differs (bot/shell.py)


_SERVE = ("serve",)
_PRACTICES = ("serve", "shell")
_ALL = ("serve", "shell", "migrate", "export")
VARIABLES = (
    Variable("SLACK_BOT_TOKEN", "the bot token, xoxb-... (not needed for Teams alone)", "required", _SERVE),
    Variable("SLACK_SIGNING_SECRET", "verifies that requests come from Slack", "required", _SERVE),
    Variable("SLACK_API_URL", "Slack's Web API", DEFAULT_SLACK_API_URL, _SERVE),
    Variable("MICROSOFT_APP_ID", "the Teams bot's app (client) id; set, it turns Teams on", "none", _SERVE),
    Variable("MICROSOFT_APP_PASSWORD", "the Teams bot's client secret", "required with the app id", _SERVE),
    Variable(
        "MICROSOFT_APP_TENANT_ID", "the Entra tenant of a single-tenant bot", "botframework.com", _SERVE
    ),
    Variable(
        "CANDOR_TEAMS_WITHOUT_AUTH",
        "yes serves Teams with no app id and no token checks (Emulator only)",
        "no",
        _SERVE,
    ),
    Variable("MICROSOFT_OPENID_METADATA_URL", "where Teams' token keys are published", "Microsoft's", _SERVE),
    Variable("MICROSOFT_LOGIN_URL", "where Candor gets its own Teams token", DEFAULT_TEAMS_LOGIN_URL, _SERVE),
    Variable("HOST", "the address the HTTP server listens on", DEFAULT_HOST, _SERVE),
    Variable("PORT", "the HTTP port", "3000", _SERVE),
    Variable("CANDOR_DB", "the SQLite file", str(DEFAULT_DB), _ALL, shell_default="data/shell.db"),
    Variable(
        "CANDOR_DATABASE_URL",
        "postgresql://user:pass@host/db: PostgreSQL instead of the SQLite file",
        "none",
        ("serve", "migrate", "export", "copy-db"),
    ),
    Variable(
        "CANDOR_DATA_DIR",
        "where behaviours.yml, checkins.yml, nudges.yml are",
        "the shipped ones",
        _PRACTICES,
    ),
    Variable("CANDOR_ADMINS", "comma-separated user ids who are Candor admins", "none", _PRACTICES),
    Variable("CANDOR_KUDOS_DAILY_CAP", "kudos one person may give in 24 hours", "5", _PRACTICES),
    Variable("CANDOR_LOG_LEVEL", "DEBUG, INFO, WARNING, ERROR or CRITICAL", "INFO", _ALL),
    Variable("CANDOR_SCHEDULE_GRACE", "seconds late a missed check-in may still fire", "3600", _SERVE),
    Variable(
        "CANDOR_OUTBOX_LEASE",
        "seconds a dead instance keeps its conversations (and a post cut off mid-send waits) "
        "before another instance carries on",
        "30",
        _SERVE,
    ),
    Variable("CANDOR_MAX_SCHEDULES_PER_CHANNEL", "schedules one channel may have", "10", _PRACTICES),
    Variable("CANDOR_CHECKIN_REMINDER_AFTER", "seconds before a check-in's reminder", "14400", _PRACTICES),
    Variable("CANDOR_QUIET_HOURS", "local hours in which reminders wait", "18-9", _PRACTICES),
    Variable(
        "CANDOR_SPEAKUP_CHANNELS",
        "channel ids that take anonymous concerns",
        "none",
        _PRACTICES,
        shell_default="#general",
    ),
    Variable(
        "CANDOR_SPEAKUP_DELAY",
        "random delay before a concern or an anonymous failure review is published",
        "5m-30m",
        _PRACTICES,
        shell_default="0, at once",
    ),
    Variable(
        "CANDOR_SPEAKUP_DELAY_RISK_ACCEPTED", "yes lets serve run with a zero or fixed delay", "no", _SERVE
    ),
    Variable(
        "CANDOR_ANONYMITY_K",
        "the smallest group an aggregate is shown for",
        "5",
        ("serve", "shell", "export"),
    ),
    Variable(
        "CANDOR_MANAGERS",
        "comma-separated user ids who may run pulse surveys (besides admins)",
        "none",
        _PRACTICES,
    ),
    Variable(
        "CANDOR_PUBLIC_URL",
        "Candor's public address, for dashboard links (https://candor.example.com)",
        "none",
        _SERVE,
    ),
    Variable(
        "CANDOR_DASHBOARD_SECRET",
        "signs dashboard links (32+ characters)",
        "derived from the platforms' secrets",
        _SERVE,
    ),
    Variable(
        "CANDOR_REVIEWS_CHANNEL",
        "the channel id failure reviews are posted to, until an admin chooses one",
        "none",
        _PRACTICES,
        shell_default="#reviews",
    ),
)


def variables_for(command: str) -> str:
    """The environment a subcommand reads, for its --help."""
    rows = [v for v in VARIABLES if command in v.commands]
    if not rows:
        return "  none (its arguments say what to use)"
    width = max(len(v.name) for v in rows)

    def default(v: Variable) -> str:
        shown = v.shell_default if command == "shell" and v.shell_default else v.default
        return "(required)" if shown == "required" else f"(default: {shown})"

    return "\n".join(f"  {v.name:<{width}}  {v.meaning} {default(v)}" for v in rows)


@dataclass(frozen=True)
class Settings:
    db_path: Path = DEFAULT_DB
    # PostgreSQL instead of the SQLite file, for several instances on one database.
    database_url: str = field(default="", repr=False)
    data_dir: Path = SHIPPED_DATA
    host: str = DEFAULT_HOST
    port: int = 3000
    slack_bot_token: str = field(default="", repr=False)
    slack_signing_secret: str = field(default="", repr=False)
    slack_api_url: str = DEFAULT_SLACK_API_URL
    admins: frozenset[str] = frozenset()
    kudos_daily_cap: int = 5
    log_level: str = "INFO"
    schedule_grace_s: int = 3600
    outbox_lease_s: int = 30
    max_schedules_per_channel: int = 10
    checkin_reminder_after_s: int = 4 * 3600
    quiet_hours: tuple[int, int] = (18, 9)  # local hours: quiet from 18:00 until 09:00
    # Web API calls made while Slack waits for our ack (3 s) must give up well before it.
    slack_request_timeout_s: float = 2.0
    speakup_channels: frozenset[str] = frozenset()  # seeds the channels concerns may go to
    speakup_delay_s: tuple[float, float] = (300.0, 1800.0)  # random publication delay range
    # `serve` refuses a zero or fixed delay (it can date a concern) unless the operator says so.
    speakup_delay_risk_accepted: bool = False
    anonymity_k: int = 5  # smallest group an aggregate is shown for
    managers: frozenset[str] = frozenset()  # may run pulse surveys, like admins
    public_url: str = ""  # where people reach Candor's dashboard, without a trailing slash
    dashboard_secret: str = field(default="", repr=False)  # signs dashboard links
    # Teams (bot/teams/): on when an app id is set, or without token checks when asked to.
    microsoft_app_id: str = ""
    microsoft_app_password: str = field(default="", repr=False)
    microsoft_app_tenant_id: str = ""
    teams_without_auth: bool = False
    teams_openid_url: str = DEFAULT_TEAMS_OPENID_URL  # tests point these at local fakes
    teams_login_url: str = DEFAULT_TEAMS_LOGIN_URL
    # Calls to the Bot Connector made while Teams waits for the answer to an activity.
    teams_request_timeout_s: float = 5.0
    reviews_channel: str = ""  # seeds each workspace's reviews channel (admins change it)
    # After a network failure of auth.test at start-up, the first wait before asking again
    # (doubling up to a minute); tests shorten it.
    slack_auth_retry_s: float = 5.0
    teams_auth_retry_s: float = 5.0  # the same for Teams' token endpoint

    @property
    def database(self) -> Path | str:
        """What `open_store` opens: the PostgreSQL URL when one is set, else the SQLite file."""
        return self.database_url or self.db_path

    @property
    def teams_enabled(self) -> bool:
        return bool(self.microsoft_app_id) or self.teams_without_auth

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, need_slack: bool) -> Settings:
        """`need_slack`: the command serves chat platforms, so Slack's settings are required unless
        Teams is configured instead (a Teams-only Candor needs none of Slack's)."""
        env = os.environ if env is None else env
        teams = _teams(env)
        need_slack = need_slack and not (teams["microsoft_app_id"] or teams["teams_without_auth"])
        token = _required(env, "SLACK_BOT_TOKEN") if need_slack else env.get("SLACK_BOT_TOKEN", "")
        secret = _required(env, "SLACK_SIGNING_SECRET") if need_slack else env.get("SLACK_SIGNING_SECRET", "")
        api_url = env.get("SLACK_API_URL", "").strip() or DEFAULT_SLACK_API_URL
        if not api_url.startswith(("http://", "https://")):
            raise ConfigError("SLACK_API_URL must start with http:// or https://")
        if not api_url.endswith("/"):
            api_url += "/"
        admins = _ids(env.get("CANDOR_ADMINS", ""))
        return cls(
            db_path=Path(env.get("CANDOR_DB", "").strip() or DEFAULT_DB),
            database_url=_database_url(env.get("CANDOR_DATABASE_URL", "")),
            data_dir=Path(env.get("CANDOR_DATA_DIR", "").strip() or SHIPPED_DATA),
            host=env.get("HOST", "").strip() or DEFAULT_HOST,
            port=_int(env, "PORT", 3000, minimum=1, maximum=65535),
            slack_bot_token=token,
            slack_signing_secret=secret,
            slack_api_url=api_url,
            admins=admins,
            kudos_daily_cap=_int(env, "CANDOR_KUDOS_DAILY_CAP", 5, minimum=1),
            schedule_grace_s=_int(env, "CANDOR_SCHEDULE_GRACE", 3600, minimum=0),
            outbox_lease_s=_int(env, "CANDOR_OUTBOX_LEASE", 30, minimum=2),
            max_schedules_per_channel=_int(env, "CANDOR_MAX_SCHEDULES_PER_CHANNEL", 10, minimum=1),
            checkin_reminder_after_s=_int(env, "CANDOR_CHECKIN_REMINDER_AFTER", 4 * 3600, minimum=60),
            quiet_hours=_quiet_hours(env.get("CANDOR_QUIET_HOURS", "")),
            speakup_channels=_ids(env.get("CANDOR_SPEAKUP_CHANNELS", "")),
            speakup_delay_s=_delay_range(env.get("CANDOR_SPEAKUP_DELAY", "")),
            speakup_delay_risk_accepted=_yes_no(env, "CANDOR_SPEAKUP_DELAY_RISK_ACCEPTED"),
            anonymity_k=_int(env, "CANDOR_ANONYMITY_K", 5, minimum=2),
            reviews_channel=_one_id(env, "CANDOR_REVIEWS_CHANNEL"),
            managers=_ids(env.get("CANDOR_MANAGERS", "")),
            public_url=_public_url(env),
            dashboard_secret=_dashboard_secret(env),
            log_level=_log_level(env.get("CANDOR_LOG_LEVEL", "")),
            **teams,
        )

    def check_for_serve(self) -> None:
        """What `serve` refuses that the shell and tests may use: a zero or fixed speak-up delay.

        Without a random delay, the moment a concern appears tells who was typing just then.
        """
        low, high = self.speakup_delay_s
        if low == high and not self.speakup_delay_risk_accepted:
            kind = "no delay" if high == 0 else "a fixed delay"
            raise ConfigError(
                f"CANDOR_SPEAKUP_DELAY gives {kind}, so when a concern appears can point to its author; "
                "use a range such as 5m-30m, or set CANDOR_SPEAKUP_DELAY_RISK_ACCEPTED=yes"
            )
