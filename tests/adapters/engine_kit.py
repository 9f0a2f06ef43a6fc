"""Helpers for adapter tests: optional engines and small scenarios."""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import pytest

from cashfuzz.reference_engine import Scenario, scenario_from_dict


def require_engine(package: str) -> None:
    """Skip the calling module when ``package`` is absent, unless CASHFUZZ_REQUIRE_ENGINES
    is set (as in CI, which installs the ``engines`` extra): then its absence fails."""
    if importlib.util.find_spec(package) is not None:
        return
    if os.environ.get("CASHFUZZ_REQUIRE_ENGINES"):
        pytest.fail(
            f"CASHFUZZ_REQUIRE_ENGINES is set but {package} is not installed: "
            "pip install -e '.[engines]'",
            pytrace=False,
        )
    hint = f"{package} is not installed (pip install -e '.[engines]')"
    pytest.skip(hint, allow_module_level=True)


def scenario(
    bars: list[tuple[int, str, str, str, int]],
    signals: list[dict[str, Any]] = (),  # type: ignore[assignment]
    cancels: list[dict[str, Any]] | None = None,
    **settings: Any,
) -> Scenario:
    """A scenario from (timestamp, symbol, open, close, volume) bars."""
    raw: dict[str, Any] = {
        "initial_cash": "1000",
        "fill_at": "same_close",
        "max_participation": None,
        **settings,
        "bars": [
            {
                "timestamp": ts,
                "symbol": symbol,
                "open": open_,
                "high": max(open_, close, key=float),
                "low": min(open_, close, key=float),
                "close": close,
                "volume": volume,
            }
            for ts, symbol, open_, close, volume in bars
        ],
        "signals": list(signals),
        "cancels": cancels or [],
    }
    return scenario_from_dict(raw)


def kinds(events: Any) -> list[str]:
    """The event type names of a log."""
    return [type(event).__name__ for event in events]


def broken(violations: Any) -> list[tuple[str, int]]:
    """(invariant, event index) of each violation."""
    return [(v.invariant, v.event_index) for v in violations]
