"""Slack's request rules: signatures, retries, and bodies that are not what they claim."""

from __future__ import annotations

import urllib.parse

import pytest

from bot.slack.verify import SlackVerifier
from tests.support.candor import SECRET, blocks_text
from tests.support.clock import FakeClock

KUDOS = "<@UBOB> #mentoring thanks"


async def test_valid_signature_is_accepted(candor):
    status, _ = await candor.command("/kudos", KUDOS)
    assert status == 200
    assert candor.count("kudos") == 1


async def test_wrong_secret_is_rejected_with_401_and_nothing_stored(candor):
    status, _ = await candor.command(
        "/kudos", KUDOS, sign=lambda body: candor.sign(body, secret="not-the-secret")
    )
    assert status == 401
    assert candor.count("kudos") == 0


async def test_tampered_body_is_rejected(candor):
    body = urllib.parse.urlencode({"command": "/kudos", "text": KUDOS, "user_id": "UALICE"})
    headers = candor.sign(body)
    response = await candor.post(body + "&x=1", "application/x-www-form-urlencoded", headers)
    assert response.status == 401


async def test_signature_older_than_five_minutes_is_rejected(candor, clock):
    stale = int(clock.now()) - 5 * 60 - 1
    status, _ = await candor.command("/kudos", KUDOS, sign=lambda body: candor.sign(body, stale))
    assert status == 401
    fresh_enough = int(clock.now()) - 5 * 60 + 5
    status, _ = await candor.command("/kudos", KUDOS, sign=lambda body: candor.sign(body, fresh_enough))
    assert status == 200


async def test_missing_signature_headers_are_rejected(candor):
    for headers in ({}, {"X-Slack-Request-Timestamp": str(int(candor.clock.now()))}):
        response = await candor.post("command=%2Fkudos", "application/x-www-form-urlencoded", headers)
        assert response.status == 401
    assert candor.count("kudos") == 0


def test_golden_vector_from_slack_documentation():
    # Slack's documented example (docs.slack.dev, "Verifying requests from Slack").
    body = (
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
        "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    signature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    verifier = SlackVerifier("8f742231b10e8888abcd99yyyzzz85a5", FakeClock(1531420618))
    assert verifier.is_valid(body.encode(), "1531420618", signature)
    assert not verifier.is_valid(body.encode() + b"-", "1531420618", signature)
    later = SlackVerifier("8f742231b10e8888abcd99yyyzzz85a5", FakeClock(1531420618 + 301))
    assert not later.is_valid(body.encode(), "1531420618", signature)
    assert SECRET != "8f742231b10e8888abcd99yyyzzz85a5"


async def test_a_retried_event_never_double_posts(candor, slack):
    event = {"type": "app_mention", "user": "UBOB", "channel": "CTEAM", "ts": "5.1", "text": "hi"}
    assert await candor.event(event, event_id="EvSame") == 200
    assert await candor.event(event, event_id="EvSame", retry=1) == 200
    assert await candor.event(event, event_id="EvSame", retry=2) == 200
    await candor.settle()
    assert len(slack.delivered()) == 1


async def test_a_repeated_command_delivery_records_one_kudos(candor, slack):
    for _ in range(2):
        status, _ = await candor.command("/kudos", KUDOS, trigger_id="trig-same")
        assert status == 200
    await candor.settle()
    assert candor.count("kudos") == 1
    assert len(slack.delivered_to("CTEAM")) == 1


async def test_malformed_bodies_do_not_crash_or_store(candor):
    for body, content_type in (
        ("{not json", "application/json"),
        ("\xff\xfe garbage", "application/x-www-form-urlencoded"),
        ("payload=%7Bbroken", "application/x-www-form-urlencoded"),
    ):
        response = await candor.post(body, content_type, candor.sign(body))
        assert response.status < 500
    assert candor.count("kudos") == 0


async def test_malformed_signature_headers_are_401_not_500(candor):
    body = "command=%2Fkudos&text=help"
    for timestamp, signature in (
        ("abc", "v0=00"),
        ("1e3", "v0=00"),
        (str(int(candor.clock.now())), "v0=é"),
        (str(int(candor.clock.now())), "v0=" + "0" * 5000),
        ("-5", "v0=00"),
    ):
        headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}
        response = await candor.post(body, "application/x-www-form-urlencoded", headers)
        assert response.status == 401


@pytest.mark.parametrize("settings_overrides", [{"slack_request_timeout_s": 0.2}])
async def test_a_slow_slack_api_gets_a_timely_error_and_nothing_is_stored(candor, slack):
    # Slack gives up on an ack after 3 s; Candor stops waiting for users.info long before.
    slack.delays["users.info"] = 1.0
    status, reply = await candor.command("/kudos", KUDOS)
    assert status == 200 and reply["response_type"] == "ephemeral"
    assert "nothing was saved" in blocks_text(reply)
    assert candor.count("kudos") == 0 and candor.count("outbox") == 0
