"""README.md as an executable document: its commands run, and what it states holds.

Every line of a ``sh`` block that starts with ``cashfuzz`` and ends in ``# exit N`` is run,
in order, as a user would run it (a subprocess, in a fresh folder; ``/tmp/X`` paths moved into
it), and must exit N. Lines ``<!-- readme-test: gate ENGINE SEED INVARIANT key=value ... -->``
state the shape of a gate counterexample that the text describes; they are checked against
the files the README's own gate command wrote.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CASHFUZZ = Path(sys.executable).parent / "cashfuzz"
COMMAND = re.compile(r"^(cashfuzz .*?)\s+#\s*exit (\d+)", re.MULTILINE)
CLAIM = re.compile(r"<!-- readme-test: gate (\S+) (\d+) (\S+)((?: \w+=\d+)*) -->")
#: engines that need an optional extra; their lines run where the extra is installed
EXTRA_ENGINES = {
    "backtrader": "backtrader",
    "nautilus": "nautilus_trader",
    "backtesting": "backtesting",
}


def _shell_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)


def _commands() -> list[tuple[str, int]]:
    found = []
    for block in _shell_blocks(README):
        for match in COMMAND.finditer(block):
            found.append((match.group(1).strip(), int(match.group(2))))
    return found


def _needs_missing_extra(command: str) -> str | None:
    words = shlex.split(command)
    for flag in ("--engine", "--against"):
        if flag in words:
            module = EXTRA_ENGINES.get(words[words.index(flag) + 1])
            if module and importlib.util.find_spec(module) is None:
                return module
    if "--example" in words and "backtrader" in command:
        return None if importlib.util.find_spec("backtrader") else "backtrader"
    return None


def test_readme_leads_with_the_two_commands_ci_runs() -> None:
    """The first block sets up and runs the example, then sets up and runs the CI test command."""
    first = _shell_blocks(README)[0]
    assert "cashfuzz run --example googl-aapl" in first
    test_command = (
        ".venv/bin/python -m coverage run -m pytest -n 2 && "
        ".venv/bin/python -m coverage combine -q && .venv/bin/python -m coverage report"
    )
    assert test_command in first
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    # verbatim, and a failure of it fails CI (set -e does not stop inside an && list)
    assert f"{test_command} || exit 1" in ci


def test_readme_commands_exit_as_stated_and_its_claims_hold(tmp_path: Path) -> None:
    """Each `# exit N` command exits N; each stated counterexample shape is what was written."""
    commands = _commands()
    assert len(commands) >= 4, "the README lost its runnable examples"
    env = {**os.environ, "PATH": f"{CASHFUZZ.parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("COLUMNS", None)
    ran = []
    for command, expected in commands:
        missing = _needs_missing_extra(command)
        if missing and not os.environ.get("CASHFUZZ_REQUIRE_ENGINES"):
            continue
        local = re.sub(r"/tmp/", f"{tmp_path}/", command)
        done = subprocess.run(
            ["bash", "-c", local], cwd=tmp_path, env=env, capture_output=True, text=True,
            timeout=600, check=False,
        )  # fmt: skip
        assert done.returncode == expected, (
            f"README says `{command}` exits {expected}; it exited {done.returncode}\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
        ran.append(command)
    assert ran
    claims = CLAIM.findall(README)
    assert claims, "the README states no counterexample shape to check"
    for engine, seed, invariant, pairs in claims:
        gate = f"cashfuzz gate --engine {engine} --seed {seed} --out /tmp/"
        assert any(c.startswith(gate) for c in ran), f"no README command runs `{gate}...`"
        out = Path(
            re.search(r"--out /tmp/(\S+)", next(c for c in ran if c.startswith(gate))).group(1)
        )
        files = sorted((tmp_path / out).glob(f"counterexample-*-{seed}-{invariant}-*.json"))
        assert len(files) == 1, f"README states a {invariant} counterexample; found {files}"
        data = json.loads(files[0].read_text(encoding="utf-8"))
        shape = {
            "steps": len({item["timestamp"] for item in data["bars"] + data["signals"]}),
            "signals": len(data["signals"]),
            "bars": len(data["bars"]),
        }
        for pair in pairs.split():
            key, value = pair.split("=")
            assert shape[key] == int(value), f"{invariant}: README says {key}={value}, got {shape}"
        assert data["provenance"]["engine"] == engine


@pytest.mark.parametrize("name", ["googl-aapl", "googl-aapl-kelly"])
def test_readme_regression_figures(name: str) -> None:
    """The GOOGL/AAPL figures the README quotes are what `run --json` reports."""
    done = subprocess.run(
        [str(CASHFUZZ), "run", "--example", name, "--json"], capture_output=True, text=True,
        check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    final = json.loads(done.stdout)["final"]["cash"]
    stated = {"googl-aapl": "95.98", "googl-aapl-kelly": "95.71"}[name]
    assert final == stated
    assert f"cash ends at {stated}" in README or f"({stated} for the Kelly variant)" in README
