"""``OrderViews``: the orders of a snapshot, sharing storage with the snapshot before it.

A snapshot per event that copied every order view would make a run of n events
cost n^2. The ledger keeps its views in chunks of 64; a snapshot copies only the
chunks that changed since the last one and the short tuple of chunk references,
and records which orders changed (``changed``) relative to which earlier
snapshot (``parent``, that snapshot's ``stamp``), so the invariant monitor can
look at those orders only.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

from .orders import OrderView

CHUNK_BITS = 6
CHUNK = 1 << CHUNK_BITS
_stamps = itertools.count(1)


class OrderViews(Sequence[OrderView]):
    """An immutable sequence of order views (in the order the ledger first stored
    them: id order in the reference engine). Compares equal to a tuple or another
    ``OrderViews`` with the same views. Setting an attribute raises AttributeError."""

    __slots__ = ("_chunks", "_dense", "_length", "changed", "parent", "stamp")

    _chunks: tuple[tuple[OrderView, ...], ...]
    _length: int
    # every view at position p has order id p + 1, so a lookup by id is one index
    _dense: bool
    #: ids of the orders whose view differs from (or is missing in) the parent's
    changed: frozenset[int]
    #: the ``stamp`` of the snapshot these changes are relative to (0: none)
    parent: int
    #: unique per instance in this process
    stamp: int

    def __init__(self, views: Iterable[OrderView] = ()) -> None:
        items = tuple(views)
        chunks = tuple(items[i : i + CHUNK] for i in range(0, len(items), CHUNK))
        dense = all(view.order_id == position for position, view in enumerate(items, 1))
        _init(self, chunks, len(items), dense, 0, frozenset())

    @classmethod
    def assemble(
        cls,
        chunks: tuple[tuple[OrderView, ...], ...],
        length: int,
        dense: bool,
        parent: int,
        changed: frozenset[int],
    ) -> OrderViews:
        """An ``OrderViews`` over ready chunks (all full but the last): for the ledger.
        ``dense``: the view at position p is order p + 1's."""
        views = object.__new__(cls)
        _init(views, chunks, length, dense, parent, changed)
        return views

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"OrderViews is read-only (cannot set {name!r})")

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> OrderView: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[OrderView, ...]: ...

    def __getitem__(self, index: int | slice) -> OrderView | tuple[OrderView, ...]:
        if isinstance(index, slice):
            return tuple(self)[index]
        position = index + self._length if index < 0 else index
        if not 0 <= position < self._length:
            raise IndexError("OrderViews index out of range")
        return self._chunks[position >> CHUNK_BITS][position & (CHUNK - 1)]

    def __iter__(self) -> Iterator[OrderView]:
        return itertools.chain.from_iterable(self._chunks)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, OrderViews):
            return self._length == other._length and self._chunks == other._chunks
        if isinstance(other, tuple):
            return len(other) == self._length and tuple(self) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return repr(tuple(self))

    def __reduce__(self) -> tuple[Any, ...]:
        return (OrderViews, (tuple(self),))

    def order(self, order_id: int) -> OrderView | None:
        """The view of ``order_id`` (looked up at position id - 1 first), or None."""
        if 1 <= order_id <= self._length:
            position = order_id - 1
            candidate = self._chunks[position >> CHUNK_BITS][position & (CHUNK - 1)]
            if candidate.order_id == order_id:
                return candidate
        if self._dense:
            return None
        return next((view for view in self if view.order_id == order_id), None)


_set = object.__setattr__


def _init(
    views: OrderViews,
    chunks: tuple[tuple[OrderView, ...], ...],
    length: int,
    dense: bool,
    parent: int,
    changed: frozenset[int],
) -> None:
    _set(views, "_chunks", chunks)
    _set(views, "_length", length)
    _set(views, "_dense", dense)
    _set(views, "parent", parent)
    _set(views, "changed", changed)
    _set(views, "stamp", next(_stamps))


def orders_changed(
    before: Sequence[OrderView], after: Sequence[OrderView]
) -> frozenset[int] | None:
    """The ids of the orders that differ between two snapshots' order sequences when
    ``after`` says so itself (an ``OrderViews`` built on ``before``), else None: the
    caller must compare the whole sequences."""
    if after is before:
        return frozenset()
    if (
        type(after) is OrderViews
        and type(before) is OrderViews
        and after.parent == before.stamp
        and after.parent != 0
    ):
        return after.changed
    return None


__all__ = ["CHUNK", "OrderViews", "orders_changed"]
