"""``cashfuzz bench --json``: the object's keys and types (never its values)."""

from __future__ import annotations

import json

import pytest

from cashfuzz.bench import BATCH_SIZES, BENCH_SIZERS
from cashfuzz.cli import main

NUMBER = (int, float)


def test_bench_quick_json_has_every_figure_with_its_type(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`bench --quick --json` at the hidden test size prints one object of typed figures."""
    assert main(["bench", "--quick", "--json", "--tiny"]) == 0
    result = json.loads(capsys.readouterr().out)

    assert isinstance(result["sizer_overhead_ratio"], float)
    ratio, reason = result["engine_vs_backtrader"], result["engine_vs_backtrader_reason"]
    assert (isinstance(ratio, float) and reason is None) or (
        ratio is None and isinstance(reason, str)
    )
    rows = result["sizing"]
    assert {(row["sizer"], row["batch"]) for row in rows} == {
        (sizer, batch) for sizer in BENCH_SIZERS for batch in BATCH_SIZES
    }
    for row in rows:
        for key in ("reservation_ns_per_signal", "naive_ns_per_signal", "ratio"):
            assert isinstance(row[key], NUMBER), (key, row)
    assert [row["symbols"] for row in result["throughput"]] == [1, 10, 100]
    assert all(isinstance(row["symbol_bars_per_second"], float) for row in result["throughput"])
    versus = result["versus_backtrader"]
    for key in ("reference_symbol_bars_per_second", "backtrader_symbol_bars_per_second"):
        assert versus[key] is None if ratio is None else isinstance(versus[key], float)
    assert isinstance(result["stateful"]["examples_per_second"], float)
    assert isinstance(result["stateful"]["examples"], int)
    assert isinstance(result["gate"]["examples_per_cpu_second"], float)
    assert isinstance(result["gate"]["examples"], int)
    for key in ("gate_vs_hypothesis_floor", "monitor_growth_exponent"):
        assert isinstance(result[key], float), key
    assert result["gate_floor"]["floor_cpu_ms_per_example"] > 0
    growth = result["monitor_growth"]
    assert growth["large_events"] > growth["small_events"] > 0
    single, why = result["engine_vs_backtesting"], result["engine_vs_backtesting_reason"]
    assert (isinstance(single, float) and why is None) or (single is None and isinstance(why, str))
    if single is not None:
        # the same orders fill in both engines
        backtesting = result["versus_backtesting"]
        assert backtesting["reference_fills"] == backtesting["backtesting_fills"] > 0
    assert result["extra_ratios"] == sorted(set(result["extra_ratios"]))
    for name in result["extra_ratios"]:
        assert result[name] is None or isinstance(result[name], float), name
    assert len(result["load_average"]) == 3
    assert isinstance(result["soak_vs_gate"], float)
    assert result["soak_vs_gate"] == result["soak"]["soak_vs_gate"]
    assert len(result["soak"]["ratios"]) == result["soak"]["rounds"]
    for key in ("gate_scenarios_per_cpu_second", "soak_scenarios_per_cpu_second"):
        assert isinstance(result["soak"][key], float), key
    machine = result["machine"]
    assert isinstance(machine["python"], str)
    assert isinstance(machine["platform"], str)
    assert machine["cpu_count"] is None or isinstance(machine["cpu_count"], int)


def test_an_extra_ratio_is_reported_under_its_own_key(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ratio registered by another tier (as the soak tier does) becomes a top-level key."""
    from cashfuzz import bench

    monkeypatch.setattr(bench, "EXTRA_RATIOS", {})
    bench.register_ratio("soak_vs_gate", lambda settings: 2.5)
    with pytest.raises(ValueError, match="already registered"):
        bench.register_ratio("soak_vs_gate", lambda settings: 1.0)
    assert main(["bench", "--quick", "--json", "--tiny"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["soak_vs_gate"] == 2.5
    assert result["extra_ratios"] == ["soak_vs_gate"]
