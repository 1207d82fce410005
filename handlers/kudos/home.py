"""Kudos on a person's home: how many they received in the last 30 days, and the latest few."""

from __future__ import annotations

from sqlite_utils import Database

from bot.messages import Mention, rich
from handlers.home import HomeScope, HomeSection
from handlers.kudos import store

DAYS = 30
SHOWN = 5


def section(db: Database, scope: HomeScope) -> tuple[HomeSection, ...]:
    prefix = f"{scope.platform}:{scope.workspace}:"  # a person key (Command.person_key)
    count, latest = store.received_since(
        db, receiver=prefix + scope.user, since=scope.now - DAYS * 86400, limit=SHOWN
    )
    lines = [rich(f"{count} in the last {DAYS} days.")] if count else []
    # The user id is all that follows the workspace: a Teams id ("29:…") has colons of its own.
    lines += [rich(f"#{k.behaviour} from ", Mention(k.giver.removeprefix(prefix))) for k in latest]
    return (HomeSection("Kudos you received", tuple(lines), f"None in the last {DAYS} days."),)
