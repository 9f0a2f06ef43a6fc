"""Cheap immutable value classes: named tuples that behave like frozen dataclasses.

A frozen dataclass sets each field through ``object.__setattr__`` (about 2 us for
twelve fields); a named tuple is built in one C call. ``frozen_record`` gives a
``typing.NamedTuple`` class what users of the old dataclasses relied on: equality
only with the same class (a plain tuple, or another record with the same values,
is not equal), no ordering, and ``dataclasses.fields`` / ``dataclasses.replace``.
Setting an attribute raises AttributeError, as on a frozen dataclass.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

_T = TypeVar("_T", bound=type)


def _eq(self: tuple[Any, ...], other: object) -> bool:
    return type(other) is type(self) and tuple.__eq__(self, other)


def _ne(self: tuple[Any, ...], other: object) -> bool:
    return type(other) is not type(self) or tuple.__ne__(self, other)


def _unordered(self: object, other: object) -> Any:
    return NotImplemented


def frozen_record(cls: _T) -> _T:
    """Make a ``typing.NamedTuple`` class compare and introspect like a frozen dataclass."""
    cls.__eq__ = _eq  # type: ignore[assignment]
    cls.__ne__ = _ne  # type: ignore[assignment]
    cls.__hash__ = tuple.__hash__  # type: ignore[assignment]
    for name in ("__lt__", "__le__", "__gt__", "__ge__"):
        setattr(cls, name, _unordered)
    # dataclasses.fields / replace / asdict keep working for adapters and tests
    dataclasses.dataclass(init=False, repr=False, eq=False, match_args=False)(cls)
    defaults = cls._field_defaults  # type: ignore[attr-defined]
    for field in dataclasses.fields(cls):
        field.default = defaults.get(field.name, dataclasses.MISSING)
    return cls


__all__ = ["frozen_record"]
