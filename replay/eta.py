"""ETA and stall estimates for running jobs (the engine's, at its documented path ``replay.eta``)."""

from __future__ import annotations

from replay.engine import ETA_COLUMNS, OVERDUE_FACTOR, RATE_POINTS, eta, fleet_rates

__all__ = ["ETA_COLUMNS", "OVERDUE_FACTOR", "RATE_POINTS", "eta", "fleet_rates"]
