"""The README's example engine and adapter, extracted from README.md and gated as a user would."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cashfuzz.cli import main
from cashfuzz.engines import resolve_engine
from cashfuzz.invariants import check_scenario
from cashfuzz.reference_engine import OrderRejected, Reason
from tests.adapters.engine_kit import broken, scenario

README = Path(__file__).resolve().parents[2] / "README.md"
FILES = ("toy_broker.py", "toy_adapter.py")


def readme_files() -> dict[str, str]:
    """The README's Python blocks that start with ``# <file name>``, by file name."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    found = {}
    for block in blocks:
        first = block.split("\n", 1)[0]
        for name in FILES:
            if first.startswith(f"# {name}"):
                found[name] = block
    return found


@pytest.fixture
def toy_modules(tmp_path: Path) -> Iterator[Path]:
    """The two README files written to a folder on sys.path (and unloaded afterwards)."""
    files = readme_files()
    assert sorted(files) == sorted(FILES)
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        for name in FILES:
            sys.modules.pop(name.removesuffix(".py"), None)


def test_readme_adapter_is_at_most_fifty_lines() -> None:
    """The example adapter stays small: at most 50 lines, blank lines included."""
    assert len(readme_files()["toy_adapter.py"].splitlines()) <= 50


def test_readme_adapter_catches_the_race(toy_modules: Path) -> None:
    """Three BUYs sized against the same cash: the toy refuses the third at its fill."""
    factory = resolve_engine("toy_adapter:toy_factory")
    race = scenario(
        [(0, "AAA", "100", "100", 1000), (1, "AAA", "100", "100", 1000)],
        [{"timestamp": 0, "symbol": "AAA", "side": "BUY", "quantity": q} for q in (5, 4, 2)],
        fill_at="next_open",
    )
    result = check_scenario(race, factory)
    assert broken(result.violations)[0] == ("accepted_orders_funded", 6)
    calm = scenario(
        [(0, "AAA", "100", "100", 1000), (1, "AAA", "100", "100", 1000)],
        [{"timestamp": 0, "symbol": "AAA", "side": "BUY", "quantity": 5}],
        [{"timestamp": 1, "order_id": 1}],
        fill_at="next_open",
        costs={"commission_rate": "0.001"},
    )
    held = check_scenario(calm, factory)
    assert held.ok, held.violations


def test_readme_gate_command_fails_with_a_counterexample(
    toy_modules: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's gate command exits 1 and writes a counterexample that replays."""
    out = tmp_path / "out"
    code = main(["gate", "--engine", "toy_adapter:toy_factory", "--seed", "1", "--out", str(out)])
    assert code == 1
    written = sorted(out.glob("counterexample-*.json"))
    assert any("-no_oversell-" in path.name for path in written), written
    capsys.readouterr()
    for path in written:  # one shrunk file per broken invariant, each still failing
        assert main(["run", str(path), "--engine", "toy_adapter:toy_factory"]) == 1


def test_readme_adapter_rejects_a_buy_before_its_first_bar(toy_modules: Path) -> None:
    """A BUY before its symbol's first bar (soak generates them) is rejected NO_PRICE, as
    the reference engine rejects it, with or without a quantity: every invariant holds."""
    factory = resolve_engine("toy_adapter:toy_factory")
    for extra in ({}, {"quantity": 1}):
        late = scenario(
            [(1, "AAA", "1", "1", 1000)],
            [{"timestamp": 0, "symbol": "AAA", "side": "BUY", **extra}],
            fill_at="next_open",
        )
        result = check_scenario(late, factory)
        assert result.crash is None, result.crash
        assert result.ok, result.violations
        rejected = [e for e in result.events if isinstance(e, OrderRejected)]
        assert [(e.order_id, e.reason) for e in rejected] == [(1, Reason.NO_PRICE)]
