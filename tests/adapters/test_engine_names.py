"""``--engine backtesting|nautilus``: resolved to their adapters, or an install hint (exit 2)."""

from __future__ import annotations

import importlib.util

import pytest

from cashfuzz.cli import main
from cashfuzz.engines import resolve_engine
from cashfuzz.errors import UsageError


@pytest.mark.parametrize(
    ("name", "package"), [("backtesting", "backtesting"), ("nautilus", "nautilus_trader")]
)
def test_a_missing_engine_package_is_an_install_hint(
    name: str, package: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without the engine's package, ``--engine NAME`` exits 2 naming the extra to install."""
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda spec, *a: None if spec == package else real(spec, *a)
    )
    with pytest.raises(UsageError, match=rf"pip install 'cashfuzz\[{name}\]'"):
        resolve_engine(name)
    assert main(["run", "--example", "googl-aapl", "--engine", name]) == 2
    assert f"cashfuzz[{name}]" in capsys.readouterr().err
