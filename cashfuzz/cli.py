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
import sys
import traceback
from collections.abc import Sequence

from cashfuzz.errors import EXIT_BROKEN_PIPE, EXIT_INTERNAL, EXIT_USAGE
from cashfuzz.reference_engine import EngineError

COMMANDS = ("run", "gate", "soak", "shrink", "fuzz", "replay", "diff", "bench")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"cashfuzz: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cashfuzz",
        description="Prove that a backtesting engine manages cash correctly.",
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
    try:
        return int(args.func(args))
    except EngineError as error:
        sys.stderr.write(f"cashfuzz: error: {error}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("cashfuzz: interrupted\n")
        return 130
    except BrokenPipeError:
        # the reader (e.g. `| head`) went away before the verdict was written: say so the
        # way any program killed by SIGPIPE does, never with a verdict it did not see
        sys.stderr.close()
        return EXIT_BROKEN_PIPE
    except Exception:  # noqa: BLE001 - shown with its traceback, and never exit 0 or 1
        traceback.print_exc()
        sys.stderr.write(
            "cashfuzz: internal error (the traceback above); nothing was proven either way\n"
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    raise SystemExit(main())
