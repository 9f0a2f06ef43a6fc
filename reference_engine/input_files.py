"""Reading input files safely: regular files only, never more than a stated size.

A FIFO would block a reader forever and ``/dev/zero`` never ends, so the file is
opened without blocking and checked to be a regular file before a byte is read;
then at most ``MAX_FILE_BYTES`` + 1 bytes are read, whatever its size claims.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import ScenarioError
from .limits import MAX_FILE_BYTES


def read_limited(path: str | os.PathLike[str], what: str, limit: int | None = None) -> bytes:
    """The bytes of the regular file at ``path``, refusing anything else or anything
    larger than ``limit`` (default MAX_FILE_BYTES). ``what`` names the file in messages.
    Raises ScenarioError."""
    if limit is None:
        limit = MAX_FILE_BYTES
    shown = repr(str(path)) if len(str(path)) <= 200 else f"{str(path)[:200]!r}…"
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        raise ScenarioError(f"cannot read {what} {shown}: {error.strerror}") from None
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise ScenarioError(f"{what} {shown} is not a regular file")
        if info.st_size > limit:
            raise ScenarioError(
                f"{what} {shown} has {info.st_size:,} bytes; at most {limit:,} are allowed"
            )
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(handle, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as error:
        raise ScenarioError(f"cannot read {what} {shown}: {error.strerror}") from None
    finally:
        os.close(handle)
    if size > limit:
        raise ScenarioError(f"{what} {shown} grew past {limit:,} bytes while it was read")
    return b"".join(chunks)


def resolve_inside(name: str, base_dir: Path, *, allow_outside: bool, what: str) -> Path:
    """The file ``name`` relative to ``base_dir``, refused when it is absolute or leads
    outside ``base_dir`` (``..``, a symlink) unless ``allow_outside``. Raises ScenarioError."""
    shown = repr(name) if len(name) <= 200 else f"{name[:200]!r}…"
    if "\x00" in name:
        raise ScenarioError(f"{what}={shown} holds a NUL character")
    path = Path(name)
    if allow_outside:
        return path if path.is_absolute() else base_dir / path
    if path.is_absolute():
        raise ScenarioError(
            f"{what}={shown} is an absolute path; name a file in the scenario's folder "
            "(relative to it), or pass --allow-bars-outside"
        )
    joined = base_dir / path
    try:
        inside = joined.resolve().is_relative_to(base_dir.resolve())
    except (OSError, RuntimeError) as error:  # a symlink loop
        raise ScenarioError(f"{what}={shown} cannot be resolved: {error}") from None
    if not inside:
        raise ScenarioError(
            f"{what}={shown} leads outside the scenario's folder; name a file inside it, "
            "or pass --allow-bars-outside"
        )
    return joined
