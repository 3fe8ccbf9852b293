"""The plots' shared palettes (one colour-blind-safe colour per outcome and status) and axes helpers."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from replay.errors import UsageError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.figure import Figure, SubFigure
    from matplotlib.gridspec import GridSpecBase
    from matplotlib.legend import Legend
    from matplotlib.ticker import Locator

__all__ = [
    "OTHER_COLOUR",
    "OUTCOME_COLOURS",
    "STATUS_COLOURS",
    "count_axis",
    "duration_axis",
    "figure_note",
    "is_bottom",
    "legend_outside",
    "new_axes",
    "new_panels",
    "note",
    "palette",
    "require_columns",
]

# Paul Tol's "muted" scheme (https://personal.sron.nl/~pault/), built to stay distinct under
# the common colour-vision deficiencies; a status and the outcome it leads to share a colour.
_INDIGO, _CYAN, _TEAL, _GREEN = "#332288", "#88CCEE", "#44AA99", "#117733"
_OLIVE, _SAND, _ROSE, _WINE, _PURPLE = "#999933", "#DDCC77", "#CC6677", "#882255", "#AA4499"
_PALE_GREY = "#DDDDDD"
#: The colour of ``other``: any status outside the policy (near black, so it stands out).
OTHER_COLOUR = "#222222"

#: Fixed colours per outcome, so every figure, notebook, widget and report reads the same way.
OUTCOME_COLOURS: Mapping[str, str] = {
    "completed": _GREEN,
    "failed": _ROSE,
    "delete_failed": _WINE,
    "cancelled": _INDIGO,
    "timed_out": _OLIVE,
    "monitor_expired": _PURPLE,
    "unauthorized": _TEAL,
    "abandoned": _SAND,
    "protocol_error": _CYAN,
}

#: Fixed colours per status (Graph beta enum, the OneDrive dialect's two, and ``other``: any
#: status outside the policy, the summary's ``time_in_other_s``).
STATUS_COLOURS: Mapping[str, str] = {
    "notStarted": _PALE_GREY,
    "inProgress": _CYAN,
    "updating": _TEAL,
    "waiting": _SAND,
    "completed": _GREEN,
    "failed": _ROSE,
    "deletePending": _PURPLE,
    "deleteFailed": _WINE,
    "cancelPending": _OLIVE,
    "cancelled": _INDIGO,
    "other": OTHER_COLOUR,
}

#: Colours for groups no palette names (labels, recordings), in the order they are handed out.
_CYCLE = (_INDIGO, _SAND, _TEAL, _ROSE, _CYAN, _OLIVE, _PURPLE, _WINE, _GREEN, "#777777")
#: Human tick values of a logarithmic duration axis, in seconds, the ones to keep first first.
_LOG_TICKS = (1, 60, 3600, 86_400, 10, 600, 6 * 3600, 0.1, 7 * 86_400)
#: Human tick steps of a linear duration axis, in seconds.
_STEPS = (
    *(1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800),
    *(21_600, 43_200, 86_400, 172_800, 604_800),
)
_MAX_TICKS = 8
_TICK_INCHES = 0.6  # room one duration label needs along the axis
_NOTE_COLOUR = "#444444"
_MARGINS = {"left": 0.08, "right": 0.98, "bottom": 0.13, "top": 0.96}
_CHARS_PER_INCH = 11  # of small (8 pt) text, for wrapping notes


def palette(groups: Iterable[str], known: Mapping[str, str] = OUTCOME_COLOURS) -> dict[str, str]:
    """A colour per distinct group, sorted: ``known``'s colour, else the next of a colour-blind-safe
    cycle not taken by a known group."""
    names = sorted({str(g) for g in groups})
    taken = {known[g] for g in names if g in known}
    spare = [c for c in _CYCLE if c not in taken] or list(_CYCLE)
    unknown = [g for g in names if g not in known]
    extra = {g: spare[i % len(spare)] for i, g in enumerate(unknown)}
    return {g: known.get(g, extra.get(g, spare[0])) for g in names}


def new_axes(
    ax: Axes | None,
    size: tuple[float, float] = (9, 4),
    *,
    constrained: bool = True,
    margins: Mapping[str, float] | None = None,
) -> Axes:
    """``ax`` itself, else the axes of a new figure of ``size`` inches.

    ``constrained=False`` sets fixed ``margins`` (figure fractions; by default a narrow frame)
    instead of the constrained layout, which costs a second (non-rendering) pass over every
    artist at each save: worth it for 10k-line figures and for the report's dozens of strips.
    """
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    if constrained:
        return plt.subplots(figsize=size, layout="constrained")[1]
    fig, axes = plt.subplots(figsize=size)
    fig.subplots_adjust(**{**_MARGINS, **(margins or {})})
    return axes


def new_panels(
    ax: Axes | None,
    shape: tuple[int, int],
    size: tuple[float, float],
    *,
    heights: Sequence[float] | None = None,
    share: bool = False,
    margins: Mapping[str, float] | None = None,
) -> list[Axes]:
    """``rows x cols`` panels (row by row): a new figure of ``size`` inches, or the area of ``ax``
    split into them (``ax`` itself is removed). ``share`` shares both axes between the panels.

    A new figure has the constrained layout, or fixed ``margins`` (``left``, ``right``,
    ``bottom``, ``top``, ``wspace``, ``hspace``) when given: cheaper to save for many panels.
    """
    rows, cols = shape
    if ax is None:
        import matplotlib.pyplot as plt

        fig: Figure | SubFigure = plt.figure(
            figsize=size, layout=None if margins is not None else "constrained"
        )
        grid: GridSpecBase = fig.add_gridspec(
            rows, cols, height_ratios=heights, **dict(margins or {})
        )
    else:
        spec = ax.get_subplotspec()
        if spec is None:
            raise UsageError("these panels need axes made by subplots: pass ax=None or such axes")
        fig = ax.figure
        grid = spec.subgridspec(rows, cols, height_ratios=heights)
        ax.remove()
    panels: list[Axes] = []
    for i in range(rows * cols):
        first = panels[0] if share and panels else None
        panels.append(fig.add_subplot(grid[i // cols, i % cols], sharex=first, sharey=first))
    return panels


def is_bottom(axes: Axes, used: int) -> bool:
    """No panel among the first ``used`` of its grid lies under ``axes``: it carries the x labels."""
    spec = axes.get_subplotspec()
    if spec is None:
        return True
    below = spec.rowspan.stop * spec.get_gridspec().ncols + spec.colspan.start
    return spec.is_last_row() or below >= used


def legend_outside(axes: Axes, **options: object) -> Legend:
    """A legend right of the axes, outside the data area."""
    placed = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "borderaxespad": 0.0}
    return axes.legend(**{"fontsize": "small", **placed, **options})


def count_axis(axis: Axis, *, most: int = 6) -> None:
    """Whole-number ticks with thousands separators (``1,500``): an axis of jobs or polls."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    axis.set_major_locator(MaxNLocator(nbins=most, integer=True))
    axis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:,.0f}"))


def note(axes: Axes, text: str) -> None:
    """A short note above the axes, left-aligned (what the figure leaves out, and why)."""
    if text:
        axes.set_title(_wrapped(axes, text, 0.8), loc="left", fontsize="small", color=_NOTE_COLOUR)


def figure_note(axes: Axes, text: str) -> None:
    """A short note above all the panels of ``axes``' figure, left-aligned."""
    if text:
        axes.figure.suptitle(
            _wrapped(axes, text, 1.25), x=0.01, ha="left", fontsize="small", color=_NOTE_COLOUR
        )


def _wrapped(axes: Axes, text: str, widths: float) -> str:
    """``text`` broken into lines about as wide as ``widths`` times the axes' figure."""
    import textwrap

    inches = float(axes.figure.bbox.width) / float(axes.figure.dpi) * widths
    return textwrap.fill(text, width=max(int(inches * _CHARS_PER_INCH), 40))


def duration_axis(axis: Axis, *, log: bool) -> None:
    """Ticks of a seconds axis at human durations (``10 s``, ``5 min``, ``1 h``), labelled so."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    from replay._human import duration

    axis.set_major_locator(_locator_class()(log=log))  # type: ignore[call-arg]
    axis.set_major_formatter(FuncFormatter(lambda value, _pos: duration(value)))
    if log:
        axis.set_minor_formatter(NullFormatter())


def _duration_ticks(low: float, high: float, *, log: bool, most: int = _MAX_TICKS) -> list[float]:
    """Up to ``most`` human durations between ``low`` and ``high`` seconds: decades (1 s, 1 min,
    1 h first) or nice linear steps."""
    import numpy as np

    if log:
        inside = [t for t in _LOG_TICKS if low <= t <= high]
        return sorted(inside[: max(most, 2)])
    span = max(high - low, 1e-9)
    step = next((s for s in _STEPS if span / s <= max(most, 2)), _STEPS[-1])
    if span < _STEPS[0] * 2:  # under two seconds: matplotlib's own fine steps
        from matplotlib.ticker import MaxNLocator

        return [float(t) for t in MaxNLocator(min(most, 5)).tick_values(low, high)]
    first = np.ceil(low / step) * step
    return [float(t) for t in np.arange(first, high + step * 1e-9, step)]


@functools.cache
def _locator_class() -> type[Locator]:
    """A matplotlib Locator at human durations (made once, when matplotlib is first needed)."""
    from matplotlib.ticker import Locator

    class DurationLocator(Locator):
        """Tick positions at human durations for the axis' current view."""

        def __init__(self, *, log: bool) -> None:
            self.log = log

        def __call__(self) -> list[float]:
            low, high = sorted(self.axis.get_view_interval()) if self.axis else (0.0, 1.0)
            return self.tick_values(low, high)

        def tick_values(self, vmin: float, vmax: float) -> list[float]:
            low, high = min(vmin, vmax), max(vmin, vmax)
            return _duration_ticks(low, high, log=self.log, most=self._room())

        def _room(self) -> int:
            """How many labels fit along the axis (a horizontal one: its axes' width)."""
            axes = getattr(self.axis, "axes", None)
            if axes is None:
                return _MAX_TICKS
            box = axes.get_position()
            figure = axes.figure
            inches = box.width * float(figure.bbox.width) / float(figure.dpi)
            return min(max(int(inches / _TICK_INCHES), 2), _MAX_TICKS)

    return DurationLocator


def require_columns(frame: object, columns: Iterable[str], what: str, fix: str) -> None:
    """Raise UsageError naming the columns ``frame`` lacks, with ``fix`` as the next step."""
    have = set(getattr(frame, "columns", ()))
    missing = [c for c in columns if c not in have]
    if missing:
        raise UsageError(f"{what} lacks column(s) {', '.join(missing)}: {fix}", column=missing[0])
