"""Outputs that appear whole or not at all: a run writes into a temporary sibling of its output path and moves it
into place only when it has finished, so a failed run leaves the path as it was."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

from ..errors import InputError


def _replacing_note(path: Path, kind: str) -> str | None:
    if not path.exists():
        return None
    if path.is_dir():
        n = sum(1 for _ in path.rglob("*") if _.is_file())
        return f"dnalens: {path} exists ({n} files); it will be replaced when this {kind} finishes"
    return f"dnalens: {path} exists; it will be replaced when this {kind} finishes"


@contextlib.contextmanager
def atomic_dir(out: str | os.PathLike, announce=None):
    """Yield a temporary folder beside ``out``; on success it replaces ``out`` (an existing folder is replaced
    whole, and ``announce`` is told so first); on failure it is removed and ``out`` is untouched."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError("the output path is a file, not a folder; choose a folder name", source=str(out))
    note = _replacing_note(out, "run")
    if note:
        (announce or (lambda m: print(m, file=sys.stderr)))(note)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)
    os.chmod(out, 0o755)


@contextlib.contextmanager
def atomic_file(out: str | os.PathLike, announce=None):
    """Yield a temporary file path beside ``out`` (same suffixes, so formats are recognised); on success it
    replaces ``out``; on failure it is removed and ``out`` is untouched."""
    out = Path(out)
    if out.is_dir():
        raise InputError("the output path is a folder; give a file name", source=str(out))
    note = _replacing_note(out, "run")
    if note and announce:
        announce(note)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=".partial" + "".join(out.suffixes), dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, out)
    os.chmod(out, 0o644)
