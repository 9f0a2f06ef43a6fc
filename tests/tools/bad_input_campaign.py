"""A bad-input campaign against ``cashfuzz run FILE --json``.

Writes N mutated scenario files (mutations of valid ones: byte flips, deletions,
duplications, truncation, huge numbers, deep nesting, wrong types, duplicate keys,
respelled timestamps, non-UTF-8 bytes, long strings, hostile ``bars`` paths and CSV
files) and runs each in its own process with a timeout. Prints counts by exit code,
hangs, tracebacks, exit 0/1 on input invalid by construction, errors longer than
``--max-error-chars``, and any output holding a secret planted in the environment.
Exit 0 when there is no traceback, hang, wrong acceptance or leak; 1 otherwise.

    python tests/tools/bad_input_campaign.py --count 2000 --workers 2 --seed 0
    python tests/tools/bad_input_campaign.py --count 2000 --batch 50   # one process per 50 files
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import copy
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "cashfuzz" / "examples"
SECRET = "CASHFUZZ_CAMPAIGN_SECRET_7f3a"
BAR_CSV = (
    "timestamp,symbol,open,high,low,close,volume\n"
    "2025-01-02T09:30:00,A,10.00,10.50,9.90,10.20,5000\n"
    "2025-01-02T09:30:00,B,20.00,20.40,19.80,20.10,3000\n"
    "2025-01-03T09:30:00,A,10.20,10.60,10.00,10.40,5000\n"
)
HUGE_TEXTS = (
    "1e-999999999",
    "1e999999999",
    "-1e999999999",
    "9" * 5000,
    "1e24",
    "0e-999999999",
    "1" + "0" * 60,
    "1.0e+400",
)
HUGE_LITERALS = ("1e999999999", "1e-999999999", "9" * 5000, "-" + "9" * 50, "1E+99999", "NaN")
NUMERIC_FIELDS = (
    ("initial_cash",),
    ("max_participation",),
    ("costs", "commission_rate"),
    ("costs", "commission_min"),
    ("sizer", "fraction"),
    ("bars", 0, "open"),
    ("bars", 0, "volume"),
    ("bars", 0, "timestamp"),
    ("signals", 0, "quantity"),
    ("signals", 0, "strength"),
    ("seed",),
)
TYPED_KEYS = (
    ("mode",),
    ("fill_at",),
    ("policy",),
    ("sizer", "kind"),
    ("sizer",),
    ("costs",),
    ("bars", 0, "symbol"),
    ("bars", 0),
    ("signals",),
    ("signals", 0, "side"),
    ("signals", 0, "time_in_force"),
    ("initial_cash",),
    ("description",),
)
WRONG_VALUES: tuple[Any, ...] = (["x"], {"k": 1}, True, [[[]]], {"kind": ["x"]}, 3.5)


@dataclass(frozen=True)
class Case:
    """One mutated file; ``invalid`` when the mutation makes it invalid by construction."""

    name: str
    kind: str
    invalid: bool


@dataclass(frozen=True)
class Outcome:
    case: Case
    code: int | None  # None: hung
    traceback: bool
    error_chars: int
    leaked: bool
    seconds: float


def _seeds() -> list[dict[str, Any]]:
    seeds = [json.loads(path.read_text()) for path in sorted(EXAMPLES.glob("*.json"))]
    seeds.append(
        {
            "initial_cash": "5000.00",
            "fill_at": "next_open",
            "costs": {"commission_rate": "0.001", "max_slippage_bps": "5"},
            "sizer": {"kind": "fixed_amount", "amount": "100"},
            "bars": "bars.csv",
            "signals": [
                {"timestamp": "2025-01-02T09:30:00", "symbol": "A", "side": "BUY"},
                {"timestamp": "2025-01-02T09:30:00", "symbol": "B", "side": "BUY", "quantity": 3},
                {"timestamp": "2025-01-03T09:30:00", "symbol": "A", "side": "SELL"},
            ],
            "cancels": [{"timestamp": "2025-01-03T09:30:00", "order_id": 2}],
        }
    )
    return seeds


def _set(raw: Any, path: tuple[Any, ...], value: Any) -> bool:
    target = raw
    for key in path[:-1]:
        try:
            target = target[key]
        except (KeyError, IndexError, TypeError):
            return False
    if isinstance(target, dict) or (isinstance(target, list) and path[-1] < len(target)):
        target[path[-1]] = value
        return True
    return False


def _mutate(rng: random.Random, seed: dict[str, Any]) -> tuple[bytes, str, bool]:
    """The mutated file's bytes, the mutation's name, and whether it is invalid by construction."""
    raw = copy.deepcopy(seed)
    text = json.dumps(raw, indent=rng.choice([None, 2]))
    data = text.encode()
    kind = rng.choice(
        [
            "control",
            "flip",
            "flip",
            "delete",
            "delete",
            "duplicate",
            "truncate",
            "huge_string",
            "huge_literal",
            "deep",
            "wrong_type",
            "dup_key",
            "non_utf8",
            "long_string",
            "unknown_key",
            "bad_path",
            "bad_csv",
            "respelled",
        ]
    )
    if kind == "control":
        return data, kind, False
    if kind == "flip":
        out = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            out[rng.randrange(len(out))] = rng.randrange(256)
        return bytes(out), kind, False
    if kind == "delete":
        start = rng.randrange(len(data))
        return data[:start] + data[start + rng.randint(1, 40) :], kind, False
    if kind == "duplicate":
        start = rng.randrange(len(data))
        span = data[start : start + rng.randint(1, 200)]
        return data[:start] + span * rng.randint(2, 50) + data[start:], kind, False
    if kind == "truncate":
        return data[: rng.randrange(len(data))], kind, True
    if kind == "huge_string":
        invalid = _set(raw, rng.choice(NUMERIC_FIELDS), rng.choice(HUGE_TEXTS))
        return json.dumps(raw).encode(), kind, invalid
    if kind == "huge_literal":
        paths = list(_number_paths(raw, ()))
        if not paths:
            return data, kind, False
        _set(raw, rng.choice(paths), "@@LITERAL@@")
        literal = rng.choice(HUGE_LITERALS)
        return json.dumps(raw).replace('"@@LITERAL@@"', literal).encode(), kind, True
    if kind == "deep":
        depth = rng.choice([33, 100, 999, 1000, 5000, 100_000])
        value = "[" * depth + "]" * depth
        key = rng.choice(sorted(raw))
        return text.replace(f'"{key}": ', f'"{key}": {value}, "x{key}": ', 1).encode(), kind, True
    if kind == "wrong_type":
        path = rng.choice(TYPED_KEYS)
        # 3.5 is a valid cash amount: every other pair is a wrong type
        wrong = [v for v in WRONG_VALUES if not (path == ("initial_cash",) and v == 3.5)]
        invalid = _set(raw, path, rng.choice(wrong))
        return json.dumps(raw).encode(), kind, invalid
    if kind == "dup_key":
        key = rng.choice(sorted(raw))
        return (
            b'{"' + key.encode() + b'": ' + json.dumps(raw[key]).encode() + b", " + data[1:],
            kind,
            True,
        )
    if kind == "non_utf8":
        at = rng.randrange(len(data) + 1)
        bad = rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80"])
        return data[:at] + bad + data[at:], kind, True
    if kind == "long_string":
        value = rng.choice(["x", "\x1b[2J", "é"]) * rng.choice([65, 100_000, 1_000_000])
        targets: list[tuple[Any, ...]] = [("bars", 0, "symbol"), ("signals", 0, "side"), ("mode",)]
        path = rng.choice(targets)
        return json.dumps(_replaced(raw, path, value)).encode(), kind, _has(raw, path)
    if kind == "unknown_key":
        raw[rng.choice(["colour", "initial_csh", "x" * 1000])] = 1
        return json.dumps(raw).encode(), kind, True
    if kind == "bad_path":
        raw["bars"] = rng.choice(
            [
                "/proc/self/environ",
                "/dev/zero",
                "/etc/passwd",
                "../bars.csv",
                "fifo.csv",
                "zero.csv",
                "garbage.csv.gz",
                "archive.zip",
                ".",
                "missing.csv",
                "environ.csv",
                "",
            ]
        )
        return json.dumps(raw).encode(), kind, True
    if kind == "bad_csv":
        raw["bars"] = rng.choice(["garbage.csv", "long_ts.csv", "empty_ts.csv", "no_header.csv"])
        return json.dumps(raw).encode(), kind, True
    # respelled: the same bar again, its ISO timestamp spelled another way
    bars = raw.get("bars")
    if isinstance(bars, list) and bars and isinstance(bars[0].get("timestamp"), str):
        again = dict(bars[0])
        stamp = again["timestamp"]
        again["timestamp"] = rng.choice(
            [stamp.replace("T", " "), stamp + ".000", stamp + ".000000"]
        )
        bars.append(again)
        return json.dumps(raw).encode(), kind, True
    return data, kind, False


def _number_paths(value: Any, path: tuple[Any, ...]) -> Any:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _number_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _number_paths(item, (*path, index))
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield path


def _replaced(raw: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    _set(raw, path, value)
    return raw


def _has(raw: Any, path: tuple[Any, ...]) -> bool:
    target = raw
    for key in path:
        try:
            target = target[key]
        except (KeyError, IndexError, TypeError):
            return False
    return True


def _fixtures(folder: Path) -> None:
    (folder / "bars.csv").write_text(BAR_CSV)
    noise = random.Random(1)
    (folder / "garbage.csv").write_bytes(bytes(noise.randrange(256) for _ in range(4096)))
    (folder / "garbage.csv.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    (folder / "archive.zip").write_bytes(b"PK\x03\x04garbage")
    (folder / "long_ts.csv").write_text(
        "timestamp,symbol,open,high,low,close,volume\n12345678901234567890123,A,1,2,1,2,10\n"
    )
    (folder / "empty_ts.csv").write_text(
        "timestamp,symbol,open,high,low,close,volume\n1,A,1,2,1,2,10\n,A,1,2,1,2,10\n"
    )
    (folder / "no_header.csv").write_text(f"{SECRET},x\n1,2\n")
    environ = Path("/proc/self/environ")
    if environ.exists():
        shutil.copyfile(environ, folder / "environ.csv")
    os.mkfifo(folder / "fifo.csv")
    (folder / "zero.csv").symlink_to("/dev/zero")


def _run(case: Case, folder: Path, timeout: float, command: list[str]) -> Outcome:
    env = {**os.environ, "CASHFUZZ_SECRET": SECRET}
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [*command, "run", case.name, "--json", "--no-determinism"],
            cwd=folder,
            env=env,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Outcome(case, None, False, 0, False, time.perf_counter() - start)
    stderr = done.stderr.decode("utf-8", "replace")
    stdout = done.stdout.decode("utf-8", "replace")
    return Outcome(
        case,
        done.returncode,
        "Traceback" in stderr,
        len(stderr),
        SECRET in stderr or SECRET in stdout,
        time.perf_counter() - start,
    )


def _worker(names: list[str]) -> int:
    """Run ``cashfuzz run NAME --json`` in this process for each name, one JSON line each
    (used by --batch: one interpreter start for many files)."""
    import contextlib
    import io

    from cashfuzz.cli import main as cashfuzz_main

    for name in names:
        out, err = io.StringIO(), io.StringIO()
        start = time.perf_counter()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cashfuzz_main(["run", name, "--json", "--no-determinism"])
        line = {
            "case": name,
            "code": code,
            "traceback": "Traceback" in err.getvalue(),
            "error_chars": len(err.getvalue()),
            "leaked": SECRET in err.getvalue() or SECRET in out.getvalue(),
            "seconds": time.perf_counter() - start,
        }
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
    return 0


def _run_batch(cases: list[Case], folder: Path, timeout: float) -> list[Outcome]:
    """Run ``cases`` in one worker process; a batch that times out has every unfinished
    case rerun in a process of its own, so a hang is pinned on one file."""
    by_name = {case.name: case for case in cases}
    env = {**os.environ, "CASHFUZZ_SECRET": SECRET}
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", *by_name]
    try:
        done = subprocess.run(
            command, cwd=folder, env=env, capture_output=True, timeout=timeout * len(cases)
        )
        output = done.stdout
    except subprocess.TimeoutExpired as expired:
        output = expired.stdout or b""
    outcomes = []
    for text in output.decode("utf-8", "replace").splitlines():
        try:
            line = json.loads(text)
        except json.JSONDecodeError:
            continue
        outcomes.append(
            Outcome(
                by_name.pop(line["case"]),
                line["code"],
                line["traceback"],
                line["error_chars"],
                line["leaked"],
                line["seconds"],
            )
        )
    cashfuzz = [str(Path(sys.executable).parent / "cashfuzz")]
    outcomes += [_run(case, folder, timeout, cashfuzz) for case in by_name.values()]
    return outcomes


def main() -> int:
    if sys.argv[1:2] == ["--worker"]:
        return _worker(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds until a hang")
    parser.add_argument("--max-error-chars", type=int, default=1000)
    parser.add_argument("--keep", metavar="DIR", help="write the files here and keep them")
    parser.add_argument(
        "--batch",
        type=int,
        default=1,
        help="files per process (default 1: a process per file); a batch that times out "
        "reruns its unfinished files one process each",
    )
    parser.add_argument(
        "--minutes",
        type=float,
        help="stop starting new runs after this long and report the runs that finished",
    )
    args = parser.parse_args()
    command = [str(Path(sys.executable).parent / "cashfuzz")]
    folder = Path(args.keep or tempfile.mkdtemp(prefix="bad-input-"))
    folder.mkdir(parents=True, exist_ok=True)
    _fixtures(folder)
    rng = random.Random(args.seed)
    seeds = _seeds()
    cases = []
    for number in range(args.count):
        data, kind, invalid = _mutate(rng, rng.choice(seeds))
        name = f"case-{number:05d}-{kind}.json"
        (folder / name).write_bytes(data)
        cases.append(Case(name, kind, invalid))
    started = time.perf_counter()
    deadline = None if args.minutes is None else started + 60 * args.minutes

    def run(batch: list[Case]) -> list[Outcome]:
        if deadline is not None and time.perf_counter() > deadline:
            return []
        if len(batch) == 1:
            found = [_run(batch[0], folder, args.timeout, command)]
        else:
            found = _run_batch(batch, folder, args.timeout)
        with open(folder / "outcomes.jsonl", "a", encoding="utf-8") as log:
            for outcome in found:
                log.write(json.dumps({"case": outcome.case.name, "code": outcome.code}) + "\n")
        return found

    batches = [cases[i : i + args.batch] for i in range(0, len(cases), args.batch)]
    with concurrent.futures.ThreadPoolExecutor(args.workers) as pool:
        outcomes = [o for found in pool.map(run, batches) for o in found]
    elapsed = time.perf_counter() - started
    cases = [o.case for o in outcomes]
    codes = collections.Counter("hang" if o.code is None else str(o.code) for o in outcomes)
    by_kind: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for outcome in outcomes:
        by_kind[outcome.case.kind]["hang" if outcome.code is None else str(outcome.code)] += 1
    bad = {
        "hangs": [o for o in outcomes if o.code is None],
        "tracebacks": [o for o in outcomes if o.traceback or o.code == 3],
        "accepted invalid input (exit 0 or 1)": [
            o for o in outcomes if o.case.invalid and o.code in (0, 1)
        ],
        f"errors longer than {args.max_error_chars} chars": [
            o for o in outcomes if o.error_chars > args.max_error_chars
        ],
        "secret leaked": [o for o in outcomes if o.leaked],
        "unmutated file refused": [o for o in outcomes if o.case.kind == "control" and o.code],
    }
    seconds = sorted(o.seconds for o in outcomes)
    print(f"inputs: {len(outcomes)} ({sum(c.invalid for c in cases)} invalid by construction)")
    if len(outcomes) < args.count:
        print(f"stopped after {args.minutes} minutes: {args.count - len(outcomes)} files not run")
    print(f"folder: {folder}")
    print("exit codes: " + ", ".join(f"{code}: {n}" for code, n in sorted(codes.items())))
    for kind in sorted(by_kind):
        counts = ", ".join(f"{code}: {n}" for code, n in sorted(by_kind[kind].items()))
        print(f"  {kind:13} {counts}")
    for label, found in bad.items():
        names = ", ".join(o.case.name for o in found[:5])
        print(f"{label}: {len(found)}" + (f" (e.g. {names})" if found else ""))
    print(
        f"seconds per run: min {seconds[0]:.2f}, median {seconds[len(seconds) // 2]:.2f}, "
        f"max {seconds[-1]:.2f}; wall {elapsed:.0f} s with {args.workers} workers"
    )
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if any(bad.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
