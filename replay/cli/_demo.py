"""The demo: serve a simulated fleet on loopback, record it over real HTTP, validate, summarise, report."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from replay.status import Policy, load_policy

if TYPE_CHECKING:
    from replay.recorder import RecordSummary

__all__ = ["DemoResult", "run_demo"]

#: Wall seconds the slowest simulated job should take once time is compressed.
_TARGET_WALL_S = 12.0


@dataclass(frozen=True)
class DemoResult:
    """Where the demo put things, and what it found."""

    out: Path
    recording: Path
    report: Path
    jobs: int
    observations: int
    outcomes: dict[str, int]
    violations: dict[str, int]
    matching_outcomes: int
    speed: float
    elapsed_s: float


def run_demo(
    out: str | Path = "demo-output",
    *,
    jobs: int = 200,
    seed: int = 0,
    echo: Callable[[str], None] = print,
) -> DemoResult:
    """Serve ``jobs`` simulated copies on 127.0.0.1, record them over HTTP, analyse and report."""
    from replay.server import MonitorServer
    from replay.simulate import simulate
    from replay.simulate.scenarios import SCENARIOS

    started = time.monotonic()
    root = Path(out)
    recording = root / "recording"
    if recording.exists():
        import shutil

        shutil.rmtree(recording)
    root.mkdir(parents=True, exist_ok=True)
    http_scenarios = [name for name, s in SCENARIOS.items() if s.over_http]
    fleet = simulate(jobs, seed=seed, scenarios=http_scenarios)
    speed = _speed_for(fleet.responses)
    echo(
        f"serving {jobs} simulated copy jobs on 127.0.0.1 ({len(http_scenarios)} scenarios, "
        f"4 dialects, time x{speed:.0f})"
    )
    with MonitorServer(mode="time", speed=speed) as server:
        urls = server.add_fleet(fleet)
        summary = asyncio.run(_record(urls, fleet.jobs, recording, deadline=_TARGET_WALL_S * 2))
    echo(f"recorded {summary.polls} polls over HTTP into {recording} ({summary.line()})")
    return _analyse(root, recording, speed, started, echo)


def _speed_for(responses: pd.DataFrame) -> float:
    """Time compression so the slowest simulated job lasts about ``_TARGET_WALL_S`` wall seconds."""
    longest = float(responses.groupby("job_id", observed=True)["t_s"].max().quantile(0.98))
    return max(1.0, longest / _TARGET_WALL_S)


async def _record(
    urls: list[str], jobs: pd.DataFrame, recording: Path, *, deadline: float
) -> RecordSummary:
    from replay.recorder import Recorder

    async with Recorder(
        recording,
        interval=0.05,
        max_interval=0.5,
        deadline=deadline,
        max_rps=3000.0,
        max_retry_after=2.0,
    ) as recorder:
        for url, labels, size in zip(urls, jobs["labels"], jobs["size_bytes"], strict=True):
            await recorder.track(
                url, labels=json.loads(labels), size_bytes=None if pd.isna(size) else int(size)
            )
        return await recorder.wait()


def _analyse(
    root: Path,
    recording: Path,
    speed: float,
    started: float,
    echo: Callable[[str], None],
) -> DemoResult:
    import replay
    from replay.report import load_recording, render

    policy = _scaled(load_policy(), speed)
    rec = load_recording(recording, policy=policy)  # read and analysed once, for all outputs
    summary, violations = rec.summary, rec.violations
    violations.to_csv(root / "violations.csv", index=False)
    summary.to_csv(root / "summary.csv", index=False)
    assert rec.jobs is not None  # a recording folder always has its jobs table
    matching = _matching_outcomes(summary, rec.jobs)
    report = root / "report.html"
    report.write_text(render(rec, compressed=speed), encoding="utf-8")
    result = DemoResult(
        out=root,
        recording=recording,
        report=report,
        jobs=len(summary),
        observations=len(rec.obs),
        outcomes=replay.outcome_counts(summary),
        violations={k: v for k, v in replay.violation_counts(violations).items() if v},
        matching_outcomes=matching,
        speed=speed,
        elapsed_s=time.monotonic() - started,
    )
    _print(result, policy, echo)
    return result


def _scaled(policy: Policy, speed: float) -> Policy:
    """The policy with its stall threshold compressed like the server's clock."""
    return dataclasses.replace(
        policy,
        stall_after_s=policy.stall_after_s / speed,
        name=f"{policy.name} (time x{speed:.0f})",
    )


def _matching_outcomes(summary: pd.DataFrame, jobs: pd.DataFrame) -> int:
    """How many jobs got the outcome their simulated scenario should produce."""
    from replay.simulate.scenarios import SCENARIOS

    scenario = jobs.set_index("job_id")["labels"].map(lambda s: json.loads(s).get("scenario"))
    expected = scenario.map(
        lambda name: SCENARIOS[name].expected_outcome if name in SCENARIOS else None
    )
    got = summary.set_index("job_id")["outcome"]
    return int((got == expected.reindex(got.index)).sum())


def _print(result: DemoResult, policy: Policy, echo: Callable[[str], None]) -> None:
    echo(
        f"{result.jobs} jobs, {result.observations} observations; outcomes: "
        + ", ".join(f"{n} {o}" for o, n in result.outcomes.items())
    )
    echo(f"{result.matching_outcomes}/{result.jobs} outcomes match the simulator's ground truth")
    echo(
        f"violations ({policy.name}): "
        + (", ".join(f"{n} {c}" for c, n in result.violations.items()) or "none")
    )
    echo(f"  recording   {result.recording}/   (replay validate {result.recording})")
    echo(f"  summary     {result.out / 'summary.csv'}")
    echo(f"  violations  {result.out / 'violations.csv'}")
    echo(f"  report      {result.report}")
    echo(f"done in {result.elapsed_s:.1f} s")
