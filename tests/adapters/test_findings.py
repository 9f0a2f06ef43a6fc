"""Every checked-in finding in a real engine still fails, on the pinned version, as it says."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from cashfuzz.engines import resolve_engine
from cashfuzz.invariants import ALL_INVARIANTS, check_scenario
from cashfuzz.reference_engine import load_scenario

FINDINGS = Path(__file__).resolve().parents[2] / "examples" / "findings"
#: engine name in the file name -> (package, pytest marker)
ENGINES = {
    "backtrader": ("backtrader", pytest.mark.backtrader),
    "backtesting": ("backtesting", pytest.mark.backtesting),
    "nautilus": ("nautilus_trader", pytest.mark.nautilus),
}


def cases() -> list[object]:
    found = []
    for path in sorted(FINDINGS.glob("*.json")):
        engine, _, invariant = path.stem.partition("-")
        package, marker = ENGINES[engine]
        found.append(pytest.param(path, engine, invariant, package, id=path.stem, marks=marker))
    return found


def test_every_finding_file_names_an_engine_and_an_invariant() -> None:
    """File names are ENGINE-INVARIANT.json with a known engine and invariant."""
    names = [path.stem.partition("-") for path in FINDINGS.glob("*.json")]
    assert names, "no findings checked in"
    for engine, sep, invariant in names:
        assert sep
        assert engine in ENGINES
        assert invariant in ALL_INVARIANTS


@pytest.mark.parametrize(("path", "engine", "invariant", "package"), cases())
def test_finding_still_fails(path: Path, engine: str, invariant: str, package: str) -> None:
    """Replayed on its engine, the finding breaks the invariant its name gives."""
    if importlib.util.find_spec(package) is None:
        if os.environ.get("CASHFUZZ_REQUIRE_ENGINES"):
            pytest.fail(f"CASHFUZZ_REQUIRE_ENGINES is set but {package} is not installed")
        pytest.skip(f"{package} is not installed (pip install -e '.[engines]')")
    scenario = load_scenario(path)
    result = check_scenario(scenario, resolve_engine(engine), fail_fast=False)
    assert invariant in {v.invariant for v in result.violations}, result.violations
    assert invariant in scenario.description
