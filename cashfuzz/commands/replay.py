"""cashfuzz replay PATH: rerun saved counterexamples.

PATH is a folder of scenario files (every *.json under it, recursively) or one
scenario file. Each is run under every invariant, on the engine it records
(unless --engine is given); the command exits 1 when any of them still breaks
one or crashes the engine, 0 when all pass (the bugs they record are fixed), 2
when a file is not a valid scenario or PATH is missing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cashfuzz.commands.run import refuse_unrunnable
from cashfuzz.engines import ENGINE_SPECS
from cashfuzz.errors import UsageError
from cashfuzz.invariants import check_scenario
from cashfuzz.output.render import make_console
from cashfuzz.output.safe import plain
from cashfuzz.provenance import TRUST_FLAG, choose_engine
from cashfuzz.reference_engine import ScenarioError, load_scenario


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="rerun every saved counterexample in a folder (or one file)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "directory",
        type=Path,
        metavar="PATH",
        help="a folder of scenario files (searched recursively), or one scenario file",
    )
    parser.add_argument(
        "--engine",
        default=None,
        help=f"{ENGINE_SPECS} "
        "(default: the engine each file records, else its mode on the reference engine)",
    )
    parser.add_argument(
        TRUST_FLAG,
        action="store_true",
        help="load the engines the files record even when they are your own code",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def corpus_files(path: Path) -> list[Path]:
    """The scenario files of a corpus (a folder, or one file), in a stable order.
    Raises UsageError when ``path`` does not exist."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise UsageError(
            f"replay: {str(path)!r} does not exist; give a folder of scenario files "
            "or one scenario file"
        )
    return sorted(p for p in path.rglob("*.json") if not p.name.startswith("."))


def run(args: argparse.Namespace) -> int:
    files = corpus_files(args.directory)
    results: list[dict[str, Any]] = []
    for path in files:
        try:
            scenario = load_scenario(path)
        except ScenarioError as error:
            raise ScenarioError(f"{path}: {error}") from None
        choice = choose_engine(
            scenario, args.engine, trust_recorded=args.trust_recorded_engine, where=str(path)
        )
        refuse_unrunnable(scenario, choice.factory, source=str(path), spec=choice.spec)
        checked = check_scenario(scenario, choice.factory)
        results.append(
            {
                "path": str(path),
                "engine": choice.label,
                "ok": checked.ok,
                "violations": [v.to_dict() for v in checked.violations],
                "crash": checked.crash,
                "traceback": checked.traceback,
            }
        )
    failing = [r for r in results if not r["ok"]]
    if args.json:
        print(json.dumps({"ok": not failing, "files": results}, indent=2))
    else:
        _print_results(make_console(), results)
    if not files:
        sys.stderr.write(f"replay: no scenario files under {args.directory}\n")
    return 1 if failing else 0


def _detail(result: dict[str, Any]) -> str:
    first = result["violations"][0] if result["violations"] else None
    if first is not None:
        return f"{first['invariant']} at event {first['event_index']}: {first['message']}"
    return str(result["crash"] or "")


def _print_results(console: Console, results: list[dict[str, Any]]) -> None:
    """A table on a terminal; on a pipe or in a CI log, whole lines (no path is cut)."""
    if console.is_terminal:
        table = Table(title="cashfuzz replay")
        table.add_column("scenario", overflow="fold")
        table.add_column("engine", overflow="fold")
        table.add_column("result")
        table.add_column("first violation", overflow="fold")
        for result in results:
            verdict = Text("FAIL", style="bold red") if not result["ok"] else Text("ok")
            table.add_row(
                plain(result["path"]), plain(result["engine"]), verdict, plain(_detail(result))
            )
        console.print(table)
    else:
        for result in results:
            word = "FAIL" if not result["ok"] else "ok  "
            console.print(
                plain(f"{word} {result['path']} (engine {result['engine']})"), soft_wrap=True
            )
            if not result["ok"]:
                console.print(plain(f"     {_detail(result)}"), soft_wrap=True)
    for result in results:
        if result["traceback"]:
            console.print(plain(f"{result['path']}: the engine's traceback:"), soft_wrap=True)
            console.print(plain(result["traceback"].rstrip("\n"), keep_newlines=True))
    failing = sum(1 for r in results if not r["ok"])
    console.print(Text(f"{len(results)} scenario(s), {failing} still failing"))
