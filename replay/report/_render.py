"""Rendering the report (one recording) and the comparison (two) through the Jinja2 templates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from replay import _human
from replay.errors import UsageError
from replay.report._data import Recording, load_recording, top_violations
from replay.report._figures import comparison_figures, recording_figures
from replay.report._jobs import job_sections
from replay.report._numbers import (
    difference,
    error_codes,
    headline,
    job_anchor,
    outcome_mix,
    unknown_statuses,
)
from replay.status import Policy

__all__ = ["render", "render_comparison", "render_report", "write_comparison", "write_report"]


def render_report(
    obs: pd.DataFrame,
    *,
    name: str = "recording",
    top: int = 50,
    policy: Policy | str | None = None,
    jobs: pd.DataFrame | None = None,
) -> str:
    """Return the report of ``obs`` as one HTML document with no external reference."""
    return render(load_recording(obs, name=name, policy=policy, jobs=jobs), top=top)


def write_report(
    dir_or_obs: str | Path | pd.DataFrame,
    target: str | Path,
    *,
    policy: Policy | str | None = None,
    top: int = 50,
    jobs: pd.DataFrame | None = None,
    on_bad_file: str = "raise",
    engine: str = "pandas",
    scheduler: str | None = None,
) -> Path:
    """Write the report of a recording folder (or observations frame) to ``target``; return it."""
    out = _target(target)
    rec = load_recording(
        dir_or_obs,
        policy=policy,
        jobs=jobs,
        top=top,
        on_bad_file=on_bad_file,
        engine=engine,
        scheduler=scheduler,
    )
    out.write_text(render(rec, top=top), encoding="utf-8")
    return out


def render(rec: Recording, *, top: int = 50, compressed: float | None = None) -> str:
    """The report of an analysed recording.

    ``compressed``: how many times faster than real time the recording's clock ran (a simulated
    demo), said at the top so its figures are not mistaken for real ones.
    """
    if top < 0:
        raise UsageError(f"top must be 0 or more violations to list, got {top}")
    chosen = top_violations(rec.violations, top)
    rows = chosen.assign(anchor=[job_anchor(str(j)) for j in chosen["job_id"]])
    return _template("report.html.j2").render(
        name=rec.name,
        headline=headline(rec),
        outcomes=outcome_mix([rec.summary]).to_dict("records"),
        errors=error_codes(rec.summary).to_dict("records"),
        unknown=unknown_statuses(rec).to_dict("records"),
        figures=recording_figures(rec),
        counts=_violation_counts(rec),
        violations=rows.to_dict("records"),
        total_violations=len(rec.violations),
        sections=job_sections(rec, chosen),
        sample=_sample_note(rec),
        provenance=provenance(rec),
        compressed=compressed if compressed and compressed > 1 else None,
    )


def render_comparison(a: Recording, b: Recording) -> str:
    """The two recordings side by side: headline differences, outcome mix, overlaid figures."""
    if a.name == b.name:
        raise UsageError(f"both recordings are labelled {a.name!r}: give two labels (--labels A,B)")
    pairs = zip(headline(a), headline(b), strict=True)
    counts = zip(_violation_counts(a), _violation_counts(b), strict=True)
    return _template("compare.html.j2").render(
        labels=(a.name, b.name),
        headline=[(x.name, x.text, y.text, difference(x, y)) for x, y in pairs],
        outcomes=outcome_mix([a.summary, b.summary]).to_dict("records"),
        figures=comparison_figures(a, b),
        counts=[(x["code"], x["severity"], x["n"], y["n"], y["n"] - x["n"]) for x, y in counts],
        provenance=[provenance(a), provenance(b)],
    )


def write_comparison(
    a: str | Path, b: str | Path, target: str | Path, *, labels: tuple[str, str] | None = None,
    **options: Any,
) -> Path:  # fmt: skip
    """Write the comparison of two recording folders to ``target``; return it.

    ``options`` go to ``load_recording`` (``policy``, ``on_bad_file``, ``engine``, ``scheduler``).
    """
    out = _target(target)
    names = labels or (Path(a).resolve().name, Path(b).resolve().name)
    ra = load_recording(a, name=names[0], **options)
    rb = load_recording(b, name=names[1], **options)
    out.write_text(render_comparison(ra, rb), encoding="utf-8")
    return out


def provenance(rec: Recording) -> dict[str, str]:
    """Where the numbers come from: dataset, schema version, time range, policy, tool, when."""
    from replay import __version__

    s = rec.summary
    span = f"{s['first_ts'].min():%Y-%m-%d %H:%M:%S} to {s['last_ts'].max():%Y-%m-%d %H:%M:%S} UTC"
    return {
        "dataset": rec.path or f"{rec.name} (an observations frame in memory)",
        "schema version": ", ".join(rec.schema_versions) or "n/a (not read from files)",
        "time range": span if len(s) else "empty",
        "jobs": f"{len(s):,}",
        "policy": rec.policy.name,
        "engine": rec.engine,
        "tool version": f"replay {__version__}",
        "generated at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    }


def _violation_counts(rec: Recording) -> list[dict[str, Any]]:
    from replay.engine import SEVERITY, violation_counts

    counts = violation_counts(rec.violations)
    jobs = rec.violations.groupby("code", observed=False)["job_id"].nunique()
    return [
        {"code": c, "severity": SEVERITY[c], "n": n, "jobs": int(jobs.get(c, 0))}
        for c, n in counts.items()
    ]


def _sample_note(rec: Recording) -> str:
    shown, total = rec.sampled_jobs, len(rec.summary)
    if shown >= total:
        return ""
    return (
        f"Progress curves and the fleet timeline are drawn from {shown:,} of {total:,} "
        f"jobs (engine {rec.engine}); every number and the other figures cover all jobs."
    )


def _target(target: str | Path) -> Path:
    out = Path(target)
    if out.is_dir():
        raise UsageError(f"{out} is a folder: give the report a file name, e.g. {out}/report.html")
    if not out.parent.is_dir():
        raise UsageError(f"cannot write {out}: folder {out.parent} does not exist; create it first")
    return out


def _template(name: str) -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("replay.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = _human.share
    env.filters["when"] = _when
    return env.get_template(name)


def _when(value: Any) -> str:
    """A timestamp to the second with its zone (``2026-01-05 23:36:16 UTC``)."""
    return _human.timestamp(value)
