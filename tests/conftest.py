"""Shared fixtures: observation frames built in code; figures closed after each test."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

import pandas as pd
import pytest
from factories import T0, Row, obs_frame

__all__ = ["T0", "Row", "obs_frame"]


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
