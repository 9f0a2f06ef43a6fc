"""Examples per second of the Hypothesis state machine and of the gate on the
reference engine, with the gate's settings (``extra_info`` has the counts)."""

from __future__ import annotations

from typing import Any

from cashfuzz.bench import ExampleRate, measure_gate, measure_stateful

MACHINE_EXAMPLES = 20
GATE_EXAMPLES = 100


def test_state_machine_examples(benchmark: Any) -> None:
    """Runs MACHINE_EXAMPLES state-machine examples of up to 50 engine steps each."""
    benchmark.group = "hypothesis"
    rate: ExampleRate = benchmark.pedantic(
        measure_stateful, args=(MACHINE_EXAMPLES,), rounds=3, iterations=1
    )
    benchmark.extra_info["examples"] = rate.examples
    benchmark.extra_info["steps"] = rate.steps
    assert rate.examples >= MACHINE_EXAMPLES


def test_gate_examples(benchmark: Any) -> None:
    """Runs the gate on GATE_EXAMPLES scenarios, each checked under every invariant."""
    benchmark.group = "hypothesis"
    rate: ExampleRate = benchmark.pedantic(
        measure_gate, args=(GATE_EXAMPLES,), rounds=3, iterations=1
    )
    benchmark.extra_info["examples"] = rate.examples
    assert rate.examples == GATE_EXAMPLES
