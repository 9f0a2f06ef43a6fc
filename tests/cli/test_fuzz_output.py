"""``cashfuzz fuzz`` output: the summary after Ctrl-C, the worker count, paths and
replay commands whole in a CI log, and protocol breaches as usage errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cashfuzz.cli import main

CASHFUZZ = [sys.executable, "-m", "cashfuzz.cli"]


def test_ctrl_c_prints_what_was_found_and_where_then_exits_130(tmp_path: Path) -> None:
    """Ctrl-C after a failure was written prints the failure files and exits 130."""
    out = tmp_path / "out"
    process = subprocess.Popen(
        [*CASHFUZZ, "fuzz", "--engine", "naive", "--minutes", "5", "--workers", "1",
         "--db", str(tmp_path / "db"), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        assert process.stderr is not None
        lines = []
        for line in process.stderr:  # a generous hang guard, not a timed assertion
            lines.append(line)
            if line.startswith("FAIL") or time.monotonic() > deadline:
                break
        assert any(line.startswith("FAIL") for line in lines), "".join(lines)
        os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole group
        _, rest = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130
    summary = rest[rest.index("cashfuzz fuzz: ") :]
    assert "interrupted; 1 distinct failure(s) written to" in summary
    files = sorted(out.glob("*.json"))
    assert files
    for path in files:
        assert f"  {path}\n" in summary


def test_the_summary_counts_the_workers_that_ran(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a two-worker run the final table says workers 2, not 0."""
    monkeypatch.setenv("COLUMNS", "120")
    status = main(
        ["fuzz", "--engine", "reference", "--examples", "40", "--workers", "2",
         "--db", str(tmp_path / "db"), "--out", str(tmp_path / "out")]
    )  # fmt: skip
    assert status == 0
    err = capsys.readouterr().err
    table = err[err.rindex("workers") :]
    assert table.split()[:2] == ["workers", "2"]


def test_a_protocol_breach_is_a_usage_error_not_a_dead_worker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An adapter without an events list ends the campaign with exit 2 and what to change."""
    (tmp_path / "no_events_adapter.py").write_text(
        "class A:\n"
        "    def step(self, *a): pass\n"
        "    def snapshot(self): return None\n"
        "def factory(config, observer=None):\n"
        "    return A()\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)  # the spawned worker finds the module in the current folder
    status = main(
        ["fuzz", "--engine", "no_events_adapter:factory", "--minutes", "1", "--workers", "1",
         "--db", str(tmp_path / "db"), "--out", str(tmp_path / "out")]
    )  # fmt: skip
    assert status == 2
    err = capsys.readouterr().err
    assert "has no events attribute" in err
    assert "fix the adapter" in err
    assert "proves nothing" not in err


def test_help_states_the_default_budget_without_rest_markup(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """fuzz --help says what runs without a budget, and no --help text has ``markup``."""
    for command in ("run", "gate", "fuzz", "replay", "diff", "bench"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = capsys.readouterr().out
        assert "``" not in text, command
        if command == "fuzz":
            assert "default: --minutes 1" in " ".join(text.split())
            assert "at least one" not in text


def test_version_names_cashfuzz_and_hypothesis(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints the cashfuzz and the Hypothesis versions."""
    import hypothesis

    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("cashfuzz 0.")
    assert f"Hypothesis {hypothesis.__version__}" in out


def test_paths_and_replay_commands_stay_whole_in_a_ci_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Piped at 80 columns, a long --out path and its replay command are never wrapped or cut."""
    monkeypatch.delenv("COLUMNS", raising=False)
    out = tmp_path / ("a-long-folder-name-for-counterexamples-" * 3)
    status = main(
        ["fuzz", "--engine", "naive", "--examples", "200", "--workers", "1",
         "--db", str(tmp_path / "db"), "--out", str(out)]
    )  # fmt: skip
    assert status == 1
    err = capsys.readouterr().err
    assert "…" not in err
    files = sorted(out.glob("*.json"))
    assert files
    lines = err.splitlines()
    for path in files:
        assert any(line.endswith(f"-> {path}") for line in lines), err
        replay = [line for line in lines if "replay:" in line and str(path) in line]
        assert replay, err
        assert replay[0].strip().startswith("replay: cashfuzz run ")
