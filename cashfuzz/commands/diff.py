"""cashfuzz diff: one scenario on the reference engine and on another engine, compared.

Exit 0 when the comparison ran (differences are information, not failure), 2 for a
bad scenario, a scenario the engine cannot run (without ``--adapt``), an engine that
cannot be loaded or breaks the protocol, or bad usage; 3 when the reference engine
itself crashed or broke an invariant (cashfuzz's own fault). A terminal at least
``DIFF_TABLE_WIDTH`` columns wide gets a table; narrower or piped output one block per
difference, wrapped between words only. ``--save-adapted FILE`` writes the scenario both
engines ran, for ``cashfuzz run``.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
import textwrap
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cashfuzz.errors import EXIT_INTERNAL, EXIT_OK, UsageError
from cashfuzz.examples import add_scenario_arguments, scenario_from_arguments
from cashfuzz.output.render import make_console
from cashfuzz.output.safe import plain
from cashfuzz.reference_engine import write_scenario
from cashfuzz.reference_engine.money import format_cents
from cashfuzz.search.differential import Comparison, compare, comparison_to_json

#: A terminal at least this wide gets the differences as a table; anything narrower, and
#: output that is not a terminal, gets one block per difference, wrapped between words.
DIFF_TABLE_WIDTH = 160

#: how far a block's lines are indented under its subject line
_INDENT = "  "

ENGINES_HELP = (
    "backtrader (default), backtesting, nautilus, naive, zoo:NAME, exec:COMMAND, "
    "package.module:factory or path/to/file.py:factory"
)


def register(subparsers: Any) -> None:
    """Add the ``diff`` subcommand."""
    parser = subparsers.add_parser(
        "diff",
        help="run a scenario on the reference engine and on another engine and explain "
        "the differences",
        description=(
            "Run one scenario on the reference engine (reservation mode) and on another "
            f"engine ({ENGINES_HELP}), align their orders by id, and list every difference "
            "(outcomes, fills, commissions, final cash and positions) with a category and an "
            "explanation: the engine's own rules first (its factory's difference_rules), then "
            "the generic ones. Exit 0 when the comparison ran, 2 for a bad scenario, a "
            "scenario the engine cannot run (try --adapt), an engine that cannot be loaded, "
            "or usage; 3 when the reference engine itself failed."
        ),
    )
    add_scenario_arguments(parser)
    parser.add_argument(
        "--against",
        metavar="ENGINE",
        default="backtrader",
        help=f"the engine to compare with the reference engine: {ENGINES_HELP}",
    )
    parser.add_argument(
        "--adapt",
        action="store_true",
        help="compare both engines on the engine's adapt_scenario(SCENARIO), the nearest "
        "scenario it can run, when it cannot run SCENARIO as given",
    )
    parser.add_argument(
        "--save-adapted",
        metavar="FILE",
        help="write the scenario both engines ran (with --adapt, the adapted one) to FILE, "
        "to replay it with cashfuzz run FILE --engine ENGINE",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    parser.set_defaults(func=diff)


def diff(args: argparse.Namespace) -> int:
    """Compare the engines on the scenario and print the differences."""
    scenario, source = scenario_from_arguments(args)
    named = (
        f"--example {shlex.quote(args.example)}"
        if args.example is not None
        else shlex.quote(str(args.scenario))
    )
    comparison = compare(scenario, args.against, adapt=args.adapt, scenario_argument=named)
    if args.save_adapted is not None:
        try:
            write_scenario(comparison.scenario, args.save_adapted)
        except OSError as error:
            raise UsageError(
                f"--save-adapted {args.save_adapted!r} cannot be written "
                f"({error.strerror or error}); give a FILE in a folder you can write to"
            ) from None
    if args.json:
        sys.stdout.write(json.dumps(comparison_to_json(comparison), indent=2) + "\n")
    else:
        print_comparison(make_console(), comparison, source=source)
    if not comparison.reference.ok:
        broken = ", ".join(sorted({v.invariant for v in comparison.reference.violations}))
        sys.stderr.write(
            f"cashfuzz: internal error: the reference engine broke {broken} on this scenario; "
            "please report it with the scenario file\n"
        )
        return EXIT_INTERNAL
    return EXIT_OK


def _side_line(name: str, comparison: Comparison, reference: bool) -> str:
    result = comparison.reference if reference else comparison.other
    orders = comparison.reference_orders if reference else comparison.other_orders
    if result.final is None:
        return f"{name}: crashed: {result.crash}"
    fills = sum(len(order.fills) for order in orders.values())
    positions = ", ".join(f"{p.symbol} {p.quantity}" for p in result.final.positions if p.quantity)
    broken = ", ".join(sorted({v.invariant for v in result.violations})) or "none"
    return (
        f"{name}: {fills} fill(s), final cash {format_cents(result.final.cash)}, "
        f"positions {positions or 'none'}; invariants broken: {broken}"
    )


def print_comparison(console: Console, comparison: Comparison, *, source: str) -> None:
    """A headline per engine, then each difference with its explanation: a table row on a
    wide terminal, else a block."""
    console.print(
        plain(f"cashfuzz diff: {source}: reference vs {comparison.against}", "bold"),
        soft_wrap=True,
    )
    if comparison.adapted:
        what = (
            f"adapted by {comparison.against}'s adapt_scenario (both engines ran the adapted "
            "scenario; --save-adapted FILE writes it, --json shows it under adapted_scenario)"
            if comparison.changed
            else f"--adapt: {comparison.against} runs the scenario as given (unchanged)"
        )
        console.print(plain(f"scenario {what}"), soft_wrap=True)
    console.print(plain(_side_line("reference", comparison, True)), soft_wrap=True)
    console.print(plain(_side_line(comparison.against, comparison, False)), soft_wrap=True)
    if comparison.agree:
        console.print(Text("the engines agree: no differences", style="bold green"))
        return
    if console.is_terminal and console.width >= DIFF_TABLE_WIDTH:
        print_table(console, comparison)
    else:
        print_blocks(console, comparison)
    console.print(Text(f"{len(comparison.differences)} difference(s)", style="bold yellow"))


def print_table(console: Console, comparison: Comparison) -> None:
    """One table row per difference (for a wide terminal)."""
    table = Table(box=box.SIMPLE_HEAD, show_lines=False, expand=False)
    for name in ("what", "field", "reference", comparison.against, "category", "why"):
        table.add_column(name, overflow="fold")
    for difference in comparison.differences:
        table.add_row(
            plain(difference.subject),
            plain(difference.field),
            plain(difference.reference),
            plain(difference.other),
            plain(difference.category),
            plain(difference.explanation),
        )
    console.print(table)


def print_blocks(console: Console, comparison: Comparison) -> None:
    """One block per difference: subject and field, both values, the category, then the
    explanation, each wrapped to the console's width between words only (a word, path or
    command longer than the line stays whole on a line of its own)."""
    width = max(console.width, 40)
    for difference in comparison.differences:
        console.print()
        console.print(plain(f"{difference.subject}: {difference.field}", "bold"), soft_wrap=True)
        for label, value in (
            ("reference", difference.reference),
            (comparison.against, difference.other),
            ("category", difference.category),
            ("why", difference.explanation),
        ):
            for line in block_lines(f"{label}: {value}", width):
                console.print(plain(line), soft_wrap=True)
    console.print()


#: A command quoted in an explanation, up to where the sentence goes on.
_COMMAND = re.compile(r"cashfuzz (?:run|diff) .*?(?=, then | and cashfuzz |$)")
_KEEP = "\x00"  # not whitespace: textwrap never breaks there


def block_lines(text: str, width: int) -> list[str]:
    """``text`` wrapped to ``width`` between words, indented; continuation lines indented
    twice. Never breaks a word, a hyphenated name or a quoted ``cashfuzz`` command (one
    longer than the line gets a line of its own)."""
    kept = _COMMAND.sub(lambda match: match.group(0).replace(" ", _KEEP), text)
    lines = textwrap.wrap(
        kept,
        width=width,
        initial_indent=_INDENT,
        subsequent_indent=_INDENT * 2,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return [line.replace(_KEEP, " ") for line in lines] or [_INDENT]
