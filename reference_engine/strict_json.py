"""Strict JSON decoding of scenario files.

Stricter than ``json.loads`` where a lenient reading would run a scenario other
than the one written, or let a small file do a lot of work: UTF-8 only (a bad
byte is named by its offset), at most ``MAX_FILE_BYTES``, no duplicate keys
(``json.loads`` keeps the last silently), no NaN/Infinity literals, every number
literal within the number limits before it is converted, and nesting past the
parser's guard refused (the loader then holds every key to its own shape).
Numbers with a fraction or exponent decode as exact Decimals.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from .errors import ScenarioError
from .limits import (
    MAX_FILE_BYTES,
    MAX_INTEGER_DIGITS,
    Refused,
    number_problem,
    short,
)

#: A float literal this short without an exponent is within every number limit.
_PLAIN_FLOAT_CHARS = 20


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
    refused: list[bool] = []

    def parse_int(literal: str) -> int | Refused:
        if len(literal) <= MAX_INTEGER_DIGITS:
            return int(literal)
        digits = len(literal) - literal.startswith("-")
        if digits > MAX_INTEGER_DIGITS:
            refused.append(True)
            return Refused(
                literal, f"has {digits} digits; integers have at most {MAX_INTEGER_DIGITS}"
            )
        return int(literal)

    def parse_float(literal: str) -> Decimal | Refused:
        if len(literal) <= _PLAIN_FLOAT_CHARS and "e" not in literal and "E" not in literal:
            return Decimal(literal)  # below 1e19, exponent above -19: within every limit
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
    except RecursionError:
        # the parser's own guard (about 1,000 levels) fired: far deeper than any scenario
        raise ScenarioError(
            f"{where}nested too deep for the JSON parser; a scenario nests a few levels only"
        ) from None
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
    """Every refused value and duplicate-key object with its key path, in file order;
    iterative, so no nesting depth can exhaust the stack."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        here, item = stack.pop()
        if isinstance(item, Refused | _DuplicateKeys):
            yield here, item
        if isinstance(item, dict):
            children = [(key_path(here, key), child) for key, child in item.items()]
            stack.extend(reversed(children))
        elif isinstance(item, list):
            stack.extend(
                (key_path(here, index), child) for index, child in reversed(list(enumerate(item)))
            )
