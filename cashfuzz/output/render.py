"""The human-readable ledger of one checked scenario, printed with rich.

Output stays plain when it is not going to a terminal (no colour codes, 80
columns, long lines never wrapped or cut) and uses only ASCII in its own text,
so it reads the same piped into a file or a CI log. Colour is off with
``NO_COLOR`` set or ``cashfuzz --no-color``. Every user string (description,
symbols, file and engine names, messages) goes through ``safe.plain``: shown,
never read as markup or sent as a control sequence. ``describe_event`` and
``settings_rows`` are shared with the report writer.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cashfuzz.invariants import Violation
from cashfuzz.invariants.monitor import declarations_text
from cashfuzz.output.results import LedgerRow, RecordedCheck, config_to_json
from cashfuzz.output.safe import plain
from cashfuzz.reference_engine import (
    CancelIgnored,
    Event,
    FillRefused,
    LedgerSnapshot,
    MarketUpdated,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    Scenario,
)
from cashfuzz.reference_engine.money import format_cents, format_ticks

#: Width used when the output is not a terminal and COLUMNS is unset (a CI log,
#: a pipe): tables fit in it; lines that must stay whole (paths, commands) are
#: printed with ``soft_wrap`` and never cut.
PIPE_WIDTH = 80

#: Narrower consoles get the ledger as lines rather than a table that would fold
#: every event description into a column of words.
TABLE_WIDTH = 120

_colour = {"enabled": True}


def disable_colour() -> None:
    """Make every console made from now on plain (``cashfuzz --no-color``)."""
    _colour["enabled"] = False


def colour_enabled() -> bool:
    """False under ``--no-color`` or when ``NO_COLOR`` is set to anything but empty."""
    return _colour["enabled"] and os.environ.get("NO_COLOR", "") == ""


class _PipeAwareConsole(Console):
    """A Console whose closed pipe raises BrokenPipeError (exit 141 in ``cli.main``)
    instead of rich's SystemExit(1), which would look like a finding."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError(32, "the reader of cashfuzz's output went away")


def make_console(file: TextIO | None = None) -> Console:
    """A Console on ``file`` (default: the current sys.stdout) that degrades to plain text."""
    console = _PipeAwareConsole(
        file=file if file is not None else sys.stdout,
        highlight=False,
        emoji=False,
        # no colour means no escape sequences at all, bold and dim included
        color_system="auto" if colour_enabled() else None,
    )
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PIPE_WIDTH
    return console


def describe_event(event: Event) -> str:
    """One line saying what ``event`` did, money as decimal strings."""
    if isinstance(event, MarketUpdated):
        marks = ", ".join(f"{symbol} {format_ticks(price)}" for symbol, price in event.marks)
        return f"bars: {marks}" if marks else "bars"
    if isinstance(event, OrderAccepted):
        text = (
            f"signal {event.signal_index} -> order {event.order_id} "
            f"{event.side.value} {event.quantity} {event.symbol}"
        )
        if event.quantity != event.requested:
            reason = event.reason.value if event.reason is not None else "no reason given"
            text += f", resized from {event.requested}: {reason}"
        if not event.limit_price and not event.reserved:  # an engine that reserves nothing
            return f"{text} (reserves nothing)"
        limit, reserved = format_ticks(event.limit_price), format_cents(event.reserved)
        return f"{text} (limit {limit}, reserves {reserved})"
    if isinstance(event, OrderRejected):
        return (
            f"signal {event.signal_index} -> order {event.order_id} REJECTED: "
            f"{event.reason.value} ({event.side.value} {event.requested} {event.symbol}: "
            f"{event.detail})"
        )
    if isinstance(event, OrderFilled):
        text = (
            f"order {event.order_id} filled {event.side.value} {event.quantity} {event.symbol} "
            f"@ {format_ticks(event.price)}, commission {format_cents(event.commission)}, "
            f"cash flow {_signed(event.cash_delta)}"
        )
        if event.released:
            text += f", releases {format_cents(event.released)}"
        if event.remaining:
            text += f" ({event.remaining} left)"
        return text
    if isinstance(event, OrderCancelled):
        return (
            f"cancel {event.cancel_index} -> order {event.order_id} CANCELLED, "
            f"releases {format_cents(event.released)}"
        )
    if isinstance(event, CancelIgnored):
        state = f", order is {event.state.value}" if event.state is not None else ""
        return (
            f"cancel {event.cancel_index} -> order {event.order_id} ignored: "
            f"{event.reason.value}{state}"
        )
    if isinstance(event, OrderExpired):
        return f"order {event.order_id} EXPIRED, releases {format_cents(event.released)}"
    if isinstance(event, FillRefused):
        text = f"order {event.order_id} fill REFUSED: {event.side.value} {event.quantity} "
        text += event.symbol
        # an adapter may not know the price or the amount the broker wanted: "@ 0.0000
        # needs 0.00, cash is 0.00" would read as a refusal of a free fill
        if event.price:
            text += f" @ {format_ticks(event.price)}"
        if event.needed:
            return f"{text} needs {format_cents(event.needed)}, cash is {format_cents(event.cash)}"
        return f"{text} (the engine reported no amount needed), cash is {format_cents(event.cash)}"
    return repr(event)  # an adapter's own event type: show it as it is


def _signed(cents: int) -> str:
    return ("+" if cents > 0 else "") + format_cents(cents)


def _flat(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key}={_flat(item)}" for key, item in value.items())
    return "none" if value is None else str(value)


def settings_rows(scenario: Scenario) -> list[tuple[str, str]]:
    """(setting, value) pairs for every config setting, defaults included."""
    return [(key, _flat(value)) for key, value in config_to_json(scenario).items()]


def ledger_values(after: LedgerSnapshot) -> tuple[str, str, str, str]:
    """Cash, reserved, available and equity after an event, as decimal strings."""
    return (
        format_cents(after.cash),
        format_cents(after.reserved),
        format_cents(after.available),
        format_ticks(after.equity),
    )


def violation_where(violation: Violation) -> str:
    return "the whole run" if violation.event_index < 0 else f"event {violation.event_index}"


def summary_line(recorded: RecordedCheck) -> str:
    """ "all N invariants held over M events", or what broke."""
    result = recorded.result
    count = len(recorded.invariants)
    events = len(result.events)
    if result.crash is not None:
        return f"the engine CRASHED after {events} events: {result.crash}"
    skipped = (
        f" (not applicable, as the engine declares: {declarations_text(result.not_applicable)})"
        if result.not_applicable
        else ""
    )
    if not result.violations:
        return f"all {count} invariants held over {events} events{skipped}"
    broken = len({violation.invariant for violation in result.violations})
    return f"{broken} of {count} invariants BROKE over {events} events{skipped}"


def positions_text(after: LedgerSnapshot) -> str:
    held = [f"{p.symbol} {p.quantity}" for p in after.positions if p.quantity]
    return ", ".join(held) if held else "none"


def render_run(console: Console, recorded: RecordedCheck, *, source: str, engine: str) -> None:
    """Print the header, the ledger table, the verdict and the final books."""
    result = recorded.result
    scenario = result.scenario
    console.print(plain(f"cashfuzz run: {source}", "bold"), soft_wrap=True)
    if scenario.description:
        console.print(plain(scenario.description, "dim"), soft_wrap=True)
    settings = [("engine", engine), *settings_rows(scenario)]
    width = max(len(key) for key, _ in settings) + 2
    for key, value in settings:
        console.print(Text.assemble((key.ljust(width), "cyan"), plain(value)), soft_wrap=True)
    console.print()
    if console.width >= TABLE_WIDTH:
        console.print(_ledger_table(recorded.rows, result.violations))
    else:
        _print_ledger_lines(console, recorded.rows, result.violations)
    if len(recorded.rows) != len(result.events):
        console.print(
            Text(
                f"note: the engine logged {len(result.events)} events but reported "
                f"{len(recorded.rows)} to its observer; the table shows the reported ones",
                style="yellow",
            )
        )
    console.print()
    _print_verdict(console, recorded)
    console.print(plain(final_text(recorded)), soft_wrap=True)


def final_text(recorded: RecordedCheck) -> str:
    """The books after the last event (the last reported ones if the engine crashed)."""
    final = recorded.result.final
    label = "final"
    if final is None:
        final = recorded.rows[-1].after if recorded.rows else None
        label = "last reported"
    if final is None:
        return "no events were reported"
    cash, reserved, available, equity = ledger_values(final)
    return (
        f"{label}: cash {cash}, reserved {reserved}, available {available}, equity {equity}; "
        f"positions: {positions_text(final)}"
    )


def _broken_at(violations: Sequence[Violation]) -> dict[int, list[str]]:
    broken_at: dict[int, list[str]] = {}
    for violation in violations:
        broken_at.setdefault(violation.event_index, []).append(violation.invariant)
    return broken_at


def _print_ledger_lines(
    console: Console, rows: Sequence[LedgerRow], violations: Sequence[Violation]
) -> None:
    """The ledger for a narrow console or a CI log: each event on a line of its own
    (never cut), the books after it on the next, the time only when it changes."""
    broken_at = _broken_at(violations)
    console.print(Text("ledger", style="bold"))
    last_time: object = None
    indent = " " * 6
    for row in rows:
        if row.event.timestamp != last_time:
            last_time = row.event.timestamp
            console.print(plain(f"  at {row.event.timestamp}", "dim"), soft_wrap=True)
        text = describe_event(row.event)
        broken = broken_at.get(row.index)
        if broken:
            text += f"  !! {', '.join(broken)}"
        style = "bold red" if broken else ""
        console.print(plain(f"{row.index:>4}  {text}", style), soft_wrap=True)
        cash, reserved, available, equity = ledger_values(row.after)
        console.print(
            Text(
                f"{indent}cash {cash}  reserved {reserved}  available {available}  equity {equity}",
                style=style or "dim",
            ),
            soft_wrap=True,
        )


def _ledger_table(rows: Sequence[LedgerRow], violations: Sequence[Violation]) -> Table:
    broken_at = _broken_at(violations)
    table = Table(title="ledger", box=box.SIMPLE_HEAD, title_justify="left", show_edge=False)
    table.add_column("#", justify="right")
    table.add_column("time")
    table.add_column("event", overflow="fold")
    for name in ("cash", "reserved", "available", "equity"):
        table.add_column(name, justify="right", no_wrap=True)
    for row in rows:
        text = describe_event(row.event)
        broken = broken_at.get(row.index)
        if broken:
            text += f"  !! {', '.join(broken)}"
        # Text cells: scenario strings must never be read as rich markup
        table.add_row(
            str(row.index),
            plain(str(row.event.timestamp)),
            plain(text),
            *ledger_values(row.after),
            style="bold red" if broken else None,
        )
    return table


def _print_verdict(console: Console, recorded: RecordedCheck) -> None:
    result = recorded.result
    style = "bold green" if result.ok else "bold red"
    console.print(plain(summary_line(recorded), style), soft_wrap=True)
    for violation in result.violations:
        console.print(
            plain(
                f"  VIOLATION {violation.invariant} at {violation_where(violation)}: "
                f"{violation.message}",
                "red",
            ),
            soft_wrap=True,
        )
    if result.traceback is not None:
        console.print(Text("  the engine's traceback:", style="red"))
        console.print(plain(result.traceback.rstrip("\n"), keep_newlines=True), soft_wrap=True)
