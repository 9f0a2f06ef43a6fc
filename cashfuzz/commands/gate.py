"""``cashfuzz gate``: a deterministic, time-boxed invariant search for CI.

Exit 0 when every invariant held over the whole search, 1 after a shrunk
counterexample has been written, 2 for bad usage (an unknown engine, a bad
number).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from cashfuzz.engines import resolve_engine
from cashfuzz.errors import EXIT_OK, EXIT_VIOLATION
from cashfuzz.invariants import ORACLES
from cashfuzz.output.render import make_console, render_run
from cashfuzz.output.results import result_to_json
from cashfuzz.search.gate import GateResult, run_gate

DEFAULT_OUT = Path("cashfuzz-out")


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more")
    return value


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive, finite number of seconds")
    return value


def register(subparsers: Any) -> None:
    """Add the ``gate`` subcommand."""
    parser = subparsers.add_parser(
        "gate",
        help="search for a broken invariant within a fixed, deterministic budget (for CI)",
        description=(
            "Generate scenarios with Hypothesis and check every invariant on each, until "
            "--max-examples or --budget-seconds runs out. The same --seed gives the same "
            "search and the same shrunk counterexample. Exit 0 when nothing broke, 1 after "
            "writing a counterexample scenario file, 2 for bad usage."
        ),
    )
    parser.add_argument(
        "--engine",
        default="reference",
        metavar="ENGINE",
        help="reference | naive | backtrader | zoo:NAME | package.module:factory "
        "(default: reference)",
    )
    parser.add_argument(
        "--seed", type=_non_negative_int, default=0, help="search seed (default: 0)"
    )
    parser.add_argument(
        "--budget-seconds",
        type=_positive_float,
        default=60.0,
        metavar="S",
        help="stop generating new examples after S seconds (default: 60)",
    )
    parser.add_argument(
        "--max-examples",
        type=_positive_int,
        default=5000,
        metavar="N",
        help="check at most N generated scenarios (default: 5000)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"where a counterexample is written (default: ./{DEFAULT_OUT})",
    )
    parser.add_argument(
        "--oracle",
        choices=sorted(ORACLES),
        help=(
            "also require the event log to equal this engine's on every scenario "
            "(for engines that claim the reference semantics); the first differing "
            "event is the finding, oracle_reference"
        ),
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    parser.set_defaults(func=gate)


def gate(args: argparse.Namespace) -> int:
    """Run the search and report it; the exit status says whether anything broke."""
    factory = resolve_engine(args.engine)
    result = run_gate(
        factory,
        seed=args.seed,
        budget_seconds=args.budget_seconds,
        max_examples=args.max_examples,
        out_dir=args.out,
        engine_name=args.engine,
        oracle=args.oracle,
    )
    if args.json:
        sys.stdout.write(json.dumps(result_to_payload(result), indent=2) + "\n")
    else:
        print_result(make_console(), result)
    return EXIT_OK if result.ok else EXIT_VIOLATION


def result_to_payload(result: GateResult) -> dict[str, Any]:
    """The JSON form of a gate run; ``counterexample`` holds the replayed check."""
    payload: dict[str, Any] = {
        "ok": result.ok,
        "engine": result.engine_name,
        "seed": result.seed,
        "examples_run": result.examples_run,
        "failing_examples": result.failing_examples,
        "invariants": dict(result.invariant_counts),
        "elapsed_seconds": round(result.elapsed_seconds, 3),
        "budget_exhausted": result.budget_exhausted,
        "shrink_cut_short": result.shrink_cut_short,
        "first_failure_seconds": (
            None if result.first_failure_seconds is None else round(result.first_failure_seconds, 3)
        ),
        "examples_to_first_failure": result.examples_to_first_failure,
        "counterexample_path": (
            None if result.counterexample_path is None else str(result.counterexample_path)
        ),
        "replay": result.replay_command,
        "counterexample": None,
    }
    if result.recorded is not None:
        payload["counterexample"] = result_to_json(
            result.recorded.result, engine=result.engine_name
        )
    return payload


def print_result(console: Console, result: GateResult) -> None:
    """Say what broke, where the counterexample is, its ledger, and how to replay it."""
    stopped = " (stopped by the time budget)" if result.budget_exhausted else ""
    console.print(
        Text(
            f"cashfuzz gate: engine {result.engine_name}, seed {result.seed}: "
            f"{result.examples_run} examples in {result.elapsed_seconds:.1f} s{stopped}",
            style="bold",
        )
    )
    if result.ok:
        console.print(Text("every invariant held in every example", style="bold green"))
        return
    console.print(
        Text(
            f"FAILED: {result.failing_examples} distinct failing example(s)",
            style="bold red",
        )
    )
    if result.first_failure_seconds is not None:
        console.print(
            Text(
                f"  first failure after {result.examples_to_first_failure} example(s) "
                f"in {result.first_failure_seconds:.2f} s"
            )
        )
    for name, count in result.invariant_counts:
        console.print(Text(f"  {name} broke first in {count} example(s)", style="red"))
    if result.shrink_cut_short:
        console.print(
            Text("  shrinking was cut short by the time limit; the example may not be minimal")
        )
    path = result.counterexample_path
    console.print(Text(f"counterexample: {path}"))
    console.print()
    if result.recorded is not None and path is not None:
        render_run(console, result.recorded, source=str(path), engine=result.engine_name)
        if result.recorded.result.ok:
            console.print(
                Text(
                    "warning: the written counterexample did not fail again on replay; "
                    "the engine may not be deterministic",
                    style="yellow",
                )
            )
    console.print()
    console.print(Text(f"replay: {result.replay_command}", style="bold"))
