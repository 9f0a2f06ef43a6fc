"""``cashfuzz fuzz`` and ``cashfuzz replay``: campaigns find, write, resume and share."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cashfuzz.cli import main
from cashfuzz.reference_engine import load_scenario

CASHFUZZ = [sys.executable, "-m", "cashfuzz.cli"]


def _failures(out: Path, invariant: str = "accepted_orders_funded") -> list[Path]:
    return sorted(out.glob(f"*.{invariant}-*.json"))


def test_campaign_finds_the_race_and_the_file_replays(tmp_path: Path) -> None:
    """A naive-engine campaign writes the race as a file that ``cashfuzz run`` replays to exit 1."""
    out = tmp_path / "out"
    status = main(
        [
            "fuzz", "--engine", "naive", "--examples", "400", "--workers", "1",
            "--db", str(tmp_path / "db"), "--out", str(out),
        ]
    )  # fmt: skip
    assert status == 1
    found = _failures(out)
    assert found, sorted(p.name for p in out.iterdir())
    assert main(["run", str(found[0])]) == 1
    assert not list(out.glob(".*.tmp")), "a temporary file was left behind"


def test_reference_campaign_finds_nothing(tmp_path: Path) -> None:
    """A campaign on the reference engine exits 0 and writes no counterexample."""
    out = tmp_path / "out"
    status = main(
        [
            "fuzz", "--engine", "reference", "--examples", "150", "--workers", "1",
            "--db", str(tmp_path / "db"), "--out", str(out),
        ]
    )  # fmt: skip
    assert status == 0
    assert list(out.glob("*.json")) == []


def test_killed_campaign_loses_nothing_and_resumes(tmp_path: Path) -> None:
    """A campaign killed with SIGKILL leaves a whole file, and a rerun starts from its database."""
    out, db = tmp_path / "out", tmp_path / "db"
    process = subprocess.Popen(
        [*CASHFUZZ, "fuzz", "--engine", "naive", "--minutes", "5", "--workers", "1",
         "--db", str(db), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while not _failures(out) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    found = _failures(out)
    assert found, "the campaign found nothing in 90 s"
    first = load_scenario(found[0])  # whole and valid, though killed mid-campaign
    assert first.signals

    resumed = subprocess.run(
        [*CASHFUZZ, "fuzz", "--engine", "naive", "--examples", "1", "--workers", "1",
         "--db", str(db), "--out", str(tmp_path / "again")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert resumed.returncode == 1, resumed.stderr
    assert "from database" in resumed.stderr
    # every failure on file before the kill comes back from the database, as the same scenario
    for path in sorted(out.glob("*.json")):
        assert (tmp_path / "again" / path.name).exists(), path.name


def test_replay_reports_a_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``cashfuzz replay`` exits 0 when a corpus passes, 1 while one still fails, 2 without one."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    example = Path(__file__).resolve().parents[2] / "cashfuzz" / "examples" / "googl_aapl.json"
    (corpus / "race.json").write_text(example.read_text())
    assert main(["replay", str(corpus)]) == 0
    capsys.readouterr()
    assert main(["replay", str(corpus), "--engine", "naive", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert report["files"][0]["violations"][0]["invariant"] == "accepted_orders_funded"
    assert main(["replay", str(tmp_path / "missing")]) == 2


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A private redis-server on a free loopback port, stopped after the test."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CASHFUZZ_REQUIRE_REDIS"):
            pytest.fail("redis-server is required here (CASHFUZZ_REQUIRE_REDIS is set)")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.redis
def test_two_workers_share_a_failure_through_redis(tmp_path: Path, redis_url: str) -> None:
    """A failure one worker saves in Redis is replayed by a second worker with its own output."""
    first = subprocess.run(
        [*CASHFUZZ, "fuzz", "--engine", "naive", "--examples", "400", "--workers", "1",
         "--redis", redis_url, "--out", str(tmp_path / "a")],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert first.returncode == 1, first.stderr
    found = _failures(tmp_path / "a")
    assert found
    second = subprocess.run(
        [*CASHFUZZ, "fuzz", "--engine", "naive", "--examples", "1", "--workers", "1",
         "--redis", redis_url, "--out", str(tmp_path / "b")],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert second.returncode == 1, second.stderr
    assert (tmp_path / "b" / found[0].name).exists()
    assert f"from database) accepted_orders_funded -> {tmp_path / 'b'}" in " ".join(
        second.stderr.split()
    )


def test_campaign_whose_workers_die_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A worker that dies of its own error (here: no Redis at that address) is never a pass."""
    status = main(
        [
            "fuzz", "--engine", "reference", "--examples", "50", "--workers", "1",
            "--redis", "redis://127.0.0.1:1/0", "--out", str(tmp_path / "out"),
        ]
    )  # fmt: skip
    assert status == 3
    err = capsys.readouterr().err
    assert "worker 0 died" in err
    assert "proves nothing" in err


def test_campaign_whose_worker_vanishes_exits_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A worker that ends without a Python error (os._exit, a crash, the OOM killer) is caught."""
    (tmp_path / "vanishing_engine.py").write_text(
        "import os\n\ndef make(config, observer=None):\n    os._exit(7)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    status = main(
        [
            "fuzz", "--engine", "vanishing_engine:make", "--minutes", "0.5", "--workers", "1",
            "--db", str(tmp_path / "db"), "--out", str(tmp_path / "out"),
        ]
    )  # fmt: skip
    assert status == 3
    assert "exited early with status 7" in capsys.readouterr().err
