"""A simulated fleet: its responses as timelines a server can serve, its observations and jobs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from replay.errors import UsageError
from replay.schema import OBSERVATION_COLUMNS
from replay.simulate._draw import draw_fleet
from replay.simulate._frames import FleetFrames
from replay.simulate._render import fleet_job
from replay.simulate.timeline import Timeline

__all__ = ["Fleet", "simulate", "simulate_job"]


def simulate(
    n_jobs: int,
    *,
    seed: int = 0,
    scenarios: Mapping[str, float] | Sequence[str] | None = None,
    dialects: Sequence[str] | None = None,
    start: datetime | str | None = None,
) -> Fleet:
    """Return a seeded fleet of ``n_jobs`` simulated copy jobs (same seed, same frames).

    ``scenarios``: names (equal weights) or ``{name: weight}``; by default the catalogue's
    weights (mostly ``happy_path``). Each chosen scenario appears at least once when
    ``n_jobs`` allows. ``dialects`` are drawn uniformly per job (default all four).
    """
    return Fleet(draw_fleet(n_jobs, seed=seed, scenarios=scenarios, dialects=dialects, start=start))


def simulate_job(scenario: str, *, dialect: str | None = "graph", seed: int = 0) -> Timeline:
    """Return the timeline of one job of ``scenario`` in ``dialect`` (default ``graph``)."""
    return Timeline.from_scenario(scenario, dialect or "graph", seed)


@dataclass(frozen=True)
class Fleet:
    """A simulated fleet: every response of every job, and the jobs table.

    ``responses`` holds one row per response (dropped connections included) with ``t_s``
    (seconds since the job's first poll), ``body_kind``, ``retry_after_header``, ``delay_s``
    and ``drop`` (a dropped connection: no answer, so no observation; its ``http_status`` 502 is
    what a proxy would report); ``jobs`` is what a recorder would write (redacted URL, labels
    with scenario and dialect, size, first and last observation, the scenario's outcome).
    """

    frames: FleetFrames

    @property
    def responses(self) -> pd.DataFrame:
        """One row per response, dropped connections included."""
        return self.frames.responses

    @property
    def jobs(self) -> pd.DataFrame:
        """The jobs table a recorder would write."""
        return self.frames.jobs

    def observations(self) -> pd.DataFrame:
        """The observation rows a recorder would write: dropped responses left out, seq renumbered."""
        frame = self.responses
        keep = ~frame["drop"].to_numpy()
        rows = np.flatnonzero(keep)
        counted = np.cumsum(keep)
        starts = self.frames.bounds[:-1]
        before = (counted[starts] - keep[starts])[frame["job_id"].cat.codes.to_numpy()[rows]]
        out = frame.take(rows).reset_index(drop=True)
        out["seq"] = (counted[rows] - before - 1).astype(np.int32)
        out["source"] = pd.Categorical.from_codes(
            np.zeros(len(out), np.int8), pd.Index(["simulated"])
        )
        out["body"] = pd.arrays.ArrowExtensionArray(pa.nulls(len(out), pa.string()))
        return out[list(OBSERVATION_COLUMNS)]

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {job: i for i, job in enumerate(self.jobs["job_id"].astype(str))}

    def timeline(self, job_id: str) -> Timeline:
        """The responses of ``job_id`` with real bodies and headers, for a server to serve."""
        index = self._positions.get(job_id)
        if index is None:
            raise UsageError(f"no job {job_id!r} in this fleet: use a job_id from fleet.jobs")
        return Timeline(*fleet_job(self.frames, index))

    def timelines(self) -> Iterator[Timeline]:
        """Every job's timeline, in the jobs table's order."""
        for job_id in self.jobs["job_id"].astype(str):
            yield self.timeline(job_id)

    def write(self, out_dir: str | Path) -> Path:
        """Write the observations and jobs as a recording at ``out_dir``; return its path."""
        from replay import store  # pyarrow's writer: loaded when a fleet is written

        store.write_observations(out_dir, self.observations())
        store.write_jobs(out_dir, self.jobs)
        return Path(out_dir)
