"""What a campaign counts as already found: verified file content, never a file name."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from cashfuzz.cli import main
from cashfuzz.engines import resolve_engine
from cashfuzz.errors import UsageError
from cashfuzz.examples import load_example
from cashfuzz.provenance import engine_file_part, record, replay_command
from cashfuzz.reference_engine import Mode, write_scenario
from cashfuzz.search.campaign import counterexample_path
from cashfuzz.search.findings import Corpus, check_database_location, check_out_dir

INVARIANTS = ("accepted_orders_funded", "legal_lifecycle", "no_oversell")


def _naive_race(tmp_path: Path, engine: str = "naive") -> Path:
    race = load_example("googl-aapl")
    race = dataclasses.replace(race, config=dataclasses.replace(race.config, mode=Mode.NAIVE))
    path = tmp_path / "race.json"
    stamped = dataclasses.replace(
        race,
        provenance=record(
            found_by="gate", engine=engine, invariants=("accepted_orders_funded",), path=path
        ),
    )
    return write_scenario(stamped, path)


def test_files_named_like_findings_are_not_findings(tmp_path: Path) -> None:
    """Empty files named like counterexamples do not stop the campaign from searching."""
    out = tmp_path / "out"
    out.mkdir()
    for name in INVARIANTS:
        (out / f"naive.{name}-0000000000.json").write_text("")
    status = main(
        [
            "fuzz", "--engine", "naive", "--examples", "300", "--workers", "1",
            "--db", str(tmp_path / "fresh-db"), "--out", str(out),
        ]
    )  # fmt: skip
    assert status == 1
    real = [p for p in out.glob("*.json") if p.stat().st_size]
    assert real, "the campaign found nothing"


def test_corpus_counts_only_verified_files_of_its_engine(tmp_path: Path) -> None:
    """A file counts when it records this engine and still fails on it here."""
    race = _naive_race(tmp_path)
    (tmp_path / "naive.no_oversell-1234567890.json").write_text("{}")
    naive = Corpus(tmp_path, "naive", resolve_engine("naive"))
    assert naive.invariants() >= {"accepted_orders_funded"}
    assert [entry.path for entry in naive.entries()] == [race]
    # another engine's corpus ignores it; so does a reference engine on which it passes
    assert Corpus(tmp_path, "zoo:keyed_reservation", resolve_engine("naive")).entries() == []
    assert Corpus(tmp_path, "naive", resolve_engine("reference")).entries() == []


def test_campaign_reports_a_live_counterexample_already_in_its_folder(tmp_path: Path) -> None:
    """A folder holding a file that still fails makes the campaign exit 1, whatever its DB."""
    out = tmp_path / "out"
    out.mkdir()
    _naive_race(out)
    status = main(
        [
            "fuzz", "--engine", "naive", "--examples", "1", "--workers", "1",
            "--db", str(tmp_path / "fresh-db"), "--out", str(out),
        ]
    )  # fmt: skip
    assert status == 1


def test_engine_specs_get_distinct_bounded_file_names() -> None:
    """Specs that flatten alike, and very long ones, get distinct names of bounded length."""
    one, other = engine_file_part("odd.eng:f"), engine_file_part("odd_eng:f")
    assert one != other
    long_spec = "pkg." + "x" * 250 + ":factory"
    part = engine_file_part(long_spec)
    assert len(part) <= 50
    path = counterexample_path(Path("out"), long_spec, "accepted_orders_funded", "0123456789")
    assert len(path.name) < 255
    assert engine_file_part("zoo:keyed_reservation") == "zoo_keyed_reservation"
    assert engine_file_part("naive") == "naive"


def test_replay_command_quotes_paths_and_names_user_engines() -> None:
    """Built-in engines replay from the file alone; user code is named on the command line."""
    assert replay_command("naive", Path("a b/c.json")) == "cashfuzz run 'a b/c.json'"
    assert replay_command("my.mod:f", Path("c.json")) == "cashfuzz run c.json --engine my.mod:f"


def test_output_and_database_paths_are_checked_before_any_search(tmp_path: Path) -> None:
    """A file, or a dangling symlink, where a folder belongs is a usage error up front."""
    a_file = tmp_path / "file"
    a_file.write_text("x")
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    for bad in (a_file, dangling):
        with pytest.raises(UsageError, match="--out"):
            check_out_dir(bad)
    with pytest.raises(UsageError, match="--db"):
        check_database_location(str(a_file))
    check_database_location("redis://localhost:6379/0")  # checked when opened
    assert main(["gate", "--engine", "naive", "--out", str(a_file)]) == 2
    assert (
        main(["fuzz", "--engine", "naive", "--examples", "1", "--db", str(a_file),
              "--out", str(tmp_path / "o")])
        == 2
    )  # fmt: skip


def test_a_counterexample_that_cannot_be_written_is_printed_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """When the file cannot be written, the whole scenario goes to stderr and the gate fails."""
    import cashfuzz.search.findings as findings

    def refuse(*_: object) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(findings, "write_scenario", refuse)
    status = main(
        ["gate", "--engine", "naive", "--seed", "7", "--max-examples", "300",
         "--out", str(tmp_path)]
    )  # fmt: skip
    assert status == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err
    assert '"initial_cash"' in err
    assert '"provenance"' in err
