"""One row of the zoo table: how the gate caught one zoo engine."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Catch:
    """How the gate caught one zoo engine: the first invariant it reported, the time
    and examples until the first failure, the examples run in all (shrinking
    included), the whole gate run's seconds and the shrunk counterexample's size."""

    engine: str
    invariant: str
    detect_seconds: float
    detect_examples: int
    examples_run: int
    gate_seconds: float
    signals: int
    bars: int
    steps: int

    HEADER = (
        f"{'engine':<28} {'caught by':<26} {'detect s':>8} {'examples':>8} "
        f"{'run':>5} {'gate s':>6}  counterexample"
    )

    def row(self) -> str:
        size = f"{self.signals} signals, {self.bars} bars, {self.steps} steps"
        return (
            f"{self.engine:<28} {self.invariant:<26} {self.detect_seconds:>8.2f} "
            f"{self.detect_examples:>8} {self.examples_run:>5} {self.gate_seconds:>6.2f}  {size}"
        )
