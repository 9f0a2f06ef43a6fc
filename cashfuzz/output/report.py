"""The counterexample report: markdown or HTML, with a PNG plot of the ledger.

The plot shows cash, reserved, available and equity (currency units) after
each event, with the events where an invariant broke marked. matplotlib is the
optional ``report`` extra: it is imported only here, only when a report is
asked for, and only through its object-oriented API with the Agg canvas, so
no global backend or pyplot state is touched. Files are written atomically.
"""

from __future__ import annotations

import base64
import html
import io
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cashfuzz.errors import UsageError
from cashfuzz.invariants import Violation
from cashfuzz.output.render import (
    describe_event,
    final_text,
    ledger_values,
    settings_rows,
    summary_line,
    violation_where,
)
from cashfuzz.output.results import LedgerRow, RecordedCheck
from cashfuzz.output.safe import visible
from cashfuzz.reference_engine import FillRefused, write_atomic

FORMATS = {".md": "markdown", ".html": "html"}
INSTALL_HINT = (
    "--report needs matplotlib: install cashfuzz[report] "
    "(pip install -e '.[report]' in a cashfuzz checkout)"
)
#: Series plotted: label, value after an event in currency units, line style, colour,
#: width. Cash is drawn widest so that available, which often equals it, stays visible.
_SERIES: tuple[tuple[str, Callable[[LedgerRow], float], str, str, float], ...] = (
    ("cash", lambda row: row.after.cash / 100, "-", "tab:blue", 3.2),
    ("reserved", lambda row: row.after.reserved / 100, "--", "tab:orange", 1.8),
    ("available", lambda row: row.after.available / 100, ":", "tab:green", 2.0),
    ("equity", lambda row: row.after.equity / 10_000, "-.", "tab:purple", 1.6),
)
_VIOLATION_COLOUR = "crimson"
_MARKER_LIMIT = 60
_LEDGER_COLUMNS = ("#", "time", "event", "cash", "reserved", "available", "equity")


@dataclass(frozen=True, slots=True)
class WrittenReport:
    report: Path
    plot: Path


def check_report_path(path: str | os.PathLike[str]) -> Path:
    """Validate ``--report PATH`` before any work. Raises UsageError for a suffix
    other than .md or .html, or when matplotlib is not installed."""
    report = Path(path)
    if report.suffix.lower() not in FORMATS:
        raise UsageError(
            f"--report {str(path)!r} must end in .md (markdown) or .html, not "
            f"{report.suffix or 'no suffix'!r}"
        )
    _matplotlib()
    return report


def plot_path(report: Path) -> Path:
    """Where the plot of ``report`` goes: beside it, same stem, ``.png``."""
    return report.with_suffix(".png")


def write_report(
    path: str | os.PathLike[str], recorded: RecordedCheck, *, source: str, engine: str
) -> WrittenReport:
    """Write the report (format from the suffix) and its PNG plot. Raises UsageError."""
    report = check_report_path(path)
    png = plot_png(recorded, title=f"{source}: {summary_line(recorded)}")
    plot = plot_path(report)
    write_atomic(plot, png)
    if FORMATS[report.suffix.lower()] == "markdown":
        text = markdown_report(recorded, source=source, engine=engine, plot_name=plot.name)
    else:
        text = html_report(recorded, source=source, engine=engine, png=png, plot_name=plot.name)
    write_atomic(report, text.encode("utf-8"))
    return WrittenReport(report, plot)


# --- plot ---------------------------------------------------------------------------


def _matplotlib() -> tuple[Any, Any, Any]:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    return Figure, FigureCanvasAgg, MaxNLocator


def plot_png(recorded: RecordedCheck, *, title: str) -> bytes:
    """PNG bytes of cash, reserved, available and equity over the event index."""
    figure_class, canvas_class, integer_locator = _matplotlib()
    figure = figure_class(figsize=(10, 5.5), dpi=110, layout="constrained")
    canvas_class(figure)
    axes = figure.add_subplot()
    rows = recorded.rows
    xs = [row.index for row in rows]
    marker = "o" if len(rows) <= _MARKER_LIMIT else None
    for label, value, style, colour, width in _SERIES:
        axes.plot(
            xs,
            [value(row) for row in rows],
            linestyle=style,
            drawstyle="steps-post",
            marker=marker,
            markersize=4,
            color=colour,
            linewidth=width,
            label=label,
        )
    refused = [row for row in rows if isinstance(row.event, FillRefused)]
    if refused:
        axes.scatter(
            [row.index for row in refused],
            [row.event.needed / 100 for row in refused if isinstance(row.event, FillRefused)],
            marker="x",
            s=60,
            color=_VIOLATION_COLOUR,
            zorder=5,
            label="refused fill: cash it needed",
        )
    axes.axhline(0, color="0.4", linewidth=0.8)
    broken: dict[int, list[str]] = {}
    for violation in recorded.result.violations:
        if violation.event_index >= 0:
            broken.setdefault(violation.event_index, []).append(violation.invariant)
    for index, names in sorted(broken.items()):
        axes.axvline(index, color=_VIOLATION_COLOUR, linewidth=1.2, alpha=0.8)
        axes.annotate(
            "\n".join(names),
            xy=(index, 0.5),
            xycoords=("data", "axes fraction"),
            xytext=(-6, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            color=_VIOLATION_COLOUR,
            fontsize=8,
            bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": _VIOLATION_COLOUR},
        )
    whole_run = [v.invariant for v in recorded.result.violations if v.event_index < 0]
    if whole_run:
        title += f"\nbroken over the whole run: {', '.join(whole_run)}"
    # user text (file names, symbols) is never mathtext: "$...$" would be parsed or fail
    axes.set_title(visible(title, keep_newlines=True), fontsize=10, parse_math=False)
    axes.set_xlabel("event index")
    axes.set_ylabel("currency units")
    axes.xaxis.set_major_locator(integer_locator(integer=True))
    axes.grid(True, alpha=0.3)
    axes.margins(x=0.04, y=0.08)
    if rows:
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=9)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


# --- markdown -----------------------------------------------------------------------

#: ASCII punctuation markdown reads as syntax anywhere in a line (CommonMark lets a
#: backslash escape any punctuation): emphasis, code, links, HTML, entities, table
#: cell breaks, strikethrough, and GitHub's $math$.
_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*[]<#|~$"})
#: An underscore inside a word (commission_rate) is never emphasis, nor is an
#: ampersand that does not start an entity (&lt;); the others may be.
_MD_IN_LINE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|&(?=#?[A-Za-z0-9]+;)")
#: What makes a line a list item, a quote, a setext heading rule or an ordered list item.
_MD_LINE_START = re.compile(r"^(\s*(?:\d+)?)([-+.)](?=\s|$)|[=>])")


def _md(text: str) -> str:
    """``text`` as one line of literal markdown text (never a heading, list or link)."""
    escaped = _MD_IN_LINE.sub(lambda m: "\\" + m.group(0), visible(text).translate(_MD_SPECIAL))
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped, count=1)


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def _violation_lines(violations: Sequence[Violation]) -> list[tuple[str, str, str]]:
    return [(v.invariant, violation_where(v), v.message) for v in violations]


def _broken_at(recorded: RecordedCheck) -> dict[int, list[str]]:
    broken: dict[int, list[str]] = {}
    for violation in recorded.result.violations:
        broken.setdefault(violation.event_index, []).append(violation.invariant)
    return broken


def markdown_report(recorded: RecordedCheck, *, source: str, engine: str, plot_name: str) -> str:
    """The report as GitHub-flavoured markdown, linking the plot by file name."""
    result = recorded.result
    lines = [f"# cashfuzz run: {_md(source)}", "", f"**{_md(summary_line(recorded))}**", ""]
    if result.scenario.description:
        lines += [_md(result.scenario.description), ""]
    lines += ["## Settings", ""]
    settings = [("engine", engine), *settings_rows(result.scenario)]
    lines += _md_table(("setting", "value"), [(_md(k), _md(v)) for k, v in settings])
    lines += ["", "## Violations", ""]
    if result.crash is not None:
        lines += [f"- engine crash: {_md(result.crash)}"]
    violations = _violation_lines(result.violations)
    lines += [f"- `{name}` at {where}: {_md(message)}" for name, where, message in violations]
    if not violations and result.crash is None:
        lines += ["None."]
    lines += ["", "## Plot", "", f"![cash, reserved, available and equity]({plot_name})", ""]
    lines += ["## Ledger", ""]
    broken = _broken_at(recorded)
    table = []
    for row in recorded.rows:
        text = _md(describe_event(row.event))
        if row.index in broken:
            text = f"**{text} !! {', '.join(broken[row.index])}**"
        table.append(
            (str(row.index), _md(str(row.event.timestamp)), text, *ledger_values(row.after))
        )
    lines += _md_table(_LEDGER_COLUMNS, table)
    lines += ["", "## Final", "", _md(final_text(recorded)), ""]
    return "\n".join(lines)


# --- html ---------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
td.num { text-align: right; font-family: ui-monospace, monospace; }
tr.broken td { background: #fde2e2; font-weight: bold; }
.ok { color: #17692b; } .bad { color: #b00020; }
img { max-width: 100%; }
"""


def _h(text: str) -> str:
    return html.escape(text, quote=True)


def html_report(
    recorded: RecordedCheck, *, source: str, engine: str, png: bytes, plot_name: str
) -> str:
    """The report as one self-contained HTML page (the plot is embedded too)."""
    result = recorded.result
    verdict_class = "ok" if result.ok else "bad"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>cashfuzz run: {_h(source)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>cashfuzz run: {_h(source)}</h1>",
        f'<p class="{verdict_class}"><strong>{_h(summary_line(recorded))}</strong></p>',
    ]
    if result.scenario.description:
        parts.append(f"<p>{_h(result.scenario.description)}</p>")
    parts.append("<h2>Settings</h2><table>")
    for key, value in [("engine", engine), *settings_rows(result.scenario)]:
        parts.append(f"<tr><th>{_h(key)}</th><td>{_h(value)}</td></tr>")
    parts.append("</table><h2>Violations</h2>")
    items = []
    if result.crash is not None:
        items.append(f"<li>engine crash: {_h(result.crash)}</li>")
    items += [
        f"<li><code>{_h(name)}</code> at {_h(where)}: {_h(message)}</li>"
        for name, where, message in _violation_lines(result.violations)
    ]
    parts.append(f"<ul>{''.join(items)}</ul>" if items else "<p>None.</p>")
    encoded = base64.b64encode(png).decode("ascii")
    parts += [
        "<h2>Plot</h2>",
        f'<p><img alt="cash, reserved, available and equity over the event index" '
        f'src="data:image/png;base64,{encoded}"></p>',
        f'<p>Also saved as <a href="{_h(plot_name)}">{_h(plot_name)}</a>.</p>',
        "<h2>Ledger</h2><table><thead><tr>",
        "".join(f"<th>{_h(column)}</th>" for column in _LEDGER_COLUMNS),
        "</tr></thead><tbody>",
    ]
    broken = _broken_at(recorded)
    for row in recorded.rows:
        text = describe_event(row.event)
        if row.index in broken:
            text += f" !! {', '.join(broken[row.index])}"
        row_class = ' class="broken"' if row.index in broken else ""
        money = "".join(f'<td class="num">{_h(v)}</td>' for v in ledger_values(row.after))
        parts.append(
            f'<tr{row_class}><td class="num">{row.index}</td>'
            f"<td>{_h(str(row.event.timestamp))}</td><td>{_h(text)}</td>{money}</tr>"
        )
    parts += ["</tbody></table>", f"<h2>Final</h2><p>{_h(final_text(recorded))}</p>"]
    parts.append("</body></html>\n")
    return "\n".join(parts)


# --- files --------------------------------------------------------------------------
