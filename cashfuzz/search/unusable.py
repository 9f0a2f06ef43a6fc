"""Stopping a Hypothesis search when its result could mean nothing.

An engine that breaks the engine protocol (AdapterProtocolError, a usage error)
or a monitor that fails (MonitorFault, cashfuzz's own fault) is not a finding:
Hypothesis must not shrink it as one. ``checked`` runs a check and turns those
two errors into ``cashfuzz.errors.Unusable``, a BaseException Hypothesis lets
through at once; the search then re-raises its ``error`` for the command line.
"""

from __future__ import annotations

from collections.abc import Iterable

from cashfuzz.errors import Unusable
from cashfuzz.invariants import AdapterProtocolError, CheckResult, MonitorFault, check_scenario
from cashfuzz.reference_engine import EngineFactory, Scenario


def checked(
    scenario: Scenario,
    factory: EngineFactory,
    *,
    fail_fast: bool,
    determinism: bool = True,
    only: Iterable[str] | None = None,
) -> CheckResult:
    """``check_scenario`` with these options; raises Unusable instead of a protocol
    breach or a monitor fault."""
    try:
        return check_scenario(
            scenario, factory, fail_fast=fail_fast, determinism=determinism, only=only
        )
    except (AdapterProtocolError, MonitorFault) as error:
        raise Unusable(error) from error


__all__ = ["checked"]
