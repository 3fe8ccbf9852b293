"""Shared fixtures: observation frames built in code."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest
from factories import T0, Row, obs_frame

__all__ = ["T0", "Row", "obs_frame"]


@pytest.fixture
def build_obs() -> Callable[..., pd.DataFrame]:
    """Factory: ``build_obs({"job": [(t_s, status, pct, http), ...]})`` -> observations frame."""
    return obs_frame
