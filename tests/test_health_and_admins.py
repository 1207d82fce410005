"""/healthz for load balancers, and the one place that decides who is a Candor admin."""

from __future__ import annotations

from bot.server import SERVICES
from handlers.context import is_admin


async def test_healthz_is_200_while_the_database_answers(candor):
    assert candor.http
    async with candor.http.get(candor.url + "/healthz") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok", "database": "ok"}


async def test_healthz_is_503_when_the_database_does_not_answer(candor):
    candor.db.conn.close()
    async with candor.http.get(candor.url + "/healthz") as response:
        assert response.status == 503
        assert await response.json() == {"status": "unavailable", "database": "error"}


async def test_unknown_paths_are_404(candor):
    async with candor.http.get(candor.url + "/nope") as response:
        assert response.status == 404


async def _admin(candor, user: str) -> bool:
    return await is_admin(candor.app[SERVICES], user)


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
    from tests.support.candor import Candor, make_settings

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
