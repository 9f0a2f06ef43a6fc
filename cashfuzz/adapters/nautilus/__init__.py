"""nautilus_trader as an engine under test (``--engine nautilus``): its adapter on the kit
(``adapter``) and the rules ``cashfuzz diff`` explains its differences with (``differential``)."""

from cashfuzz.adapters.nautilus.adapter import VENUE, NautilusEngine, nautilus_factory
from cashfuzz.adapters.nautilus.differential import NAUTILUS_RULES

__all__ = ["NAUTILUS_RULES", "VENUE", "NautilusEngine", "nautilus_factory"]
