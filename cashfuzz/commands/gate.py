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
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.text import Text

from cashfuzz.commands.run import add_oracle_argument
from cashfuzz.engines import ENGINE_SPECS, resolve_engine
from cashfuzz.errors import EXIT_INCOMPLETE, EXIT_OK, EXIT_VIOLATION
from cashfuzz.examples import load_example
from cashfuzz.invariants import ALL_INVARIANTS, not_applicable
from cashfuzz.invariants.monitor import declarations_text
from cashfuzz.output.junit import write_junit
from cashfuzz.output.render import make_console, render_run
from cashfuzz.output.results import result_to_json
from cashfuzz.output.safe import plain
from cashfuzz.reference_engine import EngineFactory
from cashfuzz.search.gate import (
    CRASH,
    DEFAULT_SHRINK_EXAMPLES,
    GateResult,
    run_gate,
    select_invariants,
)
from cashfuzz.settings import tool_settings

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
            "stopped the search before the example budget with nothing found (not a pass). "
            "Settings left out on the command line are read from [tool.cashfuzz] in "
            "./pyproject.toml (engine, seed, max_examples, budget_seconds, shrink_examples, "
            "shrink_seconds, out, junit_xml, only)."
        ),
    )
    parser.add_argument(
        "--engine",
        default=None,
        metavar="ENGINE",
        help=f"{ENGINE_SPECS} (default: reference)",
    )
    parser.add_argument(
        "--seed", type=_non_negative_int, default=None, help="search seed (default: 0)"
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
        default=None,
        metavar="N",
        help="checks allowed after the first failure, to find other broken invariants and "
        f"shrink each (default: {DEFAULT_SHRINK_EXAMPLES})",
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
        default=None,
        metavar="N",
        help="check at most N generated scenarios; after a failure Hypothesis may stop "
        "generating sooner, once new failures stop turning up, to shrink what it found; "
        "shrinking checks are counted apart (default: 5000)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"where a counterexample is written (default: ./{DEFAULT_OUT})",
    )
    parser.add_argument(
        "--junit-xml",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write a JUnit XML report for CI (one testcase per invariant)",
    )
    add_oracle_argument(parser)
    parser.add_argument(
        "--only",
        action="append",
        default=None,
        metavar="INVARIANT",
        help="check only this invariant (repeat for several); the report names the ones "
        "checked and claims nothing about the others (default: every invariant)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    parser.set_defaults(func=gate)


#: What the gate does when neither the command line nor pyproject.toml says.
DEFAULTS: dict[str, Any] = {
    "engine": "reference",
    "seed": 0,
    "max_examples": 5000,
    "budget_seconds": None,
    "shrink_examples": DEFAULT_SHRINK_EXAMPLES,
    "shrink_seconds": None,
    "out": DEFAULT_OUT,
    "junit_xml": None,
    "only": None,
}


def resolve_settings(args: argparse.Namespace, folder: Path) -> argparse.Namespace:
    """``args`` with what the command line left out taken from ``folder``'s
    pyproject.toml ``[tool.cashfuzz]``, then from DEFAULTS. Raises UsageError."""
    configured = tool_settings(folder)
    resolved = argparse.Namespace(**vars(args))
    for key, default in DEFAULTS.items():
        if getattr(resolved, key, None) is None:
            setattr(resolved, key, configured.get(key, default))
    return resolved


def gate(args: argparse.Namespace) -> int:
    """Run the search and report it; the exit status says whether anything broke."""
    from_flags = args.only is not None
    args = resolve_settings(args, Path.cwd())
    if args.only is not None:
        where = "--only" if from_flags else "[tool.cashfuzz] only"
        args.only = select_invariants(args.only, where=where)
    factory = resolve_engine(args.engine)
    with _progress_display(args.max_examples) as on_progress:
        result = run_gate(
            factory,
            seed=args.seed,
            budget_seconds=args.budget_seconds,
            shrink_examples=args.shrink_examples,
            shrink_seconds=args.shrink_seconds,
            max_examples=args.max_examples,
            out_dir=args.out,
            engine_name=args.engine,
            on_progress=on_progress,
            oracle=args.oracle,
            only=args.only,
        )
    if args.json:
        sys.stdout.write(json.dumps(result_to_payload(result), indent=2) + "\n")
    else:
        print_result(make_console(), result)
    if args.junit_xml is not None:
        written = write_junit(args.junit_xml, result, applicable=applicable_invariants(factory))
        # stdout must stay one JSON object under --json
        stream = sys.stderr if args.json else sys.stdout
        stream.write(f"junit xml: {written}\n")
    return exit_status(result)


@contextmanager
def _progress_display(budget: int) -> Iterator[Callable[[int, int], None] | None]:
    """On a terminal, a live line on stderr: examples against the budget, their rate,
    failures so far. Elsewhere (a CI log, a pipe) nothing: the log stays the verdict."""
    console = make_console(sys.stderr)
    if not console.is_terminal:
        yield None
        return
    started = time.monotonic()
    with Live(Text(""), console=console, refresh_per_second=4, transient=True) as live:

        def update(examples: int, failures: int) -> None:
            elapsed = time.monotonic() - started
            rate = examples / elapsed if elapsed > 0 else 0.0
            live.update(
                Text(
                    f"gate: {examples:,} of {budget:,} examples, {rate:,.0f}/s, "
                    f"{failures} failing so far",
                    style="red" if failures else "",
                )
            )

        yield update


def applicable_invariants(factory: EngineFactory) -> tuple[str, ...]:
    """The invariants the gate checks on ``factory``'s engine (one that reserves nothing,
    cannot report equity, or declares a lifecycle deviation skips some), built for the
    GOOGL/AAPL example as its ``adapt_scenario`` maps it; all of them if it cannot be
    built."""
    example = load_example("googl-aapl")
    try:
        adapt = getattr(factory, "adapt_scenario", None)
        config = example.config if adapt is None else adapt(example).config
        engine = factory(config, lambda event, after: None)
    except Exception:  # noqa: BLE001 - a factory that raises is the gate's finding, not ours
        return ALL_INVARIANTS
    skipped = set(not_applicable(engine))
    return tuple(name for name in ALL_INVARIANTS if name not in skipped)


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
        "examples_generated": result.examples_generated,
        "shrink_checks": result.shrink_checks,
        "max_examples": result.max_examples,
        "incomplete": result.incomplete,
        "only": None if result.only is None else list(result.only),
        "checked_invariants": list(result.checked_invariants),
        "not_applicable": list(result.not_applicable),
        "failing_examples": result.failing_examples,
        "invariants": dict(result.invariant_counts),
        # every invariant the written files break (``invariants`` counts what broke first)
        "broken": list(result.broken_in_files),
        "elapsed_seconds": round(result.elapsed_seconds, 3),
        "budget_exhausted": result.budget_exhausted,
        "shrink_cut_short": result.shrink_cut_short,
        "first_failure_seconds": (
            None if result.first_failure_seconds is None else round(result.first_failure_seconds, 3)
        ),
        "examples_to_first_failure": result.examples_to_first_failure,
        "checks_after_first_failure": result.checks_after_first_failure,
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


def budget_line(result: GateResult) -> str:
    """The run's first line: examples generated against --max-examples, and apart from
    them the checks Hypothesis made to shrink the failures (not part of the budget)."""
    head = f"cashfuzz gate: engine {result.engine_name}, seed {result.seed}: "
    stopped = " (stopped by the time limit)" if result.budget_exhausted else ""
    seconds = f"in {result.elapsed_seconds:.1f} s{stopped}"
    if result.examples_to_first_failure is None:
        return f"{head}{result.examples_generated} of {result.max_examples} examples {seconds}"
    return (
        f"{head}{result.examples_generated} examples generated (at most {result.max_examples}), "
        f"then {result.shrink_checks} checks to shrink the failures, {seconds}"
    )


def failure_summary(result: GateResult) -> list[str]:
    """What broke: failing examples, the invariant each file was shrunk for and every
    invariant that file breaks, and where in the search the first failure came."""
    files = result.counterexamples
    broken = [name for name in result.broken_in_files if name != CRASH]
    what = [f"{len(broken)} invariant(s) broken"] if broken else []
    if CRASH in result.broken_in_files:
        what.insert(0, "the engine crashed")
    lines = [
        f"FAILED: {result.failing_examples} distinct failing example(s); {' and '.join(what)} "
        f"in the {len(files)} counterexample file(s)"
    ]
    if result.examples_to_first_failure is not None and result.first_failure_seconds is not None:
        lines.append(
            f"  first failure: generated example {result.examples_to_first_failure}, "
            f"after {result.first_failure_seconds:.2f} s"
        )
    by_invariant = {found.invariant: found for found in files}
    for name, count in result.invariant_counts:
        first = "the engine crashed first" if name == CRASH else f"{name}: first to break"
        line = f"  {first} in {count} failing example(s)"
        found = by_invariant.get(name)
        others = [] if found is None else [other for other in found.broken if other != name]
        if others:
            line += f"; its file also breaks {', '.join(others)}"
        lines.append(line)
    return lines


def print_result(console: Console, result: GateResult) -> None:
    """Say what broke, where each counterexample is, the first one's ledger, and how to
    replay each; or that the whole budget held, or that it was cut short."""
    console.print(plain(budget_line(result), "bold"), soft_wrap=True)
    if result.only is not None:
        others = len(ALL_INVARIANTS) - len(result.only)
        console.print(
            Text(
                f"searched only for {', '.join(result.only)} (--only); the other {others} "
                "invariant(s) were not searched for"
            ),
            soft_wrap=True,
        )
    # under --only the others were not searched for: whether they apply says nothing
    searched = ALL_INVARIANTS if result.only is None else result.only
    declined = [name for name in result.not_applicable if name in searched]
    if declined:
        console.print(
            Text(f"not applicable, as the engine declares: {declarations_text(declined)}"),
            soft_wrap=True,
        )
    if result.ok:
        every = result.only is None and not result.not_applicable
        held = "every invariant" if every else "every checked invariant"
        console.print(Text(f"{held} held in every example", style="bold green"))
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
    for line in failure_summary(result):
        style = "bold red" if line.startswith("FAILED") else "red"
        console.print(plain(line, style), soft_wrap=True)
    if result.shrink_cut_short:
        console.print(
            Text(
                "  the search after the first failure was cut short (--shrink-examples or "
                "--shrink-seconds); counterexamples may not be minimal"
            )
        )
    first = result.counterexamples[0]
    console.print()
    if result.only is not None:
        console.print(
            Text(
                "the run below replays the first counterexample as `cashfuzz run FILE` "
                "does: it checks every invariant, not only the --only ones"
            ),
            soft_wrap=True,
        )
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
