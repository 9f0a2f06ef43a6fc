"""A scenario the engine declares it cannot run (its ``unsupported``, e.g. the kit's
``Limits``): run, replay and shrink exit 2 with the engine's reason and what to change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cashfuzz.cli import main
from cashfuzz.examples import example_path

LIMITED = """\
from cashfuzz.adapters import Limits
from cashfuzz.reference_engine import Engine, FillAt

def factory(config, observer=None):
    return Engine(config, observer)

factory.unsupported = Limits({limits}).unsupported
"""

#: each Limits refusal: the Limits arguments, the change to the example, the reason's start
CASES = {
    "fill_at": ("fill_at=FillAt.SAME_CLOSE", {"fill_at": "next_open"}, "fill_at=next_open:"),
    "max_symbols": ("max_symbols=1", {}, "bars name 2 symbols"),
    "random_slippage": ("random_slippage=False", {}, "costs.max_slippage_bps=6"),
    "commission_min": (
        "commission_min=False",
        {"costs": {"commission_rate": "0.001", "commission_min": "1"}},
        "costs.commission_min=1.00",
    ),
    "aligned": ("aligned=True", {"early_signal": True}, "has signals or cancels but no bars"),
}


def _setup(tmp_path: Path, case: str) -> tuple[str, Path, str]:
    limits, change, reason = CASES[case]
    module = tmp_path / "limited.py"
    module.write_text(LIMITED.format(limits=limits), encoding="utf-8")
    data: dict[str, Any] = json.loads(example_path("googl-aapl").read_text(encoding="utf-8"))
    if change.get("early_signal"):
        early = {"timestamp": "2025-10-28T15:29:00", "symbol": "AAPL", "side": "BUY", "quantity": 1}
        data["signals"].insert(0, early)
    data.update({key: value for key, value in change.items() if key != "early_signal"})
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(data), encoding="utf-8")
    return f"{module}:factory", scenario, reason


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("command", ["run", "replay", "shrink"])
def test_an_unrunnable_scenario_says_what_to_change(
    case: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 2 naming the engine's reason, the setting to change, and the commands that
    adapt the scenario to the engine (diff --adapt, gate)."""
    spec, scenario, reason = _setup(tmp_path, case)
    extra = ["--out", str(tmp_path / "small.json")] if command == "shrink" else []
    assert main([command, str(scenario), "--engine", spec, *extra]) == 2
    err = capsys.readouterr().err
    assert f"{scenario}: engine {spec} cannot run this scenario as written: " in err
    assert reason in err
    assert "Change that in the file" in err
    assert f"`cashfuzz diff {scenario} --against {spec} --adapt`" in err
    assert f"`cashfuzz gate --engine {spec}` adapts every scenario it generates" in err
    assert not (tmp_path / "small.json").exists()


def test_a_runnable_scenario_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An engine whose limits the scenario meets runs it as before."""
    spec, _, _ = _setup(tmp_path, "fill_at")
    assert main(["run", "--example", "googl-aapl", "--engine", spec]) == 0
    assert "cannot run" not in capsys.readouterr().err
