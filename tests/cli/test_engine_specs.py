"""``--engine`` specs for the user's own engine: a module in the current folder (as
``python -m`` finds it), a file path, and clear exit-2 errors for what cannot load."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CASHFUZZ = str(Path(sys.executable).parent / "cashfuzz")
ADAPTER = """
from cashfuzz.reference_engine import Engine


def factory(config, observer=None):
    return Engine(config, observer)
"""


def _cashfuzz(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    # the installed console script: unlike `python -c`, it has no current folder on its path
    return subprocess.run(
        [CASHFUZZ, *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "my_adapter.py").write_text(ADAPTER, encoding="utf-8")
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "sub" / "engine_file.py").write_text(ADAPTER, encoding="utf-8")
    (tmp_path / "broken_adapter.py").write_text(
        "import math\n\nfactory = 1 / 0\n", encoding="utf-8"
    )
    return tmp_path


@pytest.mark.parametrize(
    "spec",
    ["my_adapter:factory", "./my_adapter.py:factory", "my_adapter.py:factory",
     "pkg/sub/engine_file.py:factory"],
)  # fmt: skip
def test_an_engine_in_the_current_folder_or_a_file_runs(project: Path, spec: str) -> None:
    """module:factory from the current folder and path/to/file.py:factory both load."""
    done = _cashfuzz(project, "run", "--example", "googl-aapl", "--engine", spec)
    assert done.returncode == 0, done.stderr
    assert "all 19 invariants held" in done.stdout


def test_a_file_given_by_absolute_path_runs_from_anywhere(project: Path, tmp_path: Path) -> None:
    """An absolute path/to/file.py:factory does not depend on the current folder."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    spec = f"{project / 'my_adapter.py'}:factory"
    done = _cashfuzz(elsewhere, "run", "--example", "googl-aapl", "--engine", spec)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("no_such_module:factory", "no module 'no_such_module' in"),
        ("./missing.py:factory", "file './missing.py' does not exist"),
        # the module's own callables first, then what it imports
        ("my_adapter:nothing", "has no callable 'nothing' (it defines: factory, Engine)"),
        ("my_adapter:factroy", "(it defines: factory, Engine; did you mean 'factory'?)"),
        ("broken_adapter:factory", "importing it raised ZeroDivisionError: division by zero"),
        ("./broken_adapter.py:factory", "broken_adapter.py:3; fix the module"),
        ("zoo:no_such_bug", "no zoo engine 'no_such_bug'"),
        ("nonsense", "is not reference, naive"),
    ],
)
def test_an_engine_that_cannot_load_exits_two_saying_what_to_change(
    project: Path, spec: str, says: str
) -> None:
    """Unknown or unloadable engines are usage errors (exit 2), never internal errors."""
    done = _cashfuzz(project, "run", "--example", "googl-aapl", "--engine", spec)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr
    assert "Traceback" not in done.stderr


def test_a_long_list_of_callables_says_how_many_it_leaves_out(project: Path) -> None:
    """A module with more than twelve callables names twelve, its own first, and the count
    of the rest, so the factory the user meant is never silently missing from the list."""
    many = "".join(f"def helper_{i:02d}():\n    pass\n\n" for i in range(14))
    (project / "crowded.py").write_text(ADAPTER + many, encoding="utf-8")
    done = _cashfuzz(project, "run", "--example", "googl-aapl", "--engine", "crowded:nope")
    assert done.returncode == 2
    assert "(it defines: factory, helper_00," in done.stderr
    assert ", and 4 more)" in done.stderr
    # a factory object made in the module (as the kit's Factory(MyEngine) is) is its own,
    # though its class comes from elsewhere
    made = ADAPTER + "import functools\nmade_here = functools.partial(factory)\n"
    (project / "made.py").write_text(made, encoding="utf-8")
    done = _cashfuzz(project, "run", "--example", "googl-aapl", "--engine", "made:nope")
    assert "(it defines: factory, made_here, Engine)" in done.stderr
