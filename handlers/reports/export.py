"""`candor export`: the team report's figures as CSV, month by month, for every workspace and team
Candor has a record of, and for each workspace as a whole.

Only the aggregates the report shows, under the same k-thresholds: no row describes an anonymous
concern or answer, and a withheld figure is written with an empty value and the reason. A
workspace's figure counts only the teams whose own figure is shown (handlers/reporting.py), so no
month's workspace row minus its team rows is a withheld team's figure.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import TextIO

from sqlite_utils import Database

from handlers.anonymity import day_of
from handlers.practice import Registry
from handlers.reporting import ReportScope
from handlers.reports import gather, store

COLUMNS = (
    "platform",
    "workspace",
    "team",
    "month",
    "from",
    "until",
    "section",
    "key",
    "label",
    "value",
    "unit",
    "count",
    "note",
)
WHOLE_WORKSPACE = "(whole workspace)"


@dataclass(frozen=True)
class Export:
    rows: int
    workspaces: int
    teams: int


def write(db: Database, registry: Registry, out: TextIO, *, since: float, until: float, k: int) -> Export:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    rows = teams_seen = 0
    periods = gather.months(since, until)
    places = store.workspaces(db)
    for place in places:
        platform, workspace = place.platform, place.workspace
        channels = store.teams(db, platform=platform, workspace=workspace)
        teams_seen += len(channels)
        for team in (None, *channels):
            members = (
                store.known_size(db, platform=platform, workspace=workspace, conversation=team)
                if team
                else None
            )
            for month in periods:
                scope = ReportScope(platform, workspace, team, month.since, month.until, k, members)
                for figure in gather.figures(db, registry, scope):
                    writer.writerow(
                        (
                            platform,
                            workspace,
                            team or WHOLE_WORKSPACE,
                            month.label,
                            day_of(month.since),
                            day_of(month.until),
                            gather.title_of(gather.section_of(figure)),
                            figure.key,
                            figure.label,
                            "" if figure.value is None else figure.value,
                            figure.unit,
                            "" if figure.count is None else figure.count,
                            figure.note,
                        )
                    )
                    rows += 1
    return Export(rows, len(places), teams_seen)
