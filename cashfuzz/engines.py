"""Resolve ``--engine`` names to engine factories.

``reference`` and ``naive`` are the reference engine in its two modes;
``backtrader`` is backtrader's broker through ``cashfuzz.adapters.backtrader.adapter``,
``backtesting`` and ``nautilus`` backtesting.py and nautilus_trader through their adapters;
``zoo:NAME`` is a deliberately broken engine from ``cashfuzz.zoo``;
``exec:COMMAND`` is an engine in any language, run as a process per scenario
(``cashfuzz.adapters.exec``, ``docs/engine-protocol.md``); and
``package.module:factory`` (found in the current folder first, as ``python -m``
finds it) or ``path/to/file.py:factory`` is any callable
``factory(config, observer)`` returning an object that implements
``reference_engine.EngineUnderTest``. An engine that cannot be loaded is a
UsageError (exit 2) saying what to change.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import importlib
import importlib.util
import os
import sys
import traceback
from pathlib import Path
from types import BuiltinFunctionType, FunctionType, ModuleType
from typing import cast

from cashfuzz.errors import UsageError
from cashfuzz.invariants import AdapterProtocolError, check_factory
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


#: Every way ``--engine`` can name an engine, for each command's help text.
ENGINE_SPECS = (
    "reference | naive | backtrader | backtesting | nautilus | zoo:NAME | exec:COMMAND "
    "| package.module:factory | path/to/file.py:factory"
)

#: ``--engine`` name -> "package it needs:its adapter module" (which has ``<name>_factory``).
_OPTIONAL = {
    "backtesting": "backtesting:cashfuzz.adapters.backtesting",
    "nautilus": "nautilus_trader:cashfuzz.adapters.nautilus",
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
                "backtrader is not installed: pip install 'cashfuzz[bench]' "
                "(or pip install -e '.[bench]' in a cashfuzz checkout)"
            )
        from cashfuzz.adapters.backtrader.adapter import backtrader_factory

        return cast(EngineFactory, backtrader_factory)
    if name in _OPTIONAL:
        package, _, module_name = _OPTIONAL[name].partition(":")
        if importlib.util.find_spec(package) is None:
            raise UsageError(
                f"--engine {name} needs the {package} package: pip install 'cashfuzz[{name}]' "
                f"(in a checkout: pip install -e '.[{name}]')"
            )
        module = importlib.import_module(module_name)
        return cast(EngineFactory, getattr(module, f"{name}_factory"))
    if name.startswith("exec:"):
        from cashfuzz.adapters.exec import ExecFactory

        return cast(EngineFactory, ExecFactory(name.removeprefix("exec:")))
    if name.startswith("zoo:"):
        from cashfuzz.zoo import ZOO

        key = name.removeprefix("zoo:")
        if key not in ZOO:
            raise UsageError(f"--engine {name!r}: no zoo engine {key!r}; known: {', '.join(ZOO)}")
        return ZOO[key].factory
    module_name, sep, attribute = name.rpartition(":")
    if not sep or not module_name or not attribute:
        raise UsageError(f"--engine {name!r} is not {ENGINE_SPECS.replace(' | ', ', ')}")
    if module_name.endswith(".py") or "/" in module_name or os.sep in module_name:
        module = _load_file(name, module_name)
    else:
        module = _load_module(name, module_name)
    factory = getattr(module, attribute, None)
    if factory is None:
        raise UsageError(
            f"--engine {name!r}: {module_name} has no callable {attribute!r} "
            f"(it defines: {_public_names(module, attribute)})"
        )
    if not callable(factory):
        raise UsageError(
            f"--engine {name!r}: {module_name} has no callable {attribute!r} "
            f"({attribute} is a {type(factory).__name__})"
        )
    try:
        check_factory(factory)
    except AdapterProtocolError as error:
        raise UsageError(f"--engine {name!r}: {error.problem}") from None
    return cast(EngineFactory, factory)


def _load_module(name: str, module_name: str) -> ModuleType:
    # as `python -m` does: modules in the current folder come first
    here = os.getcwd()
    if here not in sys.path and "" not in sys.path:
        sys.path.insert(0, here)
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and module_name.startswith(error.name):
            raise UsageError(
                f"--engine {name!r}: no module {module_name!r} in {here} or on the Python path; "
                "give package.module:factory for an installed or local module, or "
                "path/to/file.py:factory for a file"
            ) from None
        raise UsageError(_import_failed(name, error)) from None
    except Exception as error:  # noqa: BLE001 - the user's module failed while importing
        raise UsageError(_import_failed(name, error)) from None


def _load_file(name: str, given: str) -> ModuleType:
    path = Path(given)
    if not path.is_file():
        what = "is not a file" if path.exists() else "does not exist"
        raise UsageError(f"--engine {name!r}: file {given!r} {what}")
    resolved = path.resolve()
    module_name = "cashfuzz_engine_" + hashlib.sha256(str(resolved).encode()).hexdigest()[:12]
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, resolved)
    if spec is None or spec.loader is None:
        raise UsageError(f"--engine {name!r}: {given!r} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    # the file's own folder first, as when it is run as a script, for its sibling imports
    folder = str(resolved.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # noqa: BLE001 - the user's file failed while importing
        del sys.modules[module_name]
        raise UsageError(_import_failed(name, error)) from None
    return module


def _import_failed(name: str, error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    own = [f for f in frames if "importlib" not in f.filename]
    where = f" at {own[-1].filename}:{own[-1].lineno}" if own else ""
    return (
        f"--engine {name!r}: importing it raised {type(error).__name__}: {error}{where}; "
        "fix the module so that it imports"
    )


def _defined_in(value: object, module_name: str) -> bool:
    """Whether a module's callable is its own: a function or class defined there, or an
    instance made there (``Factory(MyEngine)``: its class's module is the kit's)."""
    if isinstance(value, type | FunctionType | BuiltinFunctionType):
        return getattr(value, "__module__", None) == module_name
    return True


def _public_names(module: ModuleType, wanted: str = "") -> str:
    """The module's public callables, its own before those it imports, at most 12 named."""
    callables = {n: v for n, v in vars(module).items() if not n.startswith("_") and callable(v)}
    own = sorted(n for n, v in callables.items() if _defined_in(v, module.__name__))
    names = own + sorted(set(callables) - set(own))
    listed = ", ".join(names[:12]) or "no callables"
    if len(names) > 12:
        listed += f", and {len(names) - 12} more"
    close = difflib.get_close_matches(wanted, names, n=1)
    return f"{listed}; did you mean {close[0]!r}?" if close else listed


#: Engines that the scenario's ``mode`` alone selects: their counterexample files
#: carry the mode, so ``cashfuzz run FILE`` replays them without ``--engine``.
MODE_ENGINES: dict[str, Mode] = {"reference": Mode.RESERVATION, "naive": Mode.NAIVE}


def pin_engine_mode(scenario: Scenario, engine_name: str) -> Scenario:
    """``scenario`` with its mode set to select ``engine_name``, when a mode can."""
    mode = MODE_ENGINES.get(engine_name)
    if mode is None or scenario.config.mode is mode:
        return scenario
    return dataclasses.replace(scenario, config=dataclasses.replace(scenario.config, mode=mode))


__all__ = [
    "MODE_ENGINES",
    "EngineUnderTest",
    "pin_engine_mode",
    "resolve_engine",
]
