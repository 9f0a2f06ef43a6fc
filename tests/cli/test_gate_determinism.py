"""A gate seed's search depends on the seed and the strategies, not on what else is loaded."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from cashfuzz.engines import resolve_engine
from cashfuzz.search.gate import run_gate


def test_same_seed_same_files_from_another_entry_point(tmp_path: Path) -> None:
    """A run in this process and one in a bare interpreter write the same files, byte for byte,
    though this process has far more local modules (and their constants) loaded."""
    here = run_gate(
        resolve_engine("naive"), seed=7, max_examples=300, out_dir=tmp_path / "here",
        engine_name="naive",
    )  # fmt: skip
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from cashfuzz.engines import resolve_engine
        from cashfuzz.search.gate import run_gate
        run_gate(resolve_engine("naive"), seed=7, max_examples=300,
                 out_dir=Path({str(tmp_path / "there")!r}), engine_name="naive")
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=tmp_path, timeout=600)
    mine = sorted(c.path.name for c in here.counterexamples)
    theirs = sorted(p.name for p in (tmp_path / "there").glob("*.json"))
    assert mine
    assert mine == theirs
    for name in mine:
        a = (tmp_path / "here" / name).read_text().replace("/here/", "/X/")
        b = (tmp_path / "there" / name).read_text().replace("/there/", "/X/")
        assert a == b
