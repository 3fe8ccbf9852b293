"""The self-contained HTML report of a recording (images embedded as PNG data URIs)."""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure, SubFigure

__all__ = ["render_report"]


def _data_uri(fig: Figure | SubFigure) -> str:
    """The figure as a base64 PNG data URI (the figure is closed)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig.figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _headline(summary: pd.DataFrame) -> dict[str, Any]:
    n = len(summary)
    done = int((summary["outcome"] == "completed").sum())
    q = summary["duration_s"].quantile([0.5, 0.9, 0.99]) if n else pd.Series(dtype=float)
    return {
        "jobs": n,
        "success rate": f"{100 * done / n:.1f}%" if n else "n/a",
        **{f"p{round(100 * float(str(k)))} duration (s)": f"{v:.0f}" for k, v in q.items()},
    }


def render_report(obs: pd.DataFrame, *, name: str = "recording", top: int = 50) -> str:
    """Return the report of ``obs`` as one HTML document with no external reference."""
    import jinja2
    import matplotlib

    matplotlib.use("Agg")
    from replay import __version__
    from replay.plots import failure_modes, progress_curves
    from replay.summary import summarize
    from replay.validate import validate

    violations = validate(obs)
    summary = summarize(obs, violations=violations)
    curves = progress_curves(obs, summary=summary)
    bars = failure_modes(summary, violations)
    figures = {
        "Progress curves": _data_uri(curves.ax.figure),
        "Failure modes": _data_uri(next(iter(bars.values()))[0].figure),
    }
    ts = obs["ts"]
    provenance = {
        "dataset": name,
        "time range": f"{ts.min()} to {ts.max()}" if len(obs) else "empty",
        "tool": f"replay {__version__}",
    }
    env = jinja2.Environment(loader=jinja2.PackageLoader("replay", "templates"), autoescape=True)
    return env.get_template("report.html.j2").render(
        name=name,
        headline=_headline(summary),
        figures=figures,
        violations=violations.head(top).to_dict("records"),
        provenance=provenance,
    )
