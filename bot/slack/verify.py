"""Slack request signatures, checked with an injectable clock before Bolt sees the request."""

from __future__ import annotations

from slack_sdk.signature import SignatureVerifier

from bot.clock import Clock


class SlackVerifier:
    def __init__(self, signing_secret: str, clock: Clock) -> None:
        # slack_sdk rejects timestamps more than 5 minutes from its clock's now().
        self._verifier = SignatureVerifier(signing_secret=signing_secret, clock=clock)  # type: ignore[arg-type]

    def is_valid(self, body: bytes, timestamp: str | None, signature: str | None) -> bool:
        # Malformed headers are a plain "no": slack_sdk would raise on a non-number timestamp
        # or a non-ASCII signature.
        if not timestamp or not signature or not timestamp.isascii() or not timestamp.isdigit():
            return False
        if not signature.isascii() or len(signature) > 100:
            return False
        try:  # slack_sdk decodes the body to sign it; Slack only ever sends UTF-8
            body.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return self._verifier.is_valid(body=body, timestamp=timestamp, signature=signature)
