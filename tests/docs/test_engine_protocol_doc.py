"""docs/engine-protocol.md tells an exec engine's author everything the engine must do."""

from __future__ import annotations

import re
from pathlib import Path

from cashfuzz.reference_engine.scenario import SIZER_KEYS

PROTOCOL = Path(__file__).resolve().parents[2] / "docs" / "engine-protocol.md"


def test_the_protocol_says_the_engine_sizes_and_names_every_sizer_field() -> None:
    """A sizing section says the engine implements the sizer, with one table row per kind
    the scenario loader accepts, naming every field of that kind."""
    text = PROTOCOL.read_text(encoding="utf-8")
    section = text.split("### Sizing: the engine implements the scenario's `sizer`", 1)
    assert len(section) == 2, "no sizing section"
    body = section[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    assert "sized **by your engine**" in body
    rows = {
        match.group(1): match.group(2)
        for match in re.finditer(r"^\| `(\w+)` \| (.*?) \|", body, re.MULTILINE)
    }
    assert sorted(rows) == sorted(SIZER_KEYS)
    for kind, keys in SIZER_KEYS.items():
        for key in sorted(keys - {"kind"}):
            assert f"`{key}`" in rows[kind], f"{kind}'s row does not name {key}"
