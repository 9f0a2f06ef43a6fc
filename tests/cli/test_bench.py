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
    for key in ("stateful", "gate"):
        assert isinstance(result[key]["examples_per_second"], float), key
        assert isinstance(result[key]["examples"], int), key
    assert isinstance(result["soak_vs_gate"], float)
    assert result["soak_vs_gate"] == result["soak"]["soak_vs_gate"]
    assert len(result["soak"]["ratios"]) == result["soak"]["rounds"]
    for key in ("gate_scenarios_per_cpu_second", "soak_scenarios_per_cpu_second"):
        assert isinstance(result["soak"][key], float), key
    machine = result["machine"]
    assert isinstance(machine["python"], str)
    assert isinstance(machine["platform"], str)
    assert machine["cpu_count"] is None or isinstance(machine["cpu_count"], int)
