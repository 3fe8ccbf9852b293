"""The plots' shared palettes (one colour per outcome and per status) and axes helpers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from replay.errors import UsageError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "OUTCOME_COLOURS",
    "STATUS_COLOURS",
    "new_axes",
    "palette",
    "require_columns",
]

#: Fixed colours per outcome, so every figure and report reads the same way.
OUTCOME_COLOURS: Mapping[str, str] = {
    "completed": "#2ca02c",
    "failed": "#d62728",
    "delete_failed": "#8c564b",
    "cancelled": "#7f7f7f",
    "timed_out": "#ff7f0e",
    "monitor_expired": "#9467bd",
    "unauthorized": "#e377c2",
    "abandoned": "#bcbd22",
    "protocol_error": "#17becf",
}

#: Fixed colours per status (Graph beta enum, the OneDrive dialect's two, and ``other``).
STATUS_COLOURS: Mapping[str, str] = {
    "notStarted": "#c7c7c7",
    "inProgress": "#1f77b4",
    "updating": "#aec7e8",
    "waiting": "#ffbb78",
    "completed": "#2ca02c",
    "failed": "#d62728",
    "deletePending": "#c49c94",
    "deleteFailed": "#8c564b",
    "cancelPending": "#dbdb8d",
    "cancelled": "#7f7f7f",
    "other": "#e7cb94",  # any status outside the policy (summary column time_in_other_s)
}


def palette(groups: Iterable[str], known: Mapping[str, str] = OUTCOME_COLOURS) -> dict[str, str]:
    """A colour per distinct group, sorted: ``known``'s colour, else matplotlib's tab10 cycle."""
    names = sorted({str(g) for g in groups})
    cycle = [f"C{i % 10}" for i in range(len(names))]
    return {g: known.get(g, c) for g, c in zip(names, cycle, strict=True)}


def new_axes(
    ax: Axes | None, size: tuple[float, float] = (9, 4), *, constrained: bool = True
) -> Axes:
    """``ax`` itself, else the axes of a new figure of ``size`` inches.

    ``constrained=False`` sets fixed margins instead of the constrained layout, which costs a
    second (non-rendering) pass over every artist at each save: worth it for 10k-line figures.
    """
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    if constrained:
        return plt.subplots(figsize=size, layout="constrained")[1]
    fig, axes = plt.subplots(figsize=size)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.13, top=0.96)
    return axes


def require_columns(frame: object, columns: Iterable[str], what: str, fix: str) -> None:
    """Raise UsageError naming the columns ``frame`` lacks, with ``fix`` as the next step."""
    have = set(getattr(frame, "columns", ()))
    missing = [c for c in columns if c not in have]
    if missing:
        raise UsageError(f"{what} lacks column(s) {', '.join(missing)}: {fix}", column=missing[0])
