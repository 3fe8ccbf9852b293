"""Numeric options checked as argparse parses them: NaN, infinity and out-of-range values refused."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

__all__ = ["count", "seconds", "times"]


def count(what: str, low: int = 1, high: int | None = None) -> Callable[[str], int]:
    """A whole number of ``what`` in [``low``, ``high``]."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of {what}") from None
        if value < low or (high is not None and value > high):
            span = f"at least {low}" if high is None else f"from {low} to {high}"
            raise argparse.ArgumentTypeError(f"{text!r}: {what} must be a whole number {span}")
        return value

    return parse


def seconds(*, zero: str | None = None) -> Callable[[str], float]:
    """A finite number of seconds above 0 (or 0 too, when ``zero`` says what 0 means)."""
    return _finite("seconds", zero)


def times(what: str, *, zero: str | None = None) -> Callable[[str], float]:
    """A finite positive number of ``what`` (or 0 too, when ``zero`` says what 0 means)."""
    return _finite(what, zero)


def _finite(what: str, zero: str | None) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of {what}") from None
        low_ok = value >= 0 if zero is not None else value > 0
        if not (math.isfinite(value) and low_ok):
            allowed = f"0 ({zero}) or more" if zero is not None else "more than 0"
            raise argparse.ArgumentTypeError(f"{text!r}: {what} must be a finite number, {allowed}")
        return value

    return parse
