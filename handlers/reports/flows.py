"""`/candor`: the team report in a channel, a person's own overview, and the dashboard link."""

from __future__ import annotations

from bot.messages import Reply
from handlers.context import Command, Services, is_admin
from handlers.reporting import ReportScope
from handlers.reports import gather, home, links, sizes, views
from handlers.reports.ids import DEFAULT_PERIOD, Verb
from handlers.text import MAX_COMMAND_CHARS, clean_user_text


async def handle(cmd: Command, services: Services) -> Reply:
    syntax = services.syntax_for(cmd.platform)
    if len(cmd.text) > MAX_COMMAND_CHARS:
        return views.unknown(syntax, "…")
    words = clean_user_text(cmd.text).split()
    verb = words[0].lower() if words else ""
    if verb in ("", Verb.HELP, "?"):
        return views.usage(syntax, services.settings.anonymity_k)
    if verb == Verb.REPORT:
        if len(words) > 2:
            return views.bad_period(syntax)
        days = views.period_days(words[1] if len(words) == 2 else DEFAULT_PERIOD)
        if days is None:
            return views.bad_period(syntax)
        return await report(cmd, services, days)
    if verb == Verb.ME and len(words) == 1:
        return Reply(await home.for_person(services, cmd.platform, cmd.workspace, cmd.user), private=True)
    if verb == Verb.DASHBOARD and len(words) == 1:
        return await dashboard(cmd, services)
    return views.unknown(syntax, " ".join(words)[:30])


async def report(cmd: Command, services: Services, days: int) -> Reply:
    now = services.clock.now()
    members = await sizes.team_size(services, cmd.platform, cmd.workspace, cmd.conversation)
    scope = ReportScope(
        cmd.platform,
        cmd.workspace,
        cmd.conversation,
        now - days * 86400,
        now,
        services.settings.anonymity_k,
        members,
    )
    figures = await services.store.read(lambda db: gather.figures(db, services.registry, scope))
    return views.report(figures, days, cmd.conversation, services.settings.anonymity_k)


async def dashboard(cmd: Command, services: Services) -> Reply:
    """The link goes by private message on every platform: on Teams a reply in a channel is seen by
    everyone there. Sent directly, never through the outbox, so no row keeps a live link."""
    if not await is_admin(services, cmd.platform, cmd.user):
        return views.ADMINS_ONLY
    url, relative = links.dashboard_url(services.settings, cmd.platform, cmd.workspace, services.clock.now())
    try:
        sent = await services.people_for(cmd.platform).send_private(
            cmd.user, views.dashboard_link(url, relative)
        )
    except Exception:
        sent = False
    return views.LINK_SENT if sent else views.LINK_FAILED
