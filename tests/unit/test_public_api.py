"""The public API: every name in ``replay.__all__`` resolves, and ``import replay`` stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

import replay


@pytest.mark.parametrize("name", replay.__all__)
def test_every_exported_name_resolves(name: str) -> None:
    assert getattr(replay, name) is not None


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = replay.nope  # type: ignore[attr-defined]


def test_import_replay_does_not_load_the_http_stack() -> None:
    code = "import sys, replay; print(sorted(m for m in ('httpx', 'aiohttp') if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_submodules_stay_importable_beside_their_functions() -> None:
    import replay.simulate as simulate_module

    assert callable(simulate_module.simulate)
    assert replay.simulate_job is simulate_module.simulate_job
