"""Errors that reach the user: each says what is wrong and where (file, record, line)."""

from __future__ import annotations


class DnalensError(Exception):
    """Base class for every error dnalens shows to a user (CLI and dashboard print ``str(err)``)."""


class InputError(DnalensError):
    """Bad user input: a sequence, FASTA, BED, variant table or score file.

    ``source`` is the file name (or "pasted text"), ``record`` the record id, ``line`` the 1-based line number.
    """

    def __init__(self, message: str, source: str | None = None, record: str | None = None, line: int | None = None):
        self.message = message
        self.source = source
        self.record = record
        self.line = line
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.source:
            where.append(str(self.source))
        if self.record is not None:
            where.append(f"record '{self.record}'")
        if self.line is not None:
            where.append(f"line {self.line}")
        return (", ".join(where) + ": " + self.message) if where else self.message


class ModelError(DnalensError):
    """A model or tokenizer that cannot be loaded or does not fit the request."""
