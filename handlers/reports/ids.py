"""The reports practice's stable strings: its command and the words that choose what it does."""

from __future__ import annotations

from enum import StrEnum


class Commands(StrEnum):
    CANDOR = "candor"  # "/candor report" on Slack, "candor report" on Teams


class Verb(StrEnum):
    HELP = "help"
    REPORT = "report"
    DASHBOARD = "dashboard"
    ME = "me"


PERIODS = {"30d": 30, "90d": 90}  # what /candor report accepts
DEFAULT_PERIOD = "30d"
