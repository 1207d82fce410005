"""Delivers outbox rows through Slack's chat.postMessage and classifies what Slack answered."""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.outbox import OutboxItem, SendOutcome
from bot.slack.render import message_payload

# Errors worth another try later; anything else Slack says is final for that message.
TRANSIENT = {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}


class SlackSender:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def send(self, item: OutboxItem) -> SendOutcome:
        try:
            if item.update_ref:
                response = await self.client.chat_update(
                    channel=item.conversation,
                    ts=item.update_ref,
                    link_names=False,
                    parse="none",
                    **message_payload(item.message),
                )
            else:
                response = await self.client.chat_postMessage(
                    channel=item.conversation,
                    thread_ts=item.thread,
                    unfurl_links=False,
                    link_names=False,  # a typed @here or #channel stays text
                    parse="none",
                    unfurl_media=False,
                    **message_payload(item.message),
                )
        except SlackApiError as exc:
            status = exc.response.status_code
            code = str(exc.response.get("error") or f"http_{status}")
            if status == 429 or code == "ratelimited":
                retry_after = exc.response.headers.get("Retry-After", "1")
                try:
                    seconds = float(retry_after)
                except (TypeError, ValueError):
                    seconds = 1.0
                return SendOutcome("rate_limited", error=code, retry_after=seconds)
            if status >= 500 or code in TRANSIENT:
                return SendOutcome("transient", error=code)
            return SendOutcome("permanent", error=code)
        except (TimeoutError, aiohttp.ClientError) as exc:
            return SendOutcome("transient", error=type(exc).__name__)
        return SendOutcome("sent", ref=response.get("ts"))
