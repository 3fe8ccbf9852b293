"""The explorer widget: filters, the job list, and one job's progress, statuses and violations."""

from __future__ import annotations

import hashlib
import io
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from replay.widgets._index import Filters, JobIndex
from replay.widgets._recording import Recording, load_recording, resolve_data

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from replay.plots import EtaPlot, ProgressCurves, StatusTimeline
    from replay.status import Policy

__all__ = ["Explorer", "Filters", "Recording", "load_recording", "resolve_data"]

#: Jobs listed in the picker at most; the filters and the search narrow the rest.
MAX_LISTED = 500
#: Fleet views kept for reuse (by the exact set of jobs kept): undoing a filter is instant.
FLEET_CACHE = 8
#: Table rows shown at most per job (transitions, violations).
MAX_ROWS = 200
_WINDOW_STEPS = 100
# Fixed margins, not a layout engine (constrained layout costs more than the drawing), given to
# each redraw's subplots (Figure.clear resets subplots_adjust); room on the right of each plot
# for its legend, which sits outside the data.
_FLEET_MARGINS = {"left": 0.06, "right": 0.98, "bottom": 0.22, "top": 0.9, "wspace": 0.5}
_JOB_MARGINS = {"left": 0.09, "right": 0.8, "bottom": 0.1, "top": 0.93, "hspace": 0.3}


class Explorer:
    """An app for JupyterLab over one recording: filters, a job picker, the job and the fleet.

    Validation, the summary, the transitions and the ETA of running jobs are computed once here;
    a change of filter only masks those frames and redraws. Every control is an attribute
    (``outcome``, ``label``, ``label_values``, ``code``, ``stuck_only``, ``window``, ``search``,
    ``picker``) and so is what is shown (``job_ids``, ``selected``, ``running``, ``job_curves``,
    ``job_timeline``, ``fleet_curves``, ``fleet_eta``, the PNGs and the HTML tables), so code and
    tests can drive it: ``explorer.outcome.value = ("failed",)``.
    """

    def __init__(
        self,
        obs: pd.DataFrame,
        *,
        jobs: pd.DataFrame | None = None,
        policy: Policy | str | None = None,
    ) -> None:
        import ipywidgets as w

        self.index = JobIndex(obs, jobs=jobs, policy=policy)
        self.job_ids: np.ndarray = self.index.ids
        self.fleet_curves: ProgressCurves | None = None
        self.fleet_eta: EtaPlot | None = None
        self.running = self.index.eta
        self.job_curves: ProgressCurves | None = None
        self.job_timeline: StatusTimeline | None = None
        self.redraw_s = 0.0
        self._quiet = False
        self._fleet_cache: dict[bytes, tuple[ProgressCurves | None, EtaPlot | None, bytes]] = {}
        self._shown: str | None = ""  # the job the job view draws ("" before the first draw)
        self._build_controls(w)
        self._build_views(w)
        filters = (self.outcome, self.label_values, self.code, self.window, self.search)
        for control in (*filters, self.stuck_only):
            control.observe(self._on_filter, names="value")
        self.label.observe(self._on_label, names="value")
        self.picker.observe(self._on_pick, names="value")
        self._on_filter()

    # -- what a notebook shows -------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """Show the app when the explorer is the value of a notebook cell."""
        return self.widget._repr_mimebundle_(**kwargs)

    @property
    def summary(self) -> pd.DataFrame:
        """The per-job summary (every job, unfiltered)."""
        return self.index.summary

    @property
    def violations(self) -> pd.DataFrame:
        """The violations (every job, unfiltered)."""
        return self.index.violations

    @property
    def selected(self) -> str | None:
        """The job the picker shows, or None when the filters leave no job."""
        value = self.picker.value
        return str(value) if value else None

    @property
    def filters(self) -> Filters:
        """The filters the controls currently ask for."""
        label = self.label.value or None
        return Filters(
            outcomes=tuple(self.outcome.value),
            label=label,
            label_values=tuple(self.label_values.value) if label else (),
            codes=tuple(self.code.value),
            window=self._window_value(),
            search=self.search.value.strip(),
            stuck_only=bool(self.stuck_only.value),
        )

    # -- building -----------------------------------------------------------------------------
    def _build_controls(self, w: Any) -> None:
        index = self.index
        wide = w.Layout(width="260px")
        self.outcome = w.SelectMultiple(
            options=sorted(index.outcome.categories), description="outcome", rows=5, layout=wide
        )
        keys = list(index.labels.columns)
        self.label = w.Dropdown(
            options=[("(no label)", "")] + [(k, k) for k in keys],
            value="scenario" if "scenario" in keys else "",
            description="label",
            layout=wide,
        )
        self.label_values = w.SelectMultiple(options=[], description="values", rows=5, layout=wide)
        present: set[str] = set(index.violations["code"].astype(str))
        self.code = w.SelectMultiple(
            options=[c for c in index.codes if c in present],
            description="violation",
            rows=5,
            layout=wide,
        )
        self.window = w.SelectionRangeSlider(
            options=self._window_options() or [("-", None)],
            description="time",
            continuous_update=False,
            layout=w.Layout(width="600px"),
        )
        self.window.value = (self.window.options[0][1], self.window.options[-1][1])
        self.stuck_only = w.Checkbox(description="stuck jobs only", indent=False)
        self.search = w.Text(description="search", placeholder="part of a job id", layout=wide)
        self.picker = w.Select(options=[], description="job", rows=14, layout=wide)
        self.count = w.HTML()
        self._fill_label_values()

    def _build_views(self, w: Any) -> None:
        from matplotlib.figure import Figure

        self.fleet_figure = Figure(figsize=(11, 3.8))
        self.job_figure = Figure(figsize=(8, 5))
        self.fleet_png = w.Image(format="png")
        self.job_png = w.Image(format="png")
        self.job_info = w.HTML()
        self.transitions_table = w.HTML()
        self.violations_table = w.HTML()
        hint = "<small>none selected = all</small>"
        filters = w.HBox(
            [
                w.VBox([self.outcome, w.HTML(hint)]),
                w.VBox([self.label, self.label_values]),
                w.VBox([self.code, w.HTML(hint), self.stuck_only]),
            ]
        )
        job = w.HBox(
            [
                w.VBox([self.search, self.picker, self.count]),
                w.VBox([self.job_info, self.job_png]),
            ]
        )
        tables = w.Tab(children=[self.transitions_table, self.violations_table])
        tables.set_title(0, "transitions")
        tables.set_title(1, "violations")
        self.widget = w.VBox([filters, self.window, job, tables, self.fleet_png])

    # -- reacting -----------------------------------------------------------------------------
    def _on_label(self, _change: Any = None) -> None:
        self._quiet = True
        try:
            self._fill_label_values()
        finally:
            self._quiet = False
        self._on_filter()

    def _on_filter(self, _change: Any = None) -> None:
        if self._quiet:
            return
        started = time.perf_counter()
        keep = self.index.mask(self.filters)
        self.job_ids = self.index.ids[keep]
        self.running = self.index.eta_of(keep)
        self._list_jobs()
        self._show_fleet(keep)
        if self.selected != self._shown:
            self._show_job()
        self.redraw_s = time.perf_counter() - started

    def _on_pick(self, _change: Any = None) -> None:
        if not self._quiet:
            self._show_job()

    def _list_jobs(self) -> None:
        """Refill the picker, keeping the chosen job when it passes the filters."""
        listed = self.job_ids[:MAX_LISTED].tolist()
        current = self.picker.value
        self._quiet = True
        try:
            self.picker.options = listed
            self.picker.value = (
                current if current in set(listed) else (listed[0] if listed else None)
            )
        finally:
            self._quiet = False
        more = len(self.job_ids) - len(listed)
        running, stuck = len(self.running), int(self.running["stuck"].sum())
        self.count.value = (
            f"{len(self.job_ids)} of {len(self.index)} jobs ({running} running, {stuck} stuck)"
        ) + (f"; the list shows the first {len(listed)}, search to narrow" if more > 0 else "")

    # -- drawing ------------------------------------------------------------------------------
    def _show_fleet(self, keep: np.ndarray) -> None:
        """Draw the fleet view of ``keep``, or reuse it when this job set was drawn lately."""
        key = hashlib.blake2b(np.packbits(keep).tobytes(), digest_size=16).digest()
        if key not in self._fleet_cache:
            self._draw_fleet(keep)
            self._fleet_cache[key] = (self.fleet_curves, self.fleet_eta, self.fleet_png.value)
            while len(self._fleet_cache) > FLEET_CACHE:
                del self._fleet_cache[next(iter(self._fleet_cache))]  # the oldest
        self.fleet_curves, self.fleet_eta, self.fleet_png.value = self._fleet_cache[key]

    def _draw_fleet(self, keep: np.ndarray) -> None:
        from replay.plots import eta_plot, progress_curves

        fig = self.fleet_figure
        fig.clear()
        left, right = fig.subplots(1, 2, width_ratios=(3, 2), gridspec_kw=_FLEET_MARGINS)
        self.fleet_curves = None
        if keep.any():
            rows = self.index.rows_of(keep)
            self.fleet_curves = progress_curves(rows, summary=self.index.summary, ax=left)
        left.set_title(f"progress of the {int(keep.sum())} jobs the filters keep")
        self.fleet_eta = eta_plot(self.running, ax=right) if len(self.running) else None
        if self.fleet_eta is None:
            right.text(0.5, 0.5, "no running job\n(every job kept has ended)", ha="center")
            right.set_axis_off()
        else:
            stuck = int(self.running["stuck"].sum())
            right.set_title(f"ETA of {len(self.running)} running jobs, {stuck} stuck (red)")
            _short_time_ticks(right)
        self.fleet_png.value = _png(fig)

    def _show_job(self) -> None:
        job = self._shown = self.selected
        fig = self.job_figure
        fig.clear()
        top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw=_JOB_MARGINS)
        if job is None:
            self.job_curves = self.job_timeline = None
            top.set_title("no job passes the filters")
            self.job_info.value = (
                "<p>No job passes the filters: widen them.</p>"
                if len(self.index)
                else "<p>This recording has no observations: record some jobs first.</p>"
            )
            self.transitions_table.value = self.violations_table.value = ""
        else:
            self._draw_job(job, top, bottom)
        self.job_png.value = _png(fig)

    def _draw_job(self, job: str, top: Axes, bottom: Axes) -> None:
        from replay.plots import progress_curves, status_timeline

        rows, violations = self.index.job_obs(job), self.index.job_violations(job)
        self.job_curves = progress_curves(rows, summary=self.index.summary, ax=top)
        top.set_title(job, fontsize="small")
        top.set_xlabel("")
        self.job_timeline = status_timeline(rows, job, violations=violations, ax=bottom)
        bottom.set_title("")
        self.job_info.value = _job_info(self.index.job_summary(job), self.index.job_eta(job))
        self.transitions_table.value = _table(self.index.job_transitions(job), "transitions")
        self.violations_table.value = _table(violations, "violations")

    def _fill_label_values(self) -> None:
        key = self.label.value
        values = self.index.labels[key].dropna().unique() if key else []
        self.label_values.options = sorted(str(v) for v in values)
        self.label_values.value = ()

    def _window_options(self) -> list[tuple[str, pd.Timestamp | None]]:
        bounds = self.index.time_bounds()
        if bounds is None:
            return []
        stamps = pd.date_range(bounds[0], bounds[1], periods=_WINDOW_STEPS + 1).unique()
        return [(t.strftime("%m-%d %H:%M:%S"), t) for t in stamps]

    def _window_value(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        start, end = self.window.value
        if start is None or (start, end) == (self.window.options[0][1], self.window.options[-1][1]):
            return None  # the whole recording: no filter (and no rounding at the edges)
        return start, end


def _png(fig: Figure) -> bytes:
    """The figure as PNG bytes (Agg, no pyplot: nothing leaks into the notebook's figures)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _short_time_ticks(ax: Axes) -> None:
    """Few, short date ticks on the x axis (the ETA panel is narrow)."""
    import matplotlib.dates as mdates

    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=2, maxticks=3))  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S", tz="UTC"))  # type: ignore[no-untyped-call]


def _table(frame: pd.DataFrame, what: str) -> str:
    if not len(frame):
        return f"<p>no {what}</p>"
    head = frame.head(MAX_ROWS)
    more = f"<p>first {MAX_ROWS} of {len(frame)} {what}</p>" if len(frame) > MAX_ROWS else ""
    return head.to_html(index=False, na_rep="") + more


def _job_info(row: pd.Series, eta: pd.Series | None) -> str:
    """One line about the job; for a running one, when it should end (or why it is stuck)."""
    text = (
        f"<b>{row['job_id']}</b>: {row['outcome']} after {row['duration_s']:.1f} s, "
        f"{row['n_obs']} observations, final status {row['final_status']}, "
        f"max {row['max_pct']:.0f}%, {row['n_violations']} violation(s)"
    )
    if eta is None:
        return text
    if bool(eta["stuck"]):
        from replay.plots import OUTCOME_COLOURS

        stuck = OUTCOME_COLOURS["failed"]
        return f"{text}<br><b style='color:{stuck}'>stuck</b>: {eta['reason']}"
    end = "unknown" if pd.isna(eta["eta"]) else f"{pd.Timestamp(eta['eta']):%Y-%m-%d %H:%M:%S} UTC"
    return f"{text}<br>running: estimated end {end} (from the {eta['basis']} rate)"
