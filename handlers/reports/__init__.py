"""Reports: `/candor report [30d|90d]` in a team's channel, a person's own overview (`/candor me`,
and Slack's App Home), the dashboard link for admins (`/candor dashboard`), and the figures the
dashboard (bot/web) and `candor export` lay out.

Every practice's figures come through `Practice.report` and every person's sections through
`Practice.home`: this package knows no practice's tables. The package: `ids`, `store` (which
teams exist, their sizes), `sizes`, `gather` (figures by scope and by month), `pilot` (the 90-day
before and after), `tokens` and `links` (signed dashboard links), `home`, `views`, `flows`,
`export` (the CSV).
"""

from __future__ import annotations

from handlers.practice import HelpLine, Practice
from handlers.reports import flows
from handlers.reports.ids import Commands

PRACTICE = Practice(
    name="reports",
    commands={Commands.CANDOR: flows.handle},
    help=(
        HelpLine("candor", "report [30d|90d]", "the team report for this channel."),
        HelpLine("candor", "me", "your kudos, open agreements and check-ins."),
    ),
)

__all__ = ["PRACTICE"]
