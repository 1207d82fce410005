"""The practices Candor runs. Adding one is a module that exports a `Practice` and a line here."""

from __future__ import annotations

from handlers import (
    agreements,
    checkins,
    coaching,
    escalation,
    kudos,
    nominations,
    nudges,
    pulse,
    reports,
    reviews,
    speakup,
)
from handlers.practice import Registry

PRACTICES = (
    kudos.PRACTICE,
    checkins.PRACTICE,
    nudges.PRACTICE,
    speakup.PRACTICE,
    nominations.PRACTICE,
    agreements.PRACTICE,
    escalation.PRACTICE,
    coaching.PRACTICE,
    reviews.PRACTICE,
    pulse.PRACTICE,
    reports.PRACTICE,
)
REGISTRY = Registry(PRACTICES)
