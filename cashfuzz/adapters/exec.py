"""``--engine exec:COMMAND``: an engine in any language, run as a process per scenario.

The process reads the scenario file (JSON) on stdin and writes its event tape,
JSON lines, on stdout: a ``hello`` line, one ``event`` line per event with the
books after it, and an ``end`` line (``docs/engine-protocol.md``). ``begin``
runs it once over the whole scenario, reads the tape (``exec_tape``), and each
``step`` then hands the observer that step's events, so the monitor checks the
engine exactly as it checks a step-by-step one.

What the outcomes mean:

* a tape that breaks the protocol, and an ``error`` line with code
  ``unsupported`` or ``bad_input``: ``TapeError`` / ``ScenarioError``, exit 2;
* a process that exits non-zero, is killed, says ``internal`` in an error line, or
  outlives the timeout (``CASHFUZZ_EXEC_TIMEOUT`` seconds, default 30): a crash,
  reported with the tail of its stderr after the events it did write were
  checked, so a finding (exit 1);
* stderr is free text for people: kept only for crash messages, never parsed.

A command that cannot be started, or whose handshake (a run over a one-bar
scenario, at resolution) fails, is a UsageError.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import shlex
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from cashfuzz.adapters.exec_tape import (
    EngineErrorLine,
    Entry,
    Hello,
    TapeError,
    TapeReader,
    parse_line,
    read_end,
    read_error,
    read_hello,
    short,
)
from cashfuzz.errors import UsageError
from cashfuzz.invariants import AdapterProtocolError
from cashfuzz.reference_engine import (
    Bar,
    Cancel,
    EngineConfig,
    Event,
    FillAt,
    LedgerSnapshot,
    Observer,
    Policy,
    Scenario,
    ScenarioError,
    Signal,
    TimeInForce,
    Timestamp,
    scenario_to_json,
    write_scenario,
)
from cashfuzz.reference_engine.money import MILLIONTHS_PER_BP, format_fraction

TIMEOUT_VARIABLE = "CASHFUZZ_EXEC_TIMEOUT"
#: Generous: a loaded CI machine runs a process many times slower than an idle one, and a
#: timeout is reported as a finding.
DEFAULT_TIMEOUT = 30.0
_START_ATTEMPTS = 3
_TRANSIENT = frozenset({errno.EAGAIN, errno.ENOMEM, errno.EINTR})
#: How much of a crashed process's stderr a finding quotes.
STDERR_TAIL = 2_000


class EngineCrashed(RuntimeError):
    """The engine process failed mid-run: a finding, reported with its stderr tail."""


def timeout_from_environment() -> float:
    """``CASHFUZZ_EXEC_TIMEOUT`` in seconds (default 30); raise UsageError when not positive."""
    raw = os.environ.get(TIMEOUT_VARIABLE)
    if raw is None or not raw.strip():
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise UsageError(f"{TIMEOUT_VARIABLE}={raw!r} must be a positive number of seconds")
    return value


# --- one run of the process ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one process run produced, unread: stdout split in lines, stderr, how it ended."""

    lines: tuple[bytes, ...]
    stderr: bytes
    returncode: int | None  # None: killed by us at the timeout
    seconds: float


def run_process(argv: Sequence[str], stdin: bytes, timeout: float) -> Outcome:
    """Run ``argv`` with ``stdin``; kill its whole process group at ``timeout``.

    Raises UsageError when the command cannot be started."""
    started = time.monotonic()
    environment = {**os.environ, "CASHFUZZ_PROTOCOL": "1"}
    process: subprocess.Popen[bytes] | None = None
    for attempt in range(_START_ATTEMPTS):
        try:
            process = subprocess.Popen(
                list(argv),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=environment,
                start_new_session=True,  # a process group, so a hang is killed with its children
            )
            break
        except OSError as error:
            # a machine out of processes or memory for a moment is not the engine's fault
            if error.errno in _TRANSIENT and attempt + 1 < _START_ATTEMPTS:
                time.sleep(0.2 * (attempt + 1))
                continue
            raise UsageError(
                f"--engine exec:{shlex.join(argv)}: cannot start {argv[0]!r}: {error.strerror}"
            ) from None
    assert process is not None
    try:
        stdout, stderr = process.communicate(stdin, timeout=timeout)
        returncode: int | None = process.returncode
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        returncode = None
    lines = tuple(line for line in stdout.split(b"\n"))
    if lines and lines[-1] == b"":
        lines = lines[:-1]
    return Outcome(lines, stderr, returncode, time.monotonic() - started)


def _stderr_tail(stderr: bytes) -> str:
    text = stderr.decode("utf-8", errors="replace").rstrip()
    if not text:
        return "(its stderr was empty)"
    if len(text) > STDERR_TAIL:
        text = "..." + text[-STDERR_TAIL:]
    return "its stderr ends:\n" + text


@dataclass(frozen=True, slots=True)
class Tape:
    """A read tape: the hello line and every event, checked."""

    hello: Hello
    entries: tuple[Entry, ...]


def read_tape(
    outcome: Outcome, scenario: Scenario, timeout: float
) -> tuple[Tape | None, str | None]:
    """(the tape, None) for a clean run; (what was read, why it is a crash) for a crash.

    Raises TapeError for a tape that breaks the protocol and ScenarioError for an
    ``error`` line saying the engine cannot run the scenario."""
    clean = outcome.returncode == 0
    hello: Hello | None = None
    reader: TapeReader | None = None
    entries: list[Entry] = []
    ended = False
    error_line: EngineErrorLine | None = None
    broken: str | None = None
    for number, raw in enumerate(outcome.lines, start=1):
        try:
            if ended or error_line is not None:
                last = "end" if ended else "error"
                text = short(raw.decode("utf-8", "replace"))
                raise TapeError(number, f"a line after the {last} line: {text}")
            body = parse_line(number, raw)
            if hello is None:
                hello = read_hello(number, body)
                reader = TapeReader(scenario, hello)
                continue
            kind = body["kind"]
            if kind == "event":
                assert reader is not None
                entries.append(reader.read(number, body))
            elif kind == "end":
                read_end(number, body, len(entries))
                ended = True
            elif kind == "error":
                error_line = read_error(number, body)
            elif kind == "hello":
                raise TapeError(number, "a second hello line")
            else:
                raise TapeError(
                    number, f"kind={short(kind)} is not one of hello, event, end, error"
                )
        except TapeError as error:
            if clean:
                raise
            # the process died: what it wrote before is checked, its last words are not
            broken = f"; {error}" if number < len(outcome.lines) else ""
            break
    if error_line is not None and error_line.code != "internal":
        raise ScenarioError(
            f"the engine cannot run this scenario ({error_line.code}, tape line "
            f"{error_line.line}): {error_line.message}"
        )
    crash: str | None = None
    if outcome.returncode is None:
        crash = f"the engine did not finish within {timeout:g} s ({TIMEOUT_VARIABLE})"
    elif outcome.returncode != 0:
        how = (
            f"was killed by signal {-outcome.returncode}"
            if outcome.returncode < 0
            else f"exited with status {outcome.returncode}"
        )
        crash = f"the engine process {how}"
    elif error_line is not None:
        crash = f"the engine reported an internal error (tape line {error_line.line})"
    if crash is not None:
        said = f": {error_line.message}" if error_line is not None and error_line.message else ""
        tail = _stderr_tail(outcome.stderr)
        message = f"{crash}{said} after {len(entries)} event(s){broken or ''}; {tail}"
        return (None if hello is None else Tape(hello, tuple(entries))), message
    if hello is None:
        raise TapeError(
            0, "the engine wrote nothing on stdout: its first line must be a hello line"
        )
    if not ended:
        raise TapeError(
            len(outcome.lines),
            f"the tape stops after {len(entries)} event(s) without an end line "
            f'({{"kind": "end", "events": {len(entries)}}})',
        )
    return Tape(hello, tuple(entries)), None


def _saved_input(scenario: Scenario, factory: ExecFactory) -> str:
    """Where the scenario behind a bad tape was saved, and how to replay it. One file per
    cashfuzz process, overwritten: the gate's last call is the smallest example it found."""
    path = Path(tempfile.gettempdir()) / f"cashfuzz-exec-tape-error-{os.getpid()}.json"
    write_scenario(scenario, path)
    replay = shlex.join(["cashfuzz", "run", str(path), "--engine", f"exec:{factory.command}"])
    return f" (the engine's input is saved in {path}; replay: {replay})"


# --- what an engine may declare unsupported --------------------------------------------------


def unsupported_by(hello: Hello, scenario: Scenario) -> str | None:
    """Why an engine with ``hello`` cannot run ``scenario`` (naming the field), or None."""
    config = scenario.config
    costs = config.costs
    missing = set(hello.unsupported)
    slippage = format_fraction(Fraction(costs.max_slippage, MILLIONTHS_PER_BP))
    cap = config.max_participation
    checks = (
        (
            "random_slippage",
            costs.random_slippage and costs.max_slippage > 0,
            f"costs.max_slippage_bps={slippage}",
        ),
        (
            "partial_fills",
            cap is not None,
            f"max_participation={'null' if cap is None else format_fraction(cap)} (a volume cap)",
        ),
        ("same_close", config.fill_at is FillAt.SAME_CLOSE, "fill_at=same_close"),
        ("reject_policy", config.policy is Policy.REJECT, "policy=reject"),
        ("commission_min", costs.commission_min > 0, "costs.commission_min"),
        (
            "gtc",
            any(s.time_in_force is TimeInForce.GTC for s in scenario.signals),
            "a signal's time_in_force=GTC",
        ),
        ("cancels", bool(scenario.cancels), "cancels"),
    )
    for feature, used, where in checks:
        if feature in missing and used:
            return f"{where}: the engine declares {feature!r} unsupported in its hello line"
    return None


def adapt_for(hello: Hello, scenario: Scenario) -> Scenario:
    """The nearest scenario an engine with ``hello`` can run (unchanged when it can run it)."""
    missing = set(hello.unsupported)
    if not missing or unsupported_by(hello, scenario) is None:
        return scenario
    config = scenario.config
    costs = config.costs
    if "random_slippage" in missing and costs.random_slippage:
        costs = dataclasses.replace(costs, random_slippage=False)
    if "commission_min" in missing:
        costs = dataclasses.replace(costs, commission_min=0)
    changes: dict[str, object] = {"costs": costs}
    if "partial_fills" in missing:
        changes["max_participation"] = None
    if "same_close" in missing:
        changes["fill_at"] = FillAt.NEXT_OPEN
    if "reject_policy" in missing:
        changes["policy"] = Policy.SHRINK
    signals = scenario.signals
    if "gtc" in missing:
        signals = tuple(s._replace(time_in_force=TimeInForce.DAY) for s in signals)
    return Scenario(
        config=dataclasses.replace(config, **changes),  # type: ignore[arg-type]
        bars=scenario.bars,
        signals=signals,
        cancels=() if "cancels" in missing else scenario.cancels,
        description=scenario.description,
    )


def engine_input(scenario: Scenario) -> bytes:
    """What the engine reads on stdin: the scenario file, without the finder's record
    (``provenance``), so its input is the same however the scenario was found."""
    if scenario.provenance is not None:
        scenario = dataclasses.replace(scenario, provenance=None)
    return scenario_to_json(scenario).encode()


def _handshake_scenario() -> Scenario:
    return Scenario(
        config=EngineConfig(initial_cash=100_000),
        bars=(Bar(0, "CASHFUZZ", 10_000, 10_000, 10_000, 10_000, 100),),
    )


# --- the engine and its factory -----------------------------------------------------------------


class ExecEngine:
    """One scenario on an exec engine, behind ``EngineUnderTest``; see the module docstring."""

    def __init__(
        self, factory: ExecFactory, config: EngineConfig, observer: Observer | None = None
    ) -> None:
        self._factory = factory
        self.config = config
        self.observer = observer
        hello = factory.hello
        self.reserves_cash = hello.reserves_cash
        self.reports_equity = hello.reports_equity
        self.events: list[Event] = []
        cash = config.initial_cash
        self._snapshot = LedgerSnapshot(cash, cash, 0, cash * 100, (), (), ())
        self._entries: tuple[Entry, ...] | None = None
        self._next = 0
        self._step = 0
        self._crash: str | None = None
        self._crash_step = 0

    def begin(self, scenario: Scenario) -> None:
        """Run the process over the whole scenario and read its tape; nothing is observed
        yet. Raises ScenarioError (TapeError) for an unsupported scenario or a bad tape."""
        factory = self._factory
        problem = unsupported_by(factory.hello, scenario)
        if problem is not None:
            raise ScenarioError(problem)
        outcome = run_process(factory.argv, engine_input(scenario), factory.timeout)
        try:
            tape, crash = read_tape(outcome, scenario, factory.timeout)
            if tape is not None and tape.hello != factory.hello:
                raise TapeError(
                    1,
                    f"the hello line differs from the handshake's: {tape.hello} vs {factory.hello}",
                )
        except TapeError as error:
            raise TapeError(error.line, error.detail + _saved_input(scenario, factory)) from None
        self._entries = () if tape is None else tape.entries
        self._crash = crash
        # the crash surfaces in the step of the last event written (its events checked first)
        self._crash_step = self._entries[-1].step if self._entries else 0

    def step(
        self,
        timestamp: Timestamp,
        bars: Sequence[Bar] = (),
        signals: Sequence[Signal] = (),
        cancels: Sequence[Cancel] = (),
    ) -> None:
        """Hand the observer this step's events from the tape. Raises EngineCrashed
        where the process died, and RuntimeError when ``begin`` was not called."""
        if self._entries is None:
            raise RuntimeError(
                "an exec engine runs the whole scenario at once: call begin(scenario) before "
                "step() (run_scenario and check_scenario do)"
            )
        entries = self._entries
        index = self._next
        while index < len(entries) and entries[index].step == self._step:
            entry = entries[index]
            index += 1
            self._next = index
            self.events.append(entry.event)
            self._snapshot = entry.after
            if self.observer is not None:
                self.observer(entry.event, entry.after)
        if self._crash is not None and self._step >= self._crash_step:
            raise EngineCrashed(self._crash)
        self._step += 1

    def snapshot(self) -> LedgerSnapshot:
        """The books after the last event handed out (the opening books before any)."""
        return self._snapshot


class ExecFactory:
    """``exec:COMMAND`` as an engine factory; the handshake ran at construction.

    Declares ``unsupported`` and ``adapt_scenario`` from the engine's hello line.
    Raises UsageError for an empty command, one that cannot start, or a failed handshake.
    """

    def __init__(self, command: str, *, timeout: float | None = None) -> None:
        try:
            argv = shlex.split(command)
        except ValueError as error:
            raise UsageError(
                f"--engine exec:{command}: cannot split the command: {error}"
            ) from None
        if not argv:
            raise UsageError("--engine exec:COMMAND needs a command, e.g. exec:'node engine.js'")
        self.command = command
        self.argv = tuple(argv)
        self.timeout = timeout_from_environment() if timeout is None else timeout
        self.hello = self._handshake()

    def _handshake(self) -> Hello:
        scenario = _handshake_scenario()
        outcome = run_process(self.argv, engine_input(scenario), self.timeout)
        try:
            tape, crash = read_tape(outcome, scenario, self.timeout)
        except (ScenarioError, AdapterProtocolError) as error:
            raise UsageError(
                f"--engine exec:{self.command}: its handshake run failed: {error}"
            ) from None
        if crash is not None or tape is None:
            raise UsageError(f"--engine exec:{self.command}: its handshake run failed: {crash}")
        return tape.hello

    def unsupported(self, scenario: Scenario) -> str | None:
        """Why the engine cannot run ``scenario``, by its hello line, or None."""
        return unsupported_by(self.hello, scenario)

    def adapt_scenario(self, scenario: Scenario) -> Scenario:
        """The nearest scenario the engine can run, by its hello line."""
        return adapt_for(self.hello, scenario)

    def __call__(self, config: EngineConfig, observer: Observer | None = None) -> ExecEngine:
        return ExecEngine(self, config, observer)

    def __repr__(self) -> str:
        return f"exec_factory({self.command!r})"


__all__ = [
    "DEFAULT_TIMEOUT",
    "TIMEOUT_VARIABLE",
    "EngineCrashed",
    "ExecEngine",
    "ExecFactory",
    "Outcome",
    "Tape",
    "adapt_for",
    "engine_input",
    "read_tape",
    "run_process",
    "timeout_from_environment",
    "unsupported_by",
]
