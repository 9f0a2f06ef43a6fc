"""backtesting.py as an engine under test (``--engine backtesting``): its adapter on the kit
(``adapter``) and the rules ``cashfuzz diff`` explains its differences with (``differential``)."""

from cashfuzz.adapters.backtesting.adapter import BacktestingEngine, backtesting_factory
from cashfuzz.adapters.backtesting.differential import BACKTESTING_RULES

__all__ = ["BACKTESTING_RULES", "BacktestingEngine", "backtesting_factory"]
