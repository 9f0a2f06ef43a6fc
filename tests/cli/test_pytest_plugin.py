"""The pytest plugin: a fixture and a marker that gate an engine inside a user's suite."""

from __future__ import annotations

import pytest

USER_TESTS = """
import pytest

@pytest.mark.cashfuzz(max_examples=400, seed=3)
def test_naive_engine(cashfuzz_gate):
    cashfuzz_gate("naive")

@pytest.mark.cashfuzz(max_examples=20)
def test_reference_engine(cashfuzz_gate):
    cashfuzz_gate("reference")
"""


def test_fixture_fails_a_broken_engine_and_passes_the_reference(pytester: pytest.Pytester) -> None:
    """A user's test fails on the naive engine with the invariant and a replay command."""
    pytester.makepyfile(test_user_engine=USER_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*cashfuzz: accepted_orders_funded broke at event*", "*replay: cashfuzz run *"]
    )


def test_marker_refuses_unknown_options(pytester: pytest.Pytester) -> None:
    """A misspelled marker option is a usage error naming the option."""
    pytester.makepyfile(
        test_typo="""
import pytest

@pytest.mark.cashfuzz(max_exampels=5)
def test_typo(cashfuzz_gate):
    cashfuzz_gate("reference")
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*unknown option 'max_exampels'*"])
    assert result.ret != 0
