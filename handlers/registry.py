"""What Candor answers, in tables every adapter (Slack, shell, …) and the scheduler read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlite_utils import Database

from bot.messages import FormErrors, Reply
from handlers import checkins, kudos, nudges, speakup
from handlers.context import Action, Command, Services, Submission

Practice = Callable[[Command, Services], Awaitable[Reply]]
ActionHandler = Callable[[Action, Services], Awaitable[Reply]]
FormHandler = Callable[[Submission, Services], Awaitable[Reply | FormErrors]]
Firer = Callable[[Database, dict[str, Any], float, float, Services], None]

COMMANDS: dict[str, Practice] = {
    "/kudos": kudos.handle,
    "/checkin": checkins.handle,
    "/nudge": nudges.handle,
    "/speakup": speakup.handle,
}

ACTIONS: dict[str, ActionHandler] = {
    checkins.RESPOND: checkins.respond,
    speakup.VIEW: speakup.view_case,
    speakup.REPLY: speakup.open_reply,
    speakup.ACK: speakup.acknowledge,
    speakup.RESOLVE: speakup.open_resolve,
    speakup.HIDE: speakup.open_hide,
}

FORMS: dict[str, FormHandler] = {
    checkins.CREATE_FORM: checkins.submit_create,
    checkins.RESPONSE_FORM: checkins.submit_response,
    nudges.SCHEDULE_FORM: nudges.submit_schedule,
    nudges.ONE_ON_ONE_FORM: nudges.submit_one_on_one,
    speakup.NEW_FORM: speakup.submit_new,
    speakup.CASE_FORM: speakup.submit_case,
    speakup.REPLY_FORM: speakup.submit_reply,
    speakup.RESOLVE_FORM: speakup.submit_resolve,
    speakup.HIDE_FORM: speakup.submit_hide,
}

# What a schedule of each kind does when it comes due (inside the scheduler's transaction).
FIRERS: dict[str, Firer] = {
    "checkin": checkins.fire,
    "nudge": nudges.fire_channel,
    "weekly_nudge": nudges.fire_weekly,
    "one_on_one": nudges.fire_one_on_one,
}
