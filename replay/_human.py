"""Numbers as people read them: durations, shares, sizes, rates, thresholds and timestamps."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["count", "duration", "jobs", "number", "pct", "rate", "share", "size", "timestamp"]

_UNKNOWN = "n/a"
_SIZES = (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3))


def _known(value: Any) -> bool:
    """``value`` is a finite number (not None, NaN, NA or infinite)."""
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def duration(seconds: Any) -> str:
    """A duration for people: ``0 s``, ``4.2 s``, ``42 s``, ``12 min 05 s``, ``1 h 02 min``,
    ``2 d 03 h`` (``15 min``, ``1 h``: a zero second part left out); ``n/a`` when unknown."""
    if not _known(seconds):
        return _UNKNOWN
    value = float(seconds)
    if value < 0:
        return "-" + duration(-value)
    if value == 0:
        return "0 s"
    if value < 0.1:
        return f"{value * 1000:.0f} ms"
    if value < 9.95:
        return f"{value:.1f}".removesuffix(".0") + " s"
    whole = round(value)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return _two(*divmod(whole, 60), "min", "s")
    minutes = round(value / 60)
    if minutes < 24 * 60:
        return _two(*divmod(minutes, 60), "h", "min")
    return _two(*divmod(round(value / 3600), 24), "d", "h")


def _two(big: int, small: int, big_unit: str, small_unit: str) -> str:
    """``12 min 05 s``, or ``12 min`` when the small part is 0."""
    return f"{big} {big_unit}" + (f" {small:02d} {small_unit}" if small else "")


def number(value: Any, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits, never in exponent form: ``6.74``, ``1800``."""
    if not _known(value):
        return _UNKNOWN
    x = float(value)
    if x == 0:
        return "0"
    decimals = max(digits - 1 - math.floor(math.log10(abs(x))), 0)
    text = f"{x:,.{decimals}f}".replace(",", "")
    return text.rstrip("0").rstrip(".") if "." in text else text


def pct(value: Any) -> str:
    """A percentage complete (0..100) to one decimal at most: ``76%``, ``97.1%``."""
    if not _known(value):
        return "none"
    return f"{float(value):.1f}".removesuffix(".0") + "%"


def share(value: Any) -> str:
    """A share (0..1) as a percentage to one decimal: ``86.1%``."""
    return _UNKNOWN if not _known(value) else f"{100 * float(value):.1f}%"


def count(value: Any) -> str:
    """A whole number with thousands separators: ``20,000``."""
    return _UNKNOWN if not _known(value) else f"{round(float(value)):,}"


def jobs(value: int, noun: str = "job") -> str:
    """``1 job``, ``20,000 jobs``: a count and its noun, singular or plural."""
    return f"{value:,} {noun}" + ("" if value == 1 else "s")


def size(value: Any) -> str:
    """Bytes in decimal units: ``1.2 GB``, ``350 kB``, ``12 B``."""
    if not _known(value):
        return _UNKNOWN
    x = float(value)
    for unit, scale in _SIZES:
        if abs(x) >= scale:
            return f"{number(x / scale)} {unit}"
    return f"{x:.0f} B"


def rate(value: Any, unit: str = "bytes") -> str:
    """A throughput: ``2.5 MB/s`` (``unit="bytes"``) or ``0.42 %/s`` (``"percent"``)."""
    if not _known(value):
        return _UNKNOWN
    return f"{number(value)} %/s" if unit == "percent" else f"{size(value)}/s"


def timestamp(value: Any) -> str:
    """A time to the second with its zone: ``2026-01-05 22:03:13 UTC``; ``n/a`` when unknown."""
    import pandas as pd

    if value is None or value is pd.NaT or value is pd.NA:
        return _UNKNOWN
    try:
        ts: Any = pd.Timestamp(value)
    except (TypeError, ValueError):
        return str(value)
    if not isinstance(ts, pd.Timestamp) or pd.isna(ts):  # NaN, NaT from a string
        return _UNKNOWN
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.floor("s").strftime("%Y-%m-%d %H:%M:%S UTC")
