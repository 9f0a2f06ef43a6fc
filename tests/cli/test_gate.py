"""``cashfuzz gate``: exit codes, the counterexample file, its replay, and determinism."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from cashfuzz.cli import main
from cashfuzz.engines import resolve_engine
from cashfuzz.reference_engine import Mode, load_scenario, write_scenario
from cashfuzz.search.gate import run_gate

NAIVE_ID = "cashfuzz.engines:naive_engine_factory"
#: enough for the naive engine's race; the full default budget runs in one test only
QUICK = ("--max-examples", "300")


@pytest.fixture(autouse=True)
def _plain_wide_output(monkeypatch: pytest.MonkeyPatch) -> None:
    # a CI runner's COLUMNS or FORCE_COLOR must not change what the assertions read
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)


def _gate_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(["gate", *argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def _only_file(directory: Path) -> Path:
    files = sorted(directory.iterdir())
    assert len(files) == 1, files
    return files[0]


def _files(directory: Path) -> list[Path]:
    return sorted(directory.iterdir())


def test_naive_engine_is_caught_and_the_file_replays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The naive engine fails the gate with a small counterexample that `cashfuzz run` replays."""
    code, payload = _gate_json(
        capsys, "--engine", "naive", "--seed", "7", *QUICK, "--out", str(tmp_path)
    )
    assert code == 1
    assert payload["ok"] is False
    path = Path(payload["counterexample_path"])
    assert path.parent == tmp_path
    assert path.name.startswith("counterexample-naive-7-")
    assert payload["replay"] == f"cashfuzz run {path}"
    assert payload["failing_examples"] >= 1
    first = payload["counterexample"]["violations"][0]["invariant"]
    assert first in payload["invariants"]
    scenario = load_scenario(path)
    assert scenario.config.mode is Mode.NAIVE
    assert len(scenario.signals) <= 3
    assert len({signal.timestamp for signal in scenario.signals}) == 1
    assert main(["run", str(path), "--json"]) == 1
    replayed = json.loads(capsys.readouterr().out)
    assert replayed["violations"][0]["invariant"] == first


def test_report_says_when_the_first_failure_came(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """JSON and text both give the examples and seconds until the first failure."""
    code, payload = _gate_json(
        capsys, "--engine", "naive", "--seed", "7", *QUICK, "--out", str(tmp_path)
    )
    assert code == 1
    first = payload["examples_to_first_failure"]
    assert 1 <= first <= payload["examples_run"]
    assert isinstance(payload["first_failure_seconds"], float)
    assert main(["gate", "--engine", "naive", "--seed", "7", *QUICK, "--out", str(tmp_path)]) == 1
    assert f"first failure: generated example {first}, after " in capsys.readouterr().out
    ok_code, passed = _gate_json(
        capsys, "--engine", "reference", "--max-examples", "5", "--out", str(tmp_path / "ok")
    )
    assert ok_code == 0
    assert passed["examples_to_first_failure"] is None
    assert passed["first_failure_seconds"] is None


def test_same_seed_writes_the_same_counterexample(tmp_path: Path) -> None:
    """Two gate runs with one seed write byte-identical counterexample files."""
    for name in ("a", "b"):
        assert main(
            ["gate", "--engine", "naive", "--seed", "7", *QUICK, "--out", str(tmp_path / name)]
        )
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert first
    assert [p.name for p in first] == [p.name for p in second]
    for one, other in zip(first, second, strict=True):
        assert one.read_bytes().replace(b"/a/", b"/b/") == other.read_bytes()


def test_every_broken_invariant_gets_its_own_replayable_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each invariant that broke is shrunk into its own file, and each file replays broken."""
    # seed 4 breaks two invariants on the naive engine (accepted_orders_funded, no_oversell)
    code, payload = _gate_json(capsys, "--engine", "naive", "--seed", "4", "--out", str(tmp_path))
    assert code == 1
    found = payload["counterexamples"]
    assert len(found) >= 2
    assert len({item["invariant"] for item in found}) == len(found)
    assert sorted(Path(item["path"]) for item in found) == _files(tmp_path)
    for item in found:
        assert item["invariant"] in item["broken"]
        assert main(["run", item["path"], "--json"]) == 1
        replayed = json.loads(capsys.readouterr().out)
        assert item["invariant"] in {v["invariant"] for v in replayed["violations"]}


def test_report_names_invariant_path_ledger_and_replay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The printed report names the invariant, the file, the ledger and the replay command."""
    assert main(["gate", "--engine", "naive", "--seed", "7", *QUICK, "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    paths = {p.name.split("-")[3]: p for p in _files(tmp_path)}
    path = paths["accepted_orders_funded"]
    assert "accepted_orders_funded" in out
    assert f"counterexample (accepted_orders_funded): {path}" in out
    assert "fill REFUSED" in out
    assert f"replay: cashfuzz run {path}" in out


def test_reference_engine_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The reference engine passes a short gate and nothing is written."""
    code, payload = _gate_json(
        capsys, "--engine", "reference", "--seed", "7", "--max-examples", "25",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 0
    assert payload["ok"] is True
    assert payload["examples_run"] == 25
    assert payload["counterexample_path"] is None
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_other_engines_replay_with_their_engine_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A counterexample from a named engine says to replay it with --engine, and that replays."""
    code, payload = _gate_json(capsys, "--engine", NAIVE_ID, "--seed", "1", "--out", str(tmp_path))
    assert code == 1
    path = Path(payload["counterexample_path"])
    assert payload["replay"] == f"cashfuzz run {path} --engine {NAIVE_ID}"
    assert load_scenario(path).config.mode is Mode.RESERVATION
    assert main(["run", str(path), "--engine", NAIVE_ID]) == 1
    capsys.readouterr()
    # the file names user code: never imported on its word, never replayed on another engine
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert NAIVE_ID in err
    assert "--trust-recorded-engine" in err
    assert main(["run", str(path), "--trust-recorded-engine"]) == 1


def test_time_budget_stops_the_search_and_is_not_a_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Past an opt-in time limit no new example is generated, and the cut run is no pass."""
    result = run_gate(
        resolve_engine("reference"),
        seed=0,
        budget_seconds=1e-6,
        max_examples=1_000_000,
        out_dir=tmp_path,
        engine_name="reference",
    )
    assert not result.ok
    assert result.incomplete
    assert result.budget_exhausted
    assert result.examples_run < 1_000_000
    code, payload = _gate_json(
        capsys, "--engine", "reference", "--budget-seconds", "0.000001", "--max-examples",
        "1000000", "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 4
    assert payload["ok"] is False
    assert payload["incomplete"] is True
    assert payload["examples_run"] < payload["max_examples"] == 1_000_000


def test_whole_budget_runs_without_a_time_limit(tmp_path: Path) -> None:
    """By default no clock cuts the search: every example of the budget is checked."""
    result = run_gate(
        resolve_engine("reference"),
        seed=3,
        max_examples=40,
        out_dir=tmp_path,
        engine_name="reference",
    )
    assert result.ok
    assert not result.budget_exhausted
    assert result.examples_run == 40


def test_zoo_counterexample_replays_on_its_engine_without_engine_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A zoo engine's file records its engine; run and replay use it and say so."""
    code, payload = _gate_json(
        capsys, "--engine", "zoo:keyed_reservation", "--seed", "7", "--out", str(tmp_path)
    )
    assert code == 1
    path = Path(payload["counterexample_path"])
    recorded = load_scenario(path).provenance
    assert recorded is not None
    assert recorded["engine"] == "zoo:keyed_reservation"
    assert recorded["found_by"] == "gate"
    assert recorded["seed"] == 7
    assert payload["counterexamples"][0]["invariant"] in recorded["invariants"]
    assert {"cashfuzz", "hypothesis", "python", "replay"} <= set(recorded)
    assert payload["replay"] == f"cashfuzz run {path}"
    assert main(["run", str(path)]) == 1
    assert "zoo:keyed_reservation (recorded in the file)" in capsys.readouterr().out
    assert main(["replay", str(tmp_path), "--json"]) == 1
    files = json.loads(capsys.readouterr().out)["files"]
    assert {item["engine"] for item in files} == {"zoo:keyed_reservation"}
    # --engine still overrides what the file says
    assert main(["run", str(path), "--engine", "reference"]) == 0


def test_recorded_engine_that_cannot_load_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file naming an engine this install cannot load is a usage error, not a green replay."""
    scenario = load_scenario(_gate_file(tmp_path, capsys))
    stale = dataclasses.replace(
        scenario, provenance={**(scenario.provenance or {}), "engine": "zoo:no_such_bug"}
    )
    path = write_scenario(stale, tmp_path / "stale.json")
    assert main(["run", str(path)]) == 2
    assert "zoo:no_such_bug" in capsys.readouterr().err


def _gate_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    code, payload = _gate_json(
        capsys, "--engine", "zoo:keyed_reservation", "--seed", "7", "--out", str(tmp_path / "g")
    )
    assert code == 1
    return Path(payload["counterexample_path"])


@pytest.mark.parametrize(
    "argv",
    [
        ["--engine", "no-such-engine"],
        ["--engine", "zoo:no-such-bug"],
        ["--engine", "no_such_module_xyz:factory"],
        ["--budget-seconds", "0"],
        ["--max-examples", "0"],
        ["--seed", "minus-one"],
    ],
)
def test_bad_usage_exits_2(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown engine or a bad number exits 2 with a message on stderr."""
    try:
        code = main(["gate", *argv, "--out", str(tmp_path)])
    except SystemExit as stop:  # argparse rejects bad numbers by exiting
        code = int(stop.code or 0)
    assert code == 2
    assert "error" in capsys.readouterr().err
