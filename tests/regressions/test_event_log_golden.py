"""The event logs of fixed scenarios stay byte for byte what they were.

The golden files in ``event_logs/`` were written by the engine before its events
became cheap named tuples (built-in examples, Hypothesis-drawn scenarios in both
modes, and busy multi-symbol runs with partial fills, GTC orders, cancels, random
slippage and refused fills). Regenerate them only for a deliberate change of the
log format, and say so in the commit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cashfuzz.invariants import check_scenario
from cashfuzz.invariants.monitor import event_log_bytes
from cashfuzz.reference_engine import load_scenario, run_scenario

GOLDEN = Path(__file__).parent / "event_logs"
NAMES = sorted(path.name.removesuffix(".scenario.json") for path in GOLDEN.glob("*.scenario.json"))


def test_golden_files_are_present() -> None:
    """Every golden scenario has its event log, and there are enough of them to matter."""
    assert len(NAMES) >= 15
    for name in NAMES:
        assert (GOLDEN / f"{name}.events.jsonl").is_file()


@pytest.mark.parametrize("name", NAMES)
def test_event_log_is_byte_identical(name: str) -> None:
    """Running the scenario again gives exactly the recorded JSON event log."""
    scenario = load_scenario(GOLDEN / f"{name}.scenario.json")
    expected = (GOLDEN / f"{name}.events.jsonl").read_bytes()
    assert event_log_bytes(run_scenario(scenario).events) == expected


@pytest.mark.parametrize("name", NAMES)
def test_checked_run_logs_the_same_bytes(name: str) -> None:
    """Under the invariant monitor the engine logs the same bytes, and every invariant
    holds in reservation mode."""
    scenario = load_scenario(GOLDEN / f"{name}.scenario.json")
    result = check_scenario(scenario)
    assert event_log_bytes(result.events) == (GOLDEN / f"{name}.events.jsonl").read_bytes()
    if scenario.config.mode.value == "reservation":
        assert result.ok, result.violations
