"""Every module imports under the cashfuzz name alone, so a user's own packages never collide."""

from __future__ import annotations

import subprocess
import sys
import textwrap

BARE_NAMES = ("reference_engine", "invariants", "strategies")


def test_all_modules_import_without_bare_top_level_names() -> None:
    """Importing every cashfuzz module loads no module under a bare top-level name."""
    script = textwrap.dedent(
        f"""
        import importlib, pkgutil, sys
        import cashfuzz
        skip = {{"cashfuzz.search.fuzz_targets"}}  # a pytest file for HypoFuzz, read from env
        optional = {{"backtrader", "backtesting", "nautilus_trader"}}  # the engines' extras
        for info in pkgutil.walk_packages(cashfuzz.__path__, "cashfuzz."):
            if info.name in skip:
                continue
            try:
                importlib.import_module(info.name)
            except ModuleNotFoundError as error:
                if error.name is None or error.name.split(".")[0] not in optional:
                    raise
        bare = sorted(m for m in sys.modules if m.split(".")[0] in {BARE_NAMES!r})
        print(",".join(bare))
        """
    )
    # -I: isolated, so the checkout's folder is not on sys.path as it is under pytest
    done = subprocess.run(
        [sys.executable, "-I", "-c", script], capture_output=True, text=True, check=False, cwd="/"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_public_packages_live_under_cashfuzz() -> None:
    """The reference engine, invariants and strategies are reached as cashfuzz subpackages."""
    from cashfuzz import invariants, reference_engine, strategies

    assert reference_engine.__name__ == "cashfuzz.reference_engine"
    assert invariants.check_scenario.__module__ == "cashfuzz.invariants.monitor"
    assert strategies.scenarios.__module__ == "cashfuzz.strategies._internal.core"
