"""Slack's user directory (users.info), cached, and its channels and members."""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock
from bot.messages import Message
from bot.slack.render import message_payload
from handlers.context import PersonInfo

CACHE_TTL_S = 3600.0
CACHE_MAX = 10_000
MAX_MEMBERS = 5_000  # reminders go to at most this many members of one channel


class SlackPeople:
    platform = "slack"

    def __init__(self, client: AsyncWebClient, clock: Clock, timeout: float = 2.0) -> None:
        self.client = client
        self.clock = clock
        self.timeout = timeout
        self._names: dict[str, str] = {}
        self._cache: OrderedDict[str, tuple[float, PersonInfo | None]] = OrderedDict()

    async def lookup(self, user: str) -> PersonInfo | None:
        now = self.clock.now()
        hit = self._cache.get(user)
        if hit and now - hit[0] < CACHE_TTL_S:
            return hit[1]
        try:
            response = await asyncio.wait_for(self.client.users_info(user=user), self.timeout)
        except SlackApiError as exc:
            if exc.response.get("error") != "user_not_found":
                raise
            info = None
        else:
            u = response["user"]
            profile = u.get("profile") or {}
            info = PersonInfo(
                user=user,
                name=profile.get("display_name") or u.get("real_name") or u.get("name") or user,
                is_bot=bool(u.get("is_bot")) or user == "USLACKBOT",
                is_platform_admin=bool(u.get("is_admin") or u.get("is_owner")),
                deleted=bool(u.get("deleted")),
                tz=u.get("tz"),
            )
        self._cache[user] = (now, info)
        self._cache.move_to_end(user)
        while len(self._cache) > CACHE_MAX:
            self._cache.popitem(last=False)
        return info

    async def bot_is_member(self, conversation: str) -> bool:
        try:
            response = await asyncio.wait_for(
                self.client.conversations_info(channel=conversation), self.timeout
            )
        except SlackApiError as exc:
            if exc.response.get("error") in ("channel_not_found", "not_in_channel", "missing_scope"):
                return False
            raise
        return bool((response.get("channel") or {}).get("is_member"))

    async def members(self, conversation: str) -> list[str]:
        users: list[str] = []
        cursor = None
        while len(users) < MAX_MEMBERS:
            response = await self.client.conversations_members(
                channel=conversation, cursor=cursor, limit=1000
            )
            users += response.get("members") or []
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return users[:MAX_MEMBERS]

    async def channel_name(self, conversation: str) -> str:
        name = self._names.get(conversation)
        if name is None:
            try:
                response = await asyncio.wait_for(
                    self.client.conversations_info(channel=conversation), self.timeout
                )
                name = "#" + str((response.get("channel") or {}).get("name") or conversation)
            except Exception:
                return "#" + conversation  # not cached: try again next time
            self._names[conversation] = name
        return name

    async def send_private(self, user: str, message: Message) -> bool:
        try:
            await asyncio.wait_for(
                self.client.chat_postMessage(
                    channel=user, link_names=False, parse="none", **message_payload(message)
                ),
                self.timeout,
            )
        except Exception:
            # Not logged: a line stamped with this moment would single out the submission that
            # asked for it. The caller counts failures and reports the number once a day.
            return False
        return True
