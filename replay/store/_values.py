"""Python values as Arrow stores them: lone surrogates made safe, numbers checked for their column."""

from __future__ import annotations

import contextlib
import numbers
import operator
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from replay.errors import UsageError
from replay.schema import JOBS, OBSERVATIONS

__all__ = ["ESCAPED_COLUMNS", "JOB_CELLS", "OBSERVATION_CELLS", "escaped_text", "safe_text"]

#: Columns whose text is an identity or raw JSON: lone surrogates are kept as ``\uXXXX`` escapes
#: (the JSON means the same, two ids stay two); elsewhere they become U+FFFD.
ESCAPED_COLUMNS = frozenset({"job_id", "url", "labels", "body"})


def safe_text(text: str) -> str:
    """``text`` as Arrow can store it (UTF-8): surrogate pairs joined, lone surrogates (half an
    emoji cut by a server, a ``\\ud800`` escape in JSON) replaced by U+FFFD."""
    if _encodable(text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def escaped_text(text: str) -> str:
    """``text`` as Arrow can store it, lone surrogates written as ``\\uXXXX`` escapes: JSON text
    keeps its meaning, and ids that differ only there stay different."""
    if _encodable(text):
        return text
    joined = text.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")
    return joined.encode("utf-8", "backslashreplace").decode("utf-8")


def _encodable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_Cell = Callable[[Any], Any]


def _cells(schema: pa.Schema) -> tuple[tuple[str, _Cell], ...]:
    """Per column of ``schema``: the function giving what Arrow stores for a (non-null) Python
    value, or raising UsageError when the value does not fit."""
    return tuple((f.name, _cell(f)) for f in schema)


def _cell(field: pa.Field) -> _Cell:
    kind = field.type
    if pa.types.is_string(kind):
        return _text_cell(field.name, escaped_text if field.name in ESCAPED_COLUMNS else safe_text)
    if pa.types.is_floating(kind):
        return _real_cell(field.name)
    bits = 64 if pa.types.is_timestamp(kind) else kind.bit_width
    return _whole_cell(field.name, bits)


# Each cell checks the exact common type first: the recorder appends one row per poll.


def _text_cell(name: str, stored: Callable[[str], str]) -> _Cell:
    def cell(value: Any) -> str:
        if value.__class__ is str and value.isascii():
            return value
        if isinstance(value, str):
            return stored(value)
        raise _unfit(name, value, "a string")

    return cell


def _real_cell(name: str) -> _Cell:
    def cell(value: Any) -> float:
        if value.__class__ is float:
            return value
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise _unfit(name, value, "a number")
        return float(value)

    return cell


def _whole_cell(name: str, bits: int) -> _Cell:
    low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1

    def cell(value: Any) -> int:
        if value.__class__ is int and low <= value <= high:
            return value
        if not isinstance(value, bool):
            with contextlib.suppress(TypeError):
                number = operator.index(value)
                if low <= number <= high:
                    return number
        raise _unfit(name, value, f"a whole number from {low} to {high}")

    return cell


def _unfit(name: str, value: Any, expected: str) -> UsageError:
    return UsageError(
        f"{name}={value!r:.80} cannot be stored: expected {expected}; the row was not recorded",
        key=name,
    )


#: (column, cell) per column: the function giving what Arrow stores for a Python value.
OBSERVATION_CELLS = _cells(OBSERVATIONS)
JOB_CELLS = _cells(JOBS)
