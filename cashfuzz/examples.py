"""Built-in example scenarios, shipped inside the package."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from reference_engine import Scenario, scenario_from_json

from .errors import UsageError

#: name -> file in cashfuzz/examples
EXAMPLES: dict[str, str] = {
    "googl-aapl": "googl_aapl.json",
    "googl-aapl-kelly": "googl_aapl_kelly.json",
    "googl-aapl-two-bars": "googl_aapl_two_bars.json",
}


def example_path(name: str) -> Path:
    """The file of a built-in example. Raises UsageError for an unknown name."""
    if name not in EXAMPLES:
        raise UsageError(f"--example {name!r} is not built in; choose from {', '.join(EXAMPLES)}")
    return Path(str(resources.files("cashfuzz") / "examples" / EXAMPLES[name]))


def load_example(name: str) -> Scenario:
    """A built-in example scenario by name (see EXAMPLES)."""
    path = example_path(name)
    return scenario_from_json(path.read_text(encoding="utf-8"), base_dir=path.parent)
