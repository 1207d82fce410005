"""Charts drawn server-side as SVG by pygal, inlined in the page: no script, no font, nothing
fetched from anywhere at run time (pygal's optional tooltip script, which it would load from the
internet, is switched off)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import pygal
from pygal.style import Style

STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#243b33",
    foreground_strong="#243b33",
    foreground_subtle="#6b7f77",
    colors=("#2d6a4f", "#b5651d", "#3a6ea5", "#8e5572", "#6a994e", "#bc4749", "#577590"),
    font_family="system-ui, sans-serif",
    label_font_size=11,
    major_label_font_size=11,
    value_font_size=12,
    title_font_size=14,
    legend_font_size=11,
)
# pygal always writes an inline <script> with its settings, for the tooltip script it would load;
# without that script it does nothing, and the page's Content-Security-Policy refuses every
# script (a console error). It goes, with pygal's comments, which name web addresses.
_DROPPED = re.compile(r"<!--.*?-->|<script\b[^>]*>.*?</script>", re.DOTALL)

Formatter = Callable[[float], str]


def _config(
    kind: type[pygal.graph.graph.Graph], fmt: Formatter, legend: bool, upper: float | None
) -> pygal.graph.graph.Graph:
    return kind(
        js=[],  # pygal's tooltips would load a script from the internet
        style=STYLE,
        width=560,
        height=260,
        disable_xml_declaration=True,
        print_values=True,
        show_legend=legend,
        legend_at_bottom=True,
        value_formatter=lambda v: "" if v is None else fmt(v),
        show_y_guides=True,
        range=(0, upper) if upper is not None else None,
        include_x_axis=True,
        margin=12,
        no_data_text="",
    )


def _svg(chart: pygal.graph.graph.Graph) -> str:
    return _DROPPED.sub("", chart.render(is_unicode=True))


def over_time(
    labels: Sequence[str],
    lines: Sequence[tuple[str, Sequence[float | None]]],
    fmt: Formatter,
    upper: float | None,
) -> str:
    """One or more figures month by month; a month without a value is a gap."""
    chart = _config(pygal.Line, fmt, len(lines) > 1, upper)
    chart.x_labels = list(labels)
    for name, points in lines:
        chart.add(name, list(points), allow_interruptions=True)
    return _svg(chart)


def before_after(
    labels: Sequence[str], values: Sequence[float | None], fmt: Formatter, upper: float | None
) -> str:
    chart = _config(pygal.Bar, fmt, False, upper)
    chart.x_labels = list(labels)
    chart.add("", list(values))
    return _svg(chart)
