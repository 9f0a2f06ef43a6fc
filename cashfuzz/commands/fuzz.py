"""cashfuzz fuzz: a fuzz campaign on every core, sharing one example database.

Runs until --minutes or --examples is spent (one minute when neither is given),
or Ctrl-C, which prints what was found and where, then exits 130. Every failure
is shrunk, written to --out as a replayable scenario file, and only then shown.
Rerun with the same --db (or --redis) to resume from every failure found so
far. Exit 1 when the campaign found a failure, 0 when it found none, 2 on bad
usage or an engine that breaks the engine protocol, 3 when a worker died of an
error of its own or no example ran.

With --hypofuzz the campaign is handed to HypoFuzz (coverage-guided; an
optional extra under a non-commercial licence) over the same database.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rich.text import Text

from cashfuzz.engines import ENGINE_SPECS, resolve_engine
from cashfuzz.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE, UsageError
from cashfuzz.output.render import make_console
from cashfuzz.output.safe import plain
from cashfuzz.search.campaign import CampaignProgress, CampaignSpec, run_campaign
from cashfuzz.search.gate import replay_command

DEFAULT_DB = Path(".hypothesis") / "cashfuzz-campaign"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "fuzz",
        help="run a fuzz campaign on all cores",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--engine",
        default="reference",
        help=f"{ENGINE_SPECS} (default: reference)",
    )
    budget = parser.add_argument_group(
        "budget (the first reached ends the run; default: --minutes 1)"
    )
    budget.add_argument("--minutes", type=float, default=None, help="wall-clock budget")
    budget.add_argument("--examples", type=int, default=None, help="scenarios to run in all")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="worker processes (default: cores)"
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--db", type=Path, default=None, help=f"example database directory (default: {DEFAULT_DB})"
    )
    where.add_argument(
        "--redis", default=None, help="redis://host:port/db shared by several machines"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("cashfuzz-out"), help="where counterexamples are written"
    )
    parser.add_argument(
        "--hypofuzz", action="store_true", help="run under HypoFuzz instead (optional extra)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    resolve_engine(args.engine)  # a bad name is a usage error before anything starts
    database = args.redis or str(args.db or DEFAULT_DB)
    seconds = None if args.minutes is None else args.minutes * 60
    if seconds is None and args.examples is None:
        seconds = 60.0
    spec = CampaignSpec(
        engine=args.engine,
        out_dir=args.out,
        database=database,
        workers=args.workers,
        seconds=seconds,
        max_examples=args.examples,
    )
    if args.hypofuzz:
        return _run_hypofuzz(spec)
    progress, interrupted = _run_with_display(spec)
    if interrupted:
        return EXIT_INTERRUPTED
    if any(error.usage for error in progress.errors):
        return EXIT_USAGE
    if progress.errors or (progress.examples == 0 and not progress.failures):
        return EXIT_INTERNAL
    return 1 if progress.failures else 0


def _run_with_display(spec: CampaignSpec) -> tuple[CampaignProgress, bool]:
    """Run the campaign showing progress on stderr; the progress, and whether Ctrl-C
    ended it (the summary of what was found is printed either way)."""
    from rich.live import Live
    from rich.table import Table

    console = make_console(sys.stderr)
    shown: set[Path] = set()
    latest = [CampaignProgress()]

    def table(progress: CampaignProgress, *, final: bool = False) -> Table:
        grid = Table.grid(padding=(0, 2))
        rate = progress.examples / progress.elapsed if progress.elapsed else 0.0
        workers = str(spec.workers) if final else f"{progress.workers_alive} of {spec.workers}"
        # only short figures: the engine, database and out paths are printed whole elsewhere
        grid.add_row("workers", workers, "elapsed", f"{progress.elapsed:,.1f} s")
        grid.add_row("examples", f"{progress.examples:,}", "examples/s", f"{rate:,.0f}")
        grid.add_row(
            "events", f"{progress.events:,}", "distinct failures", str(progress.distinct_failures)
        )
        return grid

    def announce(progress: CampaignProgress) -> None:
        latest[0] = progress
        for failure in progress.failures:
            if failure.path in shown:
                continue
            shown.add(failure.path)
            state = ("new" if failure.new else "known") + f", from {failure.source}"
            console.print(
                Text.assemble(
                    ("FAIL", "bold red"),
                    plain(f" ({state}) {', '.join(failure.invariants)} -> {failure.path}"),
                ),
                soft_wrap=True,
            )
            console.print(plain(f"      {failure.message}"), soft_wrap=True)
            console.print(
                plain(f"      replay: {replay_command(spec.engine, failure.path)}"),
                soft_wrap=True,
            )

    console.print(
        plain(
            f"cashfuzz fuzz: {spec.workers} worker(s) on {spec.engine}, database "
            f"{spec.database}, out {spec.out_dir}"
        ),
        soft_wrap=True,
    )
    interrupted = False
    try:
        if console.is_terminal:
            with Live(table(CampaignProgress()), console=console, refresh_per_second=4) as live:

                def update(progress: CampaignProgress) -> None:
                    announce(progress)
                    live.update(table(progress))

                progress = run_campaign(spec, update)
        else:
            last_print = [0.0]

            def update(progress: CampaignProgress) -> None:
                announce(progress)
                if progress.elapsed - last_print[0] >= 10:
                    last_print[0] = progress.elapsed
                    console.print(
                        f"{progress.elapsed:6.1f} s  {progress.examples:,} examples  "
                        f"{progress.distinct_failures} failure(s)"
                    )

            progress = run_campaign(spec, update)
    except KeyboardInterrupt:
        # run_campaign has stopped its workers and drained their last reports into the
        # progress object it was updating: say what was found before exiting 130
        interrupted = True
        progress = latest[0]
    announce(progress)
    for error in progress.errors:
        if interrupted:
            break  # workers die of the same Ctrl-C: not errors worth reporting
        console.print(
            Text.assemble(
                ("ERROR", "bold red"), plain(f" worker {error.worker} died: {error.message}")
            ),
            soft_wrap=True,
        )
    console.print(table(progress, final=True))
    if interrupted:
        verdict = (
            f"interrupted; {progress.distinct_failures} distinct failure(s) written to "
            f"{spec.out_dir}"
            if progress.failures
            else "interrupted; no invariant broke so far (the run was not finished)"
        )
    elif any(error.usage for error in progress.errors):
        verdict = "the engine breaks the engine protocol (above): fix the adapter"
    elif progress.errors:
        verdict = f"{len(progress.errors)} worker(s) died of an error: the run proves nothing"
    elif progress.examples == 0 and not progress.failures:
        verdict = "no example ran: the run proves nothing"
    elif progress.failures:
        verdict = f"{progress.distinct_failures} distinct failure(s) written to {spec.out_dir}"
    else:
        verdict = "no invariant broke"
    console.print(
        plain(f"cashfuzz fuzz: {progress.examples:,} examples, {verdict}"), soft_wrap=True
    )
    for path in sorted({failure.path for failure in progress.failures}) if interrupted else ():
        console.print(plain(f"  {path}"), soft_wrap=True)
    return progress, interrupted


def _run_hypofuzz(spec: CampaignSpec) -> int:
    if shutil.which("hypothesis") is None:
        raise UsageError(
            "--hypofuzz needs HypoFuzz: pip install -e '.[hypofuzz]' in a cashfuzz checkout "
            "(see README)"
        )
    if spec.seconds is None:
        raise UsageError("--hypofuzz runs until stopped: give --minutes (--examples is not used)")
    target = Path(__file__).resolve().parent.parent / "search" / "fuzz_targets.py"
    env = dict(
        os.environ,
        CASHFUZZ_ENGINE=spec.engine,
        CASHFUZZ_DATABASE=spec.database,
        CASHFUZZ_OUT=str(spec.out_dir),
        CASHFUZZ_PROFILE="campaign",
    )
    command = [
        "hypothesis", "fuzz", "-n", str(spec.workers), "--no-dashboard",
        # the target's own settings only: not those of whatever project it sits in
        "--", str(target), "-p", "no:cacheprovider", "-o", "addopts=",
        "--rootdir", str(target.parent),
    ]  # fmt: skip
    started = time.time()
    process = subprocess.Popen(command, env=env)
    try:
        status = process.wait(timeout=spec.seconds)
    except subprocess.TimeoutExpired:
        # HypoFuzz runs until stopped; SIGINT lets its workers save their state
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    else:
        sys.stderr.write(f"cashfuzz fuzz --hypofuzz: HypoFuzz stopped early (status {status})\n")
        return EXIT_INTERNAL
    # only files this run wrote or improved count
    found = sorted(p for p in spec.out_dir.glob("hypofuzz-*.json") if p.stat().st_mtime >= started)
    sys.stderr.write(f"cashfuzz fuzz --hypofuzz: time is up; {len(found)} failure file(s)\n")
    for path in found:
        sys.stderr.write(f"  {path}\n")
    return 1 if found else 0
