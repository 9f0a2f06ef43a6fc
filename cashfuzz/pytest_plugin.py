"""pytest plugin: gate your own engine inside your own test suite.

Installed with cashfuzz (entry point ``pytest11``). A test asks for the
``cashfuzz_gate`` fixture and calls it with an engine; the optional
``@pytest.mark.cashfuzz(max_examples=..., seed=...)`` marker sets the budget::

    @pytest.mark.cashfuzz(max_examples=200, seed=1)
    def test_my_engine_manages_cash(cashfuzz_gate):
        cashfuzz_gate("my_package.adapter:make_engine")

The test fails with the invariant, the message, and the path of the shrunk
counterexample (written under the test's tmp_path) plus the replay command.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

DEFAULT_MAX_EXAMPLES = 100


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "cashfuzz(max_examples=100, seed=0): budget of the cashfuzz_gate fixture in this test",
    )


@pytest.fixture
def cashfuzz_gate(request: pytest.FixtureRequest, tmp_path: Any) -> Callable[..., None]:
    """A function ``gate(engine, *, max_examples=None, seed=None)`` that fuzzes ``engine``
    (an --engine name or a factory) and fails the test on the first broken invariant."""
    marker = request.node.get_closest_marker("cashfuzz")
    options = dict(marker.kwargs) if marker is not None else {}
    unknown = set(options) - {"max_examples", "seed"}
    if unknown:
        raise pytest.UsageError(
            f"@pytest.mark.cashfuzz got unknown option {sorted(unknown)[0]!r}; "
            "valid: max_examples, seed"
        )

    def gate(
        engine: Any = "reference", *, max_examples: int | None = None, seed: int | None = None
    ) -> None:
        from cashfuzz.engines import resolve_engine
        from cashfuzz.search.gate import run_gate

        if isinstance(engine, str):
            name, factory = engine, resolve_engine(engine)
        else:
            # a factory object: name it the way --engine would import it
            name, factory = f"{engine.__module__}:{engine.__qualname__}", engine
        result = run_gate(
            factory,
            seed=options.get("seed", 0) if seed is None else seed,
            max_examples=(
                options.get("max_examples", DEFAULT_MAX_EXAMPLES)
                if max_examples is None
                else max_examples
            ),
            out_dir=tmp_path / "cashfuzz",
            engine_name=name,
        )
        if result.ok:
            return
        if result.incomplete:
            pytest.fail(
                f"cashfuzz: the gate checked {result.examples_run} of {result.max_examples} "
                "examples and stopped; that is not a pass",
                pytrace=False,
            )
        checked = result.recorded.result if result.recorded is not None else None
        first = (
            str(checked.violations[0])
            if checked is not None and checked.violations
            else ", ".join(result.invariants_hit)
        )
        pytest.fail(
            f"cashfuzz: {first}\ncounterexample: {result.counterexample_path}\n"
            f"replay: {result.replay_command}",
            pytrace=False,
        )

    return gate
