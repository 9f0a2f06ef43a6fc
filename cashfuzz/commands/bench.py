"""cashfuzz bench: what reservation-aware sizing costs, and engine throughput.

Every comparison is measured in this one process (see ``cashfuzz.bench``).
Exit 0 whatever the figures are: a benchmark reports, it does not gate.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich import box
from rich.table import Table

from cashfuzz.bench import FULL, QUICK, TINY, run_bench
from cashfuzz.errors import EXIT_OK
from cashfuzz.output.render import make_console
from cashfuzz.output.safe import plain


def register(subparsers: Any) -> None:
    """Add the ``bench`` subcommand."""
    parser = subparsers.add_parser(
        "bench",
        help=(
            "measure sizer overhead, engine throughput against backtrader and "
            "backtesting.py, gate and soak speed, monitor growth"
        ),
        description=(
            "Measure, in one process, the time per signal of reservation-aware sizing "
            "against naive sizing for each sizer and batch size, the reference engine's "
            "symbol-bars per second against backtrader's and backtesting.py's on the same "
            "bars and orders (with the 'bench' extra), the examples per second of the "
            "Hypothesis state machine, of the gate and of the soak tier, and how a checked "
            "run's cost grows with its length. "
            "Progress goes to stderr. Always exits 0."
        ),
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a small workload and few rounds (seconds, not minutes)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    # the test suite's size: every code path, in about a second
    parser.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = TINY if args.tiny else QUICK if args.quick else FULL
    progress = make_console(sys.stderr)
    result = run_bench(
        settings, lambda message: progress.print(plain(f"bench: {message}", "dim"), soft_wrap=True)
    )
    if args.json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
    else:
        _print_tables(result)
    return EXIT_OK


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _print_tables(result: dict[str, Any]) -> None:
    console = make_console()
    goals = result["goals"]
    headline = Table(title="cashfuzz bench", box=box.SIMPLE_HEAD)
    for column in ("figure", "value", "goal"):
        headline.add_column(column)
    headline.add_row(
        f"sizer_overhead_ratio (batch {result['sizer_overhead_batch']}, median over sizers)",
        _ratio(result["sizer_overhead_ratio"]),
        f"<= {goals['sizer_overhead_ratio_at_most']}",
    )
    headline.add_row(
        "engine_vs_backtrader (symbol-bars/s)",
        _ratio(result["engine_vs_backtrader"])
        + (
            f"  ({result['engine_vs_backtrader_reason']})"
            if result["engine_vs_backtrader_reason"]
            else ""
        ),
        f">= {goals['engine_vs_backtrader_at_least']}",
    )
    headline.add_row(
        "engine_vs_backtesting (1 symbol, symbol-bars/s)",
        _ratio(result["engine_vs_backtesting"])
        + (
            f"  ({result['engine_vs_backtesting_reason']})"
            if result["engine_vs_backtesting_reason"]
            else ""
        ),
        f">= {goals['engine_vs_backtesting_at_least']}",
    )
    headline.add_row(
        "gate_vs_hypothesis_floor (CPU per example)",
        _ratio(result["gate_vs_hypothesis_floor"]),
        f"<= {goals['gate_vs_hypothesis_floor_at_most']}",
    )
    headline.add_row(
        "monitor_growth_exponent (checked run, 1k -> 10k events)",
        _ratio(result["monitor_growth_exponent"]),
        f"<= {goals['monitor_growth_exponent_at_most']}",
    )
    for name in result["extra_ratios"]:
        headline.add_row(name, _ratio(result[name]), "")
    console.print(headline)

    sizing = Table(title="time per signal, ns (reservation vs naive)", box=box.SIMPLE_HEAD)
    for column in ("sizer", "batch", "reservation", "naive", "ratio"):
        sizing.add_column(column, justify="left" if column == "sizer" else "right")
    for row in result["sizing"]:
        sizing.add_row(
            row["sizer"],
            str(row["batch"]),
            f"{row['reservation_ns_per_signal']:,.0f}",
            f"{row['naive_ns_per_signal']:,.0f}",
            _ratio(row["ratio"]),
        )
    console.print(sizing)

    speed = Table(title="throughput (no observer)", box=box.SIMPLE_HEAD)
    for column in ("engine", "symbols x bars", "symbol-bars/s"):
        speed.add_column(column, justify="left" if column == "engine" else "right")
    for row in result["throughput"]:
        speed.add_row(
            "reference", f"{row['symbols']} x {row['bars']}", _rate(row["symbol_bars_per_second"])
        )
    versus = result["versus_backtrader"]
    size = f"{versus['symbols']} x {versus['bars']}"
    speed.add_row(
        "reference (vs backtrader)", size, _rate(versus["reference_symbol_bars_per_second"])
    )
    speed.add_row("backtrader", size, _rate(versus["backtrader_symbol_bars_per_second"]))
    console.print(speed)

    stateful, gate = result["stateful"], result["gate"]
    console.print(
        f"state machine (gate settings): {stateful['examples_per_second']:.1f} examples/s, "
        f"{stateful['steps_per_second']:.0f} engine steps/s "
        f"({stateful['examples']} examples in {stateful['seconds']:.1f} s)"
    )
    console.print(
        f"gate (scenarios, every invariant): {gate['examples_per_cpu_second']:.1f} examples "
        f"per CPU-second ({gate['examples']} examples in {gate['cpu_seconds']:.1f} s)"
    )
    soak = result["soak"]
    console.print(
        f"soak_vs_gate: {_ratio(result['soak_vs_gate'])} "
        f"(goal >= {goals['soak_vs_gate_at_least']}; "
        f"soak {soak['soak_scenarios_per_cpu_second']:,.0f} vs gate "
        f"{soak['gate_scenarios_per_cpu_second']:,.0f} scenarios per CPU-second, gate's size mix)"
    )
    machine = result["machine"]
    console.print(
        f"machine: Python {machine['python']} ({machine['implementation']}), "
        f"{machine['cpu_count']} CPUs, {machine['platform']}; size {result['settings']['size']}"
    )
