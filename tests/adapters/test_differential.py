"""``cashfuzz diff``: the reference engine against backtrader, differences and their causes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cashfuzz.adapters.backtrader.differential import LAST_BAR
from cashfuzz.adapters.diff_rules import (
    CASH_CHECK_TIMING,
    CASH_ROUNDING,
    COMMISSION_ROUNDING,
    CONSEQUENCE,
    LONG_ONLY,
    PRICE_PROTECTION,
    Difference,
)
from cashfuzz.cli import main
from cashfuzz.errors import UsageError
from cashfuzz.examples import load_example
from cashfuzz.reference_engine import (
    Scenario,
    scenario_from_dict,
    scenario_to_dict,
    write_scenario,
)
from cashfuzz.search.differential import compare

pytest.importorskip("backtrader")
pytestmark = pytest.mark.backtrader


@pytest.fixture(autouse=True)
def _plain_wide_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)


def explicit_race() -> Scenario:
    """BUY 8 GOOGL, 4 AAPL, 2 AAPL at 99.98 with 0.1% commission and a fixed 6 bps
    slippage, and a second bar so that backtrader processes the orders."""
    raw = scenario_to_dict(load_example("googl-aapl"))
    raw["costs"] = {"commission_rate": "0.001", "slippage_bps": "6"}
    raw["bars"] += [dict(bar, timestamp="2025-10-28T15:31:00") for bar in raw["bars"]]
    return scenario_from_dict(raw)


def one_symbol(opens: list[str], signals: list[dict[str, Any]], **settings: Any) -> Scenario:
    """Flat bars of one symbol at the given prices, volume 1,000,000."""
    return scenario_from_dict(
        {
            "initial_cash": "1000",
            **settings,
            "bars": [
                {
                    "timestamp": t,
                    "symbol": "AAPL",
                    "open": price,
                    "high": price,
                    "low": price,
                    "close": price,
                    "volume": 1_000_000,
                }
                for t, price in enumerate(opens)
            ],
            "signals": signals,
        }
    )


def rows(differences: tuple[Difference, ...]) -> list[tuple[str, str, str]]:
    return [(d.subject, d.field, d.category) for d in differences]


def test_race_names_the_third_order_and_cash_check_timing() -> None:
    """The third order: rejected at signal time by the reference, refused at fill by backtrader."""
    comparison = compare(explicit_race())
    assert not comparison.agree
    assert rows(comparison.differences) == [
        ("order 1", "commission", COMMISSION_ROUNDING),
        ("order 1", "cash", CASH_ROUNDING),
        ("order 2", "commission", COMMISSION_ROUNDING),
        ("order 2", "cash", CASH_ROUNDING),
        ("order 3", "outcome", CASH_CHECK_TIMING),
        ("final cash", "cash", CONSEQUENCE),
    ]
    third = comparison.differences[4]
    assert third.order_id == 3
    assert (third.reference, third.other) == ("rejected (INSUFFICIENT_CASH)", "refused at fill")
    assert third.explanation.startswith(
        "backtrader checks cash at execution, not at signal time: the reference engine "
        "rejected signal 2 (BUY 2 AAPL) before any fill (INSUFFICIENT_CASH"
    )
    assert "accepted it as order 3 and refused it" in third.explanation
    assert "Margin: needed 200.16 against cash 96.33" in third.explanation
    commission = comparison.differences[0]
    assert (commission.reference, commission.other) == ("0.81", "0.80")
    final = comparison.differences[5]
    assert (final.reference, final.other) == ("95.59", "95.61")


def test_engines_agree_on_one_plain_buy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One BUY without commission or slippage fills alike: no differences, exit 0."""
    case = one_symbol(
        ["10", "10"], [{"timestamp": 0, "symbol": "AAPL", "side": "BUY", "quantity": 5}]
    )
    comparison = compare(case)
    assert comparison.agree
    assert comparison.differences == ()
    path = write_scenario(case, tmp_path / "plain.json")
    assert main(["diff", str(path), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["agree"] is True
    assert payload["differences"] == []
    for side in ("reference", "backtrader"):
        assert payload[side]["final"]["cash"] == "950.00"
        assert payload[side]["final"]["positions"] == {"AAPL": 5}
        assert payload[side]["orders"][0]["fills"][0]["price"] == "10.0000"


def test_price_protection_is_explained() -> None:
    """A gap up above the limit: the reference does not fill, backtrader's market order does."""
    case = one_symbol(
        ["10", "11"],
        [{"timestamp": 0, "symbol": "AAPL", "side": "BUY", "quantity": 5}],
        fill_at="next_open",
    )
    comparison = compare(case)
    assert rows(comparison.differences) == [
        ("order 1", "outcome", PRICE_PROTECTION),
        ("final cash", "cash", CONSEQUENCE),
        ("position AAPL", "shares", CONSEQUENCE),
    ]
    assert "did not fill order 1 above its limit 10.0000" in comparison.differences[0].explanation
    assert comparison.differences[0].other == "filled: 5 @ 11.0000"


def test_one_bar_example_is_never_processed_by_backtrader(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """On the one-bar Kelly example backtrader leaves every order open; the table says why."""
    assert main(["diff", "--example", "googl-aapl-kelly"]) == 0
    out = capsys.readouterr().out
    assert "reference vs backtrader" in out
    assert out.count(LAST_BAR) == 3
    assert "backtrader never processes an order placed on the last bar" in out
    assert "backtrader: 0 fill(s), final cash 1297.29" in out


def test_unsupported_scenario_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """The random-slippage example cannot run on backtrader: exit 2 naming the field."""
    assert main(["diff", "--example", "googl-aapl"]) == 2
    assert "costs.max_slippage_bps=6" in capsys.readouterr().err
    with pytest.raises(UsageError, match="--against 'reference' is the reference engine"):
        compare(explicit_race(), against="reference")


def test_json_output_has_both_sides(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`--json` prints agree, the differences (with the backtrader value) and both runs."""
    path = write_scenario(explicit_race(), tmp_path / "race.json")
    assert main(["diff", str(path), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert set(payload) == {"agree", "against", "adapted", "differences", "reference", "backtrader"}
    assert (payload["against"], payload["adapted"]) == ("backtrader", False)
    assert payload["agree"] is False
    third = next(d for d in payload["differences"] if d["order_id"] == 3)
    assert third["category"] == CASH_CHECK_TIMING
    assert third["backtrader"] == "refused at fill"
    assert payload["reference"]["ok"] is True
    broken = [v["invariant"] for v in payload["backtrader"]["violations"]]
    assert broken == ["accepted_orders_funded", "legal_lifecycle"]
    assert [o["outcome"] for o in payload["backtrader"]["orders"]] == [
        "filled",
        "filled",
        "refused at fill",
    ]


def test_a_sell_with_no_position_on_the_last_bar_is_long_only_first() -> None:
    """backtrader accepts a SELL of shares it does not hold, on the last bar: the row names
    the root cause (long-only against a SELL beyond the position), the last bar a detail."""
    case = one_symbol(["10"], [{"timestamp": 0, "symbol": "AAPL", "side": "SELL", "quantity": 1}])
    comparison = compare(case)
    assert rows(comparison.differences) == [("order 1", "outcome", LONG_ONLY)]
    why = comparison.differences[0].explanation
    assert why.startswith("the reference engine is long-only and rejected signal 0 (SELL 1 AAPL)")
    assert "a SELL beyond its position (it broke no_oversell)" in why
    assert "never processed" in why
