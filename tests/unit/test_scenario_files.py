"""scenario.py: validation messages, the dict/JSON round trip, pandas and CSV bars,
and atomic writes."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cashfuzz.examples import EXAMPLES, load_example
from cashfuzz.reference_engine import (
    Bar,
    CancelIgnored,
    FillAt,
    Kelly,
    Mode,
    Policy,
    Reason,
    ScenarioError,
    Side,
    TimeInForce,
    bars_from_csv,
    bars_from_dataframe,
    load_scenario,
    run_scenario,
    scenario_from_dict,
    scenario_from_json,
    scenario_to_dict,
    scenario_to_json,
    scenario_with_bars,
    write_scenario,
)
from cashfuzz.reference_engine import scenario as scenario_module

BASE: dict[str, Any] = {
    "initial_cash": "1000.00",
    "bars": [
        {
            "timestamp": 1,
            "symbol": "A",
            "open": "100.00",
            "high": "101.00",
            "low": "99.00",
            "close": "100.50",
            "volume": 1000,
        },
        {
            "timestamp": 2,
            "symbol": "A",
            "open": "100.20",
            "high": "100.90",
            "low": "99.50",
            "close": "100.10",
            "volume": 1000,
        },
    ],
    "signals": [{"timestamp": 1, "symbol": "A", "side": "BUY", "quantity": 3}],
    "cancels": [{"timestamp": 2, "order_id": 1}],
}

_DELETE = object()


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """BASE with the item at ``path`` set to ``value`` (or deleted)."""
    raw = copy.deepcopy(BASE)
    target: Any = raw
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return raw


def test_base_scenario_is_valid() -> None:
    """The scenario the error cases start from loads, with the documented defaults."""
    scenario = scenario_from_dict(BASE)
    config = scenario.config
    assert config.initial_cash == 100_000
    assert (config.mode, config.fill_at, config.policy) == (
        Mode.RESERVATION,
        FillAt.NEXT_OPEN,
        Policy.SHRINK,
    )
    assert (config.max_participation, config.seed) == (Fraction(1), 0)
    assert scenario.bars[0] == Bar(1, "A", 1_000_000, 1_010_000, 990_000, 1_005_000, 1000)
    assert scenario.signals[0].time_in_force is TimeInForce.DAY


_BAD: list[tuple[tuple[Any, ...], Any, tuple[str, ...]]] = [
    # unknown keys, top level and nested
    (("colour",), "red", ("unknown key 'colour'", "initial_cash")),
    (("costs",), {"commision_rate": "0.001"}, ("costs", "'commision_rate'", "commission_rate")),
    (("bars", 0, "vol"), 5, ("bars[0]", "'vol'")),
    (("signals", 0, "qty"), 5, ("signals[0]", "'qty'")),
    (("cancels", 0, "id"), 1, ("cancels[0]", "'id'")),
    (("sizer",), {"kind": "kelly", "fraction": "1", "edge": "2"}, ("sizer (kelly)", "'edge'")),
    # prices
    (("bars", 0, "open"), "NaN", ("bars[0].open='NaN'", "finite")),
    (("bars", 0, "close"), "Infinity", ("bars[0].close='Infinity'",)),
    (("bars", 0, "low"), "-1", ("bars[0].low='-1'", "positive")),
    (("bars", 0, "close"), "0", ("bars[0].close='0'", "positive")),
    (("bars", 0, "high"), "98.00", ("bars[0].high='98.00'", "below", "bars[0].low='99.00'")),
    (("bars", 0, "open"), "101.50", ("bars[0].open='101.50'", "outside low..high")),
    (("bars", 1, "close"), "99.00", ("bars[1].close='99.00'", "outside low..high")),
    (("bars", 0, "volume"), -5, ("bars[0].volume=-5", "negative")),
    (("bars", 0, "close"), _DELETE, ("bars[0].close is missing",)),
    (("bars", 1, "timestamp"), 1, ("bars[1]", "second bar", "symbol='A'")),
    (("bars",), _DELETE, ("bars is required",)),
    # quantities and strengths
    (("signals", 0, "quantity"), 0, ("signals[0].quantity=0", "positive integer")),
    (("signals", 0, "quantity"), -2, ("signals[0].quantity=-2",)),
    (("signals", 0, "quantity"), 1.5, ("signals[0].quantity=1.5",)),
    (("signals", 0, "quantity"), "3", ("signals[0].quantity='3'",)),
    (("signals", 0, "quantity"), True, ("signals[0].quantity=True",)),
    (("signals", 0, "strength"), "1.5", ("signals[0].strength='1.5'", "0..1")),
    (("signals", 0, "strength"), "NaN", ("signals[0].strength='NaN'",)),
    # unknown symbols
    (("signals", 0, "symbol"), "MSFT", ("signals[0].symbol='MSFT'", "no bars", "A")),
    # enums
    (("mode",), "fast", ("mode='fast'", "reservation | naive")),
    (("fill_at",), "open", ("fill_at='open'", "next_open | same_close")),
    (("policy",), "drop", ("policy='drop'", "shrink | reject")),
    (("signals", 0, "side"), "LONG", ("signals[0].side='LONG'", "BUY | SELL")),
    (("signals", 0, "time_in_force"), "IOC", ("signals[0].time_in_force='IOC'", "DAY | GTC")),
    (("sizer",), {"kind": "martingale"}, ("sizer.kind='martingale'", "kelly")),
    # cancels and timestamps
    (("cancels", 0, "order_id"), 0, ("cancels[0].order_id=0",)),
    (
        ("signals", 0, "timestamp"),
        "2025-01-01T00:00:00",
        ("signals[0].timestamp='2025-01-01T00:00:00'", "bars[0].timestamp=1"),
    ),
    (("bars", 0, "timestamp"), "yesterday", ("bars[0].timestamp='yesterday'", "ISO-8601")),
    # top-level numbers
    (("initial_cash",), "abc", ("initial_cash='abc'",)),
    (("initial_cash",), "-5", ("initial_cash='-5'", "negative")),
    (("initial_cash",), _DELETE, ("initial_cash is required",)),
    (("seed",), "x", ("seed='x'", "integer")),
    (("max_participation",), "1.5", ("max_participation='1.5'", "(0, 1]")),
    (("max_participation",), "0", ("max_participation='0'",)),
    (("costs",), {"commission_rate": "1"}, ("costs.commission_rate='1'", "[0, 1)")),
    (("costs",), {"commission_min": "-1"}, ("costs.commission_min='-1'",)),
    (("costs",), {"max_slippage_bps": "6000"}, ("costs.max_slippage_bps='6000'",)),
    (
        ("costs",),
        {"slippage_bps": "1", "max_slippage_bps": "2"},
        ("slippage_bps", "max_slippage_bps", "not both"),
    ),
    (("sizer",), {"kind": "kelly", "fraction": "0"}, ("sizer.fraction='0'", "(0, 1]")),
    (("sizer",), {"kind": "fixed_shares", "shares": 0}, ("sizer.shares=0",)),
    (("sizer",), {"kind": "fixed_amount", "amount": "-10"}, ("sizer.amount='-10'",)),
]


@pytest.mark.parametrize(("path", "value", "words"), _BAD)
def test_invalid_scenarios_raise_scenario_error_naming_key_and_value(
    path: tuple[Any, ...], value: Any, words: tuple[str, ...]
) -> None:
    """Each invalid key or value raises ScenarioError whose message names the key and the value."""
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(_with(path, value))
    message = str(caught.value)
    for word in words:
        assert word in message, message


def test_a_cancel_of_an_id_no_signal_issues_loads_and_is_logged_as_ignored() -> None:
    """A cancel naming an id above the signal count is valid input; the engine ignores it."""
    loaded = scenario_from_dict(_with(("cancels", 0, "order_id"), 7))
    assert [c.order_id for c in loaded.cancels] == [7]
    ignored = [e for e in run_scenario(loaded).events if isinstance(e, CancelIgnored)]
    assert [(e.order_id, e.reason) for e in ignored] == [(7, Reason.UNKNOWN_ORDER)]


def test_json_nan_literal_is_refused_with_the_key() -> None:
    """A bare NaN number in the JSON text is refused, naming bars[0].open."""
    text = json.dumps(BASE).replace('"open": "100.00"', '"open": NaN', 1)
    with pytest.raises(ScenarioError, match=r"bars\[0\]\.open=nan"):
        scenario_from_json(text)


@pytest.mark.parametrize("text", ["{", '{"initial_cash": "1.00",}', "[1, 2", ""])
def test_malformed_json_is_a_scenario_error_with_its_position(text: str) -> None:
    """Malformed JSON raises ScenarioError saying where it broke."""
    with pytest.raises(ScenarioError, match="malformed JSON at line 1 column"):
        scenario_from_json(text, source="bad.json")


def test_a_scenario_must_be_an_object() -> None:
    """A JSON array is not a scenario."""
    with pytest.raises(ScenarioError, match="JSON object, not list"):
        scenario_from_json("[]")


def test_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    """Loading a file that does not exist names the file."""
    with pytest.raises(ScenarioError, match=r"missing\.json"):
        load_scenario(tmp_path / "missing.json")


# --- round trip --------------------------------------------------------------------------

RICH: dict[str, Any] = {
    "description": "every knob turned",
    "initial_cash": "1297.29",
    "mode": "naive",
    "fill_at": "same_close",
    "policy": "reject",
    "max_participation": "0.25",
    "seed": 42,
    "costs": {"commission_rate": "0.0015", "commission_min": "0.35", "max_slippage_bps": "7.5"},
    "sizer": {"kind": "kelly", "fraction": "0.5", "payoff": "1.5"},
    "bars": [
        {
            "timestamp": "2025-10-28T15:30:00",
            "symbol": sym,
            "open": "99.9",
            "high": "100.1",
            "low": "99.8",
            "close": "99.98",
            "volume": 1000,
        }
        for sym in ("GOOGL", "AAPL")
    ]
    + [
        {
            "timestamp": "2025-10-29T15:30:00",
            "symbol": "AAPL",
            "open": "100.00005",
            "high": "101",
            "low": "99",
            "close": "100",
            "volume": "12.9",
        }
    ],
    "signals": [
        {"timestamp": "2025-10-28T15:30:00", "symbol": "GOOGL", "side": "BUY", "strength": "0.78"},
        {
            "timestamp": "2025-10-28T15:30:00",
            "symbol": "AAPL",
            "side": "BUY",
            "quantity": 4,
            "time_in_force": "GTC",
        },
        {"timestamp": "2025-10-29T15:30:00", "symbol": "AAPL", "side": "SELL"},
    ],
    "cancels": [{"timestamp": "2025-10-29T15:30:00", "order_id": 2}],
}


@pytest.mark.parametrize(
    "raw",
    [
        RICH,
        BASE,
        {**BASE, "max_participation": None, "sizer": {"kind": "fixed_shares", "shares": 5}},
        {
            **BASE,
            "costs": {"slippage_bps": "5"},
            "sizer": {"kind": "fixed_amount", "amount": "250"},
        },
        {**BASE, "sizer": {"kind": "percent_equity", "fraction": "0.3"}},
    ],
)
def test_to_dict_then_from_dict_is_the_same_scenario(raw: dict[str, Any]) -> None:
    """scenario_to_dict -> scenario_from_dict gives the same scenario, and the dict is stable."""
    scenario = scenario_from_dict(raw)
    written = scenario_to_dict(scenario)
    again = scenario_from_dict(written)
    assert again == scenario
    assert scenario_to_dict(again) == written
    assert scenario_from_json(scenario_to_json(scenario)) == scenario


def test_round_trip_keeps_exact_values() -> None:
    """The rich scenario comes back exact: cents, ticks (half-even), fractions, strengths."""
    scenario = scenario_from_dict(scenario_to_dict(scenario_from_dict(RICH)))
    config = scenario.config
    assert config.initial_cash == 129_729
    assert (config.mode, config.fill_at, config.policy) == (
        Mode.NAIVE,
        FillAt.SAME_CLOSE,
        Policy.REJECT,
    )
    assert (config.max_participation, config.seed) == (Fraction(1, 4), 42)
    assert config.costs.commission_rate == Fraction(15, 10_000)
    assert (config.costs.commission_min, config.costs.max_slippage) == (35, 750)
    assert config.costs.random_slippage
    assert config.sizer == Kelly(Fraction(1, 2), Fraction(3, 2))
    # 100.00005 is half a tick: half-even keeps 100.0000; volume 12.9 rounds down
    assert scenario.bars[-1] == Bar(
        "2025-10-29T15:30:00", "AAPL", 1_000_000, 1_010_000, 990_000, 1_000_000, 12
    )
    assert scenario.signals[0].strength == Decimal("0.78")
    assert scenario.signals[1].time_in_force is TimeInForce.GTC
    assert scenario.signals[2].side is Side.SELL
    assert scenario.description == "every knob turned"


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_built_in_examples_round_trip(name: str) -> None:
    """Each built-in example survives scenario_to_dict -> scenario_from_dict unchanged."""
    scenario = load_example(name)
    assert scenario_from_dict(scenario_to_dict(scenario)) == scenario


def test_steps_group_by_timestamp_in_time_order_keeping_file_order() -> None:
    """Steps come in time order (not file order); signals keep file order within a step."""
    raw = copy.deepcopy(BASE)
    raw["bars"].reverse()
    raw["signals"] = [
        {"timestamp": 2, "symbol": "A", "side": "SELL"},
        {"timestamp": 1, "symbol": "A", "side": "BUY", "quantity": 1},
        {"timestamp": 1, "symbol": "A", "side": "BUY", "quantity": 2},
    ]
    steps = scenario_from_dict(raw).steps()
    assert [s.timestamp for s in steps] == [1, 2]
    assert [s.quantity for s in steps[0].signals] == [1, 2]
    assert [c.order_id for c in steps[1].cancels] == [1]


# --- pandas and CSV ------------------------------------------------------------------------

_ROWS = [
    ("2025-10-28T15:30:00", "GOOGL", 99.9, 100.1, 99.8, 99.98, 1_000_000),
    ("2025-10-28T15:30:00", "AAPL", 99.95, 100.05, 99.85, 99.98, 1_000_000),
    ("2025-10-29T15:30:00", "AAPL", 100.0, 100.2, 99.5, 100.1, 2_500),
]
_COLUMNS = ["timestamp", "symbol", "open", "high", "low", "close", "volume"]
_EXPECTED = (
    Bar("2025-10-28T15:30:00", "GOOGL", 999_000, 1_001_000, 998_000, 999_800, 1_000_000),
    Bar("2025-10-28T15:30:00", "AAPL", 999_500, 1_000_500, 998_500, 999_800, 1_000_000),
    Bar("2025-10-29T15:30:00", "AAPL", 1_000_000, 1_002_000, 995_000, 1_001_000, 2_500),
)
_RAW = {"initial_cash": "1297.29", "signals": [], "cancels": []}


def _frame() -> pd.DataFrame:
    frame = pd.DataFrame(_ROWS, columns=_COLUMNS)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    return frame


def _write_csv(path: Path) -> None:
    lines = [",".join(_COLUMNS)] + [",".join(str(v) for v in row) for row in _ROWS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_long_format_dataframe_loads_as_bars() -> None:
    """A long-format DataFrame with float prices and datetime timestamps loads as exact bars."""
    assert scenario_with_bars(_RAW, _frame()).bars == _EXPECTED


def test_dataframe_with_a_timestamp_index_loads_the_same_bars() -> None:
    """A DataFrame indexed by timestamp loads the same bars as one with a timestamp column."""
    frame = _frame().set_index("timestamp")
    assert scenario_with_bars(_RAW, frame).bars == _EXPECTED


def test_csv_bars_relative_to_the_scenario_load_the_same_bars(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scenario whose bars name a CSV file beside it loads the same bars as the DataFrame,
    whatever the working directory."""
    folder = tmp_path / "scenarios"
    (folder / "data").mkdir(parents=True)
    _write_csv(folder / "data" / "bars.csv")
    (folder / "s.json").write_text(json.dumps({**_RAW, "bars": "data/bars.csv"}), encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    from_csv = load_scenario(folder / "s.json")
    assert from_csv.bars == _EXPECTED
    assert from_csv.bars == scenario_with_bars(_RAW, _frame()).bars


def test_csv_with_integer_timestamps_keeps_them_integers(tmp_path: Path) -> None:
    """Integer timestamps in a CSV file load as ints, not strings."""
    path = tmp_path / "bars.csv"
    path.write_text(
        "timestamp,symbol,open,high,low,close,volume\n3,A,1,2,1,2,10\n", encoding="utf-8"
    )
    (row,) = bars_from_csv(path)
    assert row["timestamp"] == 3
    assert isinstance(row["timestamp"], int)


def test_missing_csv_file_is_a_scenario_error(tmp_path: Path) -> None:
    """A bars CSV path that does not exist raises ScenarioError naming the path."""
    (tmp_path / "s.json").write_text(json.dumps({**_RAW, "bars": "nope.csv"}), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"nope\.csv"):
        load_scenario(tmp_path / "s.json")


def test_dataframe_missing_a_column_is_refused() -> None:
    """A DataFrame without a volume column raises ScenarioError naming the column."""
    with pytest.raises(ScenarioError, match="missing column 'volume'"):
        bars_from_dataframe(_frame().drop(columns=["volume"]))


def test_dataframe_without_timestamps_is_refused() -> None:
    """A DataFrame with neither a timestamp column nor a timestamp or datetime index is refused,
    not given its row numbers as timestamps."""
    with pytest.raises(ScenarioError, match="missing column 'timestamp'"):
        bars_from_dataframe(_frame().drop(columns=["timestamp"]))


def test_dataframe_with_a_nan_price_is_refused() -> None:
    """A NaN close in row 1 raises ScenarioError naming bars[1].close."""
    frame = _frame()
    frame.loc[1, "close"] = float("nan")
    with pytest.raises(ScenarioError, match=r"bars\[1\]\.close=nan"):
        bars_from_dataframe(frame)


# --- writing -------------------------------------------------------------------------------


def test_write_scenario_creates_folders_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    """write_scenario creates missing folders, writes the file that loads back, and nothing else."""
    scenario = scenario_from_dict(RICH)
    path = write_scenario(scenario, tmp_path / "out" / "case.json")
    assert path == tmp_path / "out" / "case.json"
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["case.json"]
    assert load_scenario(path) == scenario


def test_write_scenario_that_fails_keeps_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the final rename fails, the old file is untouched and the temporary file is removed."""
    path = tmp_path / "case.json"
    write_scenario(scenario_from_dict(BASE), path)
    before = path.read_bytes()

    def refuse(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(scenario_module.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_scenario(scenario_from_dict(RICH), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["case.json"]


def test_write_scenario_replaces_an_existing_file(tmp_path: Path) -> None:
    """Writing over an existing scenario replaces it whole."""
    path = tmp_path / "case.json"
    write_scenario(scenario_from_dict(RICH), path)
    write_scenario(scenario_from_dict(BASE), path)
    assert load_scenario(path) == scenario_from_dict(BASE)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.json"]
