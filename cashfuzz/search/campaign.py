"""Fuzz campaigns: Hypothesis workers on every core sharing one example database.

A worker first replays the database, read-only, one saved failure after
another, so a rerun, or a worker on another machine sharing a Redis database,
starts from every failure found so far. Then it searches in small chunks with
fresh randomness. A failure is shrunk by Hypothesis, written atomically to
``out_dir`` as a scenario file named for its first invariant and content
hash, and only then reported. Once an invariant has a recorded
counterexample, scenarios breaking only known invariants are passed over, so
the search moves on to other bugs.
"""

from __future__ import annotations

import dataclasses
import functools
import multiprocessing
import os
import queue as queue_module
import time
import traceback
import types
import unittest
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.database import (
    DirectoryBasedExampleDatabase,
    ExampleDatabase,
    ReadOnlyDatabase,
)

# the database key Hypothesis gives a test; no public API names it
from hypothesis.internal.reflection import function_digest

from cashfuzz import provenance
from cashfuzz.engines import pin_engine_mode, resolve_engine
from cashfuzz.errors import Unusable, UsageError
from cashfuzz.invariants import AdapterProtocolError
from cashfuzz.reference_engine import EngineFactory, Scenario, scenario_digest
from cashfuzz.search.findings import (
    REDIS_SCHEMES,
    Corpus,
    check_database_location,
    check_out_dir,
    save_counterexample,
)
from cashfuzz.search.unusable import checked

#: Examples a worker runs between looks at the stop flag and the corpus.
CHUNK_EXAMPLES = 25


def open_database(location: str) -> ExampleDatabase:
    """A Hypothesis example database: ``redis://...`` or a directory path."""
    if location.startswith(REDIS_SCHEMES):
        try:
            from hypothesis.extra.redis import RedisExampleDatabase
            from redis import Redis
        except ImportError:
            raise UsageError(
                f"--redis {location!r} needs the redis client: "
                "pip install -e '.[redis]' in a cashfuzz checkout"
            ) from None
        return RedisExampleDatabase(Redis.from_url(location))
    return DirectoryBasedExampleDatabase(location)


def scenario_hash(scenario: Scenario) -> str:
    """A short content hash: the same scenario always gets the same file name."""
    return scenario_digest(scenario)[:10]


def counterexample_path(out_dir: Path, engine_name: str, invariant: str, digest: str) -> Path:
    """``<engine>.<invariant>-<hash>.json``: one folder can hold several engines' findings;
    the engine part is short and unique per spec (``provenance.engine_file_part``)."""
    return out_dir / f"{provenance.engine_file_part(engine_name)}.{invariant}-{digest}.json"


@dataclass(frozen=True, slots=True)
class Finding:
    """A shrunk failing scenario and what it broke."""

    scenario: Scenario
    invariants: tuple[str, ...]
    messages: tuple[str, ...]


class _Interesting(AssertionError):
    """Raised inside the property so Hypothesis shrinks and saves the example."""


@functools.cache
def _interesting(invariant: str) -> type[_Interesting]:
    """One exception type per invariant: Hypothesis keeps one shrunk example per
    distinct failure origin in its primary corpus, so each invariant keeps its own."""
    return type(f"Broke_{invariant}", (_Interesting,), {})


_current_check: Callable[[Scenario], None] | None = None


def campaign_property(scenario: Scenario) -> None:
    """The campaign's property. Hypothesis keys its database by this function's
    source, so it stays this small and stable: what it checks is set per search
    in ``_current_check``, and databases survive changes to that code."""
    assert _current_check is not None
    _current_check(scenario)


def search(
    factory: EngineFactory,
    *,
    engine_name: str,
    max_examples: int,
    database: ExampleDatabase | None,
    seed: int = 0,
    known_invariants: frozenset[str] = frozenset(),
    replay_only: bool = False,
    skip_hashes: frozenset[str] = frozenset(),
    on_example: Callable[[int], None] | None = None,
) -> Finding | None:
    """Search up to ``max_examples`` scenarios; return the shrunk first failure that
    breaks an invariant not in ``known_invariants``, or None. Without a database
    the search is seeded by ``seed`` (same seed, same result); with one it draws
    fresh randomness, as Hypothesis switches the database off for seeded tests.

    With ``replay_only`` nothing is generated: the saved failures in ``database``
    are replayed (read-only, so none is forgotten) and the first one whose hash is
    not in ``skip_hashes`` is returned.
    """
    from cashfuzz.adapters import scenarios_for

    failing: list[Finding] = []

    def check(scenario: Scenario) -> None:
        result = checked(scenario, factory, fail_fast=True)
        if on_example is not None:
            on_example(len(result.events))
        if result.ok:
            return
        names = tuple(v.invariant for v in result.violations) or ("crash",)
        if replay_only:
            if scenario_hash(scenario) in skip_hashes:
                return
        elif set(names) <= known_invariants:
            return  # a known bug in a new disguise: keep searching for other ones
        messages = tuple(str(v) for v in result.violations) or (str(result.crash),)
        failing.append(Finding(scenario, names, messages))
        raise _interesting(names[0])(messages[0])

    if replay_only:
        phases = [Phase.reuse]
        database = None if database is None else ReadOnlyDatabase(database)
    else:
        phases = [Phase.explicit, Phase.generate, Phase.target, Phase.shrink]
    test = settings(
        database=database,
        max_examples=max_examples,
        deadline=None,
        derandomize=False,
        phases=phases,
        report_multiple_bugs=False,
        print_blob=False,
        suppress_health_check=list(HealthCheck),
    )(given(scenarios_for(factory))(_keyed_property(engine_name)))
    if database is None:
        # @seed switches the database off, so only a database-less search is seeded;
        # a campaign's workers draw fresh randomness and share what they find instead
        test = hypothesis_seed(seed)(test)
    global _current_check
    _current_check = check
    try:
        test()
    except Unusable as stop:
        raise stop.error from None
    except _Interesting:
        # Hypothesis replays the minimal example last
        return failing[-1]
    except unittest.SkipTest:
        return None  # replay only, and the database holds nothing for this engine
    finally:
        _current_check = None
    return None


def _keyed_property(engine_name: str) -> Callable[[Scenario], None]:
    """A copy of ``campaign_property`` with its own database key per engine,
    so failures of one engine never replay on another."""
    keyed = types.FunctionType(
        campaign_property.__code__,
        campaign_property.__globals__,
        campaign_property.__name__,
    )
    keyed.__module__ = campaign_property.__module__
    keyed.__qualname__ = campaign_property.__qualname__
    keyed.__annotations__ = dict(campaign_property.__annotations__)
    keyed._hypothesis_internal_add_digest = engine_name.encode()  # type: ignore[attr-defined]
    return keyed


def replay_database(
    factory: EngineFactory,
    *,
    engine_name: str,
    database: ExampleDatabase,
    on_example: Callable[[int], None] | None = None,
) -> Iterator[Finding]:
    """Yield, one by one, the failures saved in ``database`` for this engine that still
    fail: its primary corpus, one shrunk example per invariant, not the intermediate
    examples Hypothesis keeps beside them."""
    primary = sum(1 for _ in database.fetch(function_digest(_keyed_property(engine_name))))
    seen: set[str] = set()
    while primary and len(seen) < primary:
        finding = search(
            factory,
            engine_name=engine_name,
            # Hypothesis tops a replay up from the secondary corpus when max_examples
            # exceeds the primary corpus, and stops after max_examples passing replays
            max_examples=primary,
            database=database,
            replay_only=True,
            skip_hashes=frozenset(seen),
            on_example=on_example,
        )
        if finding is None:
            return
        seen.add(scenario_hash(finding.scenario))
        yield finding


def record(
    out_dir: Path, finding: Finding, engine_name: str, *, found_by: str = "fuzz"
) -> tuple[Path, bool]:
    """Write ``finding`` atomically with its provenance, the engine's mode pinned when the
    mode alone selects the engine; returns (path, is new). A file that cannot be written
    is printed in full on stderr instead (``save_counterexample``)."""
    scenario = pin_engine_mode(finding.scenario, engine_name)
    digest = scenario_hash(finding.scenario)
    path = counterexample_path(out_dir, engine_name, finding.invariants[0], digest)
    if path.exists():
        return path, False
    described = dataclasses.replace(
        scenario,
        description=f"Found by cashfuzz {found_by} --engine {engine_name}: {finding.messages[0]}",
        provenance=provenance.record(
            found_by=found_by, engine=engine_name, invariants=finding.invariants, path=path
        ),
    )
    return path, save_counterexample(described, path)


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
    #: "database" when replayed from the example database, "search" when found anew
    source: str


@dataclass(frozen=True, slots=True)
class WorkerError:
    worker: int
    message: str
    #: the engine broke the engine protocol: the user's adapter must change (exit 2)
    usage: bool = False


@dataclass(slots=True)
class CampaignProgress:
    examples: int = 0
    events: int = 0
    elapsed: float = 0.0
    failures: list[FailureReport] = field(default_factory=list)
    #: workers that died of an error in cashfuzz or Hypothesis, not of a finding
    errors: list[WorkerError] = field(default_factory=list)
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
    try:
        _work(index, spec, reports, stop, examples, events)
    except KeyboardInterrupt:
        return  # Ctrl-C reaches the whole process group: the main process reports the run
    except Exception as error:  # reported to the main process, then re-raised
        detail = "".join(traceback.format_exception_only(error)).strip()
        reports.put(WorkerError(index, detail, usage=isinstance(error, AdapterProtocolError)))
        raise


def _work(
    index: int,
    spec: CampaignSpec,
    reports: Any,
    stop: Any,
    examples: Any,
    events: Any,
) -> None:
    factory = resolve_engine(spec.engine)
    database = open_database(spec.database)

    def count(event_count: int) -> None:
        with examples.get_lock():
            examples.value += 1
        with events.get_lock():
            events.value += event_count

    def report(finding: Finding, source: str) -> None:
        path, new = record(spec.out_dir, finding, spec.engine)
        reports.put(
            FailureReport(path, finding.invariants, finding.messages[0], index, new, source)
        )

    for saved in replay_database(
        factory, engine_name=spec.engine, database=database, on_example=count
    ):
        report(saved, "database")
    corpus = Corpus(spec.out_dir, spec.engine, factory)
    parent = multiprocessing.parent_process()
    # a worker outlives a killed campaign only until its next chunk
    while not stop.is_set() and (parent is None or parent.is_alive()):
        # known: what the files say, checked again here, never what their names say
        known_invariants = corpus.invariants()
        chunk = CHUNK_EXAMPLES
        if spec.max_examples is not None:
            chunk = max(1, min(chunk, (spec.max_examples - examples.value) // spec.workers))
        finding = search(
            factory,
            engine_name=spec.engine,
            max_examples=chunk,
            database=database,
            known_invariants=known_invariants,
            on_example=count,
        )
        if finding is not None:
            report(finding, "search")


def run_campaign(
    spec: CampaignSpec,
    on_progress: Callable[[CampaignProgress], None] | None = None,
    *,
    poll_seconds: float = 0.25,
) -> CampaignProgress:
    """Run workers until the time or example budget is spent (or Ctrl-C).

    Counterexample files already in ``out_dir`` that record this engine and still fail
    on it are reported first (source ``"out folder"``): a campaign never passes while
    its own folder holds a live counterexample."""
    check_out_dir(spec.out_dir)
    check_database_location(spec.database)
    open_database(spec.database)  # fail fast on a bad location, before forking
    progress = CampaignProgress()
    for entry in Corpus(spec.out_dir, spec.engine, resolve_engine(spec.engine)).entries():
        progress.failures.append(
            FailureReport(entry.path, entry.invariants, entry.message, -1, False, "out folder")
        )
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
    ended: set[int] = set()
    started = time.monotonic()
    for worker in workers:
        worker.start()
    try:
        while True:
            _drain(reports, progress)
            progress.examples, progress.events = examples.value, events.value
            progress.elapsed = time.monotonic() - started
            progress.workers_alive = sum(w.is_alive() for w in workers)
            for index, worker in enumerate(workers):
                if not worker.is_alive() and index not in ended:
                    ended.add(index)
                    # a worker only ends on its own when something killed it
                    _drain(reports, progress)
                    if not any(e.worker == index for e in progress.errors):
                        progress.errors.append(
                            WorkerError(index, f"exited early with status {worker.exitcode}")
                        )
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
            report = reports.get_nowait()
        except queue_module.Empty:
            return
        if isinstance(report, WorkerError):
            progress.errors.append(report)
        else:
            progress.failures.append(report)
