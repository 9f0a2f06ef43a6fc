"""Fuzz campaigns: Hypothesis workers on every core sharing one example database.

Each worker runs the scenario property in small chunks with its own seeds.
The first chunk of every worker replays the database (so a rerun, or a worker
on another machine sharing a Redis database, starts from every failure found
so far); later chunks only search. A failure is shrunk by Hypothesis, written
atomically to ``out_dir`` as a scenario file named for its first invariant
and content hash, and only then reported. Once an invariant has a recorded
counterexample, new scenarios breaking only known invariants are passed over,
so the search moves on to other bugs; the recorded scenarios themselves keep
failing, so the database never forgets them.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import queue as queue_module
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.database import (
    DirectoryBasedExampleDatabase,
    ExampleDatabase,
)

from invariants import check_scenario
from reference_engine import EngineFactory, Scenario, scenario_to_json, write_scenario

from .engines import resolve_engine
from .errors import UsageError

#: Examples a worker runs between looks at the stop flag and the corpus.
CHUNK_EXAMPLES = 25


def open_database(location: str) -> ExampleDatabase:
    """A Hypothesis example database: ``redis://...`` or a directory path."""
    if location.startswith(("redis://", "rediss://", "unix://")):
        try:
            from hypothesis.extra.redis import RedisExampleDatabase
            from redis import Redis
        except ImportError:
            raise UsageError(
                f"--redis {location!r} needs the redis client: pip install 'cashfuzz[redis]'"
            ) from None
        return RedisExampleDatabase(Redis.from_url(location))
    return DirectoryBasedExampleDatabase(location)


def scenario_hash(scenario: Scenario) -> str:
    """A short content hash: the same scenario always gets the same file name."""
    return hashlib.sha256(scenario_to_json(scenario).encode()).hexdigest()[:10]


def counterexample_path(out_dir: Path, invariant: str, digest: str) -> Path:
    return out_dir / f"{invariant}-{digest}.json"


def recorded_failures(out_dir: Path) -> tuple[frozenset[str], frozenset[str]]:
    """(invariants, hashes) of the counterexamples already in ``out_dir``."""
    invariants, digests = set(), set()
    if out_dir.is_dir():
        for path in out_dir.glob("*-*.json"):
            invariant, _, digest = path.stem.rpartition("-")
            invariants.add(invariant)
            digests.add(digest)
    return frozenset(invariants), frozenset(digests)


@dataclass(frozen=True, slots=True)
class Finding:
    """A shrunk failing scenario and what it broke."""

    scenario: Scenario
    invariants: tuple[str, ...]
    messages: tuple[str, ...]


class _Interesting(AssertionError):
    """Raised inside the property so Hypothesis shrinks and saves the example."""


def search(
    factory: EngineFactory,
    *,
    engine_name: str,
    seed: int,
    max_examples: int,
    database: ExampleDatabase | None,
    known_invariants: frozenset[str] = frozenset(),
    known_hashes: frozenset[str] = frozenset(),
    replay_database: bool = True,
    on_example: Callable[[int], None] | None = None,
    scenario_strategy: Any = None,
) -> Finding | None:
    """Run up to ``max_examples`` scenarios; return the shrunk first new failure, or None."""
    from strategies import scenarios

    strategy = scenario_strategy if scenario_strategy is not None else scenarios()
    failing: list[Finding] = []

    def campaign_property(scenario: Scenario) -> None:
        result = check_scenario(scenario, factory, fail_fast=True)
        if on_example is not None:
            on_example(len(result.events))
        if result.ok:
            return
        names = tuple(v.invariant for v in result.violations) or ("crash",)
        messages = tuple(str(v) for v in result.violations) or (str(result.crash),)
        if set(names) <= known_invariants and scenario_hash(scenario) not in known_hashes:
            return  # a known bug in a new disguise: keep searching for other ones
        failing.append(Finding(scenario, names, messages))
        raise _Interesting(messages[0])

    # one database key per engine: failures of one engine never replay on another
    campaign_property._hypothesis_internal_add_digest = engine_name.encode()  # type: ignore[attr-defined]
    phases = [Phase.explicit, Phase.generate, Phase.target, Phase.shrink]
    if replay_database:
        phases.insert(1, Phase.reuse)
    test = settings(
        database=database,
        max_examples=max_examples,
        deadline=None,
        derandomize=False,
        phases=phases,
        report_multiple_bugs=False,
        print_blob=False,
        suppress_health_check=list(HealthCheck),
    )(given(strategy)(campaign_property))
    test = hypothesis_seed(seed)(test)
    try:
        test()
    except _Interesting:
        # Hypothesis replays the minimal example last
        return failing[-1]
    return None


def record(out_dir: Path, finding: Finding) -> tuple[Path, bool]:
    """Write ``finding`` atomically; returns (path, whether it is new)."""
    digest = scenario_hash(finding.scenario)
    path = counterexample_path(out_dir, finding.invariants[0], digest)
    if path.exists():
        return path, False
    write_scenario(finding.scenario, path)
    return path, True


# --- the multi-process campaign -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CampaignSpec:
    """What to fuzz, for how long, and where its state lives."""

    engine: str
    out_dir: Path
    database: str
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    seconds: float | None = 60.0
    max_examples: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise UsageError(f"--workers {self.workers} must be at least 1")
        if self.seconds is None and self.max_examples is None:
            raise UsageError("a campaign needs --minutes or --examples (or both)")
        if self.seconds is not None and self.seconds <= 0:
            raise UsageError(f"--minutes must be positive, not {self.seconds / 60:g}")
        if self.max_examples is not None and self.max_examples < 1:
            raise UsageError(f"--examples {self.max_examples} must be at least 1")


@dataclass(frozen=True, slots=True)
class FailureReport:
    path: Path
    invariants: tuple[str, ...]
    message: str
    worker: int
    new: bool


@dataclass(slots=True)
class CampaignProgress:
    examples: int = 0
    events: int = 0
    elapsed: float = 0.0
    failures: list[FailureReport] = field(default_factory=list)
    workers_alive: int = 0

    @property
    def distinct_failures(self) -> int:
        return len({f.path for f in self.failures})


def _worker(
    index: int,
    spec: CampaignSpec,
    reports: Any,
    stop: Any,
    examples: Any,
    events: Any,
) -> None:
    factory = resolve_engine(spec.engine)
    database = open_database(spec.database)
    rounds = 0

    def count(event_count: int) -> None:
        with examples.get_lock():
            examples.value += 1
        with events.get_lock():
            events.value += event_count

    while not stop.is_set():
        known_invariants, known_hashes = recorded_failures(spec.out_dir)
        finding = search(
            factory,
            engine_name=spec.engine,
            seed=spec.seed * 1_000_003 + index + rounds * spec.workers,
            max_examples=CHUNK_EXAMPLES,
            database=database,
            known_invariants=known_invariants,
            known_hashes=known_hashes,
            replay_database=rounds == 0,
            on_example=count,
        )
        rounds += 1
        if finding is not None:
            path, new = record(spec.out_dir, finding)
            reports.put(FailureReport(path, finding.invariants, finding.messages[0], index, new))


def run_campaign(
    spec: CampaignSpec,
    on_progress: Callable[[CampaignProgress], None] | None = None,
    *,
    poll_seconds: float = 0.25,
) -> CampaignProgress:
    """Run workers until the time or example budget is spent (or Ctrl-C)."""
    spec.out_dir.mkdir(parents=True, exist_ok=True)
    if not spec.database.startswith(("redis://", "rediss://", "unix://")):
        Path(spec.database).mkdir(parents=True, exist_ok=True)
    open_database(spec.database)  # fail fast on a bad location, before forking
    context = multiprocessing.get_context("spawn")
    reports = context.Queue()
    stop = context.Event()
    examples = context.Value("q", 0)
    events = context.Value("q", 0)
    workers = [
        context.Process(
            target=_worker,
            args=(i, spec, reports, stop, examples, events),
            name=f"cashfuzz-worker-{i}",
            daemon=True,
        )
        for i in range(spec.workers)
    ]
    progress = CampaignProgress()
    started = time.monotonic()
    for worker in workers:
        worker.start()
    try:
        while True:
            _drain(reports, progress)
            progress.examples, progress.events = examples.value, events.value
            progress.elapsed = time.monotonic() - started
            progress.workers_alive = sum(w.is_alive() for w in workers)
            if on_progress is not None:
                on_progress(progress)
            out_of_time = spec.seconds is not None and progress.elapsed >= spec.seconds
            out_of_examples = (
                spec.max_examples is not None and progress.examples >= spec.max_examples
            )
            if out_of_time or out_of_examples or not progress.workers_alive:
                break
            time.sleep(poll_seconds)
    finally:
        stop.set()
        deadline = time.monotonic() + 30
        for worker in workers:
            worker.join(timeout=max(0.1, deadline - time.monotonic()))
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
                worker.join(timeout=5)
        _drain(reports, progress)
        progress.examples, progress.events = examples.value, events.value
        progress.elapsed = time.monotonic() - started
        progress.workers_alive = 0
    return progress


def _drain(reports: Any, progress: CampaignProgress) -> None:
    while True:
        try:
            progress.failures.append(reports.get_nowait())
        except queue_module.Empty:
            return
