"""Hypothesis settings profiles: ``dev``, ``ci``, ``campaign`` and ``mutation``.

Choose one with the ``CASHFUZZ_PROFILE`` environment variable (the test
suite's conftest reads it); without it, ``ci`` when ``CI`` is set, else ``dev``.
The example database lives in ``.hypothesis/cashfuzz`` under the project.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

PROFILE_ENV = "CASHFUZZ_PROFILE"
DATABASE_DIR = Path(".hypothesis") / "cashfuzz"

_SLOW_OK = (HealthCheck.too_slow, HealthCheck.data_too_large)


def register_profiles(database_dir: Path = DATABASE_DIR) -> None:
    """Register the profiles (idempotent)."""
    settings.register_profile(
        "dev",
        max_examples=60,
        deadline=None,
        suppress_health_check=_SLOW_OK,
        database=DirectoryBasedExampleDatabase(str(database_dir)),
    )
    settings.register_profile(
        "ci",
        max_examples=60,
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=True,
        suppress_health_check=_SLOW_OK,
    )
    # mutation testing (mutmut) runs the suite once per mutant: few, fixed examples
    settings.register_profile(
        "mutation",
        max_examples=10,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=_SLOW_OK,
    )
    settings.register_profile(
        "campaign",
        max_examples=100_000,
        deadline=None,
        suppress_health_check=_SLOW_OK,
        database=DirectoryBasedExampleDatabase(str(database_dir)),
    )


def selected_profile() -> str:
    """The profile name the environment asks for."""
    return os.environ.get(PROFILE_ENV) or ("ci" if os.environ.get("CI") else "dev")


def load_selected_profile() -> str:
    """Register the profiles and load the selected one; returns its name."""
    register_profiles()
    name = selected_profile()
    settings.load_profile(name)
    return name
