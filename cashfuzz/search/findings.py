"""Where findings go: output folders checked before a search, counterexamples saved
atomically (or printed in full when they cannot be), and a corpus re-verified.

Nothing found is lost: a counterexample that cannot be written is printed whole on
stderr, with the reason, before the search reports it.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from cashfuzz.errors import UsageError
from cashfuzz.invariants import CheckResult, check_scenario
from cashfuzz.provenance import recorded_engine
from cashfuzz.reference_engine import (
    EngineFactory,
    Scenario,
    ScenarioError,
    load_scenario,
    scenario_to_json,
    write_scenario,
)

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def check_out_dir(out_dir: Path, option: str = "--out") -> Path:
    """``out_dir`` when counterexamples can be written there (created if missing).

    Checked before any search. Raises UsageError naming the path and what is wrong."""
    out_dir = Path(out_dir)
    shown = repr(str(out_dir))
    if out_dir.is_symlink() and not out_dir.exists():
        raise UsageError(f"{option}={shown} is a symlink to nothing; name a folder")
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{option}={shown} is a file, not a folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / f".cashfuzz-write-probe-{time.monotonic_ns()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise UsageError(f"{option}={shown} cannot be written: {error.strerror or error}") from None
    return out_dir


def check_database_location(location: str) -> None:
    """A directory database must be a writable folder (created if missing); a Redis URL
    is checked when it is opened. Raises UsageError."""
    if location.startswith(REDIS_SCHEMES):
        return
    check_out_dir(Path(location), "--db")


def save_counterexample(scenario: Scenario, path: Path) -> bool:
    """Write ``scenario`` to ``path`` atomically; True when it is on disk.

    When the write fails, the whole scenario is printed on stderr with the reason, so
    the finding survives, and False is returned."""
    try:
        write_scenario(scenario, path)
    except OSError as error:
        sys.stderr.write(
            f"cashfuzz: could not write the counterexample to {path} "
            f"({error.strerror or error}); here it is in full:\n{scenario_to_json(scenario)}"
        )
        return False
    return True


def broken_invariants(result: CheckResult) -> tuple[str, ...]:
    """The invariants ``result`` broke, in order, once each; ``crash`` when the engine raised."""
    names = [violation.invariant for violation in result.violations]
    if result.crash is not None:
        names.append("crash")
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True, slots=True)
class CorpusEntry:
    """A counterexample file that records an engine and still fails on it."""

    path: Path
    invariants: tuple[str, ...]
    message: str


class Corpus:
    """The counterexample files in a folder that still fail on one engine.

    A file counts only by its content: it must load, record this engine in its
    provenance, and break an invariant when re-checked here; a file name proves
    nothing. Each file is re-checked once per (size, mtime)."""

    def __init__(self, out_dir: Path, engine_name: str, factory: EngineFactory) -> None:
        self.out_dir = Path(out_dir)
        self.engine_name = engine_name
        self.factory = factory
        self._seen: dict[Path, tuple[tuple[int, int], CorpusEntry | None]] = {}

    def entries(self) -> list[CorpusEntry]:
        """Every file of this engine that still fails, in name order."""
        found: list[CorpusEntry] = []
        for path in sorted(self.out_dir.glob("*.json")):
            if path.name.startswith("."):
                continue
            try:
                stat = path.stat()
            except OSError:
                continue
            key = (stat.st_size, stat.st_mtime_ns)
            cached = self._seen.get(path)
            if cached is None or cached[0] != key:
                cached = (key, self._verify(path))
                self._seen[path] = cached
            if cached[1] is not None:
                found.append(cached[1])
        return found

    def invariants(self) -> frozenset[str]:
        """The invariants this engine breaks in files of the folder, as verified here."""
        return frozenset(name for entry in self.entries() for name in entry.invariants)

    def _verify(self, path: Path) -> CorpusEntry | None:
        try:
            scenario = load_scenario(path)
        except ScenarioError:
            return None
        if recorded_engine(scenario) != self.engine_name:
            return None
        result = check_scenario(scenario, self.factory, fail_fast=False, determinism=False)
        if result.ok:
            return None
        names = broken_invariants(result)
        message = str(result.violations[0]) if result.violations else str(result.crash)
        return CorpusEntry(path, names, message)


__all__ = [
    "Corpus",
    "CorpusEntry",
    "broken_invariants",
    "check_database_location",
    "check_out_dir",
    "save_counterexample",
]
