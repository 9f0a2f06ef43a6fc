"""``cashfuzz replay DIR``: rerun a corpus of saved counterexamples.

Every ``*.json`` scenario under DIR is run under every invariant; the command
exits 1 when any of them still breaks one, 0 when all pass (the bugs they
record are fixed), 2 when a file is not a valid scenario or DIR is missing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cashfuzz.engines import resolve_engine
from cashfuzz.errors import UsageError
from cashfuzz.invariants import check_scenario
from cashfuzz.reference_engine import ScenarioError, load_scenario


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="rerun every saved counterexample in a directory",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "directory", type=Path, help="folder of scenario files (searched recursively)"
    )
    parser.add_argument(
        "--engine",
        default=None,
        help="reference | naive | backtrader | zoo:NAME | exec:COMMAND | package.module:factory "
        "(default: each scenario's own mode on the reference engine)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def corpus_files(directory: Path) -> list[Path]:
    """The scenario files of a corpus, in a stable order. Raises UsageError."""
    if not directory.is_dir():
        raise UsageError(f"replay: directory={str(directory)!r} does not exist")
    return sorted(p for p in directory.rglob("*.json") if not p.name.startswith("."))


def run(args: argparse.Namespace) -> int:
    factory = resolve_engine(args.engine)
    files = corpus_files(args.directory)
    results: list[dict[str, Any]] = []
    for path in files:
        try:
            scenario = load_scenario(path)
        except ScenarioError as error:
            raise ScenarioError(f"{path}: {error}") from None
        checked = check_scenario(scenario, factory)
        results.append(
            {
                "path": str(path),
                "ok": checked.ok,
                "violations": [v.to_dict() for v in checked.violations],
                "crash": checked.crash,
            }
        )
    failing = [r for r in results if not r["ok"]]
    if args.json:
        print(json.dumps({"ok": not failing, "files": results}, indent=2))
    else:
        _print_table(results)
    if not files:
        sys.stderr.write(f"replay: no scenario files under {args.directory}\n")
    return 1 if failing else 0


def _print_table(results: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="cashfuzz replay")
    table.add_column("scenario")
    table.add_column("result")
    table.add_column("first violation")
    for result in results:
        first = result["violations"][0] if result["violations"] else None
        detail = (
            f"{first['invariant']} at event {first['event_index']}: {first['message']}"
            if first
            else (result["crash"] or "")
        )
        table.add_row(result["path"], "FAIL" if not result["ok"] else "ok", detail)
    console.print(table)
    failing = sum(1 for r in results if not r["ok"])
    console.print(f"{len(results)} scenario(s), {failing} still failing")
