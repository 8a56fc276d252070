"""Every error a user can cause, under one base class, and the "did you mean" helper.

A user error is bad input or a bad setting, not a bug: its message says what was
expected, what was found, where (file, line, id, key) and what to do.  The command-line
entry points catch :class:`ExpelError` and print the message without a traceback; any
other exception is a bug and keeps its traceback.

Each class also derives from the built-in exception a caller would expect
(``ValueError`` for a bad value, ``FileNotFoundError`` for a missing file), so code that
catches those keeps working.

Example:
    >>> try:
    ...     raise ModelDirError("model directory 'x' does not exist; train one with `expel-train`")
    ... except ExpelError as e:
    ...     print(f"error: {e}")
    error: model directory 'x' does not exist; train one with `expel-train`
"""

from __future__ import annotations

import difflib
from typing import Iterable


class ExpelError(Exception):
    """Base of every user error; the message says where and what to do."""


class ConfigError(ExpelError, ValueError):
    """An unknown config key, a value of the wrong type or a word not in the allowed set."""


class CorpusError(ExpelError, ValueError):
    """A document or file that breaks the ANNOTATION.md contract.

    The message names where (file, line, id) and what to do about it.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 doc_id: str | None = None):
        where = ", ".join(
            p for p in (
                f"file {path}" if path else "",
                f"line {line}" if line is not None else "",
                f"id {doc_id!r}" if doc_id else "",
            ) if p
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.path, self.line, self.doc_id = path, line, doc_id


class MissingFileError(ExpelError, FileNotFoundError):
    """An input file or folder named in the settings does not exist."""


class ModelDirError(ExpelError, ValueError):
    """A model directory or name that cannot be used safely."""


class PrecisionError(ExpelError, ValueError):
    """A numeric precision (bf16, int8) asked for a model without a passing measurement."""


class FilterError(ExpelError, ValueError):
    """A document filter file that cannot be used."""


class DumpError(ExpelError, ValueError):
    """A news dump that cannot be read as a whole (missing, wrong format, damaged)."""


class PredictError(ExpelError, ValueError):
    """A predict setting or output folder that cannot be used."""


def closest(name: str, choices: Iterable[str]) -> str:
    """Return a ' Did you mean X?' hint, or '' when nothing is close.

    Example:
        >>> closest("trainer.epocs", ["trainer.epochs", "trainer.seed"])
        " Did you mean 'trainer.epochs'?"
    """
    match = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return f" Did you mean {match[0]!r}?" if match else ""


_JSON_HINTS = {
    "Invalid control character": "a raw tab, line break or other control character inside a string; "
                                 "write it escaped (\\t, \\n, \\u0001)",
    "Expecting property name enclosed in double quotes": "keys need double quotes, and an object "
                                                         "may not end with a comma",
    "Expecting value": "a value is missing or is not JSON (strings need double quotes; "
                       "true, false and null are lower case)",
    "Extra data": "more than one JSON value on the line",
    "Unterminated string starting at": "a string is not closed",
}


def json_problem(e) -> str:
    """A :class:`json.JSONDecodeError` as one readable phrase: ``Invalid control character
    at column 63 (a raw tab ... )`` (Python's own ``msg`` ends in "at", which its message
    completes with the position)."""
    import re

    msg = re.sub(r"\s+at$", "", e.msg)
    hint = _JSON_HINTS.get(e.msg) or _JSON_HINTS.get(msg)
    return f"{msg} at column {e.colno}" + (f": {hint}" if hint else "")
