"""Shared fixtures: observation frames built in code; figures closed after each test.

Also the hypothesis profiles. ``ci`` (loaded when CI is set, as CI runs with CI=true) draws the
same examples on every run, so CI never fails at random; ``dev`` (the default) draws fresh,
fewer ones. ``HYPOTHESIS_PROFILE=ci`` (or ``dev``) overrides either. Tests set no example
count or deadline of their own: the profile decides.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
from factories import T0, Row, obs_frame
from hypothesis import HealthCheck, settings

__all__ = ["T0", "Row", "obs_frame"]

# Both start from hypothesis's own defaults (its "default" profile), not from whatever it chose
# by itself: it loads a "ci" profile of its own wherever a CI variable exists, even CI=false.
# No deadline in either: a loaded 2-core machine must not fail a test for being slow.
_DEFAULT = settings.get_profile("default")
settings.register_profile(
    "ci",
    _DEFAULT,
    derandomize=True,
    database=None,
    max_examples=300,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", _DEFAULT, max_examples=50, deadline=None)
_in_ci = os.environ.get("CI", "").lower() not in ("", "0", "false")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if _in_ci else "dev"))


@pytest.fixture
def build_obs() -> Callable[..., pd.DataFrame]:
    """Factory: ``build_obs({"job": [(t_s, status, pct, http), ...]})`` -> observations frame."""
    return obs_frame


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    """Close every matplotlib figure a test opened (when the test loaded pyplot at all)."""
    yield
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")


@pytest.fixture(autouse=True)
def _recordings_scan_clean(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test that used ``tmp_path``: every recording it wrote there (a folder holding
    ``observations/`` or ``jobs/``) has no secret ``replay scan`` finds. Tests that plant
    secrets on purpose are marked ``plants_secrets``."""
    if "tmp_path" not in request.fixturenames or request.node.get_closest_marker("plants_secrets"):
        yield
        return
    root: Path = request.getfixturevalue("tmp_path")
    yield
    from replay.scan import scan

    for recording in _recordings(root):
        findings = [str(finding) for finding in scan(recording).findings]
        assert not findings, f"{recording.relative_to(root)} holds secrets: {findings}"


def _recordings(root: Path) -> list[Path]:
    """Folders under ``root`` that hold a recording's ``observations/`` or ``jobs/``."""
    found = []
    for folder, folders, _ in os.walk(root):
        if "observations" in folders or "jobs" in folders:
            found.append(Path(folder))
            folders.clear()  # a recording's own folders are scanned with it
    return found
