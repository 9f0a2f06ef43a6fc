"""Test-suite wiring: load the Hypothesis profile the environment selects."""

from __future__ import annotations

from cashfuzz.strategies.profiles import load_selected_profile

load_selected_profile()

pytest_plugins = ["pytester"]
