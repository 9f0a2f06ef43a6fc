"""User text reaches terminals, CI logs, markdown and plots as text: control sequences
shown, never sent; rich markup, markdown and mathtext never interpreted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cashfuzz.cli import main
from cashfuzz.examples import example_path
from cashfuzz.output.safe import visible

HOSTILE_DESCRIPTION = "# Title\x1b]0;pwned\x07\x1b[2J\x9b31m\u202ereversed [bold]x[/bold]"
CASHFUZZ = [sys.executable, "-m", "cashfuzz.cli"]


@pytest.fixture(autouse=True)
def _plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)


def _hostile(tmp_path: Path, name: str = "hostile.json", symbol: str = "[/]") -> Path:
    data: dict[str, Any] = json.loads(example_path("googl-aapl").read_text(encoding="utf-8"))
    data["description"] = HOSTILE_DESCRIPTION
    data["mode"] = "naive"
    for item in [*data["bars"], *data["signals"]]:
        if item["symbol"] == "AAPL":
            item["symbol"] = symbol
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _no_controls(text: str) -> None:
    sent = [c for c in text if (ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0]
    assert sent == [], f"control characters reached the output: {sent!r}"
    assert "\u202e" not in text


def test_visible_escapes_c0_c1_and_direction_overrides() -> None:
    """ESC, BEL, CSI (C1) and U+202E come out as escapes; text and tabs stay."""
    assert visible("a\x1b[2Jb\x07\x9b\u202e\tc") == "a\\x1b[2Jb\\x07\\x9b\\u202e\tc"
    assert visible("one\ntwo") == "one\\x0atwo"
    assert visible("one\ntwo", keep_newlines=True) == "one\ntwo"


def test_run_shows_escape_sequences_instead_of_sending_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A description and a symbol with control sequences and markup print as text."""
    assert main(["run", str(_hostile(tmp_path))]) == 1
    out = capsys.readouterr().out
    _no_controls(out)
    assert "\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202ereversed [bold]x[/bold]" in out
    assert "BUY 4 [/]" in out


def test_replay_of_a_markup_symbol_reports_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A symbol like ``[/]`` is data: replay reports its failure (exit 1), never exit 3."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _hostile(corpus, name="bad[bold]name\x1b[2J.json")
    assert main(["replay", str(corpus)]) == 1
    out = capsys.readouterr().out
    _no_controls(out)
    assert "bad[bold]name\\x1b[2J.json" in out
    assert "[/]" in out


def test_markdown_report_keeps_user_text_out_of_markdown_syntax(tmp_path: Path) -> None:
    """A description starting with # is a paragraph, not a heading; controls are shown."""
    pytest.importorskip("matplotlib")
    report = tmp_path / "report.md"
    assert main(["run", str(_hostile(tmp_path)), "--report", str(report)]) == 1
    text = report.read_text(encoding="utf-8")
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert all(line.startswith(("# cashfuzz run", "## ")) for line in headings), headings
    _no_controls(text)


def test_a_mathtext_file_name_does_not_break_the_plot(tmp_path: Path) -> None:
    """A scenario file named like $x^$ still gets its report and plot (mathtext is off)."""
    pytest.importorskip("matplotlib")
    scenario = _hostile(tmp_path, name="$\\frac{x}{$.json", symbol="$_^$")
    report = tmp_path / "report.html"
    assert main(["run", str(scenario), "--report", str(report)]) == 1
    assert report.with_suffix(".png").stat().st_size > 0


def test_bench_messages_keep_their_brackets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A progress message with [bench] in it is printed as it is, not eaten as markup."""
    import cashfuzz.commands.bench as bench_command

    def fake_bench(settings: object, progress: Any) -> dict[str, Any]:
        progress("[bench] step [/] done")
        raise KeyboardInterrupt

    monkeypatch.setattr(bench_command, "run_bench", fake_bench)
    assert main(["bench", "--tiny"]) == 130
    assert "bench: [bench] step [/] done" in capsys.readouterr().err


def test_no_color_flag_and_variable_send_no_escape_codes(tmp_path: Path) -> None:
    """With FORCE_COLOR set, --no-color or NO_COLOR still gives output without any ESC."""
    base = {"PATH": "/usr/bin:/bin", "FORCE_COLOR": "1", "COLUMNS": "200"}
    coloured = subprocess.run(
        [*CASHFUZZ, "run", "--example", "googl-aapl"],
        capture_output=True, text=True, env=base, check=False, timeout=120,
    )  # fmt: skip
    assert "\x1b[" in coloured.stdout  # the control: FORCE_COLOR does colour it
    for extra_args, extra_env in (([], {"NO_COLOR": "1"}), (["--no-color"], {})):
        done = subprocess.run(
            [*CASHFUZZ, *extra_args, "run", "--example", "googl-aapl"],
            capture_output=True, text=True, env={**base, **extra_env}, check=False, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0
        assert "\x1b" not in done.stdout


def test_piped_output_is_80_columns_and_paths_are_never_cut(tmp_path: Path) -> None:
    """Piped (no COLUMNS), the ledger's tables fit 80 columns and a long path stays whole."""
    deep = tmp_path / ("a-long-folder-name-" * 5)
    deep.mkdir()
    scenario = _hostile(deep, symbol="AAPL")
    env = {"PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [*CASHFUZZ, "run", str(scenario)], capture_output=True, text=True, env=env,
        check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert f"cashfuzz run: {scenario}\n" in done.stdout
    assert "…" not in done.stdout
    corpus = subprocess.run(
        [*CASHFUZZ, "replay", str(deep)], capture_output=True, text=True, env=env,
        check=False, timeout=120,
    )  # fmt: skip
    assert corpus.returncode == 1
    assert f"FAIL {scenario} (engine " in corpus.stdout
    assert "…" not in corpus.stdout


def test_a_closed_pipe_exits_141(tmp_path: Path) -> None:
    """`cashfuzz run --example googl-aapl | head -1` exits 141, as the README says."""
    done = subprocess.run(
        ["bash", "-c", f"{sys.executable} -m cashfuzz.cli run --example googl-aapl | head -1; "
         "echo status ${PIPESTATUS[0]}"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.stdout.splitlines()[-1] == "status 141", done.stderr
    assert "Traceback" not in done.stderr


def test_diff_without_backtrader_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """diff exits 2 with an install hint when backtrader is not installed."""
    monkeypatch.setitem(sys.modules, "backtrader", None)  # as if not installed
    assert main(["diff", "--example", "googl-aapl"]) == 2
    assert "pip install 'cashfuzz[bench]'" in capsys.readouterr().err


def test_replay_accepts_one_scenario_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """replay FILE.json replays that one file; a missing path says what to pass."""
    scenario = _hostile(tmp_path, symbol="AAPL")
    assert main(["replay", str(scenario)]) == 1
    assert "1 scenario(s), 1 still failing" in capsys.readouterr().out
    assert main(["replay", str(tmp_path / "missing.json")]) == 2
    assert "give a folder of scenario files or one scenario file" in capsys.readouterr().err
