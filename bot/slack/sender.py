"""Delivers outbox rows through Slack's Web API and classifies what Slack answered.

A message is posted with chat.postMessage (or edited with chat.update). A message that carries
files (`File` parts, an export) is uploaded instead, in Slack's current upload flow:
`files.getUploadURLExternal` per file, the bytes POSTed to the address it returned, then
`files.completeUploadExternal`, which shares the files in the conversation with the message's
other blocks as their comment (`comment_text`). `channel_id` must be a conversation id, so a file
for a person goes to the DM that `conversations.open` gives for them (chat.postMessage takes the
user id itself).

The whole upload is one send: the row is marked sent only once completeUploadExternal said ok, and
a failure at any step is classified as a post's would be. Nothing reaches the conversation before
completeUploadExternal, so a retry after an earlier step failed starts over without a trace; like a
post, a completion whose answer was lost (a timeout) is tried again.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.outbox import OutboxItem, Person, SendOutcome
from bot.slack.render import comment_text, message_payload

# Errors worth another try later; anything else Slack says is final for that message.
TRANSIENT = {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}


def _seconds(retry_after: Any) -> float:
    try:
        return float(retry_after)
    except (TypeError, ValueError):
        return 1.0


def refused(status: int, code: str, retry_after: Any = "1") -> SendOutcome:
    """What an answer other than ok means for the row: a pause, a retry later, or final."""
    if status == 429 or code == "ratelimited":
        return SendOutcome("rate_limited", error=code, retry_after=_seconds(retry_after))
    if status >= 500 or code in TRANSIENT:
        return SendOutcome("transient", error=code)
    return SendOutcome("permanent", error=code)


class SlackSender:
    # The dispatcher hands this sender `File` parts as they are (other senders get them as text).
    carries_files = True

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def send(self, item: OutboxItem) -> SendOutcome:
        try:
            if item.message.files and not item.update_ref:  # an edit shows the files as text
                return await self._upload(item)
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
            return refused(status, code, exc.response.headers.get("Retry-After", "1"))
        except (TimeoutError, aiohttp.ClientError) as exc:
            return SendOutcome("transient", error=type(exc).__name__)
        return SendOutcome("sent", ref=response.get("ts"))

    async def _upload(self, item: OutboxItem) -> SendOutcome:
        """The message's files shared in the conversation, its other blocks as their comment. The
        ref kept for the row is the first file's id (a file share has no message ts to thread on)."""
        channel = item.conversation
        if isinstance(item.to, Person):
            opened = await self.client.conversations_open(users=item.to.id)
            channel = str(opened["channel"]["id"])
        uploaded: list[dict[str, str | None]] = []
        for file in item.message.files:
            data = file.content.encode()
            ticket = await self.client.files_getUploadURLExternal(filename=file.name, length=len(data))
            failed = await self._put(str(ticket["upload_url"]), data)
            if failed is not None:
                return failed
            uploaded.append({"id": str(ticket["file_id"]), "title": file.title})
        await self.client.files_completeUploadExternal(
            files=uploaded,
            channel_id=channel,
            initial_comment=comment_text(item.message) or None,
            thread_ts=item.thread,
        )
        return SendOutcome("sent", ref=uploaded[0]["id"])

    async def _put(self, url: str, data: bytes) -> SendOutcome | None:
        """POST a file's bytes to the address Slack gave for them; None once Slack has them. The
        address is Slack's own and needs no token, so none is sent with it. The client's own
        session carries it (the adapter always gives the client one)."""
        session = self.client.session
        assert session is not None, "SlackSender needs an AsyncWebClient with a session"
        options: dict[str, Any] = {"proxy": self.client.proxy}
        if self.client.ssl is not None:
            options["ssl"] = self.client.ssl
        headers = {"Content-Type": "application/octet-stream"}
        async with session.post(url, data=data, headers=headers, **options) as response:
            await response.read()
            if response.status == 200:
                return None
            return refused(
                response.status, f"upload_http_{response.status}", response.headers.get("Retry-After")
            )
