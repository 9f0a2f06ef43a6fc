"""nautilus_trader behind the kit: a cash account whose unpaid fill is reported as a fill."""

from __future__ import annotations

import pytest

from tests.adapters.engine_kit import broken, kinds, require_engine, scenario

require_engine("nautilus_trader")
pytestmark = pytest.mark.nautilus

from cashfuzz.cli import main  # noqa: E402
from cashfuzz.engines import resolve_engine  # noqa: E402
from cashfuzz.examples import load_example  # noqa: E402
from cashfuzz.invariants import check_scenario  # noqa: E402
from cashfuzz.reference_engine import (  # noqa: E402
    OrderFilled,
    OrderRejected,
    Reason,
    ScenarioError,
    run_scenario,
)

nautilus_factory = resolve_engine("nautilus")


def test_the_race_ends_in_a_fill_the_cash_account_cannot_pay() -> None:
    """GOOGL/AAPL: all three BUYs pass its risk engine; the third fill drives cash negative."""
    race = nautilus_factory.adapt_scenario(load_example("googl-aapl"))  # type: ignore[attr-defined]
    result = check_scenario(race, nautilus_factory)
    # market orders are submitted, then filled without an Accepted: each is logged as
    # accepted when the venue first answers, with the books as they were before its fill
    assert kinds(result.events) == [
        "MarketUpdated",
        *["OrderAccepted", "OrderFilled"] * 3,
    ]
    fills = [e for e in result.events if isinstance(e, OrderFilled)]
    assert [(f.quantity, f.price, f.commission, f.cash_delta) for f in fills] == [
        (8, 999_800, 80, -80_064),
        (4, 999_800, 40, -40_032),
        (2, 999_800, 20, -20_016),
    ]
    assert broken(result.violations)[0] == ("cash_non_negative", 6)
    assert "cash=-103.83" in result.violations[0].message
    # nautilus never booked the third fill: its position stays at 4 AAPL
    assert ("position_conservation", 6) in broken(result.violations)


def test_an_affordable_scenario_holds_every_invariant_it_can_check() -> None:
    """Buys and sells within cash and position on two symbols: nothing breaks."""
    calm = scenario(
        [(t, s, "10", "10", 1000) for t in range(3) for s in ("AAA", "BBB")],
        [
            {"timestamp": 0, "symbol": "AAA", "side": "BUY", "quantity": 10},
            {"timestamp": 1, "symbol": "BBB", "side": "BUY"},
            {"timestamp": 2, "symbol": "AAA", "side": "SELL"},
        ],
        costs={"commission_rate": "0.001"},
    )
    result = check_scenario(calm, nautilus_factory)
    assert result.ok, result.violations
    assert result.final is not None
    assert result.final.position("AAA") == 0
    # 10 AAA at 10 plus 0.10, 9 BBB (10 % of equity) plus 0.09, 10 AAA sold less 0.10
    assert result.final.position("BBB") == 9
    assert result.final.cash == 100_000 - 10_010 - 9_009 + 9_990


def test_a_short_sale_is_rejected_by_the_venue_as_a_rejected_signal() -> None:
    """A SELL beyond the position: the venue rejects it ("SHORT SELLING not permitted"),
    before any acceptance, so it is an OrderRejected (EXCEEDS_POSITION), not a finding."""
    short = scenario(
        [(0, "AAA", "10", "10", 1000), (1, "AAA", "10", "10", 1000)],
        [
            {"timestamp": 0, "symbol": "AAA", "side": "BUY", "quantity": 1},
            {"timestamp": 1, "symbol": "AAA", "side": "SELL", "quantity": 3},
        ],
    )
    result = check_scenario(short, nautilus_factory)
    assert result.ok, result.violations
    rejected = result.events[-1]
    assert isinstance(rejected, OrderRejected)
    assert rejected.reason is Reason.EXCEEDS_POSITION
    assert "SHORT SELLING" in rejected.detail
    # the reason without the order's repr nautilus appends (the log already names the order)
    assert "MarketOrder(" not in rejected.detail


def test_what_nautilus_cannot_model_is_bad_input() -> None:
    """next_open fills and a minimum commission are ScenarioErrors naming the field."""
    with pytest.raises(ScenarioError, match="fill_at=next_open"):
        run_scenario(scenario([(0, "AAA", "1", "1", 1)], fill_at="next_open"), nautilus_factory)
    minimum = scenario([(0, "AAA", "1", "1", 1)], costs={"commission_min": "1"})
    with pytest.raises(ScenarioError, match="commission_min"):
        run_scenario(minimum, nautilus_factory)


def test_gate_finds_a_counterexample_that_run_replays(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """The gate on nautilus fails with a shrunk file naming an invariant; ``run`` exits 1."""
    code = main(
        ["gate", "--engine", "nautilus", "--seed", "1", "--max-examples", "200",
         "--out", str(tmp_path)]
    )  # fmt: skip
    assert code == 1
    written = sorted(tmp_path.glob("counterexample-nautilus-1-*.json"))
    assert any("-cash_non_negative-" in path.name for path in written), written
    capsys.readouterr()
    for path in written:  # one shrunk file per broken invariant, each still failing
        assert main(["run", str(path), "--engine", "nautilus"]) == 1
