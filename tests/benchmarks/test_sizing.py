"""Time per batch of signals: reservation-aware sizing against naive sizing.

One benchmark group per sizer and batch size, so each pair is compared side by
side. Every call hands one batch to each of ``SIGNALS_PER_CALL // batch``
engines that have seen a bar per symbol: no bars, no fills, signals only.
Run with ``pytest tests/benchmarks --benchmark-enable`` (or ``--benchmark-only``).
"""

from __future__ import annotations

from typing import Any

import pytest

from cashfuzz.bench import BATCH_SIZES, BENCH_SIZERS, SizingCase, sizing_case
from cashfuzz.reference_engine import Mode

SIGNALS_PER_CALL = 100
ROUNDS = 50


def _handle(case: SizingCase) -> None:
    signals = case.signals
    for engine in case.engines:
        engine.step(1, (), signals)


@pytest.mark.parametrize("mode", [Mode.RESERVATION, Mode.NAIVE], ids=str)
@pytest.mark.parametrize("batch", BATCH_SIZES)
@pytest.mark.parametrize("sizer", sorted(BENCH_SIZERS))
def test_signal_batch(benchmark: Any, sizer: str, batch: int, mode: Mode) -> None:
    """Handles SIGNALS_PER_CALL signals in batches of `batch`, every one an accepted order."""
    benchmark.group = f"sizing {sizer} batch={batch}"
    benchmark.extra_info["signals_per_call"] = SIGNALS_PER_CALL
    engines = max(1, SIGNALS_PER_CALL // batch)

    def setup() -> tuple[tuple[SizingCase], dict[str, Any]]:
        return (sizing_case(BENCH_SIZERS[sizer], batch, mode, engines),), {}

    case = sizing_case(BENCH_SIZERS[sizer], batch, mode, engines)
    benchmark.pedantic(_handle, setup=setup, rounds=ROUNDS, iterations=1)
    _handle(case)
    assert all(len(engine.ledger.orders) == batch for engine in case.engines)
    assert all(engine.ledger.reserved > 0 for engine in case.engines) is (mode is Mode.RESERVATION)
