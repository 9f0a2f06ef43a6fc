"""Events, inputs and views are cheap named tuples that behave like frozen dataclasses."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from cashfuzz.reference_engine import (
    EVENT_TYPES,
    Bar,
    LedgerSnapshot,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderState,
    OrderView,
    OrderViews,
    Side,
    Signal,
    TimeInForce,
    event_to_dict,
)

FILL = OrderFilled(1, 2, "AAA", Side.BUY, 3, 10_000, 5, -3_005, 3_010, 3, 0)


def _view(order_id: int, reserved: int = 0) -> OrderView:
    return OrderView(
        order_id, "AAA", Side.BUY, 1, 0, OrderState.ACCEPTED, reserved, reserved, 0, 0,
        TimeInForce.GTC, 100,
    )  # fmt: skip


def test_setting_a_field_raises() -> None:
    """An event, a bar and a view are read-only, as a frozen dataclass is."""
    for value in (FILL, Bar(0, "A", 1, 1, 1, 1, 1), _view(1)):
        with pytest.raises(AttributeError):
            value.quantity = 7  # type: ignore[misc]


def test_equality_needs_the_same_class() -> None:
    """Equal values of different classes, or a plain tuple, are not equal."""
    expired, cancelled = OrderExpired(1, 2, 3), OrderCancelled(1, 2, 3, 4)
    assert expired == OrderExpired(1, 2, 3)
    assert expired != tuple(expired)
    assert tuple(expired) != expired
    assert cancelled != OrderCancelled(1, 2, 3, 5)
    assert expired != (1, 2, 3)
    assert hash(expired) == hash(OrderExpired(1, 2, 3))
    with pytest.raises(TypeError):
        _ = expired < OrderExpired(1, 2, 4)  # type: ignore[operator]


def test_repr_is_the_dataclass_form() -> None:
    """The repr names the class and every field, as the dataclasses did."""
    assert repr(OrderExpired(1, 2, 3)) == "OrderExpired(timestamp=1, order_id=2, released=3)"
    assert repr(Signal(0, "A", Side.BUY)).startswith("Signal(timestamp=0, symbol='A', side=")


def test_dataclass_helpers_still_work() -> None:
    """dataclasses.fields, replace and asdict work on events, as adapters use them."""
    assert [f.name for f in dataclasses.fields(FILL)] == list(FILL._fields)
    changed = dataclasses.replace(FILL, commission=6)
    assert type(changed) is OrderFilled
    assert changed.commission == 6
    assert FILL.commission == 5
    assert dataclasses.asdict(OrderExpired(1, 2, 3)) == {
        "timestamp": 1,
        "order_id": 2,
        "released": 3,
    }
    signal_fields = {f.name: f.default for f in dataclasses.fields(Signal)}
    assert signal_fields["time_in_force"] is TimeInForce.DAY
    assert signal_fields["symbol"] is dataclasses.MISSING


def test_keyword_construction_and_defaults() -> None:
    """The public constructors take keywords and keep their defaults."""
    signal = Signal(timestamp=3, symbol="B", side=Side.SELL)
    assert signal.quantity is None
    assert signal.time_in_force is TimeInForce.DAY


def test_every_event_type_serialises_and_pickles() -> None:
    """event_to_dict names each field in order, and events survive pickling."""
    assert len(EVENT_TYPES) == 8
    body = event_to_dict(FILL)
    assert list(body) == ["event", *FILL._fields]
    assert pickle.loads(pickle.dumps(FILL)) == FILL


def test_order_views_is_a_read_only_sequence() -> None:
    """OrderViews indexes, slices, iterates and compares like the tuple it replaces."""
    views = tuple(_view(i) for i in range(1, 151))
    book = OrderViews(views)
    assert len(book) == 150
    assert book[0] == views[0]
    assert book[-1] == views[-1]
    assert book[64] == views[64]
    assert book[10:20] == views[10:20]
    assert list(book) == list(views)
    assert book == views
    assert views == book
    assert book.order(77) == views[76]
    assert book.order(151) is None
    with pytest.raises(IndexError):
        _ = book[150]
    with pytest.raises(AttributeError):
        book.changed = frozenset()  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(book)) == book
    assert repr(OrderViews(views[:2])) == repr(views[:2])


def test_snapshot_order_lookup_with_order_views_and_gaps() -> None:
    """LedgerSnapshot.order finds an order by id in an OrderViews, also when ids skip."""
    views = OrderViews([_view(1), _view(3), _view(4)])
    snapshot = LedgerSnapshot(100, 100, 0, 10_000, views, (), ())
    assert snapshot.order(3) == _view(3)
    assert snapshot.order(2) is None


def test_ledger_snapshots_share_unchanged_views() -> None:
    """A snapshot after one order changed reuses the other chunks and names that order."""
    from cashfuzz.reference_engine import Engine, EngineConfig
    from cashfuzz.reference_engine.order_views import orders_changed

    engine = Engine(EngineConfig(initial_cash=10_000_000))
    engine.step(0, (Bar(0, "A", 100, 100, 100, 100, 10**6),))
    engine.step(1, (), tuple(Signal(1, "A", Side.BUY, quantity=1) for _ in range(200)))
    first = engine.snapshot()
    assert engine.snapshot().orders is first.orders  # nothing changed: the same object
    engine.step(2, (), (), ())
    engine.step(3, (), (Signal(3, "A", Side.BUY, quantity=1),))
    second = engine.snapshot()
    assert isinstance(first.orders, OrderViews)
    assert isinstance(second.orders, OrderViews)
    assert orders_changed(first.orders, second.orders) == frozenset({201})
    assert orders_changed(second.orders, first.orders) is None
    assert orders_changed((), second.orders) is None
    # the first three chunks of 64 are the same objects; the last one was copied
    assert all(
        a is b for a, b in zip(first.orders._chunks[:3], second.orders._chunks[:3], strict=True)
    )
    assert tuple(second.orders)[:200] == tuple(first.orders)
