"""A gate run as a JUnit XML report, the format CI systems display as test results.

One testcase per invariant checked: a failure for each that broke or that a written
counterexample file breaks (its message, the counterexample file and the replay
command), a ``crash`` testcase when the
engine raised (with its traceback), skipped for invariants that do not apply to
the engine or were not checked (``--only``), and an error on every testcase when a
time limit stopped the search before its budget (that run proved nothing). All text
is escaped so the file stays valid XML whatever a scenario or an engine put in its
messages.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Collection
from pathlib import Path

from cashfuzz.invariants import ALL_INVARIANTS
from cashfuzz.invariants.monitor import declared_by
from cashfuzz.output.safe import visible
from cashfuzz.reference_engine import write_atomic
from cashfuzz.search.gate import CRASH, Counterexample, GateResult


def _message(found: Counterexample, invariant: str) -> str:
    result = found.recorded.result
    for violation in result.violations:
        if violation.invariant == invariant:
            return str(violation)
    return result.crash or f"{invariant} broke"


def junit_xml(result: GateResult, *, applicable: Collection[str] = ALL_INVARIANTS) -> bytes:
    """The JUnit XML document for ``result``; invariants not in ``applicable`` are skipped."""
    classname = visible(f"cashfuzz.gate.{result.engine_name}")
    found = {item.invariant: item for item in result.counterexamples}
    # an invariant a written file breaks though it never broke first fails too (the file
    # shows it), unless --only left it out of the search: that one says so and is skipped
    also = {name: item for item in result.counterexamples for name in item.broken}
    searched = ALL_INVARIANTS if result.only is None else result.only
    for name, holder in also.items():
        if name in searched:
            found.setdefault(name, holder)
    names = list(ALL_INVARIANTS)
    if CRASH in found or CRASH in result.invariants_hit:
        names.append(CRASH)
    suite = ET.Element(
        "testsuite",
        name=visible(f"cashfuzz gate --engine {result.engine_name} --seed {result.seed}"),
        tests=str(len(names)),
        time=f"{result.elapsed_seconds:.3f}",
    )
    properties = ET.SubElement(suite, "properties")
    for key, value in (
        ("engine", result.engine_name),
        ("seed", str(result.seed)),
        ("examples_run", str(result.examples_run)),
        ("examples_generated", str(result.examples_generated)),
        ("shrink_checks", str(result.shrink_checks)),
        ("max_examples", str(result.max_examples)),
        ("only", "" if result.only is None else ",".join(result.only)),
    ):
        ET.SubElement(properties, "property", name=key, value=visible(value))
    failures = errors = skipped = 0
    for name in names:
        case = ET.SubElement(suite, "testcase", classname=classname, name=name)
        item = found.get(name)
        if item is not None or name in result.invariants_hit:
            failures += 1
            failure = ET.SubElement(case, "failure", type="InvariantViolation")
            if item is None:
                failure.set("message", f"{name} broke (its counterexample is another's file)")
                continue
            failure.set("message", visible(_message(item, name)))
            lines = [
                _message(item, name),
                f"counterexample: {item.path}"
                + ("" if item.invariant == name else f" (shrunk for {item.invariant})"),
                f"replay: {item.replay_command}",
            ]
            if item.recorded.result.traceback:
                lines += ["", item.recorded.result.traceback]
            failure.text = visible("\n".join(lines), keep_newlines=True)
        elif name not in result.checked_invariants and name != CRASH:
            skipped += 1
            message = (
                f"not applicable: the engine declares {declared_by(name)}"
                if name in result.not_applicable
                else f"not checked: the gate ran with --only {' '.join(result.only or ())}"
            )
            if name in also:
                message += f"; the counterexample file for {also[name].invariant} breaks it too"
            ET.SubElement(case, "skipped", message=visible(message))
        elif result.incomplete:
            errors += 1
            ET.SubElement(
                case,
                "error",
                type="Incomplete",
                message=(
                    f"the time limit stopped the search after {result.examples_generated} of "
                    f"{result.max_examples} examples: nothing proven"
                ),
            )
        elif name not in applicable:
            skipped += 1
            ET.SubElement(case, "skipped", message="does not apply to this engine")
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", str(skipped))
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def write_junit(
    path: str | os.PathLike[str],
    result: GateResult,
    *,
    applicable: Collection[str] = ALL_INVARIANTS,
) -> Path:
    """Write ``junit_xml(result)`` to ``path`` atomically; the path written."""
    target = Path(path)
    write_atomic(target, junit_xml(result, applicable=applicable))
    return target


__all__ = ["junit_xml", "write_junit"]
