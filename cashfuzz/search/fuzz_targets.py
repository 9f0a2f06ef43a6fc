"""Fuzz targets for HypoFuzz (``cashfuzz fuzz --hypofuzz``), collected by pytest.

The engine, the example database and the output folder come from
CASHFUZZ_ENGINE, CASHFUZZ_DATABASE and CASHFUZZ_OUT. HypoFuzz keeps fuzzing
after a failure, so each failing example is offered to ``keep_smallest``,
which keeps the smallest scenario per invariant as a replayable file.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from hypothesis import given, settings

from cashfuzz import provenance
from cashfuzz.adapters import scenarios_for
from cashfuzz.engines import pin_engine_mode, resolve_engine
from cashfuzz.invariants import check_scenario
from cashfuzz.reference_engine import Scenario, load_scenario, scenario_to_json, write_scenario
from cashfuzz.search.campaign import open_database

_ENGINE = os.environ.get("CASHFUZZ_ENGINE", "reference")
_DATABASE = os.environ.get("CASHFUZZ_DATABASE", ".hypothesis/cashfuzz-campaign")
_OUT = Path(os.environ.get("CASHFUZZ_OUT", "cashfuzz-out"))


def _size(scenario: Scenario) -> tuple[int, int, int]:
    return (len(scenario.signals), len(scenario.bars), len(scenario_to_json(scenario)))


def keep_smallest(out_dir: Path, invariant: str, scenario: Scenario) -> Path:
    """Write ``scenario`` as ``hypofuzz-<engine>-<invariant>.json`` unless a smaller one is."""
    path = out_dir / f"hypofuzz-{provenance.engine_file_part(_ENGINE)}-{invariant}.json"
    if path.exists() and _size(load_scenario(path)) <= _size(scenario):
        path.touch()  # found again in this run: the caller counts files by time
        return path
    found = provenance.record(
        found_by="hypofuzz", engine=_ENGINE, invariants=(invariant,), path=path
    )
    pinned = pin_engine_mode(scenario, _ENGINE)
    return write_scenario(dataclasses.replace(pinned, provenance=found), path)


# HypoFuzz fuzzes only tests whose database is the default one: make ours the default
settings.register_profile("cashfuzz-hypofuzz", database=open_database(_DATABASE), deadline=None)
settings.load_profile("cashfuzz-hypofuzz")


@given(scenarios_for(resolve_engine(_ENGINE)))
def test_engine_keeps_every_invariant(scenario: Scenario) -> None:
    """The engine under fuzz keeps every invariant on any scenario."""
    result = check_scenario(scenario, resolve_engine(_ENGINE), fail_fast=True)
    if not result.ok:
        invariant = result.violations[0].invariant if result.violations else "crash"
        keep_smallest(_OUT, invariant, scenario)
    assert result.ok, "; ".join(str(v) for v in result.violations) or result.crash
