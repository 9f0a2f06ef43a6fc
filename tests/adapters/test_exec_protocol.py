"""The exec engine protocol: tape reading, process outcomes, and the JavaScript example engine."""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import shutil
import sys
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from cashfuzz.adapters.exec import (
    EngineCrashed,
    ExecFactory,
    Outcome,
    adapt_for,
    read_tape,
    unsupported_by,
)
from cashfuzz.adapters.exec_tape import Hello, TapeError
from cashfuzz.cli import main
from cashfuzz.errors import UsageError
from cashfuzz.examples import load_example
from cashfuzz.invariants import AdapterProtocolError, check_scenario
from cashfuzz.reference_engine import (
    Event,
    FillAt,
    LedgerSnapshot,
    Policy,
    Scenario,
    ScenarioError,
    TimeInForce,
    event_to_dict,
    load_scenario,
    run_scenario,
)
from cashfuzz.reference_engine.money import format_cents, format_ticks
from cashfuzz.strategies import scenarios

ROOT = Path(__file__).resolve().parents[2]
JS_ENGINE = ROOT / "examples" / "engines" / "js" / "engine.js"
CANNED = Path(__file__).resolve().parent / "exec_engines" / "canned.py"
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(
    NODE is None and not os.environ.get("CASHFUZZ_REQUIRE_NODE"),
    reason="node is not installed (set CASHFUZZ_REQUIRE_NODE to make this a failure)",
)
JS = f"exec:node {JS_ENGINE}"
JS_BROKEN = f"exec:node {JS_ENGINE} --bug no-reservation"
HELLO = Hello(protocol=1, engine="", reserves_cash=True, reports_equity=True, unsupported=())


@pytest.fixture(autouse=True)
def _plain_wide_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)


# --- a tape written from the reference engine's own log ------------------------------------

_CENTS_FIELDS = {"reserved", "released", "commission", "cash_delta", "needed", "cash"}
_TICKS_FIELDS = {"reference_price", "limit_price", "price"}


def _plain(value: object) -> object:
    return value.value if isinstance(value, Enum) else value


def _event_line(event: Event, after: LedgerSnapshot) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "event"}
    for key, value in event_to_dict(event).items():
        if key == "marks":
            body[key] = {symbol: format_ticks(price) for symbol, price in value}
        elif key in _CENTS_FIELDS:
            body[key] = format_cents(value)
        elif key in _TICKS_FIELDS:
            body[key] = format_ticks(value)
        else:
            body[key] = _plain(value)
    body["after"] = {
        "cash": format_cents(after.cash),
        "reserved": format_cents(after.reserved),
        "equity": format_ticks(after.equity),
        "orders": [
            {
                "order_id": o.order_id,
                "symbol": o.symbol,
                "side": o.side.value,
                "quantity": o.quantity,
                "filled": o.filled,
                "state": o.state.value,
                "time_in_force": o.time_in_force.value,
                "reserved": format_cents(o.reserved),
                "reserved_initial": format_cents(o.reserved_initial),
                "released": format_cents(o.released),
                "cash_flow": format_cents(o.cash_flow),
                "limit_price": format_ticks(o.limit_price),
            }
            for o in after.orders
        ],
        "positions": [
            {
                "symbol": p.symbol,
                "quantity": p.quantity,
                "cost": format_ticks(p.cost),
                "realized_pnl": format_ticks(p.realized_pnl),
            }
            for p in after.positions
        ],
        "marks": {symbol: format_ticks(price) for symbol, price in after.marks},
    }
    return body


def reference_tape(
    scenario: Scenario,
) -> tuple[list[dict[str, Any]], list[tuple[Event, LedgerSnapshot]]]:
    """The reference engine's run as tape lines, and the (event, snapshot) pairs behind them."""
    seen: list[tuple[Event, LedgerSnapshot]] = []
    run_scenario(scenario, observer=lambda event, after: seen.append((event, after)))
    lines = [{"kind": "hello", "protocol": 1, "reserves_cash": True, "reports_equity": True}]
    lines += [_event_line(event, after) for event, after in seen]
    lines.append({"kind": "end", "events": len(seen)})
    return lines, seen


def _outcome(lines: list[Any], *, returncode: int | None = 0, stderr: bytes = b"") -> Outcome:
    raw = tuple(line if isinstance(line, bytes) else json.dumps(line).encode() for line in lines)
    return Outcome(raw, stderr, returncode, 0.0)


@pytest.fixture(scope="module")
def example() -> Scenario:
    return load_example("googl-aapl")


@pytest.fixture(scope="module")
def tape(example: Scenario) -> tuple[list[dict[str, Any]], list[tuple[Event, LedgerSnapshot]]]:
    return reference_tape(example)


# --- reading a tape -------------------------------------------------------------------------


def test_a_reference_tape_reads_back_as_the_reference_log(example: Scenario, tape: Any) -> None:
    """The reference engine's log written as a tape reads back as the same events and books."""
    lines, seen = tape
    read, crash = read_tape(_outcome(lines), example, 10.0)
    assert crash is None
    assert read is not None
    assert [(entry.event, entry.after) for entry in read.entries] == seen
    assert [entry.step for entry in read.entries] == [0] * len(seen)


def _broken(lines: list[dict[str, Any]], index: int, **changes: Any) -> list[dict[str, Any]]:
    copy = json.loads(json.dumps(lines))
    for key, value in changes.items():
        target = copy[index]
        *path, last = key.split("__")
        for part in path:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is _DROP:
            del target[last]
        else:
            target[last] = value
    return copy


_DROP = object()


@pytest.mark.parametrize(
    ("index", "changes", "expected"),
    [
        (
            1,
            {"after__cash": "1297.295"},
            'tape line 2: after.cash="1297.295" must be a decimal string with at most 2 decimals',
        ),
        (
            1,
            {"after__cash": 1297.29},
            'after.cash=1297.29 must be a decimal string such as "12.34"',
        ),
        (1, {"after__cash": "1,297.29"}, 'after.cash="1,297.29"'),
        (2, {"price": "1e2"}, "tape line 3: "),
        (2, {"order_id": _DROP}, "tape line 3: order_id is missing"),
        (2, {"quantity": 8.0}, "quantity=8.0 must be a JSON integer"),
        (2, {"side": "buy"}, 'side="buy" is not one of BUY | SELL'),
        (2, {"colour": "red"}, 'colour="red" is not a field here'),
        (2, {"event": "OrderPlaced"}, 'event="OrderPlaced" is not one of MarketUpdated'),
        (2, {"kind": "evnt"}, 'kind="evnt" is not one of hello, event, end, error'),
        (2, {"timestamp": "2025-10-29T00:00:00"}, "is not a timestamp of the scenario"),
        (2, {"after": _DROP}, "after is missing"),
        (2, {"after__orders__0__state": "OPEN"}, 'after.orders[0].state="OPEN" is not one of'),
        (
            2,
            {"after__orders__0__reserved": _DROP},
            "after.orders[0].reserved is missing (required because hello says reserves_cash=true)",
        ),
        (2, {"after__positions": {}}, "after.positions={} must be a list"),
        (
            0,
            {"protocol": 2},
            "tape line 1: protocol=2 is not a version this cashfuzz reads (it reads 1)",
        ),
        (0, {"kind": "event"}, 'the first line must be {"kind": "hello"'),
        (0, {"reserves_cash": _DROP}, "reserves_cash is missing"),
        (0, {"unsupported": ["shorting"]}, 'unsupported="shorting" is not a feature name'),
        (-1, {"events": 99}, "events=99 but the tape has"),
    ],
)
def test_a_malformed_line_is_a_tape_error_naming_line_field_and_value(
    example: Scenario, tape: Any, index: int, changes: dict[str, Any], expected: str
) -> None:
    """Each kind of malformed line raises TapeError naming the line, the field and the value."""
    lines, _ = tape
    index = index % len(lines)
    with pytest.raises(TapeError) as caught:
        read_tape(_outcome(_broken(lines, index, **changes)), example, 10.0)
    assert expected in str(caught.value)
    assert isinstance(caught.value, AdapterProtocolError)  # exit 2, never a finding


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda lines: [b"{not json", *lines[1:]], "tape line 1: not a JSON object"),
        (lambda lines: [lines[0], b"\xff\xfe", *lines[1:]], "tape line 2: not UTF-8"),
        (lambda lines: [lines[0], b'{"kind": "event", "kind": "event"}'], "appears twice"),
        (lambda lines: [lines[0], b"NaN"], "not a JSON object"),
        (lambda lines: lines[:-1], "without an end line"),
        (lambda lines: [*lines, lines[-1]], "a line after the end line"),
        (lambda lines: [lines[0], lines[0], *lines[1:]], "a second hello line"),
        (lambda lines: [], "the engine wrote nothing on stdout"),
    ],
)
def test_a_broken_tape_shape_is_a_tape_error(
    example: Scenario, tape: Any, edit: Any, expected: str
) -> None:
    """Bad JSON, bad bytes, duplicate keys, truncation and misplaced lines are tape errors."""
    lines, _ = tape
    with pytest.raises(TapeError) as caught:
        read_tape(_outcome(edit(list(lines))), example, 10.0)
    assert expected in str(caught.value)


def test_events_going_back_in_time_are_a_tape_error() -> None:
    """An event stamped earlier than the one before it is refused."""
    scenario = load_example("googl-aapl-two-bars")
    lines, _ = reference_tape(scenario)
    last_stamp = lines[-2]["timestamp"]
    first_stamp = lines[1]["timestamp"]
    assert last_stamp != first_stamp
    lines = _broken(lines, 1, timestamp=last_stamp)
    with pytest.raises(TapeError, match=r"tape line 3: timestamp=.* goes back in time"):
        read_tape(_outcome(lines), scenario, 10.0)


def test_flags_off_make_reservations_and_equity_optional_and_forbid_them(
    example: Scenario, tape: Any
) -> None:
    """With reserves_cash and reports_equity false, the fields may be absent; present they
    must be zero (reservations) or absent (equity)."""
    lines, seen = tape
    hello = {**lines[0], "reserves_cash": False, "reports_equity": False}
    stripped = []
    for line in lines[1:-1]:
        body = {k: v for k, v in line.items() if k not in ("reserved", "released")}
        after = {k: v for k, v in line["after"].items() if k not in ("reserved", "equity")}
        after["orders"] = [
            {k: v for k, v in o.items() if k not in ("reserved", "reserved_initial", "released")}
            for o in after["orders"]
        ]
        stripped.append({**body, "after": after})
    read, _ = read_tape(_outcome([hello, *stripped, lines[-1]]), example, 10.0)
    assert read is not None
    assert all(entry.after.reserved == 0 for entry in read.entries)
    assert [entry.after.equity for entry in read.entries] == [after.equity for _, after in seen]
    with pytest.raises(TapeError, match="must be absent or zero: hello says reserves_cash=false"):
        read_tape(_outcome([{**hello, "reports_equity": True}, *lines[1:]]), example, 10.0)


def test_a_crash_keeps_the_events_written_and_quotes_stderr(example: Scenario, tape: Any) -> None:
    """A non-zero exit is a crash: the events before it are kept, a torn last line is
    ignored, and the message quotes the end of stderr."""
    lines, _ = tape
    torn = [*lines[:3], b'{"kind": "event", "ev']
    read, crash = read_tape(
        _outcome(torn, returncode=3, stderr=b"x" * 5000 + b"\nPanic: boom"), example, 10.0
    )
    assert read is not None
    assert len(read.entries) == 2
    assert crash is not None
    assert "exited with status 3 after 2 event(s)" in crash
    assert crash.endswith("Panic: boom")
    assert len(crash) < 2_300
    _, killed = read_tape(_outcome(lines[:2], returncode=-9), example, 10.0)
    assert killed is not None
    assert "killed by signal 9" in killed
    _, hung = read_tape(_outcome(lines[:2], returncode=None), example, 1.5)
    assert hung is not None
    assert "did not finish within 1.5 s" in hung


def test_error_lines_say_unsupported_or_crash(example: Scenario, tape: Any) -> None:
    """An error line with code unsupported is a ScenarioError; internal is a crash."""
    lines, _ = tape
    unsupported = {"kind": "error", "code": "unsupported", "message": "no cancels here"}
    with pytest.raises(
        ScenarioError,
        match=r"cannot run this scenario \(unsupported, tape line 2\): no cancels here",
    ):
        read_tape(_outcome([lines[0], unsupported], returncode=2), example, 10.0)
    internal = {"kind": "error", "code": "internal", "message": "assertion failed"}
    _, crash = read_tape(_outcome([*lines[:2], internal], returncode=0), example, 10.0)
    assert crash is not None
    assert "internal error (tape line 3): assertion failed" in crash
    with pytest.raises(TapeError, match='code="oops" is not one of'):
        read_tape(_outcome([lines[0], {"kind": "error", "code": "oops"}]), example, 10.0)


# --- what an engine declares unsupported ---------------------------------------------------


def test_unsupported_features_are_named_and_adapted_away(example: Scenario) -> None:
    """A declared-unsupported feature is named for a scenario using it, and adapt_for
    produces the nearest scenario without it."""
    everything = dataclasses.replace(
        HELLO,
        unsupported=(
            "random_slippage",
            "partial_fills",
            "same_close",
            "reject_policy",
            "commission_min",
            "gtc",
            "cancels",
        ),
    )
    scenario = dataclasses.replace(
        example,
        config=dataclasses.replace(example.config, policy=Policy.REJECT),
        signals=tuple(
            dataclasses.replace(s, time_in_force=TimeInForce.GTC) for s in example.signals
        ),
    )
    assert unsupported_by(HELLO, scenario) is None
    problem = unsupported_by(everything, scenario)
    assert problem is not None
    assert "costs.max_slippage_bps=6" in problem
    adapted = adapt_for(everything, scenario)
    assert unsupported_by(everything, adapted) is None
    assert adapted.config.costs.random_slippage is False
    assert adapted.config.costs.max_slippage == example.config.costs.max_slippage
    assert adapted.config.max_participation is None
    assert adapted.config.fill_at is FillAt.NEXT_OPEN
    assert adapted.config.policy is Policy.SHRINK
    assert {s.time_in_force for s in adapted.signals} == {TimeInForce.DAY}
    assert adapt_for(HELLO, scenario) is scenario


# --- real processes (a canned Python engine: no node needed) ----------------------------------


def _canned(tmp_path: Path, lines: list[Any], *extra: str) -> str:
    path = tmp_path / "tape.jsonl"
    path.write_bytes(
        b"".join(
            (line if isinstance(line, bytes) else json.dumps(line).encode()) + b"\n"
            for line in lines
        )
    )
    return "exec:" + shlex.join([sys.executable, str(CANNED), str(path), *extra])


def _example_file(tmp_path: Path) -> Path:
    from cashfuzz.reference_engine import write_scenario

    return write_scenario(load_example("googl-aapl"), tmp_path / "googl-aapl.json")


def test_a_valid_canned_tape_passes_run(
    tmp_path: Path, tape: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cashfuzz run` on an exec engine writing the reference's tape exits 0."""
    lines, _ = tape
    code = main(
        ["run", str(_example_file(tmp_path)), "--engine", _canned(tmp_path, lines), "--json"]
    )
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] is True
    assert payload["final"]["cash"] == "95.98"


def test_a_malformed_tape_exits_2_with_its_line(
    tmp_path: Path, tape: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cashfuzz run` on an engine writing a bad money string exits 2 naming line and field."""
    lines, _ = tape
    bad = _broken(lines, 3, after__cash="96.0000001")
    code = main(["run", str(_example_file(tmp_path)), "--engine", _canned(tmp_path, bad)])
    assert code == 2
    err = capsys.readouterr().err
    assert (
        'tape line 4: after.cash="96.0000001" must be a decimal string with at most 2 decimals'
        in err
    )
    saved = Path(err.split("the engine's input is saved in ")[1].split(";")[0])
    assert load_scenario(saved) == load_example("googl-aapl")


def test_a_crash_mid_run_is_a_finding_with_stderr(
    tmp_path: Path, tape: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """A process that dies after some events exits 1, reporting its exit status and stderr tail."""
    lines, _ = tape
    engine = _canned(
        tmp_path, lines[:3], "--exit", "70", "--stderr", "thread main panicked: index out of range"
    )
    code = main(["run", str(_example_file(tmp_path)), "--engine", engine, "--json"])
    assert code == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] is False
    assert (
        "EngineCrashed: the engine process exited with status 70 after 2 event(s)"
        in payload["crash"]
    )
    assert "index out of range" in payload["crash"]


def test_a_crash_after_a_violation_reports_the_violation(
    tmp_path: Path, tape: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The events a crashed process wrote are checked first: a violation among them is reported."""
    lines, _ = tape
    bad = _broken(lines, 2, after__cash="-1.00")
    engine = _canned(tmp_path, bad[:3], "--exit", "1")
    code = main(["run", str(_example_file(tmp_path)), "--engine", engine, "--json"])
    assert code == 1
    payload = json.loads(capsys.readouterr().out)
    invariants = [v["invariant"] for v in payload["violations"]]
    assert "cash_non_negative" in invariants


def test_a_hang_is_cut_by_the_timeout(
    tmp_path: Path, tape: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A process that outlives CASHFUZZ_EXEC_TIMEOUT is killed and reported as a crash (exit 1)."""
    lines, _ = tape
    monkeypatch.setenv("CASHFUZZ_EXEC_TIMEOUT", "1")
    engine = _canned(tmp_path, lines[:2], "--sleep", "60")
    code = main(
        ["run", str(_example_file(tmp_path)), "--engine", engine, "--json", "--no-determinism"]
    )
    assert code == 1
    assert (
        "did not finish within 1 s (CASHFUZZ_EXEC_TIMEOUT)"
        in json.loads(capsys.readouterr().out)["crash"]
    )


def test_bad_commands_and_timeouts_are_usage_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command that cannot start, an empty one, a failed handshake or a bad timeout is a
    UsageError."""
    with pytest.raises(UsageError, match="cannot start 'no-such-engine-xyz'"):
        ExecFactory("no-such-engine-xyz --flag")
    with pytest.raises(UsageError, match="needs a command"):
        ExecFactory("  ")
    with pytest.raises(UsageError, match="handshake run failed: tape line 1: protocol=7"):
        ExecFactory(_canned(tmp_path, [{"kind": "hello", "protocol": 7}]).removeprefix("exec:"))
    monkeypatch.setenv("CASHFUZZ_EXEC_TIMEOUT", "soon")
    with pytest.raises(UsageError, match="CASHFUZZ_EXEC_TIMEOUT='soon' must be a positive number"):
        ExecFactory(f"{sys.executable} -c pass")


def test_an_unsupported_feature_exits_2_on_run(
    tmp_path: Path, tape: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """A scenario using a feature the hello line declares unsupported exits 2, naming the field."""
    lines, _ = tape
    hello = {**lines[0], "unsupported": ["random_slippage"]}
    engine = _canned(tmp_path, [hello, *lines[1:]])
    assert main(["run", str(_example_file(tmp_path)), "--engine", engine]) == 2
    assert (
        "costs.max_slippage_bps=6: the engine declares 'random_slippage' unsupported"
        in capsys.readouterr().err
    )


def test_step_without_begin_says_how_to_drive_it(tmp_path: Path, tape: Any) -> None:
    """An exec engine stepped without begin() raises, saying that it runs whole scenarios."""
    lines, _ = tape
    factory = ExecFactory(_canned(tmp_path, lines).removeprefix("exec:"))
    engine = factory(load_example("googl-aapl").config, None)
    with pytest.raises(RuntimeError, match="call begin"):
        engine.step(0)


# --- the JavaScript example engine -------------------------------------------------------------


@pytest.fixture(scope="module")
def js_factory() -> ExecFactory:
    if NODE is None:
        pytest.fail("node is required (CASHFUZZ_REQUIRE_NODE is set) but not installed")
    return ExecFactory(f"node {JS_ENGINE}")


def _same_log(scenario: Scenario, factory: ExecFactory) -> None:
    reference = run_scenario(scenario)
    other = run_scenario(scenario, factory)
    assert [event_to_dict(e) for e in other.events] == [event_to_dict(e) for e in reference.events]
    assert other.final == reference.final


@needs_node
@pytest.mark.parametrize("name", ["googl-aapl-kelly", "googl-aapl-two-bars"])
def test_the_js_engine_logs_what_the_reference_logs_on_the_examples(
    js_factory: ExecFactory, name: str
) -> None:
    """On the built-in examples (fixed slippage) the JS engine logs what the reference logs."""
    _same_log(load_example(name), js_factory)


@needs_node
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(scenarios(max_cancels=3))
def test_the_js_engine_logs_what_the_reference_logs(
    js_factory: ExecFactory, scenario: Scenario
) -> None:
    """On generated scenarios without random slippage, the JS engine's log is the reference's,
    event for event."""
    costs = scenario.config.costs
    if costs.random_slippage:
        scenario = dataclasses.replace(
            scenario,
            config=dataclasses.replace(
                scenario.config, costs=dataclasses.replace(costs, random_slippage=False)
            ),
        )
    _same_log(scenario, js_factory)


@needs_node
def test_the_js_engine_passes_the_gate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The JS engine holds every invariant over a seeded gate of 40 examples (exit 0)."""
    code = main(
        [
            "gate",
            "--engine",
            JS,
            "--seed",
            "3",
            "--max-examples",
            "40",
            "--out",
            str(tmp_path),
            "--json",
        ]
    )
    payload = json.loads(capsys.readouterr().out)
    assert code == 0, payload
    assert payload["ok"] is True
    assert payload["examples_run"] == 40
    assert list(tmp_path.iterdir()) == []


@needs_node
def test_the_broken_js_engine_is_caught_and_replays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The JS engine with its reservation bug fails the gate with a shrunk counterexample that
    `cashfuzz run FILE --engine exec:...` replays to exit 1."""
    code = main(["gate", "--engine", JS_BROKEN, "--seed", "1", "--out", str(tmp_path), "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 1
    reservation = [
        found
        for found in payload["counterexamples"]
        if found["invariant"] in ("fill_within_reservation", "accepted_orders_funded")
    ]
    assert len(reservation) == 1, payload["counterexamples"]
    path = Path(reservation[0]["path"])
    assert path.exists()
    scenario = load_scenario(path)
    assert len(scenario.signals) == 1
    assert len(scenario.bars) <= 2
    assert shlex.split(reservation[0]["replay"]) == [
        "cashfuzz", "run", str(path), "--engine", JS_BROKEN
    ]  # fmt: skip
    assert main(["run", str(path), "--engine", JS_BROKEN]) == 1
    assert main(["run", str(path), "--engine", JS]) == 0
    capsys.readouterr()


@needs_node
def test_the_js_engine_refuses_what_it_cannot_read_exactly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A volume beyond JavaScript's exact integers gets an error line (unsupported): exit 2."""
    scenario = json.loads(_example_file(tmp_path).read_text())
    scenario["bars"][0]["volume"] = 2**60
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(scenario))
    assert main(["run", str(path), "--engine", JS]) == 2
    assert "cannot run this scenario (unsupported" in capsys.readouterr().err


def test_crashes_surface_as_engine_crashed(tmp_path: Path, tape: Any, example: Scenario) -> None:
    """check_scenario reports a crashed exec engine as a crash naming EngineCrashed."""
    lines, _ = tape
    factory = ExecFactory(_canned(tmp_path, lines[:2], "--exit", "1").removeprefix("exec:"))
    result = check_scenario(example, factory)
    assert result.crash is not None
    assert result.crash.startswith(EngineCrashed.__name__)
    assert len(result.events) == 1


def test_wrong_values_read_as_written_for_the_invariants_to_judge(
    example: Scenario, tape: Any
) -> None:
    """A short position and negative cash are well-formed: read as written, never corrected."""
    lines, _ = tape
    odd = _broken(lines, 5, after__positions__0__quantity=-3, after__cash="-0.01")
    read, _ = read_tape(_outcome(odd), example, 10.0)
    assert read is not None
    after = read.entries[4].after
    assert after.positions[0].quantity == -3
    assert after.cash == -1


def test_the_gate_draws_only_what_the_hello_line_supports(tmp_path: Path) -> None:
    """Through the factory's adapt_scenario, the gate's strategy never draws a declared-unsupported
    feature."""
    from cashfuzz.adapters import scenarios_for

    hello = {**dict(reference_tape(load_example("googl-aapl"))[0][0])}
    hello["unsupported"] = ["cancels", "gtc", "partial_fills", "same_close"]
    factory = ExecFactory(_canned(tmp_path, [hello]).removeprefix("exec:"))
    drawn: list[Scenario] = []

    @settings(max_examples=40, deadline=None, database=None)
    @given(scenarios_for(factory))
    def collect(scenario: Scenario) -> None:
        drawn.append(scenario)
        assert factory.unsupported(scenario) is None

    collect()
    assert drawn
    assert not any(s.cancels for s in drawn)
    assert all(s.config.fill_at is FillAt.NEXT_OPEN for s in drawn)


def test_the_engine_reads_the_scenario_without_its_provenance(example: Scenario) -> None:
    """The engine's stdin is the scenario file minus the finder's record, so a counterexample
    file and the scenario that produced it give the engine the same input."""
    from cashfuzz.adapters.exec import engine_input

    found = dataclasses.replace(example, provenance={"engine": "exec:x", "seed": 1})
    sent = json.loads(engine_input(found))
    assert "provenance" not in sent
    assert engine_input(found) == engine_input(example)
    assert sent["initial_cash"] == "1297.29"
