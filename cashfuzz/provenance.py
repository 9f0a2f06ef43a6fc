"""What found a counterexample, recorded in its file, and which engine replays it.

Every scenario file that ``gate``, ``fuzz``, HypoFuzz or ``soak`` writes carries a
``provenance`` object: the engine spec, the invariants the file breaks, the seed
(where there is one), how it was found, the cashfuzz, Hypothesis and Python
versions, the replay command and, for a crash, the traceback. ``run FILE`` and
``replay DIR`` replay on the recorded engine unless ``--engine`` overrides it.

A scenario file is untrusted input: a recorded built-in engine (``reference``,
``naive``, ``zoo:NAME``, the bundled adapters) is used as it is, but code named
by the file (``module:factory``, ``path.py:factory``, ``exec:COMMAND``) is never
loaded on the file's word alone.
"""

from __future__ import annotations

import hashlib
import platform
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cashfuzz.engines import resolve_engine
from cashfuzz.errors import UsageError
from cashfuzz.reference_engine import EngineFactory, Scenario

#: Engines that ship with cashfuzz: a file may name them and be replayed on them.
BUILT_IN_ENGINES = frozenset({"reference", "naive", "backtrader", "nautilus", "backtesting"})
#: The flag that lets a file's recorded ``module:factory`` be imported.
TRUST_FLAG = "--trust-recorded-engine"
#: How many characters of an engine spec a file name keeps before its hash.
NAME_CHARS = 40


def is_built_in(spec: str) -> bool:
    """True for an engine that ships with cashfuzz (no user code is loaded to run it)."""
    return spec in BUILT_IN_ENGINES or spec.startswith("zoo:")


def engine_file_part(spec: str) -> str:
    """An engine spec as a short, unique, file-safe name part.

    Built-in names read as themselves (``zoo:x`` -> ``zoo_x``); any other spec keeps
    at most NAME_CHARS safe characters plus 8 hex digits of its SHA-256, so two specs
    never share a name (``odd.eng:f`` and ``odd_eng:f`` differ) and no spec, however
    long or odd, makes a file name too long.
    """
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", spec).strip("_") or "engine"
    if is_built_in(spec) and len(safe) <= NAME_CHARS:
        return safe
    digest = hashlib.sha256(spec.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{safe[:NAME_CHARS]}-{digest}"


def replay_command(engine: str, path: Path) -> str:
    """The shell command that replays ``path`` on ``engine``.

    A built-in engine is read from the file itself; any other is named, as a file's
    word alone never loads code.
    """
    command = f"cashfuzz run {shlex.quote(str(path))}"
    if is_built_in(engine):
        return command
    return f"{command} --engine {shlex.quote(engine)}"


def record(
    *,
    found_by: str,
    engine: str,
    invariants: Iterable[str],
    path: Path,
    seed: int | None = None,
    traceback: str | None = None,
) -> dict[str, Any]:
    """The provenance object written into a counterexample file."""
    from hypothesis import __version__ as hypothesis_version

    from cashfuzz import __version__

    out: dict[str, Any] = {
        "found_by": found_by,
        "engine": engine,
        "invariants": sorted(set(invariants)),
        "seed": seed,
        "cashfuzz": __version__,
        "hypothesis": hypothesis_version,
        "python": platform.python_version(),
        "replay": replay_command(engine, path),
    }
    if traceback:
        out["traceback"] = traceback
    return out


def recorded_engine(scenario: Scenario) -> str | None:
    """The engine spec the file records, or None for a plain scenario."""
    provenance = scenario.provenance
    if not isinstance(provenance, Mapping):
        return None
    engine = provenance.get("engine")
    return engine if isinstance(engine, str) and engine else None


def recorded_invariants(scenario: Scenario) -> tuple[str, ...]:
    """The invariants the file records as broken (empty for a plain scenario)."""
    provenance = scenario.provenance
    if not isinstance(provenance, Mapping):
        return ()
    names = provenance.get("invariants")
    if not isinstance(names, list):
        return ()
    return tuple(name for name in names if isinstance(name, str))


@dataclass(frozen=True, slots=True)
class EngineChoice:
    """The engine a scenario runs on, and why that one.

    ``spec`` is None for the reference engine in the scenario's own mode."""

    spec: str | None
    factory: EngineFactory
    source: str

    @property
    def label(self) -> str:
        """How the run names its engine: the spec, or the reference engine and mode."""
        return self.spec if self.spec is not None else "reference, in the scenario's mode"


def choose_engine(
    scenario: Scenario, override: str | None, *, trust_recorded: bool = False, where: str = ""
) -> EngineChoice:
    """``--engine`` when given, else the engine the file records, else the scenario's mode.

    Raises UsageError when the recorded engine cannot be loaded, or when it is the
    user's own code and ``trust_recorded`` is not set.
    """
    if override is not None:
        return EngineChoice(override, resolve_engine(override), "--engine")
    recorded = recorded_engine(scenario)
    if recorded is None:
        return EngineChoice(None, resolve_engine(None), "the scenario's mode")
    label = f"{where}: " if where else ""
    if not is_built_in(recorded) and not trust_recorded:
        raise UsageError(
            f"{label}this counterexample was found on engine {recorded!r} (recorded in the file); "
            "cashfuzz never loads code because a file names it: rerun with "
            f"--engine {shlex.quote(recorded)}, or add {TRUST_FLAG} if you trust the file"
        )
    try:
        factory = resolve_engine(recorded)
    except UsageError as error:
        raise UsageError(
            f"{label}the engine recorded in the file, {recorded!r}, cannot be loaded ({error}); "
            "install it, or name another with --engine"
        ) from None
    return EngineChoice(recorded, factory, "recorded in the file")


__all__ = [
    "BUILT_IN_ENGINES",
    "TRUST_FLAG",
    "EngineChoice",
    "choose_engine",
    "engine_file_part",
    "is_built_in",
    "record",
    "recorded_engine",
    "recorded_invariants",
    "replay_command",
]
