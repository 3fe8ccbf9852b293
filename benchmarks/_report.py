"""The engine benchmark's results as Markdown: machine, one table per dataset, targets, agreement."""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from benchmarks._verify import Agreement

__all__ = ["Section", "Target", "Timing", "machine", "render", "targets_table"]

_PACKAGES = ("replay", "pandas", "pyarrow", "polars", "duckdb", "numpy")


@dataclass(frozen=True)
class Timing:
    """One line of a results table."""

    impl: str
    op: str
    seconds: float
    peak_mb: float
    input_mb: float
    note: str = ""


@dataclass(frozen=True)
class Section:
    """The results on one dataset."""

    title: str
    n_jobs: int
    n_rows: int
    floor_s: float
    timings: tuple[Timing, ...]
    agreements: tuple[Agreement, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    layout: str = ""


@dataclass(frozen=True)
class Target:
    """A goal checked on the largest dataset."""

    goal: str
    measured: str
    passed: bool


def machine() -> dict[str, str]:
    """Cores, RAM, CPU, OS and the versions of the packages that matter here."""
    info = {
        "CPU": _cpu_model(),
        "cores": str(os.cpu_count()),
        "RAM": f"{_ram_gib():.1f} GiB",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": sys.version.split()[0],
    }
    for name in _PACKAGES:
        try:
            info[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            info[name] = "not installed"
    return info


def render(
    info: dict[str, str], sections: list[Section], targets: list[Target], method: str
) -> str:
    """The whole results page."""
    lines = ["# Engine benchmark", "", _machine_table(info), ""]
    lines += ["## Targets (largest dataset)", "", targets_table(targets), ""]
    for section in sections:
        lines += [_section(section), ""]
    lines += ["## How this was measured", "", method.strip(), ""]
    return "\n".join(lines)


def _machine_table(info: dict[str, str]) -> str:
    rows = ["| machine | |", "| --- | --- |"]
    rows += [f"| {key} | {value} |" for key, value in info.items()]
    return "\n".join(rows)


def targets_table(targets: list[Target]) -> str:
    """The targets as a Markdown table, PASS or FAIL each."""
    rows = ["| target | measured | result |", "| --- | --- | --- |"]
    rows += [f"| {t.goal} | {t.measured} | {'PASS' if t.passed else '**FAIL**'} |" for t in targets]
    return "\n".join(rows)


def _section(section: Section) -> str:
    lines = [
        f"## {section.title}: {section.n_jobs:,} jobs, {section.n_rows:,} rows",
        "",
        *([f"On disk: {section.layout}.", ""] if section.layout else []),
        "| implementation | operation | seconds (median) | x floor | peak MB | input MB | note |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for t in section.timings:
        ratio = t.seconds / section.floor_s if section.floor_s else float("nan")
        lines.append(
            f"| {t.impl} | {t.op} | {t.seconds:.3f} | {ratio:.2f} | {t.peak_mb:,.0f} "
            f"| {t.input_mb:,.0f} | {t.note} |"
        )
    if section.counts:
        counts = ", ".join(f"{code} {n:,}" for code, n in section.counts.items())
        lines += ["", f"Violations found by `replay.validate`: {counts}."]
    if section.agreements:
        lines += ["", _agreement_table(section.agreements)]
    return "\n".join(lines)


def _agreement_table(agreements: tuple[Agreement, ...]) -> str:
    rows = [
        "| implementation | violations | same (job_id, seq, code) set as replay.validate |",
        "| --- | ---: | --- |",
    ]
    for a in agreements:
        verdict = "yes" if a.matches else f"**MISMATCH**: {_difference(a)}"
        rows.append(f"| {a.impl} | {a.n_found:,} | {verdict} |")
    return "\n".join(rows)


def _difference(a: Agreement) -> str:
    parts = [f"missing {code} x{n}" for code, n in a.missing.items()]
    parts += [f"extra {code} x{n}" for code, n in a.extra.items()]
    if not parts:
        parts = [f"{a.n_found} rows for {a.n_expected} expected (duplicates)"]
    return "; ".join(parts + list(a.examples))


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _ram_gib() -> float:
    try:
        import psutil  # type: ignore[import-untyped]

        return float(psutil.virtual_memory().total) / 2**30
    except ImportError:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
