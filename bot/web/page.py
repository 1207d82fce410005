"""The dashboard's HTML: one self-contained page (inline CSS and SVG), printable, with forms that
keep the signed token. Every text that came from a person or a platform is escaped here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

CSS = """
body{font-family:system-ui,sans-serif;margin:0;color:#243b33;background:#f6f8f7}
header{background:#2d4a3e;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;font-size:13px;opacity:.85}
main{padding:16px 24px;max-width:1220px}
form{display:flex;gap:12px;align-items:end;flex-wrap:wrap;margin:8px 0 16px;background:#fff;
padding:12px;border:1px solid #d9e2dd;border-radius:6px}
label{display:flex;flex-direction:column;font-size:12px;gap:4px}
select,input,button{font:inherit;padding:4px 6px}
h2{font-size:17px;margin:20px 0 8px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:14px}
figure{margin:0;background:#fff;border:1px solid #d9e2dd;border-radius:6px;padding:8px 10px}
figcaption{font-weight:600;font-size:14px;margin-bottom:4px}
figure svg{width:100%;height:auto}
.withheld{color:#6b7f77;font-style:italic;padding:40px 0;text-align:center}
table{border-collapse:collapse;background:#fff;width:100%;margin-bottom:12px}
th,td{border:1px solid #d9e2dd;padding:6px 10px;text-align:left;font-size:14px}
th{background:#eef3f0}
td.num{text-align:right;white-space:nowrap}
.note{font-size:12px;color:#6b7f77}
.pilot-grid{display:grid;grid-template-columns:1fr 1fr;gap:14px}
@media print{form,.noprint{display:none}body{background:#fff}header{background:#fff;color:#000}
.grid,.pilot-grid{grid-template-columns:1fr 1fr}figure{break-inside:avoid}}
"""


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    values: tuple[float | None, ...]  # what the chart plots, for the page's readers and tests
    svg: str | None  # None: nothing may be shown
    withheld: str = ""  # shown instead of the chart


@dataclass(frozen=True)
class PilotRow:
    key: str
    label: str
    before: str
    after: str
    change: str


def _options(choices: Sequence[Choice], chosen: str) -> str:
    return "".join(
        f'<option value="{escape(c.value)}"{" selected" if c.value == chosen else ""}>'
        f"{escape(c.label)}</option>"
        for c in choices
    )


def _values(values: Sequence[float | None]) -> str:
    return ",".join("" if v is None else f"{v:g}" for v in values)


def chart_html(chart: Chart) -> str:
    body = chart.svg if chart.svg is not None else f'<p class="withheld">{escape(chart.withheld)}</p>'
    state = "shown" if chart.svg is not None else "withheld"
    return (
        f'<figure class="chart" data-key="{escape(chart.key)}" data-values="{_values(chart.values)}" '
        f'data-state="{state}"><figcaption>{escape(chart.title)}</figcaption>{body}</figure>'
    )


def layout(title: str, subtitle: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><p>{escape(subtitle)}</p></header><main>{body}</main></body></html>"
    )


def forms(token: str, teams: Sequence[Choice], team: str, start: str) -> str:
    hidden = f'<input type="hidden" name="token" value="{escape(token)}">'
    return (
        f'<form method="get" action="/dashboard" class="noprint">{hidden}'
        f'<label>Team<select name="team">{_options(teams, team)}</select></label>'
        '<button type="submit">Show the last six months</button></form>'
        f'<form method="get" action="/dashboard" class="noprint">{hidden}'
        '<input type="hidden" name="view" value="pilot">'
        f'<label>Pilot team<select name="team">{_options(teams, team)}</select></label>'
        f'<label>Pilot start<input type="date" name="start" value="{escape(start)}" required></label>'
        '<button type="submit">90-day pilot view</button></form>'
    )


def overview(heading: str, charts: Sequence[Chart], note: str) -> str:
    return (
        f'<h2>{escape(heading)}</h2><p class="note">{escape(note)}</p>'
        f'<div class="grid">{"".join(chart_html(c) for c in charts)}</div>'
    )


def _table(title: str, rows: Sequence[PilotRow], before: str, after: str) -> str:
    cells = "".join(
        f'<tr data-key="{escape(r.key)}"><td>{escape(r.label)}</td><td class="num">{escape(r.before)}</td>'
        f'<td class="num">{escape(r.after)}</td><td class="num">{escape(r.change)}</td></tr>'
        for r in rows
    )
    return (
        f"<h2>{escape(title)}</h2><table><thead><tr><th>Indicator</th><th>Before ({escape(before)})</th>"
        f"<th>After ({escape(after)})</th><th>Change</th></tr></thead><tbody>{cells}</tbody></table>"
    )


def pilot(
    heading: str,
    safety: Sequence[PilotRow],
    process: Sequence[PilotRow],
    charts: Sequence[Chart],
    before: str,
    after: str,
    note: str,
) -> str:
    return (
        f'<h2>{escape(heading)}</h2><p class="note">{escape(note)}</p>'
        '<div class="pilot-grid"><section>'
        f"{_table('Safety indicators', safety, before, after)}</section><section>"
        f"{_table('Process and outcome indicators', process, before, after)}</section></div>"
        f'<div class="grid">{"".join(chart_html(c) for c in charts)}</div>'
        '<p class="noprint note">Print this page (Ctrl-P) for a one-page summary.</p>'
    )


def refusal(title: str, lines: Sequence[str]) -> str:
    body = "".join(f"<p>{escape(line)}</p>" for line in lines)
    return layout(title, "Candor", body)
