"""Whether Microsoft accepts Candor's credentials, as /healthz and start-up say it: a token asked
for before Candor answers anything, credentials refused there stopping `serve` with one line, an
endpoint that does not answer leaving Candor up and "degraded", and every later token request (the
sends') updating what /healthz says, with the posts that could not get one kept and retried."""

from __future__ import annotations

import asyncio
import sys

import pytest

from bot.platform import CredentialsRejected
from tests.support.candor import Candor
from tests.support.fake_teams import APP_ID, APP_PASSWORD, TENANT
from tests.support.processes import candor_env, free_port
from tests.support.teams import (
    ALICE,
    BOB,
    CHANNEL,
    MANAGER,
    TeamsClient,
    personal_chat,
    teams_settings,
)

KUDOS = "kudos <at>Bob Jones</at> #mentoring thanks for pairing on the flaky test"


async def health(candor: Candor) -> tuple[int, dict]:
    assert candor.http is not None
    async with candor.http.get(candor.url + "/healthz") as response:
        return response.status, await response.json()


@pytest.fixture
async def secured(tmp_path, clock, slack, fake_teams, request):
    overrides = getattr(request, "param", {})
    fake_teams.token_lifetime = 0  # so every send asks for a token, as one does about hourly
    server = await Candor(teams_settings(tmp_path, fake_teams, auth=True, **overrides), clock, slack).start()
    client = TeamsClient(server, fake_teams, token=True)
    assert await client.install_team(MANAGER) == 200
    yield client
    await server.stop()


async def test_the_token_is_asked_for_at_start_up_and_healthz_says_teams_is_ok(
    secured: TeamsClient, fake_teams
):
    assert fake_teams.token_requests() == 1  # before the first activity reached Candor
    assert await health(secured.candor) == (200, {"status": "ok", "database": "ok", "teams": "ok"})


async def test_a_secret_refused_later_makes_healthz_503_and_the_post_waits(secured: TeamsClient, fake_teams):
    fake_teams.refuse_tokens(401, "invalid_client")  # the client secret expired
    await secured.say(KUDOS, user=ALICE, conversation=CHANNEL, mentions=((BOB, "Bob Jones"),))
    await secured.candor.settle()
    assert await health(secured.candor) == (
        503,
        {"status": "unavailable", "database": "ok", "teams": "rejected"},
    )
    pending = [r for r in secured.candor.outbox() if r["recipient"] == "channel"]
    assert [(r["status"], r["last_error"]) for r in pending] == [("pending", "token: invalid_client")]

    fake_teams.accept_tokens()  # the operator put a new secret in place (here: Microsoft answers again)
    secured.candor.clock.advance(120)
    await secured.candor.settle()
    assert await health(secured.candor) == (200, {"status": "ok", "database": "ok", "teams": "ok"})
    assert [r["status"] for r in secured.candor.outbox()] == ["sent", "sent"]  # the kudos, Bob's message


@pytest.mark.parametrize("secured", [{"teams_auth_retry_s": 3600.0}], indirect=True)
async def test_an_endpoint_that_does_not_answer_is_degraded_until_a_send_gets_a_token(
    secured: TeamsClient, fake_teams
):
    fake_teams.refuse_tokens(503, "")  # an outage, not a refusal
    await secured.say(KUDOS, user=ALICE, conversation=CHANNEL, mentions=((BOB, "Bob Jones"),))
    await secured.candor.settle()
    assert await health(secured.candor) == (
        200,
        {"status": "degraded", "database": "ok", "teams": "unreachable"},
    )
    fake_teams.accept_tokens()
    secured.candor.clock.advance(120)
    await secured.candor.settle()
    assert await health(secured.candor) == (200, {"status": "ok", "database": "ok", "teams": "ok"})
    assert fake_teams.sent_to(personal_chat(BOB))  # the post that waited went out


async def test_an_unreachable_endpoint_at_start_up_leaves_candor_up_and_degraded(
    tmp_path, clock, slack, fake_teams
):
    settings = teams_settings(
        tmp_path,
        fake_teams,
        auth=True,
        teams_login_url="http://127.0.0.1:9/login/",
        teams_auth_retry_s=3600.0,
    )
    server = await Candor(settings, clock, slack).start()
    try:
        assert await health(server) == (200, {"status": "degraded", "database": "ok", "teams": "unreachable"})
    finally:
        await server.stop()


async def test_refused_credentials_stop_start_up_in_process(tmp_path, clock, slack, fake_teams):
    settings = teams_settings(tmp_path, fake_teams, auth=True, microsoft_app_password="not-the-secret")
    with pytest.raises(CredentialsRejected) as refused:
        await Candor(settings, clock, slack).start()
    assert "Microsoft refused Candor's credentials (invalid_client)" in str(refused.value)
    assert "not-the-secret" not in str(refused.value)


async def test_refused_credentials_stop_serve_with_one_line(tmp_path, fake_teams):
    env = candor_env(
        tmp_path / "candor.db",
        MICROSOFT_APP_ID=APP_ID,
        MICROSOFT_APP_PASSWORD="not-the-secret-" + APP_PASSWORD[:4],
        MICROSOFT_APP_TENANT_ID=TENANT,
        MICROSOFT_LOGIN_URL=fake_teams.login_url,
        MICROSOFT_OPENID_METADATA_URL=fake_teams.openid_url,
        HOST="127.0.0.1",
        PORT=str(free_port()),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "serve",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    lines = stderr.decode().strip().splitlines()
    assert process.returncode == 2
    assert [line for line in lines if line.startswith("candor:")] == [
        "candor: Microsoft refused Candor's credentials (invalid_client); check MICROSOFT_APP_ID, "
        "MICROSOFT_APP_PASSWORD (the client secret's value, not its id; it may have expired) and "
        "MICROSOFT_APP_TENANT_ID"
    ]
    assert "Traceback" not in stderr.decode() and "not-the-secret" not in stderr.decode()
