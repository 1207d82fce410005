"""Teams' directory as the practices need it: who a person is, a channel's members and name, and
a private message that bypasses the outbox.

People are known first from what Teams sends (the sender of an activity, the people it mentions,
members added), held in memory only, like Slack's users.info cache. A person not seen yet is
asked of Teams' roster through a team Candor is installed in. Teams has no workspace admins a bot
can see: Candor admins are CANDOR_ADMINS, by Teams user id or Entra object id.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import ConversationReference

from bot.messages import ChannelRef, Context, Mention, Message, Section
from bot.store import Store
from bot.teams import references
from bot.teams.activities import message_activity, post_new
from bot.teams.cards import activity_parts
from bot.teams.connector import ReusedConnectors
from handlers.context import PersonInfo

log = logging.getLogger("candor.teams")

CACHE_MAX = 10_000
MAX_MEMBERS = 5_000
BOT_PREFIX = "28:"  # Teams ids of bots start so; people's with "29:"


class TeamsPeople:
    platform = "teams"

    def __init__(
        self,
        store: Store,
        connectors: ReusedConnectors,
        adapter: CloudAdapter,
        *,
        app_id: str,
        admins: frozenset[str],
        timeout: float,
    ) -> None:
        self.store = store
        self.connectors = connectors
        self.adapter = adapter
        self.app_id = app_id
        self.admins = admins
        self.timeout = timeout
        self._people: OrderedDict[str, PersonInfo] = OrderedDict()

    # --- what Teams told us -----------------------------------------------------------------
    def saw(self, account: dict[str, Any] | None, tz: str | None = None) -> None:
        """Remember a person from an activity (its sender, a mention, a member added)."""
        if not account or not account.get("id"):
            return
        user = str(account["id"])
        known = self._people.get(user)
        aad = str(account.get("aadObjectId") or "")
        name = " ".join(str(account.get("name") or "").split()) or (known.name if known else "")
        self._remember(
            PersonInfo(
                user=user,
                name=name or "someone",
                is_bot=user.startswith(BOT_PREFIX),
                is_platform_admin=bool(aad and aad in self.admins)
                or (known.is_platform_admin if known else False),
                tz=tz or (known.tz if known else None),
            )
        )

    def _remember(self, info: PersonInfo) -> None:
        self._people[info.user] = info
        self._people.move_to_end(info.user)
        while len(self._people) > CACHE_MAX:
            self._people.popitem(last=False)

    def known(self) -> list[str]:
        """People seen lately, newest last (a form's people list when no roster is at hand)."""
        return list(self._people)[-200:]

    def parse_mention(self, token: str) -> str | None:
        """Never: Teams marks mentions itself (they come in Command.mentions)."""
        return None

    # --- the People protocol ----------------------------------------------------------------
    async def lookup(self, user: str) -> PersonInfo | None:
        known = self._people.get(user)
        if known is not None:
            return known
        for via in await self.store.read(lambda db: references.any_in_tenant(db, limit=3)):
            client = await self.connectors.create(via.service_url)
            try:
                member = await asyncio.wait_for(
                    client.conversations.get_conversation_member(via.conversation, user), self.timeout
                )
            except Exception:
                continue  # not in that team (404), or Teams is slow: try the next
            self.saw(member.serialize() if hasattr(member, "serialize") else None)
            return self._people.get(user)
        return None

    async def bot_is_member(self, conversation: str) -> bool:
        found = await self._reference(conversation)
        return found is not None and not found.unreachable and found.kind != references.PERSONAL

    async def members(self, conversation: str) -> list[str]:
        found = await self._reference(conversation)
        if found is None:
            return []
        client = await self.connectors.create(found.service_url)
        accounts = await client.conversations.get_conversation_members(found.team or conversation)
        users = []
        for account in accounts[:MAX_MEMBERS]:
            self.saw(account.serialize())
            users.append(str(account.id))
        return users

    async def channel_name(self, conversation: str) -> str:
        found = await self._reference(conversation)
        if found is None or found.kind == references.PERSONAL:
            return "a chat"
        return found.name or "General"

    async def send_private(self, user: str, message: Message) -> bool:
        """Straight to the person's own chat, not through the outbox: nothing durable or logged."""
        found = await self.store.read(lambda db: references.personal(db, user=user))
        if found is None or found.unreachable:
            return False
        parts = activity_parts(message, await self.names_in(message))
        reference = ConversationReference().deserialize(found.reference)

        async def deliver(context: TurnContext) -> None:
            await post_new(context, message_activity(parts))

        try:
            await asyncio.wait_for(
                self.adapter.continue_conversation(reference, deliver, bot_app_id=self.app_id), self.timeout
            )
        except Exception:
            return False  # not logged: the caller counts failures (see speak-up)
        return True

    async def _reference(self, conversation: str) -> references.StoredReference | None:
        return await self.store.read(lambda db: references.for_conversation(db, conversation=conversation))

    # --- rendering help ---------------------------------------------------------------------
    async def names_in(self, message: Message) -> dict[str, str]:
        """Display names of the people and channels a message names, for rendering it."""
        names: dict[str, str] = {}
        for block in message.blocks:
            if not isinstance(block, (Section, Context)):
                continue
            for span in block.spans:
                if isinstance(span, Mention) and span.user not in names:
                    info = self._people.get(span.user)
                    if info is None:
                        try:
                            info = await asyncio.wait_for(self.lookup(span.user), self.timeout)
                        except Exception:
                            info = None
                    names[span.user] = info.name if info else "someone"
                elif isinstance(span, ChannelRef):
                    names[span.conversation] = await self.channel_name(span.conversation)
        return names
