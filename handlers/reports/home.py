"""A person's home: what every practice shows them about themselves, and for admins the team
report and the dashboard link. Neutral: Slack shows it on the App Home tab (bot/slack), every
platform with `/candor me`."""

from __future__ import annotations

from bot.messages import Message, Span, Strong, rich
from handlers.context import Services, is_admin
from handlers.home import HomeScope
from handlers.reporting import ReportScope
from handlers.reports import gather, links, views

REPORT_DAYS = 30


async def for_person(services: Services, platform: str, workspace: str, user: str) -> Message:
    now = services.clock.now()
    scope = HomeScope(platform, workspace, user, now, kinds=services.registry.schedule_kinds)
    sections = await services.store.read(
        lambda db: [section for source in services.registry.homes for section in source(db, scope)]
    )
    admin: list[tuple[Span, ...]] = []
    if await is_admin(services, platform, user):
        report_scope = ReportScope(
            platform, workspace, None, now - REPORT_DAYS * 86400, now, services.settings.anonymity_k
        )
        figures = await services.store.read(lambda db: gather.figures(db, services.registry, report_scope))
        admin.append(rich(Strong(f"Team report, whole workspace, last {REPORT_DAYS} days")))
        admin += views.report_lines(figures)
        admin.append(rich(views.footer(services.settings.anonymity_k, None)))
        url, _ = links.dashboard_url(services.settings, platform, workspace, now)
        admin.append(rich(Strong("Dashboard"), " (valid for one hour): ", url))
    return views.home(sections, admin)
