"""``cashfuzz gate --only``: a search for some invariants alone, and what its reports claim."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from cashfuzz.cli import main
from cashfuzz.errors import UsageError
from cashfuzz.invariants import ALL_INVARIANTS
from cashfuzz.reference_engine import load_scenario
from cashfuzz.search.gate import select_invariants
from tests.cli.test_gate_ci import _in_a_project  # noqa: F401 - autouse: a fresh project folder

QUICK = ("--max-examples", "300", "--shrink-examples", "200")


def test_select_invariants_keeps_the_documented_order_without_repeats() -> None:
    """Names come back in ALL_INVARIANTS order, each once."""
    assert select_invariants(["determinism", "cash_non_negative", "determinism"]) == (
        "cash_non_negative",
        "determinism",
    )


@pytest.mark.parametrize("names", [["nope"], []])
def test_select_invariants_refuses_unknown_names_and_none(names: list[str]) -> None:
    """An unknown name, or no name at all, is a UsageError listing the valid names."""
    with pytest.raises(UsageError, match=r"valid: cash_non_negative, .*, determinism"):
        select_invariants(names)


def test_an_unknown_invariant_exits_two_listing_the_valid_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--only with a name that is no invariant exits 2 before any search."""
    assert main(["gate", "--only", "cash_non_negative", "--only", "cash_negative"]) == 2
    err = capsys.readouterr().err
    assert "--only 'cash_negative' is not an invariant" in err
    for name in ALL_INVARIANTS:
        assert name in err


def test_a_pass_with_only_names_what_it_checked_and_claims_nothing_else(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pass with --only says which invariants were checked, in text, JSON and JUnit,
    and never that every invariant held."""
    only = ("--only", "order_ids_unique", "--only", "no_oversell")
    assert main(["gate", "--max-examples", "40", *only, "--out", "out"]) == 0
    text = capsys.readouterr().out
    assert "searched only for no_oversell, order_ids_unique (--only)" in text
    assert f"the other {len(ALL_INVARIANTS) - 2} invariant(s) were not searched for" in text
    assert "every checked invariant held" in text
    assert "every invariant held" not in text

    report = tmp_path / "gate.xml"
    code = main(["gate", "--max-examples", "40", *only, "--json", "--junit-xml", str(report)])
    assert code == 0
    payload: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert payload["ok"] is True
    assert payload["only"] == ["no_oversell", "order_ids_unique"]
    assert payload["checked_invariants"] == ["no_oversell", "order_ids_unique"]
    suite = ET.parse(report).getroot()[0]
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == set(ALL_INVARIANTS)
    for name, case in cases.items():
        skipped = case.find("skipped")
        if name in payload["only"]:
            assert len(case) == 0, name
        else:
            assert skipped is not None, name
            assert "not checked: the gate ran with --only" in skipped.get("message", "")
    assert suite.get("skipped") == str(len(ALL_INVARIANTS) - 2)
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["only"] == "no_oversell,order_ids_unique"


def test_without_only_the_json_says_every_invariant_was_checked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without --only, ``only`` is null and every invariant is listed as checked."""
    assert main(["gate", "--max-examples", "10", "--out", "out", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["only"] is None
    assert payload["not_applicable"] == []
    assert payload["checked_invariants"] == list(ALL_INVARIANTS)


def test_a_finding_with_only_is_that_invariant_recorded_and_replayable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """On the naive engine, which breaks several invariants, --only accepted_orders_funded
    writes that invariant's file alone; its provenance records --only, and its replay
    command (which checks everything) still exits 1."""
    report = tmp_path / "gate.xml"
    code = main(["gate", "--engine", "naive", "--seed", "7", *QUICK, "--out", "out", "--json",
                 "--only", "accepted_orders_funded", "--junit-xml", str(report)])  # fmt: skip
    assert code == 1
    payload = json.loads(capsys.readouterr().out)
    cases = {case.get("name"): case for case in ET.parse(report).getroot()[0].iter("testcase")}
    assert cases["accepted_orders_funded"].find("failure") is not None
    skipped = cases["legal_lifecycle"].find("skipped")  # broken too, but not searched for
    assert skipped is not None
    assert "not checked" in skipped.get("message", "")
    assert "the counterexample file for accepted_orders_funded breaks it too" in skipped.get(
        "message", ""
    )
    assert set(payload["invariants"]) == {"accepted_orders_funded"}
    (found,) = payload["counterexamples"]
    assert found["invariant"] == "accepted_orders_funded"
    scenario = load_scenario(found["path"])
    assert scenario.provenance is not None
    assert scenario.provenance["only"] == ["accepted_orders_funded"]
    assert "accepted_orders_funded" in scenario.provenance["invariants"]
    assert "accepted_orders_funded broke" in scenario.description
    assert "--only" not in found["replay"]
    assert found["replay"].startswith("cashfuzz run ")
    assert main(found["replay"].split()[1:]) == 1


def test_only_can_come_from_pyproject_and_a_flag_overrides_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``only`` in [tool.cashfuzz] (a name or a list) restricts the gate; --only wins."""
    (tmp_path / "pyproject.toml").write_text(
        '[tool.cashfuzz]\nmax_examples = 10\nonly = "order_ids_unique"\n', encoding="utf-8"
    )
    assert main(["gate", "--out", "out", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["only"] == ["order_ids_unique"]
    assert main(["gate", "--out", "out", "--json", "--only", "phase_order"]) == 0
    assert json.loads(capsys.readouterr().out)["only"] == ["phase_order"]


def test_only_an_invariant_the_engine_declares_away_exits_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--only an invariant the engine declares does not apply would check nothing: exit 2,
    never a pass; without --only, a pass lists it as not applicable, not as checked."""
    (tmp_path / "declared.py").write_text(
        "from cashfuzz.reference_engine import Engine\n"
        "class Declared(Engine):\n"
        "    unique_order_ids = False\n"
        "def factory(config, observer=None):\n"
        "    return Declared(config, observer)\n",
        encoding="utf-8",
    )
    spec = "declared:factory"
    code = main(["gate", "--engine", spec, "--max-examples", "20", "--only", "order_ids_unique"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--only order_ids_unique: engine declared:factory declares" in err
    assert main(["gate", "--engine", spec, "--max-examples", "20", "--out", "out"]) == 0
    text = capsys.readouterr().out
    assert (
        "not applicable, as the engine declares: order_ids_unique (unique_order_ids = False)"
        in text
    )
    assert "every checked invariant held in every example" in text
    # JUnit skips it for the declaration, not for an --only the run never had
    junit = tmp_path / "gate.xml"
    args = ["gate", "--engine", spec, "--max-examples", "20", "--out", "out"]
    assert main([*args, "--junit-xml", str(junit)]) == 0
    capsys.readouterr()
    xml = junit.read_text(encoding="utf-8")
    assert "not applicable: the engine declares unique_order_ids = False" in xml
    assert "--only" not in xml
    assert main(["gate", "--engine", spec, "--max-examples", "20", "--json", "--out", "out"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["not_applicable"] == ["order_ids_unique"]
    assert "order_ids_unique" not in payload["checked_invariants"]
    assert len(payload["checked_invariants"]) == len(ALL_INVARIANTS) - 1


def test_engine_help_names_every_built_in_engine(capsys: pytest.CaptureFixture[str]) -> None:
    """``gate --help`` lists every engine --engine takes by name."""
    with pytest.raises(SystemExit):
        main(["gate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name in ("reference", "naive", "backtrader", "backtesting", "nautilus", "zoo:NAME",
                 "exec:COMMAND", "package.module:factory"):  # fmt: skip
        assert name in text, name
