"""The simulator: the scenario catalogue, fleets drawn from it, and timelines of responses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from replay._lazy import lazy_exports

if TYPE_CHECKING:
    from replay.simulate._draw import DEFAULT_START
    from replay.simulate._fleet import Fleet, simulate, simulate_job
    from replay.simulate._response import Response, response_fields
    from replay.simulate._steps import Step
    from replay.simulate.scenarios import DIALECT_SHAPES, SCENARIOS, DialectShape, Phase, Scenario
    from replay.simulate.timeline import Timeline

__all__ = [
    "DEFAULT_START",
    "DIALECT_SHAPES",
    "SCENARIOS",
    "DialectShape",
    "Fleet",
    "Phase",
    "Response",
    "Scenario",
    "Step",
    "Timeline",
    "response_fields",
    "simulate",
    "simulate_job",
]

if not TYPE_CHECKING:  # mypy checks every name against the imports above
    __getattr__, __dir__ = lazy_exports(
        globals(),
        {
            "DEFAULT_START": "._draw",
            **dict.fromkeys(("Fleet", "simulate", "simulate_job"), "._fleet"),
            **dict.fromkeys(("Response", "response_fields"), "._response"),
            "Step": "._steps",
            **dict.fromkeys(
                ("DIALECT_SHAPES", "SCENARIOS", "DialectShape", "Phase", "Scenario"), ".scenarios"
            ),
            "Timeline": ".timeline",
        },
    )
