"""Engine configuration: every knob a scenario can turn, with its default."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction

from .costs import Costs
from .sizers import PercentEquity, Sizer


class Mode(StrEnum):
    #: Accepting an order reserves its worst-case cost; sizing sees available cash.
    RESERVATION = "reservation"
    #: The seed's behaviour: sizing against total cash, nothing reserved, cash
    #: checked only at fill time. Kept to show that the harness catches the race.
    NAIVE = "naive"


class FillAt(StrEnum):
    #: Market orders fill at the next bar's open (no look-ahead).
    NEXT_OPEN = "next_open"
    #: Market orders fill at the close of the bar they were placed on.
    SAME_CLOSE = "same_close"


class Policy(StrEnum):
    #: An order that does not fit is cut down to what fits.
    SHRINK = "shrink"
    #: An order that does not fit is rejected whole.
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Everything but the data. Money in cents; ``max_participation`` is the
    fraction of a bar's volume one order may fill on that bar (None: no cap)."""

    initial_cash: int
    mode: Mode = Mode.RESERVATION
    fill_at: FillAt = FillAt.NEXT_OPEN
    policy: Policy = Policy.SHRINK
    max_participation: Fraction | None = Fraction(1)
    seed: int = 0
    costs: Costs = field(default_factory=Costs)
    sizer: Sizer = field(default_factory=lambda: PercentEquity(Fraction(1, 10)))
