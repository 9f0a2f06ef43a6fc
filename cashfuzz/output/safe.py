"""User text made safe to print: no terminal control sequences, no rich markup.

Scenario files, engine names, file names and the messages built from them are
untrusted: an ESC in a description could clear the screen or set a window title,
and ``[/]`` in a symbol is a rich markup error. ``visible`` replaces every C0 and
C1 control character (and the Unicode direction overrides) with its ``\\x..`` /
``\\u....`` escape, so it is shown instead of sent; ``plain`` wraps the result in
a rich ``Text``, which rich never parses as markup.
"""

from __future__ import annotations

from rich.text import Text

_FORMAT_CHARS = (0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A))


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_CONTROLS = [*range(0x20), 0x7F, *range(0x80, 0xA0), *_FORMAT_CHARS]
_ONE_LINE = {code: _escape(code) for code in _CONTROLS if code != 0x09}
_MULTI_LINE = {code: text for code, text in _ONE_LINE.items() if code != 0x0A}


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with control characters written as escapes (tabs kept; newlines
    kept only with ``keep_newlines``)."""
    return text.translate(_MULTI_LINE if keep_newlines else _ONE_LINE)


def plain(text: str, style: str = "", *, keep_newlines: bool = False) -> Text:
    """``visible(text)`` as a rich Text (never read as markup), in ``style``."""
    return Text(visible(text, keep_newlines=keep_newlines), style=style)


__all__ = ["plain", "visible"]
