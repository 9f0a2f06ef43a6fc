"""``--oracle reference``: an engine that keeps every invariant but logs something other
than the reference engine fails only when held to the reference's log."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from cashfuzz.cli import main
from cashfuzz.examples import load_example
from cashfuzz.invariants import ORACLE_REFERENCE, check_scenario, oracle_difference
from cashfuzz.reference_engine import (
    Engine,
    EngineConfig,
    EngineUnderTest,
    Observer,
    OrderFilled,
    run_scenario,
)
from cashfuzz.search.gate import run_gate

#: the reference engine, except that it never applies slippage: cash stays consistent
#: (a fill at the bar's price is within the reservation made at the worst price)
_MODULE = """
from cashfuzz.reference_engine import Engine


class NoSlippage(Engine):
    def __init__(self, config, observer=None):
        super().__init__(config, observer)
        self._fixed_slippage = 0


def factory(config, observer=None):
    return NoSlippage(config, observer)
"""


class _NoSlippage(Engine):
    def __init__(self, config: EngineConfig, observer: Observer | None = None) -> None:
        super().__init__(config, observer)
        self._fixed_slippage = 0


def no_slippage(config: EngineConfig, observer: Observer | None = None) -> EngineUnderTest:
    return _NoSlippage(config, observer)


def test_the_reference_engine_matches_itself() -> None:
    """The reference engine's own log has no oracle difference."""
    scenario = load_example("googl-aapl")
    assert oracle_difference(scenario, run_scenario(scenario).events) is None


def test_the_first_differing_event_is_the_finding() -> None:
    """An engine that fills without slippage differs first at its first fill, named with both."""
    scenario = load_example("googl-aapl")
    events = run_scenario(scenario, no_slippage).events
    assert check_scenario(scenario, no_slippage).ok
    found = oracle_difference(scenario, events)
    assert found is not None
    assert found.invariant == ORACLE_REFERENCE
    first_fill = next(i for i, e in enumerate(events) if isinstance(e, OrderFilled))
    assert found.event_index == first_fill
    assert found.message.count('"event": "OrderFilled"') == 2


def test_gate_with_the_oracle_catches_what_the_invariants_allow(tmp_path: Path) -> None:
    """The gate passes the no-slippage engine, and fails it under --oracle reference."""
    common = {
        "seed": 3,
        "budget_seconds": 60.0,
        "max_examples": 150,
        "engine_name": "no-slippage",
        "shrink_seconds": 2.0,
    }
    plain = run_gate(no_slippage, out_dir=tmp_path / "plain", **common)  # type: ignore[arg-type]
    assert plain.ok
    held = run_gate(
        no_slippage,
        out_dir=tmp_path / "oracle",
        oracle="reference",
        **common,  # type: ignore[arg-type]
    )
    assert not held.ok
    assert held.invariants_hit == (ORACLE_REFERENCE,)
    assert held.replay_command is not None
    assert held.replay_command.endswith("--oracle reference")
    assert held.recorded is not None
    assert [v.invariant for v in held.recorded.result.violations] == [ORACLE_REFERENCE]


def test_run_with_the_oracle_exits_1_and_names_the_event(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cashfuzz run --oracle reference` exits 1 on a deviating engine, 0 on the reference."""
    (tmp_path / "noslip_engine.py").write_text(textwrap.dedent(_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    argv = ["run", "--example", "googl-aapl", "--json", "--oracle", "reference"]
    assert main([*argv, "--engine", "noslip_engine:factory"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert [v["invariant"] for v in payload["violations"]] == [ORACLE_REFERENCE]
    assert main([*argv[:-2], "--engine", "noslip_engine:factory"]) == 0
    capsys.readouterr()
    assert main(argv) == 0
