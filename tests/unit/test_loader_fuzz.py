"""A bad-input fuzz test of the scenario loader through ``cashfuzz run --json``.

Hypothesis mutates valid scenario files (byte flips, deletions, duplications,
insertions, huge numbers, deep nesting, wrong types, duplicate keys, bad ``bars``
paths) and runs each in-process. Every case must end as exit 2 with one short
error line, or as a valid run (exit 0 or 1 with one JSON object); never exit 3 (a
traceback), never a hang (a thread-based guard far above a normal case's time, not a
timed assertion) and never a peak allocation past ``ALLOCATION_CAP_BYTES``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import threading
import tracemalloc
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from unit_kit import RAW_BAR

from cashfuzz.cli import main

#: A normal case takes well under a second here, even on a loaded machine.
HANG_GUARD_SECONDS = 20.0
#: Peak memory one case may allocate: its file is at most a few megabytes.
ALLOCATION_CAP_BYTES = 64 * 1024 * 1024
#: An error is one line, with values cut short: never an echo of the input.
MAX_ERROR_CHARS = 1000

_BAR = RAW_BAR
SEEDS: list[dict[str, Any]] = [
    {
        "initial_cash": "1000.00",
        "bars": [_BAR, {**_BAR, "timestamp": 2, "open": "100.20"}],
        "signals": [{"timestamp": 1, "symbol": "A", "side": "BUY", "quantity": 3}],
        "cancels": [{"timestamp": 2, "order_id": 1}],
    },
    {
        "description": "two symbols, ISO timestamps",
        "initial_cash": 1297.29,
        "fill_at": "same_close",
        "max_participation": "0.5",
        "costs": {"commission_rate": "0.001", "max_slippage_bps": "6"},
        "sizer": {"kind": "kelly", "fraction": "1"},
        "seed": 7,
        "bars": [
            {**_BAR, "timestamp": "2025-10-28T15:30:00", "symbol": "GOOGL"},
            {**_BAR, "timestamp": "2025-10-28T15:30:00", "symbol": "AAPL"},
        ],
        "signals": [
            {
                "timestamp": "2025-10-28T15:30:00",
                "symbol": "GOOGL",
                "side": "BUY",
                "strength": 0.78,
            },
            {
                "timestamp": "2025-10-28T15:30:00",
                "symbol": "AAPL",
                "side": "BUY",
                "strength": "0.5",
            },
        ],
    },
    {
        "initial_cash": "5000",
        "sizer": {"kind": "fixed_shares", "shares": 2},
        "bars": "bars.csv",
        "signals": [{"timestamp": 1, "symbol": "A", "side": "BUY", "time_in_force": "GTC"}],
    },
]
BARS_CSV = "timestamp,symbol,open,high,low,close,volume\n1,A,10,11,9,10.5,100\n2,A,10,11,9,10,100\n"
HUGE = ("1e-999999999", "1e999999999", "9" * 5000, "1e24", "-1e400", "0e-99999", "NaN")
BAD_PATHS = ("/proc/self/environ", "/dev/zero", "../bars.csv", "fifo.csv", "missing.csv", ".", "")

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.sampled_from(HUGE),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


def _replace(raw: Any, path: tuple[Any, ...], value: Any) -> None:
    target = raw
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


@st.composite
def mutated_files(draw: st.DrawFn) -> tuple[bytes, bool]:
    """A mutated scenario file and whether the mutation makes it invalid by construction."""
    raw = json.loads(json.dumps(draw(st.sampled_from(SEEDS))))
    kind = draw(
        st.sampled_from(
            ["flip", "delete", "duplicate", "insert", "value", "huge", "deep", "dup_key", "path"]
        )
    )
    data = json.dumps(raw, indent=draw(st.sampled_from([None, 1]))).encode()
    if kind in ("flip", "delete", "duplicate", "insert"):
        at = draw(st.integers(0, len(data) - 1))
        width = draw(st.integers(1, 64))
        if kind == "flip":
            return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :], False
        if kind == "delete":
            return data[:at] + data[at + width :], False
        if kind == "duplicate":
            return data[:at] + data[at : at + width] * draw(st.integers(2, 100)) + data[at:], False
        return data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:], False
    if kind in ("value", "huge"):
        path = draw(st.sampled_from(_paths(raw)))
        value = draw(_json_values) if kind == "value" else draw(st.sampled_from(HUGE))
        _replace(raw, path, value)
        text = json.dumps(raw)
        if kind == "huge" and draw(st.booleans()):
            text = text.replace(json.dumps(value), value, 1)  # as a bare number literal
        return text.encode(), False
    if kind == "deep":
        depth = draw(st.sampled_from([33, 500, 1000, 5000, 50_000]))
        key = draw(st.sampled_from(sorted(raw)))
        _replace(raw, (key,), "@@DEEP@@")
        return json.dumps(raw).replace('"@@DEEP@@"', "[" * depth + "]" * depth).encode(), True
    if kind == "dup_key":
        key = draw(st.sampled_from(sorted(raw)))
        again = json.dumps({key: draw(_json_values)})[1:-1]
        return ("{" + again + ", " + json.dumps(raw)[1:]).encode(), True
    raw["bars"] = draw(st.sampled_from(BAD_PATHS))
    return json.dumps(raw).encode(), True


def _run_guarded(path: Path) -> tuple[int, str, str, int]:
    """Exit code, stdout, stderr and peak allocation of ``cashfuzz run PATH --json``."""
    outcome: dict[str, Any] = {}
    out, err = io.StringIO(), io.StringIO()

    def target() -> None:
        tracemalloc.start()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                outcome["code"] = main(["run", str(path), "--json", "--no-determinism"])
        finally:
            outcome["peak"] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(HANG_GUARD_SECONDS)
    assert not thread.is_alive(), f"cashfuzz run hung on {path.read_bytes()[:200]!r}"
    return outcome["code"], out.getvalue(), err.getvalue(), outcome["peak"]


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=mutated_files())
def test_a_mutated_scenario_is_exit_2_or_a_valid_run(case: tuple[bytes, bool]) -> None:
    """Every mutated file is refused with one short error line (exit 2), or runs (exit 0 or
    1, one JSON object); no traceback, hang or allocation past the cap; a file invalid by
    construction is always refused."""
    data, invalid = case
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "bars.csv").write_text(BARS_CSV)
        if hasattr(os, "mkfifo"):
            os.mkfifo(Path(folder, "fifo.csv"))
        path = Path(folder, "s.json")
        path.write_bytes(data)
        code, out, err, peak = _run_guarded(path)
    assert code in (0, 1, 2), err
    assert "Traceback" not in err
    assert peak < ALLOCATION_CAP_BYTES, f"peak allocation {peak:,} bytes"
    if code == 2:
        assert err.startswith("cashfuzz: error: ")
        assert err.count("\n") == 1
        assert len(err) < MAX_ERROR_CHARS, err[:300]
        assert out == ""
    else:
        assert not invalid, f"exit {code} on invalid input {data[:200]!r}"
        assert isinstance(json.loads(out), dict)
