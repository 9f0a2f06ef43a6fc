"""``cashfuzz``: run, gate, soak, shrink, fuzz, replay, diff and bench.

Exit status: 0 when every invariant held, 1 when one broke, 2 for bad input
or usage, 3 when cashfuzz itself failed. Each subcommand lives in
``cashfuzz.commands.<name>`` and exposes ``register(subparsers)``, which sets
``func(args) -> int`` on its parser.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
import traceback
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from cashfuzz.errors import EXIT_BROKEN_PIPE, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE
from cashfuzz.reference_engine import EngineError

COMMANDS = ("run", "gate", "soak", "shrink", "fuzz", "replay", "diff", "bench")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"cashfuzz: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def versions() -> str:
    """``cashfuzz X (Hypothesis Y, Python Z)``: what a bug report needs."""

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    python = ".".join(str(part) for part in sys.version_info[:3])
    return (
        f"cashfuzz {installed('cashfuzz')} (Hypothesis {installed('hypothesis')}, Python {python})"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cashfuzz",
        description="Prove that a backtesting engine manages cash correctly.",
    )
    parser.add_argument("--version", action="version", version=versions())
    parser.add_argument(
        "--no-color",
        action="store_true",
        help="plain output without colour or styles (so does the NO_COLOR variable)",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMANDS:
        module_name = f"cashfuzz.commands.{name}"
        if importlib.util.find_spec(module_name) is None:
            continue
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.no_color:
        from cashfuzz.output.render import disable_colour

        disable_colour()
    try:
        return int(args.func(args))
    except EngineError as error:
        sys.stderr.write(f"cashfuzz: error: {error}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("cashfuzz: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader (e.g. `| head`) went away before the verdict was written: say so the
        # way any program killed by SIGPIPE does, never with a verdict it did not see;
        # stdout points at /dev/null so the interpreter's last flush cannot fail again
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except Exception:  # noqa: BLE001 - shown with its traceback, and never exit 0 or 1
        traceback.print_exc()
        sys.stderr.write(
            "cashfuzz: internal error (the traceback above); nothing was proven either way\n"
        )
        return EXIT_INTERNAL


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (a test's capture): nothing to do
        pass


if __name__ == "__main__":
    raise SystemExit(main())
