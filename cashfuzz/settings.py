"""Gate settings from the ``[tool.cashfuzz]`` table of the project's pyproject.toml.

A project keeps its CI gate's engine, seed and budget beside its other tool
settings; command-line flags override them. Keys use the flags' names with
underscores (``max_examples``) or hyphens (``max-examples``). A bad value or an
unknown key is a UsageError (exit 2) naming the key, a short form of the value
and what is valid.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cashfuzz.errors import UsageError

_WHERE = "[tool.cashfuzz]"


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _integer(minimum: int) -> Callable[[str, object], int]:
    def convert(key: str, value: object) -> int:
        if type(value) is not int or value < minimum:
            raise ValueError(f"must be an integer, at least {minimum}")
        return value

    return convert


def _seconds(key: str, value: object) -> float:
    if type(value) not in (int, float) or not 0 < float(value) < math.inf:  # type: ignore[arg-type]
        raise ValueError("must be a positive, finite number of seconds")
    return float(value)  # type: ignore[arg-type]


def _text(key: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value


def _path(key: str, value: object) -> Path:
    return Path(_text(key, value))


def _names(key: str, value: object) -> tuple[str, ...]:
    """A name or a list of names; which names are valid is the command's to check."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise ValueError("must be a name or a non-empty list of names")
    return tuple(_text(key, item) for item in items)


#: Setting -> converter, for ``cashfuzz gate``.
GATE_SETTINGS: Mapping[str, Callable[[str, object], Any]] = {
    "engine": _text,
    "seed": _integer(0),
    "max_examples": _integer(1),
    "budget_seconds": _seconds,
    "shrink_examples": _integer(1),
    "shrink_seconds": _seconds,
    "out": _path,
    "junit_xml": _path,
    "only": _names,
}


def tool_settings(
    folder: Path, known: Mapping[str, Callable[[str, object], Any]] = GATE_SETTINGS
) -> dict[str, Any]:
    """The validated ``[tool.cashfuzz]`` settings of ``folder/pyproject.toml`` ({} when
    there is no such file or table). Raises UsageError for unreadable TOML, an unknown
    key or a bad value."""
    path = folder / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise UsageError(f"{path}: cannot read it as TOML: {error}") from None
    table = document.get("tool", {}).get("cashfuzz", {})
    if not isinstance(table, dict):
        raise UsageError(f"{path}: {_WHERE} must be a table of settings")
    settings: dict[str, Any] = {}
    for raw_key, value in table.items():
        key = raw_key.replace("-", "_")
        if key not in known:
            raise UsageError(
                f"{path}: {_WHERE} {raw_key} is not a setting; known: {', '.join(known)}"
            )
        try:
            settings[key] = known[key](key, value)
        except ValueError as error:
            raise UsageError(f"{path}: {_WHERE} {raw_key} = {_short(value)} {error}") from None
    return settings


__all__ = ["GATE_SETTINGS", "tool_settings"]
