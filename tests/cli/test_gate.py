"""``cashfuzz gate``: exit codes, the counterexample file, its replay, and determinism."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cashfuzz.cli import main
from cashfuzz.engines import resolve_engine
from cashfuzz.reference_engine import Mode, load_scenario
from cashfuzz.search.gate import run_gate

NAIVE_ID = "cashfuzz.engines:naive_engine_factory"


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


def test_naive_engine_is_caught_and_the_file_replays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The naive engine fails the gate with a small counterexample that `cashfuzz run` replays."""
    code, payload = _gate_json(capsys, "--engine", "naive", "--seed", "7", "--out", str(tmp_path))
    assert code == 1
    assert payload["ok"] is False
    path = _only_file(tmp_path)
    assert payload["counterexample_path"] == str(path)
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
    code, payload = _gate_json(capsys, "--engine", "naive", "--seed", "7", "--out", str(tmp_path))
    assert code == 1
    first = payload["examples_to_first_failure"]
    assert 1 <= first <= payload["examples_run"]
    assert isinstance(payload["first_failure_seconds"], float)
    assert main(["gate", "--engine", "naive", "--seed", "7", "--out", str(tmp_path)]) == 1
    assert f"first failure after {first} example(s) in " in capsys.readouterr().out
    ok_code, passed = _gate_json(
        capsys, "--engine", "reference", "--max-examples", "5", "--out", str(tmp_path / "ok")
    )
    assert ok_code == 0
    assert passed["examples_to_first_failure"] is None
    assert passed["first_failure_seconds"] is None


def test_same_seed_writes_the_same_counterexample(tmp_path: Path) -> None:
    """Two gate runs with one seed write byte-identical counterexample files."""
    for name in ("a", "b"):
        assert main(["gate", "--engine", "naive", "--seed", "7", "--out", str(tmp_path / name)])
    first, second = _only_file(tmp_path / "a"), _only_file(tmp_path / "b")
    assert first.name == second.name
    assert first.read_bytes() == second.read_bytes()


def test_report_names_invariant_path_ledger_and_replay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The printed report names the invariant, the file, the ledger and the replay command."""
    assert main(["gate", "--engine", "naive", "--seed", "7", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    path = _only_file(tmp_path)
    assert "accepted_orders_funded" in out
    assert f"counterexample: {path}" in out
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
    path = _only_file(tmp_path)
    assert payload["replay"] == f"cashfuzz run {path} --engine {NAIVE_ID}"
    assert load_scenario(path).config.mode is Mode.RESERVATION
    assert main(["run", str(path), "--engine", NAIVE_ID]) == 1
    assert main(["run", str(path)]) == 0


def test_time_budget_stops_the_search(tmp_path: Path) -> None:
    """Past the time budget no new example is generated and the run ends passing."""
    result = run_gate(
        resolve_engine("reference"),
        seed=0,
        budget_seconds=1e-6,
        max_examples=1_000_000,
        out_dir=tmp_path,
        engine_name="reference",
    )
    assert result.ok
    assert result.budget_exhausted
    assert result.examples_run < 1_000_000


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
