"""The ipywidgets explorer: filter jobs by outcome, pick one, see its progress and violations."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd

__all__ = ["Explorer"]


class Explorer:
    """An app for JupyterLab: an outcome filter, a searchable job list, the job's curve and violations."""

    def __init__(
        self,
        obs: pd.DataFrame,
        summary: pd.DataFrame | None = None,
        violations: pd.DataFrame | None = None,
    ) -> None:
        import ipywidgets as w

        from replay.summary import summarize
        from replay.validate import validate

        self.obs = obs
        self.violations = validate(obs) if violations is None else violations
        self.summary = summarize(obs, violations=self.violations) if summary is None else summary
        outcomes = sorted(self.summary["outcome"].astype(str).unique())
        self.outcome = w.SelectMultiple(
            options=outcomes, value=tuple(outcomes), description="outcome"
        )
        self.search = w.Text(description="search")
        self.jobs = w.Select(options=[], description="job", rows=10)
        self.figure = w.Image(format="png")
        self.table = w.HTML()
        for control in (self.outcome, self.search):
            control.observe(self._refilter, names="value")
        self.jobs.observe(self._show, names="value")
        self.widget = w.HBox(
            [w.VBox([self.outcome, self.search, self.jobs]), w.VBox([self.figure, self.table])]
        )
        self._refilter()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """Show the app when the explorer is the value of a notebook cell."""
        return self.widget._repr_mimebundle_(**kwargs)

    @property
    def job_ids(self) -> list[str]:
        """The job ids the filters currently show."""
        return list(self.jobs.options)

    def _refilter(self, _change: Any = None) -> None:
        s = self.summary
        keep = s["outcome"].astype(str).isin(self.outcome.value)
        keep &= s["job_id"].astype(str).str.contains(self.search.value, regex=False)
        self.jobs.options = s.loc[keep, "job_id"].astype(str).tolist()
        self._show()

    def _show(self, _change: Any = None) -> None:
        import matplotlib.pyplot as plt

        from replay.plots import progress_curves

        job = self.jobs.value
        chosen = self.obs[self.obs["job_id"].astype(str) == job] if job else self.obs.iloc[:0]
        fig, ax = plt.subplots(figsize=(7, 3))
        if len(chosen):
            progress_curves(chosen, summary=self.summary, ax=ax)
        ax.set_title(job or "no job selected")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=72)
        plt.close(fig)
        self.figure.value = buffer.getvalue()
        rows = self.violations[self.violations["job_id"].astype(str) == job]
        self.table.value = rows.to_html(index=False) if len(rows) else "<p>no violations</p>"
