"""Strict JSON decoding of scenario files.

Stricter than ``json.loads`` where a lenient reading would run a scenario other
than the one written, or let a small file do a lot of work: UTF-8 only (a bad
byte is named by its offset), at most ``MAX_FILE_BYTES`` and ``MAX_DEPTH`` levels
of nesting, no duplicate keys (``json.loads`` keeps the last silently), no
NaN/Infinity literals, and every number literal within the number limits before
it is converted. Numbers with a fraction or exponent decode as exact Decimals.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from .errors import ScenarioError
from .limits import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_INTEGER_DIGITS,
    Refused,
    number_problem,
    short,
)

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST = re.compile(r"\[\]|\{\}")
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


class _DuplicateKeys(dict[str, Any]):
    """An object in which ``key`` appeared more than once."""

    key: str = ""


def decode_json_bytes(data: bytes, source: str = "") -> Any:
    """Decode a scenario file's bytes under the rules above. Raises ScenarioError."""
    where = f"{source}: " if source else ""
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(
            f"{where}the file has {len(data):,} bytes; at most {MAX_FILE_BYTES:,} are allowed"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ScenarioError(
            f"{where}not UTF-8: byte {error.start} (0x{data[error.start]:02x}) "
            f"{error.reason}; save the file as UTF-8"
        ) from None
    return decode_json_text(text, source)


def decode_json_text(text: str, source: str = "") -> Any:
    """Decode scenario JSON text under the rules above. Raises ScenarioError."""
    where = f"{source}: " if source else ""
    if len(text) > MAX_FILE_BYTES:
        raise ScenarioError(
            f"{where}the text has {len(text):,} characters; at most {MAX_FILE_BYTES:,} are allowed"
        )
    deep = _too_deep_at(text)
    if deep is not None:
        raise ScenarioError(
            f"{where}nesting deeper than {MAX_DEPTH} levels at {_line_column(text, deep)}"
        )
    refused: list[bool] = []

    def parse_int(literal: str) -> int | Refused:
        digits = len(literal) - literal.startswith("-")
        if digits > MAX_INTEGER_DIGITS:
            refused.append(True)
            return Refused(
                literal, f"has {digits} digits; integers have at most {MAX_INTEGER_DIGITS}"
            )
        return int(literal)

    def parse_float(literal: str) -> Decimal | Refused:
        problem = number_problem(literal)
        if problem is not None:
            refused.append(True)
            return Refused(literal, problem)
        return Decimal(literal)

    def parse_constant(literal: str) -> Refused:
        refused.append(True)
        return Refused(literal, "is not a number JSON allows; write a decimal string")

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) == len(pairs):
            return result
        seen: set[str] = set()
        duplicate = _DuplicateKeys(result)
        for key, _ in pairs:
            if key in seen:
                duplicate.key = key
                break
            seen.add(key)
        refused.append(True)
        return duplicate

    try:
        raw = json.loads(
            text,
            parse_int=parse_int,
            parse_float=parse_float,
            parse_constant=parse_constant,
            object_pairs_hook=pairs_hook,
        )
    except json.JSONDecodeError as error:
        raise ScenarioError(
            f"{where}malformed JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None
    except RecursionError:  # unbalanced brackets the depth check could not pair up
        raise ScenarioError(f"{where}nesting deeper than {MAX_DEPTH} levels") from None
    if refused:
        for path, value in _walk(raw, ""):
            if isinstance(value, Refused):
                raise ScenarioError(f"{where}{path or 'the value'}={value!r} {value.reason}")
            if isinstance(value, _DuplicateKeys):
                inside = f" in {path}" if path else ""
                raise ScenarioError(
                    f"{where}duplicate key {short(value.key)}{inside}: each key may appear once"
                )
    return raw


def key_path(parent: str, key: str | int) -> str:
    """``signals[3].quantity``: the path of ``key`` inside ``parent``, long keys cut short."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    name = key if len(key) <= 40 and key.isidentifier() else short(key)
    return f"{parent}.{name}" if parent else name


def _walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, _DuplicateKeys):
        yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, key_path(path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, key_path(path, index))
    elif isinstance(value, Refused):
        yield path, value


def _too_deep_at(text: str) -> int | None:
    """The offset where nesting first passes MAX_DEPTH, or None. Fast on large files:
    the common case strips strings and removes innermost pairs MAX_DEPTH times, in C."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    for _ in range(MAX_DEPTH):
        brackets, removed = _INNERMOST.subn("", brackets)
        if not brackets or not removed:
            return None  # within the limit, or unbalanced (the parser says where)
    if not _INNERMOST.search(brackets):
        return None
    depth = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return match.start()
        elif token in "]}":
            depth -= 1
    return None  # pragma: no cover - the passes above found a deeper pair


def _line_column(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"line {line} column {column}"
