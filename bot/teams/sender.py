"""Delivers outbox rows to Teams through stored conversation references (`continue_conversation`)
and says what happened in the outbox's terms.

- 429 with Retry-After pauses Teams for that long (plus jitter); 429 without it, 412, 502, 503 and
  504 are retried by the outbox with its doubling, jittered back-off.
- 403 `MessageWritesBlocked` (the person blocked Candor, or it was removed): the conversation is
  marked unreachable and this row and later ones fail at once, never retried.
- A post whose request may have reached Teams without an answer (a timeout, a dropped
  connection, a 500) is not sent again: Teams has no idempotency key, so a replay could post it
  twice. It fails with the reason `uncertain`. An edit is safe to repeat and is retried.
- Candor's own token is fetched before anything is sent: when the token endpoint refuses or does
  not answer, nothing reached Teams, so the post waits and is retried (and /healthz says so).
- A person without a stored personal chat is reached by creating one (Teams allows it for people
  in a team where Candor is installed); its reference is stored for next time.

The outbox paces one post per second per conversation, under Teams' 7 per second and 60 per
30 seconds per conversation. A message over a card's size (a long export) goes as several parts,
0.15 s apart; if one fails after the first arrived, the rest are not sent (`partial`), since
trying again would post the first parts twice.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

import aiohttp
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)
from botframework.connector.models import ErrorResponseException

from bot.outbox import OutboxItem, Person, SendOutcome
from bot.store import Store
from bot.teams import references
from bot.teams.activities import message_activity, post_new
from bot.teams.cards import activity_parts, in_parts
from bot.teams.connector import CandorToken
from bot.teams.credentials import failure_code
from bot.teams.people import TeamsPeople

log = logging.getLogger("candor.teams")

RETRY = {412, 429, 502, 503, 504}
BLOCKED = "MessageWritesBlocked"
# Between the parts of a long message: Teams takes at most 7 messages a second per conversation.
PART_GAP_S = 0.15


class Unreachable(Exception):
    """No stored reference (and none could be made) for the recipient."""


def error_code(exc: ErrorResponseException) -> str:
    try:
        return str(exc.error.error.code or "")
    except AttributeError:
        return ""


def status_of(exc: ErrorResponseException) -> int:
    return int(getattr(exc.response, "status", 0) or getattr(exc.response, "status_code", 0) or 0)


def retry_after(exc: ErrorResponseException) -> float | None:
    headers = getattr(exc.response, "headers", None) or {}
    raw = headers.get("Retry-After")
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


class TeamsSender:
    def __init__(
        self,
        adapter: CloudAdapter,
        store: Store,
        people: TeamsPeople,
        app_id: str,
        token: CandorToken | None = None,
    ) -> None:
        self.adapter = adapter
        self.store = store
        self.people = people
        self.app_id = app_id
        self.token = token

    async def send(self, item: OutboxItem) -> SendOutcome:
        if self.token is not None:
            # Candor's own token first (cached; renewed about hourly): a failure to get it sent
            # nothing, so the post is safe to try again, unlike a post whose answer was lost.
            try:
                await self.token.get()
            except Exception as exc:
                return SendOutcome("transient", error=f"token: {failure_code(exc)}")
        try:
            stored = await self._reference_for(item)
        except Unreachable as exc:
            return SendOutcome("permanent", error=str(exc))
        if stored.unreachable:
            return SendOutcome("permanent", error=f"{BLOCKED}: Candor cannot write to this conversation")
        names = await self.people.names_in(item.message)
        # An edit changes one message; a new post over a card's size goes as several, in order.
        pieces = [item.message] if item.update_ref else in_parts(item.message)
        activities = [message_activity(activity_parts(piece, names)) for piece in pieces]
        reference = ConversationReference().deserialize(stored.reference)
        if item.thread and stored.kind == references.CHANNEL:
            reference.conversation.id = f"{stored.conversation};messageid={item.thread}"
        sent: dict[str, str] = {}
        posted = 0

        async def deliver(context: TurnContext) -> None:
            nonlocal posted
            if item.update_ref:
                activities[0].id = item.update_ref
                await context.update_activity(activities[0])
                sent["id"] = item.update_ref
                return
            for activity in activities:
                if posted:
                    await asyncio.sleep(PART_GAP_S)
                found = await post_new(context, activity) or ""
                sent.setdefault("id", found)  # the first part is the message others refer to
                posted += 1

        try:
            await self.adapter.continue_conversation(reference, deliver, bot_app_id=self.app_id)
        except (ErrorResponseException, TimeoutError, aiohttp.ClientError) as exc:
            if posted:  # trying again would post the first parts twice
                why = f"partial: {posted} of {len(activities)} parts sent ({type(exc).__name__})"
                return SendOutcome("permanent", error=f"{why}; not resent")
            return await self._failed(exc, stored.conversation, editing=bool(item.update_ref))
        return SendOutcome("sent", ref=sent.get("id") or None)

    async def _failed(self, exc: Exception, conversation: str, *, editing: bool) -> SendOutcome:
        """Nothing of this post arrived for sure: whether to try again, as the error says."""
        if isinstance(exc, ErrorResponseException):
            return await self._refused(exc, conversation, editing=editing)
        if isinstance(exc, aiohttp.ClientConnectorError):  # never connected: nothing reached Teams
            return SendOutcome("transient", error=type(exc).__name__)
        if editing:  # an edit says the same thing twice: safe to repeat
            return SendOutcome("transient", error=type(exc).__name__)
        why = f"uncertain: {type(exc).__name__}"
        return SendOutcome("permanent", error=f"{why}; not resent, it may have arrived")

    async def _refused(self, exc: ErrorResponseException, conversation: str, *, editing: bool) -> SendOutcome:
        status, code = status_of(exc), error_code(exc)
        reason = f"{status} {code}".strip()
        if status == 429 and retry_after(exc) is not None:
            wait = float(retry_after(exc) or 1.0)
            return SendOutcome("rate_limited", error=reason, retry_after=wait * random.uniform(1.0, 1.5))
        if status in RETRY:
            return SendOutcome("transient", error=reason)
        if status == 403 and code == BLOCKED:
            await self.store.run(lambda tx: references.mark_unreachable(tx, conversation=conversation))
            log.warning("a Teams conversation blocks Candor; marked unreachable")
            return SendOutcome("permanent", error=reason)
        if status >= 500 and not editing:
            return SendOutcome("permanent", error=f"uncertain: {reason}; not resent, it may have arrived")
        if status >= 500:
            return SendOutcome("transient", error=reason)
        return SendOutcome("permanent", error=reason or "refused")

    async def _reference_for(self, item: OutboxItem) -> references.StoredReference:
        to = item.to.id
        if isinstance(item.to, Person):
            found = await self.store.read(lambda db: references.personal(db, user=to))
            return found or await self._open_personal_chat(to)
        found = await self.store.read(lambda db: references.for_conversation(db, conversation=to))
        if found is None:
            raise Unreachable("no_conversation_reference: Candor was never added to this conversation")
        return found

    async def _open_personal_chat(self, user: str) -> references.StoredReference:
        """Create the person's chat with Candor through a team it is installed in, and keep it."""
        via = await self.store.read(lambda db: references.any_in_tenant(db, limit=1))
        if not via:
            raise Unreachable("no_conversation_reference: Candor knows no team to reach this person through")
        team = via[0]
        bot = ChannelAccount().deserialize(team.reference.get("bot") or {})
        parameters = ConversationParameters(
            is_group=False,
            bot=bot,
            members=[ChannelAccount(id=user)],
            tenant_id=team.tenant,
            channel_data={"tenant": {"id": team.tenant}},
        )
        made: dict[str, Any] = {}

        async def keep(context: TurnContext) -> None:
            made["reference"] = TurnContext.get_conversation_reference(context.activity)

        try:
            await self.adapter.create_conversation(
                self.app_id, keep, parameters, channel_id="msteams", service_url=team.service_url
            )
        except ErrorResponseException as exc:
            raise Unreachable(
                f"could not open a chat with this person: {status_of(exc)} {error_code(exc)}"
            ) from None
        reference: ConversationReference = made["reference"]
        reference.user = ChannelAccount(id=user)
        reference.bot = bot
        reference.activity_id = None
        serialised = reference.serialize()
        await self.store.run(
            lambda tx: references.save(
                tx,
                conversation=reference.conversation.id,
                tenant=team.tenant,
                kind=references.PERSONAL,
                user=user,
                reference=serialised,
            )
        )
        found = await self.store.read(lambda db: references.personal(db, user=user))
        assert found is not None
        return found
