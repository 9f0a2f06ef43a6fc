"""``cashfuzz soak`` and ``cashfuzz shrink`` end to end: exit codes, files, replay,
determinism for a seed, and Ctrl-C."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from cashfuzz.cli import main
from cashfuzz.engines import resolve_engine
from cashfuzz.examples import example_path
from cashfuzz.reference_engine import (
    Bar,
    Cancel,
    Engine,
    EngineConfig,
    EngineUnderTest,
    Ledger,
    Observer,
    OrderRecord,
    Signal,
    Timestamp,
    load_scenario,
)
from cashfuzz.search.soak import check_soak_scenario, run_soak
from cashfuzz.search.soak_generator import GATE_MIX, generate_scenario

#: A small budget every zoo engine below fails well within (each needs 1 to 10 scenarios
#: at seed 0; the budget leaves room for the generator to change).
BUDGET = "300"


@pytest.fixture(autouse=True)
def _plain_wide_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)


def _soak_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(["soak", *argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_naive_engine_is_caught_shrunk_and_the_file_replays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The naive engine fails within a small budget; both files are written, the shrunk
    one is smaller and `cashfuzz run` replays it with the same invariant."""
    code, payload = _soak_json(
        capsys, "--engine", "naive", "--scenarios", BUDGET, "--seed", "3", "--out", str(tmp_path)
    )
    assert code == 1
    assert payload["ok"] is False
    finding = payload["finding"]
    original, shrunk = Path(finding["original_path"]), Path(finding["shrunk_path"])
    assert {original, shrunk} == set(tmp_path.iterdir())
    assert finding["scenarios_to_failure"] == payload["scenarios_checked"]
    assert finding["after"]["signals"] <= finding["before"]["signals"]
    assert finding["after"]["signals"] <= 3
    assert finding["after"]["steps"] <= 2
    assert finding["replay"] == f"cashfuzz run {shrunk}"
    invariant = finding["invariant"]
    assert invariant in {"accepted_orders_funded", "no_oversell", "legal_lifecycle"}
    assert main(["run", str(shrunk), "--json"]) == 1
    replayed = json.loads(capsys.readouterr().out)
    assert invariant in {v["invariant"] for v in replayed["violations"]}
    assert main(["run", str(original), "--json"]) == 1
    recorded = load_scenario(shrunk).provenance
    assert recorded is not None
    assert (recorded["found_by"], recorded["engine"], recorded["seed"]) == ("soak", "naive", 3)
    assert invariant in recorded["invariants"]


@pytest.mark.parametrize(
    "name",
    [
        "keyed_reservation",
        "no_release_on_cancel",
        "sell_ignores_pending_sells",
        "cancel_filled_order",
        "dropped_sell_signal",
        "unseeded_slippage",
    ],
)
def test_soak_catches_zoo_engines_within_a_small_budget(name: str, tmp_path: Path) -> None:
    """Each zoo engine breaks one of its expected invariants within a few hundred scenarios."""
    from cashfuzz.zoo import ZOO

    result = run_soak(
        ZOO[name].factory,
        engine_name=f"zoo:{name}",
        out_dir=tmp_path,
        seed=0,
        scenarios=int(BUDGET),
    )
    assert result.finding is not None, f"{name} survived {result.scenarios_checked} scenarios"
    assert result.finding.failure.invariant in ZOO[name].caught_by
    assert result.finding.shrunk_path is not None
    assert load_scenario(result.finding.shrunk_path).signals
    # the file records its engine, so a plain `cashfuzz run FILE` replays it there (the
    # unseeded engine's failure is nondeterminism itself: a rerun may happen to agree)
    if name != "unseeded_slippage":
        assert main(["run", str(result.finding.shrunk_path)]) == 1


def test_reference_engine_passes_a_scenario_budget_and_says_what_it_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A clean run exits 0 only after checking exactly the scenarios asked for."""
    code, payload = _soak_json(
        capsys, "--scenarios", "120", "--mix", "gate", "--out", str(tmp_path)
    )
    assert code == 0
    assert payload["ok"] is True
    assert payload["scenarios_checked"] == 120
    assert payload["events_checked"] > 120
    assert payload["budget_spent"] is True
    assert payload["finding"] is None
    assert not list(tmp_path.iterdir())
    assert main(["soak", "--scenarios", "5", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "5 scenarios" in out
    assert "every invariant held in every scenario" in out


def test_a_time_budget_runs_to_its_end(tmp_path: Path) -> None:
    """With --minutes the run checks scenarios until the time is up, then passes."""
    result = run_soak(
        resolve_engine("reference"),
        engine_name="reference",
        out_dir=tmp_path,
        minutes=0.01,
        mix=GATE_MIX,
    )
    assert result.ok
    assert result.budget_spent
    assert result.scenarios_checked > 0


def test_same_seed_same_scenarios_same_finding(tmp_path: Path) -> None:
    """A seed and a scenario count decide every scenario, and so the finding and its files."""
    assert generate_scenario(9, 41) == generate_scenario(9, 41)
    assert generate_scenario(9, 41) != generate_scenario(10, 41)
    runs = [
        run_soak(
            resolve_engine("zoo:no_release_on_cancel"),
            engine_name="zoo:no_release_on_cancel",
            out_dir=tmp_path / str(i),
            seed=4,
            scenarios=int(BUDGET),
        )
        for i in range(2)
    ]
    first, second = (run.finding for run in runs)
    assert first is not None
    assert second is not None
    assert first.index == second.index
    assert first.shrunk_path is not None
    assert second.shrunk_path is not None
    # the files differ only in their provenance (which names each file's own path)
    assert load_scenario(first.shrunk_path) == load_scenario(second.shrunk_path)
    assert load_scenario(first.original_path) == load_scenario(second.original_path)
    assert first.shrunk_path.name == second.shrunk_path.name
    clean = [
        run_soak(resolve_engine("reference"), engine_name="reference", out_dir=tmp_path, seed=4,
                 scenarios=30)
        for _ in range(2)
    ]  # fmt: skip
    assert clean[0].events_checked == clean[1].events_checked


def test_ctrl_c_reports_what_was_checked(tmp_path: Path) -> None:
    """An interrupt stops the run; it reports the scenarios checked and is not a pass."""
    built: list[int] = []
    reference = resolve_engine("reference")

    def interrupted_on_the_tenth(
        config: EngineConfig, observer: Observer | None
    ) -> EngineUnderTest:
        built.append(1)
        if len(built) == 2 * 10 - 1:  # each scenario builds two engines (the rerun)
            raise KeyboardInterrupt
        return reference(config, observer)

    result = run_soak(
        interrupted_on_the_tenth, engine_name="custom", out_dir=tmp_path, scenarios=100
    )
    assert result.interrupted
    assert not result.ok
    assert result.scenarios_checked == 9
    assert result.finding is None


def test_ctrl_c_on_the_command_line_exits_130(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cashfuzz soak` interrupted before any failure says so and exits 130."""

    def interrupt(config: EngineConfig, observer: Observer | None) -> EngineUnderTest:
        raise KeyboardInterrupt

    monkeypatch.setattr("cashfuzz.commands.soak.resolve_engine", lambda name: interrupt)
    assert main(["soak", "--scenarios", "10", "--out", str(tmp_path)]) == 130
    assert "interrupted: nothing failed so far" in capsys.readouterr().out


def test_the_gate_mix_stays_within_the_gates_bounds() -> None:
    """Scenarios of the gate's mix are as small as the gate's: 6 steps, 4 symbols, 8 signals."""
    for index in range(200):
        scenario = generate_scenario(0, index, GATE_MIX)
        assert len(scenario.steps()) <= 6
        assert len(scenario.symbols) <= 4
        assert len(scenario.signals) <= 8
        assert len(scenario.cancels) <= 3


def test_determinism_is_checked_by_the_soak(tmp_path: Path) -> None:
    """The soak's own determinism check catches an engine that differs on a rerun."""
    from cashfuzz.zoo import ZOO

    factory = ZOO["unseeded_slippage"].factory
    broken: set[str] = set()
    for index in range(100):
        result = check_soak_scenario(generate_scenario(0, index, GATE_MIX), factory)
        broken.update(v.invariant for v in result.violations)
        if broken:
            break
    assert broken == {"determinism"}


def _exit_status(argv: list[str]) -> int | str | None:
    try:
        return main(argv)
    except SystemExit as stopped:  # argparse's own usage errors
        return stopped.code


@pytest.mark.parametrize(
    "argv",
    [
        ["soak", "--minutes", "0"],
        ["soak", "--minutes", "1", "--scenarios", "5"],
        ["soak", "--scenarios", "0"],
        ["soak", "--seed", "-1"],
        ["soak", "--engine", "zoo:no_such_engine", "--scenarios", "5"],
        ["soak", "--mix", "huge"],
        ["shrink"],
        ["shrink", "missing.json"],
        ["shrink", "x.json", "--invariant", "no_such_invariant"],
        ["shrink", "x.json", "--seconds", "0"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Bad options, budgets, engines and files exit 2 with a message."""
    assert _exit_status(argv) == 2
    assert "error" in capsys.readouterr().err


def test_shrink_command_shrinks_a_hand_written_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The GOOGL/AAPL example on the naive engine shrinks; the file is written and replays."""
    out = tmp_path / "small.json"
    code = main(
        ["shrink", str(example_path("googl-aapl")), "--engine", "naive", "--out", str(out),
         "--json"]
    )  # fmt: skip
    assert code == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["shrunk_path"] == str(out)
    assert payload["after"]["signals"] <= payload["before"]["signals"]
    assert payload["after"]["signals"] == 2
    assert main(["run", str(out), "--json"]) == 1
    replayed = json.loads(capsys.readouterr().out)
    assert payload["invariant"] in {v["invariant"] for v in replayed["violations"]}


def test_shrink_command_refuses_a_scenario_that_does_not_fail(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A passing scenario has nothing to shrink: exit 2, no file, and the reason."""
    source = example_path("googl-aapl")
    assert (
        main(["shrink", str(source), "--engine", "reference", "--out", str(tmp_path / "x.json")])
        == 2
    )
    assert "nothing to shrink" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()
    code = main(
        ["shrink", str(source), "--engine", "naive", "--invariant", "cash_non_negative",
         "--out", str(tmp_path / "x.json")]
    )  # fmt: skip
    assert code == 2
    assert "does not break cash_non_negative" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()


# --- defects beyond the gate's bounds ---------------------------------------------------------


class _EightOrderLedger(Ledger):
    """Keeps reservations in a table of eight slots: from the ninth order on, an accepted
    order's reservation never reaches the total."""

    def accept(self, order: OrderRecord, reservation: int) -> None:
        super().accept(order, reservation)
        if order.order_id > 8:
            self.reserved -= reservation


class _EightOrderEngine(Engine):
    def __init__(self, config: EngineConfig, observer: Observer | None = None) -> None:
        super().__init__(config, observer)
        self.ledger = _EightOrderLedger(initial_cash=config.initial_cash)


class _IntegerClockEngine(Engine):
    """Keys its sessions on ``int(timestamp)``: calendar timestamps crash it."""

    def step(
        self,
        timestamp: Timestamp,
        bars: Sequence[Bar] = (),
        signals: Sequence[Signal] = (),
        cancels: Sequence[Cancel] = (),
    ) -> None:
        int(timestamp)
        super().step(timestamp, bars, signals, cancels)


def test_soak_reaches_a_ninth_order_which_the_gate_never_draws(tmp_path: Path) -> None:
    """A defect from the ninth order on is found (the gate draws at most 8 signals) and
    shrinks to nine signals or a few more."""
    result = run_soak(
        _EightOrderEngine, engine_name="eight-orders", out_dir=tmp_path, scenarios=int(BUDGET)
    )
    assert result.finding is not None
    assert result.finding.failure.invariant == "reserved_matches_orders"
    shrink = result.finding.shrink
    assert shrink is not None
    assert 9 <= shrink.after.signals <= 12
    assert shrink.before.signals > 8


def test_soak_reaches_calendar_timestamps_which_the_gate_never_draws(tmp_path: Path) -> None:
    """An engine that cannot take ISO-8601 timestamps crashes in a soak; the crash shrinks
    to one step."""
    result = run_soak(
        _IntegerClockEngine, engine_name="integer-clock", out_dir=tmp_path, scenarios=int(BUDGET)
    )
    assert result.finding is not None
    assert str(result.finding.failure) == "crash (ValueError)"
    shrink = result.finding.shrink
    assert shrink is not None
    assert shrink.after.steps == 1
    assert isinstance(shrink.shrunk.steps()[0].timestamp, str)
