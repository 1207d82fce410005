"""With MICROSOFT_APP_ID set, every activity's token is checked by botbuilder for real: against
signing keys published by a fake OpenID endpoint on loopback, with a key this test made. A bad
token is a 401, never a 500, and reaches no practice."""

from __future__ import annotations

import time

import pytest

from tests.support.candor import Candor
from tests.support.fake_teams import APP_ID, CANDOR_TOKEN
from tests.support.teams import (
    ALICE,
    TeamsClient,
    activity_text,
    personal_chat,
    teams_settings,
)


@pytest.fixture
async def secured(tmp_path, clock, slack, fake_teams):
    server = await Candor(teams_settings(tmp_path, fake_teams, auth=True), clock, slack).start()
    yield TeamsClient(server, fake_teams)
    await server.stop()


async def test_a_valid_token_is_accepted_and_candor_answers_with_its_own_token(
    secured: TeamsClient, fake_teams
):
    token = fake_teams.token()
    status, _ = await secured.post(
        secured.message_activity("help", user=ALICE), headers={"Authorization": "Bearer " + token}
    )
    assert status == 200
    [reply] = fake_teams.sent_to(personal_chat(ALICE))
    assert "Here is what I can do" in activity_text(reply)
    [call] = fake_teams.sent()
    assert call.authorization == "Bearer " + CANDOR_TOKEN  # fetched from the (fake) login endpoint
    assert any(c.path == "/openid" for c in fake_teams.calls) and any(
        c.path == "/keys" for c in fake_teams.calls
    )


def bad_tokens(fake) -> dict[str, str | None]:
    now = int(time.time())
    return {
        "missing": None,
        "forged": "Bearer " + fake.forged(),
        "expired": "Bearer " + fake.token(exp=now - 2 * 3600, nbf=now - 3 * 3600),
        "wrong audience": "Bearer " + fake.token(aud="someone-elses-bot"),
        "wrong issuer": "Bearer " + fake.token(iss="https://evil.example"),
        "another service url": "Bearer " + fake.token(serviceurl="https://evil.example/"),
        "unknown key": "Bearer " + fake.token(kid="not-published"),
        "not a jwt": "Bearer not.a.jwt",
        "no scheme": fake.token(),
        "basic": "Basic YWxpY2U6c2VjcmV0",
        "empty": "",
    }


async def test_missing_forged_expired_and_wrong_audience_tokens_get_401_never_500(
    secured: TeamsClient, fake_teams
):
    for name, header in bad_tokens(fake_teams).items():
        headers = {} if header is None else {"Authorization": header}
        status, body = await secured.post(secured.message_activity("help", user=ALICE), headers=headers)
        assert (name, status, body) == (name, 401, {"error": "unauthorized"})
    assert fake_teams.sent() == [] and secured.candor.count("processed") == 0


async def test_a_token_for_another_bot_cannot_be_replayed_for_ours(secured: TeamsClient, fake_teams):
    """The audience is the app id: a real token Microsoft issued to another bot is refused too."""
    status, _ = await secured.post(
        secured.message_activity("help", user=ALICE),
        headers={"Authorization": "Bearer " + fake_teams.token(aud="11111111-2222-3333-4444-555555555555")},
    )
    assert status == 401


async def test_without_an_app_id_candor_serves_teams_only_when_told_to(tmp_path, fake_teams):
    from bot.config import ConfigError, Settings

    with pytest.raises(ConfigError, match="MICROSOFT_APP_PASSWORD"):
        Settings.from_env({"MICROSOFT_APP_ID": APP_ID}, need_slack=True)
    with pytest.raises(ConfigError, match="cannot be used with MICROSOFT_APP_ID"):
        Settings.from_env(
            {"MICROSOFT_APP_ID": APP_ID, "MICROSOFT_APP_PASSWORD": "x", "CANDOR_TEAMS_WITHOUT_AUTH": "yes"},
            need_slack=True,
        )
    secret = "s3cret-never-in-repr"
    teams_only = Settings.from_env(
        {"MICROSOFT_APP_ID": APP_ID, "MICROSOFT_APP_PASSWORD": secret}, need_slack=True
    )
    assert teams_only.teams_enabled and not teams_only.slack_bot_token and secret not in repr(teams_only)
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        Settings.from_env({}, need_slack=True)


def test_candor_serve_runs_with_teams_alone(tmp_path):
    """No Slack settings at all: `candor serve` serves Teams, and /healthz names it."""
    import subprocess
    import time as clock

    from tests.support.processes import CANDOR, candor_env, free_port, get

    port = free_port()
    env = candor_env(tmp_path / "c.db", CANDOR_TEAMS_WITHOUT_AUTH="yes", PORT=str(port), HOST="127.0.0.1")
    proc = subprocess.Popen(
        [*CANDOR, "serve"], env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    try:
        deadline = clock.monotonic() + 30
        while True:
            try:
                status, body = get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                assert proc.poll() is None and clock.monotonic() < deadline, (
                    proc.stderr and proc.stderr.read()
                )
                clock.sleep(0.05)
        assert status == 200 and body == {"status": "ok", "database": "ok", "teams": "ok"}
    finally:
        proc.terminate()
        proc.wait(10)
