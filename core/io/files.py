"""Opening user files: every reader goes through here.

Only regular files are opened (a directory, a named pipe or a device such as /dev/zero is refused with a message
instead of hanging or reading forever), ``-`` means standard input where a command reads one stream, gzip is
detected by its magic bytes, and a UTF-8 byte-order mark is dropped.
"""

from __future__ import annotations

import gzip
import io
import os
import stat
import sys

from ..errors import InputError

STDIN = "-"


def check_regular_file(path: str | os.PathLike, what: str = "file") -> str:
    """``path`` as a string when it names an existing regular file; else an :class:`InputError` that says why."""
    path = os.fspath(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{what} not found", source=path) from None
    except OSError as exc:
        raise InputError(f"cannot open the {what}: {exc.strerror}", source=path) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"this is a folder, not a {what}", source=path)
    if not stat.S_ISREG(st.st_mode):
        raise InputError(
            "this is not a regular file (a pipe, socket or device); save the data to a file first", source=path
        )
    return path


def _is_gzip(path: str) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def open_text(path: str | os.PathLike, what: str = "file") -> io.TextIOBase:
    """A text handle on a regular file (plain or gzip) or ``-`` (standard input), without a byte-order mark."""
    if os.fspath(path) == STDIN:
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", errors="replace")
    path = check_regular_file(path, what)
    if _is_gzip(path):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", errors="replace")
    return open(path, encoding="utf-8-sig", errors="replace")


def read_text_file(path: str | os.PathLike, what: str = "file") -> str:
    """The whole text of a regular file (plain or gzip) or of standard input."""
    try:
        with open_text(path, what) as fh:
            return fh.read()
    except (EOFError, gzip.BadGzipFile, OSError) as exc:
        raise InputError(
            f"cannot read the {what}: the gzip stream is truncated or corrupt ({exc})", source=os.fspath(path)
        ) from None
