"""Run every ``benchmarks/bench_*.py`` in turn, or those named on the command line (``make bench``).

Usage: ``python benchmarks/run.py [NAME ...] [-- ARGS]``; NAME is ``engine``, ``bench_engine`` or
``bench_engine.py``; ARGS after ``--`` go to every benchmark. Exits non-zero when any fails.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["available", "main", "selected"]

HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    """Names of the benchmark modules (``bench_engine``, ...), sorted."""
    return sorted(path.stem for path in HERE.glob("bench_*.py"))


def selected(names: Sequence[str]) -> list[str]:
    """The modules ``names`` ask for (all when empty); raise SystemExit naming an unknown one."""
    known = available()
    if not names:
        return known
    chosen = []
    for name in names:
        stem = Path(name).stem
        stem = stem if stem.startswith("bench_") else f"bench_{stem}"
        if stem not in known:
            raise SystemExit(f"run.py: no benchmark {name!r}; available: {', '.join(known)}")
        chosen.append(stem)
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen benchmarks from the repository root; return the worst exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    extra = args[args.index("--") + 1 :] if "--" in args else []
    names = args[: args.index("--")] if "--" in args else args
    worst = 0
    for module in selected(names):
        print(f"== {module}", flush=True)
        cmd = [sys.executable, "-m", f"benchmarks.{module}", *extra]
        worst = max(worst, subprocess.run(cmd, cwd=HERE.parent, check=False).returncode)
    return worst


if __name__ == "__main__":
    sys.exit(main())
