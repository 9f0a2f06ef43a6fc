"""cashfuzz gate: a deterministic invariant search for CI.

Exit 0 when every invariant held in every example of the budget, 1 after a shrunk
counterexample per broken invariant has been written, 2 for bad usage (an unknown
engine, a bad number, an --out that cannot be written), 4 when an opt-in time
limit stopped the search before its example budget with nothing found.
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
from cashfuzz.errors import EXIT_INCOMPLETE, EXIT_OK, EXIT_VIOLATION
from cashfuzz.output.render import make_console, render_run
from cashfuzz.output.results import result_to_json
from cashfuzz.output.safe import plain
from cashfuzz.search.gate import DEFAULT_SHRINK_EXAMPLES, GateResult, run_gate

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
            "Generate --max-examples scenarios with Hypothesis and check every invariant on "
            "each. The same --seed gives the same search and the same shrunk counterexamples, "
            "one file per broken invariant. Exit 0 when nothing broke in the whole budget, 1 "
            "after writing the counterexamples, 2 for bad usage, 4 when --budget-seconds "
            "stopped the search before the example budget with nothing found (not a pass)."
        ),
    )
    parser.add_argument(
        "--engine",
        default="reference",
        metavar="ENGINE",
        help="reference | naive | backtrader | backtesting | nautilus | zoo:NAME "
        "| package.module:factory "
        "(default: reference)",
    )
    parser.add_argument(
        "--seed", type=_non_negative_int, default=0, help="search seed (default: 0)"
    )
    parser.add_argument(
        "--budget-seconds",
        type=_positive_float,
        default=None,
        metavar="S",
        help="opt-in time limit: stop generating new examples after S seconds; a run it "
        "stops before --max-examples exits 4, never 0 (default: no time limit)",
    )
    parser.add_argument(
        "--shrink-examples",
        type=_positive_int,
        default=DEFAULT_SHRINK_EXAMPLES,
        metavar="N",
        help="checks allowed after the first failure, to find other broken invariants and "
        "shrink each (default: %(default)s)",
    )
    parser.add_argument(
        "--shrink-seconds",
        type=_positive_float,
        default=None,
        metavar="S",
        help="opt-in time limit on the same; a cut makes runs depend on machine speed "
        "(default: none)",
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
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    parser.set_defaults(func=gate)


def gate(args: argparse.Namespace) -> int:
    """Run the search and report it; the exit status says whether anything broke."""
    factory = resolve_engine(args.engine)
    result = run_gate(
        factory,
        seed=args.seed,
        budget_seconds=args.budget_seconds,
        shrink_examples=args.shrink_examples,
        shrink_seconds=args.shrink_seconds,
        max_examples=args.max_examples,
        out_dir=args.out,
        engine_name=args.engine,
    )
    if args.json:
        sys.stdout.write(json.dumps(result_to_payload(result), indent=2) + "\n")
    else:
        print_result(make_console(), result)
    return exit_status(result)


def exit_status(result: GateResult) -> int:
    """1 for a finding, 4 for a search cut short with nothing found, 0 for an earned pass."""
    if result.counterexamples:
        return EXIT_VIOLATION
    return EXIT_INCOMPLETE if result.incomplete else EXIT_OK


def result_to_payload(result: GateResult) -> dict[str, Any]:
    """The JSON form of a gate run; ``counterexample`` holds the replayed check."""
    payload: dict[str, Any] = {
        "ok": result.ok,
        "engine": result.engine_name,
        "seed": result.seed,
        "examples_run": result.examples_run,
        "max_examples": result.max_examples,
        "incomplete": result.incomplete,
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
        "counterexamples": [
            {
                "invariant": found.invariant,
                "path": str(found.path),
                "broken": list(found.broken),
                "replay": found.replay_command,
            }
            for found in result.counterexamples
        ],
    }
    if result.recorded is not None:
        payload["counterexample"] = result_to_json(
            result.recorded.result, engine=result.engine_name
        )
    return payload


def print_result(console: Console, result: GateResult) -> None:
    """Say what broke, where each counterexample is, the first one's ledger, and how to
    replay each; or that the whole budget held, or that it was cut short."""
    stopped = " (stopped by the time limit)" if result.budget_exhausted else ""
    console.print(
        plain(
            f"cashfuzz gate: engine {result.engine_name}, seed {result.seed}: "
            f"{result.examples_run} of {result.max_examples} examples "
            f"in {result.elapsed_seconds:.1f} s{stopped}",
            "bold",
        ),
        soft_wrap=True,
    )
    if result.ok:
        console.print(Text("every invariant held in every example", style="bold green"))
        return
    if result.incomplete:
        console.print(
            Text(
                f"INCOMPLETE: nothing broke in the {result.examples_run} examples that ran, but "
                f"the budget was {result.max_examples}; this is not a pass (exit 4). Raise "
                "--budget-seconds or drop it, or lower --max-examples.",
                style="bold yellow",
            )
        )
        return
    console.print(
        Text(
            f"FAILED: {result.failing_examples} distinct failing example(s), "
            f"{len(result.counterexamples)} invariant(s) broken",
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
            Text(
                "  the search after the first failure was cut short (--shrink-examples or "
                "--shrink-seconds); counterexamples may not be minimal"
            )
        )
    first = result.counterexamples[0]
    console.print()
    render_run(console, first.recorded, source=str(first.path), engine=result.engine_name)
    console.print()
    for found in result.counterexamples:
        console.print(plain(f"counterexample ({found.invariant}): {found.path}"), soft_wrap=True)
        if found.recorded.result.ok:
            console.print(
                Text(
                    "  warning: this file did not fail again on replay; "
                    "the engine may not be deterministic",
                    style="yellow",
                )
            )
        console.print(plain(f"  replay: {found.replay_command}", "bold"), soft_wrap=True)
