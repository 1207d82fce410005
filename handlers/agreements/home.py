"""Agreements on a person's home: the open ones they perform (their action items) and the ones
they asked of others, with the due date in the zone it was agreed in."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from bot.messages import Mention, Span, rich
from handlers.agreements import store
from handlers.agreements.ids import Role
from handlers.home import HomeScope, HomeSection

SHOWN = 10


def _due(agreement: store.Agreement) -> str:
    return datetime.fromtimestamp(agreement.due_at, ZoneInfo(agreement.due_tz or "UTC")).strftime("%a %d %b")


def section(db: Database, scope: HomeScope) -> tuple[HomeSection, ...]:
    def open_ones(role: Role) -> list[store.Agreement]:
        return store.listing(
            db,
            platform=scope.platform,
            workspace=scope.workspace,
            user=scope.user,
            role=role,
            since=scope.now + 1,  # open ones only: nothing closes in the future
            limit=SHOWN,
        )

    def line(a: store.Agreement, other: str, word: str) -> tuple[Span, ...]:
        return rich(f"#{a.id} ", a.what, f" · {word} ", Mention(other), f" · due {_due(a)} · {a.state}")

    doing = tuple(line(a, a.requester, "for") for a in open_ones(Role.PERFORMER))
    asked = tuple(line(a, a.performer, "by") for a in open_ones(Role.REQUESTER))
    return (
        HomeSection("Your open action items (agreements you perform)", doing, "None open."),
        HomeSection("Agreements you asked for", asked, "None open."),
    )
