"""Bars from a CSV file in long format (one row per timestamp and symbol).

Only ``.csv`` files are read (README lists no other format), as UTF-8 text, under
the file-size limit. Errors name the file's line and column, never the file's
content: a scenario could name any file, and its error lands in a CI log.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from typing import Any

from .errors import ScenarioError
from .input_files import read_limited
from .limits import MAX_BARS, MAX_INTEGER_DIGITS

#: The columns a bars file must have, in scenario key order; others are ignored.
BAR_COLUMNS = ("timestamp", "symbol", "open", "high", "low", "close", "volume")
#: The one format ``bars`` may name.
BARS_SUFFIX = ".csv"
_INTEGER = re.compile(r"-?\d+", re.ASCII)


def bars_from_csv(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read long-format bars from a CSV file as scenario ``bars`` rows (cells as strings,
    integer timestamps as ints). Raises ScenarioError, naming lines and columns only."""
    return read_bars_csv(Path(path))[0]


def read_bars_csv(path: Path) -> tuple[list[dict[str, Any]], list[int]]:
    """The rows of a bars CSV file and the line each row starts on. Raises ScenarioError."""
    name = path.name if len(path.name) <= 80 else f"{path.name[:80]}…"
    if path.suffix.lower() != BARS_SUFFIX:
        raise ScenarioError(
            f"bars: {name!r} is not a {BARS_SUFFIX} file; bars are a list in the scenario "
            f"or the path of a CSV file in long format"
        )
    data = read_limited(path, "bars file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ScenarioError(
            f"bars file {name!r} is not UTF-8: byte {error.start} {error.reason}"
        ) from None
    if "\x00" in text:
        raise ScenarioError(f"bars file {name!r} holds a NUL byte at {text.index(chr(0))}")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise ScenarioError(f"bars file {name!r} is empty; it needs a header row")
        columns = [cell.strip() for cell in header]
        missing = [column for column in BAR_COLUMNS if column not in columns]
        if missing:
            # the header could be anything (a secret, a terminal escape): never shown
            raise ScenarioError(
                f"bars file {name!r}: its first line lacks the column(s) {', '.join(missing)}; "
                f"a bars file has a header row naming {', '.join(BAR_COLUMNS)}"
            )
        index = {column: columns.index(column) for column in BAR_COLUMNS}
        rows: list[dict[str, Any]] = []
        lines: list[int] = []
        for cells in reader:
            if not cells:
                continue
            if len(rows) >= MAX_BARS:
                raise ScenarioError(
                    f"bars file {name!r} has more than {MAX_BARS:,} rows; at most {MAX_BARS:,} "
                    "are allowed"
                )
            line = reader.line_num
            if len(cells) != len(columns):
                raise ScenarioError(
                    f"bars file {name!r} line {line} has {len(cells)} cells; "
                    f"the header has {len(columns)}"
                )
            row: dict[str, Any] = {key: cells[at].strip() for key, at in index.items()}
            row["timestamp"] = _timestamp_cell(row["timestamp"])
            rows.append(row)
            lines.append(line)
    except csv.Error as error:
        raise ScenarioError(f"bars file {name!r} line {reader.line_num}: {error}") from None
    return rows, lines


def _timestamp_cell(cell: str) -> int | str:
    # an integer cell stays an int (its digits are limited before int() sees them)
    if _INTEGER.fullmatch(cell) and len(cell) <= MAX_INTEGER_DIGITS:
        return int(cell)
    return cell
