"""Opening user files: every reader goes through here.

Only regular files are opened (a directory, a named pipe or a device such as /dev/zero is refused with a message
instead of hanging or reading forever), ``-`` means standard input where a command reads one stream, gzip is
detected by its magic bytes, and a UTF-8 byte-order mark is dropped.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import shutil
import stat
import sys
import tempfile
import zlib
from collections.abc import Iterator

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


_READ_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error, OSError)


class GuardedText:
    """A text handle whose read errors (a truncated or corrupt gzip stream, an I/O error) become an
    :class:`InputError` naming the file, wherever the reading happens (line iteration included)."""

    def __init__(self, fh: io.TextIOBase, source: str, what: str):
        self._fh, self.source, self.what = fh, source, what

    def _fail(self, exc: Exception) -> InputError:
        if isinstance(exc, OSError) and not isinstance(exc, gzip.BadGzipFile):
            return InputError(f"cannot read the {self.what}: {exc.strerror or exc}", source=self.source)
        return InputError(
            f"cannot read the {self.what}: the gzip stream is truncated or corrupt ({exc}); the file was cut short "
            "or damaged, so copy or download it again",
            source=self.source,
        )

    def __iter__(self):
        try:
            # not ``yield from``: closing this generator (a reader that stops early) would close the file too
            for line in self._fh:  # noqa: UP028
                yield line
        except _READ_ERRORS as exc:
            raise self._fail(exc) from None

    def read(self, n: int = -1) -> str:
        try:
            return self._fh.read(n)
        except _READ_ERRORS as exc:
            raise self._fail(exc) from None

    def readline(self, size: int = -1) -> str:
        try:
            return self._fh.readline(size)
        except _READ_ERRORS as exc:
            raise self._fail(exc) from None

    def close(self) -> None:
        self._fh.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def open_text(path: str | os.PathLike, what: str = "file") -> GuardedText:
    """A text handle on a regular file (plain or gzip) or ``-`` (standard input), without a byte-order mark; a
    truncated or corrupt gzip stream raises :class:`InputError` when it is read."""
    if os.fspath(path) == STDIN:
        raw = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", errors="replace", closefd=False)
        return GuardedText(raw, "standard input", what)
    path = check_regular_file(path, what)
    try:
        if _is_gzip(path):
            raw = io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", errors="replace")
        else:
            raw = open(path, encoding="utf-8-sig", errors="replace")
    except OSError as exc:  # e.g. no permission to read it
        raise InputError(f"cannot open the {what}: {exc.strerror or exc}", source=path) from None
    return GuardedText(raw, path, what)


MAX_TEXT_BYTES = 1 << 30  # files read whole (tables, variant tables) may hold at most this much text


def read_text_file(path: str | os.PathLike, what: str = "file", max_bytes: int = MAX_TEXT_BYTES) -> str:
    """The whole text of a regular file (plain or gzip) or of standard input, at most ``max_bytes`` characters
    (a larger file, or a gzip stream that inflates past it, is refused with a message instead of filling memory)."""
    with open_text(path, what) as fh:
        text = fh.read(max_bytes + 1)
    if len(text) > max_bytes:
        raise InputError(
            f"the {what} holds more than {max_bytes:,} characters, more than dnalens reads whole; split it into "
            "smaller files",
            source="standard input" if os.fspath(path) == STDIN else os.fspath(path),
        )
    return text


@contextlib.contextmanager
def stdin_as_file(what: str = "input") -> Iterator[str]:
    """Standard input copied to a private temporary file (deleted afterwards), for readers that need to read their
    input twice or seek in it."""
    with tempfile.TemporaryDirectory(prefix="dnalens-stdin-") as tmp:
        path = os.path.join(tmp, "stdin")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(sys.stdin.buffer, out, 1 << 20)
        if os.path.getsize(path) == 0:
            raise InputError(f"no {what} on standard input (it is empty)", source="standard input")
        yield path
