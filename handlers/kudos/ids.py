"""Kudos' stable strings: its command, the words that choose what it does, its delivery claims."""

from __future__ import annotations

from enum import StrEnum


class Commands(StrEnum):
    KUDOS = "kudos"  # written by each platform its own way: "/kudos" on Slack, "kudos" on Teams


class Verb(StrEnum):
    """The first word after the command, when it is not a person."""

    HELP = "help"
    STATS = "stats"
    UNDO = "undo"


class Claim(StrEnum):
    """Prefixes of the `processed` keys kudos claims; the platform's delivery id follows."""

    DELIVERY = "kudos:"  # one /kudos delivery: a platform's retry records nothing twice
