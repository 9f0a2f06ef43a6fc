"""Hypothesis strategies for cashfuzz: prices, bars, signals, costs, sizers, scenarios.

Each strategy is valid by construction (no filtering) and shrinks toward the
simplest case: one symbol, one flat bar, few signals. Bounds are keyword-only
and checked up front (``hypothesis.errors.InvalidArgument``).
"""

from ._internal.core import (
    MAX_CASH,
    MAX_PRICE,
    MIN_CASH,
    MIN_PRICE,
    SIZER_KINDS,
    SYMBOL_POOL,
    bar_streams,
    bars,
    cancels,
    cash,
    cost_models,
    order_ids_by_signal,
    participation_caps,
    prices,
    scenarios,
    signal_batches,
    signals,
    sizers,
    strengths,
    volumes,
)

__all__ = [
    "MAX_CASH",
    "MAX_PRICE",
    "MIN_CASH",
    "MIN_PRICE",
    "SIZER_KINDS",
    "SYMBOL_POOL",
    "bar_streams",
    "bars",
    "cancels",
    "cash",
    "cost_models",
    "order_ids_by_signal",
    "participation_caps",
    "prices",
    "scenarios",
    "signal_batches",
    "signals",
    "sizers",
    "strengths",
    "volumes",
]
