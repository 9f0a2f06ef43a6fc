"""``cashfuzz shrink FILE``: reduce a failing scenario to the few steps, symbols, signals
and cancels (and the simplest numbers) that still break the same invariant.

Works on any scenario file: one the gate or soak wrote, one written by hand, one
rebuilt from production logs. Exit 1 once the shrunk scenario is written (the
input fails: that is a finding, whatever its size); 2 when the input does not
fail at all, or not with ``--invariant`` (nothing to shrink: the message says what
it does break, if anything), or for bad usage. Never 0: a scenario that fails
is never reported as a pass, and one that passes has nothing to shrink.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from rich.text import Text

from cashfuzz import provenance
from cashfuzz.commands.gate import _positive_float, _positive_int
from cashfuzz.commands.run import refuse_unrunnable
from cashfuzz.engines import ENGINE_SPECS, pin_engine_mode
from cashfuzz.errors import EXIT_VIOLATION, UsageError
from cashfuzz.invariants import ALL_INVARIANTS, check_scenario
from cashfuzz.output.render import make_console, render_run
from cashfuzz.output.results import RecordedCheck, check_recorded, result_to_json
from cashfuzz.output.safe import plain
from cashfuzz.provenance import TRUST_FLAG, choose_engine
from cashfuzz.reference_engine import load_scenario
from cashfuzz.search.findings import save_counterexample
from cashfuzz.search.shrink import (
    CRASH,
    Failure,
    ShrinkLimits,
    ShrinkResult,
    failures_of,
    shrink_scenario,
)


def register(subparsers: Any) -> None:
    """Add the ``shrink`` subcommand."""
    parser = subparsers.add_parser(
        "shrink",
        help="reduce a failing scenario file to what still breaks the same invariant",
        description=(
            "Delta-debug a failing scenario: drop steps, symbols, signals, cancels and bars, "
            "then simplify numbers (costs, cash, prices, quantities), keeping every change "
            "after which the engine still breaks the same invariant (or crashes the same way). "
            "Order ids in cancels follow their orders. Exit 1 with the shrunk file written; "
            "2 when the file does not fail (nothing to shrink) or for bad usage."
        ),
    )
    parser.add_argument("scenario", type=Path, metavar="FILE", help="a failing scenario file")
    parser.add_argument(
        "--engine",
        metavar="ENGINE",
        help=f"{ENGINE_SPECS} "
        "(default: the engine the file records, else the reference engine in the "
        "scenario's own mode)",
    )
    parser.add_argument(
        TRUST_FLAG,
        action="store_true",
        help="load the engine the file records even when it is your own code "
        "(module:factory); without it such a file asks for --engine",
    )
    parser.add_argument(
        "--invariant",
        choices=(*ALL_INVARIANTS, CRASH),
        metavar="NAME",
        help="keep this failure (default: the first one the scenario shows); one of "
        f"{', '.join(ALL_INVARIANTS)}, {CRASH}",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="where the shrunk scenario goes (default: FILE-shrunk.json beside the input)",
    )
    parser.add_argument(
        "--seconds",
        type=_positive_float,
        default=30.0,
        metavar="S",
        help="stop shrinking after S seconds and keep the smallest so far (default: 30)",
    )
    parser.add_argument(
        "--max-checks",
        type=_positive_int,
        default=5_000,
        metavar="N",
        help="stop shrinking after N scenario checks (default: 5000)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    parser.set_defaults(func=shrink)


def default_output(path: Path) -> Path:
    """``name-shrunk.json`` beside ``path``."""
    return path.with_name(f"{path.stem}-shrunk.json")


def check_output_path(path: Path) -> Path:
    """``path`` when a file can be written there. Raises UsageError."""
    if path.is_dir():
        raise UsageError(f"--out={str(path)!r} is a folder; name the file to write")
    if path.parent.exists() and not path.parent.is_dir():
        raise UsageError(f"--out={str(path)!r}: {str(path.parent)!r} is not a folder")
    return path


def shrink(args: argparse.Namespace) -> int:
    """Shrink the file; exit 1 with the shrunk file written, 2 when there is nothing to shrink."""
    scenario = load_scenario(args.scenario)
    out = check_output_path(args.out or default_output(args.scenario))
    choice = choose_engine(scenario, args.engine, trust_recorded=args.trust_recorded_engine)
    if choice.spec is not None:
        scenario = pin_engine_mode(scenario, choice.spec)
    factory = choice.factory
    engine = choice.label
    refuse_unrunnable(scenario, factory, source=str(args.scenario), spec=choice.spec)
    checked = check_scenario(scenario, factory, fail_fast=False, determinism=True)
    failures = failures_of(checked)
    if not failures:
        raise UsageError(
            f"{args.scenario} does not fail on engine {engine}: every invariant held over "
            f"{len(checked.events)} events, so there is nothing to shrink"
        )
    wanted = failures[0]
    if args.invariant is not None:
        matching = [f for f in failures if f.invariant == args.invariant]
        if not matching:
            shown = ", ".join(str(f) for f in failures)
            raise UsageError(
                f"{args.scenario} does not break {args.invariant} on engine {engine} "
                f"(it breaks {shown}): choose one of those with --invariant"
            )
        wanted = matching[0]
    result = shrink_scenario(
        scenario, factory, wanted, ShrinkLimits(seconds=args.seconds, checks=args.max_checks)
    )
    shrunk = result.shrunk
    if choice.spec is not None:
        record = provenance.record(
            found_by="shrink",
            engine=choice.spec,
            invariants=[f.invariant for f in failures_of(check_scenario(shrunk, factory))],
            path=out,
        )
        shrunk = dataclasses.replace(shrunk, provenance=record)
    else:
        shrunk = dataclasses.replace(shrunk, provenance=None)
    saved = save_counterexample(shrunk, out)
    replayed = load_scenario(out) if saved else shrunk
    recorded = check_recorded(replayed, choose_engine(replayed, choice.spec).factory)
    command = provenance.replay_command(choice.spec or "reference", out)
    written = out
    if args.json:
        payload = _payload(result.failure, result, written, recorded, command, engine)
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        console = make_console()
        # piped, a line with a path, an engine spec or a command is never wrapped (soft_wrap)
        console.print(
            plain(f"cashfuzz shrink: {args.scenario} on engine {engine}", "bold"), soft_wrap=True
        )
        console.print(plain(f"keeps: {result.failure}"), soft_wrap=True)
        console.print(Text(f"before: {result.before}"))
        console.print(Text(f"after:  {result.after}"))
        console.print(
            Text(
                f"{result.checks} checks in {result.seconds:.1f} s, stopped by {result.stopped_by}"
            )
        )
        console.print(plain(f"shrunk: {written}"), soft_wrap=True)
        console.print()
        render_run(console, recorded, source=str(written), engine=engine)
        if recorded.result.ok:
            console.print(
                Text(
                    "warning: the shrunk scenario did not fail again when read back; "
                    "the engine may not be deterministic",
                    style="yellow",
                )
            )
        console.print()
        console.print(plain(f"replay: {command}", "bold"), soft_wrap=True)
    return EXIT_VIOLATION


def _payload(
    failure: Failure,
    result: ShrinkResult,
    written: Path,
    recorded: RecordedCheck,
    command: str,
    engine: str,
) -> dict[str, Any]:
    return {
        "invariant": str(failure),
        "before": result.before.to_dict(),
        "after": result.after.to_dict(),
        "checks": result.checks,
        "seconds": round(result.seconds, 3),
        "stopped_by": result.stopped_by,
        "shrunk_path": str(written),
        "replay": command,
        "counterexample": result_to_json(recorded.result, engine=engine),
    }
