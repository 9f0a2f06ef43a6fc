"""``cashfuzz gate`` in CI: JUnit XML, settings from pyproject.toml, progress only on a
terminal, and an adapter's protocol breach as a usage error."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from cashfuzz.cli import main
from cashfuzz.invariants import ALL_INVARIANTS

QUICK = ("--max-examples", "300", "--shrink-examples", "200")


@pytest.fixture(autouse=True)
def _in_a_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)


def _cases(path: Path) -> dict[str, ET.Element]:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    (suite,) = root
    return {case.get("name", ""): case for case in suite.iter("testcase")}


def test_junit_xml_has_a_failure_per_broken_invariant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failing gate's JUnit report has one testcase per invariant; broken ones fail with
    the message, the file and the replay command."""
    report = tmp_path / "reports" / "gate.xml"
    code = main(["gate", "--engine", "naive", "--seed", "0", *QUICK, "--out", "out",
                 "--junit-xml", str(report), "--json"])  # fmt: skip
    assert code == 1
    payload = json.loads(capsys.readouterr().out)
    cases = _cases(report)
    assert set(ALL_INVARIANTS) <= set(cases)
    broken = {item["invariant"]: item for item in payload["counterexamples"]}
    assert broken
    # every invariant a written file breaks fails, not only those the files were shrunk for
    in_files = {name for item in payload["counterexamples"] for name in item["broken"]}
    assert in_files > set(broken)  # the naive race breaks the lifecycle too
    failing = in_files | set(payload["invariants"])
    for name, case in cases.items():
        failure = case.find("failure")
        if name in failing:
            assert failure is not None, name
            if name in broken:
                assert name in failure.get("message", "")
                assert f"replay: {broken[name]['replay']}" in (failure.text or "")
        else:
            assert failure is None, name
    suite = ET.parse(report).getroot()[0]
    assert suite.get("failures") == str(len(failing))


def test_junit_xml_of_a_pass_has_no_failures(tmp_path: Path) -> None:
    """A passing gate's report has every invariant as a passing testcase."""
    report = tmp_path / "gate.xml"
    assert main(["gate", "--max-examples", "20", "--out", "out", "--junit-xml", str(report)]) == 0
    cases = _cases(report)
    assert set(cases) == set(ALL_INVARIANTS)
    assert all(len(case) == 0 for case in cases.values())


def test_settings_come_from_pyproject_and_flags_override_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """[tool.cashfuzz] sets engine, seed, budget and out; a flag given wins."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "mine"\n\n[tool.cashfuzz]\nengine = "naive"\nseed = 3\n'
        'max-examples = 60\nshrink_examples = 20\nout = "from-pyproject"\n',
        encoding="utf-8",
    )
    code = main(["gate", "--json"])
    payload: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert (payload["engine"], payload["seed"], payload["max_examples"]) == ("naive", 3, 60)
    assert code == (1 if payload["counterexamples"] else 0)
    for found in payload["counterexamples"]:
        assert Path(found["path"]).parent == Path("from-pyproject")
    assert main(["gate", "--engine", "reference", "--max-examples", "10", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert (payload["engine"], payload["seed"], payload["max_examples"]) == ("reference", 3, 10)


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ('seed = "seven"', "[tool.cashfuzz] seed = 'seven' must be an integer, at least 0"),
        ("max_examples = 0", "max_examples = 0 must be an integer, at least 1"),
        ("budget_seconds = -1", "budget_seconds = -1 must be a positive, finite number"),
        ("maxexamples = 5", "maxexamples is not a setting; known: engine, seed"),
        ('engine = ""', "engine = '' must be a non-empty string"),
        ('only = ["cash_non_negative", "nope"]', "[tool.cashfuzz] only 'nope' is not an invariant"),
        ("only = 3", "[tool.cashfuzz] only = 3 must be a name or a non-empty list of names"),
        ("only = []", "[tool.cashfuzz] only = [] must be a name or a non-empty list of names"),
    ],
)
def test_bad_pyproject_settings_exit_two_naming_the_key(
    tmp_path: Path, table: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad value or an unknown key in [tool.cashfuzz] is a usage error naming the key."""
    (tmp_path / "pyproject.toml").write_text(f"[tool.cashfuzz]\n{table}\n", encoding="utf-8")
    assert main(["gate", "--max-examples", "5"]) == 2
    assert says in capsys.readouterr().err


def test_progress_is_shown_only_on_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal the gate shows examples, rate and failures; in a log it does not."""
    assert main(["gate", "--max-examples", "30", "--out", "out"]) == 0
    assert "examples, " not in capsys.readouterr().err
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich then treats stderr as a terminal
    monkeypatch.setenv("TTY_INTERACTIVE", "1")
    assert main(["gate", "--max-examples", "30", "--out", "out"]) == 0
    err = capsys.readouterr().err
    assert "gate: " in err
    assert " of 30 examples, " in err
    assert "failing so far" in err


def test_a_protocol_breach_in_the_gate_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An adapter whose observer gets dicts exits 2 at once, with what to change."""
    (tmp_path / "dict_adapter.py").write_text(
        "import dataclasses\n"
        "from cashfuzz.reference_engine import Engine\n"
        "def factory(config, observer=None):\n"
        "    return Engine(config, lambda e, s: observer(e, dataclasses.asdict(s)))\n",
        encoding="utf-8",
    )
    assert main(["gate", "--engine", "dict_adapter:factory", "--max-examples", "50"]) == 2
    err = capsys.readouterr().err
    assert "is a dict, not a LedgerSnapshot" in err
    assert "internal error" not in err


@pytest.mark.parametrize(
    ("hook", "says"),
    [
        ("def adapt(s):\n    raise ValueError('cannot adapt')\n",
         "adapt_scenario raised ValueError: cannot adapt (raised at "),
        ("def adapt(s):\n    return None\n", "adapt_scenario returned a NoneType, not a Scenario"),
    ],
)  # fmt: skip
def test_a_broken_adapt_scenario_hook_is_a_usage_error(
    tmp_path: Path, hook: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A factory's adapt_scenario that raises or returns no Scenario exits 2, not 3."""
    (tmp_path / "adapting.py").write_text(
        "from cashfuzz.reference_engine import Engine\n"
        "def factory(config, observer=None):\n"
        "    return Engine(config, observer)\n" + hook + "factory.adapt_scenario = adapt\n",
        encoding="utf-8",
    )
    assert main(["gate", "--engine", "./adapting.py:factory", "--max-examples", "20"]) == 2
    err = capsys.readouterr().err
    assert says in err
    assert "internal error" not in err
