"""Piped at 80 columns, every line that holds a path or a replay command stays whole, for
each command that prints one: soak, shrink and gate here; fuzz in test_fuzz_output.py,
run and replay in test_output_safety.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from cashfuzz.cli import main
from cashfuzz.examples import example_path


@pytest.fixture(autouse=True)
def _piped(monkeypatch: pytest.MonkeyPatch) -> None:
    # no COLUMNS: a pipe or a CI log, where output is 80 columns wide
    for name in ("COLUMNS", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)


def _deep(tmp_path: Path) -> Path:
    return tmp_path / ("a-long-folder-name-for-counterexamples-" * 2)


def _whole_lines(text: str, *wanted: str) -> None:
    lines = text.splitlines()
    for line in wanted:
        assert len(line) > 80, line  # else the test proves nothing
        assert line in lines, f"{line!r} is not one whole line of:\n{text}"
    assert "…" not in text


def test_soak_keeps_paths_and_its_replay_command_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cashfuzz soak ... | tail` shows the files and the replay command on one line each."""
    out = _deep(tmp_path)
    code = main(
        ["soak", "--engine", "naive", "--scenarios", "200", "--seed", "3", "--out", str(out)]
    )
    assert code == 1
    text = capsys.readouterr().out
    original = next(out.glob("*-original.json"))
    shrunk = next(out.glob("*-shrunk.json"))
    _whole_lines(
        text,
        f"as generated: {original}",
        f"replay: cashfuzz run {shrunk}",
        f"cashfuzz run: {shrunk}",
    )
    assert any(
        line.startswith("shrunk (") and line.endswith(f"): {shrunk}") for line in text.splitlines()
    )


def test_shrink_keeps_its_file_and_replay_command_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cashfuzz shrink` names the shrunk file and its replay command on one line each."""
    out = _deep(tmp_path)
    out.mkdir()
    written = out / "small.json"
    source = example_path("googl-aapl")
    assert main(["shrink", str(source), "--engine", "naive", "--out", str(written)]) == 1
    text = capsys.readouterr().out
    _whole_lines(
        text,
        f"shrunk: {written}",
        f"replay: cashfuzz run {written}",
        f"cashfuzz run: {written}",
    )


def test_gate_keeps_paths_and_replay_commands_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The gate's counterexample paths and replay commands stay on one line each."""
    out = _deep(tmp_path)
    argv = ["gate", "--engine", "naive", "--seed", "0", "--max-examples", "100", "--out", str(out)]
    assert main(argv) == 1
    text = capsys.readouterr().out
    files = sorted(out.glob("*.json"))
    assert files
    for path in files:
        _whole_lines(text, f"  replay: cashfuzz run {path}")
        assert any(line.endswith(f"): {path}") for line in text.splitlines())
