"""``cashfuzz run --report``: markdown and HTML reports with a PNG plot beside them."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from cashfuzz.cli import main
from cashfuzz.examples import example_path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _plain_wide_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def naive_scenario(tmp_path: Path) -> str:
    """The GOOGL/AAPL example in naive mode, with markup in its description."""
    data = json.loads(example_path("googl-aapl").read_text(encoding="utf-8"))
    data.update(mode="naive", description="<b>race</b> & a|b *not bold*")
    path = tmp_path / "naive.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def _run_with_report(
    capsys: pytest.CaptureFixture[str], scenario: str, report: Path
) -> tuple[int, dict[str, Any], str]:
    code = main(["run", scenario, "--json", "--report", str(report)])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def test_markdown_report_names_every_violation_and_writes_a_png(
    naive_scenario: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--report out.md writes markdown that names every violation and links a real PNG."""
    report = tmp_path / "out.md"
    code, result, err = _run_with_report(capsys, naive_scenario, report)
    assert code == 1
    assert f"report: {report}" in err
    text = report.read_text(encoding="utf-8")
    assert result["violations"]
    for violation in result["violations"]:
        line = f"- `{violation['invariant']}` at event {violation['event_index']}: "
        assert line + violation["message"] in text
    assert "![cash, reserved, available and equity](out.png)" in text
    assert "commission_rate=0.001" in text
    assert "order 3 fill REFUSED" in text
    assert r"\<b>race\</b> & a\|b \*not bold\*" in text
    assert (tmp_path / "out.png").read_bytes().startswith(PNG_SIGNATURE)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["naive.json", "out.md", "out.png"]


def test_html_report_escapes_text_and_embeds_the_plot(
    naive_scenario: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--report out.html escapes scenario text, embeds the plot and writes the PNG beside it."""
    report = tmp_path / "out.html"
    code, result, _ = _run_with_report(capsys, naive_scenario, report)
    assert code == 1
    page = report.read_text(encoding="utf-8")
    assert "&lt;b&gt;race&lt;/b&gt; &amp; a|b" in page
    assert "<b>race</b>" not in page
    assert 'src="data:image/png;base64,' in page
    for violation in result["violations"]:
        assert f"<code>{violation['invariant']}</code>" in page
    assert page.count('<tr class="broken">') == 1
    assert (tmp_path / "out.png").read_bytes().startswith(PNG_SIGNATURE)


def test_report_of_a_clean_run_says_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A report of a run where every invariant held lists no violations and still plots."""
    report = tmp_path / "sub" / "clean.md"
    assert main(["run", "--example", "googl-aapl", "--report", str(report)]) == 0
    assert f"report: {report}" in capsys.readouterr().out
    text = report.read_text(encoding="utf-8")
    assert "## Violations\n\nNone." in text
    assert "all 19 invariants held over 6 events" in text
    assert (tmp_path / "sub" / "clean.png").read_bytes().startswith(PNG_SIGNATURE)


def test_missing_matplotlib_exits_two_with_the_extra_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without matplotlib, --report exits 2, says to install cashfuzz[report] and writes nothing."""
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    report = tmp_path / "out.md"
    assert main(["run", "--example", "googl-aapl", "--report", str(report)]) == 2
    assert "install cashfuzz[report]" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
