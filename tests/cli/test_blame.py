"""Blame the right party: an engine's exception is a finding shown with its traceback
(exit 1); an adapter that breaks the engine protocol is a usage error saying what to
change (exit 2); only cashfuzz's own faults exit 3."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from cashfuzz.cli import main
from cashfuzz.examples import load_example
from cashfuzz.invariants import AdapterProtocolError, MonitorFault, check_scenario

HEADER = """
import dataclasses
from cashfuzz.reference_engine import Engine
"""

ADAPTERS = {
    # an exception inside the adapter, two frames deep
    "raising": """
def helper(signals):
    if signals:
        raise KeyError("no such account")

class Adapter(Engine):
    def step(self, timestamp, bars=(), signals=(), cancels=()):
        super().step(timestamp, bars, signals, cancels)
        helper(signals)

def factory(config, observer=None):
    return Adapter(config, observer)
""",
    "factory_raises": """
def factory(config, observer=None):
    raise ConnectionError("broker unreachable")
""",
    "no_events": """
class Adapter:
    def __init__(self, config, observer):
        self.inner = Engine(config, observer)
    def step(self, *args):
        self.inner.step(*args)
    def snapshot(self):
        return self.inner.snapshot()

def factory(config, observer=None):
    return Adapter(config, observer)
""",
    "dict_snapshot": """
class Adapter(Engine):
    def __init__(self, config, observer=None):
        super().__init__(config, lambda e, s: observer(e, dataclasses.asdict(s)))

def factory(config, observer=None):
    return Adapter(config, observer)
""",
    "swallowing_dict_snapshot": """
class Adapter(Engine):
    def __init__(self, config, observer=None):
        def quietly(event, snapshot):
            try:
                observer(event, {"cash": snapshot.cash})
            except Exception:
                pass
        super().__init__(config, quietly)

def factory(config, observer=None):
    return Adapter(config, observer)
""",
    "float_cash": """
class Adapter(Engine):
    def __init__(self, config, observer=None):
        super().__init__(
            config,
            lambda e, s: observer(e, dataclasses.replace(s, cash=s.cash / 100)),
        )

def factory(config, observer=None):
    return Adapter(config, observer)
""",
    "wrong_final_snapshot": """
class Adapter(Engine):
    def snapshot(self):
        return {"cash": 0}

def factory(config, observer=None):
    return Adapter(config, observer)
""",
    "observer_skipped": """
def factory(config, observer=None):
    return Engine(config, None)
""",
    "one_parameter": """
def factory(config):
    return Engine(config)
""",
    "returns_none": """
def factory(config, observer=None):
    return None
""",
    "not_callable": """
factory = 42
""",
    "own_event_type": """
class Note:
    pass

class Adapter(Engine):
    def step(self, timestamp, bars=(), signals=(), cancels=()):
        super().step(timestamp, bars, signals, cancels)
        self.events.append(Note())
        self.observer(self.events[-1], self.snapshot())

def factory(config, observer=None):
    return Adapter(config, observer)
""",
}


@pytest.fixture(autouse=True)
def _adapters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    for name, body in ADAPTERS.items():
        source = HEADER + textwrap.dedent(body)
        (tmp_path / f"blame_{name}.py").write_text(source, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))


def _run(name: str, *extra: str) -> int:
    return main(["run", "--example", "googl-aapl", "--engine", f"blame_{name}:factory", *extra])


def test_an_exception_in_the_adapter_is_a_finding_with_its_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An adapter that raises exits 1 and shows its traceback, with file and line."""
    assert _run("raising") == 1
    out = capsys.readouterr().out
    source = tmp_path / "blame_raising.py"
    assert f"KeyError: 'no such account' (raised at {source}:7 in helper)" in out
    assert f'File "{source}", line 12, in step' in out
    assert f'File "{source}", line 7, in helper' in out
    # cashfuzz's own frame, where the exception was caught, is left out
    assert "monitor.py" not in out


def test_the_json_result_carries_the_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json has the crash (file and line) and the full traceback."""
    assert _run("raising", "--json") == 1
    result = json.loads(capsys.readouterr().out)
    assert "blame_raising.py:7 in helper" in result["crash"]
    assert result["traceback"].startswith("Traceback (most recent call last):")
    assert result["traceback"].rstrip().endswith("KeyError: 'no such account'")


def test_a_factory_that_raises_is_a_finding_with_its_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A factory that raises exits 1, naming the factory's file and line."""
    assert _run("factory_raises") == 1
    out = capsys.readouterr().out
    source = tmp_path / "blame_factory_raises.py"
    assert "the engine factory raised ConnectionError: broker unreachable" in out
    assert f'File "{source}", line 6, in factory' in out


def test_the_crash_result_object_holds_the_traceback() -> None:
    """CheckResult.traceback is the formatted traceback the counterexample file can store."""
    from blame_raising import factory  # type: ignore[import-not-found]

    result = check_scenario(load_example("googl-aapl"), factory)
    assert result.traceback is not None
    assert "in helper" in result.traceback
    assert result.crash is not None
    assert "in helper)" in result.crash


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("no_events", "has no events attribute"),
        ("dict_snapshot", "is a dict, not a LedgerSnapshot"),
        ("swallowing_dict_snapshot", "is a dict, not a LedgerSnapshot"),
        ("float_cash", "cash is a float (1297.29), not an int"),
        ("wrong_final_snapshot", "the engine's snapshot() is a dict, not a LedgerSnapshot"),
        ("observer_skipped", "called its observer with 0"),
        ("one_parameter", "cannot be called as factory(config, observer)"),
        ("returns_none", "returned None instead of an engine"),
        ("not_callable", "no callable 'factory'"),
        ("own_event_type", "is a Note, not one of the protocol's events"),
    ],
)
def test_an_adapter_that_breaks_the_protocol_is_a_usage_error(
    name: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A protocol breach exits 2 with what to change, never 3 'internal error'."""
    assert _run(name) == 2
    err = capsys.readouterr().err
    assert says in err
    assert "internal error" not in err
    assert "Traceback" not in err


def test_protocol_errors_are_raised_by_check_scenario() -> None:
    """check_scenario raises AdapterProtocolError (not a crash) for a malformed snapshot."""
    from blame_dict_snapshot import factory  # type: ignore[import-not-found]

    with pytest.raises(AdapterProtocolError, match="not a LedgerSnapshot"):
        check_scenario(load_example("googl-aapl"), factory)


def test_a_fault_of_the_monitor_itself_exits_three(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """When a check fails on a well-formed snapshot, cashfuzz blames itself (exit 3)."""
    from cashfuzz.invariants import monitor as monitor_module

    def broken_check(after: object) -> str | None:
        raise ZeroDivisionError("a bug in a check")

    checks = dict(monitor_module.STATE_CHECKS)
    checks["cash_non_negative"] = broken_check
    monkeypatch.setattr(monitor_module, "STATE_CHECKS", checks)
    with pytest.raises(MonitorFault, match="a bug in a check"):
        check_scenario(load_example("googl-aapl"))
    assert main(["run", "--example", "googl-aapl"]) == 3
    assert "internal error" in capsys.readouterr().err
