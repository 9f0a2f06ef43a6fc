"""``cashfuzz soak``: many fast generated scenarios, small and very long, until a budget runs out.

Exit 0 when the whole budget ran and every invariant held in every scenario
checked; 1 after the first failure has been written (as generated and shrunk);
2 for bad usage; 130 when interrupted before finding anything (a Ctrl-C after a
finding still exits 1: the files are written).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from cashfuzz.commands.gate import DEFAULT_OUT, _non_negative_int, _positive_float, _positive_int
from cashfuzz.engines import ENGINE_SPECS, resolve_engine
from cashfuzz.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, EXIT_VIOLATION
from cashfuzz.output.render import make_console, render_run
from cashfuzz.output.results import result_to_json
from cashfuzz.output.safe import plain
from cashfuzz.search.shrink import ShrinkLimits
from cashfuzz.search.soak import SoakResult, run_soak
from cashfuzz.search.soak_generator import MIXES

DEFAULT_MINUTES = 1.0


def register(subparsers: Any) -> None:
    """Add the ``soak`` subcommand."""
    parser = subparsers.add_parser(
        "soak",
        help="check many fast generated scenarios, small and very long, for a time budget",
        description=(
            "Generate scenarios from a seeded random generator (no Hypothesis): mostly small, "
            "some with 50 steps and 12 symbols, a few with 10,000 steps or 100 symbols, with "
            "calendar timestamps, large money and cancels of orders not issued yet. Check each "
            "under every invariant until --minutes pass or --scenarios have been checked. On "
            "the first failure, write the scenario, shrink it, write the shrunk one. Exit 0 "
            "when the whole budget ran clean, 1 after a failure, 2 for bad usage, 130 when "
            "interrupted before a failure."
        ),
    )
    parser.add_argument(
        "--engine",
        default="reference",
        metavar="ENGINE",
        help=f"{ENGINE_SPECS} (default: reference)",
    )
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument(
        "--minutes",
        type=_positive_float,
        metavar="M",
        help=f"start no new scenario after M minutes (default: {DEFAULT_MINUTES:g})",
    )
    budget.add_argument(
        "--scenarios",
        type=_positive_int,
        metavar="N",
        help="check exactly N scenarios (deterministic for a seed)",
    )
    parser.add_argument(
        "--seed", type=_non_negative_int, default=0, help="generator seed (default: 0)"
    )
    parser.add_argument(
        "--mix",
        choices=sorted(MIXES),
        default="soak",
        help="scenario sizes: soak (small, large, very long, very wide; the default) or "
        "gate (the gate's small scenarios only)",
    )
    parser.add_argument(
        "--shrink-seconds",
        type=_positive_float,
        default=30.0,
        metavar="S",
        help="stop shrinking after S seconds (default: 30)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"where the failing scenario and its shrunk form go (default: ./{DEFAULT_OUT})",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    parser.set_defaults(func=soak)


def soak(args: argparse.Namespace) -> int:
    """Run the soak and report it; the exit status says what it found."""
    factory = resolve_engine(args.engine)
    minutes = args.minutes
    if minutes is None and args.scenarios is None:
        minutes = DEFAULT_MINUTES
    progress = make_console(sys.stderr)
    result = run_soak(
        factory,
        engine_name=args.engine,
        out_dir=args.out,
        seed=args.seed,
        minutes=minutes,
        scenarios=args.scenarios,
        mix=MIXES[args.mix],
        shrink_limits=ShrinkLimits(seconds=args.shrink_seconds),
        progress=lambda message: progress.print(plain(f"soak: {message}", "dim"), soft_wrap=True),
    )
    if args.json:
        sys.stdout.write(json.dumps(result_to_payload(result), indent=2) + "\n")
    else:
        print_result(make_console(), result)
    if result.finding is not None:
        return EXIT_VIOLATION
    if result.interrupted:
        return EXIT_INTERRUPTED
    if result.gave_up is not None:
        return EXIT_USAGE
    return EXIT_OK if result.ok else EXIT_VIOLATION


def result_to_payload(result: SoakResult) -> dict[str, Any]:
    """The JSON form of a soak run."""
    payload: dict[str, Any] = {
        "ok": result.ok,
        "engine": result.engine_name,
        "seed": result.seed,
        "scenarios_checked": result.scenarios_checked,
        "events_checked": result.events_checked,
        "steps_checked": result.steps_checked,
        "refused": result.refused,
        "by_size": dict(result.by_size),
        "largest": None if result.largest is None else result.largest.to_dict(),
        "elapsed_seconds": round(result.elapsed_seconds, 3),
        "cpu_seconds": round(result.cpu_seconds, 3),
        "budget_spent": result.budget_spent,
        "interrupted": result.interrupted,
        "gave_up": result.gave_up,
        "finding": None,
    }
    finding = result.finding
    if finding is not None:
        shrink = finding.shrink
        payload["finding"] = {
            "scenario_index": finding.index,
            "invariant": str(finding.failure),
            "message": finding.message,
            "seconds_to_failure": round(finding.seconds_to_failure, 3),
            "scenarios_to_failure": finding.scenarios_to_failure,
            "original_path": str(finding.original_path),
            "shrunk_path": None if finding.shrunk_path is None else str(finding.shrunk_path),
            "before": None if shrink is None else shrink.before.to_dict(),
            "after": None if shrink is None else shrink.after.to_dict(),
            "shrink_checks": None if shrink is None else shrink.checks,
            "shrink_seconds": None if shrink is None else round(shrink.seconds, 3),
            "shrink_stopped_by": None if shrink is None else shrink.stopped_by,
            "replay": finding.replay_command,
            "counterexample": (
                None
                if finding.recorded is None
                else result_to_json(finding.recorded.result, engine=result.engine_name)
            ),
        }
    return payload


def print_result(console: Console, result: SoakResult) -> None:
    """What was checked, what broke, where the files are, and how to replay."""
    sizes = ", ".join(f"{count:,} {name}" for name, count in result.by_size) or "none"
    # piped, a line with a path, an engine spec or a command is never wrapped (soft_wrap)
    console.print(
        plain(
            f"cashfuzz soak: engine {result.engine_name}, seed {result.seed}: "
            f"{result.scenarios_checked:,} scenarios ({sizes}), {result.events_checked:,} "
            f"events, {result.steps_checked:,} steps checked in {result.elapsed_seconds:.1f} s",
            "bold",
        ),
        soft_wrap=True,
    )
    if result.largest is not None:
        console.print(Text(f"  largest scenario: {result.largest}"))
    if result.refused:
        console.print(Text(f"  {result.refused:,} generated scenarios refused by the engine"))
    finding = result.finding
    if finding is None:
        if result.ok:
            console.print(Text("every invariant held in every scenario", style="bold green"))
        elif result.interrupted:
            console.print(Text("interrupted: nothing failed so far, nothing proven", style="bold"))
        elif result.gave_up is not None:
            console.print(plain(f"gave up: {result.gave_up}", "bold red"), soft_wrap=True)
        return
    console.print(
        plain(
            f"FAILED at scenario {finding.index} after {finding.seconds_to_failure:.2f} s: "
            f"{finding.message}",
            "bold red",
        ),
        soft_wrap=True,
    )
    console.print(plain(f"as generated: {finding.original_path}"), soft_wrap=True)
    shrink = finding.shrink
    if shrink is None or finding.shrunk_path is None:
        console.print(
            Text(
                "the failure did not recur when checked again (is the engine deterministic?): "
                "not shrunk",
                style="yellow",
            )
        )
    else:
        console.print(Text(f"  {shrink.before}"))
        console.print(
            plain(
                f"shrunk ({shrink.checks} checks in {shrink.seconds:.1f} s, stopped by "
                f"{shrink.stopped_by}): {finding.shrunk_path}"
            ),
            soft_wrap=True,
        )
        console.print(Text(f"  {shrink.after}"))
    if result.interrupted:
        console.print(Text("interrupted: the files above are written", style="yellow"))
    console.print()
    if finding.recorded is not None and finding.shrunk_path is not None:
        render_run(
            console, finding.recorded, source=str(finding.shrunk_path), engine=result.engine_name
        )
    console.print()
    console.print(plain(f"replay: {finding.replay_command}", "bold"), soft_wrap=True)
