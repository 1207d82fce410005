"""/healthz for load balancers, and the one place that decides who is a Candor admin.

/healthz proves the database would keep a write (a committed heartbeat, and the path still names
the file Candor holds) and says whether Slack accepted the token; requests made while the
database cannot keep them are told "not saved".
"""

from __future__ import annotations

import asyncio
import os
import resource
import time

import pytest

from bot.server import SERVICES
from bot.slack.identity import SlackTokenRejected
from handlers.context import is_admin
from tests.support.candor import Candor, blocks_text, make_settings
from tests.support.processes import Serve, fake_slack_in_a_thread, get, signed_command

HEALTHY = {"status": "ok", "database": "ok", "slack": "ok"}


async def health(candor) -> tuple[int, dict]:
    async with candor.http.get(candor.url + "/healthz") as response:
        return response.status, await response.json()


async def kudos(candor, text: str = "thanks for pairing") -> str:
    _status, reply = await candor.command("/kudos", f"<@UBOB> #mentoring {text}")
    return blocks_text(reply)


async def test_healthz_is_200_while_the_database_answers(candor):
    assert await health(candor) == (200, HEALTHY)


async def test_healthz_commits_a_real_write_each_time(candor):
    before = candor.db["heartbeat"].get(1)["beats"]
    await health(candor)
    await health(candor)
    assert candor.db["heartbeat"].get(1)["beats"] == before + 2


async def test_healthz_is_503_when_the_database_does_not_answer(candor):
    candor.db.conn.close()
    assert await health(candor) == (503, {"status": "unavailable", "database": "unwritable", "slack": "ok"})


async def test_a_read_only_database_is_503_and_requests_are_told_not_saved(candor, slack):
    # SQLite's own switch: root may write any file, so chmod would not do it here.
    candor.db.execute("PRAGMA query_only=ON")
    assert await health(candor) == (503, {"status": "unavailable", "database": "unwritable", "slack": "ok"})
    assert "this was not saved. Please try again" in await kudos(candor)
    assert candor.count("kudos") == 0
    candor.db.execute("PRAGMA query_only=OFF")
    assert await health(candor) == (200, HEALTHY)
    assert "Kudos sent" in await kudos(candor, "after the fix")


async def test_a_deleted_database_is_503_and_no_later_kudos_is_acknowledged(candor, slack):
    path = candor.settings.db_path
    assert "Kudos sent" in await kudos(candor, "before")
    for suffix in ("", "-wal", "-shm"):
        os.unlink(f"{path}{suffix}")
    for n in range(3):  # before any health check noticed: each request looks for itself
        assert "this was not saved. Please try again" in await kudos(candor, f"lost {n}")
    assert await health(candor) == (503, {"status": "unavailable", "database": "replaced", "slack": "ok"})


async def test_a_moved_database_is_503_until_it_is_back(candor, slack):
    path = candor.settings.db_path
    os.rename(path, f"{path}.moved")
    assert (await health(candor))[0] == 503
    reply = await kudos(candor, "while it was away")
    assert "not saved" in reply
    with pytest.raises(Exception, match="readonly"):  # nothing else writes into the moved file either
        candor.db["processed"].insert({"key": "k", "at": 1.0})
    os.rename(f"{path}.moved", path)
    assert await health(candor) == (200, HEALTHY)
    assert "Kudos sent" in await kudos(candor, "once it was back")
    assert [r["message"] for r in candor.db["kudos"].rows] == ["once it was back"]


@pytest.mark.skipif(not hasattr(resource, "prlimit"), reason="needs Linux's prlimit")
def test_a_full_disk_is_503_and_requests_are_told_not_saved(tmp_path):
    """The kernel refuses the server's file writes past a size limit set from outside (as a full
    disk refuses them); SQLite reports "disk I/O error" and nothing is acknowledged."""
    with fake_slack_in_a_thread() as slack, Serve(tmp_path / "candor.db", slack_url=slack.url) as serve:
        slack.add_user("UBOB", "bob")
        assert serve.wait_until_listening() == (200, HEALTHY)
        _, hard = resource.prlimit(serve.proc.pid, resource.RLIMIT_FSIZE)
        resource.prlimit(serve.proc.pid, resource.RLIMIT_FSIZE, (0, hard))
        try:
            assert get(serve.base + "/healthz") == (
                503,
                {"status": "unavailable", "database": "unwritable", "slack": "ok"},
            )
            assert "not saved" in signed_command(serve.base, "<@UBOB> #mentoring on a full disk")["text"]
        finally:
            resource.prlimit(serve.proc.pid, resource.RLIMIT_FSIZE, (hard, hard))
        assert get(serve.base + "/healthz") == (200, HEALTHY)
        assert "Kudos sent" in signed_command(serve.base, "<@UBOB> #mentoring with room again")["text"]
        serve.stop()
    said = {line["msg"]: line for line in serve.log()}
    for msg in ("the database cannot be written", "not saved: the database refused the write"):
        assert said[msg]["error"] == "SQLITE_IOERR_WRITE" and "exc" not in said[msg]  # one line, no trace
    assert "the database takes writes again" in said


async def test_a_token_slack_rejects_stops_start_up(tmp_path, clock, slack):
    slack.answer_always("auth.test", ok=False, error="token_revoked")
    server = Candor(make_settings(tmp_path / "r.db", slack.url), clock, slack)
    with pytest.raises(SlackTokenRejected, match="token_revoked"):
        await server.start()
    await server.stop()


async def test_an_unreachable_slack_is_degraded_and_asked_again_until_it_answers(tmp_path, clock, slack):
    slack.answer_always("auth.test", status=503)
    settings = make_settings(tmp_path / "u.db", slack.url, slack_auth_retry_s=0.01)
    server = await Candor(settings, clock, slack).start()
    try:
        assert await health(server) == (200, {"status": "degraded", "database": "ok", "slack": "unreachable"})
        assert "Kudos sent" in await kudos(server)  # commands are answered meanwhile
        slack.back_to_normal("auth.test")
        deadline = time.monotonic() + 10
        while (await health(server))[1]["slack"] != "ok":
            assert time.monotonic() < deadline, "auth.test was not asked again"
            await asyncio.sleep(0.01)
        assert await health(server) == (200, HEALTHY)
    finally:
        await server.stop()


async def test_a_failed_call_to_slack_is_one_log_line_with_its_code(candor, slack, caplog):
    slack.answer_always("users.info", ok=False, error="invalid_auth")
    assert "could not reach Slack" in await kudos(candor)
    [record] = [r for r in caplog.records if getattr(r, "error", None)]
    assert (record.error, record.exc_info) == ("invalid_auth", None)


async def test_unknown_paths_are_404(candor):
    async with candor.http.get(candor.url + "/nope") as response:
        assert response.status == 404


async def _admin(candor, user: str) -> bool:
    return await is_admin(candor.app[SERVICES], "slack", user)


async def test_workspace_admins_and_owners_are_admins(candor, slack):
    slack.add_user("UADMIN", "ada", is_admin=True)
    slack.add_user("UOWNER", "otto", is_owner=True)
    slack.add_user("UGONE", "gone", is_admin=True, deleted=True)
    assert await _admin(candor, "UADMIN")
    assert await _admin(candor, "UOWNER")
    assert not await _admin(candor, "UGONE")
    assert not await _admin(candor, "UALICE")
    assert not await _admin(candor, "UNOBODY")


async def test_candor_admins_setting_adds_admins_without_asking_slack(tmp_path, clock, slack):
    settings = make_settings(tmp_path / "a.db", slack.url, admins=frozenset({"UBOB"}))
    server = await Candor(settings, clock, slack).start()
    try:
        before = len(slack.calls_to("users.info"))
        assert await _admin(server, "UBOB")
        assert len(slack.calls_to("users.info")) == before
        assert not await _admin(server, "UALICE")
    finally:
        await server.stop()


def test_candor_admins_is_read_from_the_environment():
    from bot.config import Settings

    settings = Settings.from_env({"CANDOR_ADMINS": " U1, U2 ,,"}, need_slack=False)
    assert settings.admins == frozenset({"U1", "U2"})
