"""Hostile scenario input (issue 11): every bad file is a ScenarioError (exit 2) naming
the key, a short form of the value and the limit; nothing hangs, nothing leaks."""

from __future__ import annotations

import copy
import gzip
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st
from unit_kit import RAW_BAR

from cashfuzz.cli import main
from cashfuzz.reference_engine import (
    ScenarioError,
    load_scenario,
    scenario_from_dict,
    scenario_from_json,
)
from cashfuzz.reference_engine import scenario as scenario_module
from cashfuzz.reference_engine.money import to_ticks

T = TypeVar("T")

#: A loader call is refused in milliseconds; this only catches a hang (the bugs hung for hours).
HANG_GUARD_SECONDS = 20.0

BASE: dict[str, Any] = {
    "initial_cash": "1000.00",
    "sizer": {"kind": "percent_equity", "fraction": "0.5"},
    "costs": {"commission_rate": "0.001", "slippage_bps": "2"},
    "bars": [
        {**RAW_BAR, "timestamp": "2025-01-02T00:00:00"},
        {**RAW_BAR, "timestamp": "2025-01-03T00:00:00", "open": "100.20", "close": "100.10"},
    ],
    "signals": [
        {"timestamp": "2025-01-02T00:00:00", "symbol": "A", "side": "BUY", "strength": "0.5"}
    ],
    "cancels": [],
}
CSV_HEADER = "timestamp,symbol,open,high,low,close,volume\n"


def _within_guard(call: Callable[[], T]) -> T:
    """``call()``'s result or exception, failing the test if it has not returned within
    the hang guard (a thread, since a hung conversion cannot be interrupted)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:  # noqa: BLE001 - handed back to the test
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(HANG_GUARD_SECONDS)
    if thread.is_alive():
        pytest.fail(f"still running after {HANG_GUARD_SECONDS} s: a hang")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]


def _set(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    raw = copy.deepcopy(BASE)
    target: Any = raw
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return raw


def _refusal(raw: object) -> str:
    with pytest.raises(ScenarioError) as caught:
        _within_guard(lambda: scenario_from_dict(raw))
    return str(caught.value)


def _json_refusal(text: str) -> str:
    with pytest.raises(ScenarioError) as caught:
        _within_guard(lambda: scenario_from_json(text))
    return str(caught.value)


def test_base_scenario_loads() -> None:
    """The scenario every case below mutates is valid."""
    assert len(scenario_from_dict(BASE).bars) == 2


# --- numbers -----------------------------------------------------------------------------


_NUMBER_FIELDS = [
    ("max_participation",),
    ("costs", "commission_rate"),
    ("costs", "slippage_bps"),
    ("costs", "commission_min"),
    ("sizer", "fraction"),
    ("initial_cash",),
    ("bars", 0, "open"),
    ("bars", 0, "volume"),
    ("signals", 0, "strength"),
]


def _dotted(path: tuple[Any, ...]) -> str:
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else key)
    return text


@pytest.mark.parametrize("path", _NUMBER_FIELDS, ids=_dotted)
@pytest.mark.parametrize("value", ["1e-999999999", "1e999999999", "0e-999999999"])
def test_a_huge_exponent_in_a_decimal_string_is_refused_at_once(
    path: tuple[Any, ...], value: str
) -> None:
    """A decimal string with a huge exponent is refused, naming the key and the exponent
    limit, before anything expands it (it used to hang)."""
    message = _refusal(_set(path, value))
    assert f"{_dotted(path)}={value!r}" in message
    assert "exponent" in message


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ('"strength": "0.5"', '"strength": 0.5, "quantity": 1e999999999', "signals[0].quantity"),
        ('"timestamp": "2025-01-03T00:00:00"', '"timestamp": 1e999999999', "bars[1].timestamp"),
        ('"volume": 1000', '"volume": 1e-999999999', "bars[0].volume"),
        ('"volume": 1000', '"volume": NaN', "bars[0].volume"),
        ('"volume": 1000', '"volume": -Infinity', "bars[0].volume"),
    ],
)
def test_a_huge_json_number_literal_is_refused_with_its_key_path(
    old: str, new: str, where: str
) -> None:
    """A JSON number literal with a huge exponent (or NaN/Infinity) is refused naming its key
    path (it used to allocate without bound)."""
    message = _json_refusal(json.dumps(BASE).replace(old, new, 1))
    assert message.startswith(f"{where}=")


def test_an_integer_literal_of_5000_digits_is_refused_briefly() -> None:
    """An integer literal past 40 digits is refused naming the key, its digit count and the
    limit, shown cut short (Python's int conversion used to raise a traceback)."""
    text = json.dumps(BASE).replace('"strength": "0.5"', '"quantity": ' + "9" * 5000, 1)
    message = _json_refusal(text)
    assert message.startswith("signals[0].quantity=")
    assert "(5000 chars)" in message
    assert "5000 digits" in message
    assert "at most 40" in message
    assert len(message) < 300


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("initial_cash",), "1e24"),
        (("initial_cash",), "1000000000000000000000000"),
        (("initial_cash",), "1e999999999"),
        (("bars", 0, "high"), "1e30"),
        (("costs", "commission_min"), "1e20"),
        (("initial_cash",), "1e16"),
    ],
)
def test_money_and_prices_of_1e24_and_more_are_refused(path: tuple[Any, ...], value: str) -> None:
    """Money or prices far past any real amount are refused naming the key (they used to end
    in decimal.InvalidOperation)."""
    assert _refusal(_set(path, value)).startswith(f"{_dotted(path)}={value!r}")


def test_the_limits_admit_the_sizes_cashfuzz_is_used_with() -> None:
    """Cash to 10^10, quantities to 10^7 and the documented counts all stay within limits."""
    from cashfuzz.reference_engine import limits

    raw = _set(("initial_cash",), "10000000000.00")
    raw["signals"][0]["quantity"] = 10_000_000
    # past JavaScript's exact integers: the loader admits it, an adapter may refuse it
    raw["bars"][0]["volume"] = 2**60
    scenario = scenario_from_dict(raw)
    assert scenario.bars[0].volume == 2**60
    assert scenario.config.initial_cash == 10**12
    assert scenario.signals[0].quantity == 10**7
    assert limits.MAX_BARS >= 1_000_000
    assert limits.MAX_SIGNALS >= 1_000_000  # a soak of 10^4 steps by 10^2 symbols
    assert limits.MAX_SYMBOLS >= 100


@pytest.mark.parametrize("value", ["١٢٣", "1_000", " 1e5 e", "0x10"])
def test_numbers_other_than_plain_decimals_are_refused(value: str) -> None:
    """Unicode digits, underscores and hex are not decimal numbers here (Decimal reads some)."""
    assert "not a decimal number" in _refusal(_set(("initial_cash",), value))


@given(
    whole=st.integers(0, 10**15 - 1),
    places=st.integers(0, 4),
    fraction=st.integers(0, 9999),
)
def test_the_plain_price_fast_path_reads_what_to_ticks_reads(
    whole: int, places: int, fraction: int
) -> None:
    """A plainly written price is read to the same ticks as money.to_ticks."""
    text = f"{whole}.{str(fraction).zfill(4)[:places]}" if places else str(whole)
    expected = to_ticks(text)
    if expected > 0:
        assert scenario_module._price(text, "bars[0]", ".", "open") == expected


# --- JSON text ---------------------------------------------------------------------------


def test_a_file_that_is_not_utf8_is_refused_with_the_byte_offset(tmp_path: Path) -> None:
    """A Latin-1 byte is refused with its byte offset (it used to be a traceback)."""
    data = json.dumps(BASE).replace('"A"', '"\u00c4"', 1).encode("latin-1")
    path = tmp_path / "latin1.json"
    path.write_bytes(data)
    with pytest.raises(ScenarioError, match=f"not UTF-8: byte {data.index(0xC4)} "):
        load_scenario(path)


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_deep_nesting_is_refused(depth: int) -> None:
    """JSON nested deeper than the parser holds, or in a key with a fixed shape, is refused
    (about 1,000 levels used to be a RecursionError traceback)."""
    text = json.dumps(BASE)[:-1] + ', "description": ' + "[" * depth + "]" * depth + "}"
    message = _json_refusal(text)
    assert "nested too deep" in message or "description=" in message


@pytest.mark.parametrize(
    ("provenance", "words"),
    [
        ({"engine": "x" * 100_000}, "provenance.engine='xxxx"),
        ({"k" * 100: 1}, "is longer than 64 characters"),
        ({"seed": "1e999999999"}, None),
        ({"a": {"b": {"c": {"d": {}}}}}, "nests deeper than 4 levels"),
        ({"a": [[[["x"]]]]}, "nests deeper than 4 levels"),
        ({"n": 10**30}, "1e20 or more"),
    ],
)
def test_provenance_is_held_to_the_depth_string_and_number_limits(
    provenance: dict[str, Any], words: str | None
) -> None:
    """provenance (the finder's record) is bounded like every other value; a number-like
    string in it stays a string."""
    raw = {**BASE, "format": 2, "provenance": provenance}
    if words is None:
        assert scenario_from_dict(raw).provenance == provenance
    else:
        message = _refusal(raw)
        assert words in message
        assert len(message) < 300


@pytest.mark.parametrize("kind", [["percent_equity"], {"kind": "kelly"}, 7, None])
def test_a_sizer_kind_that_is_not_a_string_is_refused(kind: object) -> None:
    """sizer.kind given as a list or object is refused (it used to raise TypeError)."""
    assert _refusal(_set(("sizer", "kind"), kind)).startswith("sizer.kind=")


@pytest.mark.parametrize(
    ("key", "inner"),
    [("initial_cash", ""), ("open", "bars[0]"), ("kind", "sizer")],
)
def test_duplicate_keys_are_refused_naming_the_key(key: str, inner: str) -> None:
    """A key given twice is refused (the last one used to win silently)."""
    text = json.dumps(BASE)
    text = {
        "initial_cash": '{"initial_cash": "-5", ' + text[1:],
        "open": text.replace('"open": "100.00"', '"open": "1", "open": "100.00"', 1),
        "kind": text.replace('"kind": "percent_equity"', '"kind": "x", "kind": "kelly"', 1),
    }[key]
    message = _json_refusal(text)
    assert f"duplicate key {key!r}" in message
    assert (f"in {inner}" in message) == bool(inner)


def test_a_huge_python_int_is_refused_without_converting_it_to_text() -> None:
    """scenario_from_dict with a 5,000-digit int is refused, not a ValueError from repr."""
    message = _refusal(_set(("seed",), 10**5000))
    assert message.startswith("seed=<an integer of about 5,000 digits>")


def test_a_lone_surrogate_in_a_symbol_is_refused() -> None:
    """A symbol holding an escaped lone surrogate (not text) is refused."""
    text = json.dumps(BASE).replace('"symbol": "A"', '"symbol": "\\ud800"')
    assert "lone surrogate" in _json_refusal(text)


def test_a_100_kb_value_is_shown_once_and_short() -> None:
    """A 100 KB string is named by its first characters and its length, never echoed."""
    message = _refusal(_set(("bars", 0, "symbol"), "x" * 100_000))
    assert message.count("(100000 chars)") == 1
    assert len(message) < 300


@pytest.mark.parametrize(
    ("key", "limit"),
    [("MAX_BARS", 1), ("MAX_SIGNALS", 0), ("MAX_SYMBOLS", 1)],
)
def test_counts_past_their_limit_are_refused_before_the_items_are_read(
    monkeypatch: pytest.MonkeyPatch, key: str, limit: int
) -> None:
    """A list longer than its limit is refused naming the list, its length and the limit."""
    raw = copy.deepcopy(BASE)
    raw["bars"].append({**raw["bars"][0], "symbol": "B"})
    monkeypatch.setattr(scenario_module, key, limit)
    message = _refusal(raw)
    assert f"at most {limit}" in message


def test_a_scenario_file_past_the_size_limit_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A file larger than MAX_FILE_BYTES is refused before it is read."""
    from cashfuzz.reference_engine import input_files

    path = tmp_path / "s.json"
    path.write_text(json.dumps(BASE))
    monkeypatch.setattr(input_files, "MAX_FILE_BYTES", 100)
    with pytest.raises(ScenarioError, match="at most 100 are allowed"):
        load_scenario(path)


# --- timestamps --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("2025-01-02T00:00:00", "2025-01-02 00:00:00"),
        ("2025-01-02T00:00:00", "2025-01-02T00:00:00.000"),
        ("2025-01-02T00:00:00+00:00", "2025-01-02T01:00:00+01:00"),
        ("2025-01-02T00:00:00Z", "2025-01-02T00:00:00.000+00:00"),
    ],
)
def test_two_bars_at_one_instant_spelled_differently_are_refused(first: str, second: str) -> None:
    """Timestamps are compared as instants: a second bar of one symbol at the same instant is
    refused however it is spelled (it used to run as two steps)."""
    raw = _set(("bars", 0, "timestamp"), first)
    raw["bars"][1]["timestamp"] = second
    raw["signals"] = []
    message = _refusal(raw)
    assert "bars[1]: a second bar for symbol='A'" in message


def test_spellings_of_one_instant_share_one_step_and_label() -> None:
    """Bars and signals at one instant spelled differently form one step, labelled by the
    first spelling in the file."""
    raw = _set(("bars", 1), {**BASE["bars"][0], "symbol": "B", "timestamp": "2025-01-02 00:00"})
    raw["signals"][0]["timestamp"] = "2025-01-02T00:00:00.000000"
    scenario = scenario_from_dict(raw)
    (step,) = scenario.steps()
    assert step.timestamp == "2025-01-02T00:00:00"
    assert [bar.symbol for bar in step.bars] == ["A", "B"]
    assert len(step.signals) == 1


# --- bars files --------------------------------------------------------------------------


def _scenario_with_bars_file(folder: Path, bars: str) -> Path:
    raw = {**BASE, "bars": bars, "signals": []}
    path = folder / "s.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


def test_a_23_digit_csv_timestamp_is_refused_naming_its_line(tmp_path: Path) -> None:
    """A CSV timestamp past a 64-bit integer is refused naming line and column (it used to
    be an OverflowError traceback)."""
    (tmp_path / "bars.csv").write_text(
        CSV_HEADER + "1,A,1,2,1,2,10\n12345678901234567890123,A,1,2,1,2,10\n"
    )
    with pytest.raises(ScenarioError, match=r"'bars\.csv' line 3 column timestamp="):
        load_scenario(_scenario_with_bars_file(tmp_path, "bars.csv"))


def test_an_empty_csv_timestamp_is_blamed_on_its_own_line(tmp_path: Path) -> None:
    """An empty timestamp cell on the file's line 4 is reported on line 4."""
    (tmp_path / "bars.csv").write_text(
        CSV_HEADER + "1,A,1,2,1,2,10\n2,A,1,2,1,2,10\n,A,1,2,1,2,10\n"
    )
    with pytest.raises(ScenarioError, match=r"line 4 column timestamp=''"):
        load_scenario(_scenario_with_bars_file(tmp_path, "bars.csv"))


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("bars.csv.gz", gzip.compress(b"garbage", mtime=0), "is not a .csv file"),
        ("bars.zip", b"PK\x03\x04garbage", "is not a .csv file"),
        ("bars.csv", gzip.compress(b"\xff\x00garbage", mtime=0), "is not UTF-8"),
        ("bars.csv", b"timestamp,symbol\x00,open\n", "NUL"),
    ],
)
def test_compressed_or_archive_garbage_is_refused(
    tmp_path: Path, name: str, data: bytes, words: str
) -> None:
    """Compressed or archive files, and binary bytes in a .csv file, are refused (pandas used
    to decompress them and raise a traceback)."""
    (tmp_path / name).write_bytes(data)
    with pytest.raises(ScenarioError, match=words):
        load_scenario(_scenario_with_bars_file(tmp_path, name))


def test_a_bars_file_never_shows_its_content(tmp_path: Path) -> None:
    """A bars file without the right header is refused naming the missing columns only:
    what the file holds is never shown (it used to print /proc/self/environ)."""
    secret = "AWS_SECRET_ACCESS_KEY=hunter2"
    (tmp_path / "bars.csv").write_text(f"{secret},timestamp\n1,2\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(_scenario_with_bars_file(tmp_path, "bars.csv"))
    message = str(caught.value)
    assert "symbol, open, high, low, close, volume" in message
    assert "hunter2" not in message
    assert "AWS" not in message


@pytest.mark.parametrize(
    ("bars", "words"),
    [
        ("/proc/self/environ", "is an absolute path"),
        ("/dev/zero", "is an absolute path"),
        ("../bars.csv", "leads outside the scenario's folder"),
        ("sub/../../bars.csv", "leads outside the scenario's folder"),
    ],
)
def test_bars_outside_the_scenarios_folder_are_refused(
    tmp_path: Path, bars: str, words: str
) -> None:
    """Absolute and ../ bars paths are refused unless --allow-bars-outside is given."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (tmp_path / "bars.csv").write_text(CSV_HEADER + "1,A,1,2,1,2,10\n")
    with pytest.raises(ScenarioError, match=words):
        load_scenario(_scenario_with_bars_file(folder, bars))


def test_a_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    """A bars file that is a symlink leading outside the scenario's folder is refused."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (tmp_path / "bars.csv").write_text(CSV_HEADER + "1,A,1,2,1,2,10\n")
    (folder / "bars.csv").symlink_to(tmp_path / "bars.csv")
    with pytest.raises(ScenarioError, match="leads outside"):
        load_scenario(_scenario_with_bars_file(folder, "bars.csv"))


def test_allow_bars_outside_admits_a_bars_file_elsewhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --allow-bars-outside an absolute bars path loads and runs (exit 0)."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (tmp_path / "bars.csv").write_text(CSV_HEADER + "1,A,1,2,1,2,10\n")
    path = _scenario_with_bars_file(folder, str(tmp_path / "bars.csv"))
    assert main(["run", str(path), "--json"]) == 2
    assert main(["run", str(path), "--json", "--allow-bars-outside"]) == 0
    capsys.readouterr()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_or_device_as_bars_is_refused_without_blocking(tmp_path: Path) -> None:
    """A FIFO (no writer: a read would block forever) or /dev/zero behind a .csv name is
    refused as not a regular file, without blocking."""
    os.mkfifo(tmp_path / "fifo.csv")
    with pytest.raises(ScenarioError, match="is not a regular file"):
        _within_guard(lambda: load_scenario(_scenario_with_bars_file(tmp_path, "fifo.csv")))
    (tmp_path / "zero.csv").symlink_to("/dev/zero")
    path = _scenario_with_bars_file(tmp_path, "zero.csv")
    with pytest.raises(ScenarioError, match="is not a regular file"):
        _within_guard(lambda: load_scenario(path, allow_bars_outside=True))


# --- the command line --------------------------------------------------------------------


def test_run_refuses_a_bad_file_with_exit_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``cashfuzz run`` on a hanging-exponent file exits 2 at once with one short line on
    stderr and writes no report: refused input changes nothing."""
    path = tmp_path / "s.json"
    path.write_text(json.dumps(_set(("max_participation",), "1e-999999999")))
    report = tmp_path / "out" / "report.md"
    code = _within_guard(lambda: main(["run", str(path), "--json", "--report", str(report)]))
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err.startswith("cashfuzz: error: max_participation='1e-999999999'")
    assert captured.err.count("\n") == 1
    assert not (tmp_path / "out").exists()
