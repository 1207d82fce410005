"""GET /dashboard: the team report's figures as charts, month by month, and the 90-day pilot view.

Access is a signed link an admin gets from `/candor dashboard` (handlers/reports/tokens.py): tied
to one workspace, valid one hour; an expired or forged one gets 403 and a page that says so. The
figures are gathered on a read-only connection of their own, in a worker thread, so a large
database never stalls the event loop that acknowledges chat requests.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from aiohttp import web
from sqlite_utils import Database

from bot.clock import Clock
from bot.config import Settings
from bot.web import charts, page
from handlers.context import Services
from handlers.reporting import Figure, ReportScope
from handlers.reports import gather, pilot, store, tokens
from handlers.reports.views import footer, value_text

ServicesOf = Callable[[], Services | None]
MONTHS = 6
NAMES_BUDGET_S = 1.0
NOT_ANSWERS = "not enough answers yet"
NOT_DATA = "not enough data yet"
HEADERS = {
    # Everything is in the page: no script at all, styles inline, nothing from anywhere else.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",  # the token is in the address
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


def _refused(status: int, title: str, *lines: str) -> web.Response:
    return web.Response(
        status=status, text=page.refusal(title, lines), content_type="text/html", headers=HEADERS
    )


EXPIRED = (
    "This dashboard link has expired.",
    "Links last one hour. Ask Candor for a new one: the candor dashboard command (/candor dashboard "
    "in Slack), as an admin.",
)
FORGED = (
    "This dashboard link is not valid.",
    "It was not made by this Candor, or it was changed or cut short. Ask Candor for a new one: the "
    "candor dashboard command (/candor dashboard in Slack), as an admin.",
)


@dataclass(frozen=True)
class Request:
    platform: str
    workspace: str
    expires: int
    token: str
    team: str | None
    pilot_start: date | None
    now: float


def _fmt(unit: str) -> Callable[[float], str]:
    """How a chart labels its points and axis: a percentage with its sign, anything else as a
    number (the chart's title says what it counts)."""

    def fmt(value: float) -> str:
        return value_text(Figure("x", "", value, "%" if unit == "%" else ""))

    return fmt


def _upper(unit: str) -> float | None:
    return {"%": 100.0, "of 7": 7.0}.get(unit)


def _withheld(key: str, notes: Sequence[str]) -> str:
    if key.startswith("pulse."):
        return NOT_ANSWERS
    note = next((n for n in notes if n), "")
    return f"{NOT_DATA} ({note})" if note else NOT_DATA


def _overview_charts(found: Sequence[gather.Series], labels: Sequence[str]) -> list[page.Chart]:
    made: list[page.Chart] = []
    behaviours = [s for s in found if s.key.startswith("kudos.behaviour.")]
    totals = next((s for s in found if s.key == "kudos.total"), None)
    for series in found:
        if series.key.startswith("kudos.behaviour."):
            if series is behaviours[0]:
                made.append(_behaviours(behaviours, totals, labels))
            continue
        values = tuple(p.value if p else None for p in series.points)
        if all(v is None for v in values):
            notes = [p.note for p in series.points if p]
            made.append(page.Chart(series.key, series.label, values, None, _withheld(series.key, notes)))
            continue
        svg = charts.over_time(labels, [(series.label, values)], _fmt(series.unit), _upper(series.unit))
        made.append(page.Chart(series.key, series.label, values, svg))
    return made


def _behaviours(
    found: Sequence[gather.Series], totals: gather.Series | None, labels: Sequence[str]
) -> page.Chart:
    """Recognition per behaviour, one line each. A month whose kudos are shown counts 0 for a
    behaviour nobody was recognised for; a month whose kudos are withheld is a gap."""
    shown = [bool(totals and p and p.value is not None) for p in (totals.points if totals else ())]
    lines = [
        (
            s.label.removeprefix("Kudos for "),
            tuple(((p.value or 0.0) if p else 0.0) if shown[i] else None for i, p in enumerate(s.points)),
        )
        for s in found
    ]
    sums = tuple(sum(line[i] or 0.0 for _, line in lines) if shown[i] else None for i in range(len(labels)))
    svg = charts.over_time(labels, lines, _fmt(""), None)
    return page.Chart("kudos.behaviour", "Recognition per behaviour", sums, svg)


def _pilot_rows(rows: Sequence[pilot.Row]) -> list[page.PilotRow]:
    made = []
    for row in rows:
        before = value_text(row.before) if row.before else "not available"
        after = value_text(row.after) if row.after else "not available"
        if row.key.startswith("pulse.") and row.before and row.before.value is None:
            before = NOT_ANSWERS
        if row.key.startswith("pulse.") and row.after and row.after.value is None:
            after = NOT_ANSWERS
        change = ""
        if row.before and row.after and row.before.value is not None and row.after.value is not None:
            change = f"{row.after.value - row.before.value:+.2f}".replace("-", "−")
        made.append(page.PilotRow(row.key, row.label, before, after, change))
    return made


def _pilot_charts(rows: Sequence[pilot.Row]) -> list[page.Chart]:
    made = []
    for row in rows:
        values = (
            row.before.value if row.before else None,
            row.after.value if row.after else None,
        )
        either = row.after or row.before
        unit = either.unit if either else ""
        if all(v is None for v in values):
            reason = (
                NOT_ANSWERS
                if row.key.startswith("pulse.")
                else ("not available" if row.before is None else _withheld(row.key, [row.before.note]))
            )
            made.append(page.Chart(row.key, row.label, values, None, reason))
            continue
        svg = charts.before_after(["Before", "After"], values, _fmt(unit), _upper(unit))
        made.append(page.Chart(row.key, row.label, values, svg))
    return made


def _day(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%d %b %Y")


def render(db: Database, services: Services, req: Request, names: dict[str, str]) -> str:
    """The whole page, from a read connection: plain work for a worker thread."""
    k = services.settings.anonymity_k
    members = (
        store.known_size(db, platform=req.platform, workspace=req.workspace, conversation=req.team)
        if req.team
        else None
    )
    scope = ReportScope(req.platform, req.workspace, req.team, req.now, req.now, k, members)
    where = names.get(req.team or "", req.team or "") if req.team else "the whole workspace"
    teams = [page.Choice("", "Whole workspace")] + [page.Choice(t, names.get(t, t)) for t in names if t]
    today = datetime.fromtimestamp(req.now, UTC).date()
    start = (req.pilot_start or today - timedelta(days=30)).isoformat()
    forms = page.forms(req.token, teams, req.team or "", start)
    note = footer(k, req.team)
    if req.pilot_start is None:
        months = overview_months(req.now)
        found = gather.series(db, services.registry, scope, months)
        body = page.overview(
            f"The last {MONTHS} months: {where}", _overview_charts(found, [m.label for m in months]), note
        )
    else:
        start_at = datetime(
            req.pilot_start.year, req.pilot_start.month, req.pilot_start.day, tzinfo=UTC
        ).timestamp()
        built = pilot.build(db, services.registry, scope, start_at, req.now)
        rows = [*built.safety, *built.process]
        body = page.pilot(
            f"90-day pilot: {where}, from {_day(start_at)}",
            _pilot_rows(built.safety),
            _pilot_rows(built.process),
            _pilot_charts(rows),
            f"{_day(built.before[0])} to {_day(built.before[1] - 1)}",
            f"{_day(built.after[0])} to {_day(built.after[1] - 1)}",
            note + " Counts are per month, so a pilot still under way compares with a full 90 days.",
        )
    expires = datetime.fromtimestamp(req.expires, UTC).strftime("%H:%M UTC")
    return page.layout(
        "Candor dashboard", f"Workspace {req.workspace} · this link works until {expires}", forms + body
    )


class Dashboard:
    def __init__(self, settings: Settings, clock: Clock, services_of: ServicesOf) -> None:
        self.settings = settings
        self.clock = clock
        self.services_of = services_of

    async def get(self, request: web.Request) -> web.Response:
        services = self.services_of()
        if services is None:
            return _refused(503, "Candor is starting", "Candor is starting. Try again in a moment.")
        token = request.query.get("token", "")
        now = self.clock.now()
        try:
            grant = tokens.verify(tokens.key_for(self.settings), token, now)
        except tokens.TokenError as exc:
            return _refused(
                403,
                "Link expired" if exc.expired else "Link not valid",
                *(EXPIRED if exc.expired else FORGED),
            )
        teams = await services.store.read(
            lambda db: store.teams(db, platform=grant.platform, workspace=grant.workspace)
        )
        team = request.query.get("team", "")
        if team and team not in teams:
            return _refused(
                400, "No such team", "This workspace has no team with that id. Pick one from the list."
            )
        view = request.query.get("view", "")
        if view not in ("", "pilot"):
            return _refused(
                400, "No such view", "The dashboard has two views: the last six months, and the pilot."
            )
        pilot_start = None
        if view == "pilot":
            try:
                pilot_start = date.fromisoformat(request.query.get("start", ""))
            except ValueError:
                return _refused(
                    400, "Pick a start date", "The pilot view needs its start date, like 2026-03-01."
                )
            if datetime(pilot_start.year, pilot_start.month, pilot_start.day, tzinfo=UTC).timestamp() > now:
                return _refused(400, "Pick a start date", "The pilot's start date cannot be in the future.")
        names = await self._names(services, grant.platform, teams)
        req = Request(grant.platform, grant.workspace, grant.expires, token, team or None, pilot_start, now)
        html = await self._render(services, req, names)
        return web.Response(text=html, content_type="text/html", headers=HEADERS)

    async def _names(self, services: Services, platform: str, teams: Sequence[str]) -> dict[str, str]:
        """How people know each team (#team-alpha), within a budget: an id is shown otherwise."""
        people = services.people_for(platform) if platform in services.directories else None
        if people is None:
            return {t: t for t in teams}
        try:
            found = await asyncio.wait_for(
                asyncio.gather(*(people.channel_name(t) for t in teams)), NAMES_BUDGET_S
            )
        except Exception:
            return {t: t for t in teams}
        return dict(zip(teams, found, strict=True))

    async def _render(self, services: Services, req: Request, names: dict[str, str]) -> str:
        path = services.store.path
        if services.store.engine != "sqlite":  # PostgreSQL: a pooled connection, off the loop
            return await services.store.read(lambda db: render(db, services, req, names))
        if path is None:  # an in-memory database has one connection: use it here
            return render(services.store.db, services, req, names)

        def work() -> str:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            try:
                return render(Database(conn), services, req, names)
            finally:
                conn.close()

        return await asyncio.to_thread(work)


def overview_months(now: float) -> list[gather.Month]:
    """The calendar months the overview shows: this one and the five before."""
    today = datetime.fromtimestamp(now, UTC).date()
    first = today.replace(day=1)
    for _ in range(MONTHS - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    return gather.months(datetime(first.year, first.month, 1, tzinfo=UTC).timestamp(), now)
