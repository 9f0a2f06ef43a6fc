"""Resolve ``--engine`` names to engine factories.

``reference`` and ``naive`` are the reference engine in its two modes;
``backtrader`` is backtrader's broker through ``cashfuzz.adapters.backtrader.adapter``,
``backtesting`` and ``nautilus`` backtesting.py and nautilus_trader through their adapters;
``zoo:NAME`` is a deliberately broken engine from ``cashfuzz.zoo``; and
``package.module:factory`` is any callable ``factory(config, observer)``
returning an object that implements ``reference_engine.EngineUnderTest``.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import re
from typing import cast

from cashfuzz.errors import UsageError
from cashfuzz.reference_engine import (
    Engine,
    EngineConfig,
    EngineFactory,
    EngineUnderTest,
    Mode,
    Observer,
    Scenario,
)


def reference_engine_factory(config: EngineConfig, observer: Observer | None = None) -> Engine:
    """The reference engine in reservation mode, whatever the scenario's mode says."""
    return Engine(dataclasses.replace(config, mode=Mode.RESERVATION), observer)


def naive_engine_factory(config: EngineConfig, observer: Observer | None = None) -> Engine:
    """The reference engine in naive mode: the seed's race, on purpose."""
    return Engine(dataclasses.replace(config, mode=Mode.NAIVE), observer)


def scenario_mode_factory(config: EngineConfig, observer: Observer | None = None) -> Engine:
    """The reference engine in whichever mode the scenario asks for."""
    return Engine(config, observer)


#: ``--engine`` name -> (package it needs, its adapter module with ``<name>_factory``).
_OPTIONAL = {
    "backtesting": ("backtesting", "cashfuzz.adapters.backtesting"),
    "nautilus": ("nautilus_trader", "cashfuzz.adapters.nautilus"),
}


def resolve_engine(name: str | None) -> EngineFactory:
    """The factory for an ``--engine`` value (None: the scenario's own mode)."""
    if name is None:
        return cast(EngineFactory, scenario_mode_factory)
    if name == "reference":
        return cast(EngineFactory, reference_engine_factory)
    if name == "naive":
        return cast(EngineFactory, naive_engine_factory)
    if name == "backtrader":
        if importlib.util.find_spec("backtrader") is None:
            raise UsageError(
                "--engine backtrader needs the backtrader package: "
                "pip install -e '.[bench]' in a cashfuzz checkout"
            )
        from cashfuzz.adapters.backtrader.adapter import backtrader_factory

        return cast(EngineFactory, backtrader_factory)
    if name in _OPTIONAL:
        package, module_name = _OPTIONAL[name]
        if importlib.util.find_spec(package) is None:
            raise UsageError(
                f"--engine {name} needs the {package} package: pip install 'cashfuzz[{name}]' "
                f"(in a checkout: pip install -e '.[{name}]')"
            )
        module = importlib.import_module(module_name)
        return cast(EngineFactory, getattr(module, f"{name}_factory"))
    if name.startswith("zoo:"):
        from cashfuzz.zoo import ZOO

        key = name.removeprefix("zoo:")
        if key not in ZOO:
            raise UsageError(f"--engine {name!r}: no zoo engine {key!r}; known: {', '.join(ZOO)}")
        return ZOO[key].factory
    module_name, sep, attribute = name.partition(":")
    if not sep or not module_name or not attribute:
        raise UsageError(
            f"--engine {name!r} is not reference, naive, zoo:NAME or package.module:factory"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise UsageError(f"--engine {name!r}: cannot import {module_name!r}: {error}") from None
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise UsageError(f"--engine {name!r}: {module_name} has no callable {attribute!r}")
    return cast(EngineFactory, factory)


#: Engines that the scenario's ``mode`` alone selects: their counterexample files
#: carry the mode, so ``cashfuzz run FILE`` replays them without ``--engine``.
MODE_ENGINES: dict[str, Mode] = {"reference": Mode.RESERVATION, "naive": Mode.NAIVE}


def file_safe(engine_name: str) -> str:
    """An engine name as it appears in file names (``zoo:x`` -> ``zoo_x``)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", engine_name).strip("_") or "engine"


def pin_engine_mode(scenario: Scenario, engine_name: str) -> Scenario:
    """``scenario`` with its mode set to select ``engine_name``, when a mode can."""
    mode = MODE_ENGINES.get(engine_name)
    if mode is None or scenario.config.mode is mode:
        return scenario
    return dataclasses.replace(scenario, config=dataclasses.replace(scenario.config, mode=mode))


__all__ = [
    "MODE_ENGINES",
    "EngineUnderTest",
    "file_safe",
    "pin_engine_mode",
    "resolve_engine",
]
