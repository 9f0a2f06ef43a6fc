"""Built-in example scenarios, shipped inside the package."""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path

from cashfuzz.errors import UsageError
from cashfuzz.reference_engine import Scenario, load_scenario, scenario_from_json

#: name -> file in cashfuzz/examples
EXAMPLES: dict[str, str] = {
    "googl-aapl": "googl_aapl.json",
    "googl-aapl-kelly": "googl_aapl_kelly.json",
    "googl-aapl-two-bars": "googl_aapl_two_bars.json",
}


def example_path(name: str) -> Path:
    """The file of a built-in example. Raises UsageError for an unknown name."""
    if name not in EXAMPLES:
        raise UsageError(f"--example {name!r} is not built in; choose from {', '.join(EXAMPLES)}")
    return Path(str(resources.files("cashfuzz") / "examples" / EXAMPLES[name]))


def load_example(name: str) -> Scenario:
    """A built-in example scenario by name (see EXAMPLES)."""
    path = example_path(name)
    return scenario_from_json(path.read_text(encoding="utf-8"), base_dir=path.parent)


def add_scenario_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``SCENARIO`` / ``--example NAME`` pair a command reads its scenario from."""
    parser.add_argument("scenario", nargs="?", metavar="SCENARIO", help="a scenario JSON file")
    parser.add_argument(
        "--example",
        metavar="NAME",
        help=f"a built-in scenario instead of a file ({', '.join(EXAMPLES)})",
    )
    parser.add_argument(
        "--allow-bars-outside",
        action="store_true",
        help=(
            "let the scenario's bars name a CSV file outside the scenario's folder "
            "(an absolute path, ../, a symlink out); refused by default"
        ),
    )


def scenario_from_arguments(args: argparse.Namespace) -> tuple[Scenario, str]:
    """The scenario named by exactly one of SCENARIO or --example, and a label for it.

    Raises UsageError for both or neither, ScenarioError for a bad file.
    """
    if args.scenario is not None and args.example is not None:
        raise UsageError(
            f"give a SCENARIO file or --example NAME, not both "
            f"(got {args.scenario!r} and --example {args.example!r})"
        )
    if args.example is not None:
        return load_example(args.example), f"example {args.example}"
    if args.scenario is None:
        raise UsageError(
            f"give a SCENARIO file or --example NAME (built in: {', '.join(EXAMPLES)})"
        )
    allow = bool(getattr(args, "allow_bars_outside", False))
    return load_scenario(args.scenario, allow_bars_outside=allow), str(args.scenario)
