"""``cashfuzz run``: exit codes, the printed ledger and the ``--json`` object."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cashfuzz.cli import main
from cashfuzz.examples import example_path

MINIMAL = {
    "initial_cash": "1000",
    "bars": [
        {
            "timestamp": 1,
            "symbol": "X",
            "open": 10,
            "high": 10,
            "low": 10,
            "close": 10,
            "volume": 100,
        },
        {
            "timestamp": 2,
            "symbol": "X",
            "open": 10,
            "high": 10,
            "low": 10,
            "close": 10,
            "volume": 100,
        },
    ],
}
JSON_KEYS = {
    "ok",
    "violations",
    "fills",
    "rejections",
    "cancels",
    "resized",
    "config",
    "final",
    "events",
    "crash",
}


@pytest.fixture(autouse=True)
def _plain_wide_output(monkeypatch: pytest.MonkeyPatch) -> None:
    # a CI runner's COLUMNS or FORCE_COLOR must not change what the assertions read
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)


def _write(path: Path, data: dict[str, Any]) -> str:
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def _naive_copy(tmp_path: Path) -> str:
    data = json.loads(example_path("googl-aapl").read_text(encoding="utf-8"))
    return _write(tmp_path / "naive.json", {**data, "mode": "naive"})


def _json_run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(["run", *argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_example_holds_and_rejects_the_third_signal_before_any_fill(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The GOOGL/AAPL example exits 0 and its ledger rejects signal 2 before the first fill."""
    assert main(["run", "--example", "googl-aapl"]) == 0
    out = capsys.readouterr().out
    rejected = out.index("signal 2 -> order 3 REJECTED: INSUFFICIENT_CASH")
    assert rejected < out.index("order 1 filled BUY 8 GOOGL")
    # a fill shows what it moved, labelled so it is not read as the balance after it
    assert "commission 0.81, cash flow -800.92" in out
    header = next(line for line in out.splitlines() if "available" in line and "#" in line)
    for column in ("cash", "reserved", "available", "equity"):
        assert column in header
    assert "all 19 invariants held over 6 events" in out
    assert "final: cash 95.98, reserved 0.00" in out
    assert "\x1b[" not in out


def test_naive_mode_exits_one_and_names_the_broken_invariant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same scenario in naive mode exits 1 and names accepted_orders_funded at event 6."""
    assert main(["run", _naive_copy(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "VIOLATION accepted_orders_funded at event 6" in out
    assert "order 3 fill REFUSED" in out


def test_engine_option_overrides_the_scenario_mode(capsys: pytest.CaptureFixture[str]) -> None:
    """--engine naive runs the reservation-mode example without reservations, and it breaks."""
    code, result = _json_run(capsys, "--example", "googl-aapl", "--engine", "naive")
    assert code == 1
    assert result["engine"] == "naive"
    assert result["violations"][0]["invariant"] == "accepted_orders_funded"


def test_json_has_every_key_and_every_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json on a scenario with only initial_cash and bars lists every key and every default."""
    code, result = _json_run(capsys, _write(tmp_path / "minimal.json", MINIMAL))
    assert code == 0
    assert set(result) >= JSON_KEYS
    assert result["ok"] is True
    assert result["crash"] is None
    assert result["events"] == 2
    assert result["config"] == {
        "initial_cash": "1000.00",
        "mode": "reservation",
        "fill_at": "next_open",
        "policy": "shrink",
        "max_participation": "1",
        "seed": 0,
        "costs": {"commission_rate": "0", "commission_min": "0.00", "slippage_bps": "0"},
        "sizer": {"kind": "percent_equity", "fraction": "0.1"},
    }
    assert result["final"] == {
        "cash": "1000.00",
        "reserved": "0.00",
        "available": "1000.00",
        "equity": "1000.0000",
        "positions": {},
    }


def test_json_reports_fills_rejections_and_violations_with_money_as_strings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json lists the example's fills and rejection, and the naive copy's violations."""
    code, result = _json_run(capsys, "--example", "googl-aapl")
    assert code == 0
    assert [(f["order_id"], f["quantity"]) for f in result["fills"]] == [(1, 8), (2, 4)]
    assert result["fills"][0]["price"] == "100.0131"
    assert result["fills"][0]["commission"] == "0.81"
    assert result["fills"][0]["cash_delta"] == "-800.92"
    [rejection] = result["rejections"]
    assert rejection["order_id"] == 3
    assert rejection["signal_index"] == 2
    assert rejection["requested"] == 2
    assert rejection["reason"] == "INSUFFICIENT_CASH"
    assert result["final"]["cash"] == "95.98"
    assert result["final"]["positions"] == {"AAPL": 4, "GOOGL": 8}
    code, naive = _json_run(capsys, _naive_copy(tmp_path))
    assert code == 1
    assert naive["ok"] is False
    assert {(v["invariant"], v["event_index"]) for v in naive["violations"]} == {
        ("accepted_orders_funded", 6),
        ("legal_lifecycle", 6),
    }
    assert naive["refused_fills"][0]["needed"] == "200.26"


def test_resized_orders_and_cancels_are_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A shrunk order shows as resized, and done and ignored cancels appear in both outputs."""
    scenario = {
        **MINIMAL,
        "signals": [
            {"timestamp": 1, "symbol": "X", "side": "BUY", "quantity": 150, "time_in_force": "GTC"},
            {"timestamp": 1, "symbol": "X", "side": "BUY", "quantity": 5},
        ],
        "cancels": [{"timestamp": 1, "order_id": 1}, {"timestamp": 1, "order_id": 2}],
    }
    path = _write(tmp_path / "resize.json", scenario)
    assert main(["run", path]) == 0
    out = capsys.readouterr().out
    assert "signal 0 -> order 1 BUY 100 X, resized from 150: INSUFFICIENT_CASH" in out
    assert "cancel 0 -> order 1 CANCELLED, releases 1000.00" in out
    assert "cancel 1 -> order 2 ignored: ALREADY_TERMINAL" in out
    code, result = _json_run(capsys, path)
    assert code == 0
    [resized] = result["resized"]
    assert (resized["order_id"], resized["requested"], resized["quantity"]) == (1, 150, 100)
    assert [(c["event"], c["order_id"]) for c in result["cancels"]] == [
        ("OrderCancelled", 1),
        ("CancelIgnored", 2),
    ]
    assert result["cancels"][0]["released"] == "1000.00"


CRASHING_ENGINE = """
from cashfuzz.reference_engine import Engine


class Crashing(Engine):
    def step(self, timestamp, bars=(), signals=(), cancels=()):
        super().step(timestamp, bars, signals, cancels)
        if signals:
            raise RuntimeError("boom")


def factory(config, observer=None):
    return Crashing(config, observer)
"""


def test_engine_crash_exits_one_and_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An engine that raises exits 1; the ledger shows what it logged and the JSON the crash."""
    (tmp_path / "cashfuzz_crashing_engine.py").write_text(CRASHING_ENGINE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    engine = "cashfuzz_crashing_engine:factory"
    assert main(["run", "--example", "googl-aapl", "--engine", engine]) == 1
    out = capsys.readouterr().out
    assert "the engine CRASHED after 6 events: RuntimeError: boom" in out
    assert "last reported: cash 95.98" in out
    code, result = _json_run(capsys, "--example", "googl-aapl", "--engine", engine)
    assert code == 1
    source = tmp_path / "cashfuzz_crashing_engine.py"
    assert (result["ok"], result["final"]) == (False, None)
    assert result["crash"] == f"RuntimeError: boom (raised at {source}:9 in step)"
    assert f'File "{source}", line 9, in step' in result["traceback"]
    assert len(result["fills"]) == 2


def test_no_determinism_checks_one_invariant_fewer(capsys: pytest.CaptureFixture[str]) -> None:
    """--no-determinism drops the determinism check from the count of invariants held."""
    assert main(["run", "--example", "googl-aapl", "--no-determinism"]) == 0
    assert "all 18 invariants held over 6 events" in capsys.readouterr().out


def test_unknown_key_exits_two_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A scenario with an unknown top-level key exits 2 and stderr names that key."""
    path = _write(tmp_path / "bad.json", {**MINIMAL, "initial_cahs": "5"})
    assert main(["run", path]) == 2
    captured = capsys.readouterr()
    assert "'initial_cahs'" in captured.err
    assert captured.out == ""


def test_bad_value_exits_two_naming_key_and_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad setting exits 2 and stderr names the key, the value and what is valid."""
    path = _write(tmp_path / "bad.json", {**MINIMAL, "policy": "maybe"})
    assert main(["run", path]) == 2
    assert "policy='maybe' is not one of shrink | reject" in capsys.readouterr().err


def test_malformed_json_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file that is not JSON exits 2 with the line and column of the problem."""
    path = tmp_path / "broken.json"
    path.write_text('{"initial_cash": "1000",\n  "bars": [', encoding="utf-8")
    assert main(["run", str(path)]) == 2
    assert "malformed JSON at line 2" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["run", "scenario.json", "--example", "googl-aapl"], "not both"),
        (["run"], "give a SCENARIO file or --example NAME"),
        (["run", "--example", "nope"], "'nope' is not built in"),
        (["run", "--example", "googl-aapl", "--engine", "no-colon"], "--engine 'no-colon'"),
        (["run", "--example", "googl-aapl", "--report", "out.txt"], "must end in .md"),
    ],
)
def test_bad_usage_exits_two(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad combinations of arguments exit 2 with a message saying what is valid."""
    assert main(argv) == 2
    assert expected in capsys.readouterr().err


def test_missing_scenario_file_exits_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A scenario path that does not exist exits 2 and names the path."""
    missing = tmp_path / "missing.json"
    assert main(["run", str(missing)]) == 2
    assert str(missing) in capsys.readouterr().err


def test_console_script_runs_the_example() -> None:
    """The installed ``cashfuzz`` script runs the example and exits 0."""
    script = Path(sys.executable).parent / "cashfuzz"
    completed = subprocess.run(
        [str(script), "run", "--example", "googl-aapl"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert "INSUFFICIENT_CASH" in completed.stdout


def test_scenario_text_is_never_read_as_markup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Symbols and descriptions that look like rich markup are printed literally."""
    bars = [{**bar, "symbol": "[red]X"} for bar in MINIMAL["bars"]]
    scenario = {**MINIMAL, "bars": bars, "description": "[bold]literal[/bold]"}
    assert main(["run", _write(tmp_path / "markup.json", scenario)]) == 0
    out = capsys.readouterr().out
    assert "bars: [red]X 10.0000" in out
    assert "[bold]literal[/bold]" in out


def test_an_acceptance_that_reserves_nothing_says_so() -> None:
    """An engine with no limit price and no reservation (a kit adapter of a broker that
    reserves nothing) is shown as reserving nothing, not as 'limit 0.0000'."""
    from cashfuzz.output.render import describe_event
    from cashfuzz.reference_engine import OrderAccepted, Side, TimeInForce

    bare = OrderAccepted(0, 1, 0, "AAPL", Side.BUY, 2, 2, 10_000, 0, 0, TimeInForce.DAY)
    assert describe_event(bare) == "signal 0 -> order 1 BUY 2 AAPL (reserves nothing)"
    held = bare._replace(limit_price=10_100, reserved=203)
    assert describe_event(held).endswith("(limit 1.0100, reserves 2.03)")


def test_a_refusal_without_price_or_amount_does_not_read_as_a_free_fill() -> None:
    """A FillRefused whose adapter gave no price or amount needed says so, instead of
    'BUY 1 AAPL @ 0.0000 needs 0.00, cash is 0.00'; a full one shows both."""
    from cashfuzz.output.render import describe_event
    from cashfuzz.reference_engine import FillRefused, Side

    bare = FillRefused(3, 2, "AAPL", Side.BUY, 1, 0, 0, 0)
    text = describe_event(bare)
    assert text == (
        "order 2 fill REFUSED: BUY 1 AAPL (the engine reported no amount needed), cash is 0.00"
    )
    full = bare._replace(price=100, needed=2, cash=1)
    assert (
        describe_event(full) == "order 2 fill REFUSED: BUY 1 AAPL @ 0.0100 needs 0.02, cash is 0.01"
    )
