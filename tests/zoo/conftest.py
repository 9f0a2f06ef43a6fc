"""The zoo table: each zoo test adds a row; the terminal summary prints them all."""

from __future__ import annotations

import pytest
from zoo_table import Catch

_TABLE: list[Catch] = []


@pytest.fixture(scope="session")
def zoo_table() -> list[Catch]:
    """The rows the terminal summary prints, in the order the tests ran."""
    return _TABLE


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _TABLE:
        return
    terminalreporter.section("cashfuzz zoo: every broken engine caught by fuzzing")
    terminalreporter.write_line(Catch.HEADER)
    for catch in _TABLE:
        terminalreporter.write_line(catch.row())
    total = sum(catch.gate_seconds for catch in _TABLE)
    terminalreporter.write_line(f"{len(_TABLE)} engines, {total:.1f} s of gate runs")
