"""cashfuzz run: check one scenario and print its ledger.

Exit 0 when every invariant held and the engine did not crash, 1 otherwise,
2 for a bad scenario or bad usage.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from typing import Any

from cashfuzz.engines import ENGINE_SPECS, pin_engine_mode
from cashfuzz.errors import EXIT_OK, EXIT_VIOLATION
from cashfuzz.examples import add_scenario_arguments, scenario_from_arguments
from cashfuzz.invariants import ORACLES
from cashfuzz.output.render import make_console, render_run
from cashfuzz.output.report import check_report_path, write_report
from cashfuzz.output.results import check_recorded, result_to_json
from cashfuzz.provenance import TRUST_FLAG, choose_engine
from cashfuzz.reference_engine import EngineFactory, Scenario, ScenarioError


def add_oracle_argument(parser: argparse.ArgumentParser) -> None:
    """``--oracle ENGINE``, as ``run`` and ``gate`` both take it."""
    parser.add_argument(
        "--oracle",
        choices=sorted(ORACLES),
        help=(
            "also require the event log to equal this engine's on every scenario "
            "(for engines that claim the reference semantics); the first differing "
            "event is the finding, oracle_reference"
        ),
    )


def register(subparsers: Any) -> None:
    """Add the ``run`` subcommand."""
    parser = subparsers.add_parser(
        "run",
        help="check one scenario and print its ledger",
        description=(
            "Run one scenario under every invariant and print what each signal became, "
            "each fill, and cash / reserved / available / equity after every event. "
            "Exit 0 when every invariant held, 1 when one broke or the engine crashed, "
            "2 for a bad scenario or usage."
        ),
    )
    add_scenario_arguments(parser)
    parser.add_argument(
        "--engine",
        metavar="ENGINE",
        help=(
            f"{ENGINE_SPECS} "
            "(default: the engine the file records, else the reference engine in the "
            "scenario's own mode)"
        ),
    )
    parser.add_argument(
        TRUST_FLAG,
        action="store_true",
        help="load the engine the file records even when it is your own code "
        "(module:factory); without it such a file asks for --engine",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    parser.add_argument(
        "--report",
        metavar="PATH",
        help="also write a report: PATH.md (markdown) or PATH.html, with a PNG plot beside it",
    )
    add_oracle_argument(parser)
    parser.add_argument(
        "--no-determinism",
        action="store_true",
        help="skip the determinism check (it runs the scenario a second time)",
    )
    parser.set_defaults(func=run)


def refuse_unrunnable(
    scenario: Scenario, factory: EngineFactory, *, source: str, spec: str | None
) -> None:
    """Raise ScenarioError, saying what to change, when ``factory`` declares (with its
    ``unsupported``) that its engine cannot run ``scenario``; nothing otherwise.

    The engine's own reason names the field; this adds the ways out: edit that setting,
    or let cashfuzz adapt the scenario (``diff --adapt``, and the gate always does)."""
    unsupported = getattr(factory, "unsupported", None)
    problem = None if unsupported is None else unsupported(scenario)
    if problem is None:
        return
    engine = spec or "reference"
    if source.startswith("example "):
        where, diff = "the scenario", f"--example {shlex.quote(source.removeprefix('example '))}"
    else:
        where, diff = "the file", shlex.quote(source)
    raise ScenarioError(
        f"{source}: engine {engine} cannot run this scenario as written: {problem}. "
        f"Change that in {where}, or let cashfuzz adapt the scenario to the engine: "
        f"`cashfuzz diff {diff} --against {shlex.quote(engine)} --adapt` runs both engines on "
        f"the nearest scenario {engine} can run, and `cashfuzz gate --engine "
        f"{shlex.quote(engine)}` adapts every scenario it generates"
    )


def run(args: argparse.Namespace) -> int:
    """Check the scenario and print it; the exit status says whether it held."""
    scenario, source = scenario_from_arguments(args)
    choice = choose_engine(scenario, args.engine, trust_recorded=args.trust_recorded_engine)
    if choice.spec is not None:
        # --engine naive / reference set the mode: show the config the engine ran with
        scenario = pin_engine_mode(scenario, choice.spec)
    refuse_unrunnable(scenario, choice.factory, source=source, spec=choice.spec)
    report_path = None if args.report is None else check_report_path(args.report)
    engine = (
        f"{choice.spec} ({choice.source})"
        if choice.spec is not None
        else f"reference, in the scenario's mode ({scenario.config.mode.value})"
    )
    oracle = None if args.oracle is None else ORACLES[args.oracle]
    # --json shows no ledger rows: a long run need not keep one per event
    recorded = check_recorded(
        scenario,
        choice.factory,
        determinism=not args.no_determinism,
        oracle=oracle,
        record_rows=not args.json or report_path is not None,
    )
    if args.json:
        payload = result_to_json(recorded.result, engine=choice.spec or "scenario")
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        render_run(make_console(), recorded, source=source, engine=engine)
    if report_path is not None:
        written = write_report(report_path, recorded, source=source, engine=engine)
        # stdout must stay one JSON object under --json
        stream = sys.stderr if args.json else sys.stdout
        stream.write(f"report: {written.report} (plot: {written.plot})\n")
    return EXIT_OK if recorded.result.ok else EXIT_VIOLATION
