"""Errors. Each message names the field and the value, and says what is valid."""

from __future__ import annotations


class EngineError(Exception):
    """Base of every error the reference engine raises on purpose."""


class ScenarioError(EngineError, ValueError):
    """A scenario file or object that cannot be run."""


class InputError(EngineError, ValueError):
    """A bar, signal or cancel the engine refuses; the engine is left unchanged."""
