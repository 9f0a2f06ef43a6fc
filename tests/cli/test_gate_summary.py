"""``cashfuzz gate``'s summary: the example budget apart from the shrinking checks, what
each count counts, and every invariant the written files break."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from cashfuzz.cli import main
from cashfuzz.engines import resolve_engine
from cashfuzz.search.gate import run_gate

#: the naive engine fails early at seed 0: Hypothesis then goes on generating past 100
#: (it counts only passing examples against max_examples) and shrinks
NAIVE = ("--engine", "naive", "--seed", "0", "--max-examples", "100")


@pytest.fixture(autouse=True)
def _plain_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)


def test_generated_examples_never_exceed_the_budget(tmp_path: Path) -> None:
    """At most max_examples examples are generated; the shrinking checks are counted apart,
    and with the generated ones make up examples_run."""
    result = run_gate(
        resolve_engine("naive"), seed=0, max_examples=100, out_dir=tmp_path, engine_name="naive"
    )
    assert result.counterexamples
    assert result.examples_generated == 100
    assert result.shrink_checks > 0
    assert result.examples_run == result.examples_generated + result.shrink_checks
    assert result.examples_to_first_failure is not None
    after = result.examples_run - result.examples_to_first_failure
    assert result.checks_after_first_failure == after


def test_budget_line_counts_generated_examples_and_shrinking_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The first line reads 'N examples generated (at most M), then K checks to shrink',
    never more examples than the budget; --json and JUnit carry the same counts."""
    report = tmp_path / "gate.xml"
    assert main(["gate", *NAIVE, "--out", str(tmp_path / "a"), "--junit-xml", str(report)]) == 1
    first = capsys.readouterr().out.splitlines()[0]
    assert main(["gate", *NAIVE, "--out", str(tmp_path / "b"), "--json"]) == 1
    payload: dict[str, Any] = json.loads(capsys.readouterr().out)
    generated, shrinking = payload["examples_generated"], payload["shrink_checks"]
    assert generated <= payload["max_examples"] == 100
    assert payload["examples_run"] == generated + shrinking
    assert payload["checks_after_first_failure"] == (
        payload["examples_run"] - payload["examples_to_first_failure"]
    )
    assert f": {generated} examples generated (at most 100), then {shrinking} checks " in first
    assert "to shrink the failures" in first
    suite = ET.parse(report).getroot()[0]
    properties = {item.get("name"): item.get("value") for item in suite.iter("property")}
    assert properties["examples_generated"] == str(generated)
    assert properties["shrink_checks"] == str(shrinking)
    assert properties["examples_run"] == str(payload["examples_run"])


def test_a_pass_reads_examples_of_the_budget(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With nothing broken every check is a generated example: 'N of N examples'."""
    assert main(["gate", "--max-examples", "20", "--out", str(tmp_path)]) == 0
    assert ": 20 of 20 examples in " in capsys.readouterr().out
    assert main(["gate", "--max-examples", "20", "--out", str(tmp_path), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["examples_run"] == payload["examples_generated"] == 20
    assert payload["shrink_checks"] == 0
    assert payload["checks_after_first_failure"] == 0


def test_summary_counts_failing_examples_and_every_invariant_the_files_break(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The FAILED line counts the invariants the written files break (not only those they
    were shrunk for), and each invariant's line counts failing examples, naming what else
    its file breaks."""
    assert main(["gate", *NAIVE, "--out", str(tmp_path), "--json"]) == 1
    payload: dict[str, Any] = json.loads(capsys.readouterr().out)
    files = payload["counterexamples"]
    broken = {name for found in files for name in found["broken"]}
    assert len(broken) > len(files)  # the naive race also breaks the lifecycle
    assert set(payload["broken"]) == broken
    assert main(["gate", *NAIVE, "--out", str(tmp_path)]) == 1
    text = capsys.readouterr().out
    assert (
        f"FAILED: {payload['failing_examples']} distinct failing example(s); {len(broken)} "
        f"invariant(s) broken in the {len(files)} counterexample file(s)"
    ) in text
    first = payload["examples_to_first_failure"]
    assert f"  first failure: generated example {first}, after " in text
    for found in files:
        name = found["invariant"]
        count = payload["invariants"][name]
        others = ", ".join(other for other in found["broken"] if other != name)
        line = f"  {name}: first to break in {count} failing example(s); its file also breaks"
        assert f"{line} {others}\n" in text
    assert "broke first in" not in text
    assert "first failure after" not in text


def test_only_says_the_counterexample_run_checks_every_invariant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Under --only the report says the others were not searched for, lists no unsearched
    invariant as not applicable, and says the counterexample's run checks them all."""
    argv = ["gate", *NAIVE, "--only", "accepted_orders_funded", "--out", str(tmp_path)]
    assert main(argv) == 1
    text = capsys.readouterr().out
    assert "searched only for accepted_orders_funded (--only); the other 18 invariant(s)" in text
    assert "not applicable" not in text.split("cashfuzz run: ")[0]
    assert "it checks every invariant, not only the --only ones" in text


def test_a_crash_is_not_counted_as_an_invariant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An engine that only crashes reads 'the engine crashed', not '1 invariant(s) broken'."""
    argv = ["gate", "--engine", "zoo:unknown_cancel_crashes", "--max-examples", "300"]
    assert main([*argv, "--out", str(tmp_path)]) == 1
    text = capsys.readouterr().out
    assert "; the engine crashed in the 1 counterexample file(s)" in text
    assert "  the engine crashed first in " in text
    assert "invariant(s) broken" not in text


def test_without_hypothesis_phase_the_checks_after_a_failure_count_as_shrinking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where Hypothesis's phase cannot be read, the examples before the first failure are
    the generated ones and every later check counts apart: still never over the budget."""
    from cashfuzz.search import gate

    assert gate._hypothesis_phase() is None  # outside a Hypothesis run
    monkeypatch.setattr(gate, "_hypothesis_phase", lambda: None)
    result = run_gate(
        resolve_engine("naive"), seed=0, max_examples=100, out_dir=tmp_path, engine_name="naive"
    )
    assert result.counterexamples
    assert result.examples_generated == result.examples_to_first_failure
    assert result.shrink_checks == result.checks_after_first_failure > 0
