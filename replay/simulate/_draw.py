"""The fleet simulator: many copy jobs drawn from the scenario catalogue, vectorised."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from replay.errors import UsageError
from replay.simulate._frames import BODY_KINDS, FleetFrames, jobs_table, responses_frame
from replay.simulate.scenarios import DIALECT_SHAPES, SCENARIOS, Phase

__all__ = ["DEFAULT_START", "draw_fleet"]

#: Fleets start at 22:00 UTC by default, so their four-hour window straddles UTC midnight.
DEFAULT_START = "2026-01-05T22:00:00Z"
WINDOW_S = 4 * 3600.0
#: Progress polls a job aims at; small copies get fewer (1 s floor), so jobs average ~30 responses.
POLLS_TARGET = 46.0
INTERVAL_S = (1.0, 600.0)  # shortest and longest poll interval (plateaus stay far under 1800 s)
JITTER = (0.9, 1.1)
PCT_MODES = ("curve", "zero", "ceiling", "none", "nan", "value", "dip")
_HTTP_KINDS = {"progress": -1, "final": -2, "failure": -3}
_FAILURE_500 = 0.3  # share of failure bodies served as 500 rather than 200
_RETRY_S = (1, 120)  # Retry-After seconds ("always 2 minutes": Q&A 648796)
_FAILURE_STATUSES = ("failed", "deleteFailed")  # no percentage in sharepoint-v21 failures
_BASE32 = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", dtype=np.uint8)


@dataclass(frozen=True)
class _Phases:
    """Every phase of the catalogue as columns, so each per-row attribute is one gather."""

    first: np.ndarray  # per scenario: its first phase
    statuses: tuple[str, ...]
    status: np.ndarray
    move: np.ndarray
    mode: np.ndarray
    http: np.ndarray
    retry: np.ndarray
    drop: np.ndarray
    bodies: np.ndarray  # [phase, k]: body kind code of choice k
    n_bodies: np.ndarray
    errors: tuple[tuple[str, str], ...]
    error_first: np.ndarray
    n_errors: np.ndarray
    ranges: np.ndarray  # [phase]: value lo, hi, delay lo, hi, skew lo, hi


@cache
def _phase_table() -> _Phases:
    phases = [p for s in SCENARIOS.values() for p in s.phases]
    statuses = tuple(dict.fromkeys(p.status for p in phases if p.status))
    errors = tuple(dict.fromkeys(e for p in phases for e in p.errors))
    width = max(len(p.body) for p in phases)
    bodies = [[BODY_KINDS.index(p.body[k % len(p.body)]) for k in range(width)] for p in phases]
    return _Phases(
        first=np.cumsum([0] + [len(s.phases) for s in SCENARIOS.values()])[:-1],
        statuses=statuses,
        status=np.array([statuses.index(p.status) if p.status else -1 for p in phases]),
        move=np.array([p.move for p in phases]),
        mode=np.array([PCT_MODES.index(p.pct) for p in phases]),
        http=np.array([_HTTP_KINDS.get(str(p.http), p.http) for p in phases], dtype=np.int16),
        retry=np.array([p.retry for p in phases]),
        drop=np.array([p.drop for p in phases]),
        bodies=np.array(bodies),
        n_bodies=np.array([len(p.body) for p in phases]),
        errors=errors,
        error_first=np.array([errors.index(p.errors[0]) if p.errors else -1 for p in phases]),
        n_errors=np.array([len(p.errors) for p in phases]),
        ranges=np.array([[*p.value, *p.delay_s, *p.skew_s] for p in phases], dtype=float),
    )


def draw_fleet(
    n_jobs: int,
    *,
    seed: int = 0,
    scenarios: Mapping[str, float] | Sequence[str] | None = None,
    dialects: Sequence[str] | None = None,
    start: datetime | str | None = None,
) -> FleetFrames:
    """The frames of a seeded fleet of ``n_jobs`` jobs (see ``replay.simulate.simulate``)."""
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int | np.integer) or n_jobs < 1:
        raise UsageError(f"n_jobs must be a positive number of jobs, got {n_jobs!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise UsageError(f"seed must be a non-negative integer, got {seed!r}")
    names, weights = _mix(scenarios)
    shapes = _dialects(dialects)
    rng = np.random.default_rng(seed)
    jobs = _draw_jobs(rng, int(n_jobs), names, weights, len(shapes), _start_us(start))
    shapes = _served_dialects(jobs, shapes)
    rows = _rows(rng, jobs, shapes)
    return FleetFrames(
        responses_frame(rows, jobs, _phase_table().statuses, _phase_table().errors),
        jobs_table(rows, jobs, shapes),
        rows["bounds"],
        np.array(shapes)[jobs["dialect"]],
    )


def _mix(scenarios: Mapping[str, float] | Sequence[str] | None) -> tuple[list[str], np.ndarray]:
    """Scenario names and normalised weights; UsageError for unknown names or bad weights."""
    if scenarios is None:
        chosen: dict[str, Any] = {n: s.weight for n, s in SCENARIOS.items()}
    elif isinstance(scenarios, str):
        raise UsageError(f"give scenarios as a list of names, not the string {scenarios!r}")
    else:
        chosen = dict(scenarios) if isinstance(scenarios, Mapping) else dict.fromkeys(scenarios, 1)
    unknown = [repr(n) for n in chosen if n not in SCENARIOS]
    if unknown:
        raise UsageError(
            f"unknown scenario(s) {', '.join(unknown)}: expected names from {', '.join(SCENARIOS)}"
        )
    try:
        weights = np.array([float(w) for w in chosen.values()])
    except (TypeError, ValueError):
        weights = np.array([np.nan])
    if not (len(weights) and np.isfinite(weights).all() and (weights >= 0).all() and weights.sum()):
        raise UsageError(
            f"scenario weights must be non-negative numbers with a positive total, got {chosen}"
        )
    keep = weights > 0
    return [n for n, k in zip(chosen, keep, strict=True) if k], weights[keep] / weights.sum()


def _dialects(dialects: Sequence[str] | None) -> tuple[str, ...]:
    names = tuple(DIALECT_SHAPES) if dialects is None else tuple(dialects)
    unknown = [repr(d) for d in names if d not in DIALECT_SHAPES]
    if isinstance(dialects, str):
        unknown = [repr(dialects)]
    if unknown or not names:
        raise UsageError(
            f"unknown dialect(s) {', '.join(unknown) or repr(dialects)}: expected names from "
            f"{', '.join(DIALECT_SHAPES)}"
        )
    return names


def _served_dialects(jobs: dict[str, np.ndarray], shapes: tuple[str, ...]) -> tuple[str, ...]:
    """``shapes`` with the dialect of every scenario that answers in its own (appended when it
    was not asked for); those jobs' ``dialect`` codes are repointed at it."""
    for code, scenario in enumerate(SCENARIOS.values()):
        members = jobs["scenario"] == code if scenario.served_dialect else None
        if members is None or not members.any():
            continue
        if scenario.served_dialect not in shapes:
            shapes = (*shapes, str(scenario.served_dialect))
        jobs["dialect"][members] = shapes.index(str(scenario.served_dialect))
    return shapes


def _start_us(start: datetime | str | None) -> int:
    try:
        stamp = pd.Timestamp(DEFAULT_START if start is None else start)
        valid = not pd.isna(stamp)
    except (ValueError, TypeError):
        valid = False
    if not valid:
        raise UsageError(f"bad start {start!r}: give an ISO 8601 time such as {DEFAULT_START}")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int(stamp.value) // 1000  # Timestamp.value is in nanoseconds


def _draw_jobs(
    rng: np.random.Generator,
    n: int,
    names: list[str],
    weights: np.ndarray,
    n_dialects: int,
    start_us: int,
) -> dict[str, np.ndarray]:
    """Per-job draws: scenario, dialect, size, poll interval, progress polls, start time, ids."""
    catalogue = list(SCENARIOS)
    chosen = np.array([catalogue.index(name) for name in names])
    once = np.arange(min(n, len(names)))  # every chosen scenario at least once
    picks = np.concatenate([once, rng.choice(len(names), size=n - len(once), p=weights)])
    scenario = chosen[rng.permutation(picks)]
    size = np.clip(rng.lognormal(np.log(2.2e8), 1.8, n), 1e6, 5e10).astype(np.int64)
    copy_s = size / np.clip(rng.lognormal(np.log(7e6), 0.65, n), 1e6, 5e7)
    interval = np.clip(copy_s / (POLLS_TARGET * rng.lognormal(0, 0.25, n)), *INTERVAL_S)
    bounds = np.array([[*s.ceiling, *s.reach] for s in SCENARIOS.values()])[scenario]
    return {
        "scenario": scenario,
        "dialect": rng.integers(0, n_dialects, n),
        "size": size,
        "interval": interval,
        "k_main": np.maximum(1, np.rint(copy_s / interval)).astype(np.int64),
        "start_us": start_us + (rng.random(n) * WINDOW_S * 1e6).astype(np.int64),
        "ceiling": np.round(rng.uniform(bounds[:, 0], bounds[:, 1]), 1),
        "reach": rng.uniform(bounds[:, 2], bounds[:, 3]),
        "job_id": _uuids(rng, n),
        "item": _item_ids(rng, n),
    }


def _uuids(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` random version-4 UUID strings, built as one byte matrix."""
    raw = rng.integers(0, 256, (n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexed = np.frombuffer(raw.tobytes().hex().encode(), dtype=np.uint8).reshape(n, 32)
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    for dst, src in ((0, 0), (9, 8), (14, 12), (19, 16), (24, 20)):
        width = 8 if src == 0 else (12 if src == 20 else 4)
        out[:, dst : dst + width] = hexed[:, src : src + width]
    return out.view("S36").ravel().astype(str)


def _item_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` drive item ids shaped like Graph's (``01`` and 32 base32 characters)."""
    chars = np.empty((n, 34), dtype=np.uint8)
    chars[:, :2] = np.frombuffer(b"01", dtype=np.uint8)
    chars[:, 2:] = _BASE32[rng.integers(0, 32, (n, 32))]
    return chars.view("S34").ravel().astype(str)


def _segments(rng: np.random.Generator, jobs: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    """(job, phase, rows, base gap) of every phase of every job, job-major; loops per scenario."""
    first = _phase_table().first
    names = list(SCENARIOS)
    parts: list[tuple[np.ndarray, ...]] = []
    for code in np.unique(jobs["scenario"]):
        members = np.flatnonzero(jobs["scenario"] == code)
        for offset, phase in enumerate(SCENARIOS[names[code]].phases):
            rows = _phase_rows(rng, phase, jobs["k_main"][members])
            gap = _phase_gap(rng, phase, rows, jobs["interval"][members])
            parts.append((members, np.full(len(members), first[code] + offset), rows, gap))
    job, pid, rows, gap = (np.concatenate(column) for column in zip(*parts, strict=True))
    order = np.argsort(job, kind="stable")
    order = order[rows[order] > 0]
    return job[order], pid[order], rows[order], gap[order]


def _phase_rows(rng: np.random.Generator, phase: Phase, k_main: np.ndarray) -> np.ndarray:
    """Responses per job in ``phase``: a share of the progress polls, or drawn from its range."""
    if phase.share > 0:
        share = k_main * phase.share * rng.uniform(0.8, 1.2, len(k_main))
        return np.maximum(phase.rows[0], np.rint(share)).astype(np.int64)
    return rng.integers(phase.rows[0], phase.rows[1] + 1, len(k_main))


def _phase_gap(
    rng: np.random.Generator, phase: Phase, rows: np.ndarray, interval: np.ndarray
) -> np.ndarray:
    """Seconds between polls in ``phase`` per job, before jitter."""
    if phase.span_s is not None:
        return rng.uniform(*phase.span_s, len(rows)) / np.maximum(rows, 1)
    if phase.gap_s is not None:
        return rng.uniform(*phase.gap_s, len(rows))
    return interval


def _rows(
    rng: np.random.Generator, jobs: dict[str, np.ndarray], shapes: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """Every response of the fleet as flat arrays, grouped by job in time order."""
    t = _phase_table()
    seg_job, seg_phase, seg_rows, seg_gap = _segments(rng, jobs)
    n = int(seg_rows.sum())
    seg = np.repeat(np.arange(len(seg_rows)), seg_rows)
    job, phase = seg_job[seg], seg_phase[seg]
    per_job = np.bincount(seg_job, seg_rows, len(jobs["scenario"])).astype(np.int64)
    bounds = np.concatenate([[0], np.cumsum(per_job)])
    r: dict[str, np.ndarray] = {"job": job, "phase": phase, "bounds": bounds}
    r["seq"] = np.arange(n) - bounds[job]
    r["u"], r["v"] = rng.random(n), rng.random(n)
    gap = np.where(r["seq"] == 0, 0.0, seg_gap[seg] * rng.uniform(*JITTER, n))
    r["retry_s"], r["retry_kind"] = _retry_after(rng, r, gap)
    r["t_s"] = _per_job_cumsum(gap, bounds, job)
    r["progress"] = _per_job_cumsum(gap * t.move[phase], bounds, job)
    r["ts"] = _timestamps(r, jobs["start_us"])
    r["status"] = t.status[phase]
    r["dialect"] = jobs["dialect"][job]
    r["pct"], r["pct_null"] = _percentages(r, jobs, shapes)
    r["http"] = _http_codes(r, shapes)
    r["body"] = t.bodies[phase, (r["v"] * t.n_bodies[phase]).astype(np.int64)]
    r["error"] = np.where(
        t.n_errors[phase] > 0, t.error_first[phase] + (r["v"] * t.n_errors[phase]).astype(int), -1
    )
    lo, hi = t.ranges[phase, 2], t.ranges[phase, 3]
    r["delay_s"] = lo + (hi - lo) * r["u"]
    r["latency_ms"] = rng.lognormal(np.log(150.0), 0.5, n) + 1000.0 * r["delay_s"]
    r["drop"] = t.drop[phase]
    return r


def _per_job_cumsum(values: np.ndarray, bounds: np.ndarray, job: np.ndarray) -> np.ndarray:
    """Running totals restarting at each job's first row (whose value must be 0)."""
    total = np.cumsum(values)
    return total - total[bounds[:-1]][job]


def _retry_after(
    rng: np.random.Generator, r: dict[str, np.ndarray], gap: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Retry-After seconds (NaN: none) and kind (0 seconds, 1 HTTP date, 2 missing, -1 n/a).

    The poll after a given Retry-After comes that many seconds later (``gap`` is updated).
    """
    n = len(gap)
    rows = np.flatnonzero(_phase_table().retry[r["phase"]])
    kind = np.full(n, -1, dtype=np.int8)
    kind[rows] = np.minimum(r["v"][rows] * 3, 2).astype(np.int8)
    seconds = np.full(n, np.nan)
    given = rows[kind[rows] < 2]
    seconds[given] = rng.integers(_RETRY_S[0], _RETRY_S[1] + 1, len(given))
    follow = given[(given + 1 < n)]
    follow = follow[r["seq"][np.minimum(follow + 1, n - 1)] > 0]
    gap[follow + 1] = seconds[follow] + rng.uniform(0.2, 1.5, len(follow))
    return seconds, kind


def _timestamps(r: dict[str, np.ndarray], start_us: np.ndarray) -> np.ndarray:
    """Microseconds since the epoch; a clock-skew row goes back before the previous row."""
    ts = start_us[r["job"]] + np.rint(r["t_s"] * 1e6).astype(np.int64)
    lo, hi = _phase_table().ranges[r["phase"], 4], _phase_table().ranges[r["phase"], 5]
    skewed = np.flatnonzero(hi > 0)
    back = lo[skewed] + (hi[skewed] - lo[skewed]) * r["u"][skewed]
    ts[skewed] = ts[skewed - 1] - np.rint(back * 1e6).astype(np.int64)
    return ts


def _percentages(
    r: dict[str, np.ndarray], jobs: dict[str, np.ndarray], shapes: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Percentages per row and their null mask, by the phase's mode.

    The progress curve rises with the time the copy moved, reaching the job's ceiling (times its
    reach) at the last moving row; holds repeat it, so it never drops unless a phase says so.
    """
    t = _phase_table()
    job, mode = r["job"], t.mode[r["phase"]]
    whole = r["progress"][r["bounds"][1:] - 1] / jobs["reach"]
    scale = jobs["ceiling"] / np.where(whole > 0, whole, np.inf)
    pct = np.round(r["progress"] * scale[job], 1)
    special = np.flatnonzero(mode > 0)  # few rows: everything but the curve
    m, u, curve = mode[special], r["u"][special], pct[special]
    lo, hi = t.ranges[r["phase"][special], 0], t.ranges[r["phase"][special], 1]
    dip = np.minimum(np.round(curve * (0.3 + 0.5 * u), 1), curve - 0.1)
    pct[special] = np.select(
        [m == PCT_MODES.index(name) for name in ("zero", "ceiling", "nan", "value", "dip")],
        [0.0, jobs["ceiling"][job[special]], np.nan, lo + (hi - lo) * u, dip],
        curve,
    )
    v21 = np.array([name == "sharepoint-v21" for name in shapes])[r["dialect"]]
    failure = np.isin(r["status"], [t.statuses.index(s) for s in _FAILURE_STATUSES])
    null = (mode == PCT_MODES.index("none")) | (r["status"] < 0) | (v21 & failure)
    return pct, null


def _http_codes(r: dict[str, np.ndarray], shapes: tuple[str, ...]) -> np.ndarray:
    """HTTP status per row: the dialect's codes for progress and final, 200/500 for failures."""
    kind = _phase_table().http[r["phase"]]
    specs = [DIALECT_SHAPES[name] for name in shapes]
    progress = np.array([s.progress_http for s in specs])[r["dialect"]]
    final = np.array([s.final_http for s in specs])[r["dialect"]]
    first = np.array([s.first_http or 0 for s in specs])[r["dialect"]]
    failure = np.where(r["u"] < _FAILURE_500, 500, 200)
    http = np.select([kind == -1, kind == -2, kind == -3], [progress, final, failure], kind)
    firsts = (r["seq"] == 0) & (first > 0) & ((kind == -1) | (kind == -2))
    return np.where(firsts, first, http).astype(np.int16)
